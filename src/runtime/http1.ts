// The HTTP/1.1 wire for the Runtime API client: request heads, bodies (Content-Length, or chunked with
// request trailers) and a strict incremental response parser. The parser accepts the plain HTTP/1.1 a
// Runtime API speaks and rejects everything else with an HttpProtocolError that says what it saw: a bad
// status line, a malformed or folded header, a bad or repeated Content-Length, a transfer-coding other than
// chunked, a head or body over the limits, bytes after the response.
import { isUtf8 } from 'node:buffer';
import type { Socket } from 'node:net';
import { HttpProtocolError } from './errors.ts';
import { MAX_RESPONSE_BODY_BYTES, MAX_RESPONSE_HEAD_BYTES } from './wire.ts';

export interface HttpResponse {
  status: number;
  /** Header names lower-cased; the first value of each name, trimmed. */
  headers: Map<string, string>;
  /** The body (for a body that came in several reads, joined on first use). */
  readonly body: Buffer;
  /** The body as the reads it came in (views, no copy); empty for an empty body. */
  readonly parts: readonly Buffer[];
  /** False when the server asked to close the connection after this response. */
  keepAlive: boolean;
}

/** A parsed response; a body in several pieces is joined on first use of `body` (a class: one shape, fast getter). */
class ParsedResponse implements HttpResponse {
  private joined: Buffer | undefined;

  constructor(
    readonly status: number,
    readonly headers: Map<string, string>,
    readonly parts: readonly Buffer[],
    private readonly length: number,
    public keepAlive: boolean,
  ) {
    this.joined = parts.length === 0 ? EMPTY : parts.length === 1 ? parts[0] : undefined;
  }

  get body(): Buffer {
    return (this.joined ??= Buffer.concat(this.parts as Buffer[], this.length));
  }
}

const CRLF = Buffer.from('\r\n');
const CRLFCRLF = Buffer.from('\r\n\r\n');
const EMPTY = Buffer.alloc(0);
const LAST_CHUNK = Buffer.from('0\r\n\r\n');
/** Bodies up to this size are copied behind the head so the request leaves in one write. */
const COALESCE_BYTES = 16 * 1024;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: ([^\r\n]*))?$/;
const CHUNK_SIZE = /^([0-9A-Fa-f]{1,15})(?:[ \t]*;[^\r\n]*)?$/;
const BARE_CR_LF = /\r(?!\n)|(?<!\r)\n/;
/**
 * Header names as the Runtime API spells them (and Node's http, the local emulator), lower-cased, by length:
 * valid tokens, so a line whose name is one of them (compared in place, no string made) skips the token
 * check and the lower-casing.
 */
const KNOWN_NAMES: ReadonlyArray<ReadonlyArray<readonly [string, string]>> = (() => {
  const byLength: Array<Array<readonly [string, string]>> = [];
  for (const n of [
    'Content-Type',
    'Content-Length',
    'Date',
    'Connection',
    'Keep-Alive',
    'Transfer-Encoding',
    'Lambda-Runtime-Aws-Request-Id',
    'Lambda-Runtime-Deadline-Ms',
    'Lambda-Runtime-Invoked-Function-Arn',
    'Lambda-Runtime-Trace-Id',
    'Lambda-Runtime-Client-Context',
    'Lambda-Runtime-Cognito-Identity',
    'Lambda-Runtime-Aws-Tenant-Id',
    'Lambda-Runtime-Invocation-Id',
  ]) {
    (byLength[n.length] ??= []).push([n, n.toLowerCase()]);
  }
  return byLength;
})();

/** The lower-cased name of a known header spelled exactly as known at text[start, start + length), if any. */
function knownName(text: string, start: number, length: number): string | undefined {
  const candidates = KNOWN_NAMES[length];
  if (candidates === undefined) return undefined;
  for (let i = 0; i < candidates.length; i++) {
    const c = candidates[i]!;
    if (text.startsWith(c[0], start)) return c[1];
  }
  return undefined;
}

