// Python 3.9-3.13 parity through the real bootstrap:
//   1. every recorded Python case on pyenv's 3.12 and 3.13, and the cases that touch what changes between
//      versions on 3.9 and 3.10 (BASIC: CI time), against the 3.11 recording adjusted per version by
//      versions.ts (3.11 itself, pyenv's and Debian's, runs every case in python.test.ts);
//   2. the per-version differences no recording shows (fixtures/python-versions: a failing comprehension, a
//      logged traceback with a whole-line call), on every version including 3.11, with the output written per
//      version from what AWS's runtime client does there (versions.ts lists every difference).
// A version that is not installed is skipped with a visible reason.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import type { Normalised } from './normalise.ts';
import { debianPython, pyenvPythons, type Interpreter } from './pythons.ts';
import { reportResult, reportSkipped, writeReport } from './report.ts';
import { PYTHON_CASES_DIR, REPO_ROOT, checkCase, killAllRuns, limiter, loadCases, pythonVersion, requestId, type ConformanceCase } from './runner.ts';
import { expectationFor, unescapeNonAscii } from './versions.ts';

const SUITE = 'versions';
const CASE_TIMEOUT_MS = 120_000;
const OTHER_VERSIONS = ['3.9', '3.10', '3.12', '3.13'];
/** Every case runs on these; the others run BASIC. */
const EVERY_CASE_ON = new Set(['3.12', '3.13']);
/** Results, errors, init errors, logging (carets), parser messages, import frames, Unicode. */
const BASIC = new Set([
  'return_dict',
  'error_value_error',
  'error_key_error',
  'error_chained',
  'handler_not_callable',
  'init_missing_module',
  'init_syntax_error',
  'init_import_time_exception',
  'event_octet_stream',
  'module_state',
  'unicode_escaping',
  'logging_text_default',
  'logging_level_debug',
  'logging_json_format',
]);
const run = limiter(Number(process.env.TANDEM_CONFORMANCE_CONCURRENCY ?? 3));
const all = loadCases(PYTHON_CASES_DIR);
const STDLIB_ANY_VERSION = 'python3\\.\\d+';

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

  test('3.12+ posts raw UTF-8 where 3.11 escapes', () => {
    const unicode = all.find((c) => c.name === 'unicode_escaping')!;
    const body311 = unicode.expected.posts[0]!.body!;
    expect(body311).toMatch(/\\u00e9/);
    expect(expectationFor(unicode, '3.12').posts[0]!.body).toBe(unescapeNonAscii(body311));
    expect(expectationFor(unicode, '3.12').posts[0]!.body).not.toBe(body311);
  });
});

afterAll(() => {
  killAllRuns();
  writeReport(SUITE);
});

function skipped(interp: Interpreter, names: string[]): void {
  for (const name of names) reportSkipped(SUITE, interp.label, name, 'not installed');
  describe.skip(`Python ${interp.version} (${interp.label}): not installed, skipped`, () => {
    test('not installed', () => {});
  });
}

// ---- 1. the recorded cases on the other versions ---------------------------------------------------------

for (const name of BASIC) if (!all.some((c) => c.name === name)) throw new Error(`versions test: no case ${name} in ${PYTHON_CASES_DIR}`);

for (const interp of pyenvPythons(OTHER_VERSIONS)) {
  const python = interp.python;
  const cases = EVERY_CASE_ON.has(interp.version) ? all : all.filter((c) => BASIC.has(c.name));
  if (python === undefined) {
    skipped(interp, cases.map((c) => c.name));
    continue;
  }
  describe.concurrent(`recorded cases on Python ${interp.version} (${interp.label})`, () => {
    for (const c of cases) {
      test(
        c.name,
        async () => {
          const actual = pythonVersion(python);
          if (actual !== interp.version) throw new Error(`${python} is Python ${actual}, expected ${interp.version}`);
          const r = await run(() => checkCase(c, { python, stdlibDirPattern: STDLIB_ANY_VERSION, label: interp.label }, expectationFor(c, interp.version)));
          reportResult(SUITE, interp.label, r);
          if (!r.pass) expect.fail(r.report);
        },
        CASE_TIMEOUT_MS,
      );
    }
  });
}

// ---- 2. what no recording shows, written per version --------------------------------------------------------

const FIXTURE_ROOT = join(REPO_ROOT, 'test/conformance/fixtures');
const TASK_FILE = '/var/task/lambda_function.py';
const NEXT = 'GET /2018-06-01/runtime/invocation/next';
const API = '/2018-06-01/runtime/invocation';

const FIXTURE_SOURCE = readFileSync(join(FIXTURE_ROOT, 'python-versions/lambda_function.py'), 'utf8').split('\n');

/** The line number of a source line of the fixture (so an edit to its comments does not shift the expectations). */
function lineOf(source: string): number {
  const i = FIXTURE_SOURCE.findIndex((l) => l.trim() === source);
  if (i < 0) throw new Error(`no line ${JSON.stringify(source)} in fixtures/python-versions/lambda_function.py`);
  return i + 1;
}

