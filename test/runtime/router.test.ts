// The routing rule (docs/routing.md): route() in src/runtime/router.ts is the authority, `bootstrap` mirrors
// it in bash. Both are run over the same matrix of task roots and handlers and must agree everywhere; a few
// expected answers are spelled out.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { route } from '../../src/runtime/router.ts';

const BOOTSTRAP = new URL('../../bootstrap', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'tandem-route-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const files = [
  'lambda_function.py',
  'index.js',
  'app.mjs',
  'lib.cjs',
  'both.py',
  'both.js',
  'pkg/__init__.py',
  'pkg/mod.py',
  'pkg.js',
  'sub/dir/mod.py',
  'web/handler.js',
  'a.b/c.js',
  'with space.js',
  'plain',
  'nodeonly/deep/x.mjs',
  'extless',
  'dirmod/index.js',
  'dirpkg/package.json',
  'dirempty/readme.txt',
  'pydir/mod.py',
  'pydir/index.js',
  'pyinit/__init__.py',
  'pyinit/index.js',
  'lone.mjs',
  'web/solo.cjs',
];
for (const f of files) {
  mkdirSync(join(root, f, '..'), { recursive: true });
  writeFileSync(join(root, f), '');
}
mkdirSync(join(root, 'dirjs.js'));
symlinkSync(join(root, 'index.js'), join(root, 'link.js'));
symlinkSync(join(root, 'nowhere.js'), join(root, 'gone.js'));

const handlers = [
  'lambda_function.lambda_handler',
  'index.handler',
  'app.handler',
  'lib.handler',
  'both.handler',
  'pkg.mod.handler',
  'pkg.handler',
  'pkg/mod.handler',
  'sub/dir/mod.handler',
  'sub.dir.mod.handler',
  'web/handler.handler',
  'web.handler.handler',
  'a.b/c.handler',
  'with space.handler',
  'plain.handler',
  'plain',
  'index',
  'index.nested.deep.fn',
  '../index.handler',
  'x/../index.handler',
  'link.handler',
  'gone.handler',
  'dirjs.handler',
  'nodeonly/deep/x.handler',
  'missing.handler',
  '.handler',
  'index.',
  '',
  'python:index.handler',
  'node:lambda_function.lambda_handler',
  'node:',
  'python:',
  'Python:index.handler',
  'extless.handler',
  'extless',
  'dirmod.handler',
  'dirpkg.handler',
  'dirempty.handler',
  'dirmod',
  'pydir.handler',
  'pyinit.handler',
  'lone',
  'web/solo',
  'web/solo.handler',
  'pydir/mod.handler',
];

function bashRoute(handler: string, taskRoot: string, runtime?: string): string {
  const env = { ...process.env };
  delete env.TANDEM_RUNTIME;
  if (runtime !== undefined) env.TANDEM_RUNTIME = runtime;
  return execFileSync(BOOTSTRAP, ['--route', handler, taskRoot], { encoding: 'utf8', env }).trim();
}

function tsRoute(handler: string, taskRoot: string, runtime?: string): string {
  try {
    return route(handler, taskRoot, runtime).language;
  } catch {
    return 'invalid';
  }
}

describe('routing', () => {
  it('spells out the rule on examples', () => {
    const lang = (h: string) => route(h, root).language;
    expect(lang('lambda_function.lambda_handler')).toBe('python');
    expect(lang('index.handler')).toBe('node');
    expect(lang('app.handler')).toBe('node');
    expect(lang('lib.handler')).toBe('node');
    expect(lang('both.handler')).toBe('python'); // a Python module wins
    expect(lang('pkg.mod.handler')).toBe('python');
    expect(lang('pkg.handler')).toBe('python'); // pkg/__init__.py
    expect(lang('web/handler.handler')).toBe('node');
    expect(lang('index.nested.deep.fn')).toBe('node');
    expect(lang('link.handler')).toBe('node'); // symlinks are followed
    expect(lang('gone.handler')).toBe('python'); // a broken link is no file
    expect(lang('dirjs.handler')).toBe('python'); // a directory is no file
    expect(lang('index')).toBe('node'); // no dot, index.js exists: AWS Node's MalformedHandlerName
    expect(lang('nothing')).toBe('python'); // no dot, no Node module: AWS Python's MalformedHandlerName
    expect(lang('../index.handler')).toBe('python');
    expect(lang('missing.handler')).toBe('python'); // AWS Python's ImportModuleError
    expect(route('python:index.handler', root)).toEqual({ language: 'python', handler: 'index.handler' });
    expect(route('node:lambda_function.lambda_handler', root)).toEqual({ language: 'node', handler: 'lambda_function.lambda_handler' });
    // Node modules as AWS's Node client resolves them, when no Python module exists.
    expect(lang('extless.handler')).toBe('node'); // an extensionless file
    expect(lang('dirmod.handler')).toBe('node'); // a directory with index.js
    expect(lang('dirpkg.handler')).toBe('node'); // a directory with package.json
    expect(lang('dirempty.handler')).toBe('python'); // a directory with neither
    expect(lang('pyinit.handler')).toBe('python'); // __init__.py wins over index.js
    expect(lang('pydir.handler')).toBe('node'); // a namespace package is no Python module file
    // A handler without a dot whose module exists with a Node extension: Node's MalformedHandlerName.
    expect(lang('lone')).toBe('node');
    expect(lang('web/solo')).toBe('node');
    expect(lang('extless')).toBe('python'); // no dot and no .js/.mjs/.cjs
  });

  it('TANDEM_RUNTIME decides for handlers without a prefix; a prefix still wins; a bad value is an error', () => {
    expect(route('index.handler', root, 'python')).toEqual({ language: 'python', handler: 'index.handler' });
    expect(route('lambda_function.lambda_handler', root, 'node')).toEqual({ language: 'node', handler: 'lambda_function.lambda_handler' });
    expect(route('missing.handler', root, 'node').language).toBe('node');
    expect(route('python:index.handler', root, 'node')).toEqual({ language: 'python', handler: 'index.handler' });
    expect(route('node:lambda_function.lambda_handler', root, 'python').language).toBe('node');
    expect(route('index.handler', root, '').language).toBe('node'); // empty = unset
    expect(() => route('index.handler', root, 'Node')).toThrow(/TANDEM_RUNTIME must be python or node .*"Node"/);
  });

  it('bash and TypeScript agree with TANDEM_RUNTIME set (and set to a bad value)', () => {
    const mismatches: string[] = [];
    for (const rt of ['python', 'node', 'ruby']) {
      for (const h of ['index.handler', 'lambda_function.lambda_handler', 'missing', 'python:index.handler', 'node:x.y']) {
        const ts = tsRoute(h, root, rt);
        const sh = bashRoute(h, root, rt);
        if (ts !== sh) mismatches.push(`${rt} ${JSON.stringify(h)}: ts=${ts} bash=${sh}`);
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('bash (bootstrap) and TypeScript agree on every handler', () => {
    const mismatches: string[] = [];
    for (const h of handlers) {
      const ts = route(h, root).language;
      const sh = bashRoute(h, root);
      if (ts !== sh) mismatches.push(`${JSON.stringify(h)}: ts=${ts} bash=${sh}`);
    }
    expect(mismatches).toEqual([]);
  });

  it('agree with a task root given with a trailing slash', () => {
    for (const h of ['index.handler', 'lambda_function.lambda_handler', 'sub/dir/mod.handler']) {
      expect(bashRoute(h, `${root}/`)).toBe(route(h, `${root}/`).language);
    }
  });
});
