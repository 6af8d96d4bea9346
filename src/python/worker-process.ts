// One Python worker process and its two pipes, whoever started it: Node (spawn, stdio
// ['ignore','inherit','inherit','pipe','pipe'], so the worker's fd 3/4 are the pipes), or `bootstrap`
// (adopt: Node got its ends of the pipes on fds and the pid in the environment). Knows when and how the
// process ended from the process itself, never only from its pipes (a child the function forked may hold
// them open): from child_process for a spawned worker; for an adopted one, which libuv never reaps, from
// /proc/<pid>/stat of the zombie, looked at on every SIGCHLD Node gets.
import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fstatSync, readFileSync } from 'node:fs';
import { Socket, type OnReadOpts, type SocketConstructorOpts } from 'node:net';
import { constants as osConstants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { ENV } from '../runtime/env.ts';
import { ReadSlab } from '../runtime/read-slab.ts';
import { WorkerStartError } from '../runtime/errors.ts';
import type { ExitStatus } from '../runtime/types.ts';

export interface WorkerProcess {
  readonly pid: number | undefined;
  /** Frames to the worker. */
  readonly input: Writable;
  /** Frames from the worker. */
  readonly output: Readable;
  /** The fd `output` reads (to drain the pipe once the process is gone), when known. */
  readonly outputFd: number | undefined;
  /** Resolves when the process has ended, with how it ended (whatever became of its pipes). */
  /**
   * Where the output pipe supports it (an adopted worker): each read is handed to `onChunk` directly (libuv
   * to the callback, none of the Readable stream's per-read work) instead of being emitted as 'data'.
   * `output` still pauses, resumes, ends and closes as a stream. A chunk's bytes are never overwritten.
   */
  onChunk?(handler: (chunk: Buffer) => void): void;
  exited(): Promise<ExitStatus>;
  /** Sends a signal; a no-op once the process is gone. */
  kill(signal: NodeJS.Signals): void;
  /** From now on the process and its pipes do not keep Node's event loop alive by themselves. */
  unref(): void;
  /** The error that kept the process from starting (spawn failures), if any. */
  readonly startError: Error | undefined;
  /** A short description for messages: `python3 (pid 123)`. */
  readonly label: string;
}

// child_process is loaded on first spawn only: a runtime that adopts bootstrap's worker never needs it.
const lazyRequire = createRequire(import.meta.url);
function spawn(...args: Parameters<typeof import('node:child_process').spawn>): ChildProcess {
  return (lazyRequire('node:child_process') as typeof import('node:child_process')).spawn(...args);
}

/** `running`: alive and not exiting; `exiting`: in the kernel's exit path or a zombie; `gone`: reaped or ended. */
export type ProcessState = 'running' | 'exiting' | 'gone';

export interface SpawnOptions {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Starts a worker with its protocol pipes on fds 3 (in) and 4 (out). */
export function spawnWorker(options: SpawnOptions): WorkerProcess {
  return new SpawnedWorker(options);
}

/** Takes over the worker `bootstrap` started: its pid, and Node's ends of the two pipes. */
export function adoptWorker(pid: number, writeFd: number, readFd: number): WorkerProcess {
  for (const fd of [writeFd, readFd]) {
    let ok = false;
    try {
      ok = fstatSync(fd).isFIFO();
    } catch {
      ok = false;
    }
    if (!ok) throw new WorkerStartError(`fd ${fd} handed over by bootstrap is not an open pipe`);
  }
  return new AdoptedWorker(pid, writeFd, readFd);
}

class SpawnedWorker implements WorkerProcess {
  readonly input: Writable;
  readonly output: Readable;
  readonly label: string;
  startError: Error | undefined;
  private readonly child: ChildProcess;
  private readonly exit: Promise<ExitStatus>;

  constructor(o: SpawnOptions) {
    // The pipes sit where TANDEM_FD_IN/OUT say (3/4 by default); Lambda's telemetry fd, when this process
    // has it, is passed on at its own number; every other fd above 2 is left closed.
    const fdIn = Number(o.env[ENV.workerFdIn] ?? 3);
    const fdOut = Number(o.env[ENV.workerFdOut] ?? 4);
    const telemetry = Number(o.env[ENV.telemetryFd] ?? -1);
    const passTelemetry = Number.isInteger(telemetry) && telemetry > 2 && telemetry !== fdIn && telemetry !== fdOut && isOpen(telemetry);
    const stdio: Array<'ignore' | 'inherit' | 'pipe' | number> = ['ignore', 'inherit', 'inherit'];
    for (let fd = 3; fd <= Math.max(fdIn, fdOut, passTelemetry ? telemetry : 0); fd++) {
      stdio[fd] = fd === fdIn || fd === fdOut ? 'pipe' : passTelemetry && fd === telemetry ? telemetry : 'ignore';
    }
    const child = spawn(o.command, o.args, { stdio, env: o.env, cwd: o.cwd });
    this.child = child;
    this.label = `${o.command} (pid ${child.pid ?? '?'})`;
    this.exit = new Promise<ExitStatus>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code: signal ? null : (code ?? 1), signal: signal ?? null }));
      child.once('error', (err) => {
        this.startError = err;
        // A process that never started has no exit event: report it as the shell would (127).
        if (child.pid === undefined) resolve({ code: 127, signal: null });
      });
    });
    this.input = child.stdio[fdIn] as Writable;
    this.output = child.stdio[fdOut] as Readable;
    // Writes to a dead worker fail with EPIPE; its death is seen on the output pipe instead.
    this.input.on('error', () => undefined);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get outputFd(): number | undefined {
    const fd = (this.output as { _handle?: { fd?: unknown } })._handle?.fd;
    return typeof fd === 'number' && fd >= 0 ? fd : undefined;
  }

  exited(): Promise<ExitStatus> {
    return this.exit;
  }

  unref(): void {
    this.child.unref();
    (this.input as Socket).unref();
    (this.output as Socket).unref();
  }

  kill(signal: NodeJS.Signals): void {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      try {
        this.child.kill(signal);
      } catch {
        // already gone
      }
    }
  }
}

