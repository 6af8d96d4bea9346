// One connection to one Python worker (docs/protocol.md): the handshake and init outcome, then one job at a
// time, an `invoke` (buffered result, error, or a stream relayed to the Runtime API with backpressure) or a
// `call` (the python() API). Sees the worker's death from the process (its exit, even while a child it
// forked holds the pipe open) and from EOF on its output pipe, and reports it with the exit status once
// every frame written before it was handled. A broken frame, a pipe closed under a running worker, or a
// frame left incomplete while the worker waits for its next message kills the worker and fails the job
// with Runtime.WorkerProtocolError.
import { readSync } from 'node:fs';
import { WorkerExitError, WorkerProtocolError, WorkerStartError, errorDocument, errorMessageOf } from '../runtime/errors.ts';
import { ACCEPTED } from '../runtime/accepted.ts';
import { describeExit } from '../runtime/exit.ts';
import { isValidHeaderValue } from '../runtime/http1.ts';
import type { ExitStatus, Invocation, InvokeIO, InvokeOutcome, StreamWriter } from '../runtime/types.ts';
import { BinParts, FrameDecoder, FrameEncoder, type Message } from './frames.ts';
import { learnInterpreter } from './interpreter.ts';
import { blockedReading, processState, type WorkerProcess } from './worker-process.ts';

export const PROTOCOL_VERSION = 1;
export const PROTOCOL_MISMATCH_EXIT_CODE = 70;

export type WorkerInit =
  | { kind: 'ready' }
  | { kind: 'initError'; errorType: string; body: Buffer }
  /** The worker said hello, then died during init (e.g. sys.exit in the handler module). */
  | { kind: 'died'; exit: ExitStatus }
  /** The worker never got going: not started, died before hello, or broke the protocol. */
  | { kind: 'failed'; error: WorkerStartError | WorkerProtocolError; exit: ExitStatus };

export type CallOutcome =
  | { kind: 'result'; contentType: string; body: Buffer }
  | { kind: 'error'; errorType: string; body: Buffer };

/** Context passed with a call (protocol `call.context`). */
export interface CallContext {
  requestId?: string;
  deadlineMs?: number;
  functionArn?: string;
  traceId?: string;
  tenantId?: string;
}

interface Job {
  onMessage(msg: Message): void;
  /** The worker is gone (EOF, or killed after a protocol error). */
  onDeath(status: ExitStatus, protocolError: WorkerProtocolError | undefined): void;
}

const JSON_TYPE = 'application/json';
/** A frame the worker left incomplete this long is checked against what the worker is doing. */
const STALL_CHECK_MS = 100;

function bin(msg: Message, key: string): Buffer {
  const v = msg[key];
  if (v instanceof BinParts) return v.join();
  if (!Buffer.isBuffer(v)) throw new WorkerProtocolError(`"${msg.t}" frame without a bin "${key}"`);
  return v;
}

/** A bin value as it came: one Buffer, or the pieces of a large one (posted without joining them). */
function binPieces(msg: Message, key: string): Buffer | readonly Buffer[] {
  const v = msg[key];
  if (v instanceof BinParts) return v.parts;
  return bin(msg, key);
}

function str(msg: Message, key: string): string {
  const v = msg[key];
  if (typeof v !== 'string') throw new WorkerProtocolError(`"${msg.t}" frame without a string "${key}"`);
  return v;
}

/** Lambda's body for an invocation whose runtime process exited. */
export function exitErrorDocument(requestId: string, status: ExitStatus): Buffer {
  return errorDocument(new WorkerExitError(`RequestId: ${requestId} Error: Runtime exited with error: ${describeExit(status)}`), requestId);
}

/** The worker speaks another protocol version (the runtime then exits 70, as the worker does). */
export class ProtocolVersionError extends WorkerProtocolError {}

