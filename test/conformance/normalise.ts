// The conformance normaliser: ONE function, `normalise`, that turns a raw recording of a runtime run (every
// Runtime API request, stdout bytes, how the process ended) into the `expected` shape of the recorded case files,
// following test/conformance/recorded/README.md ("Normalisation", steps 1-8) exactly, regexes included.
//
// The README's regexes are Python `re` patterns on `str`. They are translated here with their Python meaning:
// `\w`, `\d` and `\s` are Unicode-aware (as in Python), `.` excludes only `\n`, and `(?m)^` matches only at the
// start of the text or after `\n` (a JS `m` flag would also match after `\r`, `\u2028`, `\u2029`).

/** One request as the emulator recorded it (structurally `RecordedRequest` of src/local/runtime-api-server.ts). */
export interface RawRequest {
  method: string;
  path: string;
  /** Raw header pairs in arrival order. Values as Node's HTTP parser gives them (latin1 code units). */
  headers: Array<[string, string]>;
  body: Buffer;
  /** Raw trailer pairs; `null` when the body was not chunked. */
  trailers: Array<[string, string]> | null;
}

export type RawExit = { byItself: true; code: number } | { byItself: false };

export interface RawRecording {
  requests: RawRequest[];
  stdout: Buffer;
  exit: RawExit;
  /** The task root as given in `LAMBDA_TASK_ROOT`. */
  taskRoot: string;
  /** Its realpath, when it differs. */
  taskRootRealpath?: string;
}

