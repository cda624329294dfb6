/**
 * The definition version an instance's state was last written by, under its own key (absent:
 * version 1, so instances stored before versions existed read as version 1). Written only when it
 * changes, so a batch of an up-to-date host writes nothing more.
 * @internal
 */
import type { Transaction } from '../backend/contract.js';
import type { ActorKeys } from '../store/keys.js';

/** The stored definition version of an instance (1 when none was recorded). */
export async function readDefinitionVersion(tx: Transaction, keys: ActorKeys, snapshot = false): Promise<number> {
  return decodeDefinitionVersion(await tx.get(keys.definitionVersion, { snapshot }));
}

export function decodeDefinitionVersion(bytes: Uint8Array | undefined): number {
  if (bytes === undefined || bytes.length !== 4) return 1;
  return Buffer.from(bytes.buffer, bytes.byteOffset, 4).readUInt32BE(0);
}

/** Records that `version` wrote the state in this transaction. */
export function writeDefinitionVersion(tx: Transaction, keys: ActorKeys, version: number): void {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(version);
  tx.set(keys.definitionVersion, b);
}
