// The Lambda CPU-share part of `npm run bench` (issue 10): each runtime under test runs with every process
// it starts in a cgroup-v1 cpu group of its own, with the quota Lambda gives a function of that memory size
// (lib/cpu-group.mjs), and lives a sandbox's life there: cold start, the first 1,000 invocations after 100,
// its memory after init and after 2,000 invocations, 1,000 more after 5,000; echo of 1 KiB / 100 KiB /
// 1 MiB events and a token stream on fresh runtimes after 100 invocations; cold start without the quota;
// and, once per run, a memory soak of 10,000+ invocations. tandem and the seed loop alternate pair by pair
// in the same run (A B, B A, ...), memory size by memory size.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuGroupsUnavailable, quotaUs, removeStaleGroups } from './lib/cpu-group.mjs';
import { byRole } from './lib/roles.mjs';
import { runChild } from './lib/run-child.mjs';
import { median, ratio } from './lib/stats.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const KiB = 1024;
const MiB = 1024 * KiB;

export const DEFAULT_LAMBDA_MEMORY = [128, 512, 1769];
/** The memory size at which the official Node 22 / 24 builds are measured too (the images' Node). */
const OTHER_NODES_AT = 512;

export function lambdaWorkloads(smoke) {
  return smoke
    ? {
        lifetime: { warmup: 2, n: 5, rssAt: 10, lateAt: 12 },
        jitWarmup: 2,
        payloadSizes: [1 * KiB, 64 * KiB],
        payloadReps: 1,
        streamShapes: [{ k: 3, b: 64 }],
        streamReps: 1,
        cold: 1,
        soak: { n: 20, every: 10 },
      }
    : {
        // Invocation 1 is the cold one; then 100 warm-up, the 1,000 measured ("early"); on to 2,000 for the
        // memory figure, on to 5,000, and 1,000 more measured ("late").
        lifetime: { warmup: 100, n: 1000, rssAt: 2000, lateAt: 5000 },
        // Echo and stream sessions: 100 invocations first, as a sandbox that has served a few.
        jitWarmup: 100,
        payloadSizes: [1 * KiB, 100 * KiB, 1 * MiB],
        payloadReps: 15,
        streamShapes: [
          { k: 1, b: 64 },
          { k: 1000, b: 64 },
        ],
        streamReps: 15,
        cold: 2,
        soak: { n: 12_000, every: 1000 },
      };
}

function sessionsAt(kind, w) {
  const hello = { name: 'hello', handler: 'hello.handler', workloads: [{ kind: 'lifetime', ...w.lifetime }] };
  if (kind === 'hello') return [hello];
  return [
    hello,
    {
      name: 'echo',
      handler: 'echo.handler',
      workloads: [
        { kind: 'warmup', event: `{"data":"${'a'.repeat(1013)}"}`, n: w.jitWarmup },
        { kind: 'payload', sizes: w.payloadSizes, reps: w.payloadReps, warmup: 1, maxMsPerSize: 6000, minReps: 5 },
      ],
    },
    {
      name: 'stream',
      handler: 'stream.handler',
      firstEvent: '{"k":1,"b":1}',
      workloads: [
        { kind: 'warmup', event: '{"k":4,"b":64}', n: w.jitWarmup },
        { kind: 'stream', shapes: w.streamShapes, reps: w.streamReps, warmup: 1, maxMsPerShape: 6000, minReps: 5 },
      ],
    },
  ];
}

function coldSessions(w) {
  return Array.from({ length: w.cold }, (_, i) => ({ name: `cold${i + 1}`, handler: 'hello.handler', workloads: [] }));
}

/**
 * The design's floor (baselines/relay_floor.c): a C relay in Node's place, compiled here with `cc -O2`.
 * Returns { path } or { path: null, why }.
 */
