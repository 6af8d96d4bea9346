// Runs invocations of one function on a pool of runtime processes, as Lambda runs them in execution
// environments: a runtime is started on demand (a cold start, `Init Duration` in its REPORT), kept warm
// between invocations, replaced after a timeout (killed with its whole process group), after it exits, and
// after `restart()` (code changed). One invocation at a time per runtime; with `concurrency` N, up to N
// runtimes serve in parallel and further invocations wait their turn (never refused). With
// `maxConcurrency` M > 1 each runtime runs in Lambda Managed Instances mode (AWS_LAMBDA_MAX_CONCURRENCY=M)
// and takes up to M invocations at once; a timeout then fails only its own invocation, as there.
// Prints Lambda's platform lines around each invocation and keeps the invocation's log for `Tail`.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { InvocationResult } from './runtime-api-server.ts';
import { RuntimeProcess, describeExit, type ExitInfo } from './runtime-process.ts';
import { functionArn, type FunctionConfig } from './function-config.ts';
import { PeakMemorySampler } from './process-tree.ts';
import { billedMs, endLine, initReportLine, reportLine, startLine, timeoutLogLine } from './platform-log.ts';
import { HEADER } from './wire.ts';

export interface InvokeRequest {
  body: Buffer;
  /** Content type of the event; default `application/json`. */
  contentType?: string | null;
  requestId?: string;
  /** Client context JSON (decoded), sent as `Lambda-Runtime-Client-Context`. */
  clientContext?: string;
  /** X-Ray header to pass on; default a fresh one. */
  traceId?: string;
}

export interface InvokeListener {
  /** The runtime took the invocation. */
  onStart?(requestId: string): void;
  /** A streamed response began. */
  onStreamStart?(contentType: string | undefined): void;
  /** A piece of a streamed response; the runtime's upload is paused until the promise settles. */
  onChunk?(chunk: Buffer): void | Promise<void>;
}

export type Outcome = 'success' | 'error' | 'timeout';

export interface InvokeReport {
  requestId: string;
  result: InvocationResult;
  outcome: Outcome;
  durationMs: number;
  billedMs: number;
  /** Set on a cold start. */
  initDurationMs?: number;
  maxMemoryUsedMb: number;
  /** This invocation's log as Lambda would keep it: START, the function's output, END, REPORT. */
  log: Buffer;
}

export interface SupervisorOptions {
  config: FunctionConfig;
  /** Runtime processes at most (default 1). */
  concurrency?: number;
  /**
   * Where function logs and platform lines go (the tool's stderr). Returning `false` says it is full: the
   * runtime's output is then not read until `logDrain` resolves (backpressure, as a terminal gives).
   */
  log: (chunk: Buffer | string) => boolean | void;
  /** Resolves when `log`'s destination can take more after it returned false. */
  logDrain?: () => Promise<void>;
  /** Lambda's init phase limit (10 s for on-demand functions). */
  initTimeoutMs?: number;
  /** Invocations one runtime takes at once (Lambda Managed Instances mode when > 1; default 1). */
  maxConcurrency?: number;
  /** Extra variables for every runtime (tests). */
  extraEnv?: Record<string, string>;
}

const INIT_TIMEOUT_MS = 10_000;
const LOG_KEEP_BYTES = 64 * 1024;

class Slot {
  runtime: RuntimeProcess | undefined;
  /** Set while a runtime is being started, so concurrent invocations share it. */
  starting: Promise<RuntimeProcess> | undefined;
  active = 0;
  stale = false;
  /** The log of every invocation running on this slot's runtime, by request id. */
  readonly captures = new Map<string, { parts: Buffer[]; size: number }>();

  record(chunk: Buffer, only?: string): void {
    for (const [id, c] of this.captures) {
      if (only !== undefined && id !== only) continue;
      c.parts.push(chunk);
      c.size += chunk.length;
      if (c.size > LOG_KEEP_BYTES) {
        const all = Buffer.concat(c.parts).subarray(-LOG_KEEP_BYTES / 2);
        c.parts = [all];
        c.size = all.length;
      }
    }
  }
}

