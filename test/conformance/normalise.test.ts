// Unit tests of the conformance normaliser on hand-made raw recordings, built from the examples of
// test/conformance/recorded/README.md: so the normaliser can be trusted on its own, before any runtime runs through it.
import { describe, expect, test } from 'vitest';
import { describeDifference, firstDifference, normalise, type RawRecording, type RawRequest } from './normalise.ts';
import { NODE_CASES_DIR, PYTHON_CASES_DIR, loadCases } from './runner.ts';

const ROOT = '/tmp/conf-abc/task';
const REAL = '/private/tmp/conf-abc/task';
const ID1 = '00000000-0000-4000-8000-000000000001';
const NEXT = '/2018-06-01/runtime/invocation/next';
const ERR1 = `/2018-06-01/runtime/invocation/${ID1}/error`;
const RESP1 = `/2018-06-01/runtime/invocation/${ID1}/response`;
const PYLIB = '/root/.pyenv/versions/3.11.7/lib/python3.11/';

function get(): RawRequest {
  return { method: 'GET', path: NEXT, headers: [['Host', '127.0.0.1:9001']], body: Buffer.alloc(0), trailers: null };
}

function post(path: string, headers: Array<[string, string]>, body: string | Buffer, trailers: RawRequest['trailers'] = null): RawRequest {
  return { method: 'POST', path, headers, body: Buffer.isBuffer(body) ? body : Buffer.from(body), trailers };
}

function raw(requests: RawRequest[], stdout: string | Buffer, exit: RawRecording['exit'] = { byItself: false }): RawRecording {
  return { requests, stdout: Buffer.isBuffer(stdout) ? stdout : Buffer.from(stdout), exit, taskRoot: ROOT, taskRootRealpath: REAL };
}

