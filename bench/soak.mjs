// Soak: many invocations through the real bootstrap (a Python handler), checking that nothing accumulates.
// Every `--every` invocations it samples the runtime's process tree from /proc: open fds of Node and of
// each worker, resident memory, the number of processes (zombies included). It fails (exit 1) when, after
// the warm-up sample, an fd count differs from the warm-up's, a process is left over, or Node's or a
// worker's RSS grew by more than `--rss-growth-mib`.
//
// With `--faults K`, every K-th invocation breaks the worker on purpose (it closes its frame pipes and
// sleeps: Node replaces the worker, the invocation gets Runtime.WorkerProtocolError), so hundreds of worker
// replacements are soaked too.
//
//   node bench/soak.mjs [--invocations 10000] [--every 1000] [--faults 0] [--concurrency 1]
//                       [--rss-growth-mib 16] [--python <interpreter>] [--json]
//
// A benchmark, not a test: record the command and the figures in BENCHMARKS.md.
import http from 'node:http';
import { spawn, execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const PREFIX = '/2018-06-01/runtime';

function parseArgs(argv) {
  const o = { invocations: 10_000, every: 1000, faults: 0, concurrency: 1, rssGrowthMiB: 16, python: undefined, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = () => Number(argv[++i]);
    if (a === '--invocations') o.invocations = num();
    else if (a === '--every') o.every = num();
    else if (a === '--faults') o.faults = num();
    else if (a === '--concurrency') o.concurrency = num();
    else if (a === '--rss-growth-mib') o.rssGrowthMiB = num();
    else if (a === '--python') o.python = argv[++i];
    else if (a === '--json') o.json = true;
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

// The fault suite's misbehaving function: {} answers, {do: "close_real_then_sleep"} breaks the worker.
const HANDLER = join(root, 'test', 'faults', 'fixtures', 'faults.py');

function stat(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: f[0], ppid: Number(f[1]) };
  } catch {
    return undefined;
  }
}

function rssKiB(pid) {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

function fdCount(pid) {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return -1;
  }
}

function fdLinks(pid) {
  try {
    return readdirSync(`/proc/${pid}/fd`).map((fd) => {
      try {
        return `${fd}=${readlinkSync(`/proc/${pid}/fd/${fd}`)}`;
      } catch {
        return `${fd}=?`;
      }
    });
  } catch {
    return [];
  }
}

/** Node, and each child of it (live workers, and zombies: a zombie is a leak too). */
function sample(nodePid, n) {
  const children = readdirSync('/proc')
    .filter((x) => /^\d+$/.test(x))
    .map(Number)
    .map((pid) => ({ pid, st: stat(pid) }))
    .filter((c) => c.st?.ppid === nodePid);
  const workers = children
    .filter((c) => c.st.state !== 'Z')
    .map((c) => ({ pid: c.pid, fds: fdCount(c.pid), fdLinks: fdLinks(c.pid), rssKiB: rssKiB(c.pid) }));
  return { n, node: { fds: fdCount(nodePid), rssKiB: rssKiB(nodePid) }, workers, zombies: children.length - workers.length };
}

const READ_SYSCALL = { x64: 0, arm64: 63 }[process.arch];

/** True when the process's main thread is blocked in read(2): an idle worker, waiting for Node. */
function waitingInRead(pid) {
  try {
    return Number(readFileSync(`/proc/${pid}/syscall`, 'latin1').split(' ')[0]) === READ_SYSCALL;
  } catch {
    return false;
  }
}

/**
 * A sample taken once every worker is idle (blocked reading its pipe: a replacement may still be starting
 * after a fault) and two samples 100 ms apart agree on the fd and process counts.
 */
async function settledSample(nodePid, n) {
  const shape = (s) => JSON.stringify([s.node.fds, s.zombies, s.workers.map((w) => w.fds)]);
  const idle = (s) => READ_SYSCALL === undefined || s.workers.every((w) => waitingInRead(w.pid));
  let last = sample(nodePid, n);
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const next = sample(nodePid, n);
    if (shape(next) === shape(last) && idle(next)) return next;
    last = next;
  }
  return last;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const python = o.python ?? execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
  const task = mkdtempSync(join(tmpdir(), 'tandem-soak-'));
  copyFileSync(HANDLER, join(task, 'faults.py'));

  // The Runtime API: /next hands out numbered events; POSTs resolve the pending invocation.
  let seq = 0;
  let answered = 0;
  let errors = 0;
  const waiting = [];
  const pending = new Map();
  let onAnswered = () => undefined;
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'GET' && req.url === `${PREFIX}/invocation/next`) return void waiting.push(res), pump();
      const m = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(req.url ?? '');
      res.writeHead(202, { 'Content-Type': 'application/json' }).end('{"status":"OK"}');
      if (!m) return;
      if (m[2] === 'error') errors++;
      pending.delete(m[1]);
      answered++;
      onAnswered();
    });
  });
  const queue = [];
  function pump() {
    while (waiting.length > 0 && queue.length > 0) {
      const res = waiting.shift();
      const inv = queue.shift();
      const body = Buffer.from(JSON.stringify(inv.event));
      res.writeHead(200, {
        'Content-Type': 'application/json',
        'Content-Length': body.length,
        'Lambda-Runtime-Aws-Request-Id': inv.id,
        'Lambda-Runtime-Deadline-Ms': String(Date.now() + 900_000),
        'Lambda-Runtime-Invoked-Function-Arn': 'arn:aws:lambda:us-east-1:123456789012:function:soak',
      });
      res.end(body);
    }
  }
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const address = `127.0.0.1:${server.address().port}`;

  const child = spawn(join(root, 'bootstrap'), [], {
    cwd: task,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      PATH: process.env.PATH,
      LAMBDA_TASK_ROOT: task,
      _HANDLER: 'faults.handler',
      AWS_LAMBDA_RUNTIME_API: address,
      TANDEM_PYTHON: python,
      ...(o.concurrency > 1 ? { AWS_LAMBDA_MAX_CONCURRENCY: String(o.concurrency) } : {}),
    },
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d.toString()));
  let exited = null;
  child.on('exit', (code, signal) => (exited = { code, signal }));

  const samples = [];
  const started = Date.now();
  for (let n = 1; n <= o.invocations; ) {
    // Keep `concurrency` invocations in flight.
    while (queue.length + pending.size < o.concurrency && n <= o.invocations) {
      const id = `soak-${++seq}`;
      // Faults fall between samples (a sample never catches a replacement half started).
      const event = { n, ...(o.faults > 0 && n % o.faults === Math.floor(o.faults / 2) ? { do: 'close_real_then_sleep' } : {}) };
      pending.set(id, true);
      queue.push({ id, event });
      pump();
      n++;
      if ((n - 1) % o.every === 0) {
        await new Promise((r) => (onAnswered = () => pending.size === 0 && r()));
        onAnswered = () => undefined;
        samples.push(await settledSample(child.pid, n - 1));
        if (!o.json) process.stderr.write(`soak: ${n - 1} invocations, node ${samples.at(-1).node.fds} fds ${(samples.at(-1).node.rssKiB / 1024).toFixed(1)} MiB\n`);
      }
    }
    if (exited || n > o.invocations) break;
    await new Promise((r) => (onAnswered = r));
  }
  while (pending.size > 0 && !exited) await new Promise((r) => (onAnswered = r));
  const elapsedS = (Date.now() - started) / 1000;
  child.kill('SIGTERM');
  await new Promise((r) => (exited ? r() : child.on('exit', r)));
  server.close();
  rmSync(task, { recursive: true, force: true });

  // Flat after warm-up: the first sample is the reference.
  const problems = [];
  const ref = samples[0];
  for (const s of samples.slice(1)) {
    if (s.node.fds !== ref.node.fds) problems.push(`at ${s.n}: Node has ${s.node.fds} fds (${ref.node.fds} at ${ref.n})`);
    if (s.workers.length !== ref.workers.length) problems.push(`at ${s.n}: ${s.workers.length} workers (${ref.workers.length} at ${ref.n})`);
    for (const w of s.workers) {
      if (w.fds !== ref.workers[0]?.fds) problems.push(`at ${s.n}: worker ${w.pid} has ${w.fds} fds (${ref.workers[0]?.fds} at ${ref.n}): ${w.fdLinks.join(' ')}`);
    }
    if (s.zombies > ref.zombies) problems.push(`at ${s.n}: ${s.zombies} zombies (${ref.zombies} at ${ref.n})`);
  }
  const last = samples.at(-1);
  const growth = ((last?.node.rssKiB ?? 0) - (ref?.node.rssKiB ?? 0)) / 1024;
  if (growth > o.rssGrowthMiB) problems.push(`Node RSS grew ${growth.toFixed(1)} MiB from ${ref.n} to ${last.n}`);
  const wGrowth = Math.max(0, ...((last?.workers ?? []).map((w, i) => (w.rssKiB - (ref.workers[i]?.rssKiB ?? w.rssKiB)) / 1024)));
  if (o.faults === 0 && wGrowth > o.rssGrowthMiB) problems.push(`a worker's RSS grew ${wGrowth.toFixed(1)} MiB`);
  if (answered < o.invocations) problems.push(`only ${answered} of ${o.invocations} invocations were answered (runtime: ${JSON.stringify(exited)})`);
  let expectedErrors = 0;
  for (let n = 1; o.faults > 0 && n <= o.invocations; n++) if (n % o.faults === Math.floor(o.faults / 2)) expectedErrors++;
  if (errors !== expectedErrors) problems.push(`${errors} error answers, expected ${expectedErrors}`);
  const tandemLines = stderr.split('\n').filter((l) => l.startsWith('tandem:')).length;
  if (tandemLines !== expectedErrors) problems.push(`${tandemLines} tandem: lines on stderr, expected ${expectedErrors}`);

  const report = { options: o, elapsedS, answered, errors, tandemLines, samples, problems };
  if (o.json) console.log(JSON.stringify(report));
  else {
    console.log(`soak: ${answered} invocations in ${elapsedS.toFixed(1)} s (${o.faults ? `${errors} worker replacements, ` : ''}concurrency ${o.concurrency})`);
    console.log('invocations  node fds  node RSS MiB  workers (fds / RSS MiB)  zombies');
    for (const s of samples) {
      const w = s.workers.map((x) => `${x.fds} / ${(x.rssKiB / 1024).toFixed(1)}`).join(', ');
      console.log(`${String(s.n).padStart(11)}  ${String(s.node.fds).padStart(8)}  ${(s.node.rssKiB / 1024).toFixed(1).padStart(12)}  ${w.padEnd(23)}  ${s.zombies}`);
    }
    console.log(problems.length ? `FAILED:\n  ${problems.join('\n  ')}` : 'flat: fds, processes and memory stayed put');
  }
  process.exit(problems.length ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(2);
});
