// The local tool's pure pieces: env files, handler files, the HTTP prelude splitter, event-stream framing,
// function-URL response mapping, the REPORT line, --watch's change filter and bytecode invalidation, and how
// invoke prints results on a terminal or a pipe.
import { afterAll, describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { chmodSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readEnvFile } from '../../src/local/env-file.ts';
import { findHandlerFile } from '../../src/local/handler-file.ts';
import { PreludeSplitter } from '../../src/local/http-prelude.ts';
import { decodeMessages, invokeCompleteEvent, payloadChunkEvent } from '../../src/local/event-stream.ts';
import { httpAnswerOf } from '../../src/local/function-url.ts';
import { reportLine } from '../../src/local/platform-log.ts';
import { invokeOnce } from '../../src/local/invoke-command.ts';
import { Supervisor } from '../../src/local/supervisor.ts';
import { isIgnoredPath, watchTree } from '../../src/local/watch.ts';
import { dropStaleBytecode } from '../../src/local/stale-bytecode.ts';
import { terminalLogFilter } from '../../src/local/terminal-log.ts';
import { LogCollector, fixtureConfig, tempDir, waitFor } from './helpers.ts';

const dir = tempDir();
afterAll(() => dir.cleanup());

describe('env files', () => {
  it('reads dotenv syntax', () => {
    const f = join(dir.dir, 'a.env');
    writeFileSync(f, '# c\n\nA=1\nexport B = two words \nC="quoted # not a comment\\nnext"\nD=\'single\'\nE=x # comment\n');
    expect(readEnvFile(f, 'fn')).toEqual({ A: '1', B: 'two words', C: 'quoted # not a comment\nnext', D: 'single', E: 'x' });
  });
  it('reads JSON objects and SAM env.json', () => {
    const f = join(dir.dir, 'a.json');
    writeFileSync(f, '{"A": "1", "N": 2, "O": {"x": 1}}');
    expect(readEnvFile(f, 'fn')).toEqual({ A: '1', N: '2', O: '{"x":1}' });
    writeFileSync(f, '{"Parameters": {"A": "all"}, "fn": {"B": "mine"}, "other": {"C": "theirs"}}');
    expect(readEnvFile(f, 'fn')).toEqual({ A: 'all', B: 'mine' });
  });
  it('says what is wrong', () => {
    const f = join(dir.dir, 'bad.json');
    writeFileSync(f, '{"A": ');
    expect(() => readEnvFile(f, 'fn')).toThrow(/bad\.json: invalid JSON/);
    writeFileSync(f, '["A"]');
    expect(() => readEnvFile(f, 'fn')).toThrow(/must hold an object/);
    writeFileSync(f, '{"1BAD": "x"}');
    expect(() => readEnvFile(f, 'fn')).toThrow(/"1BAD" is not a valid variable name/);
  });
});

describe('handler files', () => {
  it('finds Python modules, packages and Node files', () => {
    mkdirSync(join(dir.dir, 'pkg', 'sub'), { recursive: true });
    writeFileSync(join(dir.dir, 'pkg', 'sub', 'mod.py'), '');
    writeFileSync(join(dir.dir, 'pkg', '__init__.py'), '');
    writeFileSync(join(dir.dir, 'index.mjs'), '');
    expect(findHandlerFile(dir.dir, 'pkg.sub.mod.handler')).toMatchObject({ language: 'python', file: 'pkg/sub/mod.py' });
    expect(findHandlerFile(dir.dir, 'pkg.handler')).toMatchObject({ language: 'python', file: 'pkg/__init__.py' });
    expect(findHandlerFile(dir.dir, 'index.handler')).toMatchObject({ language: 'node', file: 'index.mjs' });
    expect(findHandlerFile(dir.dir, 'python:index.handler')).toMatchObject({ language: 'python', file: undefined });
    expect(findHandlerFile(dir.dir, 'nope.handler')?.file).toBeUndefined();
    expect(findHandlerFile(dir.dir, 'nodot')).toBeUndefined();
  });

  it('routes exactly as the runtime does: Python file first, then TANDEM_RUNTIME and prefixes', () => {
    writeFileSync(join(dir.dir, 'app.py'), '');
    writeFileSync(join(dir.dir, 'app.js'), '');
    mkdirSync(join(dir.dir, 'web'));
    writeFileSync(join(dir.dir, 'web', 'index.js'), '');
    expect(findHandlerFile(dir.dir, 'app.handler')).toMatchObject({ language: 'python', file: 'app.py' });
    expect(findHandlerFile(dir.dir, 'node:app.handler')).toMatchObject({ language: 'node', file: 'app.js' });
    expect(findHandlerFile(dir.dir, 'app.handler', 'node')).toMatchObject({ language: 'node', file: 'app.js' });
    expect(findHandlerFile(dir.dir, 'web.handler')).toMatchObject({ language: 'node', file: 'web' });
    expect(findHandlerFile(dir.dir, 'missing.handler', 'node')).toMatchObject({ language: 'node', file: undefined });
    expect(() => findHandlerFile(dir.dir, 'app.handler', 'ruby')).toThrow(/TANDEM_RUNTIME must be python or node/);
  });
});

describe('HTTP prelude splitter', () => {
  it('splits the prelude across chunk boundaries', () => {
    const s = new PreludeSplitter();
    const all = Buffer.concat([Buffer.from('{"statusCode":201}'), Buffer.alloc(8), Buffer.from('body')]);
    expect(s.push(all.subarray(0, 10))).toEqual({ body: Buffer.alloc(0) });
    expect(s.push(all.subarray(10, 22)).body.length).toBe(0);
    const r = s.push(all.subarray(22));
    expect(r.prelude).toEqual({ statusCode: 201 });
    expect(r.body.toString()).toBe('body');
    expect(s.push(Buffer.from('more')).body.toString()).toBe('more');
  });
});

describe('event stream framing', () => {
  it('round-trips PayloadChunk and InvokeComplete messages with valid CRCs', () => {
    const bytes = Buffer.concat([payloadChunkEvent(Buffer.from('hi')), invokeCompleteEvent({ ErrorCode: 'E' })]);
    const msgs = decodeMessages(bytes);
    expect(msgs.map((m) => m.headers[':event-type'])).toEqual(['PayloadChunk', 'InvokeComplete']);
    expect(msgs[0]!.headers[':message-type']).toBe('event');
    expect(msgs[0]!.payload.toString()).toBe('hi');
    expect(JSON.parse(msgs[1]!.payload.toString())).toEqual({ ErrorCode: 'E' });
    const bad = Buffer.from(bytes);
    bad[bad.length - 1]! ^= 1;
    expect(() => decodeMessages(bad)).toThrow(/CRC/);
  });
});

describe('function URL responses', () => {
  it('maps the response object and plain JSON', () => {
    const a = httpAnswerOf(Buffer.from('{"statusCode":404,"headers":{"X-A":"b"},"body":"aGk=","isBase64Encoded":true,"cookies":["c=1"]}'), 'application/json');
    expect(a.status).toBe(404);
    expect(a.headers).toEqual([['x-a', 'b'], ['content-type', 'application/json'], ['set-cookie', 'c=1']]);
    expect(a.body.toString()).toBe('hi');
    const b = httpAnswerOf(Buffer.from('{"ok":true}'), 'application/json');
    expect(b).toEqual({ status: 200, headers: [['content-type', 'application/json']], body: Buffer.from('{"ok":true}') });
  });
});

describe('REPORT line', () => {
  it('has Lambda’s fields and separators', () => {
    expect(reportLine({ requestId: 'r', durationMs: 1.234, billedMs: 2, memorySizeMb: 128, maxMemoryUsedMb: 40, initDurationMs: 100.5 })).toBe(
      'REPORT RequestId: r\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\tInit Duration: 100.50 ms\t\n',
    );
    expect(reportLine({ requestId: 'r', durationMs: 3000, billedMs: 3000, memorySizeMb: 128, maxMemoryUsedMb: 40, status: 'timeout' })).toMatch(/\tStatus: timeout\t\n$/);
  });
});

describe('watch filter', () => {
  it('ignores bytecode, caches, IDE files and editors\' temp files', () => {
    const ignored = [
      '__pycache__/a.cpython-311.pyc', 'a.pyc', '.git/index', 'pkg/.a.py.swp', 'pkg/.a.py.swn', 'a.py~', '.venv/lib/x.py',
      'venv/bin/python', '.idea/workspace.xml', '.vscode/settings.json', '#a.py#', 'pkg/.#a.py', '4913',
      'a.py___jb_tmp___', 'a.py___jb_old___', '.goutputstream-XYZ12', '.a.py.kate-swp', '.DS_Store', '.coverage',
      '.aws-sam/build/template.yaml', '.tox/py311/x',
    ];
    for (const f of ignored) expect(isIgnoredPath(f), f).toBe(true);
    for (const f of ['lambda_function.py', 'pkg/mod.py', 'index.mjs', 'data/config.json', 'events/s3.json', 'swap.py', 'env/x.py']) {
      expect(isIgnoredPath(f), f).toBe(false);
    }
  });
});

describe('watchTree', () => {
  function watching(root: string) {
    const batches: string[][] = [];
    const w = watchTree(root, (files) => batches.push(files.sort()), 50);
    return { batches, close: () => w.close() };
  }

  it('reports real changes only: not temp files that came and went, attribute changes, or directories themselves', async () => {
    const d = tempDir({ 'a.py': 'one', 'b.py': 'b' });
    const w = watching(d.dir);
    try {
      // One editor-like save of a.py (temp file, rename over), a chmod of b.py, a probe file: all in one window.
      writeFileSync(join(d.dir, 'sedXy12z'), 'two');
      renameSync(join(d.dir, 'sedXy12z'), join(d.dir, 'a.py'));
      chmodSync(join(d.dir, 'b.py'), 0o600);
      writeFileSync(join(d.dir, 'probe.tmp'), '');
      rmSync(join(d.dir, 'probe.tmp'));
      chmodSync(d.dir, 0o700);
      await waitFor(() => w.batches.length > 0, 'a change');
      expect(w.batches).toEqual([['a.py']]);
      // Deleted files, new files and new directories holding files are changes.
      mkdirSync(join(d.dir, 'pkg'));
      writeFileSync(join(d.dir, 'pkg', 'mod.py'), 'x');
      rmSync(join(d.dir, 'b.py'));
      await waitFor(() => w.batches.length > 1, 'more changes');
      // (The new directory is reported as itself, or as its file when the file's event came after its watcher.)
      const second = w.batches.slice(1).flat();
      expect(second).toContain('b.py');
      expect(second.some((f) => f === 'pkg' || f === join('pkg', 'mod.py'))).toBe(true);
    } finally {
      w.close();
      d.cleanup();
    }
  });
});

describe('terminal log filter', () => {
  it('shows lone carriage returns (multi-line Python log records) as line breaks, across chunks', () => {
    const show = terminalLogFilter();
    const euro = Buffer.from('€');
    const parts = [Buffer.from('[ERROR] E: x\rTraceback\r'), Buffer.from('\n  line'), Buffer.from('\r'), Buffer.from('next '), euro.subarray(0, 1), euro.subarray(1), Buffer.from('\r\n')];
    expect(parts.map((p) => show(p)).join('')).toBe('[ERROR] E: x\nTraceback\r\n  line\nnext €\r\n');
  });
});

describe('stale bytecode', () => {
  it('removes the cached bytecode of changed Python files only', () => {
    const d = tempDir();
    try {
      mkdirSync(join(d.dir, '__pycache__'));
      mkdirSync(join(d.dir, 'pkg', '__pycache__'), { recursive: true });
      const names = ['a.cpython-311.pyc', 'a.cpython-312.opt-1.pyc', 'ab.cpython-311.pyc', 'b.cpython-311.pyc'];
      for (const n of names) writeFileSync(join(d.dir, '__pycache__', n), '');
      writeFileSync(join(d.dir, 'pkg', '__pycache__', 'a.cpython-311.pyc'), '');
      const removed = dropStaleBytecode(d.dir, ['a.py', 'data.json', 'gone/x.py']);
      expect(removed.length).toBe(2);
      expect(readdirSync(join(d.dir, '__pycache__')).sort()).toEqual(['ab.cpython-311.pyc', 'b.cpython-311.pyc']);
      expect(readdirSync(join(d.dir, 'pkg', '__pycache__'))).toEqual(['a.cpython-311.pyc']);
      dropStaleBytecode(d.dir, [join('pkg', 'a.py')]);
      expect(readdirSync(join(d.dir, 'pkg', '__pycache__'))).toEqual([]);
    } finally {
      d.cleanup();
    }
  });
});

describe('invoke output', () => {
  async function run(event: object, tty: boolean) {
    const sup = new Supervisor({ config: fixtureConfig(), log: new LogCollector().sink });
    const stdout = Object.assign(new PassThrough(), { isTTY: tty });
    const stderr = new PassThrough();
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    stdout.on('data', (c: Buffer) => out.push(c));
    stderr.on('data', (c: Buffer) => err.push(c));
    try {
      const status = await invokeOnce(sup, Buffer.from(JSON.stringify(event)), { stdout, stderr });
      return { status, out: Buffer.concat(out).toString(), err: Buffer.concat(err).toString() };
    } finally {
      await sup.close();
    }
  }

  it('pretty-prints JSON on a terminal and writes exact bytes to a pipe', async () => {
    const ev = { mode: 'return', value: { a: [1, 2] } };
    expect((await run(ev, true)).out).toBe('{\n  "a": [\n    1,\n    2\n  ]\n}\n');
    expect((await run(ev, false)).out).toBe('{"a":[1,2]}');
  });

  it('shows an HTTP prelude on stderr on a terminal, raw on a pipe', async () => {
    const ev = { mode: 'stream', contentType: 'application/vnd.awslambda.http-integration-response', chunks: ['{"statusCode":202}\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000', 'body'] };
    const t = await run(ev, true);
    expect(t.out).toBe('body\n');
    expect(t.err).toContain('HTTP prelude {"statusCode":202}');
    expect((await run(ev, false)).out).toBe('{"statusCode":202}\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000body');
  });

  it('puts a mid-stream error on stderr and exits 1', async () => {
    const r = await run({ mode: 'stream', chunks: ['part', 'x'], failAfter: 1 }, false);
    expect(r.status).toBe(1);
    expect(r.out).toBe('part');
    expect(r.err).toContain('the stream ended with FixtureStreamError');
  });
});
