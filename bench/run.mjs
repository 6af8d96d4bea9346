// `npm run bench`: runs every workload against tandem and the baselines on two free cores, alternating sides
// pair by pair (A B A B, the order reversed every other pair), then the Node -> Python call bench, then the
// Lambda CPU-share comparison (lambda.mjs: each runtime in a CPU-quota group at 128, 512 and 1,769 MB's
// share, side by side with the seed loop); prints medians, ratios against the baselines measured in the
// same run and the targets' verdict, and writes bench/results/latest.json.
//
//   node bench/run.mjs [--pairs N] [--smoke] [--out file] [--sides tandem,seed,...] [--no-node22] [--no-calls]
//                      [--tandem DIR]   (a built tandem checkout to test instead of this one)
//                      [--lambda-memory 128,512,1769 | off] [--lambda-pairs N] [--soak N] [--no-two-core]
//                      [--lambda-before DIR]   (another built checkout as side tandem-before, for before/after)
//
// --smoke runs each workload once with tiny sizes (correctness only; used by test/bench/smoke.test.ts).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { cpus, totalmem, getPriority, setPriority } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { median, ratio, round } from './lib/stats.mjs';
import { findNode22, findOfficialNode } from './lib/node22.mjs';
import { TARGETS, LAMBDA_TARGETS } from './targets.mjs';
import { DEFAULT_LAMBDA_MEMORY, LAMBDA_ROWS, lambdaCell, runLambdaShare, soakVerdict } from './lambda.mjs';
import { runChild } from './lib/run-child.mjs';
import { byRole } from './lib/roles.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const KiB = 1024;
const MiB = 1024 * KiB;

function parseArgs(argv) {
  const opts = {
    pairs: undefined,
    smoke: false,
    out: join(here, 'results', 'latest.json'),
    sides: null,
    node22: true,
    calls: true,
    tandem: root,
    twoCore: true,
    lambdaMemory: undefined,
    lambdaPairs: undefined,
    soak: undefined,
    node24: true,
    lambdaBefore: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--pairs') opts.pairs = Number(value());
    else if (a === '--smoke') opts.smoke = true;
    else if (a === '--out') opts.out = value();
    else if (a === '--sides') opts.sides = value().split(',');
    else if (a === '--no-node22') opts.node22 = false;
    else if (a === '--no-calls') opts.calls = false;
    else if (a === '--tandem') opts.tandem = value();
    else if (a === '--no-two-core') opts.twoCore = false;
    else if (a === '--no-node24') opts.node24 = false;
    else if (a === '--lambda-memory') {
      const v = value();
      opts.lambdaMemory = v === 'off' || v === 'none' ? [] : v.split(',').map(Number);
      if (opts.lambdaMemory.some((mb) => !Number.isInteger(mb) || mb < 128 || mb > 10240)) {
        throw new Error('--lambda-memory takes memory sizes in MB (128 to 10240), comma-separated, or off');
      }
    } else if (a === '--lambda-pairs') opts.lambdaPairs = Number(value());
    else if (a === '--soak') opts.soak = Number(value());
    else if (a === '--lambda-before') opts.lambdaBefore = value();
    else throw new Error(`unknown option ${a}`);
  }
  opts.pairs ??= opts.smoke ? 1 : 5;
  if (!Number.isInteger(opts.pairs) || opts.pairs < 1) throw new Error('--pairs must be a positive integer');
  opts.lambdaMemory ??= opts.smoke ? [1769] : DEFAULT_LAMBDA_MEMORY;
  opts.lambdaPairs ??= opts.smoke ? 1 : 3;
  if (!Number.isInteger(opts.lambdaPairs) || opts.lambdaPairs < 1) throw new Error('--lambda-pairs must be a positive integer');
  opts.soak ??= 12_000;
  if (!Number.isInteger(opts.soak) || opts.soak < 0) throw new Error('--soak must be a whole number of invocations (0: none)');
  return opts;
}

