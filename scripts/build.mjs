#!/usr/bin/env node
// Transpile src/, commands/ and components/ to dist/ (one .js per .ts, no bundling, no type check: `npm test` type-checks),
// and copy the locale files and the mask editor's static files. Takes a fraction of a second, so `npm start` runs it every time.
import { cpSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'dist');

function tsFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return tsFiles(p);
    return p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

rmSync(out, { recursive: true, force: true });
const entryPoints = [...tsFiles(join(root, 'src')), ...tsFiles(join(root, 'commands')), ...tsFiles(join(root, 'components'))].map((p) => relative(root, p));
await build({
  absWorkingDir: root,
  entryPoints,
  outdir: out,
  outbase: '.',
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
});
cpSync(join(root, 'src/i18n/locales'), join(out, 'src/i18n/locales'), { recursive: true });
// the mask editor's page script and style sheet (its maskGeometry.ts is transpiled above with the rest)
cpSync(join(root, 'src/http/editor/public'), join(out, 'src/http/editor/public'), { recursive: true, filter: (p) => !p.endsWith('.ts') });
