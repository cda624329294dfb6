/**
 * A serving process for the load section: opens the store the parent names, serves the bench
 * Counter and prints `ready`; stops on SIGTERM. Run as compiled JavaScript, like the parent.
 *
 *   node load-child.js lmdb PATH sync|nosync
 *   node load-child.js foundationdb CLUSTER_FILE PREFIX_JSON
 */
import { createSystem } from '../../src/index.js';
import { openChildStore } from './child-store.js';
import { Counter } from './actors.js';

const [kind, where, extra] = process.argv.slice(2);

const system = await createSystem({ backend: await openChildStore(kind, where, extra), closeBackend: true });
system.serve(Counter);
process.stdout.write('ready\n');
process.on('SIGTERM', () => void system.close().then(() => process.exit(0)));
setInterval(() => {}, 1 << 30);