export function buildRelayFloor() {
  const dir = join(tmpdir(), `tandem-bench-relay-floor-${process.getuid?.() ?? 0}`);
  const out = join(dir, 'relay_floor');
  try {
    mkdirSync(dir, { recursive: true });
    execFileSync('cc', ['-O2', '-o', out, join(here, 'baselines', 'relay_floor.c')], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
    return { path: out };
  } catch (error) {
    return { path: null, why: `no C compiler to build baselines/relay_floor.c (${String(error.message ?? error).split('\n')[0]})` };
  }
}

/**
 * The runtimes under test. `python` is the interpreter of every Python side (Debian's python3.11 when
 * present: simplejson installed, as in AWS's runtime, and no site .pth cost at start, as on Lambda).
 */
function defineSides({ python, tandemDir, node22, node24, relayFloor, before }) {
  const handlers = join(here, 'handlers');
  const bootstrap = join(tandemDir, 'bootstrap');
  const tandemEnv = (nodeBin) => ({
    TANDEM_PYTHON: python,
    TANDEM_NODE: nodeBin,
    PATH: `${dirname(nodeBin)}:/usr/local/bin:/usr/bin:/bin`,
  });
  const sides = [
    {
      name: 'tandem',
      what: `tandem (bootstrap, Node ${process.version} + Python worker on ${python})`,
      runtime: { command: bootstrap, env: tandemEnv(process.execPath) },
      taskRoot: handlers,
      at: () => 'full',
    },
    {
      name: 'seed',
      what: `seed-style Python loop (bench/baselines/seed_bootstrap.py on ${python})`,
      runtime: { command: python, args: [join(here, 'baselines', 'seed_bootstrap.py')] },
      taskRoot: handlers,
      at: () => 'full',
    },
  ];
  if (before) {
    // Another built tandem checkout (e.g. the commit before a change): before/after in the same run.
    sides.push({
      name: 'tandem-before',
      what: `tandem built in ${before} (Node ${process.version})`,
      runtime: { command: join(before, 'bootstrap'), env: tandemEnv(process.execPath) },
      taskRoot: handlers,
      at: () => 'full',
    });
  }
  if (relayFloor) {
    sides.push({
      name: 'relay-floor',
      what: `the design's floor: tandem's worker behind a C relay in Node's place (bench/baselines/relay_floor.c)`,
      runtime: { command: bootstrap, env: { ...tandemEnv(process.execPath), TANDEM_NODE: relayFloor } },
      taskRoot: handlers,
      at: () => 'hello',
    });
  }
  for (const [name, bin] of [
    ['tandem-node22', node22],
    ['tandem-node24', node24],
  ]) {
    if (!bin) continue;
    sides.push({
      name,
      what: `tandem with the official ${name.slice(-2) === '22' ? 'Node 22' : 'Node 24'} binary (${bin})`,
      runtime: { command: bootstrap, env: tandemEnv(bin) },
      taskRoot: handlers,
      at: (mb, memories) => (mb === (memories.includes(OTHER_NODES_AT) ? OTHER_NODES_AT : memories[0]) ? 'hello' : null),
    });
  }
  return sides;
}

const PHASE_KEYS = [
  'invocationsPerSec',
  'p50Ms',
  'p90Ms',
  'p99Ms',
  'maxMs',
  'runtimeCpuUsPerInvoke',
  'fakeApiCpuUsPerInvoke',
  'throttledPeriods',
  'throttledMs',
];

/** One side's results of one fake-API run at memory size `mb` (null: no quota) as named samples. */
function samplesOf(result, mb) {
  const out = {};
  const add = (name, v) => {
    if (Number.isFinite(v)) (out[name] ??= []).push(v);
  };
  for (const [name, s] of Object.entries(result.sessions ?? {})) {
    if (mb === null) {
      add('cold.noQuota.spawnToNextMs', s.cold?.spawnToNextMs);
      add('cold.noQuota.spawnToResponseMs', s.cold?.spawnToResponseMs);
      continue;
    }
    if (name === 'hello') {
      add(`${mb}.cold.spawnToNextMs`, s.cold?.spawnToNextMs);
      add(`${mb}.cold.spawnToResponseMs`, s.cold?.spawnToResponseMs);
    }
    const life = s.lifetime;
    if (life) {
      for (const phase of ['early', 'late']) {
        const p = life[phase];
        if (!p) continue;
        for (const k of PHASE_KEYS) add(`${mb}.${phase}.${k}`, p[k]);
        for (const [role, v] of Object.entries(byRole(p.cpuUsPerInvokeByProcess))) add(`${mb}.${phase}.${role}CpuUsPerInvoke`, v);
      }
      add(`${mb}.rss.afterInitMiB`, life.afterInit?.rssMiB);
      add(`${mb}.rss.afterRssAtMiB`, life.afterRssAt?.rssMiB);
      add(`${mb}.rss.growthMiB`, life.afterRssAt?.rssMiB - life.afterInit?.rssMiB);
      add(`${mb}.rss.endMiB`, life.end?.rssMiB);
      add(`${mb}.fds.afterInit`, life.afterInit?.fds);
      add(`${mb}.fds.end`, life.end?.fds);
    }
    for (const [size, v] of Object.entries(s.payload ?? {})) {
      add(`${mb}.echo.${size}.medianMs`, v.medianMs);
      add(`${mb}.echo.${size}.runtimeCpuMs`, v.runtimeCpuMs);
    }
    for (const [shape, v] of Object.entries(s.stream ?? {})) {
      add(`${mb}.stream.${shape}.ttfbMs`, v.ttfbMs);
      add(`${mb}.stream.${shape}.mibPerSec`, v.mibPerSec);
      add(`${mb}.stream.${shape}.runtimeCpuUsPerChunk`, v.runtimeCpuUsPerChunk);
    }
  }
  return out;
}

/** The rows the report prints per memory size: [label, metric suffix]. */
export const LAMBDA_ROWS = [
  ['cold start under the quota: spawn to first response (ms)', 'cold.spawnToResponseMs'],
  ['first 1,000 after 100: runtime CPU per invocation (us)', 'early.runtimeCpuUsPerInvoke'],
  ['  of which Node (us)', 'early.nodeCpuUsPerInvoke'],
  ['  of which Python (us)', 'early.pythonCpuUsPerInvoke'],
  ['first 1,000 after 100: invocations/s', 'early.invocationsPerSec'],
  ['first 1,000 after 100: p50 (ms)', 'early.p50Ms'],
  ['first 1,000 after 100: p99 (ms)', 'early.p99Ms'],
  ['first 1,000 after 100: max (ms)', 'early.maxMs'],
  ['first 1,000 after 100: throttled periods', 'early.throttledPeriods'],
  ['1,000 after 5,000: runtime CPU per invocation (us)', 'late.runtimeCpuUsPerInvoke'],
  ['  of which Node (us)', 'late.nodeCpuUsPerInvoke'],
  ['1,000 after 5,000: invocations/s', 'late.invocationsPerSec'],
  ['1,000 after 5,000: p50 (ms)', 'late.p50Ms'],
  ['1,000 after 5,000: p99 (ms)', 'late.p99Ms'],
  ['RSS of the tree after init (MiB)', 'rss.afterInitMiB'],
  ['RSS of the tree after 2,000 invocations (MiB)', 'rss.afterRssAtMiB'],
  ['  growth from after init (MiB)', 'rss.growthMiB'],
  ['open fds after init / at the end', 'fds'],
  ['echo 1 KiB: latency (ms)', 'echo.1024.medianMs'],
  ['echo 100 KiB: latency (ms)', 'echo.102400.medianMs'],
  ['echo 1 MiB: latency (ms)', 'echo.1048576.medianMs'],
  ['echo 1 MiB: runtime CPU (ms)', 'echo.1048576.runtimeCpuMs'],
  ['stream 1 x 64 B: time to first byte (ms)', 'stream.1x64.ttfbMs'],
  ['stream 1000 x 64 B: time to first byte (ms)', 'stream.1000x64.ttfbMs'],
  ['stream 1000 x 64 B: MiB/s', 'stream.1000x64.mibPerSec'],
];

/** The cell of one row for one side (the fds row shows two figures). */
export function lambdaCell(summary, side, mb, key, fmt) {
  if (key === 'fds') {
    const a = summary[side]?.[`${mb}.fds.afterInit`];
    const b = summary[side]?.[`${mb}.fds.end`];
    return Number.isFinite(a) ? `${a} / ${b}` : '-';
  }
  return fmt(summary[side]?.[`${mb}.${key}`]);
}

/**
 * Runs the Lambda-share comparison. Returns the figures (summary: side -> metric -> median over pairs),
 * per-pair medians for paired ratios, the soak, errors; or { available: false, why } where CPU groups
 * cannot be made (then nothing runs).
 */
export async function runLambdaShare({ memories, pairs, smoke, python, tandemDir, node22, node24, soak, log, floor = true, before = null }) {
  const why = cpuGroupsUnavailable();
  if (why) return { available: false, why };
  removeStaleGroups();
  const w = lambdaWorkloads(smoke);
  const relay = floor && !smoke ? buildRelayFloor() : { path: null, why: smoke ? 'not in --smoke' : 'not asked for' };
  if (!relay.path) log(`  relay-floor: skipped (${relay.why})`);
  const sides = defineSides({ python, tandemDir, node22, node24, relayFloor: relay.path, before });
  const samples = Object.fromEntries(sides.map((s) => [s.name, {}]));
  const perPair = Object.fromEntries(sides.map((s) => [s.name, {}]));
  const raw = Object.fromEntries(sides.map((s) => [s.name, []]));
  const errors = [];
  const t0 = Date.now();
  const record = (side, pair, result, mb) => {
    raw[side.name].push({ pair, memoryMb: mb, ...result });
    if (result.error) {
      errors.push({ side: side.name, pair, memoryMb: mb, error: result.error });
      log(`  lambda pair ${pair + 1} ${side.name} @ ${mb ?? 'no quota'}: ERROR ${result.error.split('\n')[0]}`);
    }
    for (const s of Object.values(result.sessions ?? {})) {
      if (s.cpuGroupCleanup) errors.push({ side: side.name, pair, memoryMb: mb, error: s.cpuGroupCleanup });
    }
    for (const [k, v] of Object.entries(samplesOf(result, mb))) {
      (samples[side.name][k] ??= []).push(...v);
      ((perPair[side.name][k] ??= [])[pair] = median(v));
    }
  };
  const run = (side, mb, sessions) =>
    runChild(
      'fake-runtime-api.mjs',
      {
        label: side.name,
        runtime: side.runtime,
        taskRoot: side.taskRoot,
        cpuGroup: { memoryMb: mb },
        sessionLimitMs: 600_000,
        sessions,
      },
      smoke ? 120_000 : 1_800_000,
    );

  for (let pair = 0; pair < pairs; pair++) {
    const order = pair % 2 ? [...sides].reverse() : sides;
    for (const mb of memories) {
      for (const side of order) {
        const what = side.at(mb, memories);
        if (!what) continue;
        record(side, pair, await run(side, mb, sessionsAt(what, w)), mb);
      }
    }
    // Cold start without a quota (the same `sh` wrapper and accounting group, quota -1).
    for (const side of order) record(side, pair, await run(side, null, coldSessions(w)), null);
    log(`  lambda pair ${pair + 1}/${pairs} done (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }

  let soakResult = null;
  if (soak > 0) {
    const mb = Math.max(...memories);
    const tandem = sides[0];
    const n = smoke ? w.soak.n : soak;
    const r = await run(tandem, mb, [
      { name: 'soak', handler: 'hello.handler', workloads: [{ kind: 'memorySoak', n, every: w.soak.every }] },
    ]);
    if (r.error) errors.push({ side: 'tandem', memoryMb: mb, error: `memory soak: ${r.error}` });
    soakResult = r.sessions?.soak?.memorySoak ? { memoryMb: mb, side: 'tandem', ...r.sessions.soak.memorySoak } : null;
    log(`  lambda memory soak done (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }

  const summary = {};
  for (const [side, metrics] of Object.entries(samples)) {
    summary[side] = Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, median(v)]));
  }
  return {
    available: true,
    relayFloor: relay.path ? 'built' : relay.why,
    memories,
    quotasUs: Object.fromEntries(memories.map((mb) => [mb, quotaUs(mb)])),
    python,
    pairs,
    workloads: w,
    sides: Object.fromEntries(sides.map((s) => [s.name, s.what])),
    summary,
    perPair,
    samples,
    soak: soakResult,
    errors,
    raw,
    elapsedS: (Date.now() - t0) / 1000,
  };
}