export class Worker {
  /** The worker's Python version, from its hello. */
  pythonVersion: string | undefined;
  /** Called when the worker dies, or breaks the protocol (then it is killed), with no job running. */
  onIdleDeath: ((status: ExitStatus, protocolError: WorkerProtocolError | undefined) => void) | undefined;
  private readonly encoder = new FrameEncoder();
  private readonly decoder: FrameDecoder;
  private job: Job | undefined;
  /** EOF seen or protocol broken: no new jobs. */
  private dead = false;
  /** Protocol broken: frames are no longer read. */
  private broken: WorkerProtocolError | undefined;
  /** The protocol broke while a job ran (that job got the error), not after it. */
  private brokenInJob = false;
  private status: Promise<ExitStatus> | undefined;
  private readonly eof: Promise<void>;
  private markEof!: () => void;
  private deathSettled: ExitStatus | undefined;
  private deathReported = false;
  private eofSeen = false;
  /** How the process ended, as soon as it is known (possibly before EOF). */
  private exitKnown: ExitStatus | undefined;
  /** The fd the worker reads Node's frames from (its hello's `inFd`), to tell a stalled frame. */
  private inFd: number | undefined;
  /** The Python process's pid from its hello (differs from the process Node started under a wrapper that does not exec). */
  private helloPid: number | undefined;
  private stallTimer: NodeJS.Timeout | undefined;
  /** A job's write to the Runtime API has not drained: frames wait in `queue`, the pipe may be paused. */
  private blocked = false;
  private paused = false;
  private readonly queue: Message[] = [];
  private callSeq = 0;

  constructor(
    readonly proc: WorkerProcess,
    maxFrameBytes: number,
  ) {
    this.decoder = new FrameDecoder(maxFrameBytes);
    this.eof = new Promise<void>((r) => (this.markEof = r));
    this.unblock = this.unblock.bind(this);
    this.checkStall = this.checkStall.bind(this);
    const out = proc.output;
    if (proc.onChunk) proc.onChunk((chunk) => this.onData(chunk));
    else out.on('data', (chunk: Buffer) => this.onData(chunk));
    out.on('end', () => this.onEof());
    out.on('close', () => this.onEof());
    out.on('error', () => this.onEof());
    void proc.exited().then((status) => this.onExit(status));
  }

  get alive(): boolean {
    return !this.dead;
  }

  /** The protocol error that ended this worker, if that is what ended it. */
  get protocolError(): WorkerProtocolError | undefined {
    return this.broken;
  }

  /** True when the worker broke the protocol while a job ran (that job got the error), not after it. */
  get brokeDuringJob(): boolean {
    return this.brokenInJob;
  }

  get busy(): boolean {
    return this.job !== undefined;
  }

  /** Handshake and init outcome. Sends Node's hello at once (the worker reads it when it is ready to). */
  start(): Promise<WorkerInit> {
    return new Promise<WorkerInit>((resolve) => {
      let helloSeen = false;
      this.job = {
        onMessage: (msg) => {
          if (!helloSeen) {
            if (msg.t !== 'hello') throw new WorkerProtocolError(`expected "hello" first, got "${msg.t}"`);
            if (msg.v !== PROTOCOL_VERSION) {
              throw new ProtocolVersionError(
                `worker protocol mismatch: worker speaks ${String(msg.v)}, runtime speaks ${PROTOCOL_VERSION}`,
              );
            }
            helloSeen = true;
            this.pythonVersion = typeof msg.python === 'string' ? msg.python : undefined;
            if (typeof msg.inFd === 'number' && Number.isInteger(msg.inFd)) this.inFd = msg.inFd;
            if (typeof msg.pid === 'number' && Number.isInteger(msg.pid) && msg.pid > 0) this.helloPid = msg.pid;
            learnInterpreter(msg.exe);
            return;
          }
          if (msg.t === 'ready') {
            this.job = undefined;
            resolve({ kind: 'ready' });
          } else if (msg.t === 'initError') {
            const out: WorkerInit = { kind: 'initError', errorType: str(msg, 'errorType'), body: bin(msg, 'body') };
            this.job = undefined;
            resolve(out);
          } else {
            throw new WorkerProtocolError(`expected "ready" or "initError", got "${msg.t}"`);
          }
        },
        onDeath: (status, protocolError) => {
          if (protocolError) resolve({ kind: 'failed', error: protocolError, exit: status });
          else if (helloSeen) resolve({ kind: 'died', exit: status });
          else resolve({ kind: 'failed', error: this.startFailure(status), exit: status });
        },
      };
      this.send({ t: 'hello', v: PROTOCOL_VERSION });
    });
  }

