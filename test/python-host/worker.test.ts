// One worker connection against real Python processes: the real worker (handshake, invoke, call, init
// error, streaming with backpressure, death) and a fixture that breaks the protocol on purpose (version
// mismatch, oversized frame, a frame that is not a map, a result for the wrong id, an unsolicited frame,
// silence). Every process started here is checked to be gone at the end.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { workerEnv } from '../../src/python/pool.ts';
import { ProtocolVersionError, Worker } from '../../src/python/worker.ts';
import { spawnWorker, type WorkerProcess } from '../../src/python/worker-process.ts';
import type { Invocation, InvokeIO, PostOutcome, StreamWriter } from '../../src/runtime/types.ts';
import { REPO, realPython } from '../runtime/run-bootstrap.ts';
import { bodyLength, joinBody } from '../../src/runtime/http1.ts';

const WORKER = join(REPO, 'bridge-py', 'worker.py');
const BAD = join(REPO, 'test', 'fixtures', 'bad-worker.py');
const MAX_FRAME = 64 * 1024 * 1024;

const procs: WorkerProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const p of procs.splice(0)) {
    p.kill('SIGKILL');
    await p.exited();
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function taskRoot(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-worker-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

function real(root: string, mode: 'handler' | 'calls', handler?: string): Worker {
  const env = workerEnv({ ...process.env, LAMBDA_TASK_ROOT: root }, mode, handler);
  const p = spawnWorker({ command: realPython(), args: [WORKER], env, cwd: root });
  procs.push(p);
  return new Worker(p, MAX_FRAME);
}

function bad(mode: string): Worker {
  const p = spawnWorker({ command: realPython(), args: [BAD], env: { ...process.env, BAD_MODE: mode } });
  procs.push(p);
  return new Worker(p, MAX_FRAME);
}

function inv(body: unknown, id = 'req-1'): Invocation {
  return { requestId: id, deadlineMs: Date.now() + 30_000, functionArn: 'arn:aws:lambda:us-east-1:1:function:f', contentType: 'application/json', body: Buffer.from(JSON.stringify(body)) };
}

const noStreams: InvokeIO = {
  openStream() {
    throw new Error('no stream expected');
  },
};

const APP = `
import os, sys, time
def handler(event, context):
    if event.get("exit") is not None:
        os._exit(event["exit"])
    return {"got": event, "id": context.aws_request_id}
def many(event, context):
    progress = event["progress"]
    for i in range(event["n"]):
        with open(progress, "w") as f:
            f.write(str(i))
        yield b"x" * event["size"]
`;

describe('the real worker', () => {
  it('handshakes, then runs invocations', async () => {
    const w = real(taskRoot({ 'app.py': APP }), 'handler', 'app.handler');
    expect(await w.start()).toEqual({ kind: 'ready' });
    expect(w.pythonVersion).toMatch(/^3\.\d+\.\d+$/);
    const out = await w.invoke(inv({ a: 1 }), noStreams);
    expect(out.kind).toBe('response');
    if (out.kind !== 'response') return;
    expect(out.contentType).toBe('application/json');
    expect(JSON.parse(joinBody(out.body).toString())).toEqual({ got: { a: 1 }, id: 'req-1' });
    await w.shutdown(2000);
  });

  it('reports an init error with its type and body', async () => {
    const w = real(taskRoot({}), 'handler', 'missing.handler');
    const init = await w.start();
    expect(init.kind).toBe('initError');
    if (init.kind !== 'initError') return;
    expect(init.errorType).toBe('Runtime.ImportModuleError');
    expect(JSON.parse(init.body.toString()).errorMessage).toMatch(/Unable to import module 'missing'/);
    expect(await w.shutdown(2000)).toEqual({ code: 1, signal: null });
  });

  it('answers calls in calls mode', async () => {
    const w = real(taskRoot({ 'mathy.py': 'def add(p):\n    return p["a"] + p["b"]\ndef boom(p):\n    raise KeyError("k")\n' }), 'calls');
    expect(await w.start()).toEqual({ kind: 'ready' });
    const ok = await w.call('mathy.add', Buffer.from('{"a": 2, "b": 3}'), undefined);
    expect(ok).toMatchObject({ kind: 'result', contentType: 'application/json' });
    expect(ok.body.toString()).toBe('5');
    const err = await w.call('mathy.boom', Buffer.from('{}'), { requestId: 'r', deadlineMs: Date.now() + 1000 });
    expect(err).toMatchObject({ kind: 'error', errorType: 'KeyError' });
  });

  it('a death mid-invocation is the outcome `died` with the exit status', async () => {
    const w = real(taskRoot({ 'app.py': APP }), 'handler', 'app.handler');
    await w.start();
    expect(await w.invoke(inv({ exit: 6 }), noStreams)).toEqual({ kind: 'died', exit: { code: 6, signal: null } });
    expect(w.alive).toBe(false);
  });

  it('streams with backpressure: while the Runtime API does not drain, the worker is held back', async () => {
    const root = taskRoot({ 'app.py': APP });
    const progress = join(root, 'progress');
    const w = real(root, 'handler', 'app.many');
    await w.start();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let received = 0;
    let firstWrite!: () => void;
    const wrote = new Promise<void>((r) => (firstWrite = r));
    const writer: StreamWriter = {
      write: (c) => {
        received += bodyLength(c);
        firstWrite();
        return gate; // never drains until released
      },
      end: async (): Promise<PostOutcome> => ({ status: 202, body: Buffer.alloc(0) }),
      fail: async (): Promise<PostOutcome> => ({ status: 202, body: Buffer.alloc(0) }),
    };
    const n = 400;
    const size = 64 * 1024;
    const done = w.invoke(inv({ n, size, progress }), { openStream: () => writer });
    await wrote;
    await new Promise((r) => setTimeout(r, 300));
    // The generator is stuck far from its end: the pipe filled up and its writes block.
    const stuckAt = Number(readFileSync(progress, 'utf8'));
    expect(stuckAt).toBeLessThan(n / 2);
    expect(received).toBeLessThan(n * size);
    release();
    expect(await done).toEqual({ kind: 'streamed' });
    expect(received).toBe(n * size);
  });
});

describe('protocol violations', () => {
  it('a hello with another version fails the start with a ProtocolVersionError naming both', async () => {
    const init = await bad('version').start();
    expect(init.kind).toBe('failed');
    if (init.kind !== 'failed') return;
    expect(init.error).toBeInstanceOf(ProtocolVersionError);
    expect(init.error.message).toBe('worker protocol mismatch: worker speaks 99, runtime speaks 1');
  });

  it('a worker that exits before its hello fails the start with its status', async () => {
    const init = await bad('silent').start();
    expect(init.kind).toBe('failed');
    if (init.kind !== 'failed') return;
    expect(init.error.errorType).toBe('Runtime.WorkerStartError');
    expect(init.error.message).toMatch(/ended before its handshake \(exit status 0\)/);
  });

  const cases: Array<[string, RegExp]> = [
    ['oversize', /frame of 2147483647 bytes is over the limit of 67108864 bytes/],
    ['notmap', /frame is not a msgpack map/],
    ['wrongid', /"result" for someone-else while req-1 runs/],
  ];
  for (const [mode, pattern] of cases) {
    it(`${mode}: the invocation gets Runtime.WorkerProtocolError and the worker is killed`, async () => {
      const w = bad(mode);
      expect(await w.start()).toEqual({ kind: 'ready' });
      const out = await w.invoke(inv({}), noStreams);
      expect(out.kind).toBe('error');
      if (out.kind !== 'error') return;
      const doc = JSON.parse(Buffer.from(out.error.body).toString()) as { errorType: string; errorMessage: string; requestId: string };
      expect(doc.errorType).toBe('Runtime.WorkerProtocolError');
      expect(doc.errorMessage).toMatch(pattern);
      expect(doc.requestId).toBe('req-1');
      expect(w.alive).toBe(false);
      expect(await w.exitStatus()).toEqual({ code: null, signal: 'SIGKILL' });
    });
  }

  it('an unsolicited frame while idle kills the worker and reports the death', async () => {
    const w = bad('early');
    let idleDeath: unknown;
    const died = new Promise<void>((r) => (w.onIdleDeath = (s) => ((idleDeath = s), r())));
    expect(await w.start()).toEqual({ kind: 'ready' });
    await died;
    expect(idleDeath).toEqual({ code: null, signal: 'SIGKILL' });
  });
});