function versionCase(name: string, handler: string, env: Record<string, string>, expected: Normalised): ConformanceCase {
  return { name, handler_dir: 'python-versions', handler, env, invocations: [{ body: '{}' }], expected, file: 'versions.test.ts', root: FIXTURE_ROOT };
}

/**
 * JSON text as Python's encoders write it (separators `, ` and `: `): with `ensureAscii` every UTF-16 code unit
 * from U+007F up as `\\uXXXX`, without it raw.
 */
function pythonJson(value: unknown, ensureAscii = false): string {
  const json = (v: unknown): string => pythonJson(v, ensureAscii);
  if (Array.isArray(value)) return `[${value.map(json).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value).map(([k, v]) => `${json(k)}: ${json(v)}`).join(', ')}}`;
  }
  const text = JSON.stringify(value);
  return ensureAscii ? text.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : text;
}

/** A `traceback.format_list` entry (AWS's error body: no caret lines on any version). */
function listEntry(line: number, name: string, source: string): string {
  return `  File "${TASK_FILE}", line ${line}, in ${name}\n    ${source}\n`;
}

type Frame = [line: number, name: string, source: string];
type ErrorFields = { errorMessage: string; errorType: string; stackTrace: string[] };

/** The first invocation's error document, keys in AWS's order. */
const errorDocument = (e: ErrorFields) => ({ errorMessage: e.errorMessage, errorType: e.errorType, requestId: requestId(1), stackTrace: e.stackTrace });

/**
 * The first invocation's error, as recorded: the POST of `error` (its body written with or without ASCII
 * escapes) and its X-Ray cause, built from the same frames.
 */
function errorRun(error: ErrorFields, frames: Frame[], ascii: boolean): Pick<Normalised, 'requests' | 'posts'> {
  const path = `${API}/${requestId(1)}/error`;
  const stack = frames.map(([line, label]) => ({ label, path: TASK_FILE, line }));
  const cause = { working_directory: '/var/task', exceptions: [{ message: error.errorMessage, type: error.errorType, stack }], paths: [TASK_FILE] };
  return {
    requests: [NEXT, `POST ${path}`, NEXT],
    posts: [
      {
        path,
        headers: { 'content-type': 'application/json', 'lambda-runtime-function-error-type': null, 'lambda-runtime-function-xray-error-cause': cause },
        body: pythonJson(errorDocument(error), ascii),
      },
    ],
  };
}

// Source lines of the fixture the expectations quote.
const COMPREHENSION = 'return [square(x) for x in range(3)]';
const SQUARE = 'return x * x if x != 2 else 1 / 0';
const RAISE = 'raise ValueError(event["message"])';

/**
 * A comprehension that raises: the error body, the X-Ray cause and the [ERROR] line hold the comprehension's own
 * frame up to 3.11; 3.12 inlines comprehensions (PEP 709), so the frame is gone.
 */
function comprehensionCase(minor: number): ConformanceCase {
  const frames: Frame[] = [
    [lineOf(COMPREHENSION), 'comprehension', COMPREHENSION],
    ...(minor < 12 ? [[lineOf(COMPREHENSION), '<listcomp>', COMPREHENSION] as Frame] : []),
    [lineOf(SQUARE), 'square', SQUARE],
  ];
  const error = { errorMessage: 'division by zero', errorType: 'ZeroDivisionError', stackTrace: frames.map(([l, n, s]) => listEntry(l, n, s)) };
  const nbsp = '\u00a0';
  const errorLine = [
    '[ERROR] ZeroDivisionError: division by zero',
    'Traceback (most recent call last):',
    ...frames.flatMap(([l, n, s]) => [`${nbsp.repeat(2)}File "${TASK_FILE}", line ${l}, in ${n}`, `${nbsp.repeat(4)}${s}`]),
  ].join('\r');
  return versionCase('version_comprehension', 'lambda_function.comprehension', {}, {
    ...errorRun(error, frames, true),
    stdout: [errorLine, ''],
    exit: { by_itself: false },
  });
}

/** The two frames of the logged traceback, with the caret lines `minor` prints under each source line. */
function loggedFrames(minor: number): Array<{ head: string; source: string; carets?: string }> {
  return [
    // The call fills its line: 3.13 marks it (`~` the callee, `^` the call); 3.11 and 3.12 leave it bare.
    { head: `  File "${TASK_FILE}", line ${lineOf('inner()')}, in logged`, source: '    inner()', carets: minor >= 13 ? '    ~~~~~^^' : undefined },
    // Part of a line: carets from 3.11 on (PEP 657); none before.
    { head: `  File "${TASK_FILE}", line ${lineOf('return 1 / 0')}, in inner`, source: '    return 1 / 0', carets: minor >= 11 ? '           ~~^~~' : undefined },
  ];
}

const okResponse = (): Normalised['posts'][number] => ({
  path: `${API}/${requestId(1)}/response`,
  headers: { 'content-type': 'application/json', 'lambda-runtime-function-error-type': null, 'lambda-runtime-function-xray-error-cause': null },
  body: '"ok"',
});

