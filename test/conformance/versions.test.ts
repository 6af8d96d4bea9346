// The basic Python conformance cases on every Python 3.9-3.13 installed (pyenv) and on /usr/bin/python3.11,
// against the recorded 3.11 expectations adjusted per version by versions.ts (which documents each difference).
// A version that is not installed is skipped with a visible reason.
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { reportResult, reportSkipped, writeReport } from './report.ts';
import { PYTHON_CASES_DIR, checkCase, killAllRuns, limiter, loadCases, pythonVersion } from './runner.ts';
import { expectationFor, unescapeNonAscii } from './versions.ts';

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

describe('expectation adjustments', () => {
  test('3.12+ non-ASCII unescaping keeps control characters, escaped backslashes and lone surrogates', () => {
    const escaped = String.raw`{"a": "h\u00e9 \ud83d\ude00 \u0000\u00e9 \\u00e9 \\\u00e9 \u007f \ud800x"}`;
    const raw = String.raw`{"a": "hé 😀 \u0000é \\u00e9 \\é ` + '\u007f' + String.raw` \ud800x"}`;
    expect(unescapeNonAscii(escaped)).toBe(raw);
  });

  test('3.9 and 3.10 lose caret lines; 3.9 says invalid syntax; 3.11 is the recording', () => {
    const caret = (l: string) => /^ *~*\^+$/.test(l);
    const logging = all.find((c) => c.name === 'logging_text_default')!;
    expect(logging.expected.stdout.some(caret)).toBe(true);
    expect(expectationFor(logging, '3.10').stdout.some(caret)).toBe(false);
    expect(expectationFor(logging, '3.11')).toEqual(logging.expected);
    const syntax = all.find((c) => c.name === 'init_syntax_error')!;
    expect(expectationFor(syntax, '3.9').posts[0]!.body).toContain('invalid syntax (lambda_function.py, line 3)');
    expect(expectationFor(syntax, '3.10')).toEqual(syntax.expected);
  });
});

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
