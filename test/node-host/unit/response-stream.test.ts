// The response stream a streaming handler writes to, over a recording StreamWriter (what the runtime's
// streaming POST would carry: the content type it was opened with, the chunks, how it ended).
import { describe, expect, test } from 'vitest';
import { pipeline } from 'node:stream/promises';
import { Readable, Writable } from 'node:stream';
import { HttpResponseStream, ResponseSink } from '../../../src/node/response-stream.ts';
import type { Body, PostOutcome, StreamWriter } from '../../../src/runtime/types.ts';

class RecordingPost implements StreamWriter {
  contentType: string | undefined;
  chunks: Buffer[] = [];
  ended: 'end' | { errorType: string; body: unknown } | undefined;
  opened = 0;
  open = (contentType: string): StreamWriter => {
    this.opened++;
    this.contentType = contentType;
    return this;
  };
  async write(chunk: Body): Promise<void> {
    this.chunks.push(Buffer.concat(chunk instanceof Uint8Array ? [chunk] : [...chunk]));
  }
  async end(): Promise<PostOutcome> {
    this.ended = 'end';
    return { status: 202, body: Buffer.alloc(0) };
  }
  async fail(errorType: string, errorBody: Uint8Array): Promise<PostOutcome> {
    this.ended = { errorType, body: JSON.parse(Buffer.from(errorBody).toString('utf8')) };
    return { status: 202, body: Buffer.alloc(0) };
  }
  get text(): string {
    return Buffer.concat(this.chunks).toString('latin1');
  }
}

function make() {
  const post = new RecordingPost();
  const sink = new ResponseSink(post.open, undefined);
  return { post, sink, stream: sink.stream };
}

describe('ResponseStream', () => {
  test('a Writable: octet-stream by default, chunks in order, objects JSON-encoded, the POST opened once', async () => {
    const { post, sink, stream } = make();
    expect(stream).toBeInstanceOf(Writable);
    stream.write('a');
    stream.write(Buffer.from('b'));
    stream.write(new Uint8Array([99]));
    stream.write({ d: 1 });
    stream.end();
    expect(await sink.done).toEqual({ status: 202, body: Buffer.alloc(0) });
    expect(post).toMatchObject({ contentType: 'application/octet-stream', opened: 1, ended: 'end' });
    expect(post.text).toBe('abc{"d":1}');
  });

  test('setContentType before the first write only (Runtime.InvalidStreamingOperation after)', async () => {
    const { post, sink, stream } = make();
    stream.setContentType('text/plain');
    stream.write('x');
    expect(() => stream.setContentType('text/html')).toThrow(expect.objectContaining({ name: 'Runtime.InvalidStreamingOperation', message: 'Cannot set content-type, too late.' }));
    stream.end();
    await sink.done;
    expect(post.contentType).toBe('text/plain');
  });

  test('HttpResponseStream.from: the integration content type, the prelude and 8 NUL bytes before the first chunk', async () => {
    const { post, sink, stream } = make();
    const same = HttpResponseStream.from(stream, { statusCode: 201, headers: { a: 'b' } });
    expect(same).toBe(stream);
    stream.write('body');
    stream.end();
    await sink.done;
    expect(post.contentType).toBe('application/vnd.awslambda.http-integration-response');
    expect(post.text).toBe('{"statusCode":201,"headers":{"a":"b"}}' + '\0'.repeat(8) + 'body');
  });

  test('end(chunk) writes the chunk as it is, without the prelude (as 3.3.0)', async () => {
    const { post, sink, stream } = make();
    HttpResponseStream.from(stream, { statusCode: 200 });
    stream.end('raw');
    await sink.done;
    expect(post.text).toBe('raw');
  });

  test('user code reaches neither the sink nor a prelude hook', () => {
    const { stream } = make();
    const own = [...Object.getOwnPropertyNames(stream), ...Object.getOwnPropertyNames(Object.getPrototypeOf(stream))];
    for (const name of ['fail', '_onBeforeFirstWrite', 'sink', 'prelude', 'writerFor']) expect(own).not.toContain(name);
  });

  test('a failure after a write ends the POST with the error trailers after what was written', async () => {
    const { post, sink, stream } = make();
    stream.write('partial');
    const err = new Error('mid-stream');
    err.stack = 'Error: mid-stream';
    await sink.fail(err);
    expect(post.text).toBe('partial');
    expect(post.ended).toEqual({ errorType: 'Error', body: { errorType: 'Error', errorMessage: 'mid-stream', trace: ['Error: mid-stream'] } });
  });

  test('destroyed before it ended: the POST closes with Runtime.StreamDestroyed', async () => {
    const { post, sink, stream } = make();
    stream.write('x');
    stream.destroy();
    await sink.done;
    expect(post.ended).toMatchObject({ errorType: 'Runtime.StreamDestroyed' });
  });

  test('pipeline() into it', async () => {
    const { post, sink, stream } = make();
    await pipeline(Readable.from(['p', 'q']), stream);
    await sink.done;
    expect(post.text).toBe('pq');
  });

  test('HttpResponseStream.from on a stream of someone else sets the hook AWS\'s streams read', () => {
    const foreign = { setContentType: (t: string) => void (foreign.type = t), type: '' } as unknown as Record<string, unknown> & { type: string };
    HttpResponseStream.from(foreign as never, { statusCode: 200 });
    const written: unknown[] = [];
    (foreign['_onBeforeFirstWrite'] as (w: (c: unknown) => void) => void)((c) => written.push(c));
    expect(foreign.type).toBe('application/vnd.awslambda.http-integration-response');
    expect(written).toEqual(['{"statusCode":200}', new Uint8Array(8)]);
  });
});
