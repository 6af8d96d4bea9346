// The Node host's invocation life cycle through a real runtime process: uncaught exceptions and unhandled
// rejections (AWS's 3.x client posts the invocation's error, then exits 129 / 128), waiting for the user's
// event loop to drain (callbackWaitsForEmptyEventLoop, sync handlers; what Node means by an empty loop, so
// synchronous crypto and zlib calls leave nothing to wait for), a promise that never settles.
import { afterEach, describe, expect, test } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startRuntime, type Run } from './harness.ts';

let run: Run | undefined;
afterEach(async () => {
  await run?.stop();
  run = undefined;
});

const HANDLERS = `
const fs = require('node:fs');
exports.uncaught = async (event) => {
  if (event.ok) return 'fine';
  setTimeout(() => { throw new Error('from a timer'); }, 1);
  return new Promise(() => {});
};
exports.rejection = async (event) => {
  Promise.reject(new Error('nobody catches this'));
  await new Promise((r) => setTimeout(r, 50));
  return 'too late';
};
// callback() first, then more work: the response waits until that work is done (the marker exists).
exports.waits = (event, context, callback) => {
  if (event.noWait) context.callbackWaitsForEmptyEventLoop = false;
  callback(null, { waited: event.marker });
  setTimeout(() => fs.writeFileSync(event.marker, 'x'), 30);
};
// A sync handler: null is posted once nothing of the user's is left to run.
exports.sync = (event) => {
  setTimeout(() => fs.writeFileSync(event.marker, 'x'), 30);
  return 'ignored';
};
// An unref'd timer does not hold the response back.
exports.unrefd = (event, context, callback) => {
  setInterval(() => {}, 1000).unref();
  callback(null, 'done');
};
exports.never = async () => new Promise(() => {});
// Synchronous crypto and zlib calls leave async resources that only garbage collection destroys; an idle
// server socket that is unref'd does not keep the loop alive either.
const crypto = require('node:crypto');
const zlib = require('node:zlib');
crypto.randomUUID();
exports.syncCrypto = (event, context, callback) => {
  const out = {
    uuid: crypto.randomUUID(),
    bytes: crypto.randomBytes(8).length,
    fill: crypto.randomFillSync(Buffer.alloc(4)).length,
    int: crypto.randomInt(10) < 10,
    values: crypto.getRandomValues(new Uint8Array(4)).length,
    pbkdf2: crypto.pbkdf2Sync('p', 's', 1, 8, 'sha256').length,
    scrypt: crypto.scryptSync('p', 's', 8).length,
    gzip: zlib.gunzipSync(zlib.gzipSync('abc')).toString(),
  };
  callback(null, out);
};
exports.syncReturn = () => { crypto.randomUUID(); return 'ignored'; };
exports.unrefServer = (event, context, callback) => {
  const server = require('node:net').createServer().listen(0, '127.0.0.1');
  server.unref();
  callback(null, 'served');
};
exports.neverSync = () => new Promise(() => {});
exports.twice = (event, context, callback) => {
  callback(null, 'first');
  callback(null, 'second');
  context.succeed('third');
};
exports.circular = async () => { const o = {}; o.o = o; return o; };
`;

async function start(handler: string, env?: Record<string, string>): Promise<Run> {
  run = await startRuntime({ files: { 'index.js': HANDLERS }, handler: `index.${handler}`, env });
  return run;
}

