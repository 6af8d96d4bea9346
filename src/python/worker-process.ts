// One Python worker process and its two pipes, whoever started it: Node (spawn, stdio
// ['ignore','inherit','inherit','pipe','pipe'], so the worker's fd 3/4 are the pipes), or `bootstrap`
// (adopt: Node got its ends of the pipes on fds and the pid in the environment). Knows how the process
// ended: from child_process for a spawned worker; for an adopted one, which libuv never reaps, from
// /proc/<pid>/stat of the zombie once the output pipe has reached EOF.
import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fstatSync, readFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { constants as osConstants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { ENV } from '../runtime/env.ts';
import { WorkerStartError, errorMessageOf } from '../runtime/errors.ts';
import type { ExitStatus } from '../runtime/types.ts';

export interface WorkerProcess {
  readonly pid: number | undefined;
  /** Frames to the worker. */
  readonly input: Writable;
  /** Frames from the worker. */
  readonly output: Readable;
  /** How the process ended. For an adopted worker, ask only after `output` ended (the zombie is read then). */
  exited(): Promise<ExitStatus>;
  /** Sends a signal; a no-op once the process is gone. */
  kill(signal: NodeJS.Signals): void;
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

  exited(): Promise<ExitStatus> {
    return this.exit;
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

/** state, ppid and exit_code of a process from /proc, or undefined when it is gone. */
export function readProcStat(pid: number): { state: string; ppid: number; exitCode: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  const close = text.lastIndexOf(')');
  const fields = text.slice(close + 2).trim().split(' ');
  // fields[0] is field 3 (state), fields[1] field 4 (ppid); exit_code is field 52, the last one.
  return { state: fields[0] ?? '', ppid: Number(fields[1]), exitCode: Number(fields[fields.length - 1]) };
}

class AdoptedWorker implements WorkerProcess {
  readonly input: Writable;
  readonly output: Readable;
  readonly label: string;
  readonly startError = undefined;
  private exit: Promise<ExitStatus> | undefined;
  private gone = false;

  constructor(
    readonly pid: number,
    writeFd: number,
    readFd: number,
  ) {
    this.label = `started by bootstrap (pid ${pid})`;
    this.input = new Socket({ fd: writeFd, readable: false, writable: true });
    this.output = new Socket({ fd: readFd, readable: true, writable: false });
    this.input.on('error', () => undefined);
  }

  exited(): Promise<ExitStatus> {
    this.exit ??= this.collect();
    return this.exit;
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

  /**
   * Waits for the process to become a zombie and reads its exit status. The pipe can reach EOF a moment
   * before the process is a zombie (or the worker may have closed it and lived on): poll briefly, then
   * kill it, so this always ends.
   */
  private async collect(): Promise<ExitStatus> {
    const started = Date.now();
    let killed = false;
    for (let delay = 0; ; delay = Math.min(delay + 1, 20)) {
      const st = readProcStat(this.pid);
      if (!st || st.ppid !== process.pid) {
        this.gone = true;
        // Reaped by someone else (bash, before it exec'd Node) or never ours: the status is lost.
        return { code: 1, signal: null };
      }
      if (st.state === 'Z' || st.state === 'X') {
        this.gone = true;
        return decodeWaitStatus(st.exitCode);
      }
      if (!killed && Date.now() - started > 2000) {
        killed = true;
        try {
          process.kill(this.pid, 'SIGKILL');
        } catch (err) {
          if (errorMessageOf(err).includes('ESRCH')) continue;
        }
      }
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
