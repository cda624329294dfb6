/**
 * The events of `system.inspect$`: the life of each message as this process sees it. Emitted only
 * while someone subscribes; building them costs nothing otherwise.
 *
 * Order for one message processed from the queue: `enqueued` (in the sending process), then in the
 * consuming process `taken` and `applied` (or nothing more when its reducer threw: the batch
 * records the failure) for each attempt of its batch, then `committed` once the batch committed
 * (`failed`, and `dead-lettered` under the dead-letter policy, when it failed for good). A message
 * processed inline is `enqueued` with `path: 'inline'`, then `committed`.
 *
 * @example
 * ```ts
 * system.inspect$.subscribe((e) => {
 *   if (e.type === 'committed') metrics.observe(e.actor, e.version);
 *   else if (e.type === 'dead-lettered') alert(`${e.actor}/${e.id}: ${e.action} (${e.messageId})`);
 * });
 * ```
 */
export type InspectionEvent =
  | {
      /** Durably accepted: queued, or processed inline (`path: 'inline'`) in the transaction that sent it. */
      readonly type: 'enqueued';
      readonly actor: string;
      readonly id: string;
      readonly messageId: string;
      readonly action: string;
      readonly path: 'queue' | 'inline';
    }
  | {
      /** A batch attempt took it from the queue (an attempt that does not commit is tried again: `attempt` grows). */
      readonly type: 'taken';
      readonly actor: string;
      readonly id: string;
      readonly messageId: string;
      readonly action: string;
      readonly attempt: number;
    }
  | {
      /** Its reducer ran without throwing in a batch attempt (not yet committed). */
      readonly type: 'applied';
      readonly actor: string;
      readonly id: string;
      readonly messageId: string;
      readonly action: string;
      readonly attempt: number;
    }
  | {
      /** The commit that applied it succeeded: its change of state is durable. Once per message. */
      readonly type: 'committed';
      readonly actor: string;
      readonly id: string;
      readonly messageId: string;
      readonly action: string;
      /** The state version that commit wrote. */
      readonly version: number;
      readonly path: 'queue' | 'inline';
    }
  | {
      /** It failed for good (its reducer threw, or its thunk gave up), and the commit recording it succeeded. */
      readonly type: 'failed';
      readonly actor: string;
      readonly id: string;
      readonly messageId: string;
      readonly action: string;
      readonly error: unknown;
      readonly policy: 'dead-letter' | 'halt';
    }
  | {
      /** It was moved to the dead letters (after `failed`, policy `dead-letter`). */
      readonly type: 'dead-lettered';
      readonly actor: string;
      readonly id: string;
      readonly messageId: string;
      readonly action: string;
    };

/**
 * The `type` of an {@link InspectionEvent}.
 *
 * @example
 * ```ts
 * const only = (types: InspectionEventType[]) => system.inspect$.pipe(filter((e) => types.includes(e.type)));
 * ```
 */
export type InspectionEventType = InspectionEvent['type'];
