// The records console.* writes for Node handlers (TEXT and JSON), as AWS's Node client writes them.
import { describe, expect, test } from 'vitest';
import { LEVELS, jsonRecord, textRecord } from '../../../src/node/log-patch.ts';

const T = '2026-01-01T00:00:00.000Z';
const INFO = LEVELS['INFO']!;

describe('TEXT records', () => {
  test('time, request id, level, util.format of the arguments', () => {
    expect(textRecord(T, INFO, 'r-1', ['a %s b', 'x', { k: 1 }])).toBe(`${T}\tr-1\tINFO\ta x b { k: 1 }`);
    expect(textRecord(T, LEVELS['WARN']!, undefined, [undefined])).toBe(`${T}\tundefined\tWARN\tundefined`);
  });
});

describe('JSON records', () => {
  test('one argument is the message as it is; tenantId only when there is one', () => {
    expect(JSON.parse(jsonRecord(T, INFO, 'r-1', undefined, [{ a: [1] }]))).toEqual({ timestamp: T, level: 'INFO', requestId: 'r-1', message: { a: [1] } });
    expect(jsonRecord(T, INFO, 'r-1', 'blue', ['hi'])).toBe(`{"timestamp":"${T}","level":"INFO","requestId":"r-1","tenantId":"blue","message":"hi"}`);
  });

  test('an Error as the one argument: errorType (its class), errorMessage, stackTrace, own properties', () => {
    class Custom extends Error {}
    const e = Object.assign(new Custom('bad'), { code: 7 });
    e.stack = 'Error: bad\n    at x';
    expect(JSON.parse(jsonRecord(T, LEVELS['ERROR']!, 'r', undefined, [e])).message).toEqual({
      errorType: 'Custom',
      errorMessage: 'bad',
      stackTrace: ['Error: bad', '    at x'],
      code: 7,
    });
  });

  test('several arguments are formatted; the first Error adds its fields', () => {
    const e = new RangeError('r');
    e.stack = 'RangeError: r';
    const rec = JSON.parse(jsonRecord(T, INFO, 'r', undefined, ['failed:', e, new Error('second')]));
    expect(rec).toMatchObject({ errorType: 'RangeError', errorMessage: 'r', stackTrace: ['RangeError: r'] });
    expect(rec.message).toMatch(/^failed: \[RangeError: r\] Error: second/);
  });

  test('a message JSON cannot encode is formatted instead', () => {
    const o: Record<string, unknown> = {};
    o['self'] = o;
    expect(JSON.parse(jsonRecord(T, INFO, 'r', undefined, [o])).message).toBe('<ref *1> { self: [Circular *1] }');
  });
});
