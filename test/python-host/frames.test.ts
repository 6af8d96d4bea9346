// Protocol frames: our encoder against msgpackr's decoder and against the Python worker's own codec
// (bridge-py/lib/tandem/frames.py, through bridge-py/tests/msgpack_echo.py), the incremental decoder in every
// split, and the frames it must refuse (oversized before allocating, not a map, no type, garbage).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Unpackr, unpack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { BinParts, FrameDecoder, FrameEncoder, type Message } from '../../src/python/frames.ts';
import { WorkerProtocolError } from '../../src/runtime/errors.ts';
import { REPO, realPython } from '../runtime/run-bootstrap.ts';

const encoder = new FrameEncoder();
const frame = (msg: Record<string, unknown>) => Buffer.concat(encoder.encode(msg));

function decodeAll(bytes: Buffer, step: number, max = 1 << 26): Message[] {
  const d = new FrameDecoder(max);
  const out: Message[] = [];
  for (let i = 0; i < bytes.length; i += step) d.push(Buffer.from(bytes.subarray(i, i + step)), (m) => out.push(m));
  expect(d.midFrame).toBe(false);
  return out;
}

const INVOKE = {
  t: 'invoke',
  id: 'req-1',
  deadlineMs: 1_800_000_000_123n,
  functionArn: 'arn:aws:lambda:us-east-1:1:function:f',
  traceId: null,
  clientContext: '{"é":"😀"}',
  cognitoIdentity: null,
  tenantId: 't',
  invocationId: undefined,
  contentType: 'application/json',
  body: Buffer.from('{"a": 1}'),
};

describe('FrameDecoder, large frames', () => {
  it('a bin32 ending a large frame comes out as views of the reads it arrived in (no copy), the rest decoded', () => {
    const body = Buffer.alloc(300_000);
    for (let i = 0; i < body.length; i++) body[i] = i % 251;
    const bytes = frame({ t: 'result', id: 'r', contentType: 'application/json', body });
    const reads: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 65536) reads.push(Buffer.from(bytes.subarray(i, i + 65536)));
    const d = new FrameDecoder(1 << 26);
    const out: Message[] = [];
    for (const r of reads) d.push(r, (m) => out.push(m));
    expect(out).toHaveLength(1);
    const m = out[0]!;
    expect({ t: m.t, id: m.id, contentType: m.contentType }).toEqual({ t: 'result', id: 'r', contentType: 'application/json' });
    const b = m.body as BinParts;
    expect(b).toBeInstanceOf(BinParts);
    expect(b.length).toBe(body.length);
    expect(b.join().equals(body)).toBe(true);
    // Every piece is a view of one of the reads.
    for (const p of b.parts) expect(reads.some((r) => r.buffer === p.buffer)).toBe(true);
  });

  it('a large frame whose last value is not a bin32 is decoded whole, in any split', () => {
    const big = 'x'.repeat(200_000);
    for (const msg of [{ t: 'a', s: big }, { t: 'b', body: Buffer.alloc(100_000, 3), n: 1 }, { t: 'c', body: Buffer.alloc(70_000, 4), arr: [1, 'z', null, { k: 2.5 }], v: Buffer.alloc(200, 9) }]) {
      for (const step of [7, 65536, 1 << 20]) {
        const [m] = decodeAll(frame(msg), step);
        expect(JSON.stringify(m, (_k, v: unknown) => (v instanceof BinParts ? v.join() : v))).toBe(JSON.stringify(msg));
      }
    }
  });

  it('a large frame with a map16 envelope and nested values before the body still splits', () => {
    const env: Record<string, unknown> = { t: 'result' };
    for (let i = 0; i < 20; i++) env[`k${i}`] = i % 2 ? { a: [i, -i, 1.5, 'é'], b: null, c: true } : 2 ** 40 + i;
    env.body = Buffer.alloc(100_000, 5);
    for (const step of [1000, 65536]) {
      const [m] = decodeAll(frame(env), step);
      expect(m!.body).toBeInstanceOf(BinParts);
      expect((m!.body as BinParts).join().equals(env.body as Buffer)).toBe(true);
      expect(m!.k19).toEqual(env.k19);
      expect(m!.k18).toBe(env.k18);
    }
  });
});

