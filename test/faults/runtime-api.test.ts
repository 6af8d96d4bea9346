// Fault class 3: the Runtime API misbehaving (errors, resets, garbage, going away) or misconfigured,
// against the real bootstrap with a Python handler. As the spec and AWS's clients: a 5xx or a broken
// connection ends the runtime (status 1), a 4xx on a POST is logged and the loop goes on. Each end is
// explained by exactly one `tandem:` line (no traceback, from Node or the worker), and the worker goes
// with the runtime.
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { response, startRawServer, type RawRequest, type RawServer } from '../runtime/raw-server.ts';
import { json, start, tandemLines, type Run } from './harness.ts';

const servers: RawServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function api(onRequest: (req: RawRequest, socket: Socket, index: number) => void): Promise<RawServer> {
  const s = await startRawServer(onRequest);
  servers.push(s);
  return s;
}

const next = (id: string, body = '{}') =>
  response(200, body, { 'Content-Type': 'application/json', 'Lambda-Runtime-Aws-Request-Id': id, 'Lambda-Runtime-Deadline-Ms': String(Date.now() + 30_000) });
const gets = (s: RawServer) => s.requests.filter((q) => q.method === 'GET').length;

/** The runtime ended with status 1, said why in one line matching `why`, and left nothing behind. */
async function endsWith(r: Run, why: RegExp): Promise<void> {
  expect(await r.exit).toEqual({ code: 1, signal: null });
  expect(tandemLines(r)).toEqual([expect.stringMatching(why)]);
  expect(r.stderr()).not.toMatch(/Traceback|    at /);
  await r.noOrphans();
}

describe('GET /next', () => {
  it('answered 500: the runtime ends', async () => {
    const s = await api((q, sock) => sock.write(response(500, '{"errorType":"ServiceException"}')));
    const r = await start({ env: { AWS_LAMBDA_RUNTIME_API: s.address } });
    await endsWith(r, /^tandem: GET \/next failed: GET \/next answered 500/);
  });

  it('the connection reset without an answer: the runtime ends', async () => {
    const s = await api((q, sock) => sock.destroy());
    const r = await start({ env: { AWS_LAMBDA_RUNTIME_API: s.address } });
    await endsWith(r, /^tandem: GET \/next failed: /);
  });

  it('garbage instead of HTTP: the runtime ends', async () => {
    const s = await api((q, sock) => sock.end('SSH-2.0-OpenSSH\r\n\r\n'));
    const r = await start({ env: { AWS_LAMBDA_RUNTIME_API: s.address } });
    await endsWith(r, /^tandem: GET \/next failed: .*malformed HTTP/);
  });

  it('the Runtime API goes away after an invocation: the POST and the next /next fail, the runtime ends', async () => {
    let server!: RawServer;
    server = await api((q, sock) => {
      if (q.method === 'GET') return void sock.write(next('r1'));
      void server.close(); // gone before answering the POST
    });
    const r = await start({ env: { AWS_LAMBDA_RUNTIME_API: server.address } });
    await endsWith(r, /^tandem: GET \/next failed: /);
  });

  it('nothing listening at the address: the runtime ends', async () => {
    const s = await api(() => undefined);
    const address = s.address;
    await s.close();
    const r = await start({ env: { AWS_LAMBDA_RUNTIME_API: address } });
    await endsWith(r, /^tandem: GET \/next failed: .*ECONNREFUSED/);
  });
});

describe('POSTs', () => {
  it('a response answered 500: the runtime ends without asking for another invocation', async () => {
    const s = await api((q, sock) => sock.write(q.method === 'GET' ? next(`r${gets(s)}`) : response(500, '{"errorType":"X"}')));
    const r = await start({ env: { AWS_LAMBDA_RUNTIME_API: s.address, TANDEM_PIPELINE: '0' } });
    await endsWith(r, /^tandem: the Runtime API answered 500 to the response for r1/);
    expect(gets(s)).toBe(1);
  });

  for (const status of [400, 403, 410, 413]) {
    it(`a response answered ${status}: logged (silently by default), the next invocation is served`, async () => {
      const s = await api((q, sock) => {
        if (q.method === 'GET') {
          if (gets(s) <= 2) sock.write(next(`r${gets(s)}`));
          return; // then park /next
        }
        sock.write(response(q.path.includes('/r1/') ? status : 202, '{}'));
      });
      const r = await start({ env: { AWS_LAMBDA_RUNTIME_API: s.address } });
      while (s.requests.filter((q) => q.method === 'POST').length < 2) await new Promise((res) => setTimeout(res, 10));
      const postR2 = s.requests.find((q) => q.method === 'POST' && q.path.includes('/r2/'))!;
      expect(json(postR2.body)).toMatchObject({ count: 2 });
      expect(tandemLines(r)).toEqual([]);
      r.child.kill('SIGTERM');
      expect(await r.exit).toEqual({ code: null, signal: 'SIGTERM' });
      await r.noOrphans();
    });
  }

  it('the init error answered 500: the runtime still ends with status 1, saying so', async () => {
    const s = await api((q, sock) => sock.write(response(500, '{}')));
    const r = await start({ handler: 'missing.handler', env: { AWS_LAMBDA_RUNTIME_API: s.address } });
    await endsWith(r, /^tandem: the Runtime API answered 500 to the init error$/);
  });
});

describe('AWS_LAMBDA_RUNTIME_API misconfigured', () => {
  it('not host:port: one line, never a traceback after it (the worker started by bootstrap goes quietly)', async () => {
    // The worker's pipe breaks while it starts: it used to print a BrokenPipeError traceback now and then.
    const runs = await Promise.all([1, 2, 3, 4].map(() => start({ env: { AWS_LAMBDA_RUNTIME_API: 'garbage' } })));
    for (const r of runs) {
      await endsWith(r, /^tandem: AWS_LAMBDA_RUNTIME_API must be host:port, got "garbage"$/);
      expect(r.stderr()).toBe('tandem: AWS_LAMBDA_RUNTIME_API must be host:port, got "garbage"\n');
    }
  });

  it('unset: one line', async () => {
    const r = await start({ env: { AWS_LAMBDA_RUNTIME_API: undefined } });
    await endsWith(r, /^tandem: AWS_LAMBDA_RUNTIME_API is not set/);
  });
});
