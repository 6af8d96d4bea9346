// Python conformance: every case of test/conformance/recorded/python replayed through the real bootstrap, on the
// pyenv python3 (3.11, stdlib json path) and on Debian's /usr/bin/python3.11 (with simplejson, as AWS's runtime
// has it). A failure names the case and its first difference.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { reportResult, writeReport } from './report.ts';
import { PYTHON_CASES_DIR, checkCase, killAllRuns, limiter, loadCases, pythonHas, pythonVersion, realPython } from './runner.ts';

const SUITE = 'python';
const CASE_TIMEOUT_MS = 120_000;
const cases = loadCases(PYTHON_CASES_DIR);
const run = limiter(Number(process.env.TANDEM_CONFORMANCE_CONCURRENCY ?? 3));

interface Interpreter {
  label: string;
  /** Resolves the absolute interpreter path, or throws a clear error. */
  resolve(): string;
}

function python311(path: string): void {
  const v = pythonVersion(path);
  if (v !== '3.11') throw new Error(`${path} is Python ${v}; the conformance expectations are Python 3.11's`);
}

const interpreters: Interpreter[] = [
  {
    label: 'python3 (pyenv 3.11, stdlib json)',
    resolve() {
      const p = realPython('python3');
      python311(p);
      return p;
    },
  },
  {
    label: '/usr/bin/python3.11 (simplejson)',
    resolve() {
      const p = '/usr/bin/python3.11';
      if (!existsSync(p)) throw new Error(`${p} is missing: install it with \`apt-get install python3.11 python3-simplejson\``);
      python311(p);
      if (!pythonHas(p, 'simplejson')) {
        throw new Error(`${p} has no simplejson: run \`apt-get install python3-simplejson\` (.ci/run installs it in CI)`);
      }
      return p;
    },
  },
];

afterAll(() => {
  killAllRuns();
  writeReport(SUITE);
});

for (const interp of interpreters) {
  describe.concurrent(`python conformance on ${interp.label}`, () => {
    let python = '';
    beforeAll(() => {
      python = interp.resolve();
    });
    for (const c of cases) {
      test(
        c.name,
        async () => {
          const r = await run(() => checkCase(c, { python }));
          reportResult(SUITE, interp.label, r);
          if (!r.pass) expect.fail(r.report);
        },
        CASE_TIMEOUT_MS,
      );
    }
  });
}