/** logger.exception in TEXT format: the traceback as the interpreter's logging prints it, without a final newline. */
function loggedTextCase(minor: number): ConformanceCase {
  const lines = loggedFrames(minor).flatMap((f) => [f.head, f.source, ...(f.carets ? [f.carets] : [])]);
  return versionCase('version_logged_text', 'lambda_function.logged', {}, {
    requests: [NEXT, `POST ${API}/${requestId(1)}/response`, NEXT],
    posts: [okResponse()],
    stdout: [`[ERROR]\t<TIMESTAMP>\t${requestId(1)}\tcaught`, 'Traceback (most recent call last):', ...lines, 'ZeroDivisionError: division by zero'],
    exit: { by_itself: false },
  });
}

/** logger.exception in JSON format: `stackTrace` is traceback.format_tb's list, caret lines included. */
function loggedJsonCase(minor: number): ConformanceCase {
  const record = {
    timestamp: '<TIMESTAMP>',
    level: 'ERROR',
    message: 'caught',
    logger: 'root',
    stackTrace: loggedFrames(minor).map((f) => `${f.head}\n${f.source}\n${f.carets ? `${f.carets}\n` : ''}`),
    errorType: 'ZeroDivisionError',
    errorMessage: 'division by zero',
    requestId: requestId(1),
    location: `${TASK_FILE}:logged:${lineOf('logger.exception("caught")')}`,
  };
  return versionCase('version_logged_json', 'lambda_function.logged', { AWS_LAMBDA_LOG_FORMAT: 'JSON' }, {
    requests: [NEXT, `POST ${API}/${requestId(1)}/response`, NEXT],
    posts: [okResponse()],
    stdout: [pythonJson(record), ''],
    exit: { by_itself: false },
  });
}

/**
 * An error with non-ASCII text, JSON log format: the error body and the uncaught-error log record (both written
 * with the runtime's encoder) escape it up to 3.11 and hold raw UTF-8 from 3.12; the X-Ray cause is the same
 * text either way once parsed.
 */
function unicodeErrorCase(minor: number): ConformanceCase {
  const message = 'caf\u00e9 \u2615 \u{1F600}';
  const ascii = minor < 12;
  const frames: Frame[] = [[lineOf(RAISE), 'unicode_error', RAISE]];
  const error = { errorMessage: message, errorType: 'ValueError', stackTrace: frames.map(([l, n, s]) => listEntry(l, n, s)) };
  const c = versionCase('version_unicode_error', 'lambda_function.unicode_error', { AWS_LAMBDA_LOG_FORMAT: 'JSON' }, {
    ...errorRun(error, frames, ascii),
    stdout: [pythonJson({ timestamp: '<TIMESTAMP>', log_level: 'ERROR', ...errorDocument(error) }, ascii), ''],
    exit: { by_itself: false },
  });
  c.invocations = [{ body: JSON.stringify({ message }) }];
  return c;
}

const VERSION_CASES = [comprehensionCase, loggedTextCase, loggedJsonCase, unicodeErrorCase];

test('the per-version expectations differ where the versions do', () => {
  const body = (c: ConformanceCase) => c.expected.posts[0]!.body;
  expect(body(comprehensionCase(11))).toContain('<listcomp>');
  expect(body(comprehensionCase(12))).not.toContain('<listcomp>');
  expect(loggedTextCase(13).expected.stdout).toContain('    ~~~~~^^');
  expect(loggedTextCase(12).expected.stdout).not.toContain('    ~~~~~^^');
  expect(loggedTextCase(11).expected.stdout).toContain('           ~~^~~');
  expect(loggedTextCase(10).expected.stdout).not.toContain('           ~~^~~');
  expect(JSON.parse(loggedJsonCase(13).expected.stdout[0]!).stackTrace[0]).toMatch(/~~~~~\^\^\n$/);
  expect(body(unicodeErrorCase(11))).toContain('"caf\\u00e9 \\u2615 \\ud83d\\ude00"');
  expect(body(unicodeErrorCase(12))).toContain('"caf\u00e9 \u2615 \u{1F600}"');
});

for (const interp of [...pyenvPythons(), debianPython()]) {
  const python = interp.python;
  if (python === undefined) {
    skipped(interp, VERSION_CASES.map((make) => make(11).name));
    continue;
  }
  const minor = Number(interp.version.split('.')[1]);
  describe.concurrent(`per-version behaviour on Python ${interp.version} (${interp.label})`, () => {
    for (const make of VERSION_CASES) {
      const c = make(minor);
      test(
        c.name,
        async () => {
          const r = await run(() => checkCase(c, { python, stdlibDirPattern: STDLIB_ANY_VERSION, label: interp.label }));
          reportResult(SUITE, interp.label, r);
          if (!r.pass) expect.fail(r.report);
        },
        CASE_TIMEOUT_MS,
      );
    }
  });
}
