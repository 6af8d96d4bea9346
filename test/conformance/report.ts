// Collects per-case results of a conformance suite and, when TANDEM_CONFORMANCE_REPORT names a folder,
// writes them there as <suite>.json (write-status.mjs turns those files into STATUS.md), plus, for each failing
// case, its whole normalised recording and stderr under failures/<suite>/ for whoever debugs it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CaseResult } from './runner.ts';

export interface ReportedCase {
  suite: string;
  interpreter: string;
  name: string;
  pass: boolean;
  skipped?: string;
  /** The first difference (path, expected, actual), or why the run failed. */
  detail?: string;
}

const results: ReportedCase[] = [];

export function reportResult(suite: string, interpreter: string, r: CaseResult): void {
  let detail: string | undefined;
  if (!r.pass) {
    detail = r.difference
      ? `${r.difference.path}: expected ${JSON.stringify(r.difference.expected)}, actual ${JSON.stringify(r.difference.actual)}`
      : (r.report ?? 'failed');
  }
  results.push({ suite, interpreter, name: r.name, pass: r.pass, detail });
  const dir = process.env.TANDEM_CONFORMANCE_REPORT;
  if (dir && !r.pass && r.run) {
    const where = join(dir, 'failures', suite);
    mkdirSync(where, { recursive: true });
    const base = join(where, `${r.name}@${interpreter.replace(/[^\w.-]+/g, '_')}`);
    writeFileSync(`${base}.actual.json`, JSON.stringify(r.run.actual, null, 1) + '\n');
    writeFileSync(`${base}.stderr.txt`, r.run.stderr);
  }
}

export function reportSkipped(suite: string, interpreter: string, name: string, reason: string): void {
  results.push({ suite, interpreter, name, pass: false, skipped: reason });
}

/** Writes `<$TANDEM_CONFORMANCE_REPORT>/<suite>.json` when the variable is set. */
export function writeReport(suite: string): void {
  const dir = process.env.TANDEM_CONFORMANCE_REPORT;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  const mine = results.filter((r) => r.suite === suite);
  mine.sort((a, b) => (a.interpreter + a.name < b.interpreter + b.name ? -1 : 1));
  writeFileSync(join(dir, `${suite}.json`), JSON.stringify(mine, null, 1) + '\n');
}
