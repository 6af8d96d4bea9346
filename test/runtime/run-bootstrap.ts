// Runs the real `bootstrap` against the project's emulator for end-to-end tests: a fresh task root with the
// given files, the Lambda environment, its own process group (so a test can prove no process is left), stdout
// and stderr captured.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { RuntimeApiServer, type RuntimeApiServerOptions } from '../../src/local/runtime-api-server.ts';

export const REPO = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
export const BOOTSTRAP = join(REPO, 'bootstrap');

let python: string | undefined;
/** The real interpreter behind `python3` (or TANDEM_PYTHON), resolved once: a pyenv shim costs ~60 ms a start. */
export function realPython(): string {
  python ??= execFileSync(process.env.TANDEM_PYTHON || 'python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
  return python;
}

export interface RunOptions {
  files: Record<string, string>;
  handler?: string;
  args?: string[];
  env?: Record<string, string | undefined>;
  bootstrap?: string;
  server?: RuntimeApiServerOptions;
  /** Give the runtime a pipe on fd 3 (as Lambda's telemetry fd); its bytes are in `fd3()`. */
  fd3?: boolean;
}

export interface Run {
  server: RuntimeApiServer;
  child: ChildProcess;
  taskRoot: string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stdout(): string;
  stderr(): string;
  fd3(): Buffer;
  /** Resolves once no process of the runtime's process group is left (fails after 5 s, killing them). */
  noOrphans(): Promise<void>;
  cleanup(): Promise<void>;
}

/** Live (not zombie) processes of a process group, from /proc. */
export function groupMembers(pgid: number): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'latin1');
    } catch {
      continue;
    }
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // f[0] state, f[2] pgrp
    if (Number(f[2]) === pgid && f[0] !== 'Z' && f[0] !== 'X') found.push(Number(name));
  }
  return found;
}

function groupAlive(pgid: number): boolean {
  return groupMembers(pgid).length > 0;
}

export async function runBootstrap(opts: RunOptions): Promise<Run> {
  const taskRoot = mkdtempSync(join(tmpdir(), 'tandem-e2e-'));
  for (const [name, text] of Object.entries(opts.files)) {
    mkdirSync(dirname(join(taskRoot, name)), { recursive: true });
    writeFileSync(join(taskRoot, name), text);
  }
  const server = await RuntimeApiServer.start({ record: true, ...opts.server });
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    LAMBDA_TASK_ROOT: taskRoot,
    AWS_LAMBDA_RUNTIME_API: server.address,
    AWS_LAMBDA_FUNCTION_NAME: 'e2e-fn',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128',
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/e2e-fn',
    AWS_LAMBDA_LOG_STREAM_NAME: '2026/01/01/[$LATEST]0123',
    AWS_REGION: 'us-east-1',
    TANDEM_PYTHON: realPython(),
  };
  if (opts.handler !== undefined) env._HANDLER = opts.handler;
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const child = spawn(opts.bootstrap ?? BOOTSTRAP, opts.args ?? [], {
    cwd: taskRoot,
    env,
    stdio: opts.fd3 ? ['ignore', 'pipe', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const fd3Parts: Buffer[] = [];
  if (opts.fd3) (child.stdio[3] as NodeJS.ReadableStream).on('data', (d: Buffer) => fd3Parts.push(d));
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const pgid = child.pid!;
  return {
    server,
    child,
    taskRoot,
    exit,
    stdout: () => out,
    stderr: () => err,
    fd3: () => Buffer.concat(fd3Parts),
    async noOrphans() {
      for (let i = 0; i < 500 && groupAlive(pgid); i++) await new Promise((r) => setTimeout(r, 10));
      if (groupAlive(pgid)) {
        process.kill(-pgid, 'SIGKILL');
        throw new Error(`processes of the runtime's group ${pgid} were still running after it ended`);
      }
    },
    async cleanup() {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // the group is gone
      }
      await exit;
      await server.close();
      rmSync(taskRoot, { recursive: true, force: true });
    },
  };
}