describe('normalise: Python recordings', () => {
  test('error_value_error: requests, headers, parsed X-Ray cause, body, [ERROR] line with \\r and NBSP', () => {
    const cause = JSON.stringify({
      working_directory: ROOT,
      exceptions: [{ message: 'amount must be positive, got -5', type: 'ValueError', stack: [{ label: 'lambda_handler', path: `${ROOT}/lambda_function.py`, line: 4 }] }],
      paths: [`${REAL}/lambda_function.py`],
    });
    const body = `{"errorMessage": "amount must be positive, got -5", "errorType": "ValueError", "requestId": "${ID1}", "stackTrace": ["  File \\"${ROOT}/lambda_function.py\\", line 4, in lambda_handler\\n    raise ValueError(\\"amount must be positive, got %d\\" % amount)\\n"]}`;
    const stdout = `[ERROR] ValueError: amount must be positive, got -5\rTraceback (most recent call last):\r\u00a0\u00a0File "${ROOT}/lambda_function.py", line 4, in lambda_handler\r\u00a0\u00a0\u00a0\u00a0raise ValueError("amount must be positive, got %d" % amount)\n`;
    const rec = raw(
      [
        get(),
        post(ERR1, [['Host', 'x'], ['User-Agent', 'ua'], ['Content-Type', 'application/json'], ['Lambda-Runtime-Function-XRay-Error-Cause', cause], ['Content-Length', '9']], body),
        get(),
      ],
      stdout,
    );
    expect(normalise(rec)).toEqual({
      requests: [`GET ${NEXT}`, `POST ${ERR1}`, `GET ${NEXT}`],
      posts: [
        {
          path: ERR1,
          headers: {
            'content-type': 'application/json',
            'lambda-runtime-function-error-type': null,
            'lambda-runtime-function-xray-error-cause': {
              working_directory: '/var/task',
              exceptions: [{ message: 'amount must be positive, got -5', type: 'ValueError', stack: [{ label: 'lambda_handler', path: '/var/task/lambda_function.py', line: 4 }] }],
              paths: ['/var/task/lambda_function.py'],
            },
          },
          body: `{"errorMessage": "amount must be positive, got -5", "errorType": "ValueError", "requestId": "${ID1}", "stackTrace": ["  File \\"/var/task/lambda_function.py\\", line 4, in lambda_handler\\n    raise ValueError(\\"amount must be positive, got %d\\" % amount)\\n"]}`,
        },
      ],
      stdout: [
        '[ERROR] ValueError: amount must be positive, got -5\rTraceback (most recent call last):\r\u00a0\u00a0File "/var/task/lambda_function.py", line 4, in lambda_handler\r\u00a0\u00a0\u00a0\u00a0raise ValueError("amount must be positive, got %d" % amount)',
        '',
      ],
      exit: { by_itself: false },
    });
  });

  test('init error: no content-type, error-type header, exit code, TEXT [WARNING] timestamp', () => {
    const rec = raw(
      [post('/2018-06-01/runtime/init/error', [['Lambda-Runtime-Function-Error-Type', 'Runtime.ImportModuleError']], '{"requestId": ""}')],
      '[WARNING]\t2026-01-01T00:00:00.123Z\t\tLAMBDA_WARNING: x\r\n[ERROR] Runtime.ImportModuleError: m\rTraceback (most recent call last):\n',
      { byItself: true, code: 1 },
    );
    const n = normalise(rec);
    expect(n.posts[0]!.headers).toEqual({
      'content-type': null,
      'lambda-runtime-function-error-type': 'Runtime.ImportModuleError',
      'lambda-runtime-function-xray-error-cause': null,
    });
    expect(n.stdout).toEqual(['[WARNING]\t<TIMESTAMP>\t\tLAMBDA_WARNING: x\r', '[ERROR] Runtime.ImportModuleError: m\rTraceback (most recent call last):', '']);
    expect(n.exit).toEqual({ by_itself: true, code: 1 });
  });

  test('stdlib paths and frozen/stdlib line numbers, plain and JSON-escaped; user and /var/task paths kept', () => {
    const text = [
      `  File "${PYLIB}importlib/__init__.py", line 126, in import_module`,
      `  File \\"${PYLIB}importlib/__init__.py\\", line 126, in import_module\\n`,
      `  File "<frozen importlib._bootstrap>", line 1204, in _gcd_import`,
      `  File \\"<frozen importlib._bootstrap>\\", line 1176, in _find_and_load\\n`,
      `  File "/usr/lib/python3.11/json/decoder.py", line 355, in raw_decode`,
      `  File "${ROOT}/lambda_function.py", line 3, in <module>`,
      `  File "/var/task/lib/python3.11/site.py", line 7, in f`,
      `x/usr/lib/python3.11/ and a/usr/lib/python3.11/`,
      `"/opt/py dir/lib/python3.11/x.py"`,
      `/usr/lib/python3.12/x.py`,
    ].join('\n');
    const n = normalise(raw([], text));
    expect(n.stdout).toEqual([
      `  File "/var/lang/lib/python3.11/importlib/__init__.py", line <N>, in import_module`,
      `  File \\"/var/lang/lib/python3.11/importlib/__init__.py\\", line <N>, in import_module\\n`,
      `  File "<frozen importlib._bootstrap>", line <N>, in _gcd_import`,
      `  File \\"<frozen importlib._bootstrap>\\", line <N>, in _find_and_load\\n`,
      `  File "/var/lang/lib/python3.11/json/decoder.py", line <N>, in raw_decode`,
      `  File "/var/task/lambda_function.py", line 3, in <module>`,
      `  File "/var/task/lib/python3.11/site.py", line 7, in f`,
      // preceded by a word character: not the start of a path
      `x/usr/lib/python3.11/ and a/usr/lib/python3.11/`,
      // a space is not part of a path segment, and no later '/' starts a path: unchanged
      `"/opt/py dir/lib/python3.11/x.py"`,
      `/usr/lib/python3.12/x.py`,
    ]);
  });

  test('the stdlib directory pattern can be generalised for other Python versions', () => {
    const n = normalise(raw([], `  File "/root/.pyenv/versions/3.9.18/lib/python3.9/json/decoder.py", line 337, in decode`), {
      stdlibDirPattern: 'python3\\.\\d+',
    });
    expect(n.stdout).toEqual([`  File "/var/lang/lib/python3.11/json/decoder.py", line <N>, in decode`]);
  });

  test('Python regex semantics: Unicode word characters and Python whitespace', () => {
    // é is a word character for Python's \w: no path starts after it. \x1c is whitespace for Python's \s
    // (not for JS's): it ends a path segment, so the path below is not one path.
    const n = normalise(raw([], `é/usr/lib/python3.11/a.py /opt/x\x1cy/lib/python3.11/b.py \u00a0/usr/lib/python3.11/c.py`));
    expect(n.stdout).toEqual([`é/usr/lib/python3.11/a.py /opt/x\x1cy/lib/python3.11/b.py \u00a0/var/lang/lib/python3.11/c.py`]);
  });

  test('task root: realpath and given path, longer first', () => {
    const n = normalise(raw([], `${REAL}/a.py ${ROOT}/b.py`));
    expect(n.stdout).toEqual(['/var/task/a.py /var/task/b.py']);
  });

  test('runtime_frames_only: JSON frame literals, [ERROR] frames and X-Ray stack/paths', () => {
    const cause = JSON.stringify({
      working_directory: ROOT,
      exceptions: [{ message: "'dict' object is not callable", type: 'TypeError', stack: [{ label: 'handle', path: '/opt/rt/bootstrap.py', line: 186 }] }],
      paths: ['/opt/rt/bootstrap.py'],
    });
    const body = `{"errorMessage": "'dict' object is not callable", "errorType": "TypeError", "requestId": "${ID1}", "stackTrace": ["  File \\"/opt/rt/bootstrap.py\\", line 186, in handle\\n    response = request_handler(event, lambda_context)\\n"]}`;
    const stdout = `[ERROR] TypeError: 'dict' object is not callable\rTraceback (most recent call last):\r\u00a0\u00a0File "/opt/rt/bootstrap.py", line 186, in handle\r\u00a0\u00a0\u00a0\u00a0response = request_handler(event, lambda_context)\n`;
    const n = normalise(raw([get(), post(ERR1, [['Content-Type', 'application/json'], ['Lambda-Runtime-Function-XRay-Error-Cause', cause]], body), get()], stdout), {
      runtimeFramesOnly: true,
    });
    expect(n.posts[0]).toEqual({
      path: ERR1,
      headers: {
        'content-type': 'application/json',
        'lambda-runtime-function-error-type': null,
        'lambda-runtime-function-xray-error-cause': {
          working_directory: '/var/task',
          exceptions: [{ message: "'dict' object is not callable", type: 'TypeError', stack: ['<RUNTIME FRAME>'] }],
          paths: ['<RUNTIME FRAME>'],
        },
      },
      body: `{"errorMessage": "'dict' object is not callable", "errorType": "TypeError", "requestId": "${ID1}", "stackTrace": ["<RUNTIME FRAME>"]}`,
    });
    expect(n.stdout).toEqual(["[ERROR] TypeError: 'dict' object is not callable\rTraceback (most recent call last):\r\u00a0\u00a0<RUNTIME FRAME>", '']);
  });

  test('X-Ray cause: stdlib/frozen lines become <N>, paths sorted as a set, unparsable kept raw', () => {
    const cause = JSON.stringify({
      working_directory: REAL,
      exceptions: [
        {
          message: 'm',
          type: 'KeyError',
          stack: [
            { label: 'import_module', path: `${PYLIB}importlib/__init__.py`, line: 126 },
            { label: '_gcd_import', path: '<frozen importlib._bootstrap>', line: 1204 },
            { label: '<module>', path: `${ROOT}/lambda_function.py`, line: 2 },
          ],
        },
      ],
      paths: [`${ROOT}/lambda_function.py`, `${PYLIB}importlib/__init__.py`, '<frozen importlib._bootstrap>'],
    });
    const n = normalise(raw([post(ERR1, [['Lambda-Runtime-Function-XRay-Error-Cause', cause]], '{}'), post(RESP1, [['lambda-runtime-function-xray-error-cause', '{oops']], '1')], ''));
    expect(n.posts[0]!.headers['lambda-runtime-function-xray-error-cause']).toEqual({
      working_directory: '/var/task',
      exceptions: [
        {
          message: 'm',
          type: 'KeyError',
          stack: [
            { label: 'import_module', path: '/var/lang/lib/python3.11/importlib/__init__.py', line: '<N>' },
            { label: '_gcd_import', path: '<frozen importlib._bootstrap>', line: '<N>' },
            { label: '<module>', path: '/var/task/lambda_function.py', line: 2 },
          ],
        },
      ],
      paths: ['/var/lang/lib/python3.11/importlib/__init__.py', '/var/task/lambda_function.py', '<frozen importlib._bootstrap>'],
    });
    expect(n.posts[1]!.headers['lambda-runtime-function-xray-error-cause']).toEqual({ unparsable: '{oops' });
    expect(n.stdout).toEqual(['']);
  });

  test('JSON log timestamps, with and without a space; bodies that are not UTF-8; stdout bad bytes', () => {
    const stdout = Buffer.concat([
      Buffer.from('{"timestamp": "2026-01-01T00:00:00Z", "level": "WARNING"}\n{"timestamp":"2026-01-01T00:00:00.123456Z"}\n'),
      Buffer.from([0x61, 0xff, 0x62, 0x0a]),
    ]);
    const n = normalise(raw([get(), post(RESP1, [['Content-Type', 'application/unknown']], Buffer.from([0xff, 0xfe, 0x00])), get()], stdout));
    expect(n.posts[0]).toEqual({
      path: RESP1,
      headers: { 'content-type': 'application/unknown', 'lambda-runtime-function-error-type': null, 'lambda-runtime-function-xray-error-cause': null },
      body_base64: '//4A',
    });
    expect(n.stdout).toEqual(['{"timestamp": "<TIMESTAMP>", "level": "WARNING"}', '{"timestamp":"<TIMESTAMP>"}', 'a\ufffdb', '']);
  });

  test('a BOM in a body is kept', () => {
    const n = normalise(raw([post(RESP1, [], '\ufeff"x"')], ''));
    expect(n.posts[0]!.body).toBe('\ufeff"x"');
  });
});

