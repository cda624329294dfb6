/**
 * Wake-ups between processes that share an LMDB database, without polling: a one-byte file
 * `notify` in the database directory that a process rewrites after its commits, and that every
 * process with a pending watch listens to through `fs.watch` (inotify on Linux, kqueue or FSEvents
 * elsewhere). The kernel delivers the change to the listeners; a process that listens to nothing
 * pays nothing, and one that listens is woken only when some process commits.
 *
 * Why a file and not a socket per process: no discovery of peers, nothing to clean up after a
 * process is killed (a dead listener just stops listening), one syscall per commit batch whatever
 * the number of processes, and Node has no Unix datagram sockets. The cost is that every
 * listener is woken by every committing process; a wake-up reads one version counter and returns
 * when nothing changed (see `docs/semantics.md`, "Engines").
 * @internal
 */
import { closeSync, openSync, watch, writeSync, constants, type FSWatcher } from 'node:fs';
import { join } from 'node:path';

const BYTE = Buffer.of(1);

/** @internal */
export class CommitNotifier {
  private fd: number | undefined;
  private watcher: FSWatcher | undefined;
  private pinging = false;
  /** False once the file could not be opened or watched: the engine then polls at its fast rate. */
  working = true;

  constructor(
    private readonly file: string,
    private readonly onChange: () => void,
  ) {
    try {
      this.fd = openSync(file, constants.O_RDWR | constants.O_CREAT, 0o644);
    } catch {
      this.working = false;
    }
  }

  /** The notify file of the database in `dir`. */
  static in(dir: string, onChange: () => void): CommitNotifier {
    return new CommitNotifier(join(dir, 'notify'), onChange);
  }

  /** After a commit: tells the listeners, once for all the commits that end in this microtask. */
  ping(): void {
    if (this.pinging || this.fd === undefined) return;
    this.pinging = true;
    queueMicrotask(() => {
      this.pinging = false;
      if (this.fd === undefined) return;
      try {
        writeSync(this.fd, BYTE, 0, 1, 0);
      } catch {
        this.working = false; // listeners elsewhere fall back on their polling
      }
    });
  }

  /** Starts listening (idempotent). */
  listen(): void {
    if (this.watcher !== undefined || !this.working) return;
    try {
      // Not persistent: the engine's own timer keeps the process alive while a watch is pending.
      this.watcher = watch(this.file, { persistent: false }, () => this.onChange());
      this.watcher.on('error', () => {
        this.working = false;
        this.unlisten();
      });
    } catch {
      this.working = false;
    }
  }

  unlisten(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }

  get listening(): boolean {
    return this.watcher !== undefined;
  }

  close(): void {
    this.unlisten();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
