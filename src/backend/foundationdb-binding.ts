/**
 * The part of the `foundationdb` package (node-foundationdb) that the FoundationDB engine uses,
 * described locally so dgen compiles and type-checks where the optional package is absent, and
 * the lazy loader that turns a missing package or client library into a typed error.
 * @internal
 */
import { createRequire } from 'node:module';
import { FoundationDBUnavailableError, INSTALL_CLIENT } from './foundationdb-errors.js';

/** An error of the FoundationDB client: `code` is FoundationDB's numeric error code. @internal */
export interface FdbErrorLike extends Error {
  readonly code: number;
}

/** A watch as the binding returns it. @internal */
export interface FdbWatch {
  readonly promise: Promise<boolean>;
  cancel(): void;
}

/** Options accepted when creating a transaction (FoundationDB transaction option names). @internal */
export interface FdbTransactionOptions {
  timeout?: number;
  retry_limit?: number;
  max_retry_delay?: number;
}

/** The binding's `Transaction` class, used at the root subspace with raw Buffer keys and values. @internal */
export interface FdbTransaction {
  snapshot(): FdbTransaction;
  rawCommit(): Promise<void>;
  rawCancel(): void;
  rawOnError(code: number): Promise<void>;
  getReadVersion(): Promise<Buffer>;
  get(key: Buffer): Promise<Buffer | undefined>;
  getRangeAll(start: Buffer, end: Buffer, opts?: { limit?: number; reverse?: boolean }): Promise<[Buffer, Buffer][]>;
  set(key: Buffer, value: Buffer): void;
  clear(key: Buffer): void;
  clearRange(start: Buffer, end: Buffer): void;
  add(key: Buffer, operand: Buffer): void;
  /** Raw SET_VERSIONSTAMPED_KEY: `keyWithOffset` ends with the stamp offset as 4 bytes little-endian. */
  setVersionstampedKeyRaw(keyWithOffset: Buffer, value: Buffer): void;
  /** Raw SET_VERSIONSTAMPED_VALUE: `valueWithOffset` ends with the stamp offset as 4 bytes little-endian. */
  setVersionstampedValueRaw(key: Buffer, valueWithOffset: Buffer): void;
  addReadConflictKey(key: Buffer): void;
  addReadConflictRange(start: Buffer, end: Buffer): void;
  watch(key: Buffer): FdbWatch;
  getVersionstamp(): { promise: Promise<Buffer> };
}

/** The binding's `Database`. @internal */
export interface FdbDatabase {
  rawCreateTransaction(opts?: FdbTransactionOptions): FdbTransaction;
  close(): void;
}

/** The binding's entry module (`require('foundationdb')`). @internal */
export interface FdbModule {
  setAPIVersion(version: number): void;
  open(clusterFile?: string): FdbDatabase;
  readonly FDBError: abstract new (...args: never[]) => FdbErrorLike;
}

/** The binding's native module (`foundationdb/dist/lib/native`), for FoundationDB's error predicates. @internal */
export interface FdbNative {
  errorPredicate(test: number, code: number): boolean;
}

/** The loaded binding: the JS layer and its native module. @internal */
export interface FoundationDBBinding {
  readonly fdb: FdbModule;
  readonly native: FdbNative;
}

function isModuleNotFound(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && /foundationdb/.test(String((e as Error).message));
}

function firstLine(e: unknown): string {
  return String(e instanceof Error ? e.message : e).split('\n')[0] ?? '';
}

/** Loads a CommonJS module by specifier: Node's `require` (a parameter so tests can stand in for a missing package). @internal */
export type Requirer = (specifier: string) => unknown;

// The binding is CommonJS. Node's own require gives its exports as they are, the same under plain
// Node, vitest and tsx, where a dynamic import() wraps them differently in each.
const requireModule: Requirer = createRequire(import.meta.url);

/**
 * Loads the `foundationdb` package and its native module with Node's `require`. Throws
 * {@link FoundationDBUnavailableError} when the package is not installed, its native module cannot
 * load libfdb_c, or what loaded is not the binding dgen was written against.
 * @internal
 */
export function requireBinding(load: Requirer = requireModule): FoundationDBBinding {
  let fdb: FdbModule;
  let native: FdbNative | undefined;
  try {
    fdb = load('foundationdb') as FdbModule;
    native = (load('foundationdb/dist/lib/native.js') as { default?: FdbNative } | undefined)?.default;
  } catch (e) {
    if (isModuleNotFound(e)) {
      throw new FoundationDBUnavailableError(
        'the optional `foundationdb` package is not installed',
        `${INSTALL_CLIENT}, then run \`npm install foundationdb\` (npm leaves this optional package out when its native module cannot load, so install the client first)`,
        e,
      );
    }
    throw new FoundationDBUnavailableError(
      `the \`foundationdb\` package could not load its native module (${firstLine(e)})`,
      `${INSTALL_CLIENT}; the package's bundled native module (linux-x64, macOS) then loads it. ` +
        'Elsewhere, build the module with `npm rebuild foundationdb` (in a project whose npm policy denies its install script: ' +
        '`npm explore foundationdb -- npm run install`)',
      e,
    );
  }
  const missing = [
    typeof fdb?.open === 'function' ? undefined : 'open()',
    typeof fdb?.setAPIVersion === 'function' ? undefined : 'setAPIVersion()',
    typeof fdb?.FDBError === 'function' ? undefined : 'FDBError',
    typeof native?.errorPredicate === 'function' ? undefined : "the native module's errorPredicate()",
  ].filter((m) => m !== undefined);
  if (missing.length > 0) {
    throw new FoundationDBUnavailableError(
      `the installed \`foundationdb\` package lacks ${missing.join(', ')}`,
      'Install the version of the `foundationdb` package that package.json names (`npm install foundationdb@^2`)',
    );
  }
  return { fdb, native: native as FdbNative };
}

/** {@link requireBinding}, as a promise (what `foundationdb()` awaits). @internal */
export async function loadBinding(load: Requirer = requireModule): Promise<FoundationDBBinding> {
  return requireBinding(load);
}
