// The benchmark's fake Lambda Runtime API, run in its own process: serves /next and the response POSTs on
// 127.0.0.1 (node:http, keep-alive, no logging, no recording, minimal work), spawns one runtime command per
// session with the Lambda environment, drives the workloads (cold, memory, warm, payload, stream) and
// reports the raw figures back to the parent (IPC message, or JSON on stdout when run by hand:
// `node bench/fake-runtime-api.mjs plan.json`).
import http from 'node:http';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { treePids, rssKiB, rssSumKiB, hwmSumKiB, cpuNs, cpuNsByProcess, fdCount, commOf, userSysMsByProcess, residentByMapping } from './lib/proc-tree.mjs';
import { createCpuGroup } from './lib/cpu-group.mjs';
import { median, percentile } from './lib/stats.mjs';

const PREFIX = '/2018-06-01';
const NEXT_PATH = `${PREFIX}/runtime/invocation/next`;
const INIT_ERROR_PATH = `${PREFIX}/runtime/init/error`;
const POST_PATH = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/;
const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:bench';
const TRACE = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0';
const ACCEPTED = Buffer.from('{"status":"OK"}');
const MiB = 1024 * 1024;
const now = () => performance.now();

/** One runtime process and the Runtime API it talks to; invocations run one at a time. */
class Session {
  constructor(server, runtime) {
    this.server = server;
    this.runtime = runtime;
    this.seq = 0;
    this.queue = []; // invocations waiting for a /next
    this.waitingNext = null; // a /next response waiting for an invocation
    this.current = null; // the invocation the runtime holds
    this.firstNextAt = NaN;
    this.failure = null;
    this.stderr = '';
  }

  onNext(res) {
    if (Number.isNaN(this.firstNextAt)) this.firstNextAt = now();
    const inv = this.queue.shift();
    if (inv) this.deliver(inv, res);
    else this.waitingNext = res;
  }

  deliver(inv, res) {
    this.current = inv;
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Content-Length': inv.body.length,
      'Lambda-Runtime-Aws-Request-Id': inv.id,
      'Lambda-Runtime-Deadline-Ms': String(Date.now() + 900_000),
      'Lambda-Runtime-Invoked-Function-Arn': ARN,
      'Lambda-Runtime-Trace-Id': TRACE,
    });
    inv.t0 = now();
    res.end(inv.body);
  }

  /** Queues one event; resolves when the runtime's POST for it has fully arrived. */
  invoke(body, keepBody = true) {
    return new Promise((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      const inv = { id: `bench-${++this.seq}`, body, keepBody, resolve, reject, t0: NaN };
      const res = this.waitingNext;
      if (res) {
        this.waitingNext = null;
        this.deliver(inv, res);
      } else {
        this.queue.push(inv);
      }
    });
  }

  onPost(req, res, id, kind) {
    const inv = this.current;
    if (!inv || inv.id !== decodeURIComponent(id)) {
      req.resume();
      res.writeHead(400, { 'Content-Type': 'application/json' });
      res.end('{"errorType":"InvalidRequestID"}');
      return;
    }
    this.current = null;
    const chunks = [];
    let bytes = 0;
    let firstDataAt = NaN;
    req.on('data', (chunk) => {
      if (bytes === 0) firstDataAt = now();
      bytes += chunk.length;
      if (inv.keepBody) chunks.push(chunk);
    });
    req.on('end', () => {
      const endAt = now();
      res.writeHead(202, { 'Content-Type': 'application/json', 'Content-Length': ACCEPTED.length });
      res.end(ACCEPTED);
      const trailerError = req.trailers['lambda-runtime-function-error-type'];
      const outcome = {
        kind: kind === 'error' || trailerError ? 'error' : 'response',
        streamed: req.headers['lambda-runtime-function-response-mode'] === 'streaming',
        contentType: req.headers['content-type'],
        bytes,
        body: inv.keepBody ? Buffer.concat(chunks) : null,
        trailerError,
        latencyMs: endAt - inv.t0,
        ttfbMs: firstDataAt - inv.t0,
        t0: inv.t0,
        endAt,
      };
      if (outcome.kind === 'error') {
        inv.reject(new Error(`invocation failed: ${trailerError ?? ''} ${outcome.body?.toString().slice(0, 500)}`));
      } else {
        inv.resolve(outcome);
      }
    });
  }

  fail(error) {
    if (this.failure) return;
    this.failure = error;
    for (const inv of [this.current, ...this.queue]) inv?.reject(error);
    this.queue = [];
    this.current = null;
  }

  /** Waits until the runtime is parked in /next (idle between invocations). */
  async idle() {
    const until = now() + 10_000;
    while (!this.waitingNext) {
      if (this.failure) throw this.failure;
      if (now() > until) throw new Error('runtime did not come back to /next within 10 s');
      await new Promise((r) => setTimeout(r, 1));
    }
  }
}

