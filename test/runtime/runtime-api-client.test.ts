// The Runtime API client on real sockets: against the project's emulator (headers read and sent, URL-encoded
// ids, invocation-id echo, streaming with trailers, backpressure) and against a scripted raw server
// (keep-alive, transparent reconnect, malformed answers refused with clear errors).
import { afterEach, describe, expect, it } from 'vitest';
import { RuntimeApiServer } from '../../src/local/runtime-api-server.ts';
import { RuntimeApiClient, parseRuntimeApiAddress } from '../../src/runtime/runtime-api-client.ts';
import { HttpProtocolError, RuntimeApiError } from '../../src/runtime/errors.ts';
import { VERSION } from '../../src/runtime/wire.ts';
import { readFileSync } from 'node:fs';
import { startRawServer, response, type RawServer } from './raw-server.ts';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function emulator(opts: ConstructorParameters<typeof Object>[0] = {}) {
  const server = await RuntimeApiServer.start({ record: true, ...(opts as object) });
  const client = new RuntimeApiClient(server.address);
  cleanups.push(() => server.close(), () => client.close());
  return { server, client };
}

async function raw(onRequest: Parameters<typeof startRawServer>[0]): Promise<{ server: RawServer; client: RuntimeApiClient }> {
  const server = await startRawServer(onRequest);
  const client = new RuntimeApiClient(server.address);
  cleanups.push(() => server.close(), () => client.close());
  return { server, client };
}

function header(pairs: Array<[string, string]>, name: string): string | undefined {
  return pairs.find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
}

describe('addresses', () => {
  it('parses host:port and [v6]:port, and refuses anything else', () => {
    expect(parseRuntimeApiAddress('127.0.0.1:9001')).toMatchObject({ host: '127.0.0.1', port: 9001 });
    expect(parseRuntimeApiAddress('[::1]:9001')).toMatchObject({ host: '::1', port: 9001 });
    expect(() => parseRuntimeApiAddress('http://127.0.0.1:9001')).toThrow(/AWS_LAMBDA_RUNTIME_API must be host:port/);
    expect(() => parseRuntimeApiAddress('localhost')).toThrow(RuntimeApiError);
  });

  it('the User-Agent version is the package version', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
  });
});

