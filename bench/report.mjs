// Renders a results file of `npm run bench` (default bench/results/latest.json) as the Markdown tables that
// BENCHMARKS.md carries: `node bench/report.mjs [results.json]`.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ratio } from './lib/stats.mjs';
import { LAMBDA_ROWS, lambdaCell } from './lambda.mjs';

const file = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), 'results', 'latest.json');
const r = JSON.parse(readFileSync(file, 'utf8'));
const s = r.summary;

function fmt(v) {
  if (!Number.isFinite(v)) return '-';
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

const m = r.machine;
console.log(`Run of ${r.started} (${r.elapsedS} s, ${r.pairs} pairs): \`${r.command}\``);
console.log('');
console.log(
  `Machine: ${m.cpus} vCPU ${m.cpuModel}, ${m.memoryGiB} GiB RAM, load average at start ${m.loadAvg}` +
    `${m.loadAvgAtEnd ? `, at the end ${m.loadAvgAtEnd}` : ''}; ` +
    `Node ${m.node}${m.node22 ? ` (and official ${m.node22}${m.node24 ? `, ${m.node24}` : ''})` : ''}, Python ${m.pythonVersion} (${m.python}). ` +
    `Start-up medians: ${Object.entries(m.startupMs).map(([k, v]) => `${k} ${v} ms`).join(', ')}.`,
);
console.log('');

const l = r.lambda;
if (l?.available) {
  const lsides = Object.keys(l.sides);
  const others = lsides.filter((x) => x !== 'tandem' && x !== 'seed');
  console.log(`### Lambda CPU share (${l.pairs} pairs, Python ${l.python}; ${l.elapsedS?.toFixed?.(0) ?? '?'} s)`);
  console.log('');
  for (const [name, what] of Object.entries(l.sides)) console.log(`- \`${name}\`: ${what}`);
  for (const mb of l.memories) {
    console.log('');
    console.log(`At **${mb} MB** (\`cpu.cfs_quota_us\` ${l.quotasUs[mb]} per 100000), medians of the pairs:`);
    console.log('');
    const tail = (cells) => (cells.length ? ` ${cells.join(' | ')} |` : '');
    console.log(`| metric | tandem | seed | tandem/seed |${tail(others)}`);
    console.log(`|---|---:|---:|---:|${others.map(() => '---:|').join('')}`);
    for (const [label, key] of LAMBDA_ROWS) {
      const t = l.summary.tandem?.[`${mb}.${key}`];
      const b = l.summary.seed?.[`${mb}.${key}`];
      console.log(
        `| ${label.trim()} | ${lambdaCell(l.summary, 'tandem', mb, key, fmt)} | ${lambdaCell(l.summary, 'seed', mb, key, fmt)} | ` +
          `${key === 'fds' || key === 'rss.growthMiB' ? '' : fmt(ratio(t, b))} |${tail(others.map((o) => lambdaCell(l.summary, o, mb, key, fmt)))}`,
      );
    }
  }
  console.log('');
  console.log(`Cold start without a quota, spawn to first response (ms): ${lsides.map((x) => `${x} ${fmt(l.summary[x]?.['cold.noQuota.spawnToResponseMs'])}`).join(', ')}.`);
  const v = l.soakVerdict;
  if (v) {
    console.log('');
    console.log(
      `Memory soak (tandem, ${l.soak.memoryMb} MB share, ${v.invocations} invocations): open fds ${v.fdsMin}..${v.fdsMax}; RSS ${fmt(v.rssFirstMiB)} MiB ` +
        `after init, ${fmt(v.rssAt2000MiB)} after 2,000, at most ${fmt(v.rssMaxMiB)}, ${fmt(v.rssLastMiB)} at the end.`,
    );
  }
  console.log('');
  console.log('### Two free cores');
  console.log('');
} else if (l) {
  console.log(`Lambda CPU share: skipped (${l.why}).`);
  console.log('');
}
const sides = Object.keys(r.sides);
const rows = [
  ['cold: spawn to first /next (ms)', 'cold.spawnToNextMs'],
  ['cold: spawn to first response (ms)', 'cold.spawnToResponseMs'],
  ['warm: invocations/s', 'warm.invocationsPerSec'],
  ['warm: p50 latency (ms)', 'warm.p50Ms'],
  ['warm: p99 latency (ms)', 'warm.p99Ms'],
  ['warm: runtime CPU per invocation (us)', 'warm.runtimeCpuUsPerInvoke'],
  ['warm: of which Node (us)', 'warm.nodeCpuUsPerInvoke'],
  ['warm: of which Python (us)', 'warm.pythonCpuUsPerInvoke'],
  ['warm: fake API CPU per invocation (us)', 'warm.fakeApiCpuUsPerInvoke'],
  ['memory: RSS after init (MiB)', 'memory.idleMiB'],
  ['memory: peak RSS, 1 MiB echo (MiB)', 'memory.peakMiB'],
  ...Object.keys(s.tandem ?? s.seed ?? {})
    .filter((k) => k.startsWith('payload.') || k.startsWith('stream.'))
    .map((k) => [k, k]),
];
if (sides.length > 0) console.log(`| metric (median) | ${sides.join(' | ')} | tandem/seed | tandem/floor |`);
if (sides.length > 0) console.log(`|---|${sides.map(() => '---:').join('|')}|---:|---:|`);
for (const [label, key] of sides.length > 0 ? rows : []) {
  const t = s.tandem?.[key];
  console.log(
    `| ${label} | ${sides.map((x) => fmt(s[x]?.[key])).join(' | ')} | ${fmt(ratio(t, s.seed?.[key]))} | ${fmt(ratio(t, s.floor?.[key]))} |`,
  );
}
if (r.calls?.contenders) {
  console.log('');
  console.log('| Node -> Python call, 1 KiB payload | median round trip (us) | p99 (us) | calls |');
  console.log('|---|---:|---:|---:|');
  for (const [name, v] of Object.entries(r.calls.contenders)) {
    console.log(`| ${name} | ${fmt(v.medianUs)} | ${fmt(v.p99Us)} | ${v.calls} |`);
  }
}
console.log('');
console.log('| target | figure | met |');
console.log('|---|---|---|');
for (const t of r.targets) console.log(`| ${t.name} | ${t.detail} | ${t.met === null ? 'n/a' : t.met ? 'yes' : '**no**'} |`);
if (r.errors?.length) {
  console.log('');
  for (const e of r.errors) console.log(`- error (${e.side}): ${e.error.split('\n')[0]}`);
}
