// Response streaming for Node handlers: the `awslambda` global (`streamifyResponse`, `HttpResponseStream.from`)
// and the response stream a streaming handler writes to, with aws-lambda-ric 3.3.0's semantics: content type
// `application/octet-stream` unless set before the first write, non-binary chunks JSON.stringified, the
// HTTP-integration prelude (JSON + 8 NUL bytes) queued before the first write, and a failure ending the
// stream with the error trailers. The bytes go out through the runtime's StreamWriter as they are written.
import { Writable } from 'node:stream';
import type { PostOutcome, StreamWriter } from '../runtime/types.ts';
import { InvalidStreamingOperation, toRapidResponse } from './errors.ts';

export const HANDLER_STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
export const HANDLER_HIGHWATERMARK = Symbol.for('aws.lambda.runtime.handler.streaming.highWaterMark');
export const STREAM_RESPONSE = 'response';
export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';
export const HTTP_INTEGRATION_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';
const PRELUDE_DELIMITER_LEN = 8;

type WriteCallback = (error?: Error | null) => void;

export class ResponseStream extends Writable {
  /** Set by HttpResponseStream.from: writes the prelude before the first chunk. */
  _onBeforeFirstWrite: ((write: (chunk: string | Uint8Array) => void) => void) | undefined;
  private contentType = DEFAULT_CONTENT_TYPE;
  private writeCalled = false;
  private writer: StreamWriter | undefined;
  private failure: { errorType: string; body: Uint8Array } | undefined;
  private settle!: (outcome: PostOutcome | undefined) => void;
  /** Settles once the streaming POST has ended (normally or with trailers) or can no longer end. */
  readonly done: Promise<PostOutcome | undefined>;

  constructor(
    private readonly open: (contentType: string) => StreamWriter,
    highWaterMark?: number,
  ) {
    super(highWaterMark !== undefined ? { highWaterMark } : {});
    this.done = new Promise((r) => (this.settle = r));
    // AWS's request stream always has an error listener: a failed write must not become an uncaught exception.
    this.on('error', () => {});
    this.on('close', () => {
      if (!this.writableFinished) void this.abandon();
    });
  }

  setContentType(contentType: string): void {
    if (this.writeCalled) throw new InvalidStreamingOperation('Cannot set content-type, too late.');
    this.contentType = contentType;
  }

  override write(chunk: unknown, encoding?: unknown, cb?: unknown): boolean {
    if (typeof chunk !== 'string' && !Buffer.isBuffer(chunk) && (chunk as { constructor?: unknown })?.constructor !== Uint8Array) {
      chunk = JSON.stringify(chunk);
    }
    if (!this.writeCalled && typeof this._onBeforeFirstWrite === 'function') {
      this._onBeforeFirstWrite((ch) => super.write(ch));
    }
    this.writeCalled = true;
    return super.write(chunk, encoding as BufferEncoding, cb as WriteCallback);
  }

  /**
   * As in 3.3.0, whose `end` passes only its first argument to the request's own `end`: `end(cb)` ends with a
   * callback; `end(chunk, ...)` writes the chunk as is (no prelude, no JSON encoding) and drops the rest.
   */
  override end(chunk?: unknown): this {
    if (typeof chunk === 'function') return super.end(chunk as () => void);
    if (chunk !== undefined && chunk !== null) super.write(chunk);
    return super.end();
  }

  private writerFor(): StreamWriter {
    this.writer ??= this.open(this.contentType);
    return this.writer;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: WriteCallback): void {
    this.writerFor()
      .write(chunk)
      .then(
        () => callback(),
        (e: unknown) => callback(e as Error),
      );
  }

  override _final(callback: WriteCallback): void {
    const w = this.writerFor();
    const ended = this.failure ? w.fail(this.failure.errorType, this.failure.body) : w.end();
    ended.then(
      (outcome) => {
        this.settle(outcome);
        callback();
      },
      (e: unknown) => {
        this.settle(undefined);
        callback(e as Error);
      },
    );
  }

  /** Ends the stream with the error trailers for `err` (after what was already written) and waits for the post. */
  async fail(err: unknown): Promise<PostOutcome | undefined> {
    const doc = toRapidResponse(err);
    const failure = { errorType: doc.errorType, body: Buffer.from(JSON.stringify(doc)) };
    if (!this.writableEnded && !this.destroyed) {
      this.failure = failure;
      super.end();
    } else if (this.destroyed && !this.writableFinished) {
      this.failure = failure;
      await this.abandon();
    }
    return this.done;
  }

  /** The user destroyed the stream before it ended: close the POST (with the failure's trailers, if any). */
  private async abandon(): Promise<void> {
    const failure = this.failure ?? {
      errorType: 'Runtime.StreamDestroyed',
      body: Buffer.from(JSON.stringify({ errorType: 'Runtime.StreamDestroyed', errorMessage: 'The response stream was destroyed before it ended.', trace: [] })),
    };
    try {
      this.settle(await this.writerFor().fail(failure.errorType, failure.body));
    } catch {
      this.settle(undefined);
    }
  }
}

export const HttpResponseStream = {
  from(underlyingStream: ResponseStream, prelude: unknown): ResponseStream {
    underlyingStream.setContentType(HTTP_INTEGRATION_CONTENT_TYPE);
    const metadataPrelude = JSON.stringify(prelude);
    underlyingStream._onBeforeFirstWrite = (write) => {
      write(metadataPrelude);
      write(new Uint8Array(PRELUDE_DELIMITER_LEN));
    };
    return underlyingStream;
  },
};

/** `awslambda.streamifyResponse(handler, {highWaterMark})`: marks the handler as a response-streaming one. */
export function streamifyResponse<T extends object>(handler: T, options?: { highWaterMark?: unknown }): T {
  const h = handler as Record<symbol, unknown>;
  h[HANDLER_STREAMING] = STREAM_RESPONSE;
  if (typeof options?.highWaterMark === 'number') h[HANDLER_HIGHWATERMARK] = parseInt(String(options.highWaterMark));
  return handler;
}

/** Installs `globalThis.awslambda` unless AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA is 1/true. */
export function installAwsLambdaGlobal(env: NodeJS.ProcessEnv = process.env): void {
  const off = env['AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA'];
  if (off === '1' || off === 'true') return;
  (globalThis as Record<string, unknown>)['awslambda'] = { streamifyResponse, HttpResponseStream };
}

/** The handler's streaming mode and highWaterMark, as AWS's client reads them. */
export function streamingMetadata(handler: object): { streaming: boolean; highWaterMark: number | undefined } {
  const h = handler as Record<symbol, unknown>;
  const mode = h[HANDLER_STREAMING];
  let streaming = false;
  if (mode !== undefined && mode !== null && mode !== false) {
    // aws-lambda-ric 3.3.0 means to throw MalformedStreamingHandler here but never imported the class, so what
    // its users get is this ReferenceError (an init error).
    if (mode !== STREAM_RESPONSE) throw new ReferenceError('MalformedStreamingHandler is not defined');
    streaming = true;
  }
  const raw = h[HANDLER_HIGHWATERMARK];
  const hwm = raw === undefined || raw === null || raw === false ? undefined : parseInt(String(raw));
  return { streaming, highWaterMark: hwm === undefined || isNaN(hwm) ? undefined : hwm };
}
