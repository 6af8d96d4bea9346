// Response streaming from Node handlers (awslambda.streamifyResponse / HttpResponseStream.from) through a
// real runtime process and the emulator: chunks leave as they are written, the prelude, errors as trailers.
import { afterEach, describe, expect, test } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startRuntime, type Run } from './harness.ts';

let run: Run | undefined;
afterEach(async () => {
  await run?.stop();
  run = undefined;
});

const HANDLERS = `
import { existsSync } from 'node:fs';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Writes one chunk, then waits until the test has seen it (the test creates the marker file on receipt).
export const gated = awslambda.streamifyResponse(async (event, stream) => {
  stream.setContentType('text/plain');
  stream.write('first;');
  while (!existsSync(event.marker)) await sleep(5);
  stream.write('second');
  stream.end();
});

export const failLater = awslambda.streamifyResponse(async (event, stream) => {
  stream.write('partial;');
  await sleep(5);
  throw new TypeError('broke mid-stream');
});

export const failFirst = awslambda.streamifyResponse(async () => {
  throw new RangeError('before any byte');
});

export const notAsync = awslambda.streamifyResponse((event, stream) => {
  stream.write('x');
});

export const prelude = awslambda.streamifyResponse(async (event, stream) => {
  const http = awslambda.HttpResponseStream.from(stream, { statusCode: 418, headers: { 'x-a': 'b' } });
  http.write({ json: true });
  http.end();
});

export const endChunk = awslambda.streamifyResponse(async (event, stream) => {
  awslambda.HttpResponseStream.from(stream, { statusCode: 200 }).end('raw');
});

export const tooLate = awslambda.streamifyResponse(async (event, stream) => {
  stream.write('x');
  try {
    stream.setContentType('text/html');
  } catch (e) {
    stream.end(e.name + ': ' + e.message);
    return;
  }
  stream.end('not thrown');
});

// Nothing written, a promise nothing settles: the loop empties and the stream can never end.
export const never = awslambda.streamifyResponse(async () => new Promise(() => {}));

// The stream ended, a timer still pending: the invocation ends once the timer ran (the loop is empty).
export const lingering = awslambda.streamifyResponse(async (event, stream) => {
  stream.end('done');
  setTimeout(() => console.log('timer ran'), 30);
});

export const piped = awslambda.streamifyResponse(async (event, stream) => {
  const { Readable } = await import('node:stream');
  const { pipeline } = await import('node:stream/promises');
  await pipeline(Readable.from(['a', 'b', 'c']), stream);
});
`;

async function start(handler: string): Promise<Run> {
  run = await startRuntime({ files: { 'index.mjs': HANDLERS }, handler: `index.${handler}` });
  return run;
}

