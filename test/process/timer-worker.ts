/**
 * A child process for the timer process test: `node --import tsx test/process/timer-worker.ts MODE PATH ...`.
 *   arm PATH N DELAY  serve Hold, set N timers due in DELAY..DELAY+N ms (half delayed dispatches,
 *                     half set by reducers under keys), say {armed}, then wait to be killed
 *   serve PATH        serve Hold until killed
 */
import { createSystem } from '../../src/index.js';
import { Hold } from '../fixtures/timers.js';

const [mode, path, ...args] = process.argv.slice(2);
const system = await createSystem({ path: path! });
const say = (line: unknown) => process.stdout.write(JSON.stringify(line) + '\n');

switch (mode) {
  case 'arm': {
    system.serve(Hold);
    const [n, delay] = [Number(args[0]), Number(args[1])];
    for (let i = 0; i < n; i++) {
      const ref = system.ref(Hold, `h${i % 5}`);
      if (i % 2 === 0) await ref.dispatch.fired(`t${i}`, { delay: delay + i });
      else await ref.call.later({ tag: `t${i}`, delay: delay + i, key: `k${i}` });
    }
    say({ armed: n });
    setInterval(() => {}, 1 << 30);
    break;
  }
  case 'serve': {
    system.serve(Hold);
    say({ serving: true });
    setInterval(() => {}, 1 << 30);
    break;
  }
  default:
    throw new Error(`unknown mode ${mode}`);
}
