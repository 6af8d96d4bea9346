// Protocol frames between Node and a Python worker (docs/protocol.md): a 4-byte big-endian length, then one
// msgpack map. Decoding uses msgpackr (bin values come out as Buffer views of the frame, no copy). Encoding
// uses a small writer of our own for the few shapes Node sends, so that a large `bin` (an event body) is
// written to the pipe as its own buffer instead of being copied into the frame.
import { Unpackr } from 'msgpackr/unpack';
import { WorkerProtocolError } from '../runtime/errors.ts';

export type Message = Record<string, unknown> & { t: string };

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

/** Bin values at least this large are not copied into the frame: they go out as separate buffers. */
const SEPARATE_BIN_BYTES = 16 * 1024;
const SLAB_BYTES = 64 * 1024;

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
 * allocation; so is anything that is not one msgpack map with a string `t`.
 */
export class FrameDecoder {
  private header = Buffer.allocUnsafe(4);
  private headerHave = 0;
  private frame: Buffer | undefined;
  private frameHave = 0;

  constructor(private readonly maxFrameBytes: number) {}

  /** Feeds bytes; calls `onMessage` for every frame these bytes complete. Throws WorkerProtocolError. */
  push(chunk: Buffer, onMessage: (msg: Message) => void): void {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.frame === undefined) {
        // Fast path: a whole frame inside this chunk is decoded in place.
        if (this.headerHave === 0 && n - i >= 4) {
          const len = chunk.readUInt32BE(i);
          this.checkLength(len);
          if (n - i - 4 >= len) {
            onMessage(decode(chunk.subarray(i + 4, i + 4 + len)));
            i += 4 + len;
            continue;
          }
          this.frame = Buffer.allocUnsafe(len);
          this.frameHave = 0;
          i += 4;
        } else {
          const take = Math.min(4 - this.headerHave, n - i);
          chunk.copy(this.header, this.headerHave, i, i + take);
          this.headerHave += take;
          i += take;
          if (this.headerHave < 4) return;
          this.headerHave = 0;
          const len = this.header.readUInt32BE(0);
          this.checkLength(len);
          this.frame = Buffer.allocUnsafe(len);
          this.frameHave = 0;
        }
      }
      const f = this.frame;
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
    return this.headerHave > 0 || this.frame !== undefined;
  }

  private checkLength(len: number): void {
    if (len > this.maxFrameBytes) {
      throw new WorkerProtocolError(`frame of ${len} bytes is over the limit of ${this.maxFrameBytes} bytes`);
    }
    if (len === 0) throw new WorkerProtocolError('empty frame');
  }
}

function decode(bytes: Buffer): Message {
  let msg: unknown;
  try {
    msg = unpackr.unpack(bytes);
  } catch (err) {
    throw new WorkerProtocolError(`undecodable frame: ${(err as Error).message}`);
  }
  if (msg === null || typeof msg !== 'object' || Array.isArray(msg) || Buffer.isBuffer(msg)) {
    throw new WorkerProtocolError('frame is not a msgpack map');
  }
  if (typeof (msg as { t?: unknown }).t !== 'string') throw new WorkerProtocolError('frame has no string "t"');
  return msg as Message;
}