export function errorBody(errorType: string, errorMessage: string): Buffer {
  return Buffer.from(JSON.stringify({ errorType, errorMessage }));
}

/** Lets the runtime's pipes deliver what was written before its answer, so logs precede END. */
const drainPipes = () => new Promise<void>((r) => setTimeout(r, 5));

export class Supervisor {
  private readonly slots: Slot[];
  private readonly waiting: Array<(slot: Slot) => void> = [];
  private closed = false;

  private readonly capacity: number;

  constructor(private readonly options: SupervisorOptions) {
    const n = Math.max(1, options.concurrency ?? 1);
    this.capacity = Math.max(1, options.maxConcurrency ?? 1);
    this.slots = Array.from({ length: n }, () => new Slot());
  }

  get config(): FunctionConfig {
    return this.options.config;
  }

  /** Pids of the runtimes alive right now (tests, diagnostics). */
  get runtimePids(): number[] {
    return this.slots.flatMap((s) => (s.runtime?.alive && s.runtime.pid !== undefined ? [s.runtime.pid] : []));
  }

  async invoke(request: InvokeRequest, listener: InvokeListener = {}): Promise<InvokeReport> {
    if (this.closed) throw new Error('the local function is shut down');
    const slot = await this.acquire();
    try {
      return await this.run(slot, request, listener);
    } finally {
      this.release(slot);
    }
  }

  /** Code changed: runtimes idle now are stopped, busy ones after their invocations; the next one inits afresh. */
  restart(): void {
    for (const slot of this.slots) {
      slot.stale = true;
      if (slot.active === 0) this.retire(slot);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map(async (s) => (await s.starting?.catch(() => undefined))?.kill()));
    await Promise.all(this.slots.map((s) => s.runtime?.stop()));
  }

  /** The best slot with room: a warm runtime first, then one being started, then an empty slot. */
  private pick(): Slot | undefined {
    const open = this.slots.filter((s) => s.active < this.capacity && !(s.stale && s.active > 0));
    return open.find((s) => s.runtime?.alive && !s.stale) ?? open.find((s) => s.starting) ?? open.find((s) => s.active === 0);
  }

