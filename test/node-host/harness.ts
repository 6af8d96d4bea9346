// End-to-end set-up for the Node host's tests: a temp task root, the project's Runtime API emulator, and the
// real `bootstrap` started as Lambda starts it. No process or temp dir outlives a test: `stop()` kills the
// runtime's process group and removes the task root.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RuntimeApiServer, type InvocationListener, type InvocationResult } from '../../src/local/runtime-api-server.ts';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BOOTSTRAP = join(ROOT, 'bootstrap');

/** The real interpreter behind `python3` (a pyenv shim costs ~60 ms per start). */
let python: string | undefined;
export function realPython(): string {
  if (!python) {
    python = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
  }
  return python;
}

export interface StartOptions {
  files: Record<string, string>;
  handler: string;
  env?: Record<string, string>;
}

export interface Run {
  api: RuntimeApiServer;
  proc: ChildProcess;
  taskRoot: string;
  stdout(): string;
  stderr(): string;
  invoke(body: unknown, listener?: InvocationListener, requestId?: string): Promise<InvocationResult>;
  /** Kills the runtime (if still running) and returns everything it wrote to stdout. */
  finalStdout(): Promise<string>;
  /** Kills the runtime (if still running) and returns everything it wrote to stderr. */
  finalStderr(): Promise<string>;
  /** Resolves when the runtime exits by itself. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of live) {
    try {
      process.kill(-p.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

export async function startRuntime(options: StartOptions): Promise<Run> {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'tandem-nh-')));
  const taskRoot = join(dir, 'task');
  for (const [name, text] of Object.entries(options.files)) {
    mkdirSync(dirname(join(taskRoot, name)), { recursive: true });
    writeFileSync(join(taskRoot, name), text);
  }
  mkdirSync(taskRoot, { recursive: true });
  const api = await RuntimeApiServer.start({ record: true });
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: process.env['HOME'] ?? '/tmp',
    LAMBDA_TASK_ROOT: taskRoot,
    _HANDLER: options.handler,
    AWS_LAMBDA_RUNTIME_API: api.address,
    AWS_LAMBDA_FUNCTION_NAME: 'node-host-test',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128',
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/node-host-test',
    AWS_LAMBDA_LOG_STREAM_NAME: '2026/01/01/[$LATEST]test',
    AWS_REGION: 'us-east-1',
    TANDEM_PYTHON: realPython(),
    ...(options.env ?? {}),
  };
  if (process.env['TANDEM_LOG_LEVEL']) env['TANDEM_LOG_LEVEL'] = process.env['TANDEM_LOG_LEVEL'];
  const proc = spawn(BOOTSTRAP, [], { cwd: taskRoot, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  live.add(proc);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  proc.stdout!.on('data', (c: Buffer) => out.push(c));
  const stdoutClosed = new Promise<void>((r) => proc.stdout!.once('close', () => r()));
  proc.stderr!.on('data', (c: Buffer) => err.push(c));
  const stderrClosed = new Promise<void>((r) => proc.stderr!.once('close', () => r()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => {
      live.delete(proc);
      resolve({ code, signal });
    }),
  );
  const kill = () => {
    if (!live.has(proc)) return;
    try {
      process.kill(-proc.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  let n = 0;
  return {
    api,
    proc,
    taskRoot,
    stdout: () => Buffer.concat(out).toString('utf8'),
    stderr: () => Buffer.concat(err).toString('utf8'),
    invoke(body, listener, requestId) {
      n++;
      const id = requestId ?? `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
      const bytes = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
      return api.enqueue({ body: bytes, requestId: id }, listener).result;
    },
    exited,
    async finalStdout() {
      kill();
      await stdoutClosed;
      return Buffer.concat(out).toString('utf8');
    },
    async finalStderr() {
      kill();
      await stderrClosed;
      return Buffer.concat(err).toString('utf8');
    },
    async stop() {
      if (live.has(proc)) {
        try {
          process.kill(-proc.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
        await exited;
      }
      await api.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Pids of every live descendant of `pid` (from /proc), with their command lines. */
export function descendants(pid: number): Array<{ pid: number; cmd: string }> {
  const parent = new Map<number, number>();
  const cmd = new Map<number, string>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parent.set(Number(d), ppid);
      cmd.set(Number(d), readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ').trim());
    } catch {
      // gone
    }
  }
  const out: Array<{ pid: number; cmd: string }> = [];
  const walk = (p: number) => {
    for (const [child, pp] of parent) {
      if (pp === p) {
        out.push({ pid: child, cmd: cmd.get(child) ?? '' });
        walk(child);
      }
    }
  };
  walk(pid);
  return out;
}
