// One runtime process (one "execution environment"): its own Runtime API server, the `bootstrap` started
// in a process group of its own with Lambda's environment, its output forwarded line-agnostically and
// with backpressure (while the destination is full, the runtime's pipes are not read, so a function
// writing to a slow terminal waits as it would writing there itself: memory stays bounded), and a kill
// that takes the whole group (bootstrap, Node, Python workers, whatever they started) down at once. Every
// live group is also killed when the tool itself exits, so no runtime outlives it.
import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { RuntimeApiServer } from './runtime-api-server.ts';
import { runtimeEnvironment, type FunctionConfig } from './function-config.ts';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The process could not be started at all (e.g. ENOENT, EACCES). */
  spawnError?: Error;
}

/** Takes a chunk of the runtime's output; `false` means the destination is full (see OutputDrain). */
export type OutputSink = (chunk: Buffer, stream: 'stdout' | 'stderr') => boolean | void;
/** Resolves once the destination that said it was full can take more. */
export type OutputDrain = () => Promise<void>;

const liveGroups = new Set<number>();
let exitHookInstalled = false;

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pid of liveGroups) killGroup(pid);
  });
}

export class RuntimeProcess {
  /** performance.now() when the process was started. */
  readonly spawnedAt: number;
  /** Resolves once the process has exited (or failed to start) and its server is closed. */
  readonly exited: Promise<ExitInfo>;
  exitInfo: ExitInfo | undefined;

  private constructor(
    readonly server: RuntimeApiServer,
    readonly child: ChildProcess,
    spawnedAt: number,
  ) {
    this.spawnedAt = spawnedAt;
    this.exited = new Promise<ExitInfo>((resolve) => {
      const done = (info: ExitInfo) => {
        if (this.exitInfo) return;
        this.exitInfo = info;
        if (child.pid !== undefined) {
          // The group may still hold orphans (a worker whose parent died): take them down too.
          killGroup(child.pid);
          liveGroups.delete(child.pid);
        }
        void server.close().finally(() => resolve(info));
      };
      child.once('error', (err) => done({ code: null, signal: null, spawnError: err }));
      child.once('exit', (code, signal) => {
        // Take the rest of the group down, then let the pipes drain (bounded: an orphan could hold them).
        if (child.pid !== undefined) killGroup(child.pid);
        const timer = setTimeout(() => done({ code, signal }), 500);
        child.once('close', () => {
          clearTimeout(timer);
          done({ code, signal });
        });
      });
    });
  }

  static async start(
    config: FunctionConfig,
    sink: OutputSink,
    extraEnv: Record<string, string> = {},
    drain?: OutputDrain,
  ): Promise<RuntimeProcess> {
    installExitHook();
    const server = await RuntimeApiServer.start({ host: '127.0.0.1', port: 0 });
    const [command, ...args] = config.bootstrap;
    const env = { ...runtimeEnvironment(config, server.address), ...extraEnv };
    const spawnedAt = performance.now();
    const child = spawn(command!, args, {
      cwd: config.taskRoot,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (child.pid !== undefined) liveGroups.add(child.pid);
    const out = child.stdout!;
    const err = child.stderr!;
    let waiting = false;
    const forward = (c: Buffer, stream: 'stdout' | 'stderr') => {
      if (sink(c, stream) !== false || !drain || waiting) return;
      // The destination is full: stop reading both pipes until it drains.
      waiting = true;
      out.pause();
      err.pause();
      void drain().then(() => {
        waiting = false;
        out.resume();
        err.resume();
      });
    };
    out.on('data', (c: Buffer) => forward(c, 'stdout'));
    err.on('data', (c: Buffer) => forward(c, 'stderr'));
    return new RuntimeProcess(server, child, spawnedAt);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return this.exitInfo === undefined;
  }

  /** SIGKILL to the whole process group, as Lambda ends a sandbox. */
  kill(): void {
    if (this.child.pid !== undefined && this.alive) killGroup(this.child.pid);
  }

  /** Kills the group and waits for the exit to be processed. */
  async stop(): Promise<ExitInfo> {
    this.kill();
    return this.exited;
  }
}

/** How Lambda (Go's os.ProcessState) words a runtime's end: `exit status 3`, `signal: killed`. */
export function describeExit(info: ExitInfo): string {
  if (info.spawnError) return info.spawnError.message;
  if (info.signal) return `signal: ${SIGNAL_WORDS[info.signal] ?? info.signal}`;
  return `exit status ${info.code ?? 0}`;
}

const SIGNAL_WORDS: Partial<Record<NodeJS.Signals, string>> = {
  SIGKILL: 'killed',
  SIGTERM: 'terminated',
  SIGSEGV: 'segmentation fault',
  SIGABRT: 'aborted',
  SIGINT: 'interrupt',
  SIGHUP: 'hangup',
  SIGQUIT: 'quit',
  SIGBUS: 'bus error',
  SIGFPE: 'floating point exception',
  SIGILL: 'illegal instruction',
  SIGPIPE: 'broken pipe',
  SIGUSR1: 'user defined signal 1',
  SIGUSR2: 'user defined signal 2',
  SIGALRM: 'alarm clock',
  SIGTRAP: 'trace/breakpoint trap',
};
