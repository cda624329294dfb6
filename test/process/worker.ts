/**
 * A child process for the process-level tests: `node --import tsx test/process/worker.ts MODE PATH ...`.
 * Every mode opens the LMDB engine at PATH, as a separate OS process would in production.
 */
import { createSystem } from '../../src/index.js';
import { Counter } from '../fixtures/actors.js';
import { Mailer } from '../fixtures/mailer.js';

const [mode, path, ...args] = process.argv.slice(2);
const system = await createSystem({ path: path! });
const say = (line: unknown) => process.stdout.write(JSON.stringify(line) + '\n');

switch (mode) {
  case 'consume': {
    // Serve until killed.
    system.serve(Counter, { consumerName: args[0] });
    say({ ready: true });
    setInterval(() => {}, 1 << 30);
    break;
  }
  case 'mail': {
    // Serve the Mailer (thunks post to MAIL_URL) and send one mail to ARG; wait to be killed.
    system.serve(Mailer);
    await system.ref(Mailer, 'box').dispatch.send(args[0]!);
    say({ sent: true });
    setInterval(() => {}, 1 << 30);
    break;
  }
  case 'produce': {
    // Dispatch N increments to actor ID, at most 100 in flight.
    const ref = system.ref(Counter, args[0]!);
    const n = Number(args[1]);
    for (let i = 0; i < n; i += 100) await Promise.all(Array.from({ length: Math.min(100, n - i) }, () => ref.dispatch.increment()));
    say({ produced: n });
    await system.close();
    break;
  }
  case 'call': {
    // N concurrent calls (default deadlines)
    // round-robin over ACTORS actors `c0…`; reports the replies and the error codes, then closes.
    const n = Number(args[0]);
    const actors = Number(args[1]);
    const results = await Promise.allSettled(Array.from({ length: n }, (_, i) => system.ref(Counter, `c${i % actors}`).call.add(1)));
    say({ replies: results.map((r) => (r.status === 'fulfilled' ? r.value : null)), failures: results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as { code?: string }).code ?? String(r.reason)] : [])) });
    await system.close();
    break;
  }
  case 'seed': {
    // The README counter: two increments, processed, then wait to be killed.
    system.serve(Counter);
    const ref = system.ref(Counter, 'tenant-42');
    await ref.dispatch.increment();
    await ref.dispatch.increment();
    say({ count: await ref.call.add(0) });
    setInterval(() => {}, 1 << 30);
    break;
  }
  case 'read': {
    say({ state: await system.ref(Counter, args[0]!).query() });
    await system.close();
    break;
  }
  case 'observe': {
    // Print every state of actor ID until its count reaches N.
    const target = Number(args[1]);
    system.ref(Counter, args[0]!).state$.subscribe((s) => {
      say({ count: s.count });
      if (s.count >= target) void system.close().then(() => process.exit(0));
    });
    break;
  }
  case 'pending-calls': {
    // N calls to actor ID, served nowhere; once all are queued, close; report each rejection
    // with the ms it took after close() was called, and let the process exit by itself.
    const ref = system.ref(Counter, args[0]!);
    const n = Number(args[1]);
    ref.state$.subscribe(() => {}); // an observer too: close() completes it and releases its watch
    let closedAt = 0;
    const outcomes = Array.from({ length: n }, (_, i) =>
      ref.call.add(i).then(
        () => ({ code: 'replied', ms: Date.now() - closedAt }),
        (e: { code?: string }) => ({ code: e.code, ms: Date.now() - closedAt }),
      ),
    );
    while ((await system.admin.queue(Counter, args[0]!)).length < n) await new Promise((r) => setTimeout(r, 10));
    closedAt = Date.now();
    await system.close();
    say({ outcomes: await Promise.all(outcomes) });
    break;
  }
  case 'serve-until-signal': {
    // Serve Counter with consumer name ARG, close on SIGINT / SIGTERM; report each processed count.
    system.serve(Counter, { consumerName: args[0] });
    system.closeOnSignals();
    system.ref(Counter, 'signalled').state$.subscribe((s) => say({ count: s.count }));
    say({ ready: true });
    break;
  }
  default:
    throw new Error(`unknown mode ${mode}`);
}