  private acquire(): Promise<Slot> {
    const slot = this.waiting.length === 0 ? this.pick() : undefined;
    if (slot) {
      slot.active++;
      return Promise.resolve(slot);
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(slot: Slot): void {
    slot.active--;
    if (slot.stale && slot.active === 0) this.retire(slot);
    for (let next = this.pick(); next && this.waiting.length > 0; next = this.pick()) {
      next.active++;
      this.waiting.shift()!(next);
    }
  }

  private retire(slot: Slot): void {
    slot.runtime?.kill();
    slot.runtime = undefined;
    slot.stale = false;
  }

  private emit(slot: Slot, text: string | Buffer, only?: string): boolean | void {
    const chunk = typeof text === 'string' ? Buffer.from(text) : text;
    slot.record(chunk, only);
    return this.options.log(chunk);
  }

  /** A caller's callback failing must not take the Runtime API server (or the tool) down. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.internalError(e);
    }
  }

  private internalError(e: unknown): void {
    this.options.log(`tandem: internal error while forwarding a response: ${(e as Error)?.stack ?? String(e)}\n`);
  }

  /** The slot's live runtime, started (once, however many invocations ask) when there is none. */
  private async runtimeFor(slot: Slot): Promise<{ runtime: RuntimeProcess; cold: boolean }> {
    if (slot.runtime?.alive) return { runtime: slot.runtime, cold: false };
    if (slot.starting) return { runtime: await slot.starting, cold: false };
    const { config } = this.options;
    const env: Record<string, string> = { ...this.options.extraEnv };
    if (this.capacity > 1) {
      env.AWS_LAMBDA_MAX_CONCURRENCY = String(this.capacity);
      env.AWS_LAMBDA_INITIALIZATION_TYPE = 'lambda-managed-instances';
    }
    let started: RuntimeProcess | undefined;
    slot.starting = RuntimeProcess.start(
      config,
      (chunk) => (started && slot.runtime === started ? this.emit(slot, chunk) : this.options.log(chunk)),
      env,
      this.options.logDrain,
    );
    try {
      started = await slot.starting;
    } finally {
      slot.starting = undefined;
    }
    slot.runtime = started;
    return { runtime: started, cold: true };
  }

  private async run(slot: Slot, request: InvokeRequest, listener: InvokeListener): Promise<InvokeReport> {
    const { config } = this.options;
    const requestId = request.requestId ?? randomUUID();
    slot.captures.set(requestId, { parts: [], size: 0 });
    const { runtime, cold } = await this.runtimeFor(slot);
    const shared = this.capacity > 1;
    const sampler = runtime.pid !== undefined ? new PeakMemorySampler(runtime.pid).start() : undefined;

    let startedAt: number | undefined;
    let initDurationMs: number | undefined;
    let timedOut = false;
    let timedOutAfterSec = config.timeoutSec;
    let initTimedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const timeoutMs = config.timeoutSec * 1000;
    const headers: Record<string, string> = {};
    if (request.clientContext) headers[HEADER.clientContext] = request.clientContext;

    const timeOut = (afterSec: number, inInit: boolean) => {
      timedOut = true;
      timedOutAfterSec = afterSec;
      initTimedOut = inInit;
      // One invocation per runtime, or a runtime stuck in init: the runtime goes, as Lambda ends the
      // sandbox. Shared (LMI) after init: only this invocation fails; the runtime keeps serving the others.
      if (!shared || inInit) runtime.kill();
      const message = `RequestId: ${requestId} Error: Task timed out after ${afterSec.toFixed(2)} seconds`;
      runtime.server.settle(requestId, {
        kind: 'error',
        errorType: 'Sandbox.Timedout',
        body: errorBody('Sandbox.Timedout', message),
        source: 'platform',
        streamed: false,
      });
    };

    const begin = () => {
      if (startedAt !== undefined) return;
      startedAt = performance.now();
      if (cold) initDurationMs = startedAt - runtime.spawnedAt;
      this.emit(slot, startLine(requestId, config.version), requestId);
    };

    const pending = runtime.server.enqueue(
      {
        body: request.body,
        contentType: request.contentType,
        requestId,
        timeoutMs,
        functionArn: functionArn(config),
        ...(request.traceId !== undefined ? { traceId: request.traceId } : {}),
        headers,
      },
      {
        onStart: (id) => {
          begin();
          timer = setTimeout(() => timeOut(config.timeoutSec, false), timeoutMs);
          this.guard(() => listener.onStart?.(id));
        },
        onStreamStart: (ct) => this.guard(() => listener.onStreamStart?.(ct)),
        // Without onChunk the server buffers a streamed response into the result (up to 200 MB).
        ...(listener.onChunk
          ? {
              onChunk: (c: Buffer) => {
                try {
                  return Promise.resolve(listener.onChunk!(c)).catch((e: unknown) => this.internalError(e));
                } catch (e) {
                  this.internalError(e);
                }
              },
            }
          : {}),
      },
    );

    const initTimer = cold
      ? setTimeout(() => {
          if (startedAt === undefined) timeOut((this.options.initTimeoutMs ?? INIT_TIMEOUT_MS) / 1000, true);
        }, this.options.initTimeoutMs ?? INIT_TIMEOUT_MS)
      : undefined;

    void runtime.exited.then((info) => {
      if (timedOut) return;
      runtime.server.settle(requestId, exitResult(requestId, info, config.bootstrap[0] ?? 'bootstrap'));
    });

    const result = await pending.result;
    const endedAt = performance.now();
    clearTimeout(timer);
    clearTimeout(initTimer);
    if (startedAt === undefined) {
      // Never reached the handler (init failed or timed out): the whole wait was init.
      if (cold) {
        initDurationMs = endedAt - runtime.spawnedAt;
        const failed = result.kind === 'error' ? result.errorType : undefined;
        this.emit(slot, initReportLine(initDurationMs, timedOut ? 'timeout' : 'error', failed), requestId);
      }
      startedAt = endedAt;
      this.emit(slot, startLine(requestId, config.version), requestId);
    }
    const maxMemoryUsedMb = sampler?.stop() ?? 0;
    await drainPipes();

    let outcome: Outcome = result.kind === 'response' ? 'success' : 'error';
    if (timedOut) {
      outcome = 'timeout';
      this.emit(slot, timeoutLogLine(requestId, timedOutAfterSec), requestId);
    } else if (result.kind === 'error' && result.source === 'platform') {
      const doc = safeJson(result.body);
      if (doc?.errorMessage) this.emit(slot, `${doc.errorMessage}\n${result.errorType}\n`, requestId);
    }
    const durationMs = timedOut && !initTimedOut ? Math.max(timeoutMs, endedAt - startedAt) : endedAt - startedAt;
    const platformFailure = result.kind === 'error' && (result.source === 'platform' || result.source === 'init');
    this.emit(slot, endLine(requestId), requestId);
    this.emit(
      slot,
      reportLine({
        requestId,
        durationMs,
        billedMs: billedMs(durationMs, initDurationMs),
        memorySizeMb: config.memoryMb,
        maxMemoryUsedMb,
        ...(initDurationMs !== undefined ? { initDurationMs } : {}),
        ...(timedOut ? { status: 'timeout' as const } : platformFailure ? { status: 'error' as const, errorType: result.errorType } : {}),
      }),
      requestId,
    );
    if (maxMemoryUsedMb > config.memoryMb) {
      // Not enforced locally (RSS summed over processes counts shared pages more than once), but said.
      this.options.log(
        `tandem: Max Memory Used (${maxMemoryUsedMb} MB) is above Memory Size (${config.memoryMb} MB): ` +
          `on Lambda this invocation could fail with Runtime.OutOfMemory (raise --memory)\n`,
      );
    }
    const log = Buffer.concat(slot.captures.get(requestId)?.parts ?? []);
    slot.captures.delete(requestId);
    if (!runtime.alive || (timedOut && (!shared || initTimedOut)) || (result.kind === 'error' && result.source === 'init')) {
      // A runtime that failed init, timed out or died is never reused: the next invocation inits afresh.
      runtime.kill();
      if (slot.runtime === runtime) slot.runtime = undefined;
    }
    return {
      requestId,
      result,
      outcome,
      durationMs,
      billedMs: billedMs(durationMs, initDurationMs),
      ...(initDurationMs !== undefined ? { initDurationMs } : {}),
      maxMemoryUsedMb,
      log,
    };
  }
}

function safeJson(body: Buffer): { errorMessage?: string } | undefined {
  try {
    return JSON.parse(body.toString('utf8')) as { errorMessage?: string };
  } catch {
    return undefined;
  }
}

/** The result Lambda gives an invocation whose runtime ended (or never started) before answering it. */
export function exitResult(requestId: string, info: ExitInfo, command: string): InvocationResult {
  if (info.spawnError) {
    const type = 'Runtime.InvalidEntrypoint';
    const message = `RequestId: ${requestId} Error: could not start the runtime ${command}: ${info.spawnError.message}`;
    return { kind: 'error', errorType: type, body: errorBody(type, message), source: 'platform', streamed: false };
  }
  const type = 'Runtime.ExitError';
  const message =
    info.code === 0 && !info.signal
      ? `RequestId: ${requestId} Error: Runtime exited without providing a reason`
      : `RequestId: ${requestId} Error: Runtime exited with error: ${describeExit(info)}`;
  return { kind: 'error', errorType: type, body: errorBody(type, message), source: 'platform', streamed: false };
}
