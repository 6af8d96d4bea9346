// Node conformance: every case of test/conformance/recorded/node (Node handlers, recorded from
// aws-lambda-ric 3.3.0 on Node 20) replayed through the real bootstrap, normalised with the Node rules.
import { afterAll, describe, expect, test } from 'vitest';
import { reportResult, writeReport } from './report.ts';
import { NODE_CASES_DIR, checkCase, killAllRuns, limiter, loadCases, realPython } from './runner.ts';

const SUITE = 'node';
const CASE_TIMEOUT_MS = 120_000;
const cases = loadCases(NODE_CASES_DIR);
const run = limiter(Number(process.env.TANDEM_CONFORMANCE_CONCURRENCY ?? 3));
const interpreter = `node ${process.version}`;
// The recordings hold Node 20's engine messages and util.inspect output (recorded/README.md).
const NOT_20 = process.versions.node.split('.')[0] !== '20' ? ` (the recordings are Node 20's; this is ${process.version}: engine messages may differ)` : '';

afterAll(() => {
  killAllRuns();
  writeReport(SUITE);
});

describe.concurrent(`node conformance (${interpreter})`, () => {
  // Node handlers run in-process; TANDEM_PYTHON is still given, as a deployed image would have it.
  const python = realPython('python3');
  for (const c of cases) {
    test(
      c.name,
      async () => {
        if (c.language !== 'node') throw new Error(`${c.file}: a Node case must say "language": "node"`);
        const r = await run(() => checkCase(c, { python, label: interpreter }));
        reportResult(SUITE, interpreter, r);
        if (!r.pass) expect.fail(r.report + NOT_20);
      },
      CASE_TIMEOUT_MS,
    );
  }
});
