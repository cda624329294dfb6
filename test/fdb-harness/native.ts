/**
 * The simulated native module of node-foundationdb: what `require('node-gyp-build')(root)` returns
 * in the package's lib/native.js when libfdb_c and the compiled addon are present
 * (`NativeModule`: setAPIVersion, startNetwork, createDatabase, errorPredicate, …). Databases
 * are named by their cluster file; each name is one {@link SimulatedCluster}.
 *
 * Test-only. A simulation of the native client over dgen's memory engine, never FoundationDB.
 */
import type { Backend } from '../../src/backend/contract.js';
import { SimulatedCluster } from './cluster.js';
import { Code, describe, errorPredicate } from './fdb-errors.js';
import { SimulatedTransaction, SimulatedWatch, type DatabaseHost, type NativeHost, type TransactionDefaults } from './transaction.js';

const HEADER_API_VERSION = 720; // the newest API version the binding's header (fdbversion.h) declares
const OPTION_MAX_WATCHES = 20;
const OPTION_TRANSACTION_TIMEOUT = 500;
const OPTION_TRANSACTION_RETRY_LIMIT = 501;
const OPTION_TRANSACTION_MAX_RETRY_DELAY = 502;
const DEFAULT_MAX_WATCHES = 10_000;

/** The simulated `NativeDatabase`. */
export class SimulatedDatabase implements DatabaseHost {
  readonly defaults: TransactionDefaults = { timeoutMs: 0, retryLimit: -1, maxRetryDelayMs: 1_000 };
  private readonly watches = new Set<SimulatedWatch>();
  private maxWatches = DEFAULT_MAX_WATCHES;
  private closed = false;

  constructor(
    private readonly host: NativeHost,
    readonly cluster: SimulatedCluster,
  ) {}

  createTransaction(): SimulatedTransaction {
    if (this.closed) throw this.host.error(Code.clientInvalidOperation);
    return new SimulatedTransaction(this.host, this);
  }

  setOption(code: number, param: string | number | Buffer | null): void {
    const n = typeof param === 'number' ? param : 0;
    if (code === OPTION_MAX_WATCHES) this.maxWatches = n;
    else if (code === OPTION_TRANSACTION_TIMEOUT) this.defaults.timeoutMs = n;
    else if (code === OPTION_TRANSACTION_RETRY_LIMIT) this.defaults.retryLimit = n;
    else if (code === OPTION_TRANSACTION_MAX_RETRY_DELAY) this.defaults.maxRetryDelayMs = n;
  }

  /** `fdb_database_destroy`: outstanding watches are cancelled. */
  close(): void {
    this.closed = true;
    for (const w of [...this.watches]) w.cancel();
  }

  /** Watches now set through this database (FoundationDB allows `max_watches`, 10,000 by default). */
  get activeWatches(): number {
    return this.watches.size;
  }

  addWatch(watch: SimulatedWatch): number | undefined {
    if (this.watches.size >= this.maxWatches) return Code.tooManyWatches;
    this.watches.add(watch);
    return undefined;
  }

  removeWatch(watch: SimulatedWatch): void {
    this.watches.delete(watch);
  }
}

/** Options of {@link SimulatedNativeModule}. */
export interface SimulatedNativeOptions {
  /** Opens the store behind a newly named cluster (default: the caller must pass one). */
  readonly store: (clusterName: string) => Backend | Promise<Backend>;
  /** Random numbers for the retry backoff jitter (default Math.random). */
  readonly random?: () => number;
}

/** The simulated `NativeModule`. node-foundationdb's lib/native.js sets `FDBError` on it. */
export class SimulatedNativeModule implements NativeHost {
  /** Set by the JS layer after loading (`mod.FDBError = FDBError`), as with the real addon. */
  FDBError: (new (description: string, code: number) => Error) | undefined;
  private version: number | undefined;
  private networkStarted = false;
  private readonly clusters = new Map<string, SimulatedCluster>();
  readonly random: () => number;

  constructor(private readonly options: SimulatedNativeOptions) {
    this.random = options.random ?? Math.random;
  }

  get apiVersion(): number {
    return this.version ?? 0;
  }

  /** The error the addon's `create_error` builds: `new FDBError(fdb_get_error(code), code)`. */
  error(code: number): Error {
    const Ctor = this.FDBError;
    if (typeof Ctor !== 'function') return new Error('FDBError class not found. Unable to deliver error.');
    return new Ctor(describe(code), code);
  }

  /** The cluster a cluster file names (created on first use). */
  cluster(clusterFile = 'default'): SimulatedCluster {
    let c = this.clusters.get(clusterFile);
    if (c === undefined) {
      c = new SimulatedCluster(clusterFile, () => this.options.store(clusterFile));
      this.clusters.set(clusterFile, c);
    }
    return c;
  }

  /** Every cluster opened so far. */
  allClusters(): SimulatedCluster[] {
    return [...this.clusters.values()];
  }

  // ---- NativeModule

  setAPIVersion(version: number): void {
    this.setAPIVersionImpl(version, HEADER_API_VERSION);
  }

  setAPIVersionImpl(version: number, headerVersion: number): void {
    if (this.version !== undefined) {
      if (this.version !== version) throw this.error(Code.apiVersionAlreadySet);
      return;
    }
    if (version > headerVersion || version > HEADER_API_VERSION || version < 13) throw this.error(Code.apiVersionNotSupported);
    this.version = version;
  }

  startNetwork(): void {
    if (this.version === undefined) throw this.error(Code.apiVersionUnset);
    if (this.networkStarted) throw this.error(Code.networkAlreadySetup);
    this.networkStarted = true;
  }

  stopNetwork(): void {
    this.networkStarted = false;
  }

  setNetworkOption(_code: number, _param: string | number | Buffer | null): void {
    if (this.version === undefined) throw this.error(Code.apiVersionUnset);
  }

  createDatabase(clusterFile?: string): SimulatedDatabase {
    if (!this.networkStarted) throw this.error(Code.networkNotSetup);
    return new SimulatedDatabase(this, this.cluster(clusterFile));
  }

  errorPredicate(test: number, code: number): boolean {
    return errorPredicate(test, code);
  }
}
