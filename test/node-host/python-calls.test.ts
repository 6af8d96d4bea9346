// Node code calling Python: `tandem.python()` inside the runtime (no install), `python()` from the
// tandem-lambda API outside it, Python exceptions as PythonError, concurrent calls, the module imported once;
// and a Node handler that never calls Python never starts a Python process.
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { descendants, realPython, startRuntime, type Run } from './harness.ts';

let run: Run | undefined;
afterEach(async () => {
  await run?.stop();
  run = undefined;
});

const MODEL = `
import os, time
IMPORTS = globals().setdefault("IMPORTS", 0) + 1
globals()["IMPORTS"] = IMPORTS
LOADS = []
LOADS.append(os.getpid())

def score(payload, context=None):
    return {"score": len(payload["text"]), "loads": len(LOADS), "pid": os.getpid(),
            "requestId": getattr(context, "aws_request_id", None)}

def boom(payload, context=None):
    raise KeyError("missing: %s" % payload.get("field"))

def echo(payload, context=None):
    time.sleep(0.01)
    return payload
`;

const HANDLER = `
exports.handler = async (event, context) => {
  if (event.mode === 'one') return tandem.python('model.score')({ text: event.text }, { context });
  if (event.mode === 'error') {
    try {
      await tandem.python('model.boom')({ field: 'name' });
      return 'no error';
    } catch (e) {
      return { isPythonError: e instanceof tandem.PythonError, name: e.name, errorType: e.errorType,
               errorMessage: e.errorMessage, hasTrace: e.stackTrace.length > 0, message: e.message };
    }
  }
  if (event.mode === 'many') {
    const echo = tandem.python('model.echo');
    const out = await Promise.all(Array.from({ length: 20 }, (_, i) => echo({ i })));
    return out.map((o) => o.i);
  }
  if (event.mode === 'badName') {
    try { tandem.python('not a name'); } catch (e) { return e.name + ': ' + e.message; }
  }
  if (event.mode === 'uncaught') return tandem.python('model.boom')({ field: 'x' });
  return 'no python';
};
// Callback style: the response waits for the Python call (a pending call is pending user work).
exports.callback = (event, context, callback) => {
  tandem.python('model.echo')({ v: 1 }).then((r) => setTimeout(() => console.log('after python', r.v), 10));
  callback(null, 'cb');
};
`;

async function start(handler = 'index.handler'): Promise<Run> {
  run = await startRuntime({ files: { 'index.js': HANDLER, 'model.py': MODEL }, handler });
  return run;
}

function body(r: Awaited<ReturnType<Run['invoke']>>): unknown {
  if (r.kind !== 'response') throw new Error(`expected a response, got ${JSON.stringify(r)}: ${r.body.toString()}`);
  return JSON.parse(r.body.toString());
}

