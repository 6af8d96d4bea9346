// Protocol frames between Node and a Python worker (docs/protocol.md): a 4-byte big-endian length, then one
// msgpack map. Decoding uses msgpackr (bin values come out as Buffer views of the frame, no copy). Encoding
// uses a small writer of our own for the few shapes Node sends, so that a large `bin` (an event body) is
// written to the pipe as its own buffer instead of being copied into the frame.
import { Unpackr } from 'msgpackr/unpack';
import { WorkerProtocolError } from '../runtime/errors.ts';
import { bodyLength } from '../runtime/http1.ts';
import type { Invocation } from '../runtime/types.ts';

export type Message = Record<string, unknown> & { t: string };

/**
 * A `bin` value held as the pieces it arrived in (views of the pipe's read buffers, or of a response body
 * read from the socket), never joined: a large event or result passes through Node without a copy. The
 * encoder writes it as one bin32; `join()` makes one Buffer when one is needed.
 */
export class BinParts {
  constructor(
    readonly parts: readonly Buffer[],
    readonly length: number,
  ) {}

  join(): Buffer {
    return this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts as Buffer[], this.length);
  }
}

/** Frames at least this large are gathered as their pipe reads, and a bin32 ending the frame stays in pieces. */
const LARGE_FRAME_BYTES = 64 * 1024;

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

/** Bin values at least this large are not copied into the frame: they go out as separate buffers. */
const SEPARATE_BIN_BYTES = 16 * 1024;
const SLAB_BYTES = 64 * 1024;

/** msgpack fixstr bytes of an ASCII key (< 32 characters). */
function key(k: string): Buffer {
  return Buffer.from([0xa0 | k.length, ...Buffer.from(k, 'latin1')]);
}

// The `invoke` message's keys, in the order docs/protocol.md lists them (the map has 11 entries).
const INVOKE_HEAD = Buffer.concat([Buffer.from([0x80 | 11]), key('t'), key('invoke'), key('id')]);
const K_DEADLINE = key('deadlineMs');
const K_ARN = key('functionArn');
const K_TRACE = key('traceId');
const K_CLIENT_CONTEXT = key('clientContext');
const K_COGNITO = key('cognitoIdentity');
const K_TENANT = key('tenantId');
const K_INVOCATION_ID = key('invocationId');
const K_CONTENT_TYPE = key('contentType');
const K_BODY = key('body');

/** Encodes messages into frames. One instance per writer; `encode` returns the buffers to write, in order. */
export class FrameEncoder {
  // A slab written front to back and never rewritten, so earlier frames may still sit in a socket's queue.
  private buf = Buffer.allocUnsafe(SLAB_BYTES);
  private pos = 0;
  private out: Buffer[] = [];
  private total = 0;
  private start = 0;

  /** The frame for `msg` as one or more buffers (write them in order; cork the stream for one syscall). */
  encode(msg: Record<string, unknown>): Buffer[] {
    this.out = [];
    this.total = 0;
    this.ensure(4);
    this.start = this.pos;
    this.pos += 4;
    this.value(msg);
    this.flush();
    this.out[0]!.writeUInt32BE(this.total - 4, 0);
    return this.out;
  }

  /**
   * The `invoke` frame of an invocation: the bytes `encode` gives for `{t: 'invoke', id, deadlineMs (uint64),
   * functionArn, traceId, clientContext, cognitoIdentity, tenantId, invocationId, contentType, body}`, written
   * without building that object (the hot path of every Python invocation).
   */
  invoke(inv: Invocation): Buffer[] {
    this.out = [];
    this.total = 0;
    this.ensure(4 + INVOKE_HEAD.length + 40);
    this.start = this.pos;
    this.pos += 4;
    this.raw(INVOKE_HEAD);
    this.str(inv.requestId);
    this.raw(K_DEADLINE);
    this.uint64(inv.deadlineMs);
    this.raw(K_ARN);
    this.str(inv.functionArn);
    this.raw(K_TRACE);
    this.strOrNil(inv.traceId);
    this.raw(K_CLIENT_CONTEXT);
    this.strOrNil(inv.clientContext);
    this.raw(K_COGNITO);
    this.strOrNil(inv.cognitoIdentity);
    this.raw(K_TENANT);
    this.strOrNil(inv.tenantId);
    this.raw(K_INVOCATION_ID);
    this.strOrNil(inv.invocationId);
    this.raw(K_CONTENT_TYPE);
    this.strOrNil(inv.contentType);
    this.raw(K_BODY);
    const parts = inv.bodyParts;
    if (parts) this.binParts(new BinParts(parts as Buffer[], bodyLength(parts)));
    else this.bin(inv.body);
    this.flush();
    this.out[0]!.writeUInt32BE(this.total - 4, 0);
    return this.out;
  }

