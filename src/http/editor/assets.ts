import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/**
 * The editor's static files, beside this module in `public/`: the page's script and style sheet as they are, and
 * its pure logic (`maskGeometry.ts`, unit-tested) as JavaScript. `npm start` and the Docker image run the
 * transpiled build, where `npm run build` has already written `maskGeometry.js` (and copied the rest); run from
 * the TypeScript sources (tests, `npm run dev`), the module is transpiled once, on first request, with esbuild.
 */

export interface Asset {
  body: Buffer;
  contentType: string;
}

const TYPES: Record<string, string> = {
  'editor.js': 'text/javascript; charset=utf-8',
  'maskGeometry.js': 'text/javascript; charset=utf-8',
  'editor.css': 'text/css; charset=utf-8',
};

const dir = new URL('./public/', import.meta.url);
const loaded = new Map<string, Promise<Asset>>();

/** One of the editor's files by name; undefined for any other name. */
export function editorAsset(name: string): Promise<Asset> | undefined {
  const contentType = TYPES[name];
  if (!contentType) return undefined;
  let asset = loaded.get(name);
  if (!asset) {
    asset = load(name).then((body) => ({ body, contentType }));
    asset.catch(() => loaded.delete(name)); // try again on the next request
    loaded.set(name, asset);
  }
  return asset;
}

async function load(name: string): Promise<Buffer> {
  const file = new URL(name, dir);
  if (existsSync(fileURLToPath(file))) return readFile(file);
  if (!name.endsWith('.js')) throw new Error(`editor asset ${name} is missing`);
  const source = await readFile(new URL(name.replace(/\.js$/, '.ts'), dir), 'utf8');
  const { transform } = await import('esbuild');
  const out = await transform(source, { loader: 'ts', format: 'esm', target: 'es2020', sourcefile: name.replace(/\.js$/, '.ts') });
  return Buffer.from(out.code);
}
