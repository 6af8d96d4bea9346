// The Lambda Runtime API client (RuntimeApi from types.ts) on node:net: keep-alive connections with
// TCP_NODELAY (one in single-concurrency mode), no timeout on GET /next, request ids URL-encoded, every
// /next header read, POST headers as AWS's Python runtime sends them, and the streaming response POST
// (chunked, declared trailers, error trailers on failure, writes that honour socket backpressure).
// It knows nothing of hosts: it returns what the Runtime API answered and leaves policy to the loop.
import { ACCEPTED } from './accepted.ts';
import { Connection } from './connection.ts';
import { HttpProtocolError, RuntimeApiError, errorMessageOf } from './errors.ts';
import { bodyLength, checkHeaderValue, isValidHeaderValue, requestHead, writeChunk, writeLastChunk, writeRequest, type HttpResponse } from './http1.ts';
import type { Body, ErrorPost, Invocation, PostOptions, PostOutcome, RuntimeApi, StreamWriter } from './types.ts';
import { HEADER, LC, PATH_INIT_ERROR, PATH_INVOCATION, PATH_NEXT, STREAMING_MODE, USER_AGENT } from './wire.ts';

const UA_LINE = `${HEADER.userAgent}: ${USER_AGENT}\r\n`;
const TRAILER_LINE = `${HEADER.trailer}: ${HEADER.errorType}, ${HEADER.errorBody}\r\n`;
const STREAM_LINES = `${HEADER.responseMode}: ${STREAMING_MODE}\r\n${HEADER.transferEncoding}: chunked\r\n${TRAILER_LINE}`;

/** Parses `AWS_LAMBDA_RUNTIME_API` (`host:port`, `[v6]:port`). */
export function parseRuntimeApiAddress(address: string): { host: string; port: number; hostHeader: string } {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]/\s]+)):(\d{1,5})$/.exec(address);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 1 || port > 65535) {
    throw new RuntimeApiError(`AWS_LAMBDA_RUNTIME_API must be host:port, got ${JSON.stringify(address)}`);
  }
  return { host: m[1] ?? m[2]!, port, hostHeader: address };
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

/** Epoch ms from the deadline header; 0 when absent or not 1 to 16 decimal digits. */
export function parseDeadline(v: string | undefined): number {
  if (v === undefined || v.length === 0 || v.length > 16) return 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 48 || c > 57) return 0;
  }
  return Number(v);
}

function invocationLine(inv: Invocation): string {
  const id = inv.invocationId;
  return id !== undefined && isValidHeaderValue(id) ? `${HEADER.invocationId}: ${id}\r\n` : '';
}

function outcome(res: HttpResponse): PostOutcome {
  return { status: res.status, body: res.body };
}

/** The invocation a GET /next answer carries; a RuntimeApiError for any other answer. */
function invocationFrom(res: HttpResponse): Invocation {
  if (res.status !== 200) {
    throw new RuntimeApiError(`GET /next answered ${res.status}: ${res.body.toString('utf8', 0, 512)}`, { status: res.status });
  }
  const requestId = res.headers.get(LC.requestId);
  if (!requestId) throw new RuntimeApiError(`GET /next answered without ${HEADER.requestId}`, { status: res.status });
  return new NextInvocation(res, requestId);
}

const NEXT_HEAD_LINES = UA_LINE;

/**
 * An invocation from a `/next` answer. `body` is the answer's body, joined on first use when it came in
 * several reads; `bodyParts` are those reads (a host that passes the event on sends them as they are).
 */
class NextInvocation implements Invocation {
  readonly deadlineMs: number;
  readonly functionArn: string;
  readonly traceId: string | undefined;
  readonly clientContext: string | undefined;
  readonly cognitoIdentity: string | undefined;
  readonly tenantId: string | undefined;
  readonly invocationId: string | undefined;
  readonly contentType: string | undefined;
  readonly bodyParts: readonly Buffer[] | undefined;