describe('tandem.python() inside the runtime', () => {
  test('calls a Python function with the invocation context; the module is imported once', async () => {
    const r = await start();
    const first = body(await r.invoke({ mode: 'one', text: 'hello' }, undefined, 'req-python-1')) as Record<string, unknown>;
    expect(first).toMatchObject({ score: 5, loads: 1, requestId: 'req-python-1' });
    const second = body(await r.invoke({ mode: 'one', text: 'hi' })) as Record<string, unknown>;
    expect(second).toMatchObject({ score: 2, loads: 1, pid: first['pid'] });
  });

  test('a Python exception arrives as a PythonError with the Python type, message and traceback', async () => {
    const r = await start();
    expect(body(await r.invoke({ mode: 'error' }))).toEqual({
      isPythonError: true,
      name: 'PythonError',
      errorType: 'KeyError',
      errorMessage: "'missing: name'",
      hasTrace: true,
      message: "KeyError: 'missing: name'",
    });
  });

  test('an uncaught PythonError is the invocation error', async () => {
    const r = await start();
    const result = await r.invoke({ mode: 'uncaught' });
    expect(result).toMatchObject({ kind: 'error', errorType: 'PythonError' });
    if (result.kind === 'error') expect(JSON.parse(result.body.toString()).errorMessage).toBe("KeyError: 'missing: x'");
  });

  test('concurrent calls from one invocation all get their own answers', async () => {
    const r = await start();
    expect(body(await r.invoke({ mode: 'many' }))).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  test('a bad function name is a TypeError saying what is expected', async () => {
    const r = await start();
    expect(body(await r.invoke({ mode: 'badName' }))).toMatch(/^TypeError: python\(\): expected a dotted Python name/);
  });

  test('a callback handler waits for its Python call and what follows it', async () => {
    const r = await start('index.callback');
    expect(body(await r.invoke({}))).toBe('cb');
    expect(await r.finalStdout()).toMatch(/\tINFO\tafter python 1\n/);
  });

  test('a Node handler that never calls Python starts no Python process', async () => {
    const r = await start();
    expect(body(await r.invoke({ mode: 'none' }))).toBe('no python');
    const python = realPython();
    const procs = descendants(r.proc.pid!);
    expect(procs.filter((p) => /python/i.test(p.cmd) || p.cmd.startsWith(python)), JSON.stringify(procs)).toEqual([]);
    // ...and one that does call Python has one.
    body(await r.invoke({ mode: 'one', text: 'x' }));
    expect(descendants(r.proc.pid!).filter((p) => /worker\.py/.test(p.cmd)).length).toBeGreaterThan(0);
  });
});

describe('pre-start', () => {
  test('a python() function made at module scope starts the worker during init, before any call', async () => {
    run = await startRuntime({
      files: { 'app.js': "const score = tandem.python('model.score');\nexports.handler = async (e) => e.call ? score({ text: 'abc' }) : 'no call';", 'model.py': MODEL },
      handler: 'app.handler',
    });
    expect(body(await run.invoke({}))).toBe('no call');
    const workers = () => descendants(run!.proc.pid!).filter((p) => /worker\.py/.test(p.cmd));
    // The worker was started when the function was made; it may still be starting.
    for (let i = 0; i < 200 && workers().length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(workers().length).toBe(1);
    expect(body(await run.invoke({ call: true }))).toMatchObject({ score: 3, loads: 1 });
    expect(workers().length).toBe(1);
  });
});

describe('python() from the tandem-lambda API, outside the runtime', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-api-'));
  writeFileSync(join(dir, 'model.py'), MODEL);
  const saved = { root: process.env['LAMBDA_TASK_ROOT'], py: process.env['TANDEM_PYTHON'] };
  process.env['LAMBDA_TASK_ROOT'] = dir;
  process.env['TANDEM_PYTHON'] = realPython();
  let api: typeof import('../../src/api.ts') | undefined;

  afterAll(async () => {
    await api?.shutdownPython();
    if (saved.root === undefined) delete process.env['LAMBDA_TASK_ROOT'];
    else process.env['LAMBDA_TASK_ROOT'] = saved.root;
    if (saved.py === undefined) delete process.env['TANDEM_PYTHON'];
    else process.env['TANDEM_PYTHON'] = saved.py;
    rmSync(dir, { recursive: true, force: true });
  });

  test('result, context, PythonError and concurrent calls', async () => {
    api = await import('../../src/api.ts');
    const score = api.python<{ text: string }, { score: number; requestId: string | null }>('model.score');
    const out = await score({ text: 'abc' }, { context: { awsRequestId: 'ctx-1', getRemainingTimeInMillis: () => 5000 } });
    expect(out).toMatchObject({ score: 3, requestId: 'ctx-1' });
    const err = await api.python('model.boom')({ field: 'f' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(api.PythonError);
    expect(err).toMatchObject({ errorType: 'KeyError', fn: 'model.boom' });
    const echoes = await Promise.all([1, 2, 3, 4, 5].map((i) => api!.python('model.echo')({ i })));
    expect(echoes).toEqual([1, 2, 3, 4, 5].map((i) => ({ i })));
    expect(() => api!.python('model')).toThrow(TypeError);
    await expect(api.python('model.echo')({ big: 1n })).rejects.toThrow(/not JSON-serialisable/);
  });
});
