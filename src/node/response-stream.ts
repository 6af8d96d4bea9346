// The response stream a streaming Node handler writes to, with the semantics of AWS's Node client: the content
// type is `application/octet-stream` unless set before the first write, chunks that are not strings or bytes
// are JSON.stringified, `awslambda.HttpResponseStream.from` queues the function-URL prelude (JSON, then 8 NUL
// bytes) before the first chunk, and a failure ends the stream with the error trailers after what was
// written. Each chunk goes to the Runtime API as it is written, through the runtime's StreamWriter.
//
// Two objects: the ResponseStream the handler gets (a Writable, so pipeline() and `instanceof Writable` work)
// and the ResponseSink behind it, which only the runtime can reach: user code cannot fail the stream, open
// the POST or change the prelude other than through the public methods.
import { Writable } from 'node:stream';
import type { PostOutcome, StreamWriter } from '../runtime/types.ts';
import { InvalidStreamingOperation, toRapidResponse } from './errors.ts';

const DEFAULT_CONTENT_TYPE = 'application/octet-stream';
const HTTP_INTEGRATION_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';
/** The 8 NUL bytes after the prelude (a fresh array each time: the caller may keep it). */
const preludeDelimiter = () => new Uint8Array(8);

type WriteCallback = (error?: Error | null) => void;

/** The failure a stream ends with: the error document's type, and the document itself. */
interface Failure {
  errorType: string;
  body: Uint8Array;
}

function failureOf(err: unknown): Failure {
  const doc = toRapidResponse(err);
  return { errorType: doc.errorType, body: Buffer.from(JSON.stringify(doc)) };
}

/** tandem's own: AWS's client has no answer for a stream its handler destroyed. */
const DESTROYED: Failure = {
  errorType: 'Runtime.StreamDestroyed',
  body: Buffer.from(JSON.stringify({ errorType: 'Runtime.StreamDestroyed', errorMessage: 'The response stream was destroyed before it ended.', trace: [] })),
};

/** The runtime's side of one response stream. */
export class ResponseSink {
  contentType = DEFAULT_CONTENT_TYPE;
  /** Written before the first chunk (set by HttpResponseStream.from). */
  prelude: string | undefined;
  /** True once the handler called write(): the content type is fixed from then on (end(chunk) does not count, as in 3.3.0). */
  started = false;
  /** Set once the POST is open: an uncaught error must then end it with trailers, never post /error. */
  opened = false;
  failure: Failure | undefined;
  private writer: StreamWriter | undefined;
  private settle!: (outcome: PostOutcome | undefined) => void;
  /** Settles once the POST has ended (normally or with trailers) or can no longer end. */
  readonly done: Promise<PostOutcome | undefined>;
  readonly stream: ResponseStream;

  constructor(
    private readonly open: (contentType: string) => StreamWriter,
    highWaterMark: number | undefined,
  ) {
    this.done = new Promise((resolve) => (this.settle = resolve));
    this.stream = new ResponseStream(this, highWaterMark);
  }

  /** The POST, opened with the content type on first use. */
  writerFor(): StreamWriter {
    if (!this.writer) {
      this.opened = true;
      this.writer = this.open(this.contentType);
    }
    return this.writer;
  }

  /** Ends the POST: normally, or with the trailers of the failure set before. */
  finish(): Promise<void> {
    const writer = this.writerFor();
    const ended = this.failure ? writer.fail(this.failure.errorType, this.failure.body) : writer.end();
    return ended.then(
      (outcome) => this.settle(outcome),
      (err: unknown) => {
        this.settle(undefined);
        throw err;
      },
    );
  }

  /** Ends the stream with the error trailers for `err` (after what was written) and waits for the POST. */
  async fail(err: unknown): Promise<PostOutcome | undefined> {
    const stream = this.stream;
    if (!stream.writableEnded && !stream.destroyed) {
      this.failure = failureOf(err);
      // Writable's own end: the handler-facing end() has AWS's argument rules.
      (Writable.prototype.end as () => Writable).call(stream);
    } else if (stream.destroyed && !stream.writableFinished) {
      this.failure = failureOf(err);
      await this.abandon();
    }
    return this.done;
  }

  /** The handler destroyed the stream before it ended: close the POST with trailers. */
  async abandon(): Promise<void> {
    const failure = this.failure ?? DESTROYED;
    try {
      this.settle(await this.writerFor().fail(failure.errorType, failure.body));
    } catch {
      this.settle(undefined);
    }
  }
}

/** The sink behind a stream of this runtime (undefined for any other object). */
let sinkOf: (stream: object) => ResponseSink | undefined;

/** What a streaming handler writes to: a Writable, plus `setContentType()`. */
export class ResponseStream extends Writable {
  readonly #sink: ResponseSink;

  static {
    sinkOf = (stream) => (#sink in stream ? stream.#sink : undefined);
  }

  constructor(sink: ResponseSink, highWaterMark?: number) {
    super(highWaterMark !== undefined ? { highWaterMark } : {});
    this.#sink = sink;
    // AWS's stream always has an error listener: a failed write must not become an uncaught exception.
    this.on('error', () => {});
    this.on('close', () => {
      if (!this.writableFinished) void sink.abandon();
    });
  }

  /** The content type of the response: only before the first write (Runtime.InvalidStreamingOperation after). */
  setContentType(contentType: string): void {
    if (this.#sink.started) throw new InvalidStreamingOperation('Cannot set content-type, too late.');
    this.#sink.contentType = contentType;
  }

  override write(chunk: unknown, encoding?: unknown, cb?: unknown): boolean {
    if (typeof chunk !== 'string' && !Buffer.isBuffer(chunk) && (chunk as { constructor?: unknown })?.constructor !== Uint8Array) {
      chunk = JSON.stringify(chunk);
    }
    const sink = this.#sink;
    if (!sink.started) {
      sink.started = true;
      if (sink.prelude !== undefined) {
        super.write(sink.prelude);
        super.write(preludeDelimiter());
      }
    }
    return super.write(chunk, encoding as BufferEncoding, cb as WriteCallback);
  }

  /**
   * As AWS's 3.x stream, whose `end` hands only its first argument on: `end(cb)` ends with a callback;
   * `end(chunk, ...)` writes the chunk as it is (no prelude, no JSON encoding) and ignores the rest.
   */
  override end(chunk?: unknown): this {
    if (typeof chunk === 'function') return super.end(chunk as () => void);
    if (chunk !== undefined && chunk !== null) super.write(chunk);
    return super.end();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: WriteCallback): void {
    this.#sink
      .writerFor()
      .write(chunk)
      .then(
        () => callback(),
        (e: unknown) => callback(e as Error),
      );
  }

  override _final(callback: WriteCallback): void {
    this.#sink.finish().then(
      () => callback(),
      (e: unknown) => callback(e as Error),
    );
  }
}

/** `awslambda.HttpResponseStream` (a class with a static `from`, as AWS's): the function-URL response on a stream. */
export class HttpResponseStream {
  static from(underlyingStream: ResponseStream, prelude: unknown): ResponseStream {
    underlyingStream.setContentType(HTTP_INTEGRATION_CONTENT_TYPE);
    const text = JSON.stringify(prelude);
    const sink = sinkOf(underlyingStream);
    if (sink) sink.prelude = text;
    else {
      // Not a stream of this runtime (a test double): the hook AWS's streams read before their first write.
      (underlyingStream as unknown as Record<string, unknown>)['_onBeforeFirstWrite'] = (write: (chunk: unknown) => void) => {
        write(text);
        write(preludeDelimiter());
      };
    }
    return underlyingStream;
  }
}