/** Workload sizes: the real ones, or tiny ones for the smoke test. */
function workloads(smoke) {
  return smoke
    ? {
        warm: { warmup: 2, n: 5 },
        jitWarmup: { n: 2 },
        payloadSizes: [1 * KiB, 64 * KiB],
        payloadReps: 1,
        peak: { size: 64 * KiB, reps: 1 },
        streamShapes: [{ k: 3, b: 64 }],
        streamReps: 1,
        extraCold: 0,
        calls: { n: 5, warmup: 1, runCalls: 1 },
      }
    : {
        // Node's JIT needs a few thousand invocations to reach steady state (measured: tandem's Node side
        // costs ~210 us per invocation after 300 warm-up invocations, ~100 us after 3,000).
        // Every phase is also capped in time, so that a busy machine cannot stretch the run past ~3 minutes.
        warm: { warmup: 3000, n: 3000, warmupMaxMs: 3000, maxMs: 2500 },
        // Echo and stream sessions start a fresh runtime: warm its JIT first, as the hello session does.
        jitWarmup: { n: 2000, maxMs: 1000 },
        payloadSizes: [1 * KiB, 100 * KiB, 1 * MiB, 5 * MiB],
        payloadReps: 5,
        peak: { size: 1 * MiB, reps: 3 },
        streamShapes: [
          { k: 1, b: 64 }, // time to first byte with nothing queued behind it
          { k: 1000, b: 64 },
          { k: 100, b: 64 * KiB },
        ],
        streamReps: 9,
        extraCold: 1,
        calls: { n: 400, warmup: 100, runCalls: 3 },
      };
}

function sessionsFor(kind, w) {
  const hello = { name: 'hello', handler: 'hello.handler', workloads: [{ kind: 'memoryIdle' }] };
  const extraCold = Array.from({ length: w.extraCold }, (_, i) => ({
    name: `cold${i + 2}`,
    handler: 'hello.handler',
    workloads: [],
  }));
  if (kind === 'cold-only') return [hello, ...extraCold];
  hello.workloads.push({ kind: 'warm', ...w.warm });
  if (kind === 'node-handler') return [hello, ...extraCold];
  return [
    hello,
    ...extraCold,
    {
      name: 'echo',
      handler: 'echo.handler',
      workloads: [
        { kind: 'warmup', event: `{"data":"${'a'.repeat(1013)}"}`, ...w.jitWarmup },
        { kind: 'memoryPeak', ...w.peak },
        { kind: 'payload', sizes: w.payloadSizes, reps: w.payloadReps, warmup: 1, maxMsPerSize: 1200 },
      ],
    },
    {
      name: 'stream',
      handler: 'stream.handler',
      firstEvent: '{"k":1,"b":1}',
      workloads: [
        { kind: 'warmup', event: '{"k":4,"b":64}', ...w.jitWarmup },
        { kind: 'stream', shapes: w.streamShapes, reps: w.streamReps, warmup: 1, maxMsPerShape: 1200 },
      ],
    },
  ];
}

/** The runtimes under test. Every side gets the same clean Lambda environment (no NODE_EXTRA_CA_CERTS, no
 *  PYTHONDONTWRITEBYTECODE) and the real interpreter path, never a version-manager shim. */
/** A second interpreter for the cold-start comparison: this machine's pyenv Python runs a site .pth at every
 *  start (it imports certifi, ~100 ms) that Lambda's Python does not; Debian's python3.11 has no such cost. */
const SYSTEM_PYTHON = '/usr/bin/python3.11';

