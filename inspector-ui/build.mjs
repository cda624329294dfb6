#!/usr/bin/env node
// Bundles the inspector's UI into one script, shipped in the package (`npm run build`):
// node inspector-ui/build.mjs [outfile], default dist/inspector/app.js. Nothing is loaded from a CDN at run time.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const outfile = process.argv[2] ?? 'dist/inspector/app.js';
await build({
  entryPoints: [fileURLToPath(new URL('./main.ts', import.meta.url))],
  bundle: true,
  format: 'esm',
  minify: true,
  target: 'es2020',
  legalComments: 'none',
  logLevel: 'warning',
  outfile,
});