  private raw(bytes: Buffer): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  private strOrNil(s: string | undefined): void {
    if (s === undefined) {
      this.ensure(1);
      this.buf[this.pos++] = 0xc0;
    } else {
      this.str(s);
    }
  }

  /** A non-negative safe integer as msgpack uint64 (what a bigint is encoded as). */
  private uint64(v: number): void {
    this.ensure(9);
    const b = this.buf;
    b[this.pos] = 0xcf;
    b.writeUInt32BE(Math.floor(v / 0x100000000), this.pos + 1);
    b.writeUInt32BE(v >>> 0, this.pos + 5);
    this.pos += 9;
  }

  private flush(): void {
    if (this.pos > this.start) {
      this.out.push(this.buf.subarray(this.start, this.pos));
      this.total += this.pos - this.start;
    }
    this.start = this.pos;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.flush();
    this.buf = Buffer.allocUnsafe(Math.max(SLAB_BYTES, n));
    this.pos = 0;
    this.start = 0;
  }

  private value(v: unknown): void {
    if (v === null || v === undefined) {
      this.ensure(1);
      this.buf[this.pos++] = 0xc0;
    } else if (typeof v === 'string') {
      this.str(v);
    } else if (typeof v === 'number') {
      this.num(v);
    } else if (typeof v === 'bigint') {
      this.ensure(9);
      if (v >= 0n) {
        this.buf[this.pos] = 0xcf;
        this.buf.writeBigUInt64BE(v, this.pos + 1);
      } else {
        this.buf[this.pos] = 0xd3;
        this.buf.writeBigInt64BE(v, this.pos + 1);
      }
      this.pos += 9;
    } else if (typeof v === 'boolean') {
      this.ensure(1);
      this.buf[this.pos++] = v ? 0xc3 : 0xc2;
    } else if (v instanceof Uint8Array) {
      this.bin(v);
    } else if (v instanceof BinParts) {
      this.binParts(v);
    } else if (Array.isArray(v)) {
      this.header(v.length, 0x90, 0xdc, 0xdd);
      for (const item of v) this.value(item);
    } else if (typeof v === 'object') {
      const keys = Object.keys(v as object);
      this.header(keys.length, 0x80, 0xde, 0xdf);
      for (const k of keys) {
        this.str(k);
        this.value((v as Record<string, unknown>)[k]);
      }
    } else {
      throw new TypeError(`tandem: cannot encode a ${typeof v} in a protocol frame`);
    }
  }

  private header(n: number, fix: number, b16: number, b32: number): void {
    this.ensure(5);
    if (n < 16) {
      this.buf[this.pos++] = fix | n;
    } else if (n < 0x10000) {
      this.buf[this.pos] = b16;
      this.buf.writeUInt16BE(n, this.pos + 1);
      this.pos += 3;
    } else {
      this.buf[this.pos] = b32;
      this.buf.writeUInt32BE(n, this.pos + 1);
      this.pos += 5;
    }
  }

  private num(v: number): void {
    this.ensure(9);
    const b = this.buf;
    if (Number.isInteger(v) && v >= 0 && v < 0x80) {
      b[this.pos++] = v;
    } else if (Number.isInteger(v) && v < 0 && v >= -32) {
      b[this.pos++] = v & 0xff;
    } else if (Number.isInteger(v) && v >= 0 && v <= 0xffffffff) {
      b[this.pos] = 0xce;
      b.writeUInt32BE(v, this.pos + 1);
      this.pos += 5;
    } else if (Number.isInteger(v) && v < 0 && v >= -0x80000000) {
      b[this.pos] = 0xd2;
      b.writeInt32BE(v, this.pos + 1);
      this.pos += 5;
    } else if (Number.isSafeInteger(v)) {
      if (v >= 0) {
        b[this.pos] = 0xcf;
        b.writeBigUInt64BE(BigInt(v), this.pos + 1);
      } else {
        b[this.pos] = 0xd3;
        b.writeBigInt64BE(BigInt(v), this.pos + 1);
      }
      this.pos += 9;
    } else {
      b[this.pos] = 0xcb;
      b.writeDoubleBE(v, this.pos + 1);
      this.pos += 9;
    }
  }