describe('normalise: Node rules (step 8)', () => {
  const node = { language: 'node' } as const;

  test('TEXT log timestamps at line start only (not after \\r)', () => {
    const n = normalise(raw([], `2026-01-01T00:00:00.123Z\t${ID1}\tINFO\tline one\r2026-01-01T00:00:00.124Z\tnot a line start\n`), node);
    expect(n.stdout).toEqual([`<TIMESTAMP>\t${ID1}\tINFO\tline one\r2026-01-01T00:00:00.124Z\tnot a line start`, '']);
  });

  test('error_thrown_error: JSON array trace, X-Ray cause with CommonJS paths', () => {
    const trace = [
      'Error: thrown synchronously',
      `    at Runtime.thrown [as handler] (${ROOT}/index.js:15:9)`,
      '    at Runtime.handleOnceNonStreaming (file:///var/runtime/index.mjs:1173:29)',
      '    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
    ];
    const body = JSON.stringify({ errorType: 'Error', errorMessage: 'thrown synchronously', trace });
    const cause = JSON.stringify({
      working_directory: ROOT,
      exceptions: [
        {
          type: 'Error',
          message: 'thrown synchronously',
          stack: [
            { path: `${ROOT}/index.js`, line: 15, label: 'Runtime.thrown [as handler]' },
            { path: 'file', line: null, label: 'Runtime.handleOnceNonStreaming' },
            { path: 'node', line: null, label: 'process.processTicksAndRejections' },
          ],
        },
      ],
      paths: [`${ROOT}/index.js`, 'file', 'node'],
    });
    const log = `2026-01-01T00:00:00.000Z\t${ID1}\tERROR\tInvoke Error \t${JSON.stringify({ errorType: 'Error', errorMessage: 'thrown synchronously', stack: trace })}\n`;
    const n = normalise(raw([get(), post(ERR1, [['Content-Type', 'application/json'], ['Lambda-Runtime-Function-XRay-Error-Cause', cause]], body), get()], log), node);
    expect(n.posts[0]).toEqual({
      path: ERR1,
      headers: {
        'content-type': 'application/json',
        'lambda-runtime-function-error-type': null,
        'lambda-runtime-function-xray-error-cause': {
          working_directory: '/var/task',
          exceptions: [
            { type: 'Error', message: 'thrown synchronously', stack: [{ path: '/var/task/index.js', line: 15, label: '<ENTRY>' }, '<RUNTIME FRAME>'] },
          ],
          paths: ['/var/task/index.js', '<RUNTIME FRAME>'],
        },
      },
      body: '{"errorType":"Error","errorMessage":"thrown synchronously","trace":["Error: thrown synchronously","    at <ENTRY> (/var/task/index.js:15:9)","    at <RUNTIME FRAME>"]}',
    });
    expect(n.stdout).toEqual([
      `<TIMESTAMP>\t${ID1}\tERROR\tInvoke Error \t{"errorType":"Error","errorMessage":"thrown synchronously","stack":["Error: thrown synchronously","    at <ENTRY> (/var/task/index.js:15:9)","    at <RUNTIME FRAME>"]}`,
      '',
    ]);
  });

  test('frames in plain text, \\r-joined lines and JSON-escaped strings; several user frames; async/new prefixes', () => {
    const frames = [
      `    at inner (${ROOT}/lib/util.js:3:11)`,
      '    at new Promise (<anonymous>)',
      `    at async Runtime.handler (file://${ROOT}/app.mjs:4:9)`,
      '    at async Promise.all (index 0)',
      '    at node:internal/process/task_queues:95:5',
    ];
    const plain = `Error: boom\n${frames.join('\n')}\nafter`;
    const crJoined = `2026-01-01T00:00:00.000Z\t${ID1}\tERROR\tError: boom\r${frames.join('\r')}`;
    const escaped = JSON.stringify({ stack: `Error: boom\n${frames.join('\n')}` });
    const n = normalise(raw([], `${plain}\n${crJoined}\n${escaped}`), node);
    expect(n.stdout).toEqual([
      'Error: boom',
      '    at inner (/var/task/lib/util.js:3:11)',
      '    at <RUNTIME FRAME>',
      '    at async <ENTRY> (file:///var/task/app.mjs:4:9)',
      '    at <RUNTIME FRAME>',
      'after',
      `<TIMESTAMP>\t${ID1}\tERROR\tError: boom\r    at inner (/var/task/lib/util.js:3:11)\r    at <RUNTIME FRAME>\r    at async <ENTRY> (file:///var/task/app.mjs:4:9)\r    at <RUNTIME FRAME>`,
      '{"stack":"Error: boom\\n    at inner (/var/task/lib/util.js:3:11)\\n    at <RUNTIME FRAME>\\n    at async <ENTRY> (file:///var/task/app.mjs:4:9)\\n    at <RUNTIME FRAME>"}',
    ]);
  });

  test('a frame without a label keeps its bare location; separate traces are labelled separately', () => {
    const text = [
      'Error: a',
      `    at ${ROOT}/index.js:40:11`,
      '    at listOnTimeout (node:internal/timers:573:17)',
      'Error: b',
      `    at Timeout._onTimeout (${ROOT}/index.js:41:11)`,
      `    at ${ROOT}/index.js:42:1`,
      '     at not (a/frame.js:1:1)',
    ].join('\n');
    const n = normalise(raw([], text), node);
    expect(n.stdout).toEqual([
      'Error: a',
      '    at /var/task/index.js:40:11',
      '    at <RUNTIME FRAME>',
      'Error: b',
      '    at Timeout._onTimeout (/var/task/index.js:41:11)',
      '    at /var/task/index.js:42:1',
      '     at not (a/frame.js:1:1)',
    ]);
  });

  test('require stacks: escaped \\n, separate JSON strings and plain lines', () => {
    const message = `Error: Cannot find module 'missing'\nRequire stack:\n- /var/runtime/index.mjs\n- ${ROOT}/index.js`;
    const body = JSON.stringify({
      errorType: 'Runtime.ImportModuleError',
      errorMessage: message,
      trace: [`Runtime.ImportModuleError: Error: Cannot find module 'missing'`, 'Require stack:', '- /var/runtime/index.mjs', `- ${ROOT}/index.js`, '    at _loadUserApp (file:///var/runtime/index.mjs:1087:17)', '    at async start (file:///var/runtime/index.mjs:1282:23)'],
    });
    const n = normalise(
      raw([post('/2018-06-01/runtime/init/error', [['Content-Type', 'application/json'], ['Lambda-Runtime-Function-Error-Type', 'Runtime.ImportModuleError']], body)], `${message}\n`, { byItself: true, code: 129 }),
      node,
    );
    expect(n.posts[0]!.body).toBe(
      `{"errorType":"Runtime.ImportModuleError","errorMessage":"Error: Cannot find module 'missing'\\nRequire stack:\\n- <RUNTIME FILE>\\n- /var/task/index.js","trace":["Runtime.ImportModuleError: Error: Cannot find module 'missing'","Require stack:","- <RUNTIME FILE>","- /var/task/index.js","    at <RUNTIME FRAME>"]}`,
    );
    expect(n.stdout).toEqual(["Error: Cannot find module 'missing'", 'Require stack:', '- <RUNTIME FILE>', '- /var/task/index.js', '']);
    expect(n.exit).toEqual({ by_itself: true, code: 129 });
  });

  test('streaming POST: response mode, declared trailers, decoded error-body trailer; ES-module X-Ray paths', () => {
    const errDoc = JSON.stringify({ errorType: 'Error', errorMessage: 'mid-stream failure', trace: ['Error: mid-stream failure', `    at Runtime.midstreamFail (file://${ROOT}/index.mjs:26:9)`, '    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)'] });
    const rec = raw(
      [
        get(),
        post(
          RESP1,
          [
            ['Content-Type', 'application/octet-stream'],
            ['Lambda-Runtime-Function-Response-Mode', 'streaming'],
            ['Transfer-Encoding', 'chunked'],
            ['Trailer', 'Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body'],
          ],
          'partial;',
          [
            ['Lambda-Runtime-Function-Error-Type', 'Error'],
            ['Lambda-Runtime-Function-Error-Body', Buffer.from(errDoc).toString('base64')],
          ],
        ),
        post(RESP1, [['Trailer', 'X-A'], ['trailer', ' x-B ,X-c']], 'ok', []),
        post(RESP1, [], 'ok', [['Lambda-Runtime-Function-Error-Body', 'not base64!'], ['lambda-runtime-function-error-body', 'second']]),
        post(RESP1, [], 'chunked, no trailers', []),
      ],
      '',
    );
    const n = normalise(rec, { language: 'node' });
    expect(n.posts[0]).toEqual({
      path: RESP1,
      headers: {
        'content-type': 'application/octet-stream',
        'lambda-runtime-function-error-type': null,
        'lambda-runtime-function-xray-error-cause': null,
        'lambda-runtime-function-response-mode': 'streaming',
        trailer: 'lambda-runtime-function-error-type, lambda-runtime-function-error-body',
      },
      body: 'partial;',
      trailers: {
        'lambda-runtime-function-error-type': 'Error',
        'lambda-runtime-function-error-body': {
          decoded: '{"errorType":"Error","errorMessage":"mid-stream failure","trace":["Error: mid-stream failure","    at <ENTRY> (file:///var/task/index.mjs:26:9)","    at <RUNTIME FRAME>"]}',
        },
      },
    });
    expect(n.posts[1]!.headers.trailer).toBe('x-a, x-b, x-c');
    expect(n.posts[1]!.trailers).toEqual({});
    expect(n.posts[2]!.trailers).toEqual({ 'lambda-runtime-function-error-body': 'not base64!' });
    expect('trailers' in n.posts[3]!).toBe(false);
    expect('trailer' in n.posts[3]!.headers).toBe(false);
  });

  test('Node X-Ray: ES-module "file" entries are runtime frames, one per run; duplicate paths dedup', () => {
    const cause = JSON.stringify({
      working_directory: ROOT,
      exceptions: [{ type: 'Error', message: 'm', stack: [{ path: 'file', line: null, label: 'a' }, { path: 'file', line: null, label: 'b' }] }],
      paths: ['file', 'file'],
    });
    const n = normalise(raw([post(ERR1, [['Lambda-Runtime-Function-XRay-Error-Cause', cause]], '{}')], ''), node);
    expect(n.posts[0]!.headers['lambda-runtime-function-xray-error-cause']).toEqual({
      working_directory: '/var/task',
      exceptions: [{ type: 'Error', message: 'm', stack: ['<RUNTIME FRAME>'] }],
      paths: ['<RUNTIME FRAME>'],
    });
  });

  test('Python recordings are untouched by the Node rules', () => {
    const text = '    at foo (/opt/x.js:1:1)\n2026-01-01T00:00:00Z\tx\nRequire stack:\n- /opt/a.js';
    expect(normalise(raw([], text)).stdout).toEqual(text.split('\n'));
  });
});

