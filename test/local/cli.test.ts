// The `tandem` CLI as a user runs it (node dist/cli.mjs, a real process): invoke with every kind of event
// input, exit statuses, clear errors for bad input, --env-file, --watch, the sample events, serve mode with
// an AWS-emulator-style call, and no runtime left behind when the tool is stopped.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { CLI, FIXTURE_RUNTIME, ROOT, ensureCliBuilt, isAlive, tempDir, waitFor } from './helpers.ts';

beforeAll(() => ensureCliBuilt());

const FIX = ['--bootstrap', FIXTURE_RUNTIME];

/** The same, without blocking, so independent cases can run side by side. */
function cliAsync(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--', CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

function cli(args: string[], input?: string) {
  const r = spawnSync(process.execPath, ['--', CLI, ...args], { cwd: ROOT, input, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('tandem invoke', () => {
  it('prints the exact result bytes on stdout and the logs and platform lines on stderr', () => {
    const r = cli(['invoke', 'fixture.handler', ...FIX, '--event', '{"mode":"return","value":{"b": 1, "a": [1,2]}}']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('{"b":1,"a":[1,2]}');
    expect(r.stderr).toMatch(/^START RequestId: (\S+) Version: \$LATEST\nEND RequestId: \1\nREPORT RequestId: \1\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: \d+ MB\tInit Duration: [\d.]+ ms\t\n$/);
  });

  it('sends {} by default and reads the event from a file, stdin, inline JSON or a sample name', () => {
    const echo = (args: string[], input?: string) => JSON.parse(cli(['invoke', 'fixture.handler', ...FIX, ...args], input).stdout).event;
    expect(echo([])).toEqual({});
    const dir = tempDir({ 'ev.json': '{"from":"file"}' });
    try {
      expect(echo(['--event', join(dir.dir, 'ev.json')])).toEqual({ from: 'file' });
    } finally {
      dir.cleanup();
    }
    expect(echo(['--event', '-'], '{"from":"stdin"}')).toEqual({ from: 'stdin' });
    expect(echo(['-e', '{"from":"inline"}'])).toEqual({ from: 'inline' });
    expect(echo(['--event=sqs']).Records[0].eventSource).toBe('aws:sqs');
    expect(echo(['--event', 'apigw-http']).version).toBe('2.0');
  });

  it('gives the function the --env-file variables, --memory and --name', () => {
    const dir = tempDir({ '.env': '# comment\nexport GREETING="hi there"\nPLAIN=x # trailing\n', 'env.json': '{"Parameters": {"FROM_JSON": 1}}' });
    try {
      const a = JSON.parse(cli(['invoke', 'f.h', ...FIX, '--env-file', join(dir.dir, '.env'), '--memory', '512', '--name', 'my-fn']).stdout);
      expect(a.env).toMatchObject({ GREETING: 'hi there', PLAIN: 'x', AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512', AWS_LAMBDA_FUNCTION_NAME: 'my-fn' });
      const b = JSON.parse(cli(['invoke', 'f.h', ...FIX, '--env-file', join(dir.dir, 'env.json')]).stdout);
      expect(b.env.FROM_JSON).toBe('1');
    } finally {
      dir.cleanup();
    }
  });

  it('takes relative paths from the directory npm was started in (INIT_CWD) under npm run invoke', () => {
    const dir = tempDir({ 'ev.json': '{"from":"init cwd"}' });
    try {
      const r = spawnSync(process.execPath, ['--', CLI, 'invoke', 'f.h', ...FIX, '--event', 'ev.json'], {
        cwd: ROOT,
        env: { ...process.env, npm_lifecycle_event: 'invoke', INIT_CWD: dir.dir },
        encoding: 'utf8',
      });
      expect(r.status).toBe(0);
      const doc = JSON.parse(r.stdout);
      expect(doc.event).toEqual({ from: 'init cwd' });
      expect(doc.env.LAMBDA_TASK_ROOT).toBe(dir.dir);
    } finally {
      dir.cleanup();
    }
  });

  it('exits 1 on a function error, with the error document on stdout', () => {
    const r = cli(['invoke', 'f.h', ...FIX, '--event', '{"mode":"error","message":"bad"}']);
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual({ errorMessage: 'bad', errorType: 'FixtureError', stackTrace: [] });
  });

  it('exits 1 with the init error', () => {
    const r = cli(['invoke', 'initerror.h', ...FIX]);
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout).errorType).toBe('FixtureInitError');
    expect(r.stderr).toContain('Error Type: Runtime.FixtureInitError');
  });

  it('exits 3 on a timeout, with the Sandbox.Timedout document', () => {
    const r = cli(['invoke', 'f.h', ...FIX, '--timeout', '1', '--event', '{"mode":"sleep","ms":10000}']);
    expect(r.status).toBe(3);
    expect(JSON.parse(r.stdout).errorType).toBe('Sandbox.Timedout');
    expect(r.stderr).toContain('Task timed out after 1.00 seconds');
  });

  it('prints a streamed response as it arrives', () => {
    const r = cli(['invoke', 'f.h', ...FIX, '--event', '{"mode":"stream","chunks":["one ","two ","three"]}']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('one two three');
  });

  it.concurrent.each([
    [['invoke', '--bogus'], /unknown option --bogus for "invoke"/],
    [['invoke', 'a.b', '--dir', '/nonexistent/dir'], /--dir \/nonexistent\/dir: no such directory/],
    [['invoke', 'missing_module.handler', '--dir', 'examples/python-hello'], /no missing_module\.py or missing_module\/__init__\.py .* in examples\/python-hello/],
    [['invoke', 'nodot', '--dir', 'examples/python-hello'], /is not of the form module\.function/],
    [['invoke', 'f.h', ...FIX, '--event', '{not json'], /the inline event is not valid JSON/],
    [['invoke', 'f.h', ...FIX, '--event', 'nosuchsample'], /--event nosuchsample: no such file, not a sample event \(apigw-rest/],
    [['invoke', 'f.h', ...FIX, '--timeout', '0'], /--timeout 0: must be a number of seconds/],
    [['invoke', 'f.h', ...FIX, '--memory', '64'], /--memory 64: must be a whole number of MB from 128/],
    [['invoke', 'f.h', ...FIX, '--env-file', '/nonexistent.env'], /--env-file \/nonexistent.env: no such file/],
    [['invoke', 'f.h', ...FIX, '--timeout'], /--timeout needs a value/],
    [['invoke', 'a.b', 'c.d'], /takes one handler/],
    [['serve', 'f.h', ...FIX, '--port', 'abc'], /--port abc: must be a port number/],
    [['serve', 'f.h', ...FIX, '--max-concurrency', '0'], /--max-concurrency 0: must be a whole number from 1 to 64/],
    [['frobnicate'], /unknown command "frobnicate"/],
    [['events', 'nope'], /unknown sample "nope"/],
  ])('refuses %j with a clear message and exit status 2', async (args, message) => {
    const r = await cliAsync(args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });

  it('refuses a bad env file with its line number', () => {
    const dir = tempDir({ 'bad.env': 'GOOD=1\nthis is not a variable\n' });
    try {
      const r = cli(['invoke', 'f.h', ...FIX, '--env-file', join(dir.dir, 'bad.env')]);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/bad\.env:2: expected KEY=value/);
    } finally {
      dir.cleanup();
    }
  });

  it('lists the sample events and prints one', () => {
    const list = cli(['invoke', '--list-events']);
    expect(list.status).toBe(0);
    for (const name of ['apigw-rest', 'apigw-http', 'function-url', 's3', 'sqs', 'sns', 'eventbridge', 'dynamodb']) {
      expect(list.stdout).toMatch(new RegExp(`^${name} `, 'm'));
    }
    expect(cli(['events']).stdout).toBe(list.stdout);
    expect(JSON.parse(cli(['events', 's3']).stdout).Records[0].eventSource).toBe('aws:s3');
  });
});

function startCli(args: string[]): { child: ChildProcess; out: () => string; err: () => string } {
  const child = spawn(process.execPath, ['--', CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  return { child, out: () => out, err: () => err };
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((r) => (child.exitCode !== null ? r(child.exitCode) : child.once('exit', (code) => r(code))));

describe('tandem invoke --watch', () => {
  const dir = tempDir({ 'fixture-version.txt': 'v1' });
  afterAll(() => dir.cleanup());

  it('restarts the runtime and invokes again when a file of the task root changes', async () => {
    const p = startCli(['invoke', 'f.h', ...FIX, '--dir', dir.dir, '--watch']);
    try {
      await waitFor(() => p.err().includes('watching'), 'the first invocation', 30_000);
      expect(p.out()).toContain('"codeVersion":"v1"');
      writeFileSync(join(dir.dir, 'fixture-version.txt'), 'v2');
      await waitFor(() => p.out().includes('"codeVersion":"v2"'), 'the re-invocation with the new code', 30_000);
      expect(p.err()).toContain('fixture-version.txt changed');
      expect(p.err().match(/Init Duration/g)?.length).toBe(2);
    } finally {
      p.child.kill('SIGINT');
      expect(await exited(p.child)).toBe(130);
    }
  });
});

describe('tandem serve', () => {
  it('answers an AWS-emulator-style curl call and takes its runtime down on SIGTERM', async () => {
    const p = startCli(['serve', 'f.h', ...FIX, '--port', '0']);
    try {
      await waitFor(() => / at http:\/\/\S+ /.test(p.err()), 'the server to listen', 30_000);
      const url = / at (http:\/\/\S+) /.exec(p.err())![1];
      const res = await request(`${url}/2015-03-31/functions/function/invocations`, { method: 'POST', body: '{"mode":"pid"}' });
      expect(res.statusCode).toBe(200);
      const { pid } = (await res.body.json()) as { pid: number };
      expect(isAlive(pid)).toBe(true);
      p.child.kill('SIGTERM');
      expect(await exited(p.child)).toBe(143);
      await waitFor(() => !isAlive(pid), 'the runtime to be gone');
    } finally {
      p.child.kill('SIGKILL');
    }
  });
});