  private str(s: string): void {
    const max = s.length * 3;
    this.ensure(max + 5);
    const b = this.buf;
    // Reserve the longest header the worst case needs, then move the bytes if a shorter one fits.
    const hdr = max < 32 ? 1 : max < 0x100 ? 2 : max < 0x10000 ? 3 : 5;
    const n = b.write(s, this.pos + hdr, 'utf8');
    let need: number;
    if (n < 32) need = 1;
    else if (n < 0x100) need = 2;
    else if (n < 0x10000) need = 3;
    else need = 5;
    if (need !== hdr) b.copy(b, this.pos + need, this.pos + hdr, this.pos + hdr + n);
    if (need === 1) b[this.pos] = 0xa0 | n;
    else if (need === 2) {
      b[this.pos] = 0xd9;
      b[this.pos + 1] = n;
    } else if (need === 3) {
      b[this.pos] = 0xda;
      b.writeUInt16BE(n, this.pos + 1);
    } else {
      b[this.pos] = 0xdb;
      b.writeUInt32BE(n, this.pos + 1);
    }
    this.pos += need + n;
  }

  private binParts(v: BinParts): void {
    if (v.length < SEPARATE_BIN_BYTES) {
      this.bin(v.join());
      return;
    }
    this.ensure(5);
    this.buf[this.pos] = 0xc6;
    this.buf.writeUInt32BE(v.length, this.pos + 1);
    this.pos += 5;
    this.flush();
    for (const p of v.parts) if (p.length > 0) this.out.push(p);
    this.total += v.length;
  }

  private bin(v: Uint8Array): void {
    const n = v.length;
    this.ensure(5);
    const b = this.buf;
    if (n < 0x100) {
      b[this.pos] = 0xc4;
      b[this.pos + 1] = n;
      this.pos += 2;
    } else if (n < 0x10000) {
      b[this.pos] = 0xc5;
      b.writeUInt16BE(n, this.pos + 1);
      this.pos += 3;
    } else {
      b[this.pos] = 0xc6;
      b.writeUInt32BE(n, this.pos + 1);
      this.pos += 5;
    }
    if (n >= SEPARATE_BIN_BYTES) {
      this.flush();
      this.out.push(Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.length));
      this.total += n;
    } else {
      this.ensure(n);
      this.buf.set(v, this.pos);
      this.pos += n;
    }
  }
}

/**
 * Splits a byte stream into frames and decodes each. A length over `maxFrameBytes` is refused before any
 * allocation; so is anything that is not one msgpack map with a string `t`. A frame of at least 64 KiB is
 * kept as the reads it came in; when its last value is a bin32 ending the frame (a result or event body),
 * that value becomes a BinParts of views of those reads: the body is never copied in Node.
 */
export class FrameDecoder {
  private header = Buffer.allocUnsafe(4);
  private headerHave = 0;
  private frame: Buffer | undefined;
  private frameHave = 0;
  private large: { len: number; parts: Buffer[]; have: number } | undefined;

  constructor(private readonly maxFrameBytes: number) {}

  /** Feeds bytes; calls `onMessage` for every frame these bytes complete. Throws WorkerProtocolError. */
  push(chunk: Buffer, onMessage: (msg: Message) => void): void {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.frame === undefined && this.large === undefined) {
        let len: number;
        // Fast path: a whole frame inside this chunk is decoded in place.
        if (this.headerHave === 0 && n - i >= 4) {
          len = chunk.readUInt32BE(i);
          this.checkLength(len);
          if (n - i - 4 >= len) {
            onMessage(decode(chunk.subarray(i + 4, i + 4 + len)));
            i += 4 + len;
            continue;
          }
          i += 4;
        } else {
          const take = Math.min(4 - this.headerHave, n - i);
          chunk.copy(this.header, this.headerHave, i, i + take);
          this.headerHave += take;
          i += take;
          if (this.headerHave < 4) return;
          this.headerHave = 0;
          len = this.header.readUInt32BE(0);
          this.checkLength(len);
        }
        if (len >= LARGE_FRAME_BYTES) {
          this.large = { len, parts: [], have: 0 };
        } else {
          this.frame = Buffer.allocUnsafe(len);
          this.frameHave = 0;
        }
        continue;
      }
      const l = this.large;
      if (l !== undefined) {
        const take = Math.min(l.len - l.have, n - i);
        l.parts.push(i === 0 && take === n ? chunk : chunk.subarray(i, i + take));
        l.have += take;
        i += take;
        if (l.have === l.len) {
          this.large = undefined;
          onMessage(decodeLarge(l.parts, l.len));
        }
        continue;
      }
      const f = this.frame!;
      const take = Math.min(f.length - this.frameHave, n - i);
      chunk.copy(f, this.frameHave, i, i + take);
      this.frameHave += take;
      i += take;
      if (this.frameHave === f.length) {
        this.frame = undefined;
        onMessage(decode(f));
      }
    }
  }

  /** True when bytes of an unfinished frame are buffered (EOF now would cut a frame short). */
  get midFrame(): boolean {
    return this.headerHave > 0 || this.frame !== undefined || this.large !== undefined;
  }

  private checkLength(len: number): void {
    if (len > this.maxFrameBytes) {
      throw new WorkerProtocolError(`frame of ${len} bytes is over the limit of ${this.maxFrameBytes} bytes`);
    }
    if (len === 0) throw new WorkerProtocolError('empty frame');
  }
}

