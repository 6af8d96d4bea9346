// The Python worker's msgpack codec (bridge-py/lib/tandem/frames.py) against msgpackr, both ways:
// frames packed by msgpackr are decoded by Python, re-encoded and unpacked again by msgpackr;
// frames encoded by Python are unpacked by msgpackr. Runs real Python processes.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pack, unpack } from 'msgpackr';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const helper = join(root, 'bridge-py', 'tests', 'msgpack_echo.py');
const python = process.env.TANDEM_PYTHON || 'python3';

function frame(payload: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(payload.length);
  return Buffer.concat([head, payload]);
}

function splitFrames(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let pos = 0;
  while (pos < data.length) {
    const n = data.readUInt32BE(pos);
    out.push(data.subarray(pos + 4, pos + 4 + n));
    pos += 4 + n;
  }
  return out;
}

function runPython(args: string[], input?: Buffer): Buffer {
  const r = spawnSync(python, [helper, ...args], { input, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`python exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

type Reply = { value?: unknown; types?: string; error?: string };

function echo(values: unknown[]): Reply[] {
  const input = Buffer.concat(values.map((v) => frame(pack(v))));
  return splitFrames(runPython([], input)).map((f) => unpack(f) as Reply);
}

const vectors: Array<{ name: string; value: unknown; types: unknown }> = [
  { name: 'envelope', value: { t: 'invoke', id: 'r1', body: Buffer.from('{"a":1}') },
    types: { map: [['t', { str: 'invoke' }], ['id', { str: 'r1' }], ['body', { bin: '7b2261223a317d' }]] } },
  { name: 'empty bin', value: { body: Buffer.alloc(0) }, types: { map: [['body', { bin: '' }]] } },
  { name: 'bin vs str', value: { s: 'abc', b: Buffer.from('abc') },
    types: { map: [['s', { str: 'abc' }], ['b', { bin: '616263' }]] } },
  { name: 'nil and bools', value: { n: null, y: true, f: false }, types: { map: [['n', null], ['y', { bool: true }], ['f', { bool: false }]] } },
  { name: 'small ints', value: [0, 1, 127, 128, 255, 256, 65535, 65536, -1, -32, -33, -128, -129, -32768, -32769, 2 ** 31, -(2 ** 31)],
    types: [0, 1, 127, 128, 255, 256, 65535, 65536, -1, -32, -33, -128, -129, -32768, -32769, 2 ** 31, -(2 ** 31)].map((n) => ({ int: String(n) })) },
  { name: 'big ints (BigInt)', value: [2n ** 63n, 2n ** 64n - 1n, -(2n ** 63n), 2n ** 40n],
    types: [{ int: '9223372036854775808' }, { int: '18446744073709551615' }, { int: '-9223372036854775808' }, { int: '1099511627776' }] },
  { name: 'large safe number (msgpackr sends float64)', value: { deadlineMs: 1795754822644 }, types: { map: [['deadlineMs', { float: '1795754822644.0' }]] } },
  { name: 'floats', value: [1.5, -0.25], types: [{ float: '1.5' }, { float: '-0.25' }] },
  { name: 'nested maps', value: { a: { b: { c: [1, { d: 'e' }] } }, empty: {} },
    types: { map: [['a', { map: [['b', { map: [['c', [{ int: '1' }, { map: [['d', { str: 'e' }]] }]]] }]] }], ['empty', { map: [] }]] } },
  { name: 'unicode', value: { u: 'h\u00e9llo \u{1F600}' }, types: { map: [['u', { str: 'h\u00e9llo \u{1F600}' }]] } },
  { name: 'long str and bin', value: { s: 'x'.repeat(70000), b: Buffer.alloc(70000, 7) },
    types: { map: [['s', { str: 'x'.repeat(70000) }], ['b', { bin: '07'.repeat(70000) }]] } },
  { name: 'many keys (map16)', value: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i])),
    types: { map: Array.from({ length: 20 }, (_, i) => [`k${i}`, { int: String(i) }]) } },
  { name: 'long array', value: Array.from({ length: 70000 }, () => 1), types: Array.from({ length: 70000 }, () => ({ int: '1' })) },
  { name: 'undefined reads as nil', value: { u: undefined }, types: { map: [['u', null]] } },
];

describe('msgpack: msgpackr -> Python -> msgpackr', () => {
  const replies = echo(vectors.map((v) => v.value));
  for (const [i, v] of vectors.entries()) {
    it(v.name, () => {
      const reply = replies[i]!;
      expect(reply.error).toBeUndefined();
      expect(JSON.parse(reply.types!)).toEqual(v.types);
      const expected = v.name === 'undefined reads as nil' ? { u: null } : v.value;
      expect(reply.value).toEqual(expected);
    });
  }

  it('re-encoding is byte-identical where msgpackr picks the smallest form', () => {
    const values = [{ t: 'hello', v: 1 }, { b: Buffer.alloc(0), n: null, x: -33, y: 65536 }, [true, false, 'abc']];
    const input = Buffer.concat(values.map((v) => frame(pack(v))));
    const replies = splitFrames(runPython([], input)).map((f) => unpack(f) as Reply);
    for (const [i, v] of values.entries()) {
      expect(pack(replies[i]!.value)).toEqual(pack(v));
    }
  });

  it('rejects bad input with a clear error', () => {
    const input = Buffer.concat([frame(Buffer.from([0xc1])), frame(Buffer.from([0x92, 0x01])), frame(Buffer.from([0xd4, 0x05, 0x00]))]);
    const replies = splitFrames(runPython([], input)).map((f) => unpack(f) as Reply);
    expect(replies.map((r) => r.error)).toEqual([
      'unsupported msgpack byte 0xc1',
      'truncated msgpack data',
      'unsupported msgpack ext type 5',
    ]);
  });
});

describe('msgpack: Python -> msgpackr', () => {
  it('unpacks every Python-encoded frame to the expected values', () => {
    const got = splitFrames(runPython(['emit'])).map((f) => unpack(f));
    expect(got).toEqual([
      { t: 'hello', v: 1, pid: 12345, python: '3.11.7' },
      { t: 'result', id: 'r', contentType: 'application/json', body: Buffer.from('{"a": 1}') },
      { t: 'chunk', id: 'r', data: Buffer.alloc(0) },
      { t: 'error', id: 'r', errorType: 'E', body: Buffer.from([0, 0xff]), xrayCause: null },
      // int64 outside the int32 range comes back from msgpackr as a BigInt
      { ints: [0, 127, 128, -1, -32, -33, 255, 256, 65535, 65536, -129, -32769, 2 ** 31, -2147483649n, 2 ** 32 - 1] },
      { big: [2n ** 32n, 2n ** 63n, 2n ** 64n - 1n, -(2n ** 63n)] },
      { floats: [1.5, -0.25, 1e300], bools: [true, false], nil: null },
      { strs: ['', 'a'.repeat(31), 'b'.repeat(32), 'c'.repeat(300), '\u00e9\u{1F600}'], nested: { m: { n: [Buffer.from([1]), {}] } } },
    ]);
  });
});
