// Expectation adjustments for the multi-version conformance test (versions.test.ts). The recorded expectations
// are Python 3.11 recordings; they change ONLY where AWS's runtime really behaves differently on another version:
//   - 3.9 and 3.10 print no caret lines (`~~^^^^`) in tracebacks (PEP 657 came with 3.11): logger.exception's
//     traceback and the JSON log's `stackTrace` lose them. (The error body's `stackTrace` never has carets:
//     awslambdaric formats plain tuples with traceback.format_list.)
//   - 3.9's parser says `invalid syntax` where 3.10+ say `expected ':'`.
//   - 3.12+: AWS's python3.12+ runtimes POST non-ASCII JSON as raw UTF-8 (awslambdaric turns `ensure_ascii` off
//     when AWS_EXECUTION_ENV names python3.12+, which the managed runtimes set); tandem's worker follows the
//     interpreter's version (docs/python-worker.md). So `\u00e9` becomes `é` in POST bodies; control
//     characters stay escaped. stdout is unchanged (log records never escaped non-ASCII).
// The stdlib path rule (step 3b) is generalised from lib/python3.11/ to lib/python3.N/ by the test itself.
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