/** Offset just past the msgpack value at `p` in `b`, or -1 when it does not end inside `b` (or is not one). */
function skip(b: Buffer, p: number, depth = 0): number {
  if (p >= b.length || depth > 32) return -1;
  const c = b[p]!;
  let n = 0;
  let head = 1;
  if (c <= 0x7f || c >= 0xe0 || c === 0xc0 || c === 0xc2 || c === 0xc3) return p + 1;
  if (c >= 0xa0 && c <= 0xbf) n = c & 0x1f;
  else if (c >= 0x80 && c <= 0x8f) return skipItems(b, p + 1, (c & 0x0f) * 2, depth);
  else if (c >= 0x90 && c <= 0x9f) return skipItems(b, p + 1, c & 0x0f, depth);
  else {
    const need = (k: number) => (p + 1 + k <= b.length ? true : false);
    switch (c) {
      case 0xcc: case 0xd0: return p + 2;
      case 0xcd: case 0xd1: return p + 3;
      case 0xca: case 0xce: case 0xd2: return p + 5;
      case 0xcb: case 0xcf: case 0xd3: return p + 9;
      case 0xd4: return p + 3;
      case 0xd5: return p + 4;
      case 0xd6: return p + 6;
      case 0xd7: return p + 10;
      case 0xd8: return p + 18;
      case 0xc4: case 0xd9: if (!need(1)) return -1; n = b[p + 1]!; head = 2; break;
      case 0xc5: case 0xda: if (!need(2)) return -1; n = b.readUInt16BE(p + 1); head = 3; break;
      case 0xc6: case 0xdb: if (!need(4)) return -1; n = b.readUInt32BE(p + 1); head = 5; break;
      case 0xc7: if (!need(1)) return -1; n = b[p + 1]! + 1; head = 2; break;
      case 0xc8: if (!need(2)) return -1; n = b.readUInt16BE(p + 1) + 1; head = 3; break;
      case 0xc9: if (!need(4)) return -1; n = b.readUInt32BE(p + 1) + 1; head = 5; break;
      case 0xdc: return need(2) ? skipItems(b, p + 3, b.readUInt16BE(p + 1), depth) : -1;
      case 0xdd: return need(4) ? skipItems(b, p + 5, b.readUInt32BE(p + 1), depth) : -1;
      case 0xde: return need(2) ? skipItems(b, p + 3, b.readUInt16BE(p + 1) * 2, depth) : -1;
      case 0xdf: return need(4) ? skipItems(b, p + 5, b.readUInt32BE(p + 1) * 2, depth) : -1;
      default: return -1;
    }
  }
  const end = p + head + n;
  return end <= b.length ? end : -1;
}

function skipItems(b: Buffer, p: number, count: number, depth: number): number {
  for (let k = 0; k < count && p >= 0; k++) p = skip(b, p, depth + 1);
  return p > b.length ? -1 : p;
}

/**
 * A large frame from its reads. When the first read holds the whole map but a last value that is a bin32
 * ending exactly at the frame's end, the map without that value is decoded (a small copy with its count
 * lowered) and the value becomes a BinParts of views; otherwise the reads are joined and decoded whole.
 */
function decodeLarge(parts: Buffer[], len: number): Message {
  const first = parts[0]!;
  const c = first[0];
  let count = -1;
  let p = 0;
  if (c !== undefined && c >= 0x80 && c <= 0x8f) (count = c & 0x0f), (p = 1);
  else if (c === 0xde && first.length >= 3) (count = first.readUInt16BE(1)), (p = 3);
  if (count >= 1) {
    for (let k = 0; k < 2 * (count - 1) && p >= 0; k++) p = skip(first, p);
    const keyStart = p;
    if (keyStart > 0) p = skip(first, keyStart);
    if (keyStart > 0 && p > 0 && p + 5 <= first.length && first[p] === 0xc6 && p + 5 + first.readUInt32BE(p + 1) === len) {
      const key = unpackr.unpack(first.subarray(keyStart, p));
      if (typeof key === 'string') {
        const head = Buffer.from(first.subarray(0, keyStart));
        if (c === 0xde) head.writeUInt16BE(count - 1, 1);
        else head[0] = 0x80 | (count - 1);
        const msg = decode(head);
        const body = [first.subarray(p + 5), ...parts.slice(1)].filter((b) => b.length > 0);
        (msg as Record<string, unknown>)[key] = new BinParts(body, len - p - 5);
        return msg;
      }
    }
  }
  return decode(parts.length === 1 ? first : Buffer.concat(parts, len));
}

