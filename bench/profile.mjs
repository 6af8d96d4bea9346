// Profiles one runtime over the first invocations of its life under Lambda's CPU share (issue 10): starts it
// in a CPU-quota group through the fake Runtime API, runs `--warmup` then `--n` hello invocations, prints
// the CPU per invocation of each process, and stops it with SIGTERM so that a profiler can write its output.
//
//   node bench/profile.mjs [--side tandem|seed] [--memory 512] [--warmup 100] [--n 1000] [--handler hello.handler]
//                          [--event '{}'] [--node /path/to/node] [--python /usr/bin/python3.11] [--env K=V ...]
//
// Examples:
//   node bench/profile.mjs --node-flags "--cpu-prof --cpu-prof-dir=/tmp/prof --cpu-prof-interval=50"
//   node bench/profile.mjs --node-flags "--max-semi-space-size=1"      (compare V8 options under the quota)
//   node bench/profile.mjs --memory none --node-prefix "valgrind --tool=callgrind --trace-children=no"
// (--node-flags and --node-prefix go into a small wrapper script given to bootstrap as TANDEM_NODE.)
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runChild } from './lib/run-child.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const opts = {
  side: 'tandem',
  memory: 512,
  warmup: 100,
  n: 1000,
  handler: 'hello.handler',
  event: '{}',
  node: process.execPath,
  nodeFlags: '',
  nodePrefix: '',
  python: null,
  env: {},
};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const v = argv[++i];
  if (v === undefined) throw new Error(`${a} needs a value`);
  if (a === '--side') opts.side = v;
  else if (a === '--memory') opts.memory = v === 'none' ? null : Number(v);
  else if (a === '--warmup') opts.warmup = Number(v);
  else if (a === '--n') opts.n = Number(v);
  else if (a === '--handler') opts.handler = v;
  else if (a === '--event') opts.event = v;
  else if (a === '--node') opts.node = v;
  else if (a === '--node-flags') opts.nodeFlags = v;
  else if (a === '--node-prefix') opts.nodePrefix = v;
  else if (a === '--python') opts.python = v;
  else if (a === '--env') {
    const eq = v.indexOf('=');
    opts.env[v.slice(0, eq)] = v.slice(eq + 1);
  } else throw new Error(`unknown option ${a}`);
}
if (opts.nodeFlags || opts.nodePrefix) {
  const wrapper = join(mkdtempSync(join(tmpdir(), 'bench-profile-')), 'node');
  writeFileSync(wrapper, `#!/bin/sh\nexec ${opts.nodePrefix} ${opts.node} ${opts.nodeFlags} "$@"\n`);
  chmodSync(wrapper, 0o755);
  opts.node = wrapper;
}
// As the suite does: a raised priority (inherited by the fake API and the runtime) distorts less on a shared machine.
try {
  setPriority(0, Number(process.env.BENCH_NICE ?? -10));
} catch {
  // not permitted
}
const python = opts.python ?? (existsSync('/usr/bin/python3.11') ? '/usr/bin/python3.11' : 'python3');
const runtime =
  opts.side === 'seed'
    ? { command: python, args: [join(here, 'baselines', 'seed_bootstrap.py')], env: opts.env }
    : {
        command: join(here, '..', 'bootstrap'),
        env: { TANDEM_PYTHON: python, TANDEM_NODE: opts.node, PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`, ...opts.env },
      };
const result = await runChild(
  'fake-runtime-api.mjs',
  {
    label: `profile-${opts.side}`,
    runtime,
    taskRoot: join(here, 'handlers'),
    cpuGroup: { memoryMb: opts.memory },
    sessionLimitMs: 3_600_000,
    stopSignal: 'SIGTERM',
    stopGraceMs: 3000,
    keepStderr: true,
    sessions: [
      {
        name: 'profile',
        handler: opts.handler,
        workloads: [{ kind: 'lifetime', event: opts.event, warmup: opts.warmup, n: opts.n, rssAt: 0, lateAt: 0 }],
      },
    ],
  },
  3_700_000,
);
if (result.error) {
  console.error(result.error);
  process.exit(1);
}
const s = result.sessions.profile;
const w = s.lifetime.early;
console.log(`cold: spawn to first response ${s.cold.spawnToResponseMs.toFixed(1)} ms`);
console.log(
  `${w.n} invocations after ${opts.warmup}: ${w.runtimeCpuUsPerInvoke.toFixed(1)} us CPU each (${Object.entries(w.cpuUsPerInvokeByProcess)
    .map(([k, v]) => `${k} ${v.toFixed(1)}`)
    .join(', ')}); p50 ${w.p50Ms.toFixed(3)} ms, p99 ${w.p99Ms.toFixed(3)} ms, max ${w.maxMs.toFixed(1)} ms; ` +
    `${w.invocationsPerSec.toFixed(0)}/s; throttled ${w.throttledPeriods ?? '-'} of ${w.periods ?? '-'} periods`,
);
console.log(
  `user / system time per invocation: ${Object.entries(w.userSysUsPerInvokeByProcess)
    .map(([k, v]) => `${k} ${v.userUs.toFixed(0)} / ${v.sysUs.toFixed(0)} us`)
    .join(', ')}`,
);
const procs = (f) => f.processes.map((p) => `${p.comm} ${(p.rssKiB / 1024).toFixed(1)} (anon ${(p.anonKiB / 1024).toFixed(1)}, file ${(p.fileKiB / 1024).toFixed(1)})`).join(', ');
console.log(`RSS after init ${s.lifetime.afterInit.rssMiB.toFixed(1)} MiB, at the end ${s.lifetime.end.rssMiB.toFixed(1)} MiB`);
console.log(`  after init: ${procs(s.lifetime.afterInit)}\n  at the end: ${procs(s.lifetime.end)}`);
for (const [i, p] of s.lifetime.end.processes.entries()) {
  const before = s.lifetime.afterInit.processes[i]?.byMappingKiB ?? {};
  const grew = Object.entries(p.byMappingKiB)
    .map(([k, v]) => [k, v - (before[k] ?? 0)])
    .filter(([, d]) => Math.abs(d) >= 64)
    .map(([k, d]) => `${k} ${d > 0 ? '+' : ''}${(d / 1024).toFixed(2)}`);
  console.log(`  ${p.comm} grew (MiB): ${grew.join(', ') || 'nothing'}`);
}
if (s.stderr) process.stderr.write(s.stderr);
