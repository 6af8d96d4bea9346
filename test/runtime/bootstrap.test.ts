// The real `bootstrap` end to end with the real Python worker (bridge-py/worker.py) and the emulator:
// invocations, init errors, streaming, the image layout, and every way a worker can die (the runtime ends
// with the worker's status, posts nothing for that invocation, and leaves no process behind).
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO, runBootstrap, type Run, type RunOptions } from './run-bootstrap.ts';

const runs: Run[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(runs.splice(0).map((r) => r.cleanup()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function start(opts: RunOptions): Promise<Run> {
  const r = await runBootstrap(opts);
  runs.push(r);
  return r;
}

const event = (v: unknown) => ({ body: Buffer.from(JSON.stringify(v)) });

const HANDLER = `
import os, signal, sys, threading
count = 0
print("module loaded")
def handler(event, context):
    global count
    count += 1
    print("invoked", count)
    how = event.get("die")
    if how == "sys_exit":
        sys.exit(3)
    if how == "os_exit":
        os._exit(7)
    if how in ("SIGKILL", "SIGSEGV"):
        os.kill(os.getpid(), getattr(signal, how))
    if how == "later":
        threading.Timer(0.2, os._exit, [9]).start()
    if event.get("raise"):
        raise ValueError("bad value: %s" % event["raise"])
    return {"count": count, "id": context.aws_request_id}

def stream(event, context):
    yield b"one;"
    yield "two;"
    if event.get("die"):
        os._exit(5)
    if event.get("raise"):
        raise RuntimeError("mid-stream")
`;

function posts(r: Run): string[] {
  return r.server.requests.filter((q) => q.method === 'POST').map((q) => q.path);
}

describe('bootstrap with a Python handler', () => {
  it('serves invocations from one persistent worker, then dies of SIGTERM with no process left', async () => {
    const r = await start({ files: { 'app.py': HANDLER }, handler: 'app.handler' });
    const a = await r.server.enqueue(event({})).result;
    const b = await r.server.enqueue(event({ raise: 5 })).result;
    const c = await r.server.enqueue(event({})).result;
    expect(a.kind).toBe('response');
    expect(JSON.parse(a.body.toString())).toMatchObject({ count: 1 });
    expect(b).toMatchObject({ kind: 'error', errorType: 'ValueError' });
    expect(JSON.parse(b.body.toString())).toMatchObject({ errorMessage: 'bad value: 5', errorType: 'ValueError' });
    expect(JSON.parse(c.body.toString())).toMatchObject({ count: 3 });
    expect(r.stdout()).toContain('module loaded\ninvoked 1\ninvoked 2\n');
    r.child.kill('SIGTERM');
    expect(await r.exit).toEqual({ code: null, signal: 'SIGTERM' });
    await r.noOrphans();
  });

  it('leaves no stray fd: the worker has 0-2 and its two pipes (moved to fds 200 and up), Node holds one end of each and nothing else of them', async () => {
    const FDS = 'import os\ndef handler(e, c):\n    out = {}\n    for fd in os.listdir("/proc/self/fd"):\n        try:\n            out[fd] = os.readlink("/proc/self/fd/" + fd)\n        except OSError:\n            pass\n    return out\n';
    const r = await start({ files: { 'app.py': FDS }, handler: 'app.handler' });
    const res = await r.server.enqueue(event({})).result;
    const { readdirSync, readlinkSync, readFileSync } = await import('node:fs');
    // Fds this test process passes to every child it spawns (open without close-on-exec) are not ours.
    const inherited = new Set(
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          const flags = /flags:\s+(\d+)/.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1'))![1]!;
          return Number(fd) > 2 && (parseInt(flags, 8) & 0o2000000) === 0;
        } catch {
          return false;
        }
      }),
    );
    const workerFds = Object.entries(JSON.parse(res.body.toString()) as Record<string, string>).filter(
      ([fd, l]) => !l.startsWith('/proc/') && !inherited.has(fd),
    );
    expect(workerFds.map(([fd]) => Number(fd)).sort((a, b) => a - b)).toEqual([0, 1, 2, 200, 201]);
    expect(workerFds.find(([fd]) => fd === '0')![1]).toBe('/dev/null');
    const nodeLinks = readdirSync(`/proc/${r.child.pid}/fd`).map((fd) => {
      try {
        return readlinkSync(`/proc/${r.child.pid}/fd/${fd}`);
      } catch {
        return '';
      }
    });
    for (const fd of ['200', '201']) {
      const pipe = workerFds.find(([f]) => f === fd)![1];
      expect(pipe).toMatch(/^pipe:/);
      expect(nodeLinks.filter((l) => l === pipe)).toHaveLength(1);
    }
  });

  it('keeps the worker pipes off a telemetry fd (fd 3) Lambda passes down, which the worker can still use', async () => {
    const r = await start({
      files: { 'app.py': 'import logging\ndef handler(e, c):\n    logging.getLogger().warning("to-telemetry")\n    return 1\n' },
      handler: 'app.handler',
      env: { _LAMBDA_TELEMETRY_LOG_FD: '3' },
      fd3: true,
    });
    const res = await r.server.enqueue(event({})).result;
    expect(res.body.toString()).toBe('1');
    r.child.kill('SIGTERM');
    await r.exit;
    expect(r.fd3().toString('latin1')).toContain('to-telemetry');
    expect(r.stdout()).not.toContain('to-telemetry');
  });

  it('a Node handler calling Python: the calls pool starts a worker that keeps the telemetry fd too', async () => {
    const r = await start({
      files: {
        'index.mjs': "export const handler = async (e) => ({ sum: await globalThis.tandem.python('mathy.add')(e) });\n",
        'mathy.py': 'import logging\ndef add(p):\n    logging.getLogger().warning("from-python")\n    return p["a"] + p["b"]\n',
      },
      handler: 'index.handler',
      env: { _LAMBDA_TELEMETRY_LOG_FD: '3' },
      fd3: true,
    });
    const res = await r.server.enqueue(event({ a: 2, b: 3 })).result;
    expect(JSON.parse(res.body.toString())).toEqual({ sum: 5 });
    r.child.kill('SIGTERM');
    expect(await r.exit).toEqual({ code: null, signal: 'SIGTERM' });
    expect(r.fd3().toString('latin1')).toContain('from-python');
    await r.noOrphans();
  });

  it('takes the handler from $1 when _HANDLER is unset (an image CMD)', async () => {
    const r = await start({ files: { 'app.py': HANDLER }, args: ['app.handler'] });
    const a = await r.server.enqueue(event({})).result;
    expect(JSON.parse(a.body.toString())).toMatchObject({ count: 1 });
  });

  it('runs from an image layout (bootstrap, dist/, bridge-py/ in LAMBDA_RUNTIME_DIR, no node_modules)', async () => {
    const runtimeDir = mkdtempSync(join(tmpdir(), 'tandem-var-runtime-'));
    dirs.push(runtimeDir);
    cpSync(join(REPO, 'bootstrap'), join(runtimeDir, 'bootstrap'));
    cpSync(join(REPO, 'dist'), join(runtimeDir, 'dist'), { recursive: true });
    cpSync(join(REPO, 'bridge-py'), join(runtimeDir, 'bridge-py'), { recursive: true });
    const r = await start({
      files: { 'app.py': HANDLER },
      handler: 'app.handler',
      bootstrap: join(runtimeDir, 'bootstrap'),
      env: { LAMBDA_RUNTIME_DIR: runtimeDir },
    });
    const a = await r.server.enqueue(event({})).result;
    expect(JSON.parse(a.body.toString())).toMatchObject({ count: 1 });
  });

  it('posts an init error for a missing module, with the error-type header, and exits 1', async () => {
    const r = await start({ files: {}, handler: 'nothere.handler' });
    expect(await r.exit).toEqual({ code: 1, signal: null });
    expect(r.server.initError?.errorType).toBe('Runtime.ImportModuleError');
    expect(posts(r)).toEqual(['/2018-06-01/runtime/init/error']);
    await r.noOrphans();
  });

  it('streams a generator, and ends a failing one with error trailers', async () => {
    const r = await start({ files: { 'app.py': HANDLER }, handler: 'app.stream' });
    const ok = await r.server.enqueue(event({})).result;
    expect(ok).toMatchObject({ kind: 'response', streamed: true });
    expect(ok.body.toString()).toBe('one;two;');
    const bad = await r.server.enqueue(event({ raise: 1 })).result;
    expect(bad).toMatchObject({ kind: 'error', errorType: 'RuntimeError', streamed: true });
    expect(JSON.parse(bad.body.toString())).toMatchObject({ errorMessage: 'mid-stream' });
  });

  it('a worker that cannot start: clear stderr, Runtime.WorkerStartError init error, exit 1', async () => {
    const r = await start({ files: { 'app.py': HANDLER }, handler: 'app.handler', env: { TANDEM_PYTHON: '/nonexistent/python3' } });
    expect(await r.exit).toEqual({ code: 1, signal: null });
    expect(r.stderr()).toMatch(/TANDEM_PYTHON=\/nonexistent\/python3 is not an executable file/);
    expect(r.server.initError?.errorType).toBe('Runtime.WorkerStartError');
    await r.noOrphans();
  });

  it('routes a Node handler to the Node host', async () => {
    const r = await start({ files: { 'index.mjs': 'export const handler = async (e) => ({ node: true, e });' }, handler: 'index.handler' });
    const a = await r.server.enqueue(event({ x: 1 })).result;
    expect(JSON.parse(a.body.toString())).toEqual({ node: true, e: { x: 1 } });
  });
});