/** Throws unless `value` can go in a header line as is (no CR, LF or NUL). */
export function checkHeaderValue(name: string, value: string): string {
  if (/[\r\n\0]/.test(value)) throw new TypeError(`invalid character in the ${name} header value`);
  return value;
}

/** `true` when `value` can go in a header line as is. */
export function isValidHeaderValue(value: string): boolean {
  return !/[\r\n\0]/.test(value);
}

/**
 * The head of a request: request line, `Host`, the given header lines (each already `Name: value\r\n`),
 * then the blank line.
 */
export function requestHead(method: string, path: string, host: string, headerLines: string): string {
  return `${method} ${path} HTTP/1.1\r\nHost: ${host}\r\n${headerLines}\r\n`;
}

/** The length of a body given as one buffer or as pieces. */
export function bodyLength(body: Uint8Array | readonly Uint8Array[]): number {
  if (body instanceof Uint8Array) return body.length;
  let n = 0;
  for (const b of body) n += b.length;
  return n;
}

/** A body given as one buffer or as pieces, as one Buffer (a copy only when in pieces). */
export function joinBody(body: Uint8Array | readonly Uint8Array[]): Buffer {
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.length);
  return Buffer.concat(body as Uint8Array[]);
}

/**
 * Writes head and body, and `then` (a pipelined request without body) behind them; small bodies go out in
 * the same write as the head (one buffer, one write), large ones (and bodies in pieces) without a copy, in
 * one writev.
 */
export function writeRequest(
  socket: Socket,
  head: string,
  body: Uint8Array | readonly Uint8Array[] | undefined,
  then?: Buffer,
): boolean {
  if (body !== undefined && !(body instanceof Uint8Array)) {
    socket.cork();
    socket.write(head, 'utf8');
    let ok = true;
    for (const b of body) if (b.length > 0) ok = socket.write(b);
    if (then) ok = socket.write(then);
    socket.uncork();
    return ok;
  }
  const bodyLen = body === undefined ? 0 : body.length;
  if (bodyLen <= COALESCE_BYTES) {
    if (bodyLen === 0 && !then) return socket.write(head, 'utf8');
    const headLen = Buffer.byteLength(head, 'utf8');
    const thenLen = then ? then.length : 0;
    const buf = Buffer.allocUnsafe(headLen + bodyLen + thenLen);
    buf.write(head, 0, headLen, 'utf8');
    if (bodyLen > 0) buf.set(body!, headLen);
    if (then) buf.set(then, headLen + bodyLen);
    return socket.write(buf);
  }
  socket.cork();
  socket.write(head, 'utf8');
  let ok = socket.write(body!);
  if (then) ok = socket.write(then);
  socket.uncork();
  return ok;
}

/** Writes one chunk of a chunked body (one buffer, or pieces). An empty chunk is skipped (it would end the body). */
export function writeChunk(socket: Socket, data: Uint8Array | readonly Uint8Array[]): boolean {
  if (!(data instanceof Uint8Array)) {
    const total = bodyLength(data);
    if (total === 0) return true;
    socket.cork();
    socket.write(`${total.toString(16)}\r\n`, 'latin1');
    for (const d of data) if (d.length > 0) socket.write(d);
    const ok = socket.write(CRLF);
    socket.uncork();
    return ok;
  }
  const n = data.length;
  if (n === 0) return true;
  const size = `${n.toString(16)}\r\n`;
  if (n <= 1024) {
    const buf = Buffer.allocUnsafe(size.length + n + 2);
    buf.write(size, 0, 'latin1');
    buf.set(data, size.length);
    buf[size.length + n] = 13;
    buf[size.length + n + 1] = 10;
    return socket.write(buf);
  }
  socket.cork();
  socket.write(size, 'latin1');
  socket.write(data);
  const ok = socket.write(CRLF);
  socket.uncork();
  return ok;
}

/** Ends a chunked body, with trailer fields when given. */
export function writeLastChunk(socket: Socket, trailers?: ReadonlyArray<readonly [string, string]>): boolean {
  if (!trailers || trailers.length === 0) return socket.write(LAST_CHUNK);
  let s = '0\r\n';
  for (const [name, value] of trailers) s += `${name}: ${checkHeaderValue(name, value)}\r\n`;
  return socket.write(`${s}\r\n`, 'utf8');
}

