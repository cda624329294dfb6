/**
 * `system.closeOnSignals()`: the SIGINT / SIGTERM handler every service writes by hand. On the
 * first signal it closes the system, then removes its handlers and raises the signal again, so
 * the process ends as it would have without a handler (exit status of a signal, which shells and
 * supervisors understand) unless the application has its own handler for that signal. A second
 * signal while closing skips the wait.
 * @internal
 */

const DEFAULT_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

export function closeOnSignals(close: () => Promise<void>, signals: readonly NodeJS.Signals[] = DEFAULT_SIGNALS): () => void {
  let closing = false;
  const remove = () => {
    for (const s of signals) process.off(s, onSignal);
  };
  const raise = (signal: NodeJS.Signals) => {
    remove();
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  function onSignal(signal: NodeJS.Signals): void {
    if (closing) return raise(signal);
    closing = true;
    void close()
      .catch((e: unknown) => process.emitWarning(`dgen: closing on ${signal} failed: ${e instanceof Error ? e.message : String(e)}`))
      .finally(() => raise(signal));
  }
  for (const s of signals) process.on(s, onSignal);
  return remove;
}