describe('FrameEncoder', () => {
  it('writes a length prefix and one msgpack map that msgpackr reads back', () => {
    const bytes = frame(INVOKE);
    expect(bytes.readUInt32BE(0)).toBe(bytes.length - 4);
    const back = unpack(bytes.subarray(4)) as Record<string, unknown>;
    expect(back).toEqual({ ...INVOKE, deadlineMs: 1_800_000_000_123n, invocationId: null });
  });

  it('covers every size class of ints, strings, bins, maps and arrays', () => {
    const msg = {
      t: 'x',
      ints: [0, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, -1, -32, -33, -(2 ** 31), -(2 ** 31) - 1],
      floats: [1.5, -0.25, 1e300],
      strs: ['', 'a'.repeat(31), 'b'.repeat(32), 'c'.repeat(255), 'd'.repeat(256), 'e'.repeat(70_000), 'é😀'],
      bins: [Buffer.alloc(0), Buffer.alloc(255, 1), Buffer.alloc(256, 2), Buffer.alloc(70_000, 3), new Uint8Array([9, 8])],
      big: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i])),
      bools: [true, false],
    };
    const back = unpack(frame(msg).subarray(4)) as Record<string, unknown>;
    expect(back).toEqual({ ...msg, bins: msg.bins.map((b) => Buffer.from(b)), ints: msg.ints.map((n) => (n > 2 ** 32 - 1 || n < -(2 ** 31) ? BigInt(n) : n)) });
  });

  it('hands a large bin over as its own buffer, without copying it', () => {
    const body = Buffer.alloc(1 << 20, 7);
    const parts = encoder.encode({ t: 'invoke', id: 'x', body });
    expect(parts.some((p) => p === body)).toBe(true);
    const decoded = decodeAll(Buffer.concat(parts), 65536);
    expect((decoded[0]!.body as BinParts).join().equals(body)).toBe(true);
  });

  it('writes a BinParts as one bin32 made of its pieces, not copied', () => {
    const pieces: Buffer[] = [Buffer.alloc(40_000, 1), Buffer.alloc(30_000, 2)];
    const parts = encoder.encode({ t: 'invoke', id: 'x', body: new BinParts(pieces, 70_000) });
    expect(parts.filter((p) => (pieces as Buffer[]).includes(p as Buffer))).toEqual(pieces);
    const m = unpack(Buffer.concat(parts).subarray(4)) as { body: Buffer };
    expect(m.body.equals(Buffer.concat(pieces))).toBe(true);
  });

  it('invoke() writes exactly the bytes encode() gives for the invoke message, for every header and body shape', () => {
    const base = {
      requestId: 'req-é-1',
      deadlineMs: 1_800_000_000_123,
      functionArn: 'arn:aws:lambda:us-east-1:1:function:f',
      traceId: 'Root=1-2-3',
      clientContext: '{"é":"😀"}',
      cognitoIdentity: 'x'.repeat(300),
      tenantId: 't',
      invocationId: undefined,
      contentType: 'application/json',
      body: Buffer.from('{"a": 1}'),
    };
    const big = [Buffer.alloc(40_000, 1), Buffer.alloc(30_000, 2)];
    const cases = [
      base,
      { ...base, deadlineMs: 0, functionArn: '', traceId: undefined, clientContext: undefined, cognitoIdentity: undefined, tenantId: undefined, contentType: undefined },
      { ...base, deadlineMs: 9_999_999_999_999_999, invocationId: 'inv-1', body: Buffer.alloc(0) },
      { ...base, body: Buffer.alloc(100_000, 5) },
      { ...base, body: Buffer.concat(big), bodyParts: big },
      { ...base, body: Buffer.concat([Buffer.from('ab'), Buffer.from('cd')]), bodyParts: [Buffer.from('ab'), Buffer.from('cd')] },
    ];
    for (const inv of cases) {
      const expected = frame({
        t: 'invoke',
        id: inv.requestId,
        deadlineMs: BigInt(inv.deadlineMs),
        functionArn: inv.functionArn,
        traceId: inv.traceId ?? null,
        clientContext: inv.clientContext ?? null,
        cognitoIdentity: inv.cognitoIdentity ?? null,
        tenantId: inv.tenantId ?? null,
        invocationId: inv.invocationId ?? null,
        contentType: inv.contentType ?? null,
        body: 'bodyParts' in inv ? new BinParts(inv.bodyParts as Buffer[], inv.body.length) : inv.body,
      });
      expect(Buffer.concat(encoder.invoke(inv)).equals(expected)).toBe(true);
    }
  });

  it('frames encoded one after another stay intact (the slab is never rewritten)', () => {
    const a = encoder.encode({ t: 'a', v: 'x'.repeat(1000) });
    const keep = Buffer.concat(a);
    for (let i = 0; i < 200; i++) encoder.encode({ t: 'b', v: 'y'.repeat(1000) });
    expect(Buffer.concat(a).equals(keep)).toBe(true);
  });

  it("is read by the Python worker's codec with the right types (deadline an int, bodies bytes, nil None)", () => {
    const input = Buffer.concat([frame(INVOKE), frame({ t: 'call', id: 'c', fn: 'm.f', body: Buffer.alloc(100_000, 1), context: null })]);
    const r = spawnSync(realPython(), [join(REPO, 'bridge-py', 'tests', 'msgpack_echo.py')], { input, maxBuffer: 1 << 26 });
    expect(r.status).toBe(0);
    const replies: Array<Record<string, unknown>> = [];
    for (let pos = 0; pos < r.stdout.length; ) {
      const n = r.stdout.readUInt32BE(pos);
      replies.push(unpack(r.stdout.subarray(pos + 4, pos + 4 + n)) as Record<string, unknown>);
      pos += 4 + n;
    }
    expect(replies.map((x) => x.error)).toEqual([undefined, undefined]);
    const types = replies.map((x) => JSON.parse(x.types as string) as { map: Array<[string, unknown]> });
    const inv = Object.fromEntries(types[0]!.map.map(([k, v]) => [k, v]));
    expect(inv.deadlineMs).toEqual({ int: '1800000000123' });
    expect(inv.body).toEqual({ bin: Buffer.from('{"a": 1}').toString('hex') });
    expect(inv.traceId).toBeNull();
    expect(inv.invocationId).toBeNull();
    expect(inv.clientContext).toEqual({ str: '{"é":"😀"}' });
    const call = Object.fromEntries(types[1]!.map.map(([k, v]) => [k, v]));
    expect((call.body as { bin: string }).bin).toBe('01'.repeat(100_000));
  });
});

