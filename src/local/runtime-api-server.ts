// The Lambda Runtime API, served locally: what a runtime (our `bootstrap`, or any other) talks to when it
// runs outside Lambda. One server serves one runtime process for its whole life, as one execution
// environment does on Lambda; a fresh runtime (after a timeout or a crash) gets a fresh server.
//
// It queues invocations, hands them out on GET /next with Lambda's headers, takes /response, /error and
// /init/error POSTs (Content-Length or chunked, trailers included), enforces Lambda's payload limits, and
// records every request it saw so tests can compare them byte for byte.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import {
  API_PREFIX,
  HEADER,
  MAX_BUFFERED_PAYLOAD_BYTES,
  MAX_STREAMED_PAYLOAD_BYTES,
  STREAMING_MODE,
} from './wire.ts';

/** One invocation to serve. */
export interface QueuedInvocation {
  body: Buffer;
  /** The `Content-Type` of the event; `null` sends none. Default `application/json`. */
  contentType?: string | null;
  /** Default: a random UUID. */
  requestId?: string;
  /** Milliseconds from the moment /next answers to the deadline. Default 30000. */
  timeoutMs?: number;
  functionArn?: string;
  /** Default: a fresh X-Ray trace header. `''` sends none. */
  traceId?: string;
  /**
   * Extra /next headers, applied after the defaults, names matched case-insensitively: a header of the
   * same name replaces the default, the value `''` removes it, any other is appended.
   */
  headers?: Record<string, string>;
}

/** What the caller of an invocation gets. */
export type InvocationResult =
  | { kind: 'response'; contentType: string | undefined; body: Buffer; streamed: boolean }
  | {
      kind: 'error';
      /** The Lambda error type: the error-type header or trailer, else the body's `errorType`, else `Unhandled`. */
      errorType: string;
      body: Buffer;
      /** Where it came from: the runtime's /error or stream trailers, the init error, or the emulator itself. */
      source: 'runtime' | 'init' | 'platform';
      streamed: boolean;
    };

/** Callbacks for one invocation, for callers that forward a response as it arrives. */
export interface InvocationListener {
  /** The runtime took the invocation (GET /next answered). */
  onStart?(requestId: string): void;
  /** A streaming response began; `headers` as the runtime sent them. */
  onStreamStart?(contentType: string | undefined): void;
  /** A piece of a streaming response. The request is paused until the returned promise settles. */
  onChunk?(chunk: Buffer): void | Promise<void>;
}

/** Every request the runtime made, as it arrived. */
export interface RecordedRequest {
  method: string;
  path: string;
  /** Raw header pairs in arrival order. */
  headers: Array<[string, string]>;
  body: Buffer;
  /** Raw trailer pairs; `null` when the body was not chunked. */
  trailers: Array<[string, string]> | null;
}

export interface PendingInvocation {
  readonly requestId: string;
  readonly result: Promise<InvocationResult>;
}

interface InFlight {
  queued: QueuedInvocation;
  requestId: string;
  invocationId: string | undefined;
  listener: InvocationListener;
  resolve(result: InvocationResult): void;
  result: Promise<InvocationResult>;
  settled: boolean;
}

export interface RuntimeApiServerOptions {
  host?: string;
  port?: number;
  /** Keep every request in `requests` (tests). Bodies of large responses are kept too. */
  record?: boolean;
  /** Send `Lambda-Runtime-Invocation-Id` on /next and answer 410 to a POST that echoes a stale one. */
  invocationIds?: boolean;
  /** Default function ARN for /next. */
  functionArn?: string;
}

const DEFAULT_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:tandem-local';
const JSON_TYPE = 'application/json';

function json(res: http.ServerResponse, status: number, doc: unknown): void {
  const body = Buffer.from(JSON.stringify(doc));
  res.writeHead(status, { 'Content-Type': JSON_TYPE, 'Content-Length': body.length });
  res.end(body);
}

function apiError(res: http.ServerResponse, status: number, errorType: string, errorMessage: string): void {
  json(res, status, { errorMessage, errorType });
}

function newTraceId(): string {
  const hex = (n: number) => randomUUID().replace(/-/g, '').slice(0, n);
  const epoch = Math.floor(Date.now() / 1000).toString(16);
  return `Root=1-${epoch}-${hex(24)};Parent=${hex(16)};Sampled=0`;
}

