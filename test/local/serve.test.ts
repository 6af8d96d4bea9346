// Serve mode over real HTTP (undici as the client) against the fixture runtime: the AWS-emulator-style
// invoke, function errors, timeouts, payload limits both ways, Event and DryRun, Tail logs, concurrency,
// init errors, InvokeWithResponseStream (event stream, streamed as produced) and function-URL requests.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runServe, type Serving } from '../../src/local/serve-command.ts';
import { decodeMessages } from '../../src/local/event-stream.ts';
import { LogCollector, fixtureConfig, tempDir, waitFor } from './helpers.ts';

const INVOKE = '/2015-03-31/functions/function/invocations';
const STREAM = '/2021-11-15/functions/function/response-streaming-invocations';

async function serve(over: Parameters<typeof fixtureConfig>[0] = {}, concurrency = 1) {
  const logs = new LogCollector();
  const s = await runServe({ config: fixtureConfig(over), host: '127.0.0.1', port: 0, concurrency, watch: false, log: logs.sink });
  return { s, logs };
}

async function post(s: Serving, path: string, body: string | Buffer, headers: Record<string, string> = {}) {
  const res = await request(`${s.url}${path}`, { method: 'POST', body, headers });
  const bytes = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, bytes, json: () => JSON.parse(bytes.toString('utf8')) };
}