function isOpen(fd: number): boolean {
  try {
    fstatSync(fd);
    return true;
  } catch {
    return false;
  }
}

/** Exit status from the waitpid-style value in /proc/<pid>/stat. */
function decodeWaitStatus(status: number): ExitStatus {
  const sig = status & 0x7f;
  if (sig === 0) return { code: (status >> 8) & 0xff, signal: null };
  const name = (Object.entries(osConstants.signals).find(([, n]) => n === sig)?.[0] ?? 'SIGKILL') as NodeJS.Signals;
  return { code: null, signal: name };
}

/** state, ppid, flags and exit_code of a process from /proc, or undefined when it is gone. */
export function readProcStat(pid: number): { state: string; ppid: number; flags: number; exitCode: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  const close = text.lastIndexOf(')');
  const fields = text.slice(close + 2).trim().split(' ');
  // fields[0] is field 3 (state), fields[1] field 4 (ppid), fields[6] field 9 (flags); exit_code is
  // field 52, the last one.
  return { state: fields[0] ?? '', ppid: Number(fields[1]), flags: Number(fields[6]), exitCode: Number(fields[fields.length - 1]) };
}

/** PF_EXITING (include/linux/sched.h): set as the kernel starts tearing the process down. */
const PF_EXITING = 0x4;

/** What /proc says of `pid`: running, exiting (PF_EXITING, or a zombie), or gone. */
export function processState(pid: number): ProcessState {
  const st = readProcStat(pid);
  if (!st) return 'gone';
  if (st.state === 'Z' || st.state === 'X' || (st.flags & PF_EXITING) !== 0) return 'exiting';
  return 'running';
}

// The syscall number of read(2), for /proc/<pid>/syscall (only where it is known).
const READ_SYSCALL: Partial<Record<string, number>> = { x64: 0, arm64: 63, riscv64: 63 };

/**
 * True when the process's main thread is blocked in read(2) on `fd` (for the worker: waiting for Node's
 * next message), from /proc/<pid>/syscall. False when it is doing anything else or that cannot be told.
 */
