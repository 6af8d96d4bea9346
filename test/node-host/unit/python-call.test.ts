// python() for Node code (makePython), over a caller that answers like a worker would.
import { describe, expect, test } from 'vitest';
import { PythonError, checkFunctionName, makePython, type PythonCallContext, type PythonCaller } from '../../../src/node/python-call.ts';

function caller(answer: (fn: string, body: string) => { kind: 'result' | 'error'; text: string; errorType?: string }) {
  const calls: Array<{ fn: string; body: string; context: PythonCallContext | undefined }> = [];
  const c: PythonCaller = {
    async call(fn, body, context) {
      calls.push({ fn, body: Buffer.from(body).toString('utf8'), context });
      const a = answer(fn, Buffer.from(body).toString('utf8'));
      const bytes = Buffer.from(a.text);
      return a.kind === 'result' ? { kind: 'result', contentType: 'application/json', body: bytes } : { kind: 'error', errorType: a.errorType ?? 'Error', body: bytes };
    },
  };
  return { c, calls };
}

describe('python()', () => {
  test('names must be dotted Python names', () => {
    expect(() => checkFunctionName('m.f')).not.toThrow();
    expect(() => checkFunctionName('pkg.mod.fn')).not.toThrow();
    for (const bad of ['f', 'm.', '1m.f', 'm-f.g', 42]) expect(() => checkFunctionName(bad)).toThrow(TypeError);
  });

  test('the payload goes as JSON; the JSON answer comes back decoded; the context is passed on', async () => {
    const { c, calls } = caller((_fn, body) => ({ kind: 'result', text: JSON.stringify({ got: JSON.parse(body) }) }));
    const score = makePython(() => c, { _X_AMZN_TRACE_ID: 'Root=1-x' })('model.score');
    const ctx = { awsRequestId: 'r', invokedFunctionArn: 'arn', tenantId: 't', getRemainingTimeInMillis: () => 1000 };
    expect(await score({ a: 1 }, { context: ctx })).toEqual({ got: { a: 1 } });
    expect(await score()).toEqual({ got: null });
    expect(calls[0]!.context).toMatchObject({ requestId: 'r', functionArn: 'arn', tenantId: 't', traceId: 'Root=1-x' });
    expect(calls[0]!.context!.deadlineMs).toBeGreaterThan(Date.now());
    expect(calls[1]!.context).toBeUndefined();
  });

  test('a Python exception is a PythonError with the Python side of it', async () => {
    const doc = { errorType: 'ValueError', errorMessage: 'no', stackTrace: ['  File "m.py", line 1'] };
    const { c } = caller(() => ({ kind: 'error', text: JSON.stringify(doc), errorType: 'ValueError' }));
    const err = await makePython(() => c, {})('m.f')().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PythonError);
    expect(err).toMatchObject({ name: 'PythonError', message: 'ValueError: no', errorType: 'ValueError', stackTrace: doc.stackTrace, fn: 'm.f', body: doc });
    // instanceof holds for an error made by another copy of the class (branded with a global symbol).
    expect(Object.defineProperty(new Error('x'), Symbol.for('tandem.PythonError'), { value: true })).toBeInstanceOf(PythonError);
  });

  test('a payload JSON cannot encode is a TypeError before anything is sent', async () => {
    const { c, calls } = caller(() => ({ kind: 'result', text: 'null' }));
    const o: Record<string, unknown> = {};
    o['o'] = o;
    await expect(makePython(() => c, {})('m.f')(o)).rejects.toThrow(/^python\('m\.f'\): the payload is not JSON-serialisable/);
    expect(calls).toEqual([]);
  });
});