describe('bootstrap: TANDEM_RUNTIME', () => {
  it('node: a handler whose module is missing gets the Node runtime\'s init error (exit 129), no Python started', async () => {
    const r = await start({ files: { 'missing.py': 'raise RuntimeError("must not be imported")\n' }, handler: 'missing.handler', env: { TANDEM_RUNTIME: 'node' } });
    expect(await r.exit).toEqual({ code: 129, signal: null });
    expect(r.server.initError?.errorType).toBe('Runtime.ImportModuleError');
    expect(r.stderr()).not.toMatch(/must not be imported/);
    await r.noOrphans();
  });

  it('python: index.handler runs in Python even though index.js exists; a node: prefix still wins', async () => {
    const files = { 'index.py': 'def handler(e, c):\n    return "py"\n', 'index.js': 'exports.handler = async () => "js";\n' };
    const r = await start({ files, handler: 'index.handler', env: { TANDEM_RUNTIME: 'python' } });
    expect((await r.server.enqueue(event({})).result).body.toString()).toBe('"py"');
    const n = await start({ files, handler: 'node:index.handler', env: { TANDEM_RUNTIME: 'python' } });
    expect((await n.server.enqueue(event({})).result).body.toString()).toBe('"js"');
  });

  it('a bad value: one stderr line, exit 1, nothing started', async () => {
    const r = await start({ files: { 'app.py': HANDLER }, handler: 'app.handler', env: { TANDEM_RUNTIME: 'ruby' } });
    expect(await r.exit).toEqual({ code: 1, signal: null });
    expect(r.stderr()).toBe('tandem: TANDEM_RUNTIME must be python or node (or unset), got "ruby"\n');
    await r.noOrphans();
  });
});

