// Routing between the two hosts as a Node user meets it, through the real runtime: the same task root holding
// a Python and a Node module of the same name, the explicit prefixes, and every Node module kind.
import { afterEach, describe, expect, test } from 'vitest';
import { startRuntime, type Run } from './harness.ts';

let run: Run | undefined;
afterEach(async () => {
  await run?.stop();
  run = undefined;
});

const BOTH = {
  'index.py': 'def handler(event, context):\n    return {"lang": "python"}\n',
  'index.js': 'exports.handler = async () => ({ lang: "node", kind: typeof require });\n',
  'esm.mjs': 'export const handler = async () => ({ lang: "node", kind: "mjs" });\n',
  'cjs.cjs': 'module.exports.handler = async () => ({ lang: "node", kind: "cjs" });\n',
  'sub/dir/deep.js': 'exports.a = { b: { handler: async () => ({ lang: "node", kind: "nested" }) } };\n',
};

async function answer(handler: string): Promise<unknown> {
  run = await startRuntime({ files: BOTH, handler });
  const r = await run.invoke({});
  await run.stop();
  run = undefined;
  if (r.kind !== 'response') throw new Error(`${handler}: ${r.kind} ${r.body.toString()}`);
  return JSON.parse(r.body.toString());
}

describe('routing Node and Python handlers in one task root', () => {
  test('a Python module wins over a Node module of the same name; node: picks Node', async () => {
    expect(await answer('index.handler')).toEqual({ lang: 'python' });
    expect(await answer('node:index.handler')).toEqual({ lang: 'node', kind: 'function' });
    expect(await answer('python:index.handler')).toEqual({ lang: 'python' });
  });

  test('.mjs, .cjs and nested paths route to Node without a prefix', async () => {
    expect(await answer('esm.handler')).toEqual({ lang: 'node', kind: 'mjs' });
    expect(await answer('cjs.handler')).toEqual({ lang: 'node', kind: 'cjs' });
    expect(await answer('sub/dir/deep.a.b.handler')).toEqual({ lang: 'node', kind: 'nested' });
  });
});