/** The errorType of a JSON error document, or undefined. */
function errorTypeOf(body: Buffer): string | undefined {
  try {
    const doc = JSON.parse(body.toString('utf8')) as unknown;
    if (doc && typeof doc === 'object' && typeof (doc as { errorType?: unknown }).errorType === 'string') {
      return (doc as { errorType: string }).errorType;
    }
  } catch {
    // not JSON: no type
  }
  return undefined;
}

function firstHeader(pairs: Array<[string, string]>, name: string): string | undefined {
  const lower = name.toLowerCase();
  return pairs.find(([k]) => k.toLowerCase() === lower)?.[1];
}

function pairsOf(raw: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}

export class RuntimeApiServer {
  readonly requests: RecordedRequest[] = [];
  /** The init error the runtime posted, if any. Every later invocation is answered with it. */
  initError: { errorType: string; body: Buffer } | undefined;

  private readonly server: http.Server;
  private readonly queue: InFlight[] = [];
  private readonly parked: http.ServerResponse[] = [];
  private readonly inFlight = new Map<string, InFlight>();
  private readonly answered = new Set<string>();
  private readonly inProgress = new WeakMap<import('node:net').Socket, Promise<void>>();
  private readonly options: RuntimeApiServerOptions;

  private constructor(options: RuntimeApiServerOptions) {
    this.options = options;
    this.server = http.createServer({ keepAliveTimeout: 0, requestTimeout: 0, headersTimeout: 0 }, (req, res) =>
      this.serveInOrder(req, res),
    );
    this.server.keepAliveTimeout = 0;
  }

  static async start(options: RuntimeApiServerOptions = {}): Promise<RuntimeApiServer> {
    const s = new RuntimeApiServer(options);
    await new Promise<void>((resolve, reject) => {
      s.server.once('error', reject);
      s.server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
    });
    return s;
  }

  /** `host:port`, the value for `AWS_LAMBDA_RUNTIME_API`. */
  get address(): string {
    const a = this.server.address() as AddressInfo;
    return `${a.address}:${a.port}`;
  }

  /** Queues an invocation; its result settles when the runtime answers (or `settle` is called). */
  enqueue(queued: QueuedInvocation, listener: InvocationListener = {}): PendingInvocation {
    const requestId = queued.requestId ?? randomUUID();
    let resolve!: (r: InvocationResult) => void;
    const result = new Promise<InvocationResult>((r) => (resolve = r));
    const entry: InFlight = {
      queued,
      requestId,
      invocationId: undefined,
      listener,
      resolve,
      result,
      settled: false,
    };
    if (this.initError) {
      this.finish(entry, { kind: 'error', ...this.initError, source: 'init', streamed: false });
    } else {
      this.queue.push(entry);
      this.dispatch();
    }
    return { requestId, result };
  }

  /** Settles an invocation from outside (a timeout, a runtime that exited). No-op once settled. */
  settle(requestId: string, result: InvocationResult): void {
    const entry = this.inFlight.get(requestId) ?? this.queue.find((e) => e.requestId === requestId);
    if (!entry) return;
    const i = this.queue.indexOf(entry);
    if (i >= 0) this.queue.splice(i, 1);
    this.finish(entry, result);
  }

  /** Settles every queued and in-flight invocation with `result`. */
  settleAll(result: InvocationResult): void {
    for (const e of [...this.inFlight.values(), ...this.queue.splice(0)]) this.finish(e, result);
  }

  /** Request ids handed to the runtime and not answered yet. */
  get inFlightIds(): string[] {
    return [...this.inFlight.keys()];
  }