function startServer() {
  let session = null;
  const server = http.createServer((req, res) => {
    // A connection belongs to the session (runtime process) that opened it: a request from a runtime that
    // is being killed must not take the next session's invocation.
    req.socket.benchSession ??= session;
    const s = req.socket.benchSession;
    if (!s || s !== session) {
      res.writeHead(500).end();
      return;
    }
    if (req.method === 'GET' && req.url === NEXT_PATH) {
      s.onNext(res);
      return;
    }
    const m = req.method === 'POST' ? POST_PATH.exec(req.url) : null;
    if (m) {
      s.onPost(req, res, m[1], m[2]);
      return;
    }
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      if (req.url === INIT_ERROR_PATH) {
        s.fail(new Error(`runtime posted /init/error: ${Buffer.concat(chunks).toString().slice(0, 1000)}`));
        res.writeHead(202).end(ACCEPTED);
      } else {
        res.writeHead(404).end();
      }
    });
  });
  server.keepAliveTimeout = 600_000;
  server.headersTimeout = 600_000;
  server.requestTimeout = 0;
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: server.address().port,
        use: (s) => {
          session = s;
        },
        close: () => {
          server.closeAllConnections?.();
          server.close();
        },
      }),
    );
  });
}

function lambdaEnv(port, taskRoot, handler, extra) {
  return {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${port}`,
    _HANDLER: handler,
    LAMBDA_TASK_ROOT: taskRoot,
    LAMBDA_RUNTIME_DIR: taskRoot,
    AWS_LAMBDA_FUNCTION_NAME: 'bench',
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
    AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/bench',
    AWS_LAMBDA_LOG_STREAM_NAME: '2026/01/01/[$LATEST]bench',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_EXECUTION_ENV: 'AWS_Lambda_provided.al2023',
    ...extra,
  };
}

const SESSION_LIMIT_MS = 120_000;

/**
 * What the workloads measure the runtime with. Without a CPU group: the process tree of the runtime's pid
 * (descendants and process group), CPU from the threads' schedstat. In a CPU group: exactly the processes in
 * the group, CPU from cpuacct (which also counts threads and processes that have exited).
 */
function probeFor(pid, group) {
  const procs = () => (group ? group.pids().map((p) => ({ pid: p, comm: commOf(p) })) : treePids(pid));
  return {
    group,
    procs,
    /** Total CPU (ns) of the runtime so far; `snapshot` is the process list the figure covers without a group. */
    cpuNs: (snapshot) => (group ? group.usageNs() : cpuNs(snapshot ?? procs())),
    throttle: () => (group ? group.stat() : null),
  };
}

/** Spawns the runtime for one handler, runs the session's workloads, kills the runtime's process group. */
async function runSession(server, plan, spec) {
  let { command, args = [], env = {} } = plan.runtime;
  const session = new Session(server, plan.runtime);
  server.use(session);
  const out = { handler: spec.handler };
  // Lambda's CPU share: the runtime and everything it starts in a CPU group of their own (plan.cpuGroup:
  // { memoryMb }; memoryMb null: accounting only, no quota).
  const memoryMb = plan.cpuGroup?.memoryMb ?? spec.memoryMb ?? null;
  const group = plan.cpuGroup && !spec.noGroup ? createCpuGroup(`${plan.label}-${spec.name}`, memoryMb) : null;
  if (group) ({ command, args } = group.wrap(command, args));
  if (group) out.cpuGroup = { name: group.name, memoryMb, quotaUs: group.quotaUs };
  const extraEnv = memoryMb ? { AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memoryMb), ...env } : env;
  const tSpawn = now();
  const child = spawn(command, args, {
    env: lambdaEnv(server.port, spec.taskRoot ?? plan.taskRoot, spec.handler, extraEnv),
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  child.stderr.on('data', (d) => {
    if (session.stderr.length < 8192) session.stderr += d.toString();
  });
  child.on('error', (e) => session.fail(e));
  child.on('exit', (code, signal) =>
    session.fail(new Error(`runtime exited (code ${code}, signal ${signal}); stderr: ${session.stderr.slice(-2000)}`)),
  );
  const killGroup = () => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  process.on('exit', killGroup);
  const limitMs = plan.sessionLimitMs ?? SESSION_LIMIT_MS;
  const timer = setTimeout(
    () => session.fail(new Error(`session ${spec.name} over ${limitMs} ms; runtime stderr: ${session.stderr.slice(-2000)}`)),
    limitMs,
  );
  try {
    const first = await session.invoke(Buffer.from(spec.firstEvent ?? '{}'));
    out.cold = { spawnToNextMs: session.firstNextAt - tSpawn, spawnToResponseMs: first.endAt - tSpawn };
    out.firstResponse = first.body.toString().slice(0, 200);
    out.spawnedAtEpochMs = performance.timeOrigin + tSpawn;
    if (plan.keepStderr) out.stderr = session.stderr;
    const probe = probeFor(child.pid, group);
    for (const w of spec.workloads) {
      if (!Object.hasOwn(WORKLOADS, w.kind)) throw new Error(`unknown workload "${w.kind}"`);
      const tw = now();
      out[w.kind] = await WORKLOADS[w.kind](session, probe, w);
      (out.elapsedMs ??= {})[w.kind] = Math.round(now() - tw);
    }
  } finally {
    clearTimeout(timer);
    if (plan.stopSignal) {
      // Let the runtime end on its own first (profilers write their output on exit).
      child.removeAllListeners('exit');
      try {
        process.kill(child.pid, plan.stopSignal);
      } catch {
        // already gone
      }
      await new Promise((r) => setTimeout(r, plan.stopGraceMs ?? 1000));
    }
    killGroup();
    process.off('exit', killGroup);
    child.removeAllListeners('exit');
    if (group) {
      const problem = await group.remove();
      if (problem) out.cpuGroupCleanup = problem;
    }
  }
  return out;
}

function eventOfSize(size) {
  // {"data":"aaa..."}: exactly `size` bytes of JSON.
  const overhead = '{"data":""}'.length;
  return Buffer.from(`{"data":"${'a'.repeat(Math.max(0, size - overhead))}"}`);
}

/** Resident memory and open fds of the runtime once it is idle (parked in /next). */
async function idleFootprint(session, probe) {
  await session.idle();
  await new Promise((r) => setTimeout(r, 10));
  const procs = rssKiB(probe.procs());
  return {
    invocations: session.seq,
    rssMiB: procs.reduce((a, p) => a + p.rssKiB, 0) / 1024,
    fds: fdCount(procs),
    processes: procs.map(({ pid, comm, rssKiB, anonKiB, fileKiB }) => ({
      pid,
      comm,
      rssKiB,
      anonKiB,
      fileKiB,
      byMappingKiB: residentByMapping(pid),
    })),
  };
}

/** `n` back-to-back invocations of `body`: rate, latency percentiles, CPU per invocation, throttling. */
async function measureWindow(session, probe, body, n) {
  await session.idle();
  const procs = probe.procs();
  const byProcess0 = cpuNsByProcess(procs);
  const us0 = userSysMsByProcess(procs);
  const cpu0 = probe.cpuNs(procs);
  const thr0 = probe.throttle();
  const self0 = process.cpuUsage();
  const lat = new Array(n);
  const t0 = now();
  for (let i = 0; i < n; i++) lat[i] = (await session.invoke(body, false)).latencyMs;
  const elapsed = now() - t0;
  const cpu = probe.cpuNs(procs) - cpu0;
  const thr = probe.throttle();
  const self = process.cpuUsage(self0);
  const byProcess = Object.entries(cpuNsByProcess(procs)).map(([name, ns]) => [name, (ns - (byProcess0[name] ?? 0)) / n / 1000]);
  const userSys = Object.entries(userSysMsByProcess(procs)).map(([name, t]) => [
    name,
    { userUs: ((t.userMs - (us0[name]?.userMs ?? 0)) * 1000) / n, sysUs: ((t.sysMs - (us0[name]?.sysMs ?? 0)) * 1000) / n },
  ]);
  let sum = 0;
  for (const x of lat) sum += x;
  return {
    n,
    invocationsPerSec: n / (elapsed / 1000),
    p50Ms: percentile(lat, 50),
    p90Ms: percentile(lat, 90),
    p99Ms: percentile(lat, 99),
    maxMs: Math.max(...lat),
    meanMs: sum / n,
    runtimeCpuUsPerInvoke: cpu / n / 1000,
    cpuUsPerInvokeByProcess: Object.fromEntries(byProcess),
    // The same split into user and kernel time (clock ticks: coarse, meaningful over a whole window).
    userSysUsPerInvokeByProcess: Object.fromEntries(userSys),
    fakeApiCpuUsPerInvoke: (self.user + self.system) / n,
    ...(thr && thr0
      ? {
          periods: thr.nr_periods - thr0.nr_periods,
          throttledPeriods: thr.nr_throttled - thr0.nr_throttled,
          throttledMs: (thr.throttled_time - thr0.throttled_time) / 1e6,
        }
      : {}),
    // Every latency, in order (where in the run the slow ones fall: GC, JIT, throttling).
    latenciesMs: lat.map((x) => Math.round(x * 1000) / 1000),
  };
}

const WORKLOADS = {
  /**
   * A sandbox's life under Lambda's CPU share, one runtime: footprint after init (idle after the first
   * invocation), the first `n` invocations after `warmup`, the footprint after `rssAt` invocations, then
   * `n` invocations after `lateAt` (Node's JIT warm by then), and the footprint at the end.
   */
  async lifetime(session, probe, { warmup = 100, n = 1000, rssAt = 2000, lateAt = 5000, event = '{}' }) {
    const body = Buffer.from(event);
    const runTo = async (count) => {
      while (session.seq < count) await session.invoke(body, false);
    };
    const out = { afterInit: await idleFootprint(session, probe) };
    await runTo(1 + warmup);
    out.early = await measureWindow(session, probe, body, n);
    if (rssAt) {
      await runTo(rssAt);
      out.afterRssAt = await idleFootprint(session, probe);
    }
    if (lateAt) {
      await runTo(lateAt);
      out.late = await measureWindow(session, probe, body, n);
    }
    out.end = await idleFootprint(session, probe);
    return out;
  },

  /**
   * The memory soak: `n` invocations, the tree's RSS and open fds sampled (idle) every `every`: a leak
   * shows as growth. (Resource use over a long life; the reliability suite has its own checks.)
   */
  async memorySoak(session, probe, { n, every = 1000, event = '{}' }) {
    const body = Buffer.from(event);
    const samples = [await idleFootprint(session, probe)];
    const cpu0 = probe.cpuNs();
    const start = session.seq;
    while (session.seq - start < n) {
      await session.invoke(body, false);
      if ((session.seq - start) % every === 0) {
        const f = await idleFootprint(session, probe);
        delete f.processes;
        samples.push(f);
      }
    }
    return { n, cpuUsPerInvoke: (probe.cpuNs() - cpu0) / n / 1000, samples };
  },

  /** Invocations whose figures are dropped: lets the JIT of a Node runtime warm up before measuring. */
  async warmup(session, _probe, { event, n, maxMs = Infinity }) {
    const body = Buffer.from(event);
    const until = now() + maxMs;
    let i = 0;
    while (i < n && now() < until) {
      await session.invoke(body, false);
      i++;
    }
    return { n: i };
  },

  /** Resident memory of the whole tree once the runtime is idle after its first invocation. */
  async memoryIdle(session, probe) {
    await session.idle();
    const procs = rssKiB(probe.procs());
    return { rssMiB: procs.reduce((a, p) => a + p.rssKiB, 0) / 1024, processes: procs };
  },

  /** N back-to-back invocations after a warm-up (each phase also bounded in time, for a loaded machine). */
  async warm(session, probe, { warmup, n: maxN, event = '{}', maxMs = Infinity, warmupMaxMs = maxMs / 2 }) {
    const body = Buffer.from(event);
    const warmUntil = now() + warmupMaxMs;
    for (let i = 0; i < warmup && now() < warmUntil; i++) await session.invoke(body, false);
    await session.idle();
    const procs = probe.procs();
    const lat = [];
    const byProcess0 = cpuNsByProcess(procs);
    const cpu0 = probe.cpuNs(procs);
    const self0 = process.cpuUsage();
    const t0 = now();
    const until = t0 + maxMs;
    while (lat.length < maxN && (lat.length < 100 || now() < until)) lat.push((await session.invoke(body, false)).latencyMs);
    const n = lat.length;
    const elapsed = now() - t0;
    const self = process.cpuUsage(self0);
    const cpu = probe.cpuNs(procs) - cpu0;
    const byProcess = Object.entries(cpuNsByProcess(procs)).map(([name, ns]) => [name, (ns - (byProcess0[name] ?? 0)) / n / 1000]);
    return {
      n,
      invocationsPerSec: n / (elapsed / 1000),
      p50Ms: percentile(lat, 50),
      p99Ms: percentile(lat, 99),
      runtimeCpuUsPerInvoke: cpu / n / 1000,
      cpuUsPerInvokeByProcess: Object.fromEntries(byProcess),
      fakeApiCpuUsPerInvoke: (self.user + self.system) / n,
    };
  },

  /** Echo of events of the given sizes: median latency per size. */
  async payload(session, probe, { sizes, reps, warmup = 1, maxMsPerSize = Infinity, minReps = 3 }) {
    const out = {};
    const procs = probe.procs();
    for (const size of sizes) {
      const body = eventOfSize(size);
      const lat = [];
      const cpu = [];
      let byProcess0;
      const until = now() + maxMsPerSize;
      for (let i = 0; i < warmup + reps; i++) {
        if (i >= warmup + minReps && now() > until) break;
        if (i === warmup) byProcess0 = cpuNsByProcess(procs);
        const c0 = probe.cpuNs(procs);
        const r = await session.invoke(body, i === 0);
        if (i >= warmup) cpu.push((probe.cpuNs(procs) - c0) / 1e6);
        if (i === 0) {
          const echoed = JSON.parse(r.body.toString());
          if (echoed.data?.length !== body.length - 11) throw new Error(`echo of ${size} B came back wrong`);
        }
        if (i >= warmup) lat.push(r.latencyMs);
      }
      const byProcess = Object.entries(cpuNsByProcess(procs)).map(([name, ns]) => [
        name,
        (ns - (byProcess0[name] ?? 0)) / 1e6 / lat.length,
      ]);
      out[size] = {
        medianMs: median(lat),
        minMs: Math.min(...lat),
        runtimeCpuMs: median(cpu),
        cpuMsByProcess: Object.fromEntries(byProcess),
        reps: lat.length,
      };
    }
    return out;
  },

  /** Peak resident memory of the tree during 1 MiB echoes: sampled sum of RSS, and the sum of VmHWM. */
  async memoryPeak(session, probe, { size, reps }) {
    await session.idle();
    const procs = probe.procs();
    const body = eventOfSize(size);
    let peak = rssSumKiB(procs);
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssSumKiB(procs));
    }, 1);
    try {
      for (let i = 0; i < reps; i++) {
        const r = await session.invoke(body, false);
        peak = Math.max(peak, rssSumKiB(procs));
        if (r.bytes < body.length - 16) throw new Error(`echo of ${size} B came back short (${r.bytes} B)`);
      }
    } finally {
      clearInterval(sampler);
    }
    return { sampledPeakMiB: peak / 1024, hwmSumMiB: hwmSumKiB(procs) / 1024 };
  },

  /** Streams of k chunks of b bytes: time to first byte and throughput. */
  async stream(session, probe, { shapes, reps, warmup = 1, maxMsPerShape = Infinity, minReps = 3 }) {
    const out = {};
    const procs = probe.procs();
    for (const { k, b } of shapes) {
      const body = Buffer.from(JSON.stringify({ k, b }));
      const ttfb = [];
      const mibps = [];
      const cpu = [];
      let byProcess0;
      const until = now() + maxMsPerShape;
      for (let i = 0; i < warmup + reps; i++) {
        if (i >= warmup + minReps && now() > until) break;
        if (i === warmup) byProcess0 = cpuNsByProcess(procs);
        const c0 = probe.cpuNs(procs);
        const r = await session.invoke(body, i === 0);
        if (i >= warmup) cpu.push((probe.cpuNs(procs) - c0) / 1e3 / k);
        if (r.bytes !== k * b) throw new Error(`stream ${k}x${b} B delivered ${r.bytes} B`);
        if (i === 0) {
          if (!r.streamed) throw new Error('stream response was not posted in streaming mode');
          if (r.body.some((c) => c !== 0x78)) throw new Error(`stream ${k}x${b} B delivered wrong bytes`);
        }
        if (i >= warmup) {
          ttfb.push(r.ttfbMs);
          mibps.push((k * b) / MiB / (r.latencyMs / 1000));
        }
      }
      const byProcess = Object.entries(cpuNsByProcess(procs)).map(([name, ns]) => [
        name,
        (ns - (byProcess0[name] ?? 0)) / 1e3 / k / ttfb.length,
      ]);
      out[`${k}x${b}`] = {
        k,
        b,
        ttfbMs: median(ttfb),
        mibPerSec: median(mibps),
        runtimeCpuUsPerChunk: median(cpu),
        cpuUsPerChunkByProcess: Object.fromEntries(byProcess),
        reps: ttfb.length,
      };
    }
    return out;
  },
};

async function main() {
  const plan = process.send
    ? await new Promise((resolve) => process.once('message', resolve))
    : JSON.parse(readFileSync(process.argv[2], 'utf8'));
  const server = await startServer();
  const result = { label: plan.label, sessions: {} };
  try {
    for (const spec of plan.sessions) result.sessions[spec.name] = await runSession(server, plan, spec);
  } catch (error) {
    result.error = String(error?.stack ?? error);
  } finally {
    server.close();
  }
  if (process.send) process.send(result, () => process.exit(0));
  else process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

main();