  constructor(
    private readonly res: HttpResponse,
    readonly requestId: string,
  ) {
    const h = res.headers;
    this.deadlineMs = parseDeadline(h.get(LC.deadline));
    this.functionArn = h.get(LC.functionArn) ?? '';
    this.traceId = nonEmpty(h.get(LC.traceId));
    this.clientContext = nonEmpty(h.get(LC.clientContext));
    this.cognitoIdentity = nonEmpty(h.get(LC.cognitoIdentity));
    this.tenantId = nonEmpty(h.get(LC.tenantId));
    this.invocationId = nonEmpty(h.get(LC.invocationId));
    this.contentType = nonEmpty(h.get(LC.contentType));
    this.bodyParts = res.parts.length > 1 ? res.parts : undefined;
  }

  get body(): Buffer {
    return this.res.body;
  }
}

export class RuntimeApiClient implements RuntimeApi {
  private readonly host: string;
  private readonly port: number;
  private readonly hostHeader: string;
  private readonly idle: Connection[] = [];
  private readonly all = new Set<Connection>();
  private closed = false;
  /** A pipelined GET /next already sent, and its connection. */
  private prefetched: { answer: Promise<HttpResponse>; conn: Connection } | undefined;
  /** The GET /next request, whole (the same bytes every time). */
  private readonly nextRequest: Buffer;

  constructor(address: string) {
    const a = parseRuntimeApiAddress(address);
    this.host = a.host;
    this.port = a.port;
    this.hostHeader = a.hostHeader;
    this.nextRequest = Buffer.from(requestHead('GET', PATH_NEXT, this.hostHeader, NEXT_HEAD_LINES), 'utf8');
  }

  /** Opens a connection ahead of the first request (overlaps the TCP handshake with init). */
  preconnect(): void {
    if (this.idle.length === 0 && !this.closed) this.idle.push(this.open());
  }

  next(): Promise<Invocation> {
    // The pipelined GET /next's answer, when one was sent: one promise step from the socket to the loop.
    const p = this.prefetched;
    if (p) {
      this.prefetched = undefined;
      return p.answer.then(
        (res) => {
          this.release(p.conn);
          return invocationFrom(res);
        },
        (err: unknown) => {
          // Failed before any byte of its answer (the connection was closed): ask again.
          if (err instanceof RuntimeApiError && err.beforeResponse && !(err instanceof HttpProtocolError)) return this.next();
          throw err;
        },
      );
    }
    return this.send('GET', PATH_NEXT, NEXT_HEAD_LINES, undefined).then(invocationFrom);
  }

  postResponse(inv: Invocation, contentType: string, body: Body, options?: PostOptions): Promise<PostOutcome> {
    let lines: string;
    try {
      lines = this.responseLines(contentType) + invocationLine(inv) + `${HEADER.contentLength}: ${bodyLength(body)}\r\n`;
    } catch (err) {
      return Promise.reject(err);
    }
    // The parsed answer is a PostOutcome as it is (status, body): no step to copy it.
    return this.send('POST', this.invocationPath(inv, 'response'), lines, body, options?.pipelineNext === true);
  }

  /** The last response content type and its header lines (a function answers with the same one, mostly). */
  private lastContentType: [string, string] | undefined;

  private responseLines(contentType: string): string {
    const last = this.lastContentType;
    if (last !== undefined && last[0] === contentType) return last[1];
    const lines = `${HEADER.contentType}: ${checkHeaderValue(HEADER.contentType, contentType)}\r\n${UA_LINE}`;
    this.lastContentType = [contentType, lines];
    return lines;
  }

  async postError(inv: Invocation, error: ErrorPost, options?: PostOptions): Promise<PostOutcome> {
    const lines = this.errorLines(error) + invocationLine(inv) + `${HEADER.contentLength}: ${error.body.length}\r\n`;
    return outcome(await this.send('POST', this.invocationPath(inv, 'error'), lines, error.body, options?.pipelineNext === true));
  }

  async postInitError(error: ErrorPost): Promise<PostOutcome> {
    const lines = this.errorLines(error) + `${HEADER.contentLength}: ${error.body.length}\r\n`;
    return outcome(await this.send('POST', PATH_INIT_ERROR, lines, error.body));
  }

  openStream(inv: Invocation, contentType: string): StreamWriter {
    const lines =
      `${HEADER.contentType}: ${checkHeaderValue(HEADER.contentType, contentType)}\r\n` +
      UA_LINE +
      STREAM_LINES +
      invocationLine(inv);
    const conn = this.acquire();
    const response = conn.expect();
    // The head waits (corked) for the first chunk, to leave with it in one segment; at the latest it
    // leaves at the end of this tick.
    conn.socket.cork();
    writeRequest(conn.socket, requestHead('POST', this.invocationPath(inv, 'response'), this.hostHeader, lines), undefined);
    return new ChunkedStream(conn, response, (c) => this.release(c));
  }