/** The median over pairs of tandem-side / base-side for one metric (ratios of figures taken side by side). */
export function pairedRatioOf(result, a, b, metric) {
  const xs = result.perPair?.[a]?.[metric] ?? [];
  const ys = result.perPair?.[b]?.[metric] ?? [];
  return median(xs.map((x, i) => ratio(x, ys[i])));
}

/** The soak's verdict: open fds flat, RSS bounded (its growth after the first 2,000 invocations). */
export function soakVerdict(soak) {
  if (!soak?.samples?.length) return null;
  const fds = soak.samples.map((s) => s.fds);
  let after = soak.samples.filter((s) => s.invocations >= 2000);
  if (after.length === 0) after = soak.samples;
  const base = after[0];
  const maxRss = Math.max(...after.map((s) => s.rssMiB));
  return {
    invocations: soak.samples.at(-1).invocations,
    fdsMin: Math.min(...fds),
    fdsMax: Math.max(...fds),
    fdsFlat: Math.min(...fds) === Math.max(...fds),
    rssFirstMiB: soak.samples[0].rssMiB,
    rssAt2000MiB: base.rssMiB,
    rssMaxMiB: maxRss,
    rssLastMiB: soak.samples.at(-1).rssMiB,
    rssGrowthAfter2000MiB: maxRss - base.rssMiB,
  };
}
