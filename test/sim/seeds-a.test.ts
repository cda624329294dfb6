/** Seeds 1..160 of the simulation (seeds-b runs the next 160, in another worker). See test/sim/README.md. */
import { describe } from 'vitest';
import { simulate } from './suite.js';

describe('seeded simulation', () => simulate(1, 160));