describe('Node streaming handlers', () => {
  test('a chunk reaches the client while the handler is still running', async () => {
    const r = await start('gated');
    const marker = join(r.taskRoot, 'seen-first');
    const seen: string[] = [];
    const result = await r.invoke(
      { marker },
      {
        onChunk(chunk) {
          seen.push(chunk.toString());
          // The handler cannot finish until this file exists: if chunks were held back until the end,
          // this would never run and the invocation would hang.
          if (seen.join('').includes('first;') && !existsSync(marker)) {
            return import('node:fs').then((fs) => fs.writeFileSync(marker, ''));
          }
        },
      },
    );
    expect(result).toMatchObject({ kind: 'response', streamed: true, contentType: 'text/plain' });
    if (result.kind === 'response') expect(result.body.toString()).toBe('first;second');
  });

  test('an error after the first write ends the stream with the error trailers', async () => {
    const r = await start('failLater');
    const result = await r.invoke({});
    expect(result.kind).toBe('error');
    if (result.kind !== 'error') return;
    expect(result.streamed).toBe(true);
    expect(result.errorType).toBe('TypeError');
    const doc = JSON.parse(result.body.toString());
    expect(doc).toMatchObject({ errorType: 'TypeError', errorMessage: 'broke mid-stream' });
    expect(doc.trace[0]).toBe('TypeError: broke mid-stream');
    const post = r.api.requests.find((q) => q.method === 'POST')!;
    expect(post.body.toString()).toBe('partial;');
    expect(post.trailers?.map(([k]) => k.toLowerCase())).toEqual([
      'lambda-runtime-function-error-type',
      'lambda-runtime-function-error-body',
    ]);
    // The runtime carries on.
    expect((await r.invoke({})).kind).toBe('error');
    expect(await r.finalStdout()).toMatch(/\tERROR\tInvoke Error \t\{"errorType":"TypeError","errorMessage":"broke mid-stream"/);
  });

  test('an error before the first write is a streaming POST with an empty body and the trailers', async () => {
    const r = await start('failFirst');
    const result = await r.invoke({});
    expect(result).toMatchObject({ kind: 'error', errorType: 'RangeError', streamed: true });
    const post = r.api.requests.find((q) => q.method === 'POST')!;
    expect(post.body.length).toBe(0);
    expect(post.headers.find(([k]) => k.toLowerCase() === 'content-type')?.[1]).toBe('application/octet-stream');
  });

  test('a streaming invocation that can never end gets Runtime.NodeJsExit in its trailers', async () => {
    const r = await start('never');
    const result = await r.invoke({});
    expect(result).toMatchObject({ kind: 'error', errorType: 'Runtime.NodeJsExit', streamed: true });
    expect((await r.invoke({})).kind).toBe('error');
  });

  test('after the stream ended, the invocation waits for the event loop to be empty', async () => {
    const r = await start('lingering');
    const result = await r.invoke({});
    expect(result).toMatchObject({ kind: 'response', streamed: true });
    if (result.kind === 'response') expect(result.body.toString()).toBe('done');
    // The timer's line belongs to this invocation: it ran before the runtime asked for the next one.
    await r.invoke({});
    const out = await r.finalStdout();
    const first = out.split('\n').find((l) => l.endsWith('\tINFO\ttimer ran'))!;
    expect(first.split('\t')[1]).toBe('00000000-0000-4000-8000-000000000001');
  });

  test('a handler that does not return a promise is reported as AWS reports it', async () => {
    const r = await start('notAsync');
    const result = await r.invoke({});
    expect(result).toMatchObject({ kind: 'error', errorType: 'string' });
    if (result.kind === 'error') {
      expect(JSON.parse(result.body.toString())).toEqual({
        errorType: 'string',
        errorMessage: 'Streaming does not support non-async handlers.',
        trace: [],
      });
    }
  });

  test('HttpResponseStream.from writes the prelude and 8 NUL bytes; objects are JSON-encoded', async () => {
    const r = await start('prelude');
    const result = await r.invoke({});
    expect(result).toMatchObject({ kind: 'response', contentType: 'application/vnd.awslambda.http-integration-response' });
    if (result.kind === 'response') {
      expect(result.body.toString('latin1')).toBe('{"statusCode":418,"headers":{"x-a":"b"}}' + '\0'.repeat(8) + '{"json":true}');
    }
  });

  test('end(chunk) writes the chunk as is, without the prelude (as 3.3.0, whose end() passes it straight on)', async () => {
    const r = await start('endChunk');
    const result = await r.invoke({});
    expect(result).toMatchObject({ kind: 'response', contentType: 'application/vnd.awslambda.http-integration-response' });
    if (result.kind === 'response') expect(result.body.toString()).toBe('raw');
  });

  test('setContentType after the first write throws Runtime.InvalidStreamingOperation', async () => {
    const r = await start('tooLate');
    const result = await r.invoke({});
    if (result.kind !== 'response') throw new Error(JSON.stringify(result));
    expect(result.body.toString()).toBe('xRuntime.InvalidStreamingOperation: Cannot set content-type, too late.');
  });

  test('stream.pipeline into the response stream', async () => {
    const r = await start('piped');
    const result = await r.invoke({});
    if (result.kind !== 'response') throw new Error(JSON.stringify(result));
    expect(result.body.toString()).toBe('abc');
  });
});
