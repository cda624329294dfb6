/** Seeds 1..250 of the simulation (seeds-b runs the next 250). See test/sim/README.md. */
import { describe } from 'vitest';
import { simulate } from './suite.js';

describe('seeded simulation', () => simulate(1, 250));