export function blockedReading(pid: number, fd: number): boolean {
  const nr = READ_SYSCALL[process.arch];
  if (nr === undefined) return false;
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/syscall`, 'latin1');
  } catch {
    return false;
  }
  const f = text.split(' ');
  return Number(f[0]) === nr && Number(f[1]) === fd;
}

class AdoptedWorker implements WorkerProcess {
  readonly input: Writable;
  readonly output: Readable;
  readonly label: string;
  readonly startError = undefined;
  private readonly exit: Promise<ExitStatus>;
  private settle!: (status: ExitStatus) => void;
  private gone = false;
  private handler: ((chunk: Buffer) => void) | undefined;
  /** Reads that came before a handler was set. */
  private early: Buffer[] = [];

  constructor(
    readonly pid: number,
    writeFd: number,
    readonly outputFd: number,
  ) {
    this.label = `started by bootstrap (pid ${pid})`;
    this.input = new Socket({ fd: writeFd, readable: false, writable: true });
    // Every read is kept (decoded frames hold views of it): the slab moves on after each.
    const slab = new ReadSlab();
    // `onread` is documented for new net.Socket() (Node >= 20) but missing from @types/node 20's options type.
    const options: SocketConstructorOpts & { onread: OnReadOpts } = {
      fd: outputFd,
      readable: true,
      writable: false,
      onread: {
        buffer: () => slab.next(true),
        callback: (n: number, buf: Uint8Array): boolean => {
          slab.read(n);
          const chunk = (buf as Buffer).subarray(0, n);
          if (this.handler) this.handler(chunk);
          else this.early.push(chunk);
          return true;
        },
      },
    };
    this.output = new Socket(options);
    this.input.on('error', () => undefined);
    this.exit = new Promise<ExitStatus>((r) => (this.settle = r));
    watchChildren(this);
    // Belt and braces: once its pipe has ended it is about to be a zombie; look until it is.
    this.output.once('close', () => void this.pollUntilGone());
  }

  private async pollUntilGone(): Promise<void> {
    for (let delay = 1; !this.check(); delay = Math.min(delay * 2, 100)) await new Promise((r) => setTimeout(r, delay));
  }

  onChunk(handler: (chunk: Buffer) => void): void {
    this.handler = handler;
    for (const c of this.early.splice(0)) handler(c);
  }

  exited(): Promise<ExitStatus> {
    return this.exit;
  }

  unref(): void {
    (this.input as Socket).unref();
    (this.output as Socket).unref();
  }

  kill(signal: NodeJS.Signals): void {
    if (this.gone) return;
    const st = readProcStat(this.pid);
    if (!st || st.state === 'Z' || st.state === 'X' || st.ppid !== process.pid) return;
    try {
      process.kill(this.pid, signal);
    } catch {
      // already gone
    }
  }

  /** Settles `exit` once the process is a zombie (or no longer ours). Returns true when it has. */
  check(): boolean {
    if (this.gone) return true;
    const st = readProcStat(this.pid);
    if (st && st.ppid === process.pid && st.state !== 'Z' && st.state !== 'X') return false;
    this.gone = true;
    // Reaped by someone else (bash, before it exec'd Node) or never ours: the status is lost.
    this.settle(st && st.ppid === process.pid ? decodeWaitStatus(st.exitCode) : { code: 1, signal: null });
    return true;
  }
}

// Adopted workers are Node's children by pid only: libuv never waits for them, so no 'exit' event comes.
// Every SIGCHLD (one per child state change; several may arrive as one) makes each of them look at /proc.
const adoptedWorkers = new Set<AdoptedWorker>();
const onSigchld = (): void => {
  for (const w of adoptedWorkers) if (w.check()) adoptedWorkers.delete(w);
  if (adoptedWorkers.size === 0) process.off('SIGCHLD', onSigchld);
};

function watchChildren(w: AdoptedWorker): void {
  if (adoptedWorkers.size === 0) process.on('SIGCHLD', onSigchld);
  adoptedWorkers.add(w);
  // It may have died before the listener existed (that SIGCHLD went unheard): look once now.
  onSigchld();
}
