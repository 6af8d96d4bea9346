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
// (measured, docs/runtime.md). pino (with its dependencies, 43% of the bundle) is its own file,
// dist/pino.cjs, required only when TANDEM_LOG_LEVEL is set: V8 parses every byte of the entry file at start,
// so what a normal start never runs is not in it.
// Minified (names kept: error types stay readable): less to read and compile at start.
// The Node host is not in it either: it is dist/node-host.cjs, required only for a Node handler (a Python
// function never reads it), and built without renaming anything, because its functions and classes appear in
// users' stack traces (`at Runtime.handler`, `at ResponseStream.write`), logs and error documents.
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
const cjs = {
  absWorkingDir: root,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  sourcemap: false,
  legalComments: 'none',
  alias: { msgpackr: msgpackrPure, 'msgpackr/unpack': join(dirname(msgpackrPure), 'unpack.js') },
  define: { 'import.meta.url': '__tandemImportMetaUrl' },
  banner: { js: "const __tandemImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
};
const nodeHost = join(root, 'src/node/host.ts');
await build({
  ...cjs,
  entryPoints: [join(root, entries.runtime)],
  outfile: join(root, 'dist', 'runtime.cjs'),
  minify: true,
  keepNames: true,
  plugins: [
    pinoBesideTheBundle,
    {
      // main.ts's `import('../node/host.ts')` becomes a require() of dist/node-host.cjs, made when it runs.
      name: 'node-host-apart',
      setup(b) {
        b.onResolve({ filter: /\/node\/host\.ts$/ }, (a) => (join(a.resolveDir, a.path) === nodeHost ? { path: 'host', namespace: 'node-host' } : undefined));
        b.onLoad({ filter: /^host$/, namespace: 'node-host' }, () => ({ contents: "module.exports = require('./node-host.cjs');" }));
        b.onResolve({ filter: /^\.\/node-host\.cjs$/ }, (a) => ({ path: a.path, external: true }));
      },
    },
  ],
});
await build({ ...cjs, entryPoints: [nodeHost], outfile: join(root, 'dist', 'node-host.cjs'), minifyWhitespace: true, plugins: [pinoBesideTheBundle] });

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
