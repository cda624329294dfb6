import { main } from '../../src/ops/cli.js';

/** What one `dgen` command line printed, and its exit code. */
export interface CliRun {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** Runs the CLI in this process with `argv`, capturing stdout and stderr. */
export async function runCli(argv: readonly string[]): Promise<CliRun> {
  let out = '';
  let err = '';
  const code = await main([...argv], (l) => (out += l), (l) => (err += l));
  return { code, out, err };
}
