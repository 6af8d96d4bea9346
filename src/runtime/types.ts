// The shapes that cross module boundaries inside the runtime: what GET /next delivers, what a host answers,
// and the two narrow interfaces (Runtime API, hosts) the invocation loop is written against. Hosts know
// nothing of HTTP; the Runtime API client knows nothing of hosts; the loop and the router join them.

/** One invocation as `GET /next` delivered it. Header values are trimmed; an absent or empty header is undefined. */
export interface Invocation {
  requestId: string;
  /** Epoch ms from `Lambda-Runtime-Deadline-Ms`; 0 when the header is absent or not a number (as awslambdaric). */
  deadlineMs: number;
  /** `Lambda-Runtime-Invoked-Function-Arn`; '' when absent. */
  functionArn: string;
  traceId?: string;
  clientContext?: string;
  cognitoIdentity?: string;
  tenantId?: string;
  /** `Lambda-Runtime-Invocation-Id` (2026): echoed on this invocation's POSTs when present. */
  invocationId?: string;
  contentType?: string;
  /** The event bytes, untouched. */
  body: Buffer;
  /**
   * The same bytes as the socket reads they arrived in, when there were several: a host that only passes
   * the event on (the Python host) sends these, and `body` (joined on first use) is never made.
   */
  bodyParts?: readonly Buffer[];
}

/** What the Runtime API answered to a POST. */
export interface PostOutcome {
  status: number;
  body: Buffer;
}

/** An error document to post to `/error` or `/init/error`, with the headers that go with it. */
export interface ErrorPost {
  /** The JSON error document, exact bytes. */
  body: Uint8Array;
  /** Sent as `Lambda-Runtime-Function-Error-Type` when given. */
  errorType?: string;
  /** Sent as `Content-Type` when given (AWS's Python runtime: `application/json` on invoke errors, none on init errors). */
  contentType?: string;
  /** Sent as `Lambda-Runtime-Function-XRay-Error-Cause` when given and non-empty. */
  xrayCause?: string;
}

/** The body of one streaming response POST. Writes resolve when the bytes were handed to the socket without backpressure. */
export interface StreamWriter {
  write(chunk: Body): Promise<void>;
  /** Ends the stream normally and resolves with the Runtime API's answer. */
  end(): Promise<PostOutcome>;
  /** Ends the stream with the error trailers (`…-Error-Type`, `…-Error-Body` as base64 of `errorBody`). */
  fail(errorType: string, errorBody: Uint8Array): Promise<PostOutcome>;
}

/** A buffered body: one buffer, or pieces sent one after another without being joined (a large result). */
export type Body = Uint8Array | readonly Uint8Array[];

/** Options of a buffered POST. */
export interface PostOptions {
  /**
   * Send `GET /next` in the same write, right behind the POST (HTTP pipelining); the next `next()` call
   * takes its answer. Only when the caller will ask for the next invocation anyway (one loop, no exit).
   */
  pipelineNext?: boolean;
}

/** The Runtime API, one function per endpoint. Implemented on node:net in runtime-api-client.ts. */
export interface RuntimeApi {
  next(): Promise<Invocation>;
  postResponse(inv: Invocation, contentType: string, body: Body, options?: PostOptions): Promise<PostOutcome>;
  postError(inv: Invocation, error: ErrorPost, options?: PostOptions): Promise<PostOutcome>;
  postInitError(error: ErrorPost): Promise<PostOutcome>;
  /** Opens a streaming response POST (`Lambda-Runtime-Function-Response-Mode: streaming`, chunked, trailers declared). */
  openStream(inv: Invocation, contentType: string): StreamWriter;
  close(): void;
}

/** How a process ended: exactly one of code and signal is non-null. */
export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * `ok: false`: post `error` to `/init/error` (when given; a process that died during init posts nothing,
 * as AWS's runtime does on `sys.exit` at import), then end the runtime with `exit`.
 */
export type InitOutcome = { ok: true } | { ok: false; error?: ErrorPost; exit: ExitStatus };

export type InvokeOutcome =
  /** A buffered success: post the body as is. */
  | { kind: 'response'; contentType: string; body: Body }
  /**
   * A buffered failure: post to `/error`. With `exit` (the Node host after an uncaught exception or unhandled
   * rejection, as aws-lambda-ric 3.x does), end the runtime with that status once the post is answered,
   * without asking for another invocation.
   */
  | { kind: 'error'; error: ErrorPost; exit?: ExitStatus }
  /** The host streamed the response itself through `InvokeIO.openStream` and has ended that stream. */
  | { kind: 'streamed' }
  /** The process running the handler died: post nothing more, end the runtime with this status. */
  | { kind: 'died'; exit: ExitStatus };

/** What a host may do to the invocation besides returning an outcome. */
export interface InvokeIO {
  openStream(contentType: string): StreamWriter;
}

/** A language host: Python (worker pool) or Node (in-process). */
export interface Host {
  /** Loads the handler (Lambda's init phase). */
  init(): Promise<InitOutcome>;
  invoke(inv: Invocation, io: InvokeIO): Promise<InvokeOutcome>;
  /** Stops workers and releases resources; safe to call more than once. */
  shutdown(): Promise<void>;
}