  async close(): Promise<void> {
    for (const res of this.parked.splice(0)) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private finish(entry: InFlight, result: InvocationResult): void {
    if (entry.settled) return;
    entry.settled = true;
    this.inFlight.delete(entry.requestId);
    this.answered.add(entry.requestId);
    entry.resolve(result);
  }

  private dispatch(): void {
    while (this.queue.length > 0 && this.parked.length > 0 && !this.initError) {
      const entry = this.queue.shift()!;
      const res = this.parked.shift()!;
      if (res.destroyed) {
        this.queue.unshift(entry);
        continue;
      }
      this.serveNext(res, entry);
    }
  }

  private serveNext(res: http.ServerResponse, entry: InFlight): void {
    const q = entry.queued;
    const headers: Array<[string, string]> = [];
    const contentType = q.contentType === undefined ? JSON_TYPE : q.contentType;
    if (contentType !== null) headers.push(['Content-Type', contentType]);
    headers.push([HEADER.requestId, entry.requestId]);
    headers.push([HEADER.deadline, String(Date.now() + (q.timeoutMs ?? 30000))]);
    headers.push([HEADER.functionArn, q.functionArn ?? this.options.functionArn ?? DEFAULT_ARN]);
    const trace = q.traceId ?? newTraceId();
    if (trace !== '') headers.push([HEADER.traceId, trace]);
    if (this.options.invocationIds) {
      entry.invocationId = randomUUID();
      headers.push([HEADER.invocationId, entry.invocationId]);
    }
    for (const [name, value] of Object.entries(q.headers ?? {})) {
      const i = headers.findIndex(([k]) => k.toLowerCase() === name.toLowerCase());
      if (value === '') {
        if (i >= 0) headers.splice(i, 1);
      } else if (i >= 0) {
        headers[i] = [headers[i]![0], value];
      } else {
        headers.push([name, value]);
      }
    }
    headers.push(['Content-Length', String(q.body.length)]);
    this.inFlight.set(entry.requestId, entry);
    res.writeHead(200, headers.flat());
    res.end(q.body);
    entry.listener.onStart?.(entry.requestId);
  }

  private record(req: http.IncomingMessage, body: Buffer, chunked: boolean): void {
    if (!this.options.record) return;
    this.requests.push({
      method: req.method ?? '',
      path: req.url ?? '',
      headers: pairsOf(req.rawHeaders),
      body,
      trailers: chunked ? pairsOf(req.rawTrailers) : null,
    });
  }

  /**
   * Pipelined requests on one connection are handled one after another, each once the previous answer has
   * gone out, as Lambda's Runtime API (a Go server) does: a runtime that sends its POST and the next
   * GET /next in one write is seen posting first. (node:http alone would hand both over at once.)
   */
  private serveInOrder(req: http.IncomingMessage, res: http.ServerResponse): void {
    const socket = req.socket;
    const previous = this.inProgress.get(socket);
    const done = new Promise<void>((resolve) => res.once('close', resolve));
    this.inProgress.set(socket, previous ? previous.then(() => done) : done);
    if (previous) void previous.then(() => this.route(req, res));
    else this.route(req, res);
  }

  private route(req: http.IncomingMessage, res: http.ServerResponse): void {
    res.sendDate = false;
    const url = req.url ?? '';
    if (req.method === 'GET' && url === `${API_PREFIX}/runtime/invocation/next`) {
      this.record(req, Buffer.alloc(0), false);
      if (this.initError) return void this.parkForever(res);
      this.parked.push(res);
      res.on('close', () => {
        const i = this.parked.indexOf(res);
        if (i >= 0) this.parked.splice(i, 1);
      });
      this.dispatch();
      return;
    }
    if (req.method === 'POST' && url === `${API_PREFIX}/runtime/init/error`) {
      return void this.readBody(req, res, undefined, (body, trailers) => {
        this.record(req, body, trailers !== null);
        const pairs = pairsOf(req.rawHeaders);
        const errorType = firstHeader(pairs, HEADER.errorType) ?? errorTypeOf(body) ?? 'Runtime.Unknown';
        if (this.initError) return apiError(res, 403, 'InvalidStateTransition', 'Init error already reported');
        this.initError = { errorType, body };
        json(res, 202, { status: 'OK' });
        this.settleAll({ kind: 'error', errorType, body, source: 'init', streamed: false });
      });
    }
    const m = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(url);
    if (req.method === 'POST' && m) {
      let requestId: string;
      try {
        requestId = decodeURIComponent(m[1]!);
      } catch {
        requestId = m[1]!;
      }
      return void this.post(req, res, requestId, m[2] as 'response' | 'error');
    }
    this.readBody(req, res, undefined, (body, trailers) => {
      this.record(req, body, trailers !== null);
      apiError(res, 404, 'NotFound', `No such Runtime API route: ${req.method} ${url}`);
    });
  }

  /** A runtime whose init failed waits on /next until it is killed, as on Lambda. */
  private parkForever(res: http.ServerResponse): void {
    this.parked.push(res);
    res.on('close', () => {
      const i = this.parked.indexOf(res);
      if (i >= 0) this.parked.splice(i, 1);
    });
  }

  private post(req: http.IncomingMessage, res: http.ServerResponse, requestId: string, kind: 'response' | 'error'): void {
    const entry = this.inFlight.get(requestId);
    const pairs = pairsOf(req.rawHeaders);
    const streaming = kind === 'response' && firstHeader(pairs, HEADER.responseMode) === STREAMING_MODE;
    const mode = firstHeader(pairs, HEADER.responseMode);
    const reject = (status: number, type: string, message: string) =>
      this.readBody(req, res, undefined, (body, trailers) => {
        this.record(req, body, trailers !== null);
        apiError(res, status, type, message);
      });
    if (kind === 'response' && mode !== undefined && mode !== STREAMING_MODE) {
      if (entry) {
        const body = Buffer.from(JSON.stringify({ errorMessage: `Invalid response mode: ${mode}`, errorType: 'Runtime.InvalidResponseModeHeader' }));
        this.finish(entry, { kind: 'error', errorType: 'Runtime.InvalidResponseModeHeader', body, source: 'platform', streamed: false });
      }
      return reject(400, 'InvalidFunctionResponseMode', `Invalid response mode: ${mode}`);
    }
    if (!entry) {
      if (this.answered.has(requestId)) return reject(403, 'InvalidStateTransition', 'Response already sent for this invocation');
      return reject(400, 'InvalidRequestID', `Invalid request ID: ${requestId}`);
    }
    const echoed = firstHeader(pairs, HEADER.invocationId);
    if (entry.invocationId !== undefined && echoed !== undefined && echoed !== entry.invocationId) {
      return reject(410, 'InvokeTimeout', 'The invocation id does not match the current attempt');
    }
    const contentType = firstHeader(pairs, 'content-type');
    if (streaming) entry.listener.onStreamStart?.(contentType);
    const limit = streaming ? MAX_STREAMED_PAYLOAD_BYTES : MAX_BUFFERED_PAYLOAD_BYTES;
    this.readBody(req, res, streaming ? entry.listener : undefined, (body, trailers, overLimit) => {
      this.record(req, body, trailers !== null);
      if (overLimit) {
        const errorType = 'Function.ResponseSizeTooLarge';
        const message = `Response payload size exceeded maximum allowed payload size (${limit} bytes).`;
        const doc = Buffer.from(JSON.stringify({ errorMessage: message, errorType }));
        this.finish(entry, { kind: 'error', errorType, body: doc, source: 'platform', streamed: streaming });
        return apiError(res, 413, 'RequestEntityTooLarge', `Exceeded maximum allowed payload size (${limit} bytes).`);
      }
      if (kind === 'error') {
        const errorType = firstHeader(pairs, HEADER.errorType) ?? errorTypeOf(body) ?? 'Unhandled';
        this.finish(entry, { kind: 'error', errorType, body, source: 'runtime', streamed: false });
      } else {
        const tr = trailers ?? [];
        const trailerType = firstHeader(tr, HEADER.errorType);
        if (trailerType !== undefined) {
          const encoded = firstHeader(tr, HEADER.errorBody);
          const errBody = encoded !== undefined ? Buffer.from(encoded, 'base64') : Buffer.alloc(0);
          this.finish(entry, { kind: 'error', errorType: trailerType, body: errBody, source: 'runtime', streamed: true });
        } else {
          this.finish(entry, { kind: 'response', contentType, body, streamed: streaming });
        }
      }
      json(res, 202, { status: 'OK' });
    });
  }

  /**
   * Reads a request body (Content-Length or chunked) up to the limit. With a listener, each chunk is also
   * forwarded as it arrives and the request is paused until the listener is done with it. Past the limit the
   * rest is read and dropped, so the connection stays usable.
   */
  private readBody(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    listener: InvocationListener | undefined,
    done: (body: Buffer, trailers: Array<[string, string]> | null, overLimit: boolean) => void,
    limit = listener ? MAX_STREAMED_PAYLOAD_BYTES : MAX_BUFFERED_PAYLOAD_BYTES,
  ): void {
    const chunked = /chunked/i.test(String(req.headers['transfer-encoding'] ?? ''));
    const parts: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        over = true;
        parts.length = 0;
        return;
      }
      if (!over) {
        if (this.options.record || !listener?.onChunk) parts.push(chunk);
        const p = listener?.onChunk?.(chunk);
        if (p && typeof (p as Promise<void>).then === 'function') {
          req.pause();
          (p as Promise<void>).then(
            () => req.resume(),
            () => req.resume(),
          );
        }
      }
    });
    req.on('end', () => done(over ? Buffer.alloc(0) : Buffer.concat(parts), chunked ? pairsOf(req.rawTrailers) : null, over));
    req.on('error', () => res.destroy());
  }
}
