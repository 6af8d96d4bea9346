// A pool of Python workers (size 1 by default; AWS_LAMBDA_MAX_CONCURRENCY later): hands each invocation or
// call to an idle worker, queues the rest, and replaces a worker that broke the protocol (during a job or
// between jobs; one `tandem:` line says so), or (with more than one worker, or in calls mode) one that
// died. With a single handler worker, a death ends the runtime instead, exactly as AWS's runtime does: the
// invocation reports `died`, an idle death calls `onFatalDeath`. A handler worker that cannot be replaced
// ends the runtime too (one line, `onFatalDeath` with status 1), rather than leave invocations waiting.
// In `calls` mode (a Node handler calling Python) workers are started on first use, with no handler.
import { ENV } from '../runtime/env.ts';
import { WorkerExitError, WorkerStartError, errorDocument, errorMessageOf, type WorkerProtocolError } from '../runtime/errors.ts';
import { describeExit } from '../runtime/exit.ts';
import { announce } from '../runtime/diag.ts';
import type { ExitStatus, Invocation, InvokeIO, InvokeOutcome } from '../runtime/types.ts';
import { resolveInterpreter } from './interpreter.ts';
import { Worker, exitErrorDocument, type CallContext, type CallOutcome, type WorkerInit } from './worker.ts';
import { spawnWorker, type WorkerProcess } from './worker-process.ts';
import { workerScript } from './worker-script.ts';

export type PoolMode = 'handler' | 'calls';

export interface PoolOptions {
  mode: PoolMode;
  /** Number of workers (≥ 1). */
  size: number;
  /** The handler without prefix (handler mode). */
  handler?: string;
  /** The environment workers start with (default process.env). */
  env?: NodeJS.ProcessEnv;
  maxFrameBytes: number;
  shutdownGraceMs: number;
  /** The first worker, already started by `bootstrap`. */
  adopted?: WorkerProcess;
  /** Starts a worker process (default: spawn the interpreter on bridge-py/worker.py). */
  spawn?: (env: NodeJS.ProcessEnv) => WorkerProcess;
}

const WORKER_ONLY_ENV = [ENV.workerPid, ENV.workerWriteFd, ENV.workerReadFd];

/** The environment a worker is spawned with. */
export function workerEnv(base: NodeJS.ProcessEnv, mode: PoolMode, handler: string | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const k of WORKER_ONLY_ENV) delete env[k];
  // The protocol pipes go on fds 3/4, or 5/6 when Lambda's telemetry fd is 3 or 4 (the worker keeps that one).
  const telemetry = env[ENV.telemetryFd];
  const clash = telemetry === '3' || telemetry === '4';
  env[ENV.workerFdIn] = clash ? '5' : '3';
  env[ENV.workerFdOut] = clash ? '6' : '4';
  env[ENV.workerMode] = mode;
  if (handler !== undefined) env[ENV.handler] = handler;
  return env;
}

/**
 * A handler worker runs through `AWS_LAMBDA_EXEC_WRAPPER` when it is set (`wrapper python3 worker.py`, as
 * `bootstrap` starts the first one; bootstrap has checked the wrapper); workers for python() calls do not.
 */
function defaultSpawn(env: NodeJS.ProcessEnv): WorkerProcess {
  const interpreter = resolveInterpreter(env);
  const wrapper = env[ENV.execWrapper];
  if (wrapper && env[ENV.workerMode] === 'handler') {
    return spawnWorker({ command: wrapper, args: [interpreter, workerScript(env)], env });
  }
  return spawnWorker({ command: interpreter, args: [workerScript(env)], env });
}

export class PythonPool {
  /**
   * Called when the runtime should end with `status`: the only handler worker died between invocations, or
   * no handler worker is left (a replacement failed to start).
   */
  onFatalDeath: ((status: ExitStatus) => void) | undefined;
  private readonly opts: PoolOptions;
  private readonly workers = new Set<Worker>();
  private readonly idle: Worker[] = [];
  private readonly waiters: Array<{ resolve(w: Worker): void; reject(e: Error): void }> = [];
  /** Replacement workers that have not finished a job yet. */
  private readonly unproven = new WeakSet<Worker>();
  /** Workers already reported lost (and replaced). */
  private readonly gone = new WeakSet<Worker>();
  private closed = false;

  constructor(opts: PoolOptions) {
    if (!Number.isInteger(opts.size) || opts.size < 1) throw new RangeError(`pool size must be ≥ 1, got ${opts.size}`);
    this.opts = opts;
  }

  get size(): number {
    return this.opts.size;
  }

