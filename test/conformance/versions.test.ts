// The basic Python conformance cases on every Python 3.9-3.13 installed (pyenv) and on /usr/bin/python3.11.
// The expectations are the shared 3.11 recordings, adjusted ONLY where AWS's runtime really behaves
// differently on that version, because Python itself prints something else there:
//   - 3.9 and 3.10 print no caret lines (`~~^^^^`) in tracebacks (PEP 657 came with 3.11): logger.exception's
//     traceback and the JSON log's `stackTrace` lose them. (The error body's `stackTrace` never has carets:
//     awslambdaric formats plain tuples with traceback.format_list.)
//   - 3.9's parser says `invalid syntax` where 3.10+ say `expected ':'`.
// Not a difference: non-ASCII escaping. awslambdaric turns `ensure_ascii` off only when AWS_EXECUTION_ENV
// names python3.12+, and the cases (an OS-only runtime) do not set it, so every version escapes.
// The stdlib path rule (step 3b) is generalised from lib/python3.11/ to lib/python3.N/ here only.
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import type { Normalised } from './normalise.ts';
import { reportResult, reportSkipped, writeReport } from './report.ts';
import { PYTHON_CASES_DIR, checkCase, killAllRuns, limiter, loadCases, pythonVersion, type ConformanceCase } from './runner.ts';

const SUITE = 'versions';
const CASE_TIMEOUT_MS = 120_000;
const VERSIONS = ['3.9', '3.10', '3.11', '3.12', '3.13'];
const BASIC = [
  'return_dict',
  'error_value_error',
  'error_key_error',
  'init_missing_module',
  'init_syntax_error',
  'event_octet_stream',
  'module_state',
  'unicode_escaping',
  'logging_text_default',
  'logging_json_format',
];
const run = limiter(Number(process.env.TANDEM_CONFORMANCE_CONCURRENCY ?? 3));
const all = loadCases(PYTHON_CASES_DIR);
const cases = BASIC.map((name) => {
  const c = all.find((x) => x.name === name);
  if (!c) throw new Error(`versions test: no case ${name} in ${PYTHON_CASES_DIR}`);
  return c;
});

/** pyenv interpreters by minor version (the newest micro of each), plus Debian's 3.11. */
function interpreters(): Array<{ version: string; label: string; python: string | undefined }> {
  const root = join(homedir(), '.pyenv/versions');
  const found = new Map<string, string>();
  if (existsSync(root)) {
    const dirs = readdirSync(root)
      .filter((d) => /^\d+\.\d+\.\d+$/.test(d))
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    for (const d of dirs) {
      const exe = join(root, d, 'bin/python3');
      if (existsSync(exe)) found.set(d.split('.').slice(0, 2).join('.'), exe);
    }
  }
  const list = VERSIONS.map((v) => ({ version: v, label: `pyenv ${v}`, python: found.get(v) }));
  list.push({ version: '3.11', label: '/usr/bin/python3.11', python: existsSync('/usr/bin/python3.11') ? '/usr/bin/python3.11' : undefined });
  return list;
}

const CARET_LINE = /^ *[~^]+$/;
const ESCAPED_CARET_LINE = /\\n *[~^]+(?=\\n)/g;

/** The 3.11 expectation, adjusted for what `version` itself prints (see the header). */
export function expectationFor(c: ConformanceCase, version: string): Normalised {
  const e = structuredClone(c.expected);
  const [, minor] = version.split('.').map(Number) as [number, number];
  const text = (f: (s: string) => string) => {
    e.stdout = e.stdout.map(f);
    for (const p of e.posts) if (p.body !== undefined) p.body = f(p.body);
  };
  if (minor < 11) {
    e.stdout = e.stdout.filter((line) => !CARET_LINE.test(line));
    text((s) => s.replace(ESCAPED_CARET_LINE, ''));
  }
  if (minor < 10) text((s) => s.replaceAll("expected ':' (", 'invalid syntax ('));
  return e;
}

afterAll(() => {
  killAllRuns();
  writeReport(SUITE);
});

for (const interp of interpreters()) {
  const python = interp.python;
  if (python === undefined) {
    for (const c of cases) reportSkipped(SUITE, interp.label, c.name, 'not installed');
    describe.skip(`Python ${interp.version} (${interp.label}): not installed, skipped`, () => {
      test('not installed', () => {});
    });
    continue;
  }
  describe.concurrent(`basic cases on Python ${interp.version} (${interp.label})`, () => {
    for (const c of cases) {
      test(
        c.name,
        async () => {
          const actual = pythonVersion(python);
          if (actual !== interp.version) throw new Error(`${python} is Python ${actual}, expected ${interp.version}`);
          const r = await run(() => checkCase(c, { python, stdlibDirPattern: 'python3\\.\\d+' }, expectationFor(c, interp.version)));
          reportResult(SUITE, interp.label, r);
          if (!r.pass) expect.fail(r.report);
        },
        CASE_TIMEOUT_MS,
      );
    }
  });
}