  /** Runs one invocation. Never rejects: every failure is an outcome. */
  invoke(inv: Invocation, io: InvokeIO): Promise<InvokeOutcome> {
    if (this.dead) return this.exitStatus().then((exit): InvokeOutcome => ({ kind: 'died', exit }));
    return new Promise<InvokeOutcome>((resolve) => {
      this.job = new InvokeJob(this, inv, io, resolve);
      this.write(this.encoder.invoke(inv));
    });
  }

  /** Calls a Python function. Rejects with WorkerExitError / WorkerProtocolError when the worker fails. */
  call(fn: string, body: Uint8Array, context: CallContext | undefined): Promise<CallOutcome> {
    if (this.dead) return Promise.reject(new WorkerExitError('the Python worker has exited'));
    const id = `call-${++this.callSeq}`;
    return new Promise<CallOutcome>((resolve, reject) => {
      this.job = {
        onMessage: (msg) => {
          if (msg.id !== id) throw new WorkerProtocolError(`"${msg.t}" for ${String(msg.id)} while call ${id} runs`);
          let out: CallOutcome;
          if (msg.t === 'result') out = { kind: 'result', contentType: str(msg, 'contentType'), body: bin(msg, 'body') };
          else if (msg.t === 'error') out = { kind: 'error', errorType: str(msg, 'errorType'), body: bin(msg, 'body') };
          else throw new WorkerProtocolError(`unexpected "${msg.t}" during a call`);
          this.job = undefined;
          resolve(out);
        },
        onDeath: (status, protocolError) => {
          reject(protocolError ?? new WorkerExitError(`the Python worker exited during the call to ${fn}: ${describeExit(status)}`));
        },
      };
      this.send({
        t: 'call',
        id,
        fn,
        body,
        context: context
          ? {
              requestId: context.requestId ?? null,
              deadlineMs: context.deadlineMs === undefined ? null : BigInt(context.deadlineMs),
              functionArn: context.functionArn ?? null,
              traceId: context.traceId ?? null,
              tenantId: context.tenantId ?? null,
            }
          : null,
      });
    });
  }

