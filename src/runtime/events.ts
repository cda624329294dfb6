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
      /** A reducer threw; the message went to the dead letters (or halted the actor). */
      readonly type: 'message-failed';
      readonly actor: string;
      readonly id: string;
      readonly messageId: string;
      readonly action: string;
      readonly error: unknown;
      readonly policy: 'dead-letter' | 'halt';
    }
  | {
      /** A consumer's batch failed for a reason other than a reducer (storage error); it will retry. */
      readonly type: 'consumer-error';
      readonly actor: string;
      readonly id: string;
      readonly error: unknown;
    };
