// The worker pool with real workers: calls mode starts workers lazily and queues calls; handler mode with
// several workers runs invocations side by side and replaces a worker that died (the invocation gets
// Runtime.ExitError); a worker that broke the protocol is replaced even when it was the only one.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PythonPool, type PoolOptions } from '../../src/python/pool.ts';
import { spawnWorker } from '../../src/python/worker-process.ts';
import type { Invocation, InvokeIO } from '../../src/runtime/types.ts';
import { REPO, realPython } from '../runtime/run-bootstrap.ts';

const pools: PythonPool[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.shutdown()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const MOD = `
import os, time
def pid(p):
    return os.getpid()
def slow(p):
    time.sleep(p)
    return os.getpid()
def handler(event, context):
    if event.get("exit") is not None:
        os._exit(event["exit"])
    time.sleep(event.get("sleep", 0))
    return {"pid": os.getpid()}
`;

function pool(opts: Partial<PoolOptions> & Pick<PoolOptions, 'mode' | 'size'>): PythonPool {
  const root = mkdtempSync(join(tmpdir(), 'tandem-pool-'));
  dirs.push(root);
  writeFileSync(join(root, 'mod.py'), MOD);
  const p = new PythonPool({
    maxFrameBytes: 1 << 26,
    shutdownGraceMs: 2000,
    env: { ...process.env, LAMBDA_TASK_ROOT: root, TANDEM_PYTHON: realPython() },
    ...opts,
  });
  pools.push(p);
  return p;
}

const noStreams: InvokeIO = {
  openStream() {
    throw new Error('no stream expected');
  },
};

function inv(body: unknown, id: string): Invocation {
  return { requestId: id, deadlineMs: Date.now() + 30_000, functionArn: '', contentType: 'application/json', body: Buffer.from(JSON.stringify(body)) };
}

async function pidOf(out: Promise<{ kind: string }>): Promise<number> {
  const o = (await out) as { kind: string; body?: Uint8Array };
  expect(o.kind).toBe('response');
  return (JSON.parse(Buffer.from(o.body!).toString()) as { pid: number }).pid;
}

describe('calls mode', () => {
  it('starts a worker on the first call and reuses it', async () => {
    let spawned = 0;
    const p = pool({
      mode: 'calls',
      size: 1,
      spawn: (env) => (spawned++, spawnWorker({ command: realPython(), args: [join(REPO, 'bridge-py', 'worker.py')], env })),
    });
    expect(spawned).toBe(0);
    const a = await p.call('mod.pid', Buffer.from('null'));
    const b = await p.call('mod.pid', Buffer.from('null'));
    expect(spawned).toBe(1);
    expect(a.body.toString()).toBe(b.body.toString());
  });

  it('queues calls beyond the pool size, and grows up to it', async () => {
    const one = pool({ mode: 'calls', size: 1 });
    const pids1 = await Promise.all([0.2, 0.2, 0.2].map((s) => one.call('mod.slow', Buffer.from(String(s)))));
    expect(new Set(pids1.map((r) => r.body.toString())).size).toBe(1);
    const two = pool({ mode: 'calls', size: 2 });
    const pids2 = await Promise.all([0.5, 0.5].map((s) => two.call('mod.slow', Buffer.from(String(s)))));
    expect(new Set(pids2.map((r) => r.body.toString())).size).toBe(2);
  });

  it('a worker dying in a call rejects that call; the next call gets a fresh worker', async () => {
    const p = pool({ mode: 'calls', size: 1 });
    const first = (await p.call('mod.pid', Buffer.from('null'))).body.toString();
    await expect(p.call('os._exit', Buffer.from('3'))).rejects.toThrow(/the Python worker exited during the call to os._exit: exit status 3/);
    const second = (await p.call('mod.pid', Buffer.from('null'))).body.toString();
    expect(second).not.toBe(first);
  });
});

describe('handler mode', () => {
  it('runs invocations side by side on several workers', async () => {
    const p = pool({ mode: 'handler', size: 2, handler: 'mod.handler' });
    expect(await p.start()).toEqual({ kind: 'ready' });
    const pids = await Promise.all([pidOf(p.invoke(inv({ sleep: 0.5 }, 'a'), noStreams)), pidOf(p.invoke(inv({ sleep: 0.5 }, 'b'), noStreams))]);
    expect(pids[0]).not.toBe(pids[1]);
  });

  it('with several workers, a death gives Runtime.ExitError and a replacement serves the next invocation', async () => {
    const p = pool({ mode: 'handler', size: 2, handler: 'mod.handler' });
    await p.start();
    const out = await p.invoke(inv({ exit: 4 }, 'dies'), noStreams);
    expect(out.kind).toBe('error');
    if (out.kind !== 'error') return;
    expect(out.error.errorType).toBe('Runtime.ExitError');
    expect(JSON.parse(Buffer.from(out.error.body).toString())).toEqual({
      errorMessage: 'RequestId: dies Error: Runtime exited with error: exit status 4',
      errorType: 'Runtime.ExitError',
      requestId: 'dies',
      stackTrace: [],
    });
    // The replacement starts in the background: once it is up, two invocations run on two processes again.
    let distinct = 0;
    for (let i = 0; i < 20 && distinct < 2; i++) {
      const pids = await Promise.all([pidOf(p.invoke(inv({ sleep: 0.3 }, `x${i}`), noStreams)), pidOf(p.invoke(inv({ sleep: 0.3 }, `y${i}`), noStreams))]);
      distinct = new Set(pids).size;
    }
    expect(distinct).toBe(2);
  });

  it('with one worker, a death is reported as `died` (the runtime ends)', async () => {
    const p = pool({ mode: 'handler', size: 1, handler: 'mod.handler' });
    await p.start();
    expect(await p.invoke(inv({ exit: 2 }, 'dies'), noStreams)).toEqual({ kind: 'died', exit: { code: 2, signal: null } });
  });

  it('a worker that broke the protocol is replaced even when it is the only one', async () => {
    let n = 0;
    const p = pool({
      mode: 'handler',
      size: 1,
      handler: 'mod.handler',
      // The first worker is the fixture that answers for the wrong id; the replacement is the real one.
      spawn: (env) =>
        spawnWorker({
          command: realPython(),
          args: [n++ === 0 ? join(REPO, 'test', 'fixtures', 'bad-worker.py') : join(REPO, 'bridge-py', 'worker.py')],
          env: { ...env, BAD_MODE: 'wrongid' },
        }),
    });
    expect(await p.start()).toEqual({ kind: 'ready' });
    const out = await p.invoke(inv({}, 'first'), noStreams);
    expect(out.kind).toBe('error');
    expect(await pidOf(p.invoke(inv({}, 'second'), noStreams))).toBeGreaterThan(0);
  });
});
