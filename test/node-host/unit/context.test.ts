// The context object of a Node handler (buildContext) and the invoke-store scope of an invocation.
import { describe, expect, test } from 'vitest';
import { buildContext } from '../../../src/node/context.ts';
import { invokeScope } from '../../../src/node/invoke-store.ts';
import type { Invocation } from '../../../src/runtime/types.ts';

const ENV = {
  AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
  AWS_LAMBDA_FUNCTION_NAME: 'fn',
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128',
  AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/fn',
  AWS_LAMBDA_LOG_STREAM_NAME: 'stream',
};

function inv(over: Partial<Invocation> = {}): Invocation {
  return { requestId: 'r-1', deadlineMs: Date.now() + 5000, functionArn: 'arn:fn', body: Buffer.from('{}'), ...over };
}

describe('buildContext', () => {
  test("AWS's property order: completion part, function fields, invocation fields", () => {
    const env = { ...ENV };
    const ctx = buildContext({ callbackWaitsForEmptyEventLoop: true }, inv({ tenantId: 't' }), env, false);
    expect(Object.keys(ctx)).toEqual([
      'callbackWaitsForEmptyEventLoop',
      'functionVersion',
      'functionName',
      'memoryLimitInMB',
      'logGroupName',
      'logStreamName',
      'clientContext',
      'identity',
      'invokedFunctionArn',
      'awsRequestId',
      'tenantId',
      'getRemainingTimeInMillis',
    ]);
    expect(ctx).toMatchObject({ memoryLimitInMB: '128', awsRequestId: 'r-1', tenantId: 't', invokedFunctionArn: 'arn:fn' });
    const left = (ctx as unknown as { getRemainingTimeInMillis(): number }).getRemainingTimeInMillis();
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(5000);
  });

  test('client context and identity are parsed; a bad one is an error naming it', () => {
    const ctx = buildContext({}, inv({ clientContext: '{"custom":{"a":1}}', cognitoIdentity: '{"cognitoIdentityId":"i"}' }), { ...ENV }, false);
    expect(ctx).toMatchObject({ clientContext: { custom: { a: 1 } }, identity: { cognitoIdentityId: 'i' } });
    expect(() => buildContext({}, inv({ clientContext: '{nope' }), { ...ENV }, false)).toThrow(/^Cannot parse ClientContext as json: SyntaxError: /);
  });

  test('one at a time: _X_AMZN_TRACE_ID follows the invocation (set, then removed)', () => {
    const env: NodeJS.ProcessEnv = { ...ENV };
    buildContext({}, inv({ traceId: 'Root=1-a' }), env, false);
    expect(env['_X_AMZN_TRACE_ID']).toBe('Root=1-a');
    buildContext({}, inv(), env, false);
    expect('_X_AMZN_TRACE_ID' in env).toBe(false);
  });

  test('several at once: the environment is left alone and the context has xRayTraceId', () => {
    const env: NodeJS.ProcessEnv = { ...ENV, _X_AMZN_TRACE_ID: 'someone else' };
    const ctx = buildContext({}, inv({ traceId: 'Root=1-b' }), env, true) as Record<string, unknown>;
    expect(env['_X_AMZN_TRACE_ID']).toBe('someone else');
    expect(ctx['xRayTraceId']).toBe('Root=1-b');
    expect(Object.keys(ctx).slice(-2)).toEqual(['xRayTraceId', 'getRemainingTimeInMillis']);
  });
});

describe('invokeScope', () => {
  test("the store's protected keys (global symbols) hold the invocation's ids", () => {
    const scope = invokeScope(inv({ traceId: 'Root=1-c', tenantId: 'blue' }));
    expect(scope[Symbol.for('_AWS_LAMBDA_REQUEST_ID')]).toBe('r-1');
    expect(scope[Symbol.for('_AWS_LAMBDA_X_RAY_TRACE_ID')]).toBe('Root=1-c');
    expect(scope[Symbol.for('_AWS_LAMBDA_TENANT_ID')]).toBe('blue');
    expect(Object.getOwnPropertySymbols(invokeScope(inv()))).toHaveLength(2);
  });
});
