// The Node host: runs a Node handler in the runtime's own process, as AWS's Node client runs it (aws-lambda-ric
// 3.3.0, the client of nodejs20.x/22.x; in Lambda Managed Instances mode, what its 4.x client adds for that
// mode). It owns the init phase (console, the `awslambda` global, loading the handler), which way each
// invocation answers (buffered-invocation.ts, streaming-invocation.ts) and where an uncaught error goes. The
// router's loop owns the Runtime API and posts what `invoke` answers.
import type { Host, InitOutcome, Invocation, InvokeIO, InvokeOutcome, ErrorPost } from '../runtime/types.ts';
import { loadHandler, type HandlerFunction } from './handler-loader.ts';
import { UnhandledPromiseRejection, toRapidResponse } from './errors.ts';
import { logError, patchConsole, setCurrentRequestId, setCurrentTenantId } from './log-patch.ts';
import { EmptyLoop } from './event-loop.ts';
import { installAwsLambdaGlobal, streamingMode } from './awslambda-global.ts';
import { installPythonGlobal, type PythonCaller } from './python-bridge.ts';
import { createInvokeStore, invokeScope, type InvokeStore } from './invoke-store.ts';
import { invokeBuffered, invokeErrorPost } from './buffered-invocation.ts';
import { invokeStreaming } from './streaming-invocation.ts';
import { JSON_CONTENT_TYPE, RunningInvocation, type InvocationHost } from './invocation.ts';

export interface NodeHostOptions {
  taskRoot: string;
  /** The handler without any `node:` prefix, e.g. `index.handler`. */
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

const EXIT_UNCAUGHT = 129;
const EXIT_UNHANDLED_REJECTION = 128;
/** Node's exit code for a top-level await that never settled: init can never end. */
const EXIT_UNSETTLED = 13;
const MAX_CONCURRENCY = 'AWS_LAMBDA_MAX_CONCURRENCY';

function initErrorPost(err: unknown): ErrorPost {
  const doc = toRapidResponse(err);
  return { body: Buffer.from(JSON.stringify(doc)), errorType: doc.errorType, contentType: JSON_CONTENT_TYPE };
}

/**
 * Named `Runtime`, and holding the user's function as its `handler`, because V8 labels the handler's stack
 * frame with the caller's class and property: `at Runtime.handler (...)`, as under AWS's client.
 */
class Runtime implements Host, InvocationHost {
  /** The user's function; called as `this.handler(...)` (see the class comment). */
  handler: HandlerFunction = () => undefined;
  readonly env: NodeJS.ProcessEnv;
  readonly concurrent: boolean;
  readonly loop: EmptyLoop | undefined;
  handlerIsAsync = false;
  handlerTakesCallback = false;
  private streaming = false;
  private highWaterMark: number | undefined;
  private store: InvokeStore | undefined;
  private readonly running = new Set<RunningInvocation>();
  private initFail: ((outcome: InitOutcome) => void) | undefined;
  private fatal = false;

  constructor(private readonly options: NodeHostOptions) {
    this.env = options.env ?? process.env;
    // Lambda Managed Instances mode whenever the variable is set, as AWS's 4.x client and Powertools decide.
    this.concurrent = this.env[MAX_CONCURRENCY] !== undefined;
    this.loop = this.concurrent ? undefined : new EmptyLoop();
  }

