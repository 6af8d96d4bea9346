// The invocation loop's status handling: 500 ends the runtime, 400/403/410/413 are
// logged and the loop carries on; host outcomes (died, error with exit, streamed) end or continue as they
// should. In-process with the real client against a scripted server, plus one run of the real bootstrap.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runLoop } from '../../src/runtime/loop.ts';
import { RuntimeApiClient } from '../../src/runtime/runtime-api-client.ts';
import type { ExitStatus, Host, InvokeOutcome } from '../../src/runtime/types.ts';
import { response, startRawServer, type RawRequest, type RawServer } from './raw-server.ts';
import { BOOTSTRAP, realPython } from './run-bootstrap.ts';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A server that serves `invocations` /next answers (then holds /next open), and answers POSTs with `postStatus`. */
async function scripted(invocations: number, postStatus: (req: RawRequest) => number, nextStatus = 200): Promise<RawServer & { nextCount(): number }> {
  let served = 0;
  const server = await startRawServer((req, socket) => {
    if (req.method === 'GET') {
      if (served >= invocations) return; // park
      served++;
      socket.write(nextStatus === 200 ? response(200, '{}', { 'Lambda-Runtime-Aws-Request-Id': `r${served}` }) : response(nextStatus, '{}'));
    } else {
      const status = postStatus(req);
      socket.write(response(status, status === 202 ? '{"status":"OK"}' : '{"errorType":"X"}'));
    }
  });
  cleanups.push(() => server.close());
  return Object.assign(server, { nextCount: () => server.requests.filter((r) => r.method === 'GET').length });
}

function fakeHost(outcomes: InvokeOutcome[]): Host {
  let i = 0;
  return {
    init: async () => ({ ok: true }),
    invoke: async () => outcomes[Math.min(i++, outcomes.length - 1)]!,
    shutdown: async () => undefined,
  };
}

async function drive(server: RawServer, host: Host, until: () => boolean, pipeline?: boolean): Promise<{ stopped: { status: ExitStatus; reason?: string } | undefined }> {
  const api = new RuntimeApiClient(server.address);
  cleanups.push(() => api.close());
  const result: { stopped: { status: ExitStatus; reason?: string } | undefined } = { stopped: undefined };
  runLoop({ api, host, pipeline, stop: (status, reason) => void (result.stopped = { status, reason }) });
  for (let i = 0; i < 500 && !until() && !result.stopped; i++) await new Promise((r) => setTimeout(r, 5));
  return result;
}

const response1: InvokeOutcome = { kind: 'response', contentType: 'application/json', body: Buffer.from('1') };

