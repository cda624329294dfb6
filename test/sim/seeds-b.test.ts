/** Seeds 161..320 of the simulation (seeds-a runs 1..160, in another worker). See test/sim/README.md. */
import { describe } from 'vitest';
import { simulate } from './suite.js';

describe('seeded simulation', () => simulate(161, 160));
