// The Node host: runs a Node handler in the runtime's own process, as aws-lambda-ric 3.3.0 (the client of
// nodejs20.x/22.x) runs it. It owns the invocation semantics (handler styles, callbacks and context.succeed,
// waiting for the user's event loop to drain, streaming, uncaught errors); the router's loop owns the Runtime
// API and posts what `invoke` answers.
import type { Host, InitOutcome, Invocation, InvokeIO, InvokeOutcome, ErrorPost, StreamWriter } from '../runtime/types.ts';
import { loadHandler, type HandlerFunction } from './handler-loader.ts';
import { NodeJsExit, UnhandledPromiseRejection, toRapidResponse, xrayCause } from './errors.ts';
import { logError, patchConsole, setCurrentRequestId, setCurrentTenantId } from './log-patch.ts';
import { UserEventLoop } from './event-loop.ts';
import { attachEnvironmentData } from './context.ts';
import { ResponseStream, installAwsLambdaGlobal, streamingMetadata } from './response-stream.ts';
import { installPythonGlobal, type PythonCaller } from './python-bridge.ts';

export interface NodeHostOptions {
  taskRoot: string;
  /** The handler string without any `node:` prefix, e.g. `index.handler`. */
  handler: string;
  /** The environment the handler sees (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /**
   * The Python pool for `tandem.python()` calls, created on first use only (a Node handler that never calls
   * Python never starts a worker). Without it, python() calls fail with a clear error.
   */
  python?: () => PythonCaller;
  /** Ends the process after an uncaught error outside any invocation (default: process.exit). */
  exit?: (code: number) => void;
}

const JSON_TYPE = 'application/json';
const EXIT_UNCAUGHT = 129;
const EXIT_UNHANDLED_REJECTION = 128;

function isPromise(obj: unknown): obj is PromiseLike<unknown> {
  return Boolean(obj && typeof (obj as { then?: unknown }).then === 'function');
}

function serialize(body: unknown): Buffer {
  let text: string;
  try {
    text = JSON.stringify(body === undefined ? null : body);
  } catch {
    throw new Error('Unable to stringify response body');
  }
  return Buffer.from(text ?? 'null');
}

function initErrorPost(err: unknown): ErrorPost {
  const doc = toRapidResponse(err);
  return { body: Buffer.from(JSON.stringify(doc)), errorType: doc.errorType, contentType: JSON_TYPE };
}

function invokeErrorPost(err: unknown): ErrorPost {
  const cause = xrayCause(err);
  const post: ErrorPost = { body: Buffer.from(JSON.stringify(toRapidResponse(err))), contentType: JSON_TYPE };
  if (cause) post.xrayCause = cause;
  return post;
}

/** One invocation in flight: the first outcome wins. */
interface Active {
  finish(outcome: InvokeOutcome): void;
  /** Set once a streaming POST was opened (an uncaught error then ends it with trailers). */
  stream?: ResponseStream;
  streamOpened: boolean;
}

class NodeHost implements Host {
  private readonly env: NodeJS.ProcessEnv;
  private readonly loop = new UserEventLoop();
  private handler: HandlerFunction | undefined;
  private streaming = false;
  private highWaterMark: number | undefined;
  private isAsync = false;
  private initFail: ((outcome: InitOutcome) => void) | undefined;
  private active: Active | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private listenersInstalled = false;
  private fatal = false;
  /** What runs when the user's event loop drains (AWS: the beforeExit listener). */
  private beforeExit: () => void = () => {};

  constructor(private readonly options: NodeHostOptions) {
    this.env = options.env ?? process.env;
  }