describe('uncaught errors during an invocation', () => {
  test("an uncaught exception posts that invocation's error and ends the runtime with 129", async () => {
    const r = await start('uncaught');
    expect(await r.invoke({ ok: true })).toMatchObject({ kind: 'response' });
    const result = await r.invoke({});
    expect(result).toMatchObject({ kind: 'error', errorType: 'Error' });
    if (result.kind === 'error') expect(JSON.parse(result.body.toString())).toMatchObject({ errorMessage: 'from a timer' });
    expect(await r.exited).toEqual({ code: 129, signal: null });
    // It did not ask for another invocation after the error.
    const last = r.api.requests.at(-1)!;
    expect(`${last.method} ${last.path}`).toMatch(/^POST .*\/error$/);
    expect(await r.finalStdout()).toMatch(/\tERROR\tUncaught Exception \t\{"errorType":"Error","errorMessage":"from a timer"/);
  });

  test('an unhandled rejection posts Runtime.UnhandledPromiseRejection and ends the runtime with 128', async () => {
    const r = await start('rejection');
    const result = await r.invoke({});
    expect(result).toMatchObject({ kind: 'error', errorType: 'Runtime.UnhandledPromiseRejection' });
    if (result.kind === 'error') {
      expect(JSON.parse(result.body.toString())).toMatchObject({ errorMessage: 'Error: nobody catches this' });
    }
    expect(await r.exited).toEqual({ code: 128, signal: null });
  });
});

describe('waiting for the event loop', () => {
  test('callbackWaitsForEmptyEventLoop (default): the response waits for pending timers', async () => {
    const r = await start('waits');
    const marker = join(r.taskRoot, 'm1');
    const result = await r.invoke({ marker });
    expect(result).toMatchObject({ kind: 'response' });
    expect(existsSync(marker)).toBe(true);
  });

  test('callbackWaitsForEmptyEventLoop = false: the response does not wait', async () => {
    const r = await start('waits');
    const marker = join(r.taskRoot, 'm2');
    const result = await r.invoke({ marker, noWait: true });
    if (result.kind !== 'response') throw new Error(JSON.stringify(result));
    expect(JSON.parse(result.body.toString())).toEqual({ waited: marker });
  });

  test('a sync handler gets null once its timers are done', async () => {
    const r = await start('sync');
    const marker = join(r.taskRoot, 'm3');
    const result = await r.invoke({ marker });
    if (result.kind !== 'response') throw new Error(JSON.stringify(result));
    expect(result.body.toString()).toBe('null');
    expect(existsSync(marker)).toBe(true);
  });

  test("an unref'd timer does not hold the response", async () => {
    const r = await start('unrefd');
    const result = await r.invoke({});
    if (result.kind !== 'response') throw new Error(JSON.stringify(result));
    expect(result.body.toString()).toBe('"done"');
  });

  test('an async handler whose promise never settles gets Runtime.NodeJsExit; a sync one gets null', async () => {
    const r = await start('never');
    const result = await r.invoke({});
    expect(result).toMatchObject({ kind: 'error', errorType: 'Runtime.NodeJsExit' });
    // The runtime carries on.
    expect(await r.invoke({})).toMatchObject({ kind: 'error', errorType: 'Runtime.NodeJsExit' });
    expect(await r.finalStdout()).toMatch(/\tERROR\tInvoke Error \t\{"errorType":"Runtime.NodeJsExit"/);
    await r.stop();
    const r2 = await start('neverSync');
    const result2 = await r2.invoke({});
    expect(result2).toMatchObject({ kind: 'response' });
    if (result2.kind === 'response') expect(result2.body.toString()).toBe('null');
  });

  test('synchronous crypto and zlib calls (module scope and handler) do not hold a callback response', async () => {
    const r = await start('syncCrypto');
    for (let i = 0; i < 2; i++) {
      const result = await r.invoke({});
      if (result.kind !== 'response') throw new Error(JSON.stringify(result));
      const out = JSON.parse(result.body.toString());
      expect(out).toMatchObject({ bytes: 8, fill: 4, int: true, values: 4, pbkdf2: 8, scrypt: 8, gzip: 'abc' });
      expect(out.uuid).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  test('a sync handler after a synchronous randomUUID gets null; an unref\'d server does not hold a callback', async () => {
    const r = await start('syncReturn');
    const result = await r.invoke({});
    if (result.kind !== 'response') throw new Error(JSON.stringify(result));
    expect(result.body.toString()).toBe('null');
    await r.stop();
    const r2 = await start('unrefServer');
    const result2 = await r2.invoke({});
    if (result2.kind !== 'response') throw new Error(JSON.stringify(result2));
    expect(result2.body.toString()).toBe('"served"');
  });

  test('only the first completion counts', async () => {
    const r = await start('twice');
    const result = await r.invoke({});
    if (result.kind !== 'response') throw new Error(JSON.stringify(result));
    expect(result.body.toString()).toBe('"first"');
    expect((await r.invoke({})).kind).toBe('response');
  });

  test('a result JSON.stringify cannot encode is an error, and the runtime carries on', async () => {
    const r = await start('circular');
    const result = await r.invoke({});
    expect(result).toMatchObject({ kind: 'error', errorType: 'Error' });
    if (result.kind === 'error') expect(JSON.parse(result.body.toString()).errorMessage).toBe('Unable to stringify response body');
    expect((await r.invoke({})).kind).toBe('error');
  });
});

describe('init', () => {
  test('a module that throws at load is an init error with its own type, exit 129', async () => {
    run = await startRuntime({ files: { 'app.mjs': 'class Boom extends Error { name = "Boom" }\nthrow new Boom("at load");\nexport const handler = () => 1;' }, handler: 'app.handler' });
    const result = await run.invoke({});
    expect(result).toMatchObject({ kind: 'error', errorType: 'Boom', source: 'init' });
    expect(await run.exited).toEqual({ code: 129, signal: null });
  });

  test('an unhandled rejection while the module loads is an init error, exit 128', async () => {
    run = await startRuntime({ files: { 'app.js': "Promise.reject(new Error('floating'));\nexports.handler = async () => 1;" }, handler: 'app.handler' });
    const result = await run.invoke({});
    expect(result).toMatchObject({ kind: 'error', errorType: 'Runtime.UnhandledPromiseRejection', source: 'init' });
    expect(await run.exited).toEqual({ code: 128, signal: null });
  });

  test('a streaming mode other than "response" fails init as 3.3.0 does (ReferenceError)', async () => {
    run = await startRuntime({
      files: { 'app.js': "const h = async () => {}; h[Symbol.for('aws.lambda.runtime.handler.streaming')] = 'other'; exports.handler = h;" },
      handler: 'app.handler',
    });
    const result = await run.invoke({});
    expect(result).toMatchObject({ kind: 'error', errorType: 'ReferenceError', source: 'init' });
  });

  test('a module whose top-level await nothing settles ends the runtime with 13, as Node would', async () => {
    run = await startRuntime({ files: { 'app.mjs': 'await new Promise(() => {});\nexport const handler = async () => 1;' }, handler: 'app.handler' });
    expect(await run.exited).toEqual({ code: 13, signal: null });
    expect(await run.finalStderr()).toMatch(/loading app.handler never finished/);
    expect(run.api.requests.filter((q) => q.path.includes('/init/error'))).toEqual([]);
  });

  test('a handler string with .. is Runtime.MalformedHandlerName', async () => {
    run = await startRuntime({ files: { 'app.js': 'exports.handler = async () => 1;' }, handler: 'node:../app.handler' });
    const result = await run.invoke({});
    expect(result).toMatchObject({ kind: 'error', errorType: 'Runtime.MalformedHandlerName', source: 'init' });
  });
});
