/**
 * The serving process of test/process/wakeup.test.ts: `wakeup-worker.ts PATH notify|no-notify`
 * serves the Counter on the LMDB database at PATH with every kind of polling turned off (the
 * engine's `watchPollMs: 0`, and a server poll of an hour), so only a notification of the
 * commit of another process can wake it.
 */
import { createSystem, lmdb } from '../../src/index.js';
import { Counter } from '../fixtures/actors.js';

const [path, mode] = process.argv.slice(2);
const system = await createSystem({ backend: lmdb({ path: path!, watchPollMs: 0, notify: mode === 'notify' }) });
system.serve(Counter, { pollMs: 3_600_000 });
process.stdout.write(JSON.stringify({ ready: true }) + '\n');
setInterval(() => {}, 1 << 30);
