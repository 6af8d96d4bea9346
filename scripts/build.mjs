// Bundles the TypeScript sources into the files that ship: dist/runtime.mjs (what `bootstrap` runs, one
// file plus lazily loaded chunks, so a Lambda image needs no node_modules), dist/cli.mjs (the local tool)
// and dist/api.mjs (the package's public API: python() for Node handlers).
// `--if-stale` skips the build when every output is newer than every source file.
import { build } from 'esbuild';
import { readdirSync, statSync, existsSync, rmSync } from 'node:fs';
import { join, dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entries = {
  runtime: 'src/runtime/main.ts',
  cli: 'src/local/cli.ts',
  api: 'src/api.ts',
};

function newestMtime(dir) {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    newest = Math.max(newest, s.isDirectory() ? newestMtime(p) : s.mtimeMs);
  }
  return newest;
}

function isStale() {
  const outputs = Object.keys(entries).map((n) => join(root, 'dist', `${n}.mjs`));
  if (!outputs.every((o) => existsSync(o))) return true;
  const oldestOut = Math.min(...outputs.map((o) => statSync(o).mtimeMs));
  return newestMtime(join(root, 'src')) > oldestOut;
}

if (process.argv.includes('--if-stale') && !isStale()) process.exit(0);

// msgpackr's "node" entry tries to load a native addon; the pure-JS entry is what we bundle.
const require = createRequire(import.meta.url);
const msgpackrPure = join(dirname(require.resolve('msgpackr')), '..', 'index.js');

const result = await build({
  absWorkingDir: root,
  metafile: true,
  entryPoints: Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, join(root, v)])),
  outdir: join(root, 'dist'),
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: false,
  legalComments: 'none',
  // The runtime only decodes with msgpackr (frames.ts): its unpack module alone keeps the bundle small.
  alias: { msgpackr: msgpackrPure, 'msgpackr/unpack': join(dirname(msgpackrPure), 'unpack.js') },
  // CommonJS dependencies bundled into ESM still call require() for node builtins.
  banner: {
    js: "import { createRequire as __tandemCreateRequire } from 'node:module'; const require = __tandemCreateRequire(import.meta.url);",
  },
  chunkNames: 'chunks/[name]-[hash]',
  logLevel: 'warning',
});

// dist/runtime.cjs: the same runtime as one CommonJS file, what `bootstrap` runs. Node starting on a
// CommonJS entry never initialises its ESM loader: ~1.5-2 MiB less resident memory than dist/runtime.mjs
// (measured, docs/runtime.md). The Node host stays unevaluated until used. pino (with its dependencies,
// 43% of the bundle) is its own file, dist/pino.cjs, required only when TANDEM_LOG_LEVEL is set: V8 parses
// every byte of the entry file at start, so what a normal start never runs is not in it.
// Minified (names kept: error types and stack frames stay readable): less to read and compile at start.
await build({
  absWorkingDir: root,
  stdin: { contents: "module.exports = require('pino');", resolveDir: root, loader: 'js' },
  outfile: join(root, 'dist', 'pino.cjs'),
  bundle: true,
  minify: true,
  keepNames: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  legalComments: 'none',
  logLevel: 'warning',
});
const pinoBesideTheBundle = {
  name: 'pino-beside-the-bundle',
  setup(b) {
    b.onResolve({ filter: /^pino$/ }, () => ({ path: './pino.cjs', external: true }));
  },
};
await build({
  absWorkingDir: root,
  entryPoints: [join(root, entries.runtime)],
  outfile: join(root, 'dist', 'runtime.cjs'),
  bundle: true,
  minify: true,
  keepNames: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  sourcemap: false,
  legalComments: 'none',
  alias: { msgpackr: msgpackrPure, 'msgpackr/unpack': join(dirname(msgpackrPure), 'unpack.js') },
  plugins: [pinoBesideTheBundle],
  define: { 'import.meta.url': '__tandemImportMetaUrl' },
  banner: { js: "const __tandemImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});

// Chunks from earlier builds are never loaded again: remove them so dist/ (and an image built from it)
// holds only what this build wrote. Deleting after the build keeps dist/ usable while it runs.
const written = new Set(Object.keys(result.metafile.outputs).map((o) => relative(root, join(root, o))));
const chunks = join(root, 'dist', 'chunks');
if (existsSync(chunks)) {
  for (const name of readdirSync(chunks)) {
    const rel = relative(root, join(chunks, name));
    if (!written.has(rel)) rmSync(join(chunks, name), { force: true });
  }
}
