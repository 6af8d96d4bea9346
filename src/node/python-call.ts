// The `python()` call API shared by the runtime's `tandem` global and the `tandem-lambda` package: validates
// the function name, encodes the payload as JSON bytes, passes the Lambda context on, decodes the JSON result,
// and turns a Python exception into a PythonError (type, message and stack trace from the Python side).

/** The context a call carries to Python (the protocol's `call.context`). */
export interface PythonCallContext {
  requestId?: string;
  deadlineMs?: number;
  functionArn?: string;
  traceId?: string;
  tenantId?: string;
}

/** What a worker answers to a `call` (the same shape as src/python's CallOutcome). */
export type PythonCallResult =
  | { kind: 'result'; contentType: string; body: Uint8Array }
  | { kind: 'error'; errorType: string; body: Uint8Array };

/** Whatever runs the call in a Python worker (the runtime's PythonPool). */
export interface PythonCaller {
  call(fn: string, body: Uint8Array, context?: PythonCallContext): Promise<PythonCallResult>;
}

/** The part of a Lambda context object a call reads. */
export interface LambdaContextLike {
  awsRequestId?: string;
  invokedFunctionArn?: string;
  tenantId?: string;
  getRemainingTimeInMillis?: () => number;
}

export interface PythonCallOptions {
  /** The handler's context: its request id, deadline, ARN and tenant reach the Python function's context. */
  context?: LambdaContextLike;
}

export type PythonFunction<In = unknown, Out = unknown> = (payload?: In, options?: PythonCallOptions) => Promise<Out>;

const BRAND = Symbol.for('tandem.PythonError');

/** A Python exception raised by the called function. `instanceof` works across copies of this package. */
export class PythonError extends Error {
  /** The Python exception's type, e.g. `ValueError`. */
  readonly errorType: string;
  readonly errorMessage: string;
  /** The Python traceback lines, as the worker reported them. */
  readonly stackTrace: string[];
  /** The function that was called. */
  readonly fn: string;
  /** The raw error document from the worker. */
  readonly body: unknown;

  constructor(fn: string, errorType: string, errorMessage: string, stackTrace: string[], body: unknown) {
    super(`${errorType}: ${errorMessage}`);
    this.errorType = errorType;
    this.errorMessage = errorMessage;
    this.stackTrace = stackTrace;
    this.fn = fn;
    this.body = body;
    Object.defineProperty(this, BRAND, { value: true });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return Boolean(value && typeof value === 'object' && (value as Record<symbol, unknown>)[BRAND] === true);
  }
}
PythonError.prototype.name = 'PythonError';

const FN_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/;

/** Throws a TypeError unless `fn` looks like `module.function` or `pkg.module.function`. */
export function checkFunctionName(fn: unknown): asserts fn is string {
  if (typeof fn !== 'string' || !FN_NAME.test(fn)) {
    throw new TypeError(
      `python(): expected a dotted Python name like 'module.function' or 'pkg.module.function', got ${JSON.stringify(fn)}`,
    );
  }
}

function contextFor(ctx: LambdaContextLike | undefined, env: NodeJS.ProcessEnv): PythonCallContext | undefined {
  if (!ctx) return undefined;
  const out: PythonCallContext = {};
  if (typeof ctx.awsRequestId === 'string') out.requestId = ctx.awsRequestId;
  if (typeof ctx.getRemainingTimeInMillis === 'function') out.deadlineMs = Date.now() + ctx.getRemainingTimeInMillis();
  if (typeof ctx.invokedFunctionArn === 'string') out.functionArn = ctx.invokedFunctionArn;
  if (typeof ctx.tenantId === 'string') out.tenantId = ctx.tenantId;
  const trace = env['_X_AMZN_TRACE_ID'];
  if (trace) out.traceId = trace;
  return out;
}

function utf8(body: Uint8Array): string {
  return (Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength)).toString('utf8');
}

function decodeError(fn: string, errorType: string, body: Uint8Array): PythonError {
  const text = utf8(body);
  let doc: unknown = text;
  try {
    doc = JSON.parse(text);
  } catch {
    // not JSON: keep the text as the message
  }
  const d = (doc && typeof doc === 'object' ? doc : {}) as { errorType?: unknown; errorMessage?: unknown; stackTrace?: unknown };
  const type = typeof d.errorType === 'string' ? d.errorType : errorType;
  const message = typeof d.errorMessage === 'string' ? d.errorMessage : typeof doc === 'string' ? doc : '';
  const trace = Array.isArray(d.stackTrace) ? d.stackTrace.map(String) : [];
  return new PythonError(fn, type, message, trace, doc);
}

/** Builds `python(fn)` over a caller obtained lazily (the pool starts on the first call, not before). */
export function makePython(getCaller: () => PythonCaller, env: NodeJS.ProcessEnv = process.env, onCreate?: () => void) {
  return function python<In = unknown, Out = unknown>(fn: string): PythonFunction<In, Out> {
    checkFunctionName(fn);
    onCreate?.();
    return async (payload?: In, options?: PythonCallOptions): Promise<Out> => {
      let json: string | undefined;
      try {
        json = JSON.stringify(payload === undefined ? null : payload);
      } catch (err) {
        throw new TypeError(`python('${fn}'): the payload is not JSON-serialisable: ${(err as Error).message}`);
      }
      const result = await getCaller().call(fn, Buffer.from(json ?? 'null'), contextFor(options?.context, env));
      if (result.kind === 'error') throw decodeError(fn, result.errorType, result.body);
      const text = utf8(result.body);
      return (text === '' ? undefined : JSON.parse(text)) as Out;
    };
  };
}
