/** Seeds 251..500 of the simulation (seeds-a runs 1..250). See test/sim/README.md. */
import { describe } from 'vitest';
import { simulate } from './suite.js';

describe('seeded simulation', () => simulate(251, 250));