describe('serve mode', () => {
  let main: Serving;
  let logs: LogCollector;
  beforeAll(async () => {
    ({ s: main, logs } = await serve({ timeoutSec: 2 }));
  });
  afterAll(async () => {
    await main.close();
  });

  it('answers the AWS-emulator-style invoke with the function result and Lambda headers', async () => {
    const r = await post(main, INVOKE, '{"hello":"world"}');
    expect(r.status).toBe(200);
    expect(r.json().event).toEqual({ hello: 'world' });
    expect(r.headers['x-amz-executed-version']).toBe('$LATEST');
    expect(r.headers['x-amzn-requestid']).toBe(r.json().requestId);
    expect(r.headers['x-amz-function-error']).toBeUndefined();
    expect(r.headers['content-type']).toBe('application/json');
  });

  it('invokes with {} on any method of the invoke path, as AWS’s emulator does', async () => {
    const res = await request(`${main.url}${INVOKE}`);
    expect(res.statusCode).toBe(200);
    expect(((await res.body.json()) as { event: unknown }).event).toEqual({});
  });

  it('passes the client context through, decoded', async () => {
    const cc = { custom: { a: 1 } };
    const r = await post(main, INVOKE, '{}', { 'X-Amz-Client-Context': Buffer.from(JSON.stringify(cc)).toString('base64') });
    expect(JSON.parse(r.json().headers['lambda-runtime-client-context'])).toEqual(cc);
  });

  it('marks function errors with X-Amz-Function-Error', async () => {
    const r = await post(main, INVOKE, '{"mode":"error","message":"nope"}');
    expect(r.status).toBe(200);
    expect(r.headers['x-amz-function-error']).toBe('Unhandled');
    expect(r.json()).toEqual({ errorMessage: 'nope', errorType: 'FixtureError', stackTrace: [] });
  });

  it('answers a timeout with Sandbox.Timedout and serves the next request from a fresh runtime', async () => {
    const before = (await post(main, INVOKE, '{"mode":"pid"}')).json().pid;
    const r = await post(main, INVOKE, '{"mode":"sleep","ms":10000}');
    expect(r.status).toBe(200);
    expect(r.headers['x-amz-function-error']).toBe('Unhandled');
    expect(r.json()).toEqual({
      errorType: 'Sandbox.Timedout',
      errorMessage: `RequestId: ${r.headers['x-amzn-requestid']} Error: Task timed out after 2.00 seconds`,
    });
    const after = (await post(main, INVOKE, '{"mode":"pid"}')).json().pid;
    expect(after).not.toBe(before);
  });

  it('refuses a request over 6 MB with 413, never truncating it, and keeps serving', async () => {
    const big = JSON.stringify({ pad: 'x'.repeat(7 * 1024 * 1024) });
    const r = await post(main, INVOKE, big);
    expect(r.status).toBe(413);
    expect(r.headers['x-amzn-errortype']).toBe('RequestEntityTooLargeException');
    expect(r.json()).toEqual({ Type: 'User', message: 'Request must be smaller than 6291456 bytes for the InvokeFunction operation' });
    const ok = await post(main, INVOKE, '{"after":"413"}');
    expect(ok.json().event).toEqual({ after: '413' });
  });

  it('turns a response over 6 MB into Function.ResponseSizeTooLarge', async () => {
    const r = await post(main, INVOKE, JSON.stringify({ mode: 'big', bytes: 7 * 1024 * 1024 }));
    expect(r.headers['x-amz-function-error']).toBe('Unhandled');
    expect(r.json().errorType).toBe('Function.ResponseSizeTooLarge');
  });

  it('refuses a payload that is not JSON', async () => {
    const r = await post(main, INVOKE, 'not json');
    expect(r.status).toBe(400);
    expect(r.headers['x-amzn-errortype']).toBe('InvalidRequestContentException');
  });

  it('refuses an unknown invocation type', async () => {
    const r = await post(main, INVOKE, '{}', { 'X-Amz-Invocation-Type': 'Sometimes' });
    expect(r.status).toBe(400);
    expect(r.json().message).toContain("Value 'Sometimes' at 'invocationType'");
  });

  it('runs Event invocations in the background (202)', async () => {
    const r = await post(main, INVOKE, '{"mode":"log","lines":["async ran"]}', { 'X-Amz-Invocation-Type': 'Event' });
    expect(r.status).toBe(202);
    expect(r.bytes.length).toBe(0);
    const id = r.headers['x-amzn-requestid'] as string;
    await waitFor(() => logs.text.includes(`END RequestId: ${id}`), 'the async invocation to finish');
    expect(logs.text).toContain('async ran');
  });

  it('answers DryRun with 204 without invoking', async () => {
    const r = await post(main, INVOKE, '{"mode":"log","lines":["dry run must not run"]}', { 'X-Amz-Invocation-Type': 'DryRun' });
    expect(r.status).toBe(204);
    expect(logs.text).not.toContain('dry run must not run');
  });

  it('returns the last 4 KB of the invocation log with X-Amz-Log-Type: Tail', async () => {
    const r = await post(main, INVOKE, '{"mode":"log","lines":["tail me"]}', { 'X-Amz-Log-Type': 'Tail' });
    const id = r.headers['x-amzn-requestid'] as string;
    const logText = Buffer.from(r.headers['x-amz-log-result'] as string, 'base64').toString('utf8');
    expect(logText).toContain(`START RequestId: ${id}`);
    expect(logText).toContain('tail me\n');
    expect(logText).toMatch(new RegExp(`REPORT RequestId: ${id}\\tDuration: `));
    const long = await post(main, INVOKE, JSON.stringify({ mode: 'log', lines: Array(500).fill('y'.repeat(40)) }), { 'X-Amz-Log-Type': 'Tail' });
    expect(Buffer.from(long.headers['x-amz-log-result'] as string, 'base64').length).toBe(4096);
  });

  it('maps any other request to a function URL event and the answer back to HTTP', async () => {
    const res = await request(`${main.url}/some/path?name=Ada&x=1`, { method: 'GET', headers: { cookie: 'a=1; b=2', 'x-thing': 'y' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    const doc = (await res.body.json()) as { event: Record<string, any> };
    expect(doc.event).toMatchObject({
      version: '2.0',
      routeKey: '$default',
      rawPath: '/some/path',
      rawQueryString: 'name=Ada&x=1',
      cookies: ['a=1', 'b=2'],
      queryStringParameters: { name: 'Ada', x: '1' },
      isBase64Encoded: false,
      requestContext: { http: { method: 'GET', path: '/some/path' }, stage: '$default', accountId: 'anonymous' },
    });
    expect(doc.event.headers['x-thing']).toBe('y');

    const value = { statusCode: 201, headers: { 'x-custom': 'yes' }, cookies: ['c=3'], body: 'created' };
    const r2 = await request(`${main.url}/make`, { method: 'PUT', body: JSON.stringify({ mode: 'return', value }), headers: { 'content-type': 'application/json' } });
    expect(r2.statusCode).toBe(201);
    expect(r2.headers['x-custom']).toBe('yes');
    expect(r2.headers['set-cookie']).toBe('c=3');
    expect(await r2.body.text()).toBe('created');

    const r3 = await request(`${main.url}/fail`, { method: 'POST', body: JSON.stringify({ mode: 'error' }), headers: { 'content-type': 'application/json' } });
    expect(r3.statusCode).toBe(502);
    await r3.body.dump();
  });
});

describe('serve mode streaming', () => {
  let s: Serving;
  let dir: ReturnType<typeof tempDir>;
  beforeAll(async () => {
    ({ s } = await serve({ timeoutSec: 30 }));
    dir = tempDir();
  });
  afterAll(async () => {
    await s.close();
    dir.cleanup();
  });

  it('streams InvokeWithResponseStream as event-stream PayloadChunks while the function is still running', async () => {
    const release = join(dir.dir, 'release-1');
    const res = await request(`${s.url}${STREAM}`, {
      method: 'POST',
      body: JSON.stringify({ mode: 'stream', chunks: ['first;', 'second;', 'third'], releaseFile: release, contentType: 'text/plain' }),
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain');
    const it = res.body[Symbol.asyncIterator]();
    let got = Buffer.alloc(0);
    // The fixture waits for the release file before its second chunk: the first must arrive before that.
    while (decodeMessages(got).length < 1) got = Buffer.concat([got, Buffer.from((await it.next()).value as Buffer)]);
    const first = decodeMessages(got);
    expect(first[0]!.headers[':event-type']).toBe('PayloadChunk');
    expect(first[0]!.payload.toString()).toBe('first;');
    writeFileSync(release, '');
    for (;;) {
      const n = await it.next();
      if (n.done) break;
      got = Buffer.concat([got, Buffer.from(n.value as Buffer)]);
    }
    const msgs = decodeMessages(got);
    expect(msgs.filter((m) => m.headers[':event-type'] === 'PayloadChunk').map((m) => m.payload.toString()).join('')).toBe('first;second;third');
    expect(msgs.at(-1)!.headers[':event-type']).toBe('InvokeComplete');
    expect(JSON.parse(msgs.at(-1)!.payload.toString())).toEqual({});
  });

  it('reports a mid-stream error in InvokeComplete', async () => {
    const r = await post(s, STREAM, JSON.stringify({ mode: 'stream', chunks: ['partial', 'never'], failAfter: 1 }));
    const msgs = decodeMessages(r.bytes);
    expect(msgs[0]!.payload.toString()).toBe('partial');
    const done = JSON.parse(msgs.at(-1)!.payload.toString());
    expect(done.ErrorCode).toBe('FixtureStreamError');
    expect(JSON.parse(done.ErrorDetails).errorMessage).toBe('fixture mid-stream failure');
  });

  it('sends a buffered answer as one PayloadChunk', async () => {
    const r = await post(s, STREAM, '{"mode":"return","value":{"ok":true}}', { 'X-Amz-Log-Type': 'Tail' });
    const msgs = decodeMessages(r.bytes);
    expect(msgs.map((m) => m.headers[':event-type'])).toEqual(['PayloadChunk', 'InvokeComplete']);
    expect(msgs[0]!.payload.toString()).toBe('{"ok":true}');
    expect(Buffer.from(JSON.parse(msgs[1]!.payload.toString()).LogResult, 'base64').toString()).toContain('REPORT RequestId');
  });

  it('streams a function URL response with the HTTP prelude as it is produced', async () => {
    const release = join(dir.dir, 'release-2');
    const prelude = JSON.stringify({ statusCode: 201, headers: { 'content-type': 'text/plain', 'x-streamed': 'yes' }, cookies: ['s=1'] });
    const body = JSON.stringify({
      mode: 'stream',
      contentType: 'application/vnd.awslambda.http-integration-response',
      chunks: [`${prelude}\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000hello `, 'world'],
      releaseFile: release,
    });
    const res = await request(`${s.url}/chat`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    expect(res.statusCode).toBe(201);
    expect(res.headers['x-streamed']).toBe('yes');
    expect(res.headers['set-cookie']).toBe('s=1');
    const it = res.body[Symbol.asyncIterator]();
    const first = Buffer.from((await it.next()).value as Buffer).toString();
    expect(first).toBe('hello ');
    writeFileSync(release, '');
    let rest = '';
    for (;;) {
      const n = await it.next();
      if (n.done) break;
      rest += Buffer.from(n.value as Buffer).toString();
    }
    expect(rest).toBe('world');
  });

  it('answers 502 and keeps serving when a function sends headers HTTP cannot carry', async () => {
    const bad = JSON.stringify({ statusCode: 200, headers: { 'x-bad': 'line\nbreak' } });
    const streamed = JSON.stringify({
      mode: 'stream',
      contentType: 'application/vnd.awslambda.http-integration-response',
      chunks: [`${bad}\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000body`],
    });
    const r1 = await request(`${s.url}/bad-stream`, { method: 'POST', body: streamed });
    expect(r1.statusCode).toBe(502);
    await r1.body.dump();
    const buffered = JSON.stringify({ mode: 'return', value: { statusCode: 200, headers: { 'bad header': 'x' }, body: 'b' } });
    const r2 = await request(`${s.url}/bad-buffered`, { method: 'POST', body: buffered });
    expect(r2.statusCode).toBe(502);
    await r2.body.dump();
    const ok = await post(s, INVOKE, '{"mode":"pid"}');
    expect(ok.status).toBe(200);
  });

  it('buffers a streamed answer for a plain Invoke', async () => {
    const r = await post(s, INVOKE, JSON.stringify({ mode: 'stream', chunks: ['a', 'b', 'c'] }));
    expect(r.bytes.toString()).toBe('abc');
  });
});

describe('serve mode concurrency and init errors', () => {
  it('queues concurrent requests on one runtime', async () => {
    const { s } = await serve();
    try {
      const rs = await Promise.all([1, 2, 3].map(() => post(s, INVOKE, '{"mode":"sleep","ms":200}')));
      expect(rs.map((r) => r.status)).toEqual([200, 200, 200]);
      expect(rs.every((r) => r.json().slept === 200)).toBe(true);
    } finally {
      await s.close();
    }
  });

  it('serves concurrent requests from up to N runtimes', async () => {
    const { s } = await serve({}, 3);
    try {
      const rs = await Promise.all([1, 2, 3, 4, 5, 6].map(() => post(s, INVOKE, '{"mode":"pid"}')));
      expect(rs.every((r) => r.status === 200)).toBe(true);
      const pids = new Set(rs.map((r) => r.json().pid));
      expect(pids.size).toBeGreaterThanOrEqual(1);
      expect(pids.size).toBeLessThanOrEqual(3);
    } finally {
      await s.close();
    }
  });

  it('answers every request with the init error while init fails', async () => {
    const { s } = await serve({ handler: 'initerror.handler' });
    try {
      for (let i = 0; i < 2; i++) {
        const r = await post(s, INVOKE, '{}');
        expect(r.status).toBe(200);
        expect(r.headers['x-amz-function-error']).toBe('Unhandled');
        expect(r.json()).toEqual({ errorMessage: 'fixture init failed', errorType: 'FixtureInitError' });
      }
    } finally {
      await s.close();
    }
  });
});

describe('serve --watch', () => {
  it('serves the new code after a file of the task root changes', async () => {
    const dir = tempDir({ 'fixture-version.txt': 'one' });
    const logs = new LogCollector();
    const s = await runServe({ config: fixtureConfig({ taskRoot: dir.dir }), host: '127.0.0.1', port: 0, concurrency: 1, watch: true, log: logs.sink });
    try {
      expect((await post(s, INVOKE, '{}')).json().codeVersion).toBe('one');
      writeFileSync(join(dir.dir, 'fixture-version.txt'), 'two');
      await waitFor(() => logs.text.includes('fixture-version.txt changed'), 'the change to be noticed');
      expect((await post(s, INVOKE, '{}')).json().codeVersion).toBe('two');
    } finally {
      await s.close();
      dir.cleanup();
    }
  });
});
