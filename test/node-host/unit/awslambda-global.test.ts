// The `awslambda` global: streamifyResponse's marks and how the loader reads them back.
import { afterEach, describe, expect, test } from 'vitest';
import { installAwsLambdaGlobal, streamifyResponse, streamingMode } from '../../../src/node/awslambda-global.ts';
import { HttpResponseStream } from '../../../src/node/response-stream.ts';

const g = globalThis as Record<string, unknown>;
afterEach(() => {
  delete g['awslambda'];
});

describe('streamifyResponse and streamingMode', () => {
  test('a plain handler is not streaming; a streamified one is, with its highWaterMark', () => {
    expect(streamingMode(async () => {})).toEqual({ streaming: false, highWaterMark: undefined });
    const h = streamifyResponse(async () => {}, { highWaterMark: 1024 });
    expect(streamingMode(h)).toEqual({ streaming: true, highWaterMark: 1024 });
    expect(streamingMode(streamifyResponse(async () => {}, { highWaterMark: '5' }))).toEqual({ streaming: true, highWaterMark: undefined });
  });

  test('another streaming mode fails as 3.3.0 fails: ReferenceError', () => {
    const h = Object.assign(async () => {}, { [Symbol.for('aws.lambda.runtime.handler.streaming')]: 'other' });
    expect(() => streamingMode(h)).toThrow(new ReferenceError('MalformedStreamingHandler is not defined'));
  });
});

describe('installAwsLambdaGlobal', () => {
  test('replaces the global with streamifyResponse and HttpResponseStream (and the invoke store when given)', () => {
    g['awslambda'] = { stale: true };
    installAwsLambdaGlobal({});
    expect(g['awslambda']).toEqual({ streamifyResponse, HttpResponseStream });
    // As AWS's: a class with a static from().
    expect([typeof HttpResponseStream, HttpResponseStream.name, typeof HttpResponseStream.from]).toEqual(['function', 'HttpResponseStream', 'function']);
    const store = { getRequestId: () => 'r' };
    installAwsLambdaGlobal({}, store);
    expect((g['awslambda'] as Record<string, unknown>)['InvokeStore']).toBe(store);
  });

  test('AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA=1 or true: no global', () => {
    for (const v of ['1', 'true']) {
      installAwsLambdaGlobal({ AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA: v });
      expect(g['awslambda']).toBeUndefined();
    }
  });
});