function defineSides(python, node22, w, tandemDir, coldPython) {
  const handlers = join(here, 'handlers');
  const nodeDir = dirname(process.execPath);
  const tandemEnv = (nodeBinDir) => ({
    TANDEM_PYTHON: python,
    TANDEM_NODE: join(nodeBinDir, 'node'),
    PATH: `${nodeBinDir}:/usr/local/bin:/usr/bin:/bin`,
  });
  const bootstrap = join(tandemDir, 'bootstrap');
  const sides = [
    {
      name: 'tandem',
      what: 'tandem (bootstrap, Node 20 + Python worker)',
      runtime: { command: bootstrap, env: tandemEnv(nodeDir) },
      taskRoot: handlers,
      sessions: sessionsFor('python', w),
    },
    {
      name: 'seed',
      what: 'seed-style Python bootstrap (http.client, json)',
      runtime: { command: python, args: [join(here, 'baselines', 'seed_bootstrap.py')] },
      taskRoot: handlers,
      sessions: sessionsFor('python', w),
    },
    {
      name: 'floor',
      what: 'floor: raw-socket Python loop',
      runtime: { command: python, args: [join(here, 'baselines', 'floor_bootstrap.py')] },
      taskRoot: handlers,
      sessions: sessionsFor('python', w),
    },
    {
      name: 'tandem-node',
      what: 'tandem hosting the Node hello handler (in-process)',
      runtime: { command: bootstrap, env: tandemEnv(nodeDir) },
      taskRoot: join(handlers, 'node'),
      sessions: sessionsFor('node-handler', w),
    },
  ];
  if (coldPython && coldPython !== python) {
    sides.push(
      {
        name: 'tandem-syspy',
        what: `tandem with ${coldPython} (cold start, memory)`,
        runtime: { command: bootstrap, env: { ...tandemEnv(nodeDir), TANDEM_PYTHON: coldPython } },
        taskRoot: handlers,
        sessions: sessionsFor('cold-only', w),
      },
      {
        name: 'seed-syspy',
        what: `seed-style bootstrap on ${coldPython} (cold start, memory)`,
        runtime: { command: coldPython, args: [join(here, 'baselines', 'seed_bootstrap.py')] },
        taskRoot: handlers,
        sessions: sessionsFor('cold-only', w),
      },
    );
  }
  if (node22) {
    sides.push({
      name: 'tandem-node22',
      what: 'tandem with the official Node 22 binary (cold start, memory)',
      runtime: { command: bootstrap, env: tandemEnv(dirname(node22)) },
      taskRoot: handlers,
      sessions: sessionsFor('cold-only', w),
    });
  }
  return sides;
}

/** Flattens one side's session results into named samples. */
function samplesOf(result) {
  const out = {};
  const add = (name, v) => {
    if (Number.isFinite(v)) (out[name] ??= []).push(v);
  };
  const addRoles = (prefix, split, unit) => {
    for (const [role, v] of Object.entries(byRole(split))) add(`${prefix}.${role}Cpu${unit}`, v);
  };
  for (const [name, s] of Object.entries(result.sessions ?? {})) {
    if (name === 'hello' || name.startsWith('cold')) {
      add('cold.spawnToNextMs', s.cold.spawnToNextMs);
      add('cold.spawnToResponseMs', s.cold.spawnToResponseMs);
    }
    if (s.memoryIdle) add('memory.idleMiB', s.memoryIdle.rssMiB);
    if (s.warm) {
      for (const [k, v] of Object.entries(s.warm)) if (typeof v === 'number' && k !== 'n') add(`warm.${k}`, v);
      addRoles('warm', s.warm.cpuUsPerInvokeByProcess, 'UsPerInvoke');
    }
    if (s.memoryPeak) {
      add('memory.peakMiB', s.memoryPeak.sampledPeakMiB);
      add('memory.hwmSumMiB', s.memoryPeak.hwmSumMiB);
    }
    if (s.payload) {
      for (const [size, v] of Object.entries(s.payload)) {
        add(`payload.${size}.medianMs`, v.medianMs);
        add(`payload.${size}.runtimeCpuMs`, v.runtimeCpuMs);
        addRoles(`payload.${size}`, v.cpuMsByProcess, 'Ms');
      }
    }
    if (s.stream) {
      for (const [shape, v] of Object.entries(s.stream)) {
        add(`stream.${shape}.ttfbMs`, v.ttfbMs);
        add(`stream.${shape}.mibPerSec`, v.mibPerSec);
        add(`stream.${shape}.runtimeCpuUsPerChunk`, v.runtimeCpuUsPerChunk);
        addRoles(`stream.${shape}`, v.cpuUsPerChunkByProcess, 'UsPerChunk');
      }
    }
  }
  return out;
}