describe('status handling', () => {
  for (const status of [400, 403, 410, 413]) {
    it(`a POST answered ${status} is logged and the loop goes on to /next`, async () => {
      const server = await scripted(2, () => status);
      const { stopped } = await drive(server, fakeHost([response1]), () => server.nextCount() >= 3);
      expect(stopped).toBeUndefined();
      expect(server.nextCount()).toBe(3);
      expect(server.requests.filter((r) => r.method === 'POST')).toHaveLength(2);
      // Each POST went out with the next GET /next right behind it, on the one connection.
      expect(server.requests.map((r) => r.method)).toEqual(['GET', 'POST', 'GET', 'POST', 'GET']);
      expect(server.connections).toBe(1);
    });
  }

  it('a POST answered 413 with Connection: close (a server that did not read the body): the pipelined /next is asked again on a new connection', async () => {
    let served = 0;
    const ended = new WeakSet<object>();
    const server = await startRawServer((req, socket) => {
      if (req.method === 'GET') {
        if (served >= 2 || ended.has(socket)) return;
        served++;
        socket.write(response(200, '{}', { 'Lambda-Runtime-Aws-Request-Id': `r${served}` }));
      } else {
        ended.add(socket);
        socket.end(response(413, '{"errorType":"RequestEntityTooLarge"}', { Connection: 'close' }));
      }
    });
    cleanups.push(() => server.close());
    const posts = () => server.requests.filter((r) => r.method === 'POST').length;
    const { stopped } = await drive(server, fakeHost([response1]), () => posts() >= 2 && server.connections >= 3);
    expect(stopped).toBeUndefined();
    // Each 413 closed its connection, with the pipelined /next unanswered: the loop asked again on a new one.
    expect(server.requests.map((r) => `${r.connection} ${r.method}`).filter((x) => x.endsWith('POST'))).toEqual(['0 POST', '1 POST']);
    expect(server.connections).toBe(3);
  });

  it('with pipelining off (TANDEM_PIPELINE=0), each /next waits for the POST answer', async () => {
    const seen: string[] = [];
    const run = async (pipeline: boolean) => {
      let served = 0;
      // Answers leave in request order, as from a real HTTP/1.1 server; a POST is answered late, noting
      // how many requests had arrived by then.
      let chain = Promise.resolve();
      const server = await startRawServer((req, socket) => {
        chain = chain.then(async () => {
          if (req.method === 'GET') {
            if (served >= 2) return new Promise<void>(() => undefined);
            served++;
            socket.write(response(200, '{}', { 'Lambda-Runtime-Aws-Request-Id': `r${served}` }));
          } else {
            await new Promise((r) => setTimeout(r, 30));
            seen.push(`${pipeline} ${server.requests.length}`);
            socket.write(response(202, '{}'));
          }
        });
      });
      cleanups.push(() => server.close());
      const { stopped } = await drive(server, fakeHost([response1]), () => server.requests.length >= 5 && seen.filter((x) => x.startsWith(`${pipeline} `)).length >= 2, pipeline);
      expect(stopped?.reason).toBeUndefined();
      expect(server.requests.map((r) => r.method)).toEqual(['GET', 'POST', 'GET', 'POST', 'GET']);
      expect(server.connections).toBe(1);
    };
    await run(false);
    await run(true);
    // Off: the /next after a POST leaves only once the POST is answered. On: it arrives with the POST.
    expect(seen).toEqual(['false 2', 'false 4', 'true 3', 'true 5']);
  });

  it('a POST answered 500 ends the runtime (status 1) without running another invocation', async () => {
    const server = await scripted(2, () => 500);
    const host = fakeHost([response1]);
    let invoked = 0;
    const counting: Host = { ...host, invoke: (inv, io) => (invoked++, host.invoke(inv, io)) };
    const { stopped } = await drive(server, counting, () => false);
    expect(stopped?.status).toEqual({ code: 1, signal: null });
    expect(stopped?.reason).toMatch(/answered 500 to the response for r1/);
    await new Promise((r) => setTimeout(r, 50));
    expect(invoked).toBe(1);
    expect(server.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
  });

  it('/next answered 500 ends the runtime', async () => {
    const server = await scripted(1, () => 202, 500);
    const { stopped } = await drive(server, fakeHost([response1]), () => false);
    expect(stopped?.status).toEqual({ code: 1, signal: null });
    expect(stopped?.reason).toMatch(/GET \/next failed: GET \/next answered 500/);
  });

  it('an error outcome is posted to /error; with exit, the runtime then ends with it', async () => {
    const server = await scripted(2, () => 202);
    const host = fakeHost([
      { kind: 'error', error: { body: Buffer.from('{"e":1}'), contentType: 'application/json' }, exit: { code: 129, signal: null } },
    ]);
    const { stopped } = await drive(server, host, () => false);
    expect(stopped).toEqual({ status: { code: 129, signal: null }, reason: undefined });
    const posts = server.requests.filter((r) => r.method === 'POST');
    expect(posts.map((p) => p.path)).toEqual(['/2018-06-01/runtime/invocation/r1/error']);
    expect(posts[0]!.body.toString()).toBe('{"e":1}');
    expect(server.nextCount()).toBe(1); // no GET /next pipelined behind a last post
  });

  it('a died outcome posts nothing and ends the runtime with that status', async () => {
    const server = await scripted(2, () => 202);
    const { stopped } = await drive(server, fakeHost([{ kind: 'died', exit: { code: null, signal: 'SIGKILL' } }]), () => false);
    expect(stopped?.status).toEqual({ code: null, signal: 'SIGKILL' });
    expect(server.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
  });

  it('a response whose content type cannot be a header value gets an error instead', async () => {
    const server = await scripted(1, () => 202);
    const host = fakeHost([{ kind: 'response', contentType: 'text/plain\r\nX-Evil: 1', body: Buffer.from('x') }]);
    await drive(server, host, () => server.requests.some((r) => r.method === 'POST'));
    const post = server.requests.find((r) => r.method === 'POST')!;
    expect(post.path).toBe('/2018-06-01/runtime/invocation/r1/error');
    expect(post.body.toString()).toMatch(/invalid character in the Content-Type header value/);
  });

  it('a streamed response answered 500 ends the runtime', async () => {
    const server = await scripted(2, () => 500);
    const host: Host = {
      init: async () => ({ ok: true }),
      invoke: async (_inv, io) => {
        const s = io.openStream('text/plain');
        await s.write(Buffer.from('hi'));
        await s.end();
        return { kind: 'streamed' };
      },
      shutdown: async () => undefined,
    };
    const { stopped } = await drive(server, host, () => false);
    expect(stopped?.reason).toMatch(/answered 500 to the streaming response/);
    expect(server.requests[1]!.body.toString()).toBe('hi');
  });
});

describe('the real bootstrap', () => {
  it('exits promptly (status 1) when a POST is answered 500', async () => {
    const server = await scripted(1, () => 500);
    const task = mkdtempSync(join(tmpdir(), 'tandem-loop-'));
    cleanups.push(() => rmSync(task, { recursive: true, force: true }));
    writeFileSync(join(task, 'app.py'), 'def handler(e, c):\n    return 1\n');
    const child = spawn(BOOTSTRAP, [], {
      cwd: task,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { PATH: process.env.PATH, HOME: process.env.HOME, LAMBDA_TASK_ROOT: task, _HANDLER: 'app.handler', AWS_LAMBDA_RUNTIME_API: server.address, TANDEM_PYTHON: realPython() },
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise((r) => child.on('exit', (c) => r(c)));
    expect(code).toBe(1);
    expect(stderr).toMatch(/tandem: the Runtime API answered 500 to the response/);
  });
});