/** An ASCII string of the frame's bytes [start, end), or undefined when they are not all ASCII. */
function ascii(b: Buffer, start: number, end: number): string | undefined {
  const s = b.toString('utf8', start, end);
  // Fewer characters than bytes: multi-byte sequences; U+FFFD: invalid bytes. Both left to msgpackr.
  return s.length === end - start && s.indexOf('\ufffd') < 0 ? s : undefined;
}

/**
 * The worker's envelopes are small maps of short ASCII keys with ASCII str, bin, nil, bool and integer
 * values: decoded here in one pass, with bins as views of the frame (as msgpackr gives them). Anything else
 * (non-ASCII text, floats, nested maps, arrays, extensions, a malformed frame) returns undefined: msgpackr
 * decodes it, with its own errors. Same results as msgpackr for every frame it accepts.
 */
function decodeEnvelope(b: Buffer): Record<string, unknown> | undefined {
  const len = b.length;
  const c = b[0]!;
  if (len === 0 || c < 0x80 || c > 0x8f) return undefined;
  const msg: Record<string, unknown> = {};
  let p = 1;
  for (let k = c & 0x0f; k > 0; k--) {
    if (p >= len) return undefined;
    const kc = b[p]!;
    if (kc < 0xa0 || kc > 0xbf) return undefined;
    const keyEnd = p + 1 + (kc & 0x1f);
    if (keyEnd > len) return undefined;
    const key = ascii(b, p + 1, keyEnd);
    // msgpackr renames a __proto__ key: leave that to it.
    if (key === undefined || key === '__proto__' || keyEnd >= len) return undefined;
    p = keyEnd;
    const v = b[p]!;
    let start = p + 1;
    let n = -1; // length of a str or bin value
    let isStr = true;
    let value: unknown;
    if (v >= 0xa0 && v <= 0xbf) n = v & 0x1f;
    else if (v === 0xd9 || v === 0xc4) {
      if (p + 2 > len) return undefined;
      n = b[p + 1]!;
      start = p + 2;
      isStr = v === 0xd9;
    } else if (v === 0xda || v === 0xc5) {
      if (p + 3 > len) return undefined;
      n = b.readUInt16BE(p + 1);
      start = p + 3;
      isStr = v === 0xda;
    } else if (v === 0xdb || v === 0xc6) {
      if (p + 5 > len) return undefined;
      n = b.readUInt32BE(p + 1);
      start = p + 5;
      isStr = v === 0xdb;
    } else if (v <= 0x7f) {
      value = v;
      p += 1;
    } else if (v >= 0xe0) {
      value = v - 0x100;
      p += 1;
    } else if (v === 0xc0) {
      value = null;
      p += 1;
    } else if (v === 0xc2 || v === 0xc3) {
      value = v === 0xc3;
      p += 1;
    } else if (v === 0xcc && p + 2 <= len) {
      value = b[p + 1];
      p += 2;
    } else if (v === 0xcd && p + 3 <= len) {
      value = b.readUInt16BE(p + 1);
      p += 3;
    } else if (v === 0xce && p + 5 <= len) {
      value = b.readUInt32BE(p + 1);
      p += 5;
    } else {
      return undefined;
    }
    if (n >= 0) {
      const end = start + n;
      if (end > len) return undefined;
      if (isStr) {
        value = ascii(b, start, end);
        if (value === undefined) return undefined;
      } else {
        value = b.subarray(start, end);
      }
      p = end;
    }
    msg[key] = value;
  }
  return p === len ? msg : undefined;
}

function decode(bytes: Buffer): Message {
  let msg: unknown = decodeEnvelope(bytes);
  if (msg === undefined) {
    try {
      msg = unpackr.unpack(bytes);
    } catch (err) {
      throw new WorkerProtocolError(`undecodable frame: ${(err as Error).message}`);
    }
  }
  if (msg === null || typeof msg !== 'object' || Array.isArray(msg) || Buffer.isBuffer(msg)) {
    throw new WorkerProtocolError('frame is not a msgpack map');
  }
  if (typeof (msg as { t?: unknown }).t !== 'string') throw new WorkerProtocolError('frame has no string "t"');
  return msg as Message;
}
