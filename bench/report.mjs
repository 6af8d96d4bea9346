// Renders a results file of `npm run bench` (default bench/results/latest.json) as the Markdown tables that
// BENCHMARKS.md carries: `node bench/report.mjs [results.json]`.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ratio } from './lib/stats.mjs';

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
  `Machine: ${m.cpus} vCPU ${m.cpuModel}, ${m.memoryGiB} GiB RAM, load average at start ${m.loadAvg}; ` +
    `Node ${m.node}${m.node22 ? ` (and official ${m.node22})` : ''}, Python ${m.pythonVersion} (${m.python}). ` +
    `Start-up medians: ${Object.entries(m.startupMs).map(([k, v]) => `${k} ${v} ms`).join(', ')}.`,
);
console.log('');
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
console.log(`| metric (median) | ${sides.join(' | ')} | tandem/seed | tandem/floor |`);
console.log(`|---|${sides.map(() => '---:').join('|')}|---:|---:|`);
for (const [label, key] of rows) {
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