describe('bootstrap: AWS_LAMBDA_EXEC_WRAPPER', () => {
  // A wrapper as AWS documents them: it exports something and execs the command it was given.
  const WRAPPER = '#!/bin/bash\nexport WRAPPED="$# ${1##*/} ${@: -1}"\nexec "$@"\n';
  function wrapperFile(text: string, mode: number): string {
    const dir = mkdtempSync(join(tmpdir(), 'tandem-wrap-'));
    dirs.push(dir);
    const file = join(dir, 'wrapper');
    writeFileSync(file, text, { mode });
    return file;
  }
  const PY = 'import os, time\ndef handler(event, context):\n    time.sleep(event.get("sleep", 0))\n    return {"pid": os.getpid(), "wrapped": os.environ.get("WRAPPED")}\n';

  it('wraps the Python worker (each one, with AWS_LAMBDA_MAX_CONCURRENCY=2): the wrapper gets the interpreter and the worker script, its variables reach the handler', async () => {
    const wrapper = wrapperFile(WRAPPER, 0o755);
    const r = await start({ files: { 'app.py': PY }, handler: 'app.handler', env: { AWS_LAMBDA_EXEC_WRAPPER: wrapper, AWS_LAMBDA_MAX_CONCURRENCY: '2' } });
    const both = await Promise.all([r.server.enqueue(event({ sleep: 0.4 })).result, r.server.enqueue(event({ sleep: 0.4 })).result]);
    const got = both.map((x) => JSON.parse(x.body.toString()) as { pid: number; wrapped: string });
    expect(got[0]!.pid).not.toBe(got[1]!.pid);
    for (const g of got) expect(g.wrapped).toMatch(/^2 python\S* \S*\/bridge-py\/worker\.py$/);
    r.child.kill('SIGTERM');
    await r.exit;
    await r.noOrphans();
  });

  it('wraps Node for a Node handler', async () => {
    const wrapper = wrapperFile(WRAPPER, 0o755);
    const r = await start({
      files: { 'index.mjs': 'export const handler = async () => process.env.WRAPPED;' },
      handler: 'index.handler',
      env: { AWS_LAMBDA_EXEC_WRAPPER: wrapper },
    });
    const a = await r.server.enqueue(event({})).result;
    // node, the heap sized from the function's 128 MB as AWS's Node runtime sizes it, the runtime.
    expect(JSON.parse(a.body.toString())).toMatch(/^4 node\S* \S*\/dist\/runtime\.[cm]js$/);
  });

  it('runs Node for a Python handler without background threads and with a 1 MiB young generation (TANDEM_NODE_FLAGS replaces them)', async () => {
    const argsOf = async (env: Record<string, string>) => {
      const r = await start({ files: { 'app.py': PY }, handler: 'app.handler', env });
      await r.server.enqueue(event({})).result;
      const args = readFileSync(`/proc/${r.child.pid}/cmdline`, 'latin1').split('\0').slice(1, -2);
      r.child.kill('SIGKILL');
      await r.exit;
      return args;
    };
    expect(await argsOf({})).toEqual(['--single-threaded', '--max-semi-space-size=1']);
    expect(await argsOf({ TANDEM_NODE_FLAGS: '--max-lazy' })).toEqual(['--max-lazy']);
  });

  it("sizes a Node handler's heap from the function's memory, unless NODE_OPTIONS or TANDEM_NODE_FLAGS say otherwise", async () => {
    const files = { 'index.mjs': 'export const handler = async () => process.execArgv;' };
    const flagsOf = async (env: Record<string, string>) => {
      const r = await start({ files, handler: 'index.handler', env });
      return JSON.parse((await r.server.enqueue(event({})).result).body.toString()) as string[];
    };
    expect(await flagsOf({})).toEqual(['--max-semi-space-size=6', '--max-old-space-size=116']);
    expect(await flagsOf({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1769' })).toEqual(['--max-semi-space-size=88', '--max-old-space-size=1593']);
    expect(await flagsOf({ NODE_OPTIONS: '--max-old-space-size=100' })).toEqual([]);
    expect(await flagsOf({ TANDEM_NODE_FLAGS: '--stack-size=900  --no-opt' })).toEqual(['--stack-size=900', '--no-opt']);
    expect(await flagsOf({ TANDEM_NODE_FLAGS: '' })).toEqual([]);
  });

  it('a missing wrapper: exit 127; one that is not executable: exit 126; nothing started', async () => {
    const missing = await start({ files: { 'app.py': PY }, handler: 'app.handler', env: { AWS_LAMBDA_EXEC_WRAPPER: '/nonexistent/wrapper' } });
    expect(await missing.exit).toEqual({ code: 127, signal: null });
    expect(missing.stdout()).toBe('/nonexistent/wrapper: does not exist\n');
    const plain = wrapperFile(WRAPPER, 0o644);
    const notExec = await start({ files: { 'app.py': PY }, handler: 'app.handler', env: { AWS_LAMBDA_EXEC_WRAPPER: plain } });
    expect(await notExec.exit).toEqual({ code: 126, signal: null });
    expect(notExec.stdout()).toBe(`${plain}: is not an executable\n`);
    expect(notExec.server.requests).toHaveLength(0);
    await notExec.noOrphans();
  });
});

describe('bootstrap: concurrency, signals, diagnostics', () => {
  const SLOW = 'import os, time\ndef handler(event, context):\n    time.sleep(event.get("sleep", 0))\n    return {"pid": os.getpid()}\n';

  it('AWS_LAMBDA_MAX_CONCURRENCY=2: two /next open, two workers, invocations side by side', async () => {
    const r = await start({ files: { 'app.py': SLOW }, handler: 'app.handler', env: { AWS_LAMBDA_MAX_CONCURRENCY: '2' } });
    const [a, b] = await Promise.all([r.server.enqueue(event({ sleep: 0.5 })).result, r.server.enqueue(event({ sleep: 0.5 })).result]);
    const pids = [a, b].map((x) => (JSON.parse(x.body.toString()) as { pid: number }).pid);
    expect(pids[0]).not.toBe(pids[1]);
    r.child.kill('SIGTERM');
    expect(await r.exit).toEqual({ code: null, signal: 'SIGTERM' });
    await r.noOrphans();
  });

  it('SIGTERM during an invocation: forwarded to the worker, the runtime dies of SIGTERM, nothing is left', async () => {
    const r = await start({ files: { 'app.py': SLOW }, handler: 'app.handler' });
    let started!: () => void;
    const running = new Promise<void>((res) => (started = res));
    r.server.enqueue(event({ sleep: 30 }), { onStart: () => started() });
    await running;
    await new Promise((res) => setTimeout(res, 200));
    r.child.kill('SIGTERM');
    expect(await r.exit).toEqual({ code: null, signal: 'SIGTERM' });
    await r.noOrphans();
  });

  const BIG = 'def handler(e, c):\n    print("hi")\n    return "x" * e["n"]\n';

  for (const level of ['warn', undefined]) {
    it(`a response over 6 MB is answered 413 and the loop goes on; TANDEM_LOG_LEVEL=${level ?? '(unset)'}: ${level ? 'a pino warning on stderr' : 'silent'}`, async () => {
      const r = await start({ files: { 'app.py': BIG }, handler: 'app.handler', env: { TANDEM_LOG_LEVEL: level } });
      const big = await r.server.enqueue(event({ n: 7 * 1024 * 1024 })).result;
      expect(big).toMatchObject({ kind: 'error', errorType: 'Function.ResponseSizeTooLarge', source: 'platform' });
      const small = await r.server.enqueue(event({ n: 3 })).result;
      expect(small.body.toString()).toBe('"xxx"');
      r.child.kill('SIGKILL');
      await r.exit;
      expect(r.stdout()).toBe('hi\nhi\n');
      const lines = r.stderr().split('\n').filter((l) => l.includes('answered 413'));
      if (level) {
        expect(lines).toHaveLength(1);
        expect(JSON.parse(lines[0]!)).toMatchObject({ name: 'tandem', level: 40, status: 413 });
      } else {
        expect(lines).toEqual([]);
      }
    });
  }
});

describe('worker death ends the runtime with the worker status, posts nothing, leaves nothing', () => {
  const cases: Array<[string, { code: number | null; signal: NodeJS.Signals | null }]> = [
    ['sys_exit', { code: 3, signal: null }],
    ['os_exit', { code: 7, signal: null }],
    ['SIGKILL', { code: null, signal: 'SIGKILL' }],
    ['SIGSEGV', { code: null, signal: 'SIGSEGV' }],
  ];
  for (const [how, status] of cases) {
    it(`${how} in the handler`, async () => {
      const r = await start({ files: { 'app.py': HANDLER }, handler: 'app.handler' });
      await r.server.enqueue(event({})).result;
      const dying = r.server.enqueue(event({ die: how }));
      expect(await r.exit).toEqual(status);
      expect(posts(r)).toHaveLength(1); // only the first invocation's response
      expect(r.server.inFlightIds).toEqual([dying.requestId]);
      await r.noOrphans();
    });
  }

  it('between invocations (a thread calls os._exit)', async () => {
    const r = await start({ files: { 'app.py': HANDLER }, handler: 'app.handler' });
    const a = await r.server.enqueue(event({ die: 'later' })).result;
    expect(a.kind).toBe('response');
    expect(await r.exit).toEqual({ code: 9, signal: null });
    await r.noOrphans();
  });

  it('while importing the handler (sys.exit at module level): no init error, same status', async () => {
    const r = await start({ files: { 'app.py': 'import sys\nsys.exit(4)\n' }, handler: 'app.handler' });
    expect(await r.exit).toEqual({ code: 4, signal: null });
    expect(posts(r)).toEqual([]);
    await r.noOrphans();
  });

  it('mid-stream: the stream ends with Runtime.ExitError trailers, then the runtime exits', async () => {
    const r = await start({ files: { 'app.py': HANDLER }, handler: 'app.stream' });
    const res = await r.server.enqueue(event({ die: 1 })).result;
    expect(res).toMatchObject({ kind: 'error', errorType: 'Runtime.ExitError', streamed: true });
    expect(JSON.parse(res.body.toString()).errorMessage).toMatch(/Runtime exited with error: exit status 5/);
    expect(await r.exit).toEqual({ code: 5, signal: null });
    await r.noOrphans();
  });
});
