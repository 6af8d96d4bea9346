#!/usr/bin/env node
// Turns the per-suite result files that the conformance tests write into $TANDEM_CONFORMANCE_REPORT
// (python.json, node.json, versions.json) into test/conformance/STATUS.md: every case, pass or fail, with its
// first difference. Usage (see docs/conformance.md):
//   TANDEM_CONFORMANCE_REPORT=/tmp/conf npx vitest run test/conformance; node test/conformance/write-status.mjs /tmp/conf
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = process.argv[2] ?? process.env.TANDEM_CONFORMANCE_REPORT;
if (!dir) {
  console.error('usage: node test/conformance/write-status.mjs <report dir>');
  process.exit(2);
}
const out = join(dirname(fileURLToPath(import.meta.url)), 'STATUS.md');
const lines = [
  '# Conformance status',
  '',
  `Generated ${new Date().toISOString()} by \`test/conformance/write-status.mjs\` from \`TANDEM_CONFORMANCE_REPORT=<dir> npx vitest run test/conformance\`.`,
  '',
];
for (const suite of ['python', 'node', 'versions']) {
  const file = join(dir, `${suite}.json`);
  if (!existsSync(file)) continue;
  const results = JSON.parse(readFileSync(file, 'utf8'));
  const interpreters = [...new Set(results.map((r) => r.interpreter))];
  for (const interp of interpreters) {
    const mine = results.filter((r) => r.interpreter === interp);
    const passed = mine.filter((r) => r.pass).length;
    const skipped = mine.filter((r) => r.skipped).length;
    lines.push(`## ${suite}: ${interp} — ${passed}/${mine.length - skipped} pass${skipped ? `, ${skipped} skipped` : ''}`, '');
    lines.push('| case | status | first difference |', '|---|---|---|');
    for (const r of mine) {
      const status = r.pass ? 'pass' : r.skipped ? `skipped (${r.skipped})` : 'FAIL';
      const detail = (r.detail ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');
      lines.push(`| ${r.name} | ${status} | ${detail.length > 400 ? detail.slice(0, 400) + '…' : detail} |`);
    }
    lines.push('');
  }
}
// Hand-written analysis below the marker survives regeneration.
const MARKER = '<!-- notes: kept across regenerations -->';
const previous = existsSync(out) ? readFileSync(out, 'utf8') : '';
const notes = previous.includes(MARKER) ? previous.slice(previous.indexOf(MARKER)) : `${MARKER}\n\n## Notes\n\n(none)\n`;
lines.push(notes);
writeFileSync(out, lines.join('\n'));
console.log(`wrote ${out}`);
