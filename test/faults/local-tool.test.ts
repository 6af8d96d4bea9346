// Fault class 5: the local tool at Lambda's limits and under hostile or slow peers. `invoke` refuses an
// event over Lambda's 6 MB request limit with Lambda's words (as `serve` answers 413); `invoke` passes a
// slow reader's pace on to the function instead of buffering its output (bounded memory); `serve` answers
// HTTP it cannot parse with a status (400, 431), closes that connection, and keeps serving.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runServe, type Serving } from '../../src/local/serve-command.ts';
import { CLI, LogCollector, ensureCliBuilt, fixtureConfig } from '../local/helpers.ts';
import { realPython, tempPath, until } from './harness.ts';

const LIMIT = 6 * 1024 * 1024;
const TOO_LARGE = 'RequestEntityTooLargeException: Request must be smaller than 6291456 bytes for the InvokeFunction operation';

interface CliRun {
  pid: number;
  code: Promise<number | null>;
  stdout(): string;
  stderr(): string;
}

/** `tandem invoke` as a user runs it; stderr is read only when `readStderr` (else the test reads it). */
function cli(args: string[], opts: { stdin?: Buffer; readStderr?: boolean } = {}): CliRun & { child: ReturnType<typeof spawn> } {
  const child = spawn(process.execPath, [CLI, 'invoke', ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, TANDEM_PYTHON: realPython() },
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  if (opts.readStderr !== false) child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.stdin!.on('error', () => undefined);
  child.stdin!.end(opts.stdin);
  return {
    child,
    pid: child.pid!,
    code: new Promise((r) => child.on('close', (c) => r(c))),
    stdout: () => out,
    stderr: () => err,
  };
}

function taskRoot(files: Record<string, string>): string {
  const dir = join(tempPath('root'), '..');
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

beforeAll(() => ensureCliBuilt());

describe('invoke: the 6 MB request limit', () => {
  const LEN = 'def handler(event, context):\n    return len(event)\n';

  it('an event file of 6 MB + 1 byte is refused with Lambda\'s words, exit 2, and nothing runs', async () => {
    const dir = taskRoot({ 'app.py': LEN });
    const file = join(dir, 'big.json');
    writeFileSync(file, `"${'a'.repeat(LIMIT - 1)}"`);
    const run = cli(['app.handler', '--dir', dir, '--event', file]);
    expect(await run.code).toBe(2);
    expect(run.stderr()).toContain(`tandem: the event file ${file} is 6291457 bytes; Lambda refuses it: ${TOO_LARGE}`);
    expect(run.stderr()).not.toContain('START RequestId');
    expect(run.stdout()).toBe('');
  });

  it('10 MiB on stdin: refused the same way', async () => {
    const dir = taskRoot({ 'app.py': LEN });
    const run = cli(['app.handler', '--dir', dir, '--event', '-'], { stdin: Buffer.from(`"${'b'.repeat(10 * 1024 * 1024 - 2)}"`) });
    expect(await run.code).toBe(2);
    expect(run.stderr()).toContain(`tandem: the event on stdin is 10485760 bytes; Lambda refuses it: ${TOO_LARGE}`);
  });

  it('exactly 6 MB still runs', async () => {
    const dir = taskRoot({ 'app.py': LEN });
    const file = join(dir, 'limit.json');
    writeFileSync(file, `"${'a'.repeat(LIMIT - 2)}"`);
    const run = cli(['app.handler', '--dir', dir, '--event', file]);
    expect(await run.code).toBe(0);
    expect(run.stdout()).toBe(String(LIMIT - 2));
  });
});

describe('invoke: a slow reader of stderr', () => {
  // 200 x 256 KiB = 50 MiB to stdout (the tool's stderr), noting after each write how far it got.
  const LOUD = `import os, sys
def handler(event, context):
    chunk = "x" * (256 * 1024 - 1) + "\\n"
    for i in range(201):
        with open(event["progress"], "w") as f:
            f.write("%d %d" % (os.getpid(), i))
        if i < 200:
            sys.stdout.write(chunk)
    return "done"
`;
  const WRITE_SYSCALL: Partial<Record<string, number>> = { x64: 1, arm64: 64 };

  it.skipIf(WRITE_SYSCALL[process.arch] === undefined)('the function waits for the reader: the tool holds a few chunks at most, not 50 MiB', async () => {
    const dir = taskRoot({ 'app.py': LOUD });
    const progress = join(dir, 'progress');
    const run = cli(['app.handler', '--dir', dir, '--timeout', '300', '--event', JSON.stringify({ progress })], { readStderr: false });
    const where = () => {
      try {
        const [pid, i] = readFileSync(progress, 'utf8').split(' ').map(Number);
        return { pid: pid!, i: i! };
      } catch {
        return undefined;
      }
    };
    /** The function blocked writing to its stdout (nobody reads it), looked at twice 100 ms apart. */
    const blocked = (pid: number) => {
      try {
        const [nr, fd] = readFileSync(`/proc/${pid}/syscall`, 'latin1').split(' ');
        return Number(nr) === WRITE_SYSCALL[process.arch] && Number(fd) === 1;
      } catch {
        return false;
      }
    };
    let stalled = false;
    await until(() => {
      const w = where();
      if (!w) return false;
      if (w.i === 200) return true; // it wrote everything: nothing held it back
      const now = blocked(w.pid);
      const result = now && stalled;
      stalled = now;
      return result;
    }, 100);
    const at = where()!;
    const rssMiB = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${run.pid}/status`, 'latin1'))![1]) / 1024;
    expect(at.i).toBeLessThan(40); // at most ~10 MiB in flight (pipes, stream buffers), never the 50 MiB
    expect(rssMiB).toBeLessThan(150);
    // Now read it all: everything arrives, and the invocation succeeds.
    let bytes = 0;
    run.child.stderr!.on('data', (d: Buffer) => (bytes += d.length));
    expect(await run.code).toBe(0);
    expect(run.stdout()).toBe('"done"');
    expect(bytes).toBeGreaterThan(50 * 1024 * 1024);
  });
});

describe('serve: HTTP it cannot parse', () => {
  let s: Serving;
  beforeAll(async () => {
    s = await runServe({ config: fixtureConfig(), host: '127.0.0.1', port: 0, concurrency: 1, watch: false, log: new LogCollector().sink });
  });
  afterAll(() => s.close());

  /** Sends raw bytes, returns everything the server answered before closing the connection. */
  function raw(bytes: string): Promise<string> {
    const port = Number(new URL(s.url).port);
    return new Promise((resolve, reject) => {
      const sock = connect(port, '127.0.0.1');
      let got = '';
      sock.on('data', (d) => (got += d.toString('latin1')));
      sock.on('error', reject);
      sock.on('close', () => resolve(got));
      sock.write(bytes);
    });
  }

  const cases: Array<[string, string, RegExp]> = [
    ['not HTTP at all', 'GARBAGE\r\n\r\n', /^HTTP\/1\.1 400 Bad Request\r\n/],
    ['a 100 KB header', `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(100_000)}\r\n\r\n`, /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/],
    ['Content-Length: abc', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n', /^HTTP\/1\.1 400 Bad Request\r\n/],
    ['two Content-Lengths that differ', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab', /^HTTP\/1\.1 400 Bad Request\r\n/],
    ['a bad chunk size', 'POST /2015-03-31/functions/f/invocations HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', /^HTTP\/1\.1 400 Bad Request\r\n/],
  ];
  for (const [what, bytes, status] of cases) {
    it(`${what}: a status line, the connection closed, the server still serving`, async () => {
      const answer = await raw(bytes);
      expect(answer).toMatch(status);
      expect(answer).toMatch(/\r\nConnection: close\r\n/i);
      const ok = await raw('POST /2015-03-31/functions/function/invocations HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}');
      expect(ok).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    });
  }
});
