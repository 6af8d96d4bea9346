// Finding and loading a Node handler (parseHandler, loadHandler) over real files in a temp task root.
import { afterAll, describe, expect, test } from 'vitest';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadHandler, parseHandler } from '../../../src/node/handler-loader.ts';

const root = realpathSync(mkdtempSync(join(tmpdir(), 'tandem-loader-')));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function files(dir: string, map: Record<string, string>): string {
  const base = join(root, dir);
  for (const [name, text] of Object.entries(map)) {
    mkdirSync(dirname(join(base, name)), { recursive: true });
    writeFileSync(join(base, name), text);
  }
  return base;
}

describe('parseHandler', () => {
  test('directory, module (to the first dot) and property path', () => {
    expect(parseHandler('index.handler')).toEqual({ dir: '', module: 'index', path: 'handler' });
    expect(parseHandler('sub/dir/app.nested.fn')).toEqual({ dir: 'sub/dir/', module: 'app', path: 'nested.fn' });
  });

  test('no dot, or `..` anywhere, is Runtime.MalformedHandlerName', () => {
    expect(() => parseHandler('index')).toThrow('Bad handler');
    expect(() => parseHandler('../up.handler')).toThrow(
      "'../up.handler' is not a valid handler name. Use absolute paths when specifying root directories in handler names.",
    );
    try {
      parseHandler('x');
    } catch (e) {
      expect((e as Error).name).toBe('Runtime.MalformedHandlerName');
    }
  });
});

describe('loadHandler', () => {
  test('.js (CommonJS), .mjs, .cjs and "type": "module" .js; a nested property path', async () => {
    const dir = files('kinds', {
      'a.js': 'exports.h = () => "cjs";',
      'b.mjs': 'export const h = () => "mjs";',
      'c.cjs': 'module.exports = { deep: { h: () => "nested" } };',
      'esm/package.json': '{"type":"module"}',
      'esm/d.js': 'export const h = () => "esm js";',
    });
    const call = async (h: string) => (await loadHandler(dir, h))();
    expect(await call('a.h')).toBe('cjs');
    expect(await call('b.h')).toBe('mjs');
    expect(await call('c.deep.h')).toBe('nested');
    expect(await call('esm/d.h')).toBe('esm js');
  });

  test('the Runtime.* init errors, with their messages', async () => {
    const dir = files('errors', { 'mod.js': 'exports.notFn = 1;', 'syntax.js': 'exports.h = (;' });
    await expect(loadHandler(dir, 'mod.missing')).rejects.toMatchObject({ name: 'Runtime.HandlerNotFound', message: 'mod.missing is undefined or not exported' });
    await expect(loadHandler(dir, 'mod.notFn')).rejects.toMatchObject({ name: 'Runtime.HandlerNotFound', message: 'mod.notFn is not a function' });
    await expect(loadHandler(dir, 'nothere.h')).rejects.toMatchObject({ name: 'Runtime.ImportModuleError', message: expect.stringMatching(/^Error: Cannot find module 'nothere'/) });
    await expect(loadHandler(dir, 'syntax.h')).rejects.toMatchObject({ name: 'Runtime.UserCodeSyntaxError', message: expect.stringMatching(/^SyntaxError: /) });
  });

  test('an error thrown at load passes as it is; a thrown null surfaces as the TypeError AWS\'s client hits', async () => {
    const dir = files('throws', { 'boom.js': 'throw new RangeError("at load");', 'nul.js': 'throw null;' });
    await expect(loadHandler(dir, 'boom.h')).rejects.toMatchObject({ name: 'RangeError', message: 'at load' });
    await expect(loadHandler(dir, 'nul.h')).rejects.toBeInstanceOf(TypeError);
  });

  test('beforeLoad runs once the name is valid, before the module loads', async () => {
    const dir = files('order', { 'm.js': 'exports.h = () => globalThis.__tandemLoaderMark;' });
    const g = globalThis as Record<string, unknown>;
    await expect(loadHandler(dir, 'bad', () => (g['__tandemLoaderMark'] = 'early'))).rejects.toThrow('Bad handler');
    expect(g['__tandemLoaderMark']).toBeUndefined();
    const fn = await loadHandler(dir, 'm.h', () => (g['__tandemLoaderMark'] = 'set'));
    expect(fn()).toBe('set');
    delete g['__tandemLoaderMark'];
  });
});