  async init(): Promise<InitOutcome> {
    // process.stdout/stderr are made on first use: make them now, as the runtime's.
    void process.stdout;
    void process.stderr;
    if (this.concurrent) this.store = await createInvokeStore();
    patchConsole(this.env, this.store);
    this.installProcessListeners();
    installPythonGlobal(this.loop, this.options.python);
    return new Promise<InitOutcome>((resolve) => {
      this.initFail = resolve;
      // Init can never end: the module's top-level await waits for something that nothing will do. Node
      // itself would end with its code for that; say why on stderr, as it does.
      this.loop?.set(() => {
        process.stderr.write(`tandem: loading ${this.options.handler} never finished (a top-level await nothing settles)\n`);
        this.failInit(undefined, EXIT_UNSETTLED);
      });
      loadHandler(this.options.taskRoot, this.options.handler, () => installAwsLambdaGlobal(this.env, this.store))
        .then((fn) => {
          const mode = streamingMode(fn);
          this.handler = fn;
          this.streaming = mode.streaming;
          this.highWaterMark = mode.highWaterMark;
          this.handlerIsAsync = fn.constructor?.name === 'AsyncFunction';
          this.handlerTakesCallback = fn.length >= 3;
          // AWS's client asks for the first invocation one macrotask later; until then an uncaught exception
          // or unhandled rejection (a rejected promise left at module scope) is still an init error.
          setImmediate(() => {
            if (!this.initFail) return;
            this.initFail = undefined;
            this.loop?.reset();
            resolve({ ok: true });
          });
        })
        .catch((err: unknown) => {
          // AWS: a load error surfaces as an uncaught exception of the init phase.
          logError('Uncaught Exception', err);
          this.failInit(err, EXIT_UNCAUGHT);
        });
    });
  }

  invoke(inv: Invocation, io: InvokeIO): Promise<InvokeOutcome> {
    return new Promise<InvokeOutcome>((resolve) => {
      const run = new RunningInvocation(inv, (outcome) => {
        this.running.delete(run);
        this.loop?.reset();
        resolve(outcome);
      });
      this.running.add(run);
      if (!this.concurrent) {
        // AWS's global ids, which log lines carry with one invocation at a time.
        setCurrentRequestId(inv.requestId);
        setCurrentTenantId(inv.tenantId);
      }
      if (this.streaming) invokeStreaming(this, run, io, this.highWaterMark);
      else invokeBuffered(this, run);
    });
  }

  callHandler(run: RunningInvocation, a: unknown, b: unknown, c?: unknown): unknown {
    if (!this.store) return this.handler(a, b, c);
    return this.store.run(invokeScope(run.inv), () => this.handler(a, b, c));
  }

  async shutdown(): Promise<void> {
    this.loop?.reset();
  }

  private failInit(err: unknown, code: number): void {
    const fail = this.initFail;
    if (!fail) return;
    this.initFail = undefined;
    this.loop?.reset();
    fail({ ok: false, ...(err === undefined ? {} : { error: initErrorPost(err) }), exit: { code, signal: null } });
  }

  private installProcessListeners(): void {
    this.loop?.listen();
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

  /** The invocation an uncaught error belongs to: the one running, or in Managed Instances mode the store's. */
  private owner(): RunningInvocation | undefined {
    if (!this.store) return this.running.values().next().value;
    const id = this.store.getRequestId();
    for (const run of this.running) if (run.inv.requestId === id) return run;
    return this.running.size === 1 ? this.running.values().next().value : undefined;
  }

  /**
   * An uncaught exception or unhandled rejection ends the runtime, as under AWS's 3.x client: reported as the
   * init error, or as the error of the invocation it belongs to (a stream already open ends with trailers).
   * Other invocations still running get no answer: the runtime's exit fails them.
   */
  private onFatal(error: unknown, code: number): void {
    if (this.fatal) return;
    this.fatal = true;
    if (this.initFail) {
      this.failInit(error, code);
      return;
    }
    const run = this.owner();
    if (!run) {
      (this.options.exit ?? ((c: number) => process.exit(c)))(code);
      return;
    }
    const exit = { code, signal: null };
    const sink = run.sink;
    if (sink?.opened) {
      const died = () => run.finish({ kind: 'died', exit });
      sink.fail(error).then(died, died);
    } else {
      run.finish({ kind: 'error', error: invokeErrorPost(error), exit });
    }
  }
}

export function createNodeHost(options: NodeHostOptions): Host {
  return new Runtime(options);
}