function timeSpawn(command, args, times) {
  const xs = [];
  for (let i = 0; i < times; i++) {
    const t0 = performance.now();
    const r = spawnSync(command, args, { env: { PATH: '/usr/bin:/bin' }, stdio: 'ignore' });
    if (r.status !== 0) return NaN;
    xs.push(performance.now() - t0);
  }
  return median(xs);
}

function machine(python, node22, node24) {
  const meminfo = readFileSync('/proc/meminfo', 'latin1');
  const pyVersion = execFileSync(python, ['-c', 'import sys;print(sys.version.split()[0])']).toString().trim();
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGiB: round(totalmem() / 1024 ** 3, 1),
    memAvailableGiB: round(parseInt(/MemAvailable:\s+(\d+)/.exec(meminfo)?.[1] ?? '0', 10) / 1024 ** 2, 1),
    node: process.version,
    node22: node22 ? execFileSync(node22, ['--version']).toString().trim() : null,
    node24: node24 ? execFileSync(node24, ['--version']).toString().trim() : null,
    python,
    pythonVersion: pyVersion,
    loadAvg: readFileSync('/proc/loadavg', 'latin1').split(' ').slice(0, 3).join(' '),
    startupMs: {
      'node -e 0 (Node 20)': round(timeSpawn(process.execPath, ['-e', '0'], 5), 1),
      ...(node22 ? { 'node -e 0 (Node 22)': round(timeSpawn(node22, ['-e', '0'], 5), 1) } : {}),
      'python -c pass': round(timeSpawn(python, ['-c', 'pass'], 5), 1),
      ...(existsSync(SYSTEM_PYTHON) ? { [`${SYSTEM_PYTHON} -c pass`]: round(timeSpawn(SYSTEM_PYTHON, ['-c', 'pass'], 5), 1) } : {}),
    },
  };
}

function resolvePython() {
  if (process.env.TANDEM_PYTHON) return process.env.TANDEM_PYTHON;
  return execFileSync('python3', ['-c', 'import sys;print(sys.executable)']).toString().trim();
}

function fmt(v, digits = 2) {
  if (!Number.isFinite(v)) return '-';
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(digits);
}

function printTable(summary, sideNames) {
  const metrics = [...new Set(sideNames.flatMap((s) => Object.keys(summary[s] ?? {})))];
  const cols = [...sideNames, 'tandem/seed', 'tandem/floor'];
  const w0 = Math.max(...metrics.map((m) => m.length), 6);
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(w0) : c.padStart(13))).join(' ');
  console.log(line(['metric (median)', ...cols]));
  for (const m of metrics) {
    const t = summary.tandem?.[m];
    console.log(
      line([m, ...sideNames.map((s) => fmt(summary[s]?.[m])), fmt(ratio(t, summary.seed?.[m])), fmt(ratio(t, summary.floor?.[m]))]),
    );
  }
}

/** On a shared machine, other work distorts a multi-process runtime most: the suite raises its own
 *  priority (inherited by the fake API and the runtimes) when it may. BENCH_NICE=0 keeps the default. */
function raisePriority() {
  const want = Number(process.env.BENCH_NICE ?? -10);
  try {
    if (want !== 0) setPriority(0, want);
  } catch {
    // not permitted: run at the inherited priority
  }
  return getPriority(0);
}