// Parser states.
const HEAD = 0;
const LENGTH = 1;
const CHUNK_SIZE_LINE = 2;
const CHUNK_DATA = 3;
const CHUNK_DATA_END = 4;
const TRAILERS = 5;
const UNTIL_CLOSE = 6;
const DONE = 7;

/**
 * Parses the responses of one connection, one after another (pipelined answers may share a read). `push`
 * calls `emit` for every response its bytes complete, saying whether more bytes follow it; `end` is called
 * when the peer closed the connection.
 */
export class ResponseParser {
  private state = HEAD;
  private pending: Buffer = EMPTY;
  private status = 0;
  private headers = new Map<string, string>();
  private keepAlive = true;
  private remaining = 0;
  private parts: Buffer[] = [];
  private bodyLen = 0;
  private trailerBytes = 0;
  private started = false;
  /** The last push kept views of its input (body bytes, not copied). */
  private kept = false;

  constructor(
    private readonly maxBody = MAX_RESPONSE_BODY_BYTES,
    private readonly maxHead = MAX_RESPONSE_HEAD_BYTES,
  ) {}

  /** True once any byte of the current response has arrived. */
  get inResponse(): boolean {
    return this.started;
  }

  /**
   * True when the last `push` kept views of its input (the body of a response, which is never copied): that
   * input must not be overwritten (a caller reading into a reused buffer moves on past it).
   */
  keptInput(): boolean {
    return this.kept;
  }