describe('FrameDecoder', () => {
  it('decodes frames in any split, several per chunk', () => {
    const bytes = Buffer.concat([frame({ t: 'a', n: 1 }), frame(INVOKE), frame({ t: 'c', data: Buffer.alloc(5000, 1) })]);
    for (const step of [1, 3, 4, 5, 64, 4096, bytes.length]) {
      const msgs = decodeAll(bytes, step);
      expect(msgs.map((m) => m.t)).toEqual(['a', 'invoke', 'c']);
      expect((msgs[2]!.data as Buffer).length).toBe(5000);
    }
  });

  it('refuses an oversized frame from its length alone', () => {
    const d = new FrameDecoder(1024);
    const head = Buffer.alloc(4);
    head.writeUInt32BE(0xffffffff);
    expect(() => d.push(head, () => undefined)).toThrow(/frame of 4294967295 bytes is over the limit of 1024 bytes/);
    // Also when the length arrives in pieces.
    const d2 = new FrameDecoder(1024);
    d2.push(head.subarray(0, 2), () => undefined);
    expect(() => d2.push(head.subarray(2), () => undefined)).toThrow(WorkerProtocolError);
  });

  const bad: Array<[string, Buffer, RegExp]> = [
    ['an empty frame', Buffer.from([0, 0, 0, 0]), /empty frame/],
    ['a frame that is not a map', Buffer.from([0, 0, 0, 1, 0x05]), /frame is not a msgpack map/],
    ['a map without "t"', Buffer.from([0, 0, 0, 4, 0x81, 0xa1, 0x78, 0x01]), /frame has no string "t"/],
    ['a map with a non-string "t"', Buffer.from([0, 0, 0, 4, 0x81, 0xa1, 0x74, 0x01]), /frame has no string "t"/],
    ['undecodable bytes', Buffer.from([0, 0, 0, 2, 0xc1, 0xc1]), /undecodable frame|not a msgpack map/],
  ];
  for (const [what, bytes, pattern] of bad) {
    it(`refuses ${what}`, () => {
      const d = new FrameDecoder(1024);
      let err: unknown;
      try {
        d.push(bytes, () => undefined);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(WorkerProtocolError);
      expect((err as Error).message).toMatch(pattern);
    });
  }
});

describe('FrameDecoder: the envelope fast path gives what msgpackr gives', () => {
  // msgpackr as the decoder configures it.
  const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });
  const unpack = (b: Buffer) => unpackr.unpack(b) as unknown;
  it('for the envelopes the worker sends and for everything it leaves to msgpackr', () => {
    const msgs: Array<Record<string, unknown>> = [
      { t: 'result', id: 'bench-1', contentType: 'application/json', body: Buffer.from('{"hello": "world"}') },
      { t: 'error', id: 'r', errorType: 'Runtime.X', body: Buffer.alloc(300, 1), xrayCause: '' },
      { t: 'error', id: 'r', errorType: 'E', body: Buffer.alloc(70_000, 2), xrayCause: null },
      { t: 'hello', v: 1, pid: 70_000, python: '3.11.2', exe: '/usr/bin/python3.11' },
      { t: 'chunk', id: 'x', data: Buffer.alloc(0) },
      { t: 'ints', a: 0, b: 127, c: 128, d: 255, e: 65_535, f: 65_536, g: 2 ** 32 - 1, h: -1, i: -32, j: true, k: false },
      { t: 'text', s: 'x'.repeat(40), m: 'y'.repeat(300), l: 'z'.repeat(70_000) },
      { t: 'é', id: 'non-ascii value é😀' },
      { t: 'float', f: 1.5 },
      { t: 'nested', context: { a: 1 } },
      { t: 'array', a: [1, 2] },
      { t: 'big', n: 2 ** 40 },
      { t: 'neg', n: -33 },
    ];
    for (const msg of msgs) {
      const bytes = frame(msg);
      const [got] = decodeAll(bytes, bytes.length);
      expect(got).toEqual(unpack(bytes.subarray(4)));
    }
    // Invalid UTF-8, and a __proto__ key, as msgpackr decodes them.
    const odd = [
      Buffer.from([0x82, 0xa1, 0x74, 0xa1, 0x78, 0xa1, 0x73, 0xa2, 0xff, 0xfe]),
      Buffer.from([0x82, 0xa1, 0x74, 0xa1, 0x78, 0xa9, ...Buffer.from('__proto__'), 0xc3]),
    ];
    for (const payload of odd) {
      const head = Buffer.alloc(4);
      head.writeUInt32BE(payload.length);
      const [got] = decodeAll(Buffer.concat([head, payload]), 100);
      expect(got).toEqual(unpack(payload));
    }
  });
});
