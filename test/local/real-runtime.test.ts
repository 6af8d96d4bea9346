// The local tool end to end with tandem's real `bootstrap` and real Python (skipped until dist/runtime.mjs
// exists): the python-hello example through `npm run invoke`'s command, breaking and fixing a handler, a
// timeout, a worker exit, --watch on Python code, and a Python generator streamed through serve mode
// (function URL and InvokeWithResponseStream) with the first chunk arriving before the generator finishes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { runServe, type Serving } from '../../src/local/serve-command.ts';
import { defaultBootstrap, packageRoot } from '../../src/local/function-config.ts';
import { decodeMessages } from '../../src/local/event-stream.ts';
import { CLI, LogCollector, ROOT, ensureCliBuilt, tempDir, waitFor } from './helpers.ts';

const ready = existsSync(join(ROOT, 'bootstrap')) && existsSync(join(ROOT, 'dist', 'runtime.mjs'));
const EXAMPLE = join(ROOT, 'examples', 'python-hello');

function invoke(args: string[]) {
  const r = spawnSync(process.execPath, ['--', CLI, 'invoke', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe.skipIf(!ready)('with the real bootstrap', () => {
  beforeAll(() => ensureCliBuilt());

  it('invokes the python-hello example with the documented command', () => {
    const r = invoke(['lambda_function.lambda_handler', '--dir', 'examples/python-hello']);
    expect(r.stderr).toMatch(/REPORT RequestId: \S+\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: \d+ MB\tInit Duration: [\d.]+ ms\t\n/);
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ message: 'Hello, world!', function: 'tandem-local', memory_mb: 128, warm_invocations: 1 });
    expect(r.stderr).toContain(`[INFO]\t`);
    expect(r.stderr).toContain(`greeting world (invocation 1 of this runtime)`);
    expect(r.stderr.indexOf('START RequestId')).toBeLessThan(r.stderr.indexOf('greeting world'));
  });

  it('answers an HTTP sample event in the HTTP response shape', () => {
    const r = invoke(['lambda_function.lambda_handler', '--dir', 'examples/python-hello', '--event', 'function-url']);
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.statusCode).toBe(200);
    expect(JSON.parse(doc.body).message).toBe('Hello, world!');
  });

  describe('a handler being edited', () => {
    const dir = tempDir();
    const file = join(dir.dir, 'lambda_function.py');
    beforeAll(() => cpSync(EXAMPLE, dir.dir, { recursive: true }));
    afterAll(() => dir.cleanup());

    it('shows the error, the init error, then the fixed result', () => {
      writeFileSync(file, 'def lambda_handler(event, context):\n    raise ValueError("oops")\n');
      const raised = invoke(['lambda_function.lambda_handler', '--dir', dir.dir]);
      expect(raised.status).toBe(1);
      expect(JSON.parse(raised.stdout)).toMatchObject({ errorMessage: 'oops', errorType: 'ValueError' });

      writeFileSync(file, 'def lambda_handler(event, context)\n    return 1\n');
      const syntax = invoke(['lambda_function.lambda_handler', '--dir', dir.dir]);
      expect(syntax.status).toBe(1);
      expect(JSON.parse(syntax.stdout).errorType).toBe('Runtime.UserCodeSyntaxError');

      writeFileSync(file, 'def lambda_handler(event, context):\n    return {"fixed": True}\n');
      const fixed = invoke(['lambda_function.lambda_handler', '--dir', dir.dir]);
      expect(fixed.status).toBe(0);
      expect(fixed.stdout).toBe('{"fixed": true}');
    });

    it('times out a handler that sleeps too long', () => {
      writeFileSync(file, 'import time\ndef lambda_handler(event, context):\n    time.sleep(30)\n');
      const r = invoke(['lambda_function.lambda_handler', '--dir', dir.dir, '--timeout', '1']);
      expect(r.status).toBe(3);
      expect(JSON.parse(r.stdout).errorMessage).toMatch(/^RequestId: \S+ Error: Task timed out after 1\.00 seconds$/);
    });

    it('reports a worker that exits mid-invocation as Runtime.ExitError', () => {
      writeFileSync(file, 'import sys\ndef lambda_handler(event, context):\n    sys.exit(3)\n');
      const r = invoke(['lambda_function.lambda_handler', '--dir', dir.dir]);
      expect(r.status).toBe(1);
      expect(JSON.parse(r.stdout)).toMatchObject({ errorType: 'Runtime.ExitError' });
      expect(JSON.parse(r.stdout).errorMessage).toMatch(/Runtime exited with error: exit status 3$/);
    });
  });

  describe.concurrent('--watch', () => {
    /** `tandem invoke --watch` on a task root; every wait is for output, never for time. */
    function watchSession(root: string) {
      const child = spawn(process.execPath, ['--', CLI, 'invoke', 'lambda_function.lambda_handler', '--dir', root, '--watch'], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const session = {
        out: '',
        err: '',
        reports: () => session.err.split('REPORT RequestId:').length - 1,
        /** waitFor, with what the tool printed when it times out. */
        waitFor: (cond: () => boolean, what: string) =>
          waitFor(cond, what, 30_000).catch((e: Error) => {
            throw new Error(`${e.message}\n--- stdout:\n${session.out}\n--- stderr:\n${session.err}`);
          }),
      };
      child.stdout.on('data', (c: Buffer) => (session.out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (session.err += c.toString()));
      const stop = async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGINT');
          await new Promise((r) => child.once('exit', r));
        }
      };
      return { session, stop };
    }
    const handler = (body: string) => `def lambda_handler(event, context):\n${body}`;

    it('re-invokes with the new code after a save', async () => {
      const dir = tempDir({ 'lambda_function.py': handler('    return "version one"\n') });
      const { session, stop } = watchSession(dir.dir);
      try {
        // stdout and stderr are separate pipes: wait for both, in whatever order they arrive.
        await session.waitFor(() => session.err.includes('watching') && session.out === '"version one"', 'the first invocation');
        writeFileSync(join(dir.dir, 'lambda_function.py'), handler('    return "version two, longer"\n'));
        await session.waitFor(() => session.out.endsWith('"version two, longer"'), 'the new code to run');
      } finally {
        await stop();
        dir.cleanup();
      }
    });

    it('runs an edit that keeps the size and the second of the last compile (no stale bytecode)', async () => {
      // Python trusts a .pyc whose recorded source mtime (whole seconds) and size match: pin both.
      const file = 'lambda_function.py';
      const dir = tempDir({ [file]: handler('    return "version 1"\n') });
      const second = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
      utimesSync(join(dir.dir, file), second, new Date(second.getTime() + 100));
      const { session, stop } = watchSession(dir.dir);
      try {
        await session.waitFor(() => session.err.includes('watching') && session.out === '"version 1"', 'the first invocation');
        expect(readdirSync(join(dir.dir, '__pycache__')).some((n) => n.startsWith('lambda_function.'))).toBe(true);
        writeFileSync(join(dir.dir, file), handler('    return "version 2"\n'));
        utimesSync(join(dir.dir, file), second, new Date(second.getTime() + 700));
        await session.waitFor(() => session.reports() === 2 && session.out.length === 2 * '"version 1"'.length, 'the second invocation');
        expect(session.out).toBe('"version 1""version 2"');
      } finally {
        await stop();
        dir.cleanup();
      }
    });

    it('stops instead of looping when the function writes into its task root', async () => {
      const dir = tempDir({ 'lambda_function.py': handler('    return "quiet"\n') });
      const { session, stop } = watchSession(dir.dir);
      try {
        await session.waitFor(() => session.err.includes('watching') && session.out === '"quiet"', 'the first invocation');
        writeFileSync(join(dir.dir, 'lambda_function.py'), handler('    import time\n    open("written.txt", "w").write(repr(time.time()))\n    return "writer"\n'));
        await session.waitFor(() => session.err.includes('written.txt changed again while the function ran'), 'the loop to be stopped');
        // The run the edit started and the one its writes started, then nothing until the next real change:
        await session.waitFor(() => session.out === '"quiet""writer""writer"', 'the results of both runs');
        expect(session.reports()).toBe(3);
        writeFileSync(join(dir.dir, 'lambda_function.py'), handler('    return "quiet again"\n'));
        await session.waitFor(() => session.out.endsWith('"quiet again"') && session.reports() === 4, 'the next edit to run');
        expect(session.out).toBe('"quiet""writer""writer""quiet again"');
      } finally {
        await stop();
        dir.cleanup();
      }
    });
  });

  describe('serve mode on the python-hello example', () => {
    let s: Serving;
    beforeAll(async () => {
      s = await runServe({
        config: {
          handler: 'lambda_function.lambda_handler',
          taskRoot: EXAMPLE,
          functionName: 'hello',
          version: '$LATEST',
          timeoutSec: 10,
          memoryMb: 256,
          region: 'us-east-1',
          bootstrap: defaultBootstrap(),
          runtimeDir: packageRoot(),
          env: {},
        },
        host: '127.0.0.1',
        port: 0,
        concurrency: 2,
        watch: false,
        log: new LogCollector().sink,
      });
    });
    afterAll(async () => {
      await s.close();
    });

    it('answers the AWS-emulator-style curl call, with Tail logs', async () => {
      const res = await request(`${s.url}/2015-03-31/functions/function/invocations`, {
        method: 'POST',
        body: '{"name":"Ada"}',
        headers: { 'X-Amz-Log-Type': 'Tail' },
      });
      expect(res.statusCode).toBe(200);
      expect(((await res.body.json()) as { message: string }).message).toBe('Hello, Ada!');
      const tail = Buffer.from(res.headers['x-amz-log-result'] as string, 'base64').toString();
      expect(tail).toContain('greeting Ada');
      expect(tail).toContain('Memory Size: 256 MB');
    });

    it('serves concurrent requests, warm runtimes keeping their module state', async () => {
      const call = async () => {
        const res = await request(`${s.url}/2015-03-31/functions/function/invocations`, { method: 'POST', body: '{}' });
        return (await res.body.json()) as { message: string; warm_invocations: number };
      };
      const all = await Promise.all([call(), call(), call(), call()]);
      expect(all.every((d) => d.message === 'Hello, world!')).toBe(true);
      expect(Math.max(...all.map((d) => d.warm_invocations))).toBeGreaterThan(1);
    });
  });

  describe('serve mode streaming a Python generator', () => {
    const dir = tempDir({
      'stream_fn.py': [
        'import os, time',
        '',
        'def handler(event, context):',
        '    release = event.get("release") or event["queryStringParameters"]["release"]',
        '    def gen():',
        '        yield "first;"',
        '        while not os.path.exists(release):',
        '            time.sleep(0.02)',
        '        yield "second"',
        '    return gen()',
        '',
      ].join('\n'),
    });
    let s: Serving;
    let logs: LogCollector;
    beforeAll(async () => {
      logs = new LogCollector();
      s = await runServe({
        config: {
          handler: 'stream_fn.handler',
          taskRoot: dir.dir,
          functionName: 'stream-fn',
          version: '$LATEST',
          timeoutSec: 30,
          memoryMb: 128,
          region: 'us-east-1',
          bootstrap: defaultBootstrap(),
          runtimeDir: packageRoot(),
          env: {},
        },
        host: '127.0.0.1',
        port: 0,
        concurrency: 1,
        watch: false,
        log: logs.sink,
      });
    });
    afterAll(async () => {
      await s.close();
      dir.cleanup();
    });

    it('through a function URL request, the first chunk arrives before the generator finishes', async () => {
      const release = join(dir.dir, 'release-url');
      const res = await request(`${s.url}/stream?release=${encodeURIComponent(release)}`);
      expect(res.statusCode).toBe(200);
      const it = res.body[Symbol.asyncIterator]();
      const first = Buffer.from((await it.next()).value as Buffer).toString();
      expect(first).toBe('first;');
      writeFileSync(release, '');
      let rest = '';
      for (let n = await it.next(); !n.done; n = await it.next()) rest += Buffer.from(n.value as Buffer).toString();
      expect(rest).toBe('second');
    });

    it('through InvokeWithResponseStream, as event-stream PayloadChunks', async () => {
      const release = join(dir.dir, 'release-stream');
      const res = await request(`${s.url}/2021-11-15/functions/stream-fn/response-streaming-invocations`, {
        method: 'POST',
        body: JSON.stringify({ release }),
      });
      expect(res.statusCode).toBe(200);
      const it = res.body[Symbol.asyncIterator]();
      let got = Buffer.alloc(0);
      while (decodeMessages(got).length < 1) got = Buffer.concat([got, Buffer.from((await it.next()).value as Buffer)]);
      expect(decodeMessages(got)[0]!.payload.toString()).toBe('first;');
      writeFileSync(release, '');
      for (let n = await it.next(); !n.done; n = await it.next()) got = Buffer.concat([got, Buffer.from(n.value as Buffer)]);
      const msgs = decodeMessages(got);
      expect(msgs.filter((m) => m.headers[':event-type'] === 'PayloadChunk').map((m) => m.payload.toString()).join('')).toBe('first;second');
      expect(JSON.parse(msgs.at(-1)!.payload.toString())).toEqual({});
    });
  });
});
