// The `application/vnd.amazon.eventstream` framing the AWS SDKs decode for InvokeWithResponseStream:
// each message is [total length u32][headers length u32][prelude CRC32][headers][payload][message CRC32],
// headers as (name length u8, name, type 7 = string, value length u16, value). Lambda sends `PayloadChunk`
// events carrying raw response bytes, then one `InvokeComplete` event (JSON: ErrorCode, ErrorDetails, LogResult).
import { crc32 } from 'node:zlib';

const STRING_TYPE = 7;

function encodeHeaders(headers: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(headers)) {
    const n = Buffer.from(name);
    const v = Buffer.from(value);
    const h = Buffer.alloc(1 + n.length + 1 + 2 + v.length);
    h.writeUInt8(n.length, 0);
    n.copy(h, 1);
    h.writeUInt8(STRING_TYPE, 1 + n.length);
    h.writeUInt16BE(v.length, 2 + n.length);
    v.copy(h, 4 + n.length);
    parts.push(h);
  }
  return Buffer.concat(parts);
}

export function encodeMessage(headers: Record<string, string>, payload: Buffer): Buffer {
  const h = encodeHeaders(headers);
  const total = 12 + h.length + payload.length + 4;
  const out = Buffer.alloc(total);
  out.writeUInt32BE(total, 0);
  out.writeUInt32BE(h.length, 4);
  out.writeUInt32BE(crc32(out.subarray(0, 8)), 8);
  h.copy(out, 12);
  payload.copy(out, 12 + h.length);
  out.writeUInt32BE(crc32(out.subarray(0, total - 4)), total - 4);
  return out;
}

export function payloadChunkEvent(bytes: Buffer): Buffer {
  return encodeMessage(
    { ':event-type': 'PayloadChunk', ':content-type': 'application/octet-stream', ':message-type': 'event' },
    bytes,
  );
}

export interface InvokeComplete {
  ErrorCode?: string;
  ErrorDetails?: string;
  LogResult?: string;
}

export function invokeCompleteEvent(doc: InvokeComplete): Buffer {
  return encodeMessage(
    { ':event-type': 'InvokeComplete', ':content-type': 'application/json', ':message-type': 'event' },
    Buffer.from(JSON.stringify(doc)),
  );
}

/** Decodes the whole messages at the start of a buffer (tests, and anyone checking what serve mode sends). */
export function decodeMessages(buf: Buffer): Array<{ headers: Record<string, string>; payload: Buffer }> {
  const out: Array<{ headers: Record<string, string>; payload: Buffer }> = [];
  let at = 0;
  while (at + 12 <= buf.length) {
    const total = buf.readUInt32BE(at);
    if (at + total > buf.length) break; // an incomplete message: wait for more bytes
    const hlen = buf.readUInt32BE(at + 4);
    if (crc32(buf.subarray(at, at + 8)) !== buf.readUInt32BE(at + 8)) throw new Error('event stream: bad prelude CRC');
    if (crc32(buf.subarray(at, at + total - 4)) !== buf.readUInt32BE(at + total - 4)) throw new Error('event stream: bad message CRC');
    const headers: Record<string, string> = {};
    let p = at + 12;
    const hend = p + hlen;
    while (p < hend) {
      const nlen = buf.readUInt8(p);
      const name = buf.subarray(p + 1, p + 1 + nlen).toString();
      const type = buf.readUInt8(p + 1 + nlen);
      if (type !== STRING_TYPE) throw new Error(`event stream: unsupported header type ${type}`);
      const vlen = buf.readUInt16BE(p + 2 + nlen);
      headers[name] = buf.subarray(p + 4 + nlen, p + 4 + nlen + vlen).toString();
      p += 4 + nlen + vlen;
    }
    out.push({ headers, payload: buf.subarray(hend, at + total - 4) });
    at += total;
  }
  return out;
}