  /**
   * Starts every worker (handler mode) and waits for their init outcomes: `ready` when all are ready,
   * otherwise the first outcome that is not.
   */
  async start(): Promise<WorkerInit> {
    const first = this.opts.adopted ? this.attach(this.opts.adopted) : undefined;
    const starts: Array<Promise<{ worker: Worker | undefined; init: WorkerInit }>> = [];
    if (first) starts.push(first.start().then((init) => ({ worker: first, init })));
    while (starts.length < this.opts.size) starts.push(this.launch());
    const results = await Promise.all(starts);
    const bad = results.find((r) => r.init.kind !== 'ready');
    if (bad) return bad.init;
    for (const r of results) this.release(r.worker!);
    return { kind: 'ready' };
  }

  /** Runs one invocation on an idle worker (waiting for one if all are busy). Never rejects. */
  async invoke(inv: Invocation, io: InvokeIO): Promise<InvokeOutcome> {
    let worker: Worker;
    // An idle worker is taken at once (no extra await on the hot path); otherwise wait for one.
    const idle = this.closed ? undefined : this.idle.pop();
    if (idle?.alive) worker = idle;
    else {
      if (idle) this.forget(idle);
      try {
        worker = await this.acquire();
      } catch (err) {
        return { kind: 'error', error: { body: errorDocument(err, inv.requestId), contentType: 'application/json' } };
      }
    }
    const outcome = await worker.invoke(inv, io);
    if (outcome.kind === 'died') {
      this.forget(worker);
      if (this.opts.size === 1 && this.opts.mode === 'handler') return outcome;
      // Several workers: report this invocation like Lambda would, and carry on with a fresh worker.
      this.lost(worker, `the Python worker ${worker.proc.label} exited during invocation ${inv.requestId} (${describeExit(outcome.exit)})`, false);
      return {
        kind: 'error',
        error: { body: exitErrorDocument(inv.requestId, outcome.exit), contentType: 'application/json', errorType: 'Runtime.ExitError' },
      };
    }
    if (worker.alive || !worker.brokeDuringJob) this.unproven.delete(worker); // it answered this job
    if (worker.alive) {
      this.release(worker);
    } else {
      // A protocol error killed it: the invocation already has its error; start a replacement.
      this.forget(worker);
      this.lost(worker, brokeMessage(worker), !worker.brokeDuringJob);
    }
    return outcome;
  }

  /** Calls `fn` (`pkg.module.function`) with `body` (JSON bytes). Rejects when the worker fails. */
  async call(fn: string, body: Uint8Array, context?: CallContext): Promise<CallOutcome> {
    const worker = await this.acquire();
    try {
      return await worker.call(fn, body, context);
    } finally {
      if (worker.alive) this.release(worker);
      else {
        this.forget(worker);
        if (worker.protocolError) announce(`${brokeMessage(worker)}; the next call starts a new worker`);
      }
    }
  }

  /** Forwards a signal to every worker. */
  signal(sig: NodeJS.Signals): void {
    for (const w of this.workers) w.signal(sig);
  }

  /** Stops every worker (shutdown message, then SIGKILL after the grace period). Safe to call twice. */
  async shutdown(): Promise<void> {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w.reject(new WorkerExitError('the Python pool is shutting down'));
    await Promise.all([...this.workers].map((w) => w.shutdown(this.opts.shutdownGraceMs)));
  }

  // ---- internals

  private attach(proc: WorkerProcess): Worker {
    // A worker for python() calls never keeps the runtime alive by itself: the Node host holds the event loop
    // while a call is in flight, so an idle worker does not hide that a Node handler's work is done.
    if (this.opts.mode === 'calls') proc.unref();
    const w = new Worker(proc, this.opts.maxFrameBytes);
    this.workers.add(w);
    w.onIdleDeath = (status, protocolError) => this.idleDeath(w, status, protocolError);
    return w;
  }

  /** Starts a worker; a `replacement` counts as unproven until it has finished a job. */
  private async launch(replacement = false): Promise<{ worker: Worker | undefined; init: WorkerInit }> {
    const env = workerEnv(this.opts.env ?? process.env, this.opts.mode, this.opts.handler);
    let proc: WorkerProcess;
    try {
      proc = (this.opts.spawn ?? defaultSpawn)(env);
    } catch (err) {
      const error = err instanceof WorkerStartError ? err : new WorkerStartError(errorMessageOf(err), { cause: err });
      return { worker: undefined, init: { kind: 'failed', error, exit: { code: 1, signal: null } } };
    }
    const w = this.attach(proc);
    if (replacement) this.unproven.add(w);
    const init = await w.start();
    if (init.kind !== 'ready') this.forget(w);
    return { worker: w, init };
  }