  async init(): Promise<InitOutcome> {
    // process.stdout/stderr are created on first use; created by user code they would count as the user's
    // (an idle pipe handle says hasRef() but does not keep Node alive).
    void process.stdout;
    void process.stderr;
    patchConsole(this.env);
    this.installProcessListeners();
    installPythonGlobal(this.loop, this.options.python);
    this.loop.enable();
    return new Promise<InitOutcome>((resolve) => {
      this.initFail = resolve;
      const load = this.loop.runAsUser(() =>
        loadHandler(this.options.taskRoot, this.options.handler, () => installAwsLambdaGlobal(this.env)),
      );
      load
        .then((fn) => {
          const meta = streamingMetadata(fn);
          this.handler = fn;
          this.streaming = meta.streaming;
          this.highWaterMark = meta.highWaterMark;
          this.isAsync = fn.constructor?.name === 'AsyncFunction';
          // Only sync and callback-style handlers can wait for an empty event loop; tracking it costs every
          // promise a callback, so async handlers run without it (TANDEM_NODE_TRACK_EVENT_LOOP=1 keeps it, for
          // 3.x's Runtime.NodeJsExit on an async handler whose promise never settles).
          if (this.isAsync && this.env['TANDEM_NODE_TRACK_EVENT_LOOP'] !== '1') this.loop.disable();
          // AWS's client asks for the first invocation one macrotask later, and until then an uncaught
          // exception or unhandled rejection (a floating rejected promise at module scope) is an init error.
          setImmediate(() => {
            if (!this.initFail) return;
            this.initFail = undefined;
            resolve({ ok: true });
          });
        })
        .catch((err: unknown) => {
          // AWS: the load error surfaces as an uncaught exception of the init phase.
          logError('Uncaught Exception', err);
          this.failInit(err, EXIT_UNCAUGHT);
        });
    });
  }

  invoke(inv: Invocation, io: InvokeIO): Promise<InvokeOutcome> {
    // One invocation at a time in this process, as in AWS's client.
    const run = this.queue.then(() => this.runOne(inv, io));
    this.queue = run.catch(() => {});
    return run;
  }

  async shutdown(): Promise<void> {
    this.loop.cancel();
  }

  private failInit(err: unknown, code: number): void {
    const fail = this.initFail;
    this.initFail = undefined;
    fail?.({ ok: false, error: initErrorPost(err), exit: { code, signal: null } });
  }

  private installProcessListeners(): void {
    if (this.listenersInstalled) return;
    this.listenersInstalled = true;
    process.on('uncaughtException', (error) => {
      logError('Uncaught Exception', error);
      this.onFatal(error, EXIT_UNCAUGHT);
    });
    process.on('unhandledRejection', (reason, promise) => {
      const error = new UnhandledPromiseRejection(reason, promise);
      logError('Unhandled Promise Rejection', error);
      this.onFatal(error, EXIT_UNHANDLED_REJECTION);
    });
  }

  /** An uncaught exception or unhandled rejection: report it where AWS's client does, then end the runtime. */
  private onFatal(error: unknown, code: number): void {
    if (this.fatal) return;
    if (this.initFail) {
      this.fatal = true;
      this.failInit(error, code);
      return;
    }
    const active = this.active;
    if (!active) {
      this.fatal = true;
      (this.options.exit ?? ((c: number) => process.exit(c)))(code);
      return;
    }
    this.fatal = true;
    const exit = { code, signal: null };
    if (active.stream && active.streamOpened) {
      active.stream.fail(error).then(
        () => active.finish({ kind: 'died', exit }),
        () => active.finish({ kind: 'died', exit }),
      );
    } else {
      active.finish({ kind: 'error', error: invokeErrorPost(error), exit });
    }
  }

  private runOne(inv: Invocation, io: InvokeIO): Promise<InvokeOutcome> {
    return new Promise<InvokeOutcome>((resolve) => {
      const active: Active = {
        streamOpened: false,
        finish: (outcome) => {
          if (this.active !== active) return;
          this.active = undefined;
          this.loop.cancel();
          this.beforeExit = () => {};
          resolve(outcome);
        },
      };
      this.active = active;
      setCurrentRequestId(inv.requestId);
      setCurrentTenantId(inv.tenantId);
      if (this.streaming) void this.runStreaming(inv, io, active);
      else this.runBuffered(inv, active);
    });
  }

  /** Arms the "event loop is empty" detector: when it fires, the current beforeExit listener runs. */
  private armDrain(active: Active): void {
    this.loop.whenEmpty().then(() => {
      if (this.active === active) this.beforeExit();
    });
  }

