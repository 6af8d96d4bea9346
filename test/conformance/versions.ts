// How AWS's Python runtimes differ by version, and so how tandem on each interpreter must differ: the recorded
// expectations are Python 3.11's; `expectationFor` adjusts them for another version, and versions.test.ts
// checks every recorded case on 3.9, 3.10, 3.12 and 3.13 with it, plus the differences no recording shows
// (fixtures/python-versions, expectations written per version there). The whole list (docs/python-worker.md,
// "Python versions", says the same for users):
//
// From the interpreter (AWS's runtime client calls the same standard functions on every version):
//   - caret lines (`~~^^^^`, PEP 657) exist from 3.11 on: 3.9 and 3.10 print none. They appear in what the
//     interpreter formats itself: logger.exception's traceback on stdout and the JSON log record's
//     `stackTrace` (traceback.format_tb). The error body's `stackTrace` and the [ERROR] line never have them
//     (awslambdaric formats plain (file, line, name, text) tuples with traceback.format_list). [recordings]
//   - 3.13 prints a caret line under a call that fills its whole line (`inner()` gets `~~~~~^^`), which 3.11
//     and 3.12 leave bare. [fixtures/python-versions: version_logged_text, version_logged_json]
//   - 3.12 inlines list, dict and set comprehensions (PEP 709): no `<listcomp>` frame in the error body, the
//     X-Ray cause or the [ERROR] line. [fixtures/python-versions: version_comprehension]
//   - 3.9's parser says `invalid syntax` where 3.10+ say `expected ':'`. [recordings]
//   - stdlib and frozen importlib frames have other paths and line numbers per version: the normaliser maps
//     any `lib/python3.N/` (stdlibDirPattern) and every such line number to `<N>`. [recordings]
//
// From awslambdaric's code (lambda_runtime_marshaller.py):
//   - 3.12+: the runtime's JSON encoder writes non-ASCII as raw UTF-8 (`ensure_ascii=False`) where 3.11 and
//     earlier escape it (`\u00e9`): result bodies, error bodies, X-Ray causes and, in JSON log format, the
//     uncaught-error record. Control characters stay escaped. Ordinary JSON log records never escape on any
//     version (stdlib json with ensure_ascii=False). [recordings: bodies; fixtures/python-versions:
//     version_unicode_error for the error record]
//     awslambdaric keys this on AWS_EXECUTION_ENV being AWS_Lambda_python3.12 ... 3.15, which Lambda sets for
//     its managed python3.12+ runtimes (AWS's Python base images export it from /var/runtime/bootstrap); on an
//     OS-only runtime (provided.al2023, where tandem runs) Lambda sets no AWS_EXECUTION_ENV, so awslambdaric
//     itself, in a custom image, would escape on every version. tandem behaves as the managed runtime of its
//     interpreter's version, and an AWS_EXECUTION_ENV naming a Python version decides instead when it is
//     set (bridge-py/lib/tandem/marshal.py). The recordings (3.11, no AWS_EXECUTION_ENV) are the same under
//     either reading.
//
// Not reproduced (docs/python-worker.md, "Python versions"): 3.12+'s thread-polled /next, and the 3.12+
// init-error POST that, sent as a str through http.client, goes out Latin-1 or crashes the client.
import type { Normalised } from './normalise.ts';
import type { ConformanceCase } from './runner.ts';

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
  if (minor >= 12) {
    for (const p of e.posts) if (p.body !== undefined) p.body = unescapeNonAscii(p.body);
  }
  return e;
}

/** JSON text as `ensure_ascii=False` would have written it: `\uXXXX` escapes of U+007F and above become the character. */
export function unescapeNonAscii(json: string): string {
  // An escape counts only when its backslash is not itself escaped (an even run of backslashes before it).
  const ESCAPE = /(?<!\\)((?:\\\\)*)\\u(?:([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})|([0-9a-fA-F]{4}))/g;
  return json.replace(ESCAPE, (m, lead: string, hi?: string, lo?: string, single?: string) => {
    if (hi !== undefined && lo !== undefined) {
      return lead + String.fromCodePoint(0x10000 + ((parseInt(hi, 16) - 0xd800) << 10) + (parseInt(lo, 16) - 0xdc00));
    }
    const cp = parseInt(single!, 16);
    // Below U+007F ensure_ascii=False escapes the same; a lone surrogate cannot be written as UTF-8.
    if (cp < 0x7f || (cp >= 0xd800 && cp < 0xe000)) return m;
    return lead + String.fromCharCode(cp);
  });
}
