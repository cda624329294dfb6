/**
 * The browser UI's script. The published package carries it built (`npm run build` bundles
 * inspector-ui/ into dist/inspector/app.js); run from src/ (tests, `npm run dgen`), it is bundled
 * on first use with esbuild, a development dependency. Nothing is fetched from a network.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DgenError } from '../errors.js';

const BUILT = fileURLToPath(new URL('../inspector/app.js', import.meta.url));
const SOURCE = fileURLToPath(new URL('../../inspector-ui/main.ts', import.meta.url));

let script: Promise<string> | undefined;

/** The UI's script, built once per process. */
export function uiScript(): Promise<string> {
  return (script ??= load().catch((e: unknown) => {
    script = undefined;
    throw e;
  }));
}

async function load(): Promise<string> {
  if (existsSync(BUILT)) return readFileSync(BUILT, 'utf8');
  if (!existsSync(SOURCE)) throw new DgenError('inspector_ui_missing', `The inspector's UI is neither built (${BUILT}) nor beside the sources (${SOURCE}): reinstall dgen, or run npm run build.`);
  return bundle(SOURCE);
}

/** Bundles the UI from its sources (what `npm run build` does, in memory). */
export async function bundle(entry = SOURCE): Promise<string> {
  const esbuild = await import('esbuild').catch(() => {
    throw new DgenError('inspector_ui_missing', 'Running the inspector from its sources needs esbuild (a development dependency of dgen): npm install, or run npm run build.');
  });
  const out = await esbuild.build({ entryPoints: [entry], bundle: true, format: 'esm', minify: true, write: false, target: 'es2020', legalComments: 'none', logLevel: 'silent' });
  return out.outputFiles[0]!.text;
}
