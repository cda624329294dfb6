/**
 * A process of the multi-process section (bench/sections/multi-process.ts), on the store the
 * parent names (the same arguments as bench/lib/load-child.ts after the role):
 *
 *   node multi-child.js consume ENGINE WHERE EXTRA      serves the bench Counter; answers `count` with the messages it processed
 *   node multi-child.js produce ENGINE WHERE EXTRA      on `go {from, count, actors, cap}`, dispatches `count` messages
 *                                                       round-robin over `actors` actors, at most `cap` awaiting their enqueue
 *
 * Talks to the parent over IPC; prints nothing. Run as compiled JavaScript, like the parent.
 */
import { createSystem } from '../../src/index.js';
import { openChildStore } from './child-store.js';
import { Counter, probe } from './actors.js';

const [role, kind, where, extra] = process.argv.slice(2);

const system = await createSystem({ backend: await openChildStore(kind, where, extra), closeBackend: true });
const send = (m: unknown) => process.send!(m);

if (role === 'consume') {
  let processed = 0;
  probe.onCommitted = () => void processed++;
  system.serve(Counter);
  process.on('message', () => send({ processed }));
} else {
  process.on('message', async (m: { from: number; count: number; actors: number; cap: number }) => {
    const refs = Array.from({ length: m.actors }, (_, i) => system.ref(Counter, `a${i}`));
    let next = 0;
    const worker = async () => {
      while (next < m.count) {
        const i = m.from + next++;
        await refs[i % m.actors]!.dispatch.add(1);
      }
    };
    await Promise.all(Array.from({ length: m.cap }, worker));
    send({ done: true });
  });
}
process.on('SIGTERM', () => void system.close().then(() => process.exit(0)));
send({ ready: true });
setInterval(() => {}, 1 << 30);
