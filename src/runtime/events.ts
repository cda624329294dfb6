/**
 * The typed event stream of a system (`system.events$`): what went wrong outside any caller's
 * reach, and what happened worth observing. Costs nothing while nobody subscribes.
 */
export type SystemEvent =
  | {
      /** An after-commit effect (`ctx.after`) threw or rejected. The actor went on. */
      readonly type: 'effect-failed';
      readonly actor: string;
      readonly id: string;
      readonly error: unknown;
    }
  | {
      /**
       * A message failed for good: its reducer threw, or its thunk failed on its last attempt.
       * Emitted once per message, when it went to the dead letters (or halted the actor): the
       * event to alert on.
       */
      readonly type: 'message-failed';
      readonly actor: string;
      readonly id: string;
      readonly messageId: string;
      readonly action: string;
      readonly error: unknown;
      readonly policy: 'dead-letter' | 'halt';
      /** Runs before it failed for good: 1 for a reducer, the thunk's attempts for a locked effect. */
      readonly attempts: number;
    }
  | {
      /**
       * One run of a thunk failed. `willRetry`: it runs again after a pause; otherwise the
       * message goes to the dead letters and a `message-failed` event follows.
       */
      readonly type: 'thunk-failed';
      readonly actor: string;
      readonly id: string;
      readonly messageId: string;
      readonly action: string;
      readonly thunk: string;
      readonly attempt: number;
      readonly willRetry: boolean;
      readonly error: unknown;
    }
  | {
      /** A thunk's recipe was applied and its lock released, on run `attempt` (1 unless earlier runs failed or crashed). */
      readonly type: 'thunk-succeeded';
      readonly actor: string;
      readonly id: string;
      readonly messageId: string;
      readonly action: string;
      readonly thunk: string;
      readonly attempt: number;
    }
  | {
      /**
       * A transaction failed in a way that leaves nothing committed and may pass on a new try (a
       * FoundationDB recovery, an attempt timed out): it is tried again, as long as the system is
       * open for internal loops, up to `storeDeadlineMs` for user operations. At most one such
       * event a second per system: the signal that the store is struggling.
       */
      readonly type: 'store-retrying';
      readonly error: unknown;
    }
  | {
      /**
       * This host's definition is older than an instance needs: its state was written by version
       * `stored`, or its next message comes from a producer of that version. The host wrote
       * nothing, gave up the lease and looks again after a pause that doubles each time, leaving
       * the instance to hosts with a newer definition (see docs/evolution.md).
       */
      readonly type: 'definition-outdated';
      readonly actor: string;
      readonly id: string;
      /** This host's definition version. */
      readonly version: number;
      /** The version the instance needs. */
      readonly stored: number;
      /** The consumer name of this host (`serve({ consumerName })`). */
      readonly consumer: string;
    }
  | {
      /** A consumer's batch failed for a reason other than a reducer (storage error); it will retry. */
      readonly type: 'consumer-error';
      readonly actor: string;
      readonly id: string;
      readonly error: unknown;
    }
  | ListenerEvent;

/**
 * What a durable listener (`system.listen`, see docs/changes.md) reports.
 *
 * @example
 * ```ts
 * system.events$.subscribe((e) => { if (e.type === 'listener-halted') page(`listener ${e.listener} halted at ${e.cursor}`); });
 * ```
 */
export type ListenerEvent =
  | {
      /** One run of a listener's handler threw. `willRetry`: it runs again after a pause; otherwise the listener halts or dead-letters the change. */
      readonly type: 'listener-failed';
      readonly listener: string;
      readonly cursor: string;
      readonly attempt: number;
      readonly willRetry: boolean;
      readonly error: unknown;
    }
  | {
      /** A listener stopped at a change it could not handle (option `onFailure: 'halt'`), or whose feed was pruned past its checkpoint; `admin.resumeListener` resumes it. */
      readonly type: 'listener-halted';
      readonly listener: string;
      readonly cursor: string;
      readonly error: unknown;
    }
  | {
      /** A listener gave up on a change and moved past it (option `onFailure: 'dead-letter'`); `admin.listenerDeadLetters` lists it. */
      readonly type: 'listener-dead-lettered';
      readonly listener: string;
      readonly cursor: string;
      readonly error: unknown;
    }
  | {
      /** A listener's round failed for a reason other than its handler (storage error); it tries again. */
      readonly type: 'listener-error';
      readonly listener: string;
      readonly error: unknown;
    };