  private runBuffered(inv: Invocation, active: Active): void {
    const finish = active.finish;
    const postError = (err: unknown) => {
      logError('Invoke Error', err);
      finish({ kind: 'error', error: invokeErrorPost(err) });
    };
    let completeInvoked = false;
    const complete = (result: unknown) => {
      if (completeInvoked) {
        console.error('Invocation has already been reported as done. Cannot call complete more than once per invocation.');
        return;
      }
      completeInvoked = true;
      const body = serialize(result);
      finish({ kind: 'response', contentType: JSON_TYPE, body });
    };
    let waitForEmptyEventLoop = true;
    // The beforeExit listener is this invocation's only while it runs (a late callback of an earlier
    // invocation must not replace the current one's, as it would in AWS's client).
    const setListener = (fn: () => void) => {
      if (this.active === active) this.beforeExit = fn;
    };
    const rawCallback = (err: unknown, result?: unknown) => {
      setListener(() => {});
      if (err !== undefined && err !== null) postError(err);
      else if (!waitForEmptyEventLoop || !this.loop.tracking) complete(result);
      else setListener(() => this.loop.runAsRuntime(() => setImmediate(() => complete(result))));
    };
    const done = (err: unknown, result?: unknown) => {
      setListener(() => {});
      if (err !== undefined && err !== null) postError(err);
      else complete(result);
    };
    let finished = false;
    const firstOnly =
      <A extends unknown[]>(fn: (...args: A) => void) =>
      (...args: A) => {
        if (!finished) {
          fn(...args);
          finished = true;
        }
      };
    const callback = firstOnly(rawCallback);
    const callbackContext = {
      get callbackWaitsForEmptyEventLoop() {
        return waitForEmptyEventLoop;
      },
      set callbackWaitsForEmptyEventLoop(value: boolean) {
        waitForEmptyEventLoop = value;
      },
      succeed: firstOnly((result?: unknown) => done(null, result)),
      fail: firstOnly((err?: unknown) => (err === undefined || err === null ? done('handled') : done(err, null))),
      done: firstOnly(done),
    };

    // The default listener: the handler never completed and nothing of the user's is left to run.
    this.beforeExit = () => {
      completeInvoked = true;
      if (this.isAsync) {
        const exitError = new NodeJsExit();
        logError('Invoke Error', exitError);
        finish({ kind: 'error', error: invokeErrorPost(exitError) });
      } else {
        finish({ kind: 'response', contentType: JSON_TYPE, body: Buffer.from('null') });
      }
    };

    // The handler is called from a fresh macrotask, as a method, and without await, as 3.x calls it: its
    // continuations then run from a native microtask checkpoint, so an error thrown after an await in the
    // handler has no runtime frame below the handler's, and an anonymous handler's frame gets a label.
    this.loop.runAsRuntime(() =>
      setImmediate(() => {
        if (this.active !== active) return;
        try {
          const result = this.loop.runAsUser(() =>
            this.handler!(JSON.parse(inv.body.toString('utf8')), attachEnvironmentData(callbackContext, inv, this.env), callback),
          );
          if (isPromise(result)) {
            (result as Promise<unknown>).then(callbackContext.succeed, callbackContext.fail).catch(callbackContext.fail);
          }
        } catch (err) {
          callback(err);
        }
        if (this.active === active) this.armDrain(active);
      }),
    );
  }

  private async runStreaming(inv: Invocation, io: InvokeIO, active: Active): Promise<void> {
    const stream = new ResponseStream((contentType: string): StreamWriter => {
      active.streamOpened = true;
      return this.loop.runAsRuntime(() => io.openStream(contentType));
    }, this.highWaterMark);
    active.stream = stream;
    let waitForEmptyEventLoop = true;
    const streamingContext = {
      get callbackWaitsForEmptyEventLoop() {
        return waitForEmptyEventLoop;
      },
      set callbackWaitsForEmptyEventLoop(value: boolean) {
        waitForEmptyEventLoop = value;
      },
    };
    const fail = async (err: unknown) => {
      logError('Invoke Error', err);
      await stream.fail(err);
    };
    this.beforeExit = () => {};
    try {
      const ctx = attachEnvironmentData(streamingContext, inv, this.env);
      const event = JSON.parse(inv.body.toString('utf8'));
      const handlerResult = this.loop.runAsUser(() => this.handler!(event, stream, ctx));
      if (!isPromise(handlerResult)) {
        await fail('Streaming does not support non-async handlers.');
      } else {
        const result = await handlerResult;
        if (typeof result !== 'undefined') console.warn('Streaming handlers ignore return values.');
        // As in AWS's client: the invocation lasts until the stream has ended, however long after the return.
        await stream.done;
      }
    } catch (err) {
      await fail(err);
    }
    if (this.active !== active) return;
    if (waitForEmptyEventLoop && this.loop.tracking) {
      this.beforeExit = () => active.finish({ kind: 'streamed' });
      this.armDrain(active);
    } else {
      active.finish({ kind: 'streamed' });
    }
  }
}

export function createNodeHost(options: NodeHostOptions): Host {
  return new NodeHost(options);
}