export interface NormaliseOptions {
  /** The case's `runtime_frames_only` (step 3d and the X-Ray rules of step 5). */
  runtimeFramesOnly?: boolean;
  /** `'node'` switches on step 8; anything else is Python. */
  language?: string;
  /**
   * Regex source standing for `python3\.11` in step 3b (the stdlib directory to map to
   * `/var/lang/lib/python3.11/`). Only the multi-version test changes it (e.g. `python3\.\d+`).
   */
  stdlibDirPattern?: string;
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface NormalisedPost {
  path: string;
  headers: Record<string, Json>;
  body?: string;
  body_base64?: string;
  trailers?: Record<string, Json>;
}

export interface Normalised {
  requests: string[];
  posts: NormalisedPost[];
  stdout: string[];
  exit: { by_itself: true; code: number } | { by_itself: false };
}

// ---- Python regex classes, in JS (all patterns below use the `u` flag) --------------------------------------

/** Python's `\w` on str: alphanumerics (str.isalnum) and `_`. */
const W = '\\p{L}\\p{N}_';
/** Python's `\s` on str (Py_UNICODE_ISSPACE). JS `\s` differs: it lacks \x1c-\x1f and \x85 and adds \ufeff. */
const S = '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
/** Python's `\d` on str: any Unicode decimal digit. */
const D = '\\p{Nd}';

const TS = `${D}{4}-${D}${D}-${D}${D}T${D}${D}:${D}${D}:${D}${D}(?:\\.${D}+)?Z`;

const STDLIB_DEFAULT = 'python3\\.11';
const STDLIB_TARGET = '/var/lang/lib/python3.11/';

function stdlibPathRegex(dirPattern: string): RegExp {
  // (?<![\w./-])/(?!var/task/)(?:[^\s"'\\/:<>]+/)*lib/python3\.11/
  return new RegExp(`(?<![${W}./-])/(?!var/task/)(?:[^${S}"'\\\\/:<>]+/)*lib/${dirPattern}/`, 'gu');
}

// (File \\?"(?:<frozen [^>"\\]+>|/var/lang/lib/python3\.11/[^"\\]+)\\?", line )\d+
const STDLIB_LINE = new RegExp(
  `(File \\\\?"(?:<frozen [^>"\\\\]+>|/var/lang/lib/python3\\.11/[^"\\\\]+)\\\\?", line )${D}+`,
  'gu',
);
// "  File \\"(?:[^"\\]|\\.)*"      (Python `.` = anything but \n)
const JSON_FRAME_LITERAL = /"  File \\"(?:[^"\\]|\\[^\n])*"/gu;
// \u00a0\u00a0File "[^"\r\n]*", line \d+, in [^\r\n]*(?:\r\u00a0{4}[^\r\n]*)?
const ERROR_LINE_FRAME = new RegExp(
  `\\u00a0\\u00a0File "[^"\\r\\n]*", line ${D}+, in [^\\r\\n]*(?:\\r\\u00a0{4}[^\\r\\n]*)?`,
  'gu',
);
// (\[[^\]\t\r\n]+\]\t)<ts>(?=\t)
const TEXT_LOG_TS = new RegExp(`(\\[[^\\]\\t\\r\\n]+\\]\\t)${TS}(?=\\t)`, 'gu');
// ("timestamp": ?")<ts>(")
const JSON_LOG_TS = new RegExp(`("timestamp": ?")${TS}(")`, 'gu');
// (?m)^<ts>(?=\t)       Python's (?m)^ = start of text or after \n only
const NODE_LINE_TS = new RegExp(`(?<![^\\n])${TS}(?=\\t)`, 'gu');

export const RUNTIME_FRAME = '<RUNTIME FRAME>';
export const RUNTIME_FILE = '<RUNTIME FILE>';
export const ENTRY = '<ENTRY>';
const TASK = '/var/task';

// ---- step 3: T(s) ---------------------------------------------------------------------------------------------

interface TextRules {
  roots: string[];
  stdlib: RegExp;
  runtimeFramesOnly: boolean;
}

function replaceAll(s: string, what: string, by: string): string {
  return what === '' ? s : s.split(what).join(by);
}

/** Step 3: task root, stdlib paths, stdlib/frozen line numbers, and (runtime_frames_only) frame contents. */
function T(s: string, rules: TextRules): string {
  for (const root of rules.roots) s = replaceAll(s, root, TASK); // a
  s = s.replace(rules.stdlib, STDLIB_TARGET); // b
  s = s.replace(STDLIB_LINE, '$1<N>'); // c
  if (rules.runtimeFramesOnly) {
    // d
    s = s.replace(JSON_FRAME_LITERAL, `"${RUNTIME_FRAME}"`);
    s = s.replace(ERROR_LINE_FRAME, `\u00a0\u00a0${RUNTIME_FRAME}`);
  }
  return s;
}

// ---- step 8b/8c: Node stack frames and require stacks ---------------------------------------------------------

/** A V8 frame: `    at <callsite>` at the start of the text, a line, a JSON string, or after an escaped \n/\r. */
const V8_FRAME = /(?:(?<![^\n\r"])|(?<=\\[nr]))    at ([^"\\\r\n]+)/gu;
/** What may separate two frames of one trace. */
const FRAME_SEPARATORS = new Set(['\n', '\r', '\\n', '\\r', '","']);
const LABELLED = /^(async |new )?(.+?) \((.+)\)$/su;
const BARE = /^(async )?(.+)$/su;

interface Frame {
  start: number;
  end: number;
  prefix: string;
  label: string | undefined;
  location: string;
}

function parseFrame(start: number, end: number, callsite: string): Frame {
  const l = LABELLED.exec(callsite);
  if (l) return { start, end, prefix: l[1] ?? '', label: l[2]!, location: l[3]! };
  const b = BARE.exec(callsite)!;
  return { start, end, prefix: b[1] ?? '', label: undefined, location: b[2]! };
}

function isUserLocation(location: string): boolean {
  return location.startsWith(`${TASK}/`) || location.startsWith(`file://${TASK}/`);
}

function renderTrace(text: string, trace: Frame[]): string {
  let lastUser = -1;
  trace.forEach((f, i) => {
    if (isUserLocation(f.location)) lastUser = i;
  });
  let out = '';
  let inRuntimeRun = false;
  trace.forEach((f, i) => {
    const sep = i === 0 ? '' : text.slice(trace[i - 1]!.end, f.start);
    if (!isUserLocation(f.location)) {
      if (!inRuntimeRun) out += `${sep}    at ${RUNTIME_FRAME}`;
      inRuntimeRun = true;
      return;
    }
    inRuntimeRun = false;
    let callsite: string;
    if (f.label === undefined) callsite = `${f.prefix}${f.location}`;
    else callsite = `${f.prefix}${i === lastUser ? ENTRY : f.label} (${f.location})`;
    out += `${sep}    at ${callsite}`;
  });
  return out;
}

/** Step 8b: collapse runtime frames, keep user frames, label the last user frame of each trace `<ENTRY>`. */
function collapseV8Frames(text: string): string {
  const frames: Frame[] = [];
  for (const m of text.matchAll(V8_FRAME)) {
    frames.push(parseFrame(m.index!, m.index! + m[0].length, m[1]!));
  }
  if (frames.length === 0) return text;
  const traces: Frame[][] = [];
  for (const f of frames) {
    const last = traces.at(-1)?.at(-1);
    if (last && FRAME_SEPARATORS.has(text.slice(last.end, f.start))) traces.at(-1)!.push(f);
    else traces.push([f]);
  }
  let out = '';
  let pos = 0;
  for (const trace of traces) {
    out += text.slice(pos, trace[0]!.start) + renderTrace(text, trace);
    pos = trace.at(-1)!.end;
  }
  return out + text.slice(pos);
}

const REQUIRE_STACK = 'Require stack:';
const REQUIRE_ITEM = /(\n|\\n|",")- ([^"\\\r\n]*)/y;

/** Step 8c: `- <path>` items of a `Require stack:` list outside the task root become `- <RUNTIME FILE>`. */
function maskRequireStacks(text: string): string {
  let out = '';
  let pos = 0;
  for (;;) {
    const at = text.indexOf(REQUIRE_STACK, pos);
    if (at < 0) break;
    let p = at + REQUIRE_STACK.length;
    out += text.slice(pos, p);
    for (;;) {
      REQUIRE_ITEM.lastIndex = p;
      const m = REQUIRE_ITEM.exec(text);
      if (!m) break;
      const item = m[2]!.startsWith(`${TASK}/`) ? m[2]! : RUNTIME_FILE;
      out += `${m[1]}- ${item}`;
      p = REQUIRE_ITEM.lastIndex;
    }
    pos = p;
  }
  return out + text.slice(pos);
}

/** Step 8b and 8c (8a is stdout-only). */
function nodeText(s: string): string {
  return maskRequireStacks(collapseV8Frames(s));
}

// ---- steps 4, 5, 5b: bodies, X-Ray cause, trailers --------------------------------------------------------------

const UTF8_STRICT = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const UTF8_LENIENT = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

function utf8OrUndefined(bytes: Uint8Array): string | undefined {
  try {
    return UTF8_STRICT.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Node gives header values as latin1 code units; read them as the UTF-8 bytes they were when they are. */
function headerText(raw: string): string {
  return utf8OrUndefined(Buffer.from(raw, 'latin1')) ?? raw;
}

function first(pairs: Array<[string, string]>, name: string): string | undefined {
  const v = pairs.find(([k]) => k.toLowerCase() === name)?.[1];
  return v === undefined ? undefined : headerText(v);
}

/** Sorts by Unicode code point, as Python's `sorted` on str does. */
function byCodePoint(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

function isObject(v: unknown): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Python's json.loads also takes NaN / Infinity / -Infinity; JSON.parse does not. */
function parseJson(raw: string): { ok: true; value: Json } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(raw) as Json };
  } catch {
    return { ok: false };
  }
}

function normaliseXray(raw: string, rules: TextRules, node: boolean): Json {
  const parsed = parseJson(raw);
  if (!parsed.ok) return { unparsable: raw };
  const cause = parsed.value;
  if (!isObject(cause)) return cause;
  if ('working_directory' in cause) cause.working_directory = TASK;
  if (Array.isArray(cause.paths)) {
    let paths = cause.paths.map((p) => (typeof p === 'string' ? T(p, rules) : p));
    if (node) {
      paths = [...new Set(paths.map((p) => (typeof p === 'string' && p.startsWith(`${TASK}/`) ? p : RUNTIME_FRAME)))];
    } else if (rules.runtimeFramesOnly) {
      paths = paths.map(() => RUNTIME_FRAME);
    }
    cause.paths = sortJson(paths);
  }
  if (Array.isArray(cause.exceptions)) {
    for (const ex of cause.exceptions) {
      if (!isObject(ex) || !Array.isArray(ex.stack)) continue;
      ex.stack = node ? nodeXrayStack(ex.stack, rules) : pythonXrayStack(ex.stack, rules);
    }
  }
  return cause;
}

function sortJson(values: Json[]): Json[] {
  return [...values].sort((a, b) =>
    typeof a === 'string' && typeof b === 'string' ? byCodePoint(a, b) : byCodePoint(JSON.stringify(a), JSON.stringify(b)),
  );
}

function pythonXrayStack(stack: Json[], rules: TextRules): Json[] {
  if (rules.runtimeFramesOnly) return stack.map(() => RUNTIME_FRAME);
  return stack.map((entry) => {
    if (!isObject(entry) || typeof entry.path !== 'string') return entry;
    entry.path = T(entry.path, rules);
    if (entry.path.startsWith('<frozen ') || entry.path.startsWith(STDLIB_TARGET)) entry.line = '<N>';
    return entry;
  });
}

function nodeXrayStack(stack: Json[], rules: TextRules): Json[] {
  const isUser = (e: Json): e is Record<string, Json> =>
    isObject(e) && typeof e.path === 'string' && T(e.path, rules).startsWith(`${TASK}/`);
  const out: Json[] = [];
  let lastUser: Record<string, Json> | undefined;
  for (const entry of stack) {
    if (isUser(entry)) {
      entry.path = T(entry.path as string, rules);
      out.push(entry);
      lastUser = entry;
    } else if (out.at(-1) !== RUNTIME_FRAME) {
      out.push(RUNTIME_FRAME);
    }
  }
  if (lastUser && 'label' in lastUser) lastUser.label = ENTRY;
  return out;
}

const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

// ---- the one function -----------------------------------------------------------------------------------------

/** Produces the case files' `expected` shape from a raw recording (README "Normalisation", steps 1-8). */
export function normalise(raw: RawRecording, options: NormaliseOptions = {}): Normalised {
  const node = options.language === 'node';
  const roots = [...new Set([raw.taskRoot, raw.taskRootRealpath ?? raw.taskRoot])].sort((a, b) => b.length - a.length);
  for (const r of roots) {
    if (!/^\/[\x20-\x7e]*$/.test(r) || /["'\\]/.test(r)) {
      throw new Error(`task root must be an absolute plain ASCII path without quotes or backslashes: ${r}`);
    }
  }
  const rules: TextRules = {
    roots,
    stdlib: stdlibPathRegex(options.stdlibDirPattern ?? STDLIB_DEFAULT),
    runtimeFramesOnly: options.runtimeFramesOnly === true,
  };
  const bodyText = (text: string): string => (node ? nodeText(T(text, rules)) : T(text, rules));

  // 1. requests
  const requests = raw.requests.map((r) => `${r.method} ${r.path}`);

  // 2, 4, 5, 5b. posts
  const posts = raw.requests
    .filter((r) => r.method === 'POST')
    .map((r): NormalisedPost => {
      const xray = first(r.headers, 'lambda-runtime-function-xray-error-cause');
      const headers: Record<string, Json> = {
        'content-type': first(r.headers, 'content-type') ?? null,
        'lambda-runtime-function-error-type': first(r.headers, 'lambda-runtime-function-error-type') ?? null,
        'lambda-runtime-function-xray-error-cause': xray === undefined ? null : normaliseXray(xray, rules, node),
      };
      const mode = first(r.headers, 'lambda-runtime-function-response-mode');
      if (mode !== undefined) headers['lambda-runtime-function-response-mode'] = mode;
      const declared = r.headers.filter(([k]) => k.toLowerCase() === 'trailer');
      if (declared.length > 0) {
        headers.trailer = declared
          .flatMap(([, v]) => headerText(v).split(','))
          .map((n) => n.trim().toLowerCase())
          .join(', ');
      }
      const post: NormalisedPost = { path: r.path, headers };
      const text = utf8OrUndefined(r.body);
      if (text === undefined) post.body_base64 = r.body.toString('base64');
      else post.body = bodyText(text);
      const trailerPairs = r.trailers ?? [];
      if (declared.length > 0 || trailerPairs.length > 0) {
        const trailers: Record<string, Json> = {};
        for (const [k, v] of trailerPairs) {
          const name = k.toLowerCase();
          if (name in trailers) continue;
          const value = headerText(v);
          if (name === 'lambda-runtime-function-error-body') {
            const decoded = STRICT_BASE64.test(value) ? utf8OrUndefined(Buffer.from(value, 'base64')) : undefined;
            trailers[name] = decoded === undefined ? value : { decoded: bodyText(decoded) };
          } else {
            trailers[name] = value;
          }
        }
        post.trailers = trailers;
      }
      return post;
    });

  // 6 (+ 8). stdout
  let out = T(UTF8_LENIENT.decode(raw.stdout), rules);
  out = out.replace(TEXT_LOG_TS, '$1<TIMESTAMP>').replace(JSON_LOG_TS, '$1<TIMESTAMP>$2');
  if (node) out = nodeText(out.replace(NODE_LINE_TS, '<TIMESTAMP>'));
  const stdout = out.split('\n');

  // 7. exit
  const exit: Normalised['exit'] = raw.exit.byItself ? { by_itself: true, code: raw.exit.code } : { by_itself: false };

  return { requests, posts, stdout, exit };
}

// ---- comparison -------------------------------------------------------------------------------------------------

export interface Difference {
  /** Where, e.g. `$.posts[0].body` or `$.stdout[3]`. */
  path: string;
  expected: unknown;
  actual: unknown;
  /** For two strings: the first differing character offset. */
  offset?: number;
}

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

const MISSING = Symbol('missing');

/** The first difference between two JSON values (objects compared as key sets, arrays in order), or null. */
export function firstDifference(expected: unknown, actual: unknown, path = '$'): Difference | null {
  if (typeName(expected) !== typeName(actual)) return { path, expected, actual };
  if (Array.isArray(expected)) {
    const act = actual as unknown[];
    for (let i = 0; i < Math.max(expected.length, act.length); i++) {
      const e = i < expected.length ? expected[i] : MISSING;
      const a = i < act.length ? act[i] : MISSING;
      if (e === MISSING || a === MISSING) {
        return { path: `${path}[${i}]`, expected: e === MISSING ? '<absent>' : e, actual: a === MISSING ? '<absent>' : a };
      }
      const d = firstDifference(e, a, `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (isObject(expected)) {
    const act = actual as Record<string, unknown>;
    const keys = [...Object.keys(expected), ...Object.keys(act).filter((k) => !(k in expected))];
    for (const k of keys) {
      const p = /^[A-Za-z_$][\w$]*$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`;
      if (!(k in act)) return { path: p, expected: expected[k], actual: '<absent>' };
      if (!(k in expected)) return { path: p, expected: '<absent>', actual: act[k] };
      const d = firstDifference(expected[k], act[k], p);
      if (d) return d;
    }
    return null;
  }
  if (Object.is(expected, actual)) return null;
  if (typeof expected === 'string' && typeof actual === 'string') {
    let i = 0;
    while (i < expected.length && i < actual.length && expected[i] === actual[i]) i++;
    return { path, expected, actual, offset: i };
  }
  return { path, expected, actual };
}

/** A readable report of a difference, for a failing test's message. */
export function describeDifference(d: Difference): string {
  const lines = [`first difference at ${d.path}:`];
  if (d.offset !== undefined && typeof d.expected === 'string' && typeof d.actual === 'string') {
    const from = Math.max(0, d.offset - 40);
    lines.push(`  strings differ at character ${d.offset}:`);
    lines.push(`    expected …${JSON.stringify(d.expected.slice(from, d.offset + 80))}`);
    lines.push(`    actual   …${JSON.stringify(d.actual.slice(from, d.offset + 80))}`);
  }
  lines.push(`  expected: ${JSON.stringify(d.expected)}`);
  lines.push(`  actual:   ${JSON.stringify(d.actual)}`);
  return lines.join('\n');
}