  /**
   * Feeds bytes (the first `n` of `chunk`, default all); `emit` gets each response they complete (`more`:
   * bytes of this chunk follow it; `emit` may throw to refuse them). Throws HttpProtocolError.
   */
  push(chunk: Buffer, emit: (res: HttpResponse, more: boolean) => void, n = chunk.length): void {
    this.kept = false;
    if (n === 0) return;
    this.started = true;
    let buf = n === chunk.length ? chunk : chunk.subarray(0, n);
    let i = 0;
    while (i < buf.length) {
      switch (this.state) {
        case HEAD: {
          if (this.pending.length > 0) {
            buf = Buffer.concat([this.pending, buf.subarray(i)]);
            i = 0;
            this.pending = EMPTY;
          }
          const end = buf.indexOf(CRLFCRLF, i);
          if (end < 0) {
            if (buf.length - i > this.maxHead) throw new HttpProtocolError(`response head larger than ${this.maxHead} bytes`);
            this.pending = Buffer.from(buf.subarray(i));
            return;
          }
          if (end - i > this.maxHead) throw new HttpProtocolError(`response head larger than ${this.maxHead} bytes`);
          // Header values are UTF-8 (what a Go server sends); bytes that are not are read as Latin-1.
          const head = buf.subarray(i, end);
          this.parseHead(isUtf8(head) ? head.toString('utf8') : head.toString('latin1'));
          i = end + 4;
          break;
        }
        case LENGTH: {
          const n = Math.min(this.remaining, buf.length - i);
          this.takeBody(buf, i, n);
          i += n;
          this.remaining -= n;
          if (this.remaining === 0) this.state = DONE;
          break;
        }
        case CHUNK_SIZE_LINE: {
          const line = this.readLine(buf, i, 1024, 'chunk size line');
          if (line === undefined) return;
          i = line.next;
          buf = line.buf;
          const m = CHUNK_SIZE.exec(line.text);
          if (!m) throw new HttpProtocolError(`bad chunk size line ${JSON.stringify(line.text.slice(0, 80))}`);
          const size = parseInt(m[1]!, 16);
          if (size === 0) {
            this.state = TRAILERS;
            this.trailerBytes = 0;
          } else {
            if (this.bodyLen + size > this.maxBody) throw new HttpProtocolError(`response body larger than ${this.maxBody} bytes`);
            this.remaining = size;
            this.state = CHUNK_DATA;
          }
          break;
        }
        case CHUNK_DATA: {
          const n = Math.min(this.remaining, buf.length - i);
          this.takeBody(buf, i, n);
          i += n;
          this.remaining -= n;
          if (this.remaining === 0) this.state = CHUNK_DATA_END;
          break;
        }
        case CHUNK_DATA_END: {
          const line = this.readLine(buf, i, 2, 'chunk terminator');
          if (line === undefined) return;
          i = line.next;
          buf = line.buf;
          if (line.text !== '') throw new HttpProtocolError('chunk data not followed by CRLF');
          this.state = CHUNK_SIZE_LINE;
          break;
        }
        case TRAILERS: {
          const line = this.readLine(buf, i, this.maxHead, 'trailer line');
          if (line === undefined) return;
          i = line.next;
          buf = line.buf;
          this.trailerBytes += line.text.length + 2;
          if (this.trailerBytes > this.maxHead) throw new HttpProtocolError(`response trailers larger than ${this.maxHead} bytes`);
          if (line.text === '') this.state = DONE;
          else if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+:/.test(line.text)) {
            throw new HttpProtocolError(`bad trailer line ${JSON.stringify(line.text.slice(0, 80))}`);
          }
          break;
        }
        case UNTIL_CLOSE: {
          const n = buf.length - i;
          if (this.bodyLen + n > this.maxBody) throw new HttpProtocolError(`response body larger than ${this.maxBody} bytes`);
          this.takeBody(buf, i, n);
          i += n;
          break;
        }
        case DONE:
          break;
      }
      if (this.state === DONE) {
        emit(this.complete(), i < buf.length);
        if (i < buf.length) this.started = true;
      }
    }
  }

  /** The peer closed the connection. Returns a response that ends at close; throws if one was cut short. */
  end(): HttpResponse | undefined {
    if (this.state === UNTIL_CLOSE) {
      this.keepAlive = false;
      return this.complete();
    }
    if (this.started) throw new HttpProtocolError('connection closed in the middle of a response');
    return undefined;
  }

  private complete(): HttpResponse {
    const res = new ParsedResponse(this.status, this.headers, this.parts, this.bodyLen, this.keepAlive);
    this.state = HEAD;
    this.pending = EMPTY;
    this.headers = new Map();
    this.parts = [];
    this.bodyLen = 0;
    this.remaining = 0;
    this.keepAlive = true;
    this.started = false;
    return res;
  }

  private takeBody(buf: Buffer, start: number, n: number): void {
    if (n === 0) return;
    // Views of the input are kept (the caller never overwrites input a push kept): the body is never
    // copied here (a host that passes it on sends the pieces; `body` joins them only when asked).
    this.kept = true;
    this.parts.push(start === 0 && n === buf.length ? buf : buf.subarray(start, start + n));
    this.bodyLen += n;
  }

  /** Reads up to CRLF (across pushes). Returns undefined when more bytes are needed. */
  private readLine(
    buf: Buffer,
    i: number,
    max: number,
    what: string,
  ): { text: string; next: number; buf: Buffer } | undefined {
    if (this.pending.length > 0) {
      buf = Buffer.concat([this.pending, buf.subarray(i)]);
      i = 0;
      this.pending = EMPTY;
    }
    const end = buf.indexOf(CRLF, i);
    if (end < 0) {
      if (buf.length - i > max + 1) throw new HttpProtocolError(`${what} too long`);
      this.pending = Buffer.from(buf.subarray(i));
      return undefined;
    }
    if (end - i > max) throw new HttpProtocolError(`${what} too long`);
    const text = buf.toString('latin1', i, end);
    if (text.includes('\n') || text.includes('\r')) throw new HttpProtocolError(`bare CR or LF in a ${what}`);
    return { text, next: end + 2, buf };
  }

  private parseHead(text: string): void {
    let eol = text.indexOf('\r\n');
    const statusLine = eol < 0 ? text : text.slice(0, eol);
    const m = STATUS_LINE.exec(statusLine);
    if (!m) throw new HttpProtocolError(`bad status line ${JSON.stringify(statusLine.slice(0, 80))}`);
    const minor = m[1]!;
    const status = Number(m[2]);
    if (status < 200) throw new HttpProtocolError(`unexpected informational status ${status}`);
    this.status = status;
    let contentLength: number | undefined;
    let chunked = false;
    let sawTransferEncoding = false;
    let connection = '';
    const headers = this.headers;
    // One scan for a CR or LF outside a CRLF; the lines are checked one by one only when there is one.
    const bare = BARE_CR_LF.test(text);
    while (eol >= 0) {
      const start = eol + 2;
      eol = text.indexOf('\r\n', start);
      const end = eol < 0 ? text.length : eol;
      if (bare) {
        const line = text.slice(start, end);
        if (line.includes('\n') || line.includes('\r')) throw new HttpProtocolError('bare CR or LF in the response head');
      }
      if (end === start) throw new HttpProtocolError('empty line inside the response head');
      const c0 = text.charCodeAt(start);
      if (c0 === 32 || c0 === 9) throw new HttpProtocolError('folded header line (obs-fold) in the response');
      const colon = text.indexOf(':', start);
      if (colon <= start || colon >= end) {
        throw new HttpProtocolError(`bad header line ${JSON.stringify(text.slice(start, Math.min(end, start + 80)))}`);
      }
      let name = knownName(text, start, colon - start);
      if (name === undefined) {
        const rawName = text.slice(start, colon);
        if (!TOKEN.test(rawName)) throw new HttpProtocolError(`bad header name ${JSON.stringify(rawName.slice(0, 80))}`);
        name = rawName.toLowerCase();
      }
      // The value without the spaces and tabs around it.
      let vs = colon + 1;
      let ve = end;
      for (let c = text.charCodeAt(vs); vs < ve && (c === 32 || c === 9); c = text.charCodeAt(++vs));
      for (let c = text.charCodeAt(ve - 1); ve > vs && (c === 32 || c === 9); c = text.charCodeAt(--ve - 1));
      const value = text.slice(vs, ve);
      if (name === 'content-length') {
        if (contentLength !== undefined) throw new HttpProtocolError('more than one Content-Length header');
        if (!/^\d{1,15}$/.test(value)) throw new HttpProtocolError(`bad Content-Length ${JSON.stringify(value.slice(0, 80))}`);
        contentLength = Number(value);
      } else if (name === 'transfer-encoding') {
        if (sawTransferEncoding) throw new HttpProtocolError('more than one Transfer-Encoding header');
        sawTransferEncoding = true;
        if (value.toLowerCase() !== 'chunked') {
          throw new HttpProtocolError(`unsupported Transfer-Encoding ${JSON.stringify(value.slice(0, 80))}`);
        }
        chunked = true;
      } else if (name === 'connection') {
        connection = value.toLowerCase();
      }
      if (!headers.has(name)) headers.set(name, value);
    }
    if (chunked && contentLength !== undefined) throw new HttpProtocolError('both Content-Length and Transfer-Encoding');
    if (connection === '') this.keepAlive = minor === '1';
    else this.keepAlive = minor === '1' ? !/(?:^|,)\s*close\s*(?:,|$)/.test(connection) : /(?:^|,)\s*keep-alive\s*(?:,|$)/.test(connection);
    if (status === 204 || status === 304) {
      if (chunked || (contentLength !== undefined && contentLength !== 0)) {
        throw new HttpProtocolError(`status ${status} with a body`);
      }
      this.state = DONE;
    } else if (chunked) {
      this.state = CHUNK_SIZE_LINE;
    } else if (contentLength !== undefined) {
      if (contentLength > this.maxBody) throw new HttpProtocolError(`response body larger than ${this.maxBody} bytes (Content-Length ${contentLength})`);
      this.remaining = contentLength;
      this.state = contentLength === 0 ? DONE : LENGTH;
    } else {
      this.keepAlive = false;
      this.state = UNTIL_CLOSE;
    }
  }
}