  /** Asks the worker to exit; kills it after `graceMs`. Resolves with its exit status. */
  async shutdown(graceMs: number): Promise<ExitStatus> {
    if (!this.dead) {
      this.send({ t: 'shutdown' });
      this.proc.input.end();
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), graceMs)));
    const first = await Promise.race([this.exitStatus(), timeout]);
    clearTimeout(timer);
    if (first !== 'timeout') return first;
    this.proc.kill('SIGKILL');
    return this.exitStatus();
  }

  /** Sends a signal to the worker process. */
  signal(sig: NodeJS.Signals): void {
    this.proc.kill(sig);
  }

  /** The exit status, once the worker is gone (after EOF on its output). */
  exitStatus(): Promise<ExitStatus> {
    if (!this.status) this.status = this.eof.then(() => this.proc.exited());
    return this.status;
  }

  // ---- plumbing used by jobs

  send(msg: Record<string, unknown>): void {
    this.write(this.encoder.encode(msg));
  }

  private write(parts: Buffer[]): void {
    const input = this.proc.input;
    if (input.destroyed || input.writableEnded) return;
    if (parts.length === 1) {
      input.write(parts[0]);
      return;
    }
    input.cork();
    for (const p of parts) input.write(p);
    input.uncork();
  }

  /** A job has settled: the worker can take the next one. */
  jobDone(job: Job): void {
    if (this.job === job) this.job = undefined;
  }

  /** A job waits for `p` (a Runtime API write) before it takes more frames. */
  waitFor(p: Promise<void>): void {
    this.blocked = true;
    p.then(this.unblock, this.unblock);
  }

  private unblock(): void {
    this.blocked = false;
    while (!this.blocked && this.queue.length > 0 && !this.broken) this.dispatch(this.queue.shift()!);
    if (this.blocked) return;
    if (this.paused) {
      this.paused = false;
      this.proc.output.resume();
    }
    this.reportDeath();
  }

  private onData(chunk: Buffer): void {
    if (this.broken) return;
    // Still blocked since the previous read: the Runtime API is slow. Stop reading so the pipe fills and
    // the worker's writes block; this read's frames wait in the queue.
    if (this.blocked && !this.paused) {
      this.paused = true;
      this.proc.output.pause();
    }
    try {
      this.decoder.push(chunk, (msg) => {
        if (this.blocked || this.queue.length > 0) this.queue.push(msg);
        else this.dispatch(msg);
      });
    } catch (err) {
      this.protocolFailure(err);
      return;
    }
    if (this.inFd !== undefined && this.decoder.midFrame) this.watchStall();
  }

  /** A frame is incomplete after a read: look again a moment later (see checkStall). */
  private watchStall(): void {
    if (this.stallTimer) this.stallTimer.refresh();
    else this.stallTimer = setTimeout(this.checkStall, STALL_CHECK_MS).unref();
  }

  /**
   * A frame has stayed incomplete with no byte coming. If the worker's main thread is waiting for Node's
   * next message, it has finished writing: the missing bytes will never come (something other than the
   * worker wrote to its pipe, e.g. the function writing to that fd). Anything else: look again later.
   */
  private checkStall(): void {
    this.stallTimer = undefined;
    if (this.broken || this.eofSeen || !this.decoder.midFrame) return;
    const pid = this.helloPid ?? this.proc.pid;
    if (!this.paused && pid !== undefined && this.inFd !== undefined && blockedReading(pid, this.inFd)) {
      this.protocolFailure(
        new WorkerProtocolError(
          'the worker waits for its next message while the frame it sent last is incomplete ' +
            '(something other than the worker wrote to its frame pipe)',
        ),
      );
      return;
    }
    this.watchStall();
  }

  private dispatch(msg: Message): void {
    if (this.broken) return;
    const job = this.job;
    try {
      if (!job) throw new WorkerProtocolError(`unexpected "${msg.t}" frame while no job runs`);
      job.onMessage(msg);
    } catch (err) {
      this.protocolFailure(err);
    }
  }

  private protocolFailure(err: unknown): void {
    if (this.broken) return;
    this.broken = err instanceof WorkerProtocolError ? err : new WorkerProtocolError(errorMessageOf(err));
    this.brokenInJob = this.job !== undefined;
    this.dead = true;
    this.queue.length = 0;
    this.blocked = false;
    this.proc.kill('SIGKILL');
    this.proc.output.destroy();
    this.proc.input.destroy();
    this.onEof();
  }

  private onEof(): void {
    if (this.eofSeen) return;
    this.eofSeen = true;
    this.markEof();
    this.dead = true;
    if (this.stallTimer) clearTimeout(this.stallTimer);
    if (this.exitKnown === undefined && !this.broken) this.watchClosedPipe();
    void this.exitStatus().then((status) => {
      this.deathSettled = status;
      this.reportDeath();
    });
  }

  /**
   * EOF before the process ended. A process that exits is marked exiting before the kernel closes its fds,
   * so a Python process still running at EOF had its pipe closed or replaced under it (the function closing
   * or dup2-ing over the worker's fds, or exec-ing): it can never answer again. That is a protocol error
   * (killed, replaced), not a wait for the platform's timeout. Otherwise the exit is on its way.
   */
  private watchClosedPipe(): void {
    const pid = this.helloPid ?? this.proc.pid;
    if (pid !== undefined && processState(pid) === 'running') {
      this.protocolFailure(
        new WorkerProtocolError(
          `the worker's frame pipe was closed while the worker kept running (the function closed or replaced the worker's fds)`,
        ),
      );
    }
  }

  /**
   * The process has ended. If its output pipe has not reached EOF, a process it forked holds the pipe open:
   * whatever the worker wrote is in the pipe already and nothing more can come from it, so read it now
   * (without waiting for libuv), and end the pipe here.
   */
  private onExit(status: ExitStatus): void {
    this.exitKnown = status;
    if (this.eofSeen) return;
    const out = this.proc.output;
    while (out.readableLength > 0 && !this.eofSeen && out.read() !== null) {
      // read() hands each buffered chunk to onData through the 'data' listener
    }
    const fd = this.proc.outputFd;
    if (fd === undefined) return; // cannot read it here: EOF will tell
    while (!this.eofSeen) {
      const buf = Buffer.allocUnsafe(64 * 1024);
      let n: number;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch {
        break; // EAGAIN: the pipe is empty
      }
      if (n === 0) break;
      this.onData(buf.subarray(0, n));
    }
    if (!this.eofSeen) {
      out.destroy();
      this.onEof();
    }
  }

  /** Tells the job (or the pool) about the death once every frame that came before it was handled. */
  private reportDeath(): void {
    if (this.deathSettled === undefined || this.deathReported) return;
    if (!this.broken && (this.blocked || this.queue.length > 0)) return;
    this.deathReported = true;
    this.proc.input.destroy(); // nobody reads it any more
    const job = this.job;
    this.job = undefined;
    if (job) job.onDeath(this.deathSettled, this.broken);
    else this.onIdleDeath?.(this.deathSettled, this.broken);
  }

  private startFailure(status: ExitStatus): WorkerStartError {
    const p = this.proc;
    if (p.startError) {
      return new WorkerStartError(`cannot start the Python worker ${p.label}: ${p.startError.message}`, { cause: p.startError });
    }
    return new WorkerStartError(`the Python worker ${p.label} ended before its handshake (${describeExit(status)})`);
  }
}