describe('against the emulator', () => {
  it('reads every /next header', async () => {
    const { server, client } = await emulator({ invocationIds: true });
    server.enqueue({
      body: Buffer.from('{"x":1}'),
      requestId: 'req-1',
      functionArn: 'arn:aws:lambda:us-east-1:1:function:f:live',
      traceId: 'Root=1-2-3;Parent=4;Sampled=1',
      contentType: 'text/plain',
      headers: {
        'Lambda-Runtime-Client-Context': '{"custom":{"é":1}}',
        'Lambda-Runtime-Cognito-Identity': '{"cognitoIdentityId":"i","cognitoIdentityPoolId":"p"}',
        'Lambda-Runtime-Aws-Tenant-Id': 'tenant-7',
      },
    });
    const inv = await client.next();
    expect(inv.requestId).toBe('req-1');
    expect(inv.body.toString()).toBe('{"x":1}');
    expect(inv.deadlineMs).toBeGreaterThan(Date.now());
    expect(inv.functionArn).toBe('arn:aws:lambda:us-east-1:1:function:f:live');
    expect(inv.traceId).toBe('Root=1-2-3;Parent=4;Sampled=1');
    expect(inv.contentType).toBe('text/plain');
    expect(inv.clientContext).toBe('{"custom":{"é":1}}');
    expect(inv.cognitoIdentity).toBe('{"cognitoIdentityId":"i","cognitoIdentityPoolId":"p"}');
    expect(inv.tenantId).toBe('tenant-7');
    expect(inv.invocationId).toMatch(/^[0-9a-f-]{36}$/);
    const get = server.requests[0]!;
    expect(get.method).toBe('GET');
    expect(header(get.headers, 'user-agent')).toBe(`tandem/${VERSION}`);
  });

  it('tolerates missing or bad optional headers (deadline 0, ARN empty)', async () => {
    const { server, client } = await emulator();
    server.enqueue({
      body: Buffer.alloc(0),
      traceId: '',
      contentType: null,
      headers: { 'Lambda-Runtime-Deadline-Ms': 'soon', 'Lambda-Runtime-Invoked-Function-Arn': '' },
    });
    const inv = await client.next();
    expect(inv.deadlineMs).toBe(0);
    expect(inv.functionArn).toBe('');
    expect(inv.traceId).toBeUndefined();
    expect(inv.contentType).toBeUndefined();
    expect(inv.invocationId).toBeUndefined();
    expect(inv.body.length).toBe(0);
  });

  it('posts a response with Content-Type, Content-Length and User-Agent, id URL-encoded', async () => {
    const { server, client } = await emulator();
    const pending = server.enqueue({ body: Buffer.from('{}'), requestId: 'id/with space?&' });
    const inv = await client.next();
    const out = await client.postResponse(inv, 'application/json', Buffer.from('{"ok": true}'));
    expect(out.status).toBe(202);
    const result = await pending.result;
    expect(result).toMatchObject({ kind: 'response', contentType: 'application/json', streamed: false });
    expect(result.body.toString()).toBe('{"ok": true}');
    const post = server.requests[1]!;
    expect(post.path).toBe('/2018-06-01/runtime/invocation/id%2Fwith%20space%3F%26/response');
    expect(post.headers.map(([k]) => k)).toEqual(['Host', 'Content-Type', 'User-Agent', 'Content-Length']);
    expect(header(post.headers, 'content-length')).toBe('12');
    expect(post.trailers).toBeNull();
  });

  it('posts a large response body intact', async () => {
    const { server, client } = await emulator();
    const pending = server.enqueue({ body: Buffer.from('{}') });
    const inv = await client.next();
    const body = Buffer.alloc(5 * 1024 * 1024, 'a');
    expect((await client.postResponse(inv, 'application/json', body)).status).toBe(202);
    expect((await pending.result).body.equals(body)).toBe(true);
  });

  it('posts an invocation error as AWS Python does: content-type + X-Ray cause, no error type; echoes the invocation id', async () => {
    const { server, client } = await emulator({ invocationIds: true });
    server.enqueue({ body: Buffer.from('{}') });
    const inv = await client.next();
    const doc = Buffer.from('{"errorMessage": "bad", "errorType": "ValueError", "requestId": "", "stackTrace": []}');
    const out = await client.postError(inv, { body: doc, contentType: 'application/json', xrayCause: '{"working_directory": "/"}' });
    expect(out.status).toBe(202);
    const post = server.requests[1]!;
    expect(post.path).toMatch(/\/error$/);
    expect(header(post.headers, 'content-type')).toBe('application/json');
    expect(header(post.headers, 'lambda-runtime-function-xray-error-cause')).toBe('{"working_directory": "/"}');
    expect(header(post.headers, 'lambda-runtime-function-error-type')).toBeUndefined();
    expect(header(post.headers, 'lambda-runtime-invocation-id')).toBe(inv.invocationId);
    expect(post.body.equals(doc)).toBe(true);
  });

  it('reports a stale invocation id as the 410 the Runtime API answers', async () => {
    const { server, client } = await emulator({ invocationIds: true });
    server.enqueue({ body: Buffer.from('{}') });
    const inv = await client.next();
    const out = await client.postResponse({ ...inv, invocationId: 'stale' }, 'application/json', Buffer.from('1'));
    expect(out.status).toBe(410);
    expect(out.body.toString()).toMatch(/InvokeTimeout/);
  });

  it('posts an init error with the error-type header and no content-type', async () => {
    const { server, client } = await emulator();
    const out = await client.postInitError({ body: Buffer.from('{"errorType": "Runtime.ImportModuleError"}'), errorType: 'Runtime.ImportModuleError' });
    expect(out.status).toBe(202);
    const post = server.requests[0]!;
    expect(post.path).toBe('/2018-06-01/runtime/init/error');
    expect(header(post.headers, 'lambda-runtime-function-error-type')).toBe('Runtime.ImportModuleError');
    expect(header(post.headers, 'content-type')).toBeUndefined();
    expect(server.initError?.errorType).toBe('Runtime.ImportModuleError');
  });

  it('streams a response: headers at once, chunks as written, an empty trailer section at the end', async () => {
    const { server, client } = await emulator();
    const seen: string[] = [];
    let first!: () => void;
    const firstChunk = new Promise<void>((r) => (first = r));
    const pending = server.enqueue(
      { body: Buffer.from('{}') },
      {
        onChunk: (c) => {
          seen.push(c.toString());
          first();
        },
      },
    );
    const inv = await client.next();
    const stream = client.openStream(inv, 'text/plain');
    await stream.write(Buffer.from('one;'));
    await firstChunk; // arrived before the stream ended
    expect(seen.join('')).toBe('one;');
    await stream.write(Buffer.alloc(0)); // an empty write must not end the body
    await stream.write(Buffer.alloc(100_000, 'b'));
    const out = await stream.end();
    expect(out.status).toBe(202);
    const result = await pending.result;
    expect(result).toMatchObject({ kind: 'response', contentType: 'text/plain', streamed: true });
    expect(result.body.toString()).toBe('one;' + 'b'.repeat(100_000));
    const post = server.requests[1]!;
    expect(header(post.headers, 'lambda-runtime-function-response-mode')).toBe('streaming');
    expect(header(post.headers, 'transfer-encoding')).toBe('chunked');
    expect(header(post.headers, 'trailer')).toBe('Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body');
    expect(post.trailers).toEqual([]);
  });

  it('small chunks written in one tick are gathered (several batches, sizes up to 4 KiB, a large chunk between), bytes in order', async () => {
    const { server, client } = await emulator();
    const pending = server.enqueue({ body: Buffer.from('{}') });
    const inv = await client.next();
    const stream = client.openStream(inv, 'application/octet-stream');
    const expected: Buffer[] = [];
    const writes: Array<Promise<void>> = [];
    const put = (b: Buffer) => {
      expected.push(b);
      writes.push(stream.write(b));
    };
    put(Buffer.from('first'));
    for (let i = 0; i < 3000; i++) {
      const size = [1, 64, 200, 4096, 4000, 17][i % 6]!;
      put(Buffer.alloc(size, 33 + (i % 90)));
      if (i === 1500) put(Buffer.alloc(50_000, 'L'));
      if (i === 2000) {
        // A chunk in pieces (a large chunk frame's bin, as read from the pipe): sent without joining.
        const pieces = [Buffer.alloc(40_000, 'P'), Buffer.alloc(30_000, 'Q')];
        expected.push(...pieces);
        writes.push(stream.write(pieces));
      }
    }
    await Promise.all(writes);
    expect((await stream.end()).status).toBe(202);
    const result = await pending.result;
    expect(result.body.equals(Buffer.concat(expected))).toBe(true);
  });

  it('ends a failed stream with the error trailers (type, base64 body)', async () => {
    const { server, client } = await emulator();
    const pending = server.enqueue({ body: Buffer.from('{}') });
    const inv = await client.next();
    const stream = client.openStream(inv, 'application/octet-stream');
    await stream.write(Buffer.from('partial;'));
    const doc = Buffer.from('{"errorMessage": "mid-stream é", "errorType": "RuntimeError"}');
    expect((await stream.fail('RuntimeError', doc)).status).toBe(202);
    const result = await pending.result;
    expect(result).toMatchObject({ kind: 'error', errorType: 'RuntimeError', source: 'runtime', streamed: true });
    expect(result.body.equals(doc)).toBe(true);
    const post = server.requests[1]!;
    expect(post.body.toString()).toBe('partial;');
    expect(post.trailers).toEqual([
      ['Lambda-Runtime-Function-Error-Type', 'RuntimeError'],
      ['Lambda-Runtime-Function-Error-Body', doc.toString('base64')],
    ]);
  });

  it('stream writes wait while the Runtime API is not reading, and resume when it does', async () => {
    const { server, client } = await emulator();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let got = 0;
    const pending = server.enqueue({ body: Buffer.from('{}') }, { onChunk: (c) => ((got += c.length), gate) });
    const inv = await client.next();
    const stream = client.openStream(inv, 'application/octet-stream');
    const piece = Buffer.alloc(1024 * 1024, 'z');
    // Write until a write is left waiting (the server holds the request paused, the socket fills up).
    let waiting: Promise<void> | undefined;
    let written = 0;
    for (let i = 0; i < 64 && !waiting; i++) {
      const p = stream.write(piece);
      written += piece.length;
      const settled = await Promise.race([p.then(() => true), new Promise<false>((r) => setImmediate(() => r(false)))]);
      if (!settled) waiting = p;
    }
    expect(waiting).toBeDefined();
    let resolved = false;
    void waiting!.then(() => (resolved = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(resolved).toBe(false);
    release();
    await waiting;
    expect((await stream.end()).status).toBe(202);
    const result = await pending.result;
    expect(result.kind).toBe('response');
    expect(got).toBe(written);
  });
});

describe('against a scripted server', () => {
  it('keeps one connection for successive requests', async () => {
    const { server, client } = await raw((req, socket) => {
      socket.write(
        req.method === 'GET'
          ? response(200, '{}', { 'Lambda-Runtime-Aws-Request-Id': `r${req.connection}` })
          : response(202, '{"status":"OK"}'),
      );
    });
    for (let i = 0; i < 3; i++) {
      const inv = await client.next();
      await client.postResponse(inv, 'application/json', Buffer.from('1'));
    }
    expect(server.requests).toHaveLength(6);
    expect(server.connections).toBe(1);
  });

  it('reconnects transparently when the server closed an idle connection', async () => {
    const { server, client } = await raw((req, socket) => {
      socket.end(response(200, '{}', { 'Lambda-Runtime-Aws-Request-Id': 'r' }));
    });
    await client.next();
    await new Promise((r) => setTimeout(r, 20));
    const inv = await client.next();
    expect(inv.requestId).toBe('r');
    expect(server.connections).toBe(2);
  });

  it('retries once when a reused connection dies before answering', async () => {
    const { server, client } = await raw((req, socket, index) => {
      if (index === 1) socket.destroy(); // the second request: the connection just vanishes
      else socket.write(response(200, '{}', { 'Lambda-Runtime-Aws-Request-Id': `r${index}` }));
    });
    await client.next();
    const inv = await client.next();
    expect(inv.requestId).toBe('r2');
    expect(server.connections).toBe(2);
  });

  it('with pipelineNext, a POST and the next GET /next leave together and next() takes that answer', async () => {
    let n = 0;
    const server = await startRawServer((req, socket) => {
      socket.write(
        req.method === 'GET'
          ? response(200, '{}', { 'Lambda-Runtime-Aws-Request-Id': `r${++n}` })
          : response(202, '{"status":"OK"}'),
      );
    });
    const client = new RuntimeApiClient(server.address);
    cleanups.push(() => server.close(), () => client.close());
    const first = await client.next();
    await client.postResponse(first, 'application/json', Buffer.from('1'), { pipelineNext: true });
    const second = await client.next();
    await client.postError(second, { body: Buffer.from('{}'), contentType: 'application/json' }, { pipelineNext: true });
    const third = await client.next();
    expect([first.requestId, second.requestId, third.requestId]).toEqual(['r1', 'r2', 'r3']);
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /2018-06-01/runtime/invocation/next',
      'POST /2018-06-01/runtime/invocation/r1/response',
      'GET /2018-06-01/runtime/invocation/next',
      'POST /2018-06-01/runtime/invocation/r2/error',
      'GET /2018-06-01/runtime/invocation/next',
    ]);
    expect(server.connections).toBe(1);
  });

  it('with pipelineNext, answers arriving in one read are split right', async () => {
    let pendingPost: import('node:net').Socket | undefined;
    let n = 0;
    const server = await startRawServer((req, socket) => {
      if (req.method === 'POST') pendingPost = socket;
      else if (n === 0) socket.write(response(200, '{}', { 'Lambda-Runtime-Aws-Request-Id': `r${++n}` }));
      else pendingPost!.write(response(202, '{"status":"OK"}') + response(200, '{"n":2}', { 'Lambda-Runtime-Aws-Request-Id': `r${++n}` }));
    });
    const client = new RuntimeApiClient(server.address);
    cleanups.push(() => server.close(), () => client.close());
    const first = await client.next();
    expect((await client.postResponse(first, 'application/json', Buffer.from('1'), { pipelineNext: true })).status).toBe(202);
    const second = await client.next();
    expect(second.requestId).toBe('r2');
    expect(second.body.toString()).toBe('{"n":2}');
  });

  it('with pipelineNext, a connection lost after the POST answer: next() asks again on a new one', async () => {
    const server = await startRawServer((req, socket, index) => {
      if (index === 2) socket.destroy(); // the pipelined GET /next
      else socket.write(req.method === 'GET' ? response(200, '{}', { 'Lambda-Runtime-Aws-Request-Id': `r${index}` }) : response(202, '{}'));
    });
    const client = new RuntimeApiClient(server.address);
    cleanups.push(() => server.close(), () => client.close());
    const first = await client.next();
    await client.postResponse(first, 'application/json', Buffer.from('1'), { pipelineNext: true });
    // The pipelined GET lost its connection before any answer: next() asks again on a fresh one.
    expect((await client.next()).requestId).toBe('r3');
    expect(server.connections).toBe(2);
  });

  it('/next without a request id is an error', async () => {
    const { client } = await raw((req, socket) => socket.write(response(200, '{}')));
    await expect(client.next()).rejects.toThrow(/GET \/next answered without Lambda-Runtime-Aws-Request-Id/);
  });

  it('/next answered 500 is an error carrying the status', async () => {
    const { client } = await raw((req, socket) => socket.write(response(500, '{"errorType":"InternalServerError"}')));
    const err = await client.next().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RuntimeApiError);
    expect((err as RuntimeApiError).status).toBe(500);
    expect((err as Error).message).toMatch(/GET \/next answered 500: \{"errorType":"InternalServerError"\}/);
  });

  it('POST statuses are returned, not thrown', async () => {
    const statuses = [400, 403, 410, 413, 500];
    let i = 0;
    const { client } = await raw((req, socket) => {
      socket.write(req.method === 'GET' ? response(200, '{}', { 'Lambda-Runtime-Aws-Request-Id': 'r' }) : response(statuses[i++]!, '{}'));
    });
    const inv = await client.next();
    for (const s of statuses) expect((await client.postResponse(inv, 'application/json', Buffer.from('1'))).status).toBe(s);
  });

  const malformed: Array<[string, string, RegExp]> = [
    ['a bad status line', 'HTTP/1.1 OK\r\n\r\n', /bad status line/],
    ['a bad Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: 1.5\r\n\r\n', /bad Content-Length/],
    ['two Content-Lengths', 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n', /more than one Content-Length/],
    ['a gzip transfer-coding', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n', /unsupported Transfer-Encoding "gzip"/],
    ['an oversized head', `HTTP/1.1 200 OK\r\nX: ${'y'.repeat(70_000)}\r\n\r\n`, /response head larger than 65536 bytes/],
    ['a body cut short', 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc', /connection closed in the middle of a response/],
    ['bytes after the answer', 'HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: r\r\nContent-Length: 0\r\n\r\nGARBAGE', /unexpected bytes after the response/],
  ];
  for (const [what, bytes, pattern] of malformed) {
    it(`refuses ${what} with a clear error`, async () => {
      const { client } = await raw((req, socket) => socket.end(bytes));
      const err = await client.next().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RuntimeApiError);
      expect((err as Error).message).toMatch(pattern);
      if (!/cut short/.test(what)) expect(err).toBeInstanceOf(HttpProtocolError);
    });
  }

  it('a refused connection is a RuntimeApiError', async () => {
    const server = await startRawServer(() => undefined);
    const address = server.address;
    await server.close();
    const client = new RuntimeApiClient(address);
    cleanups.push(() => client.close());
    const err = await client.next().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RuntimeApiError);
    expect((err as Error).message).toMatch(/ECONNREFUSED/);
  });
});