describe('firstDifference', () => {
  test('reports the path and the first differing character', () => {
    const d = firstDifference({ posts: [{ body: 'abcdef' }], stdout: ['a'] }, { posts: [{ body: 'abcXef' }], stdout: ['a'] });
    expect(d).toEqual({ path: '$.posts[0].body', expected: 'abcdef', actual: 'abcXef', offset: 3 });
    expect(describeDifference(d!)).toContain('character 3');
  });

  test('missing and extra array items and keys, type changes, equal values', () => {
    expect(firstDifference(['a', 'b'], ['a'])).toEqual({ path: '$[1]', expected: 'b', actual: '<absent>' });
    expect(firstDifference({ a: 1 }, { a: 1, 'b-c': 2 })).toEqual({ path: '$["b-c"]', expected: '<absent>', actual: 2 });
    expect(firstDifference({ a: null }, { a: {} })).toEqual({ path: '$.a', expected: null, actual: {} });
    expect(firstDifference({ a: [1, { b: 'x' }], c: null }, { c: null, a: [1, { b: 'x' }] })).toBeNull();
  });
});

describe('normalise is the identity on every published expectation (re-recorded as raw)', () => {
  // A recording that already looks like its expectation must normalise to exactly that expectation: every
  // rule must leave normalised text alone. This runs the normaliser over all real case files.
  const cases = [PYTHON_CASES_DIR, NODE_CASES_DIR].flatMap((d) => loadCases(d));
  test.each(cases.map((c) => [c.name + (c.language ? ` (${c.language})` : ''), c] as const))('%s', (_, c) => {
    const e = c.expected;
    const posts = [...e.posts];
    const requests: RawRequest[] = e.requests.map((line) => {
      const [method, path] = line.split(' ') as [string, string];
      if (method !== 'POST') return { method, path, headers: [], body: Buffer.alloc(0), trailers: null };
      const p = posts.shift()!;
      const headers: Array<[string, string]> = [];
      for (const [k, v] of Object.entries(p.headers)) {
        if (v === null) continue;
        headers.push([k, typeof v === 'string' ? v : JSON.stringify(v)]);
      }
      let trailers: RawRequest['trailers'] = null;
      if (p.trailers) {
        trailers = Object.entries(p.trailers).map(([k, v]): [string, string] => [
          k,
          typeof v === 'string' ? v : Buffer.from((v as { decoded: string }).decoded).toString('base64'),
        ]);
      }
      const body = p.body_base64 !== undefined ? Buffer.from(p.body_base64, 'base64') : Buffer.from(p.body!);
      return { method, path, headers, body, trailers };
    });
    const rec: RawRecording = {
      requests,
      stdout: Buffer.from(e.stdout.join('\n')),
      exit: e.exit.by_itself ? { byItself: true, code: e.exit.code } : { byItself: false },
      taskRoot: ROOT,
    };
    const n = normalise(rec, { runtimeFramesOnly: c.runtime_frames_only === true, language: c.language });
    const d = firstDifference(e, n);
    if (d) expect.fail(describeDifference(d));
  });
});
