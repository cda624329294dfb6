/**
 * dgen/testing: test actors in virtual time and under the faults dgen survives.
 *
 * - {@link createTestSystem}: the memory engine, a virtual clock, `settle()`, thunk fakes;
 * - {@link reduce}: one reducer on one state, for plain unit tests;
 * - {@link simulate}: a seeded simulation of your actors under crashes, conflicts, ambiguous
 *   commits, lease takeovers, thunk re-runs and clock skew, with your workload and invariants.
 *
 * This file is the whole API of the `dgen/testing` entry point.
 */
export { createTestSystem, TEST_EPOCH } from './test-system.js';
export { fakeThunk } from './fake-thunk.js';
export type { SettleOptions, TestSystem, TestSystemOptions, ThunkFake } from './test-system.js';
export type { TestClock } from './test-clock.js';
export { reduce } from './reduce.js';
export type { Reduced, ReduceOptions, ScheduleOp, SentMessage } from './reduce.js';
export { SettleTimeoutError, SimulationFailedError } from './errors.js';
export { simulate } from './simulate.js';
export type { AnyDefinition, FaultOptions, Outcome, SeedFailure, SimRandom, SimulatedProcess, SimulationOptions, SimulationResult, Workload } from './simulate.js';
