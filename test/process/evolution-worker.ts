/**
 * A child process of the rolling-deploy test: `node --import tsx test/process/evolution-worker.ts MODE PATH VERSION ...`.
 * `host VERSION NAME` serves the wallet with that version of its definition until killed;
 * `produce VERSION ID N` dispatches N deposits of 1 to wallet ID in that version's payload shape,
 * a few at a time, then closes.
 */
import { createSystem } from '../../src/index.js';
import { WalletV1, WalletV2 } from '../fixtures/wallet.js';

const [mode, path, version, ...args] = process.argv.slice(2);
const system = await createSystem({ path: path! });
const say = (line: unknown) => process.stdout.write(JSON.stringify(line) + '\n');

switch (mode) {
  case 'host': {
    if (version === '2') system.serve(WalletV2, { consumerName: args[0] });
    else system.serve(WalletV1, { consumerName: args[0] });
    system.events$.subscribe((e) => e.type === 'definition-outdated' && say({ outdated: e.id }));
    say({ ready: true });
    setInterval(() => {}, 1 << 30);
    break;
  }
  case 'produce': {
    const id = args[0]!;
    const n = Number(args[1]);
    for (let i = 0; i < n; i += 20) {
      const batch = Array.from({ length: Math.min(20, n - i) }, () => (version === '2' ? system.ref(WalletV2, id).dispatch.deposit({ amount: 1, currency: 'EUR' }) : system.ref(WalletV1, id).dispatch.deposit(1)));
      await Promise.all(batch);
      say({ sent: i + batch.length });
      await new Promise((r) => setTimeout(r, 5));
    }
    await system.close();
    break;
  }
  default:
    throw new Error(`unknown mode ${mode}`);
}
