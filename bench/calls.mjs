// The Node -> Python call bench (issue 5), run in its own process: the round trip of one call with a 1 KiB
// JSON payload through tandem's python() API, through python-shell (JSON lines over stdio to one long-lived
// script; and, for reference, PythonShell.run: one process per call), and as a direct in-process
// JavaScript call (the floor); plus an in-process call of the Node hello handler (the floor for
// Node handlers run by tandem). Alternates the contenders in blocks and reports per-call medians.
// Run by bench/run.mjs over IPC, or by hand: `node bench/calls.mjs '{"n":200}'`.
import { performance } from 'node:perf_hooks';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PythonShell } from 'python-shell';
import { median, percentile } from './lib/stats.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const taskRoot = join(here, 'handlers');
const FUNCTION = 'calls.echo';

function payloadOf(bytes) {
  return { data: 'a'.repeat(Math.max(0, bytes - '{"data":""}'.length)) };
}

async function timeCalls(call, payload, n, warmup) {
  for (let i = 0; i < warmup; i++) await call(payload);
  const lat = new Array(n);
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await call(payload);
    lat[i] = (performance.now() - t0) * 1000;
  }
  return lat;
}

function startPythonShell(python) {
  const shell = new PythonShell(join(here, 'baselines', 'shell_worker.py'), {
    mode: 'json',
    pythonPath: python,
    pythonOptions: ['-u'],
    args: [taskRoot, FUNCTION],
    env: { PATH: process.env.PATH, LANG: 'en_US.UTF-8' },
  });
  const waiting = [];
  shell.on('message', (m) => waiting.shift()?.resolve(m));
  shell.on('error', (e) => waiting.shift()?.reject(e));
  shell.on('pythonError', (e) => waiting.shift()?.reject(e));
  const call = (payload) =>
    new Promise((resolve, reject) => {
      waiting.push({ resolve, reject });
      shell.send(payload);
    });
  return { call, close: () => new Promise((r) => shell.end(() => r())) };
}

async function startTandem(python, tandemDir = root) {
  const api = await import(pathToFileURL(join(tandemDir, 'dist', 'api.mjs')).href);
  if (typeof api.python !== 'function') return { why: 'dist/api.mjs exports no python() yet' };
  const call = api.python(FUNCTION);
  const close = async () => {
    for (const name of ['shutdown', 'close', 'closePython', 'shutdownPython']) {
      if (typeof api[name] === 'function') return api[name]();
    }
  };
  return { call, close, python };
}

async function main() {
  const opts = process.send ? await new Promise((r) => process.once('message', r)) : JSON.parse(process.argv[2] ?? '{}');
  const { n = 500, warmup = 50, rounds = 3, payloadBytes = 1024, python, tandem: tandemDir, runCalls = 5 } = opts;
  // tandem's python() finds the function's module under LAMBDA_TASK_ROOT, with the interpreter TANDEM_PYTHON.
  process.env.LAMBDA_TASK_ROOT = taskRoot;
  process.env.TANDEM_PYTHON = python;
  delete process.env.PYTHONDONTWRITEBYTECODE;
  const payload = payloadOf(payloadBytes);
  const out = { payloadBytes, n, rounds, contenders: {} };
  const contenders = {};
  const shell = startPythonShell(python);
  contenders.pythonShell = shell.call;
  let tandem;
  try {
    tandem = await startTandem(python, tandemDir);
    if (tandem.call) contenders.tandem = tandem.call;
    else out.tandemUnavailable = tandem.why;
  } catch (error) {
    out.tandemUnavailable = String(error?.message ?? error);
  }
  const runOptions = { mode: 'json', pythonPath: python, env: { PATH: process.env.PATH, LANG: 'en_US.UTF-8' } };
  const shellRun = async (p) =>
    (
      await PythonShell.run(join(here, 'baselines', 'shell_run.py'), {
        ...runOptions,
        args: [taskRoot, FUNCTION, JSON.stringify(p)],
      })
    )[0];
  const direct = async (p) => p;
  contenders.direct = direct;
  if (runCalls > 0) contenders.pythonShellRun = shellRun;
  const { handler } = await import(pathToFileURL(join(taskRoot, 'node', 'hello.mjs')).href);
  contenders.nodeHandlerInProcess = async (p) => JSON.stringify(await handler(JSON.parse(JSON.stringify(p)), {}));

  // Correctness first: every contender must echo the payload.
  for (const [name, call] of Object.entries(contenders)) {
    try {
      const r = await call(payload);
      if (name !== 'nodeHandlerInProcess' && r?.data !== payload.data) throw new Error(`${name} echoed something else`);
    } catch (error) {
      out.errors = { ...out.errors, [name]: String(error?.message ?? error) };
      delete contenders[name];
    }
  }
  const samples = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]));
  for (let r = 0; r < rounds; r++) {
    const names = Object.keys(contenders);
    if (r % 2) names.reverse();
    for (const name of names) {
      // A process per call costs tens of milliseconds: a few calls per round are enough.
      const perCall = name === 'pythonShellRun';
      const warm = r > 0 ? 0 : perCall ? 1 : warmup;
      samples[name].push(...(await timeCalls(contenders[name], payload, perCall ? runCalls : n, warm)));
    }
  }
  for (const [name, lat] of Object.entries(samples)) {
    out.contenders[name] = { medianUs: median(lat), p99Us: percentile(lat, 99), calls: lat.length };
  }
  await shell.close();
  await tandem?.close?.();
  if (process.send) process.send(out, () => process.exit(0));
  else {
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    process.exit(0);
  }
}

main();