  close(): void {
    this.closed = true;
    this.prefetched = undefined;
    for (const c of this.all) c.destroy();
    this.all.clear();
    this.idle.length = 0;
  }

  private invocationPath(inv: Invocation, what: 'response' | 'error'): string {
    return `${PATH_INVOCATION}${encodeURIComponent(inv.requestId)}/${what}`;
  }

  private errorLines(error: ErrorPost): string {
    let lines = '';
    if (error.contentType !== undefined) lines += `${HEADER.contentType}: ${checkHeaderValue(HEADER.contentType, error.contentType)}\r\n`;
    if (error.errorType !== undefined && error.errorType !== '' && isValidHeaderValue(error.errorType)) {
      lines += `${HEADER.errorType}: ${error.errorType}\r\n`;
    }
    if (error.xrayCause !== undefined && error.xrayCause !== '' && isValidHeaderValue(error.xrayCause)) {
      lines += `${HEADER.xrayCause}: ${error.xrayCause}\r\n`;
    }
    return lines + UA_LINE;
  }

  private open(): Connection {
    const c = new Connection(this.host, this.port);
    this.all.add(c);
    c.socket.once('close', () => this.all.delete(c));
    return c;
  }

  private acquire(): Connection {
    if (this.closed) throw new RuntimeApiError('the Runtime API client is closed', { beforeResponse: true });
    for (;;) {
      const c = this.idle.pop();
      if (!c) return this.open();
      if (!c.closed) return c;
    }
  }

  private release(c: Connection): void {
    if (!c.closed && c.idle && !this.closed) this.idle.push(c);
  }

  /**
   * One request, one answer. A request that fails on a reused connection before any byte of the answer
   * arrived (the server closed an idle keep-alive connection) is sent once more on a fresh connection.
   * With `thenNext`, a GET /next follows the request in the same write (its answer is kept for `next()`).
   */
  private async send(method: string, path: string, lines: string, body: Body | undefined, thenNext = false): Promise<HttpResponse> {
    const head = requestHead(method, path, this.hostHeader, lines);
    for (let attempt = 0; ; attempt++) {
      const conn = this.acquire();
      const reused = conn.served > 0;
      const answer = conn.expect();
      if (thenNext && !this.prefetched) {
        const next = conn.expect();
        next.catch(() => undefined);
        writeRequest(conn.socket, head, body, this.nextRequest);
        this.prefetched = { answer: next, conn };
      } else {
        writeRequest(conn.socket, head, body);
      }
      try {
        const res = await answer;
        this.release(conn);
        return res;
      } catch (err) {
        conn.destroy();
        const retry =
          attempt === 0 && reused && err instanceof RuntimeApiError && err.beforeResponse && !(err instanceof HttpProtocolError);
        if (!retry) {
          if (err instanceof RuntimeApiError) throw err;
          throw new RuntimeApiError(`${method} ${path} failed: ${errorMessageOf(err)}`, { cause: err });
        }
        if (this.prefetched?.conn === conn) this.prefetched = undefined;
      }
    }
  }
}

const HEX = Buffer.from('0123456789abcdef', 'latin1');

/** Small chunks written in one tick are gathered into one buffer up to this size. */
const BATCH_BYTES = 64 * 1024;
/** Chunks at least this large are written on their own (no copy into a batch). */
const BATCH_CHUNK_MAX = 4 * 1024;

/**
 * The body of one streaming response POST on its connection. The first chunk leaves at once (time to
 * first byte). Later small chunks written in the same event-loop turn (the frames of the worker pipe's
 * reads) are framed into one buffer and leave in one write after that turn's I/O (or at 64 KiB):
 * a burst of tokens costs one syscall and one TCP segment, and no Buffer or stream write per chunk.
 * Large chunks are written as they are (no copy), after whatever is gathered.
 */
class ChunkedStream implements StreamWriter {
  private done = false;
  private started = false;
  private batch: Buffer | undefined;
  private batchLen = 0;
  private flushQueued = false;