function printLambda(lambda) {
  if (!lambda.available) {
    console.log(`\nLambda CPU share: skipped (${lambda.why})`);
    return;
  }
  const sides = Object.keys(lambda.sides);
  const others = sides.filter((x) => x !== 'tandem' && x !== 'seed');
  const w0 = Math.max(...LAMBDA_ROWS.map(([l]) => l.length));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(w0) : c.padStart(13))).join(' ');
  const s = lambda.summary;
  for (const mb of lambda.memories) {
    console.log(`\nLambda CPU share at ${mb} MB (cfs_quota_us ${lambda.quotasUs[mb]} per 100000; medians of ${lambda.pairs} pair(s)):`);
    console.log(line(['metric', 'tandem', 'seed', 'tandem/seed', ...others]));
    for (const [label, key] of LAMBDA_ROWS) {
      const t = s.tandem?.[`${mb}.${key}`];
      const b = s.seed?.[`${mb}.${key}`];
      console.log(
        line([
          label,
          lambdaCell(s, 'tandem', mb, key, fmt),
          lambdaCell(s, 'seed', mb, key, fmt),
          key === 'fds' || key === 'rss.growthMiB' ? '' : fmt(ratio(t, b)),
          ...others.map((o) => lambdaCell(s, o, mb, key, fmt)),
        ]),
      );
    }
  }
  console.log('\nCold start without a quota (spawn to first response, ms):');
  for (const side of sides) console.log(`  ${side.padEnd(16)} ${fmt(s[side]?.['cold.noQuota.spawnToResponseMs'])}`);
  if (lambda.soak) {
    const v = lambda.soakVerdict;
    console.log(
      `\nMemory soak (tandem, ${lambda.soak.memoryMb} MB share, ${v.invocations} invocations): open fds ${v.fdsMin}..${v.fdsMax}; ` +
        `RSS ${fmt(v.rssFirstMiB)} MiB after init, ${fmt(v.rssAt2000MiB)} after 2,000, at most ${fmt(v.rssMaxMiB)}, ${fmt(v.rssLastMiB)} at the end`,
    );
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const nice = opts.smoke ? getPriority(0) : raisePriority();
  const w = workloads(opts.smoke);
  const python = resolvePython();
  const lambdaOn = opts.lambdaMemory.length > 0;
  let node22 = null;
  let node22Note = 'skipped (--no-node22)';
  if (opts.node22 && !opts.smoke) {
    const found = findNode22();
    node22 = found.path;
    node22Note = found.path ? `official ${found.path}` : `skipped: ${found.why}`;
  } else if (opts.smoke) node22Note = 'skipped (--smoke)';
  let node24 = null;
  let node24Note = 'skipped (--no-node24)';
  if (opts.node24 && !opts.smoke && lambdaOn) {
    const found = findOfficialNode(24);
    node24 = found.path;
    node24Note = found.path ? `official ${found.path}` : `skipped: ${found.why}`;
  } else if (opts.smoke) node24Note = 'skipped (--smoke)';
  const coldPython = !opts.smoke && existsSync(SYSTEM_PYTHON) ? SYSTEM_PYTHON : null;
  let sides = opts.twoCore ? defineSides(python, node22, w, opts.tandem, coldPython) : [];
  if (opts.sides) sides = sides.filter((s) => opts.sides.includes(s.name));
  const started = new Date();
  const t0 = performance.now();
  const info = machine(python, node22, node24);
  if (opts.twoCore) {
    console.log(`bench: ${opts.pairs} pair(s), sides ${sides.map((s) => s.name).join(', ')}; python ${python}; Node 22: ${node22Note}`);
  }

  const samples = Object.fromEntries(sides.map((s) => [s.name, {}]));
  // Per pair, each side's median of each metric: the paired ratios cancel drift in the machine's load.
  const perPair = Object.fromEntries(sides.map((s) => [s.name, {}]));
  const raw = Object.fromEntries(sides.map((s) => [s.name, []]));
  const errors = [];
  for (let pair = 0; opts.twoCore && pair < opts.pairs; pair++) {
    const order = pair % 2 ? [...sides].reverse() : sides;
    for (const side of order) {
      const result = await runChild(
        'fake-runtime-api.mjs',
        { label: side.name, runtime: side.runtime, taskRoot: side.taskRoot, sessions: side.sessions },
        opts.smoke ? 60_000 : 180_000,
      );
      raw[side.name].push(result);
      if (result.error) {
        errors.push({ side: side.name, pair, error: result.error });
        console.log(`  pair ${pair + 1} ${side.name}: ERROR ${result.error.split('\n')[0]}`);
      }
      for (const [k, v] of Object.entries(samplesOf(result))) {
        (samples[side.name][k] ??= []).push(...v);
        ((perPair[side.name][k] ??= [])[pair] = median(v));
      }
    }
    console.log(`  pair ${pair + 1}/${opts.pairs} done (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  }

  let calls = null;
  if (opts.calls && opts.twoCore) {
    calls = await runChild('calls.mjs', { python, tandem: opts.tandem, rounds: Math.max(2, opts.pairs), ...w.calls }, 120_000);
    if (calls.error) errors.push({ side: 'calls', error: calls.error });
  }

  // Lambda's CPU share: Debian's python3.11 when present (simplejson installed, as in AWS's runtime; no
  // site .pth cost at start, as on Lambda), for tandem's worker and the seed loop alike.
  let lambda = { available: false, why: 'not run (--lambda-memory off)' };
  if (lambdaOn) {
    const lambdaPython = process.env.TANDEM_PYTHON || (existsSync(SYSTEM_PYTHON) ? SYSTEM_PYTHON : python);
    console.log(
      `lambda: ${opts.lambdaPairs} pair(s) at ${opts.lambdaMemory.join(', ')} MB; python ${lambdaPython}; Node 22: ${node22Note}; Node 24: ${node24Note}`,
    );
    lambda = await runLambdaShare({
      memories: opts.lambdaMemory,
      pairs: opts.lambdaPairs,
      smoke: opts.smoke,
      python: lambdaPython,
      tandemDir: opts.tandem,
      node22,
      node24,
      soak: opts.soak,
      before: opts.lambdaBefore,
      log: (m) => console.log(m),
    });
    if (lambda.available) {
      for (const e of lambda.errors) errors.push({ ...e, side: `lambda ${e.side}` });
      lambda.soakVerdict = soakVerdict(lambda.soak);
    } else {
      console.log(`lambda: skipped: ${lambda.why}`);
    }
  }

  const summary = {};
  for (const [side, metrics] of Object.entries(samples)) {
    summary[side] = Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, median(v)]));
  }
  const pairedRatio = (a, b, metric) => {
    const xs = perPair[a]?.[metric] ?? [];
    const ys = perPair[b]?.[metric] ?? [];
    return median(xs.map((x, i) => ratio(x, ys[i])));
  };
  const targets = [
    ...(lambda.available ? LAMBDA_TARGETS.flatMap((t) => t.evaluate(lambda, summary, pairedRatio)) : []),
    ...(opts.twoCore ? TARGETS.map((t) => t.evaluate(summary, calls, pairedRatio)) : []),
  ];
  const elapsedS = (performance.now() - t0) / 1000;
  const report = {
    command: `node bench/run.mjs ${process.argv.slice(2).join(' ')}`.trim(),
    started: started.toISOString(),
    elapsedS: round(elapsedS, 1),
    pairs: opts.pairs,
    smoke: opts.smoke,
    machine: { ...info, nice, loadAvgAtEnd: readFileSync('/proc/loadavg', 'latin1').split(' ').slice(0, 3).join(' ') },
    node22: node22Note,
    node24: node24Note,
    sides: Object.fromEntries(sides.map((s) => [s.name, s.what])),
    workloads: w,
    summary,
    samples,
    perPair,
    calls,
    lambda,
    targets,
    errors,
    raw,
  };
  mkdirSync(dirname(opts.out), { recursive: true });
  writeFileSync(opts.out, `${JSON.stringify(report, null, 2)}\n`);

  if (opts.twoCore) {
    console.log('\nTwo free cores:');
    printTable(summary, sides.map((s) => s.name));
  }
  if (calls?.contenders) {
    console.log('\nNode -> Python call round trip, 1 KiB payload (median us):');
    for (const [name, v] of Object.entries(calls.contenders)) console.log(`  ${name.padEnd(22)} ${fmt(v.medianUs)}`);
    if (calls.tandemUnavailable) console.log(`  tandem: unavailable (${calls.tandemUnavailable})`);
  }
  if (lambdaOn) printLambda(lambda);
  console.log('\nTargets:');
  for (const t of targets) console.log(`  ${t.met === true ? 'MET  ' : t.met === false ? 'NOT  ' : 'n/a  '} ${t.name}: ${t.detail}`);
  if (errors.length) {
    console.log(`\n${errors.length} error(s); see ${opts.out}`);
    process.exitCode = 1;
  }
  console.log(`\nwrote ${opts.out} (${elapsedS.toFixed(1)} s)`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
