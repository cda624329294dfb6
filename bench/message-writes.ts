/**
 * Lists every key one message writes, transaction by transaction, on both paths (an inline call
 * from the serving process, and a dispatch from another system processed by the consumer), for a
 * 1-field change of a 1,000-entry state. The itemized view of section 4 of the benchmarks.
 *
 *   npx tsx bench/message-writes.ts
 */
import * as tuple from 'fdb-tuple';
import { createSystem, memory } from '../src/index.js';
import { sleep } from './lib/measure.js';
import { Wide } from './lib/actors.js';
import { RecordingBackend } from './lib/record.js';

const rec = new RecordingBackend(memory());
const consumer = await createSystem({ backend: rec });
const producer = await createSystem({ backend: rec });
const def = Wide(1_000);
consumer.serve(def, { ids: ['queued', 'inline'] });
await consumer.ref(def, 'inline').call.bump(1);
await producer.ref(def, 'queued').dispatch.bump(1);
await sleep(100);

function describe(key: Uint8Array): string {
  try {
    const items = tuple.unpack(Buffer.from(key), true).slice(1);
    return JSON.stringify(items, (_, v) => (v?.type?.includes('versionstamp') ? '<versionstamp>' : v));
  } catch {
    return `(a key of ${key.length} bytes, with an unfilled versionstamp)`;
  }
}

async function show(label: string, send: () => Promise<unknown>): Promise<void> {
  rec.take();
  rec.recording = true;
  await send();
  await sleep(100); // the consumer's idle bookkeeping
  rec.recording = false;
  let keys = 0;
  let bytes = 0;
  process.stdout.write(`\n${label}\n`);
  for (const [t, ops] of rec.take().entries()) {
    for (const o of ops) {
      if (o.op === 'get' || o.op === 'getRange' || o.op === 'addReadConflictKey' || o.op === 'addReadConflictRange') continue;
      const key = 'key' in o ? o.key : o.begin;
      const value = 'value' in o ? o.value.length : o.op === 'add' ? 8 : 0;
      const size = key.length + value + (o.op === 'clearRange' ? o.end.length : 0);
      keys++;
      bytes += size;
      process.stdout.write(`  tx ${t}  ${o.op.padEnd(20)} ${describe(key).padEnd(60)} ${String(size).padStart(5)} B\n`);
    }
  }
  process.stdout.write(`  ${keys} keys, ${bytes} bytes\n`);
}

await show('inline call (the serving process calls its idle actor: one transaction)', () => consumer.ref(def, 'inline').call.bump(2));
await show('queued dispatch (another system sends; the consumer takes a batch of one)', () => producer.ref(def, 'queued').dispatch.bump(2));
await producer.close();
await consumer.close();