  constructor(
    private readonly conn: Connection,
    private readonly response: Promise<HttpResponse>,
    private readonly release: (c: Connection) => void,
  ) {
    // The answer may fail before end() is awaited; it is reported there.
    response.catch(() => undefined);
    this.flush = this.flush.bind(this);
    this.releaseHead = this.releaseHead.bind(this);
    process.nextTick(this.releaseHead);
  }

  private headCorked = true;

  /** Lets the corked head (and the first chunk, when written) leave. */
  private releaseHead(): void {
    if (!this.headCorked) return;
    this.headCorked = false;
    this.conn.socket.uncork();
  }

  write(chunk: Body): Promise<void> {
    if (this.done || this.conn.closed) return ACCEPTED;
    const n = chunk instanceof Uint8Array ? chunk.length : BATCH_CHUNK_MAX + 1;
    if (n === 0) return ACCEPTED;
    const socket = this.conn.socket;
    if (!this.started) {
      this.started = true;
      writeChunk(socket, chunk);
      this.releaseHead();
      return socket.writableNeedDrain ? this.conn.whenDrained() : ACCEPTED;
    }
    if (n > BATCH_CHUNK_MAX) {
      this.flush();
      return writeChunk(socket, chunk) ? ACCEPTED : this.conn.whenDrained();
    }
    // Framed: hex size, CRLF, data, CRLF.
    const need = n.toString(16).length + 4 + n;
    if (this.batch !== undefined && this.batchLen + need > this.batch.length) {
      this.flush();
      // What is left of the buffer may be too small for this chunk: start a new one.
      if (this.batch !== undefined && need > this.batch.length) this.batch = undefined;
    }
    if (this.batch === undefined) {
      this.batch = Buffer.allocUnsafe(BATCH_BYTES);
      this.batchLen = 0;
    }
    const b = this.batch;
    let p = this.batchLen;
    // The size in hex (n <= 4096: at most 4 digits).
    for (let shift = n >= 0x1000 ? 12 : n >= 0x100 ? 8 : n >= 0x10 ? 4 : 0; shift >= 0; shift -= 4) b[p++] = HEX[(n >> shift) & 15]!;
    b[p++] = 13;
    b[p++] = 10;
    b.set(chunk as Uint8Array, p);
    p += n;
    b[p++] = 13;
    b[p++] = 10;
    this.batchLen = p;
    if (!this.flushQueued) {
      // After this turn's I/O callbacks: every frame of every pipe read of this turn leaves in one write.
      this.flushQueued = true;
      setImmediate(this.flush);
    }
    return socket.writableNeedDrain ? this.conn.whenDrained() : ACCEPTED;
  }

  end(): Promise<PostOutcome> {
    return this.finish(undefined);
  }

  fail(errorType: string, errorBody: Uint8Array): Promise<PostOutcome> {
    const type = isValidHeaderValue(errorType) ? errorType : 'Runtime.Unknown';
    return this.finish([
      [HEADER.errorType, type],
      [HEADER.errorBody, Buffer.from(errorBody.buffer, errorBody.byteOffset, errorBody.length).toString('base64')],
    ]);
  }

  /** Writes what was gathered (the batch buffer is handed to the socket and never reused). */
  private flush(): void {
    this.flushQueued = false;
    const b = this.batch;
    if (b === undefined || this.batchLen === 0) return;
    const out = b.subarray(0, this.batchLen);
    this.batchLen = 0;
    const socket = this.conn.socket;
    if (this.conn.closed) return;
    socket.write(out);
    // Written through to the kernel at once (nothing queued): the buffer can take the next batch.
    // Otherwise the socket still holds it: what is left of it serves the next batch, or a new one.
    if (socket.writableLength === 0) return;
    this.batch = b.length - out.length >= 1024 ? b.subarray(out.length) : undefined;
  }

  private async finish(trailers: Array<[string, string]> | undefined): Promise<PostOutcome> {
    if (this.done) throw new Error('tandem: the response stream has already ended');
    this.done = true;
    this.flush();
    if (!this.conn.closed) writeLastChunk(this.conn.socket, trailers);
    this.releaseHead();
    const res = await this.response;
    this.release(this.conn);
    return outcome(res);
  }
}