/** One invocation on a worker: relays the worker's answer, buffered or streamed. */
class InvokeJob implements Job {
  private stream: StreamWriter | undefined;
  private ended = false;

  constructor(
    private readonly worker: Worker,
    private readonly inv: Invocation,
    private readonly io: InvokeIO,
    private readonly done: (outcome: InvokeOutcome) => void,
  ) {}

  private settled = false;

  onMessage(msg: Message): void {
    if (msg.id !== this.inv.requestId) {
      throw new WorkerProtocolError(`"${msg.t}" for ${String(msg.id)} while ${this.inv.requestId} runs`);
    }
    switch (msg.t) {
      case 'result':
        this.noStream(msg);
        this.finish({ kind: 'response', contentType: str(msg, 'contentType'), body: binPieces(msg, 'body') });
        return;
      case 'error': {
        this.noStream(msg);
        const xc = msg.xrayCause;
        this.finish({
          kind: 'error',
          error: { body: bin(msg, 'body'), contentType: JSON_TYPE, xrayCause: typeof xc === 'string' && xc !== '' ? xc : undefined },
        });
        return;
      }
      case 'streamStart': {
        this.noStream(msg);
        const ct = str(msg, 'contentType');
        this.stream = this.io.openStream(isValidHeaderValue(ct) ? ct : 'application/octet-stream');
        return;
      }
      case 'chunk': {
        const p = this.open(msg).write(binPieces(msg, 'data'));
        if (p !== ACCEPTED) this.worker.waitFor(p);
        return;
      }
      case 'streamEnd': {
        const s = this.open(msg);
        this.ended = true;
        s.end().then(
          () => this.finish({ kind: 'streamed' }),
          () => this.finish({ kind: 'streamed' }),
        );
        return;
      }
      case 'streamError': {
        const s = this.open(msg);
        this.ended = true;
        s.fail(str(msg, 'errorType'), bin(msg, 'body')).then(
          () => this.finish({ kind: 'streamed' }),
          () => this.finish({ kind: 'streamed' }),
        );
        return;
      }
      default:
        throw new WorkerProtocolError(`unexpected "${msg.t}" during an invocation`);
    }
  }

  onDeath(status: ExitStatus, protocolError: WorkerProtocolError | undefined): void {
    const id = this.inv.requestId;
    if (this.stream && !this.ended) {
      // A stream is open: close it with error trailers, so the caller sees what happened where it reads.
      this.ended = true;
      const [type, body] = protocolError
        ? [protocolError.errorType, errorDocument(protocolError, id)]
        : ['Runtime.ExitError', exitErrorDocument(id, status)];
      const outcome: InvokeOutcome = protocolError ? { kind: 'streamed' } : { kind: 'died', exit: status };
      this.stream.fail(type, body).then(
        () => this.finish(outcome),
        () => this.finish(outcome),
      );
      return;
    }
    if (this.ended) return; // the stream was already closed; its POST answer settles the job
    if (protocolError) {
      this.finish({ kind: 'error', error: { body: errorDocument(protocolError, id), contentType: JSON_TYPE } });
    } else {
      this.finish({ kind: 'died', exit: status });
    }
  }

  private noStream(msg: Message): void {
    if (this.stream) throw new WorkerProtocolError(`unexpected "${msg.t}" inside a stream`);
  }

  private open(msg: Message): StreamWriter {
    if (!this.stream || this.ended) throw new WorkerProtocolError(`"${msg.t}" outside a stream`);
    return this.stream;
  }

  private finish(outcome: InvokeOutcome): void {
    if (this.settled) return;
    this.settled = true;
    this.worker.jobDone(this);
    this.done(outcome);
  }
}

