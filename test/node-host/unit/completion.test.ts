// Small pieces of a buffered invocation: the response body, and the hold that keeps Node's event loop alive.
import { describe, expect, test } from 'vitest';
import { responseBody } from '../../../src/node/buffered-invocation.ts';
import { EmptyLoop } from '../../../src/node/event-loop.ts';

describe('responseBody', () => {
  test('JSON of the result; undefined and what stringifies to nothing are null', () => {
    expect(responseBody({ a: 1 }).toString()).toBe('{"a":1}');
    expect(responseBody(undefined).toString()).toBe('null');
    expect(responseBody(() => 1).toString()).toBe('null');
    expect(responseBody('é').toString()).toBe('"é"');
  });

  test('a result JSON cannot encode: "Unable to stringify response body"', () => {
    const o: Record<string, unknown> = {};
    o['o'] = o;
    expect(() => responseBody(o)).toThrow(new Error('Unable to stringify response body'));
    expect(() => responseBody({ n: 1n })).toThrow('Unable to stringify response body');
  });
});

describe('EmptyLoop.hold', () => {
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

  test('keeps one ref\'d timer while any hold is out; release is idempotent', () => {
    const loop = new EmptyLoop();
    const before = timers();
    const a = loop.hold();
    const b = loop.hold();
    expect(timers()).toBe(before + 1);
    a();
    a();
    expect(timers()).toBe(before + 1);
    b();
    expect(timers()).toBe(before);
  });
});