  private async acquire(): Promise<Worker> {
    if (this.closed) throw new WorkerExitError('the Python pool is shut down');
    for (;;) {
      const w = this.idle.pop();
      if (!w) break;
      if (w.alive) return w;
      this.forget(w);
    }
    // Calls mode grows on demand (a worker being started is already in `workers`).
    if (this.opts.mode === 'calls' && this.workers.size < this.opts.size) {
      const { worker, init } = await this.launch();
      if (init.kind === 'ready' && worker) return worker;
      if (init.kind === 'failed') throw init.error;
      throw new WorkerStartError(
        init.kind === 'initError'
          ? `the Python worker failed to start: ${init.errorType}: ${init.body.toString('utf8')}`
          : `the Python worker exited while starting`,
      );
    }
    return new Promise<Worker>((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private release(w: Worker): void {
    if (this.closed || !w.alive) return;
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve(w);
    else this.idle.push(w);
  }

  private forget(w: Worker): void {
    this.workers.delete(w);
    const i = this.idle.indexOf(w);
    if (i >= 0) this.idle.splice(i, 1);
  }

  private idleDeath(w: Worker, status: ExitStatus, protocolError: WorkerProtocolError | undefined): void {
    this.forget(w);
    if (this.closed) return;
    if (protocolError) {
      // Something the worker sent between jobs (a frame no job asked for, garbage): never a reason to end
      // the runtime silently. The worker is gone; a new one takes its place.
      if (this.opts.mode === 'handler') this.lost(w, brokeMessage(w), true);
      else announce(`${brokeMessage(w)}; the next call starts a new worker`);
      return;
    }
    if (this.opts.mode === 'handler' && this.opts.size === 1) {
      this.onFatalDeath?.(status);
      return;
    }
    if (this.opts.mode === 'handler') this.lost(w, `the Python worker ${w.proc.label} exited between invocations (${describeExit(status)})`, true);
  }

  /**
   * A handler worker is gone (it broke the protocol, or died while others serve on): one line saying `what`
   * happened, and a new worker takes its place. Unless it was a replacement that failed between jobs
   * (`idle`) before it ever finished one: the next one would most likely fail alike, by itself, so none is
   * started (such a crash loop would never end), and when no worker is left the runtime ends. A failure
   * during a job is always replaced: each costs an invocation, which gets its error.
   */
  private lost(w: Worker, what: string, idle: boolean): void {
    // Both the job's end and the worker's end may report it (a bad frame right after an answer).
    if (this.closed || this.gone.has(w)) return;
    this.gone.add(w);
    if (!idle || !this.unproven.has(w)) {
      announce(`${what}; starting a new worker`);
      this.replace();
      return;
    }
    if (this.workers.size > 0) {
      announce(`${what}; it had replaced another worker and served nothing, so no new one is started`);
      return;
    }
    for (const waiter of this.waiters.splice(0)) waiter.reject(new WorkerStartError('no Python worker is left'));
    announce(`${what}; it had replaced another worker and served nothing: no worker is left, ending the runtime`);
    this.onFatalDeath?.({ code: 1, signal: null });
  }

  /** Starts a replacement handler worker in the background (calls mode starts workers on demand). */
  private replace(): void {
    if (this.closed) return;
    if (this.opts.mode === 'calls') {
      // Let a queued call start its own worker.
      const waiter = this.waiters.shift();
      if (waiter) this.acquire().then(waiter.resolve, waiter.reject);
      return;
    }
    void this.launch(true).then(({ worker, init }) => {
      if (init.kind === 'ready') return worker && this.release(worker);
      if (this.closed) return;
      const why =
        init.kind === 'failed'
          ? init.error.message
          : init.kind === 'initError'
            ? `${init.errorType}: ${init.body.toString('utf8', 0, 500)}`
            : `it exited during init (${describeExit(init.exit)})`;
      if (this.workers.size > 0) {
        announce(`a replacement Python worker failed to start: ${why}`);
        return;
      }
      for (const waiter of this.waiters.splice(0)) waiter.reject(new WorkerStartError('no Python worker is left'));
      announce(`a replacement Python worker failed to start: ${why}; no worker is left, ending the runtime`);
      this.onFatalDeath?.({ code: 1, signal: null });
    });
  }
}

/** `the Python worker <label> broke the worker protocol: <what>`. */
function brokeMessage(w: Worker): string {
  return `the Python worker ${w.proc.label} broke the worker protocol: ${w.protocolError?.message ?? 'unknown error'}`;
}
