// The `awslambda` global AWS's Node client gives handlers: `streamifyResponse` (marks a handler as a
// response-streaming one, on the symbols the loader reads back), `HttpResponseStream`, and in Lambda Managed
// Instances mode the per-invocation `InvokeStore` (as AWS's 4.x client adds it). Not installed when
// AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA is `1` or `true`.
import { HttpResponseStream } from './response-stream.ts';

const HANDLER_STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const HANDLER_HIGHWATERMARK = Symbol.for('aws.lambda.runtime.handler.streaming.highWaterMark');
/** The one streaming mode there is. */
const STREAM_RESPONSE = 'response';

type Marks = Record<symbol, unknown>;

/** `awslambda.streamifyResponse(handler, {highWaterMark})`. */
export function streamifyResponse<T extends object>(handler: T, options?: { highWaterMark?: unknown }): T {
  const marks = handler as Marks;
  marks[HANDLER_STREAMING] = STREAM_RESPONSE;
  if (typeof options?.highWaterMark === 'number') marks[HANDLER_HIGHWATERMARK] = parseInt(String(options.highWaterMark));
  return handler;
}

function unset(value: unknown): boolean {
  return value === undefined || value === null || value === false;
}

export interface StreamingMode {
  streaming: boolean;
  highWaterMark: number | undefined;
}

/** How a loaded handler wants to answer, from the marks streamifyResponse left on it. */
export function streamingMode(handler: object): StreamingMode {
  const marks = handler as Marks;
  const mode = marks[HANDLER_STREAMING];
  // AWS's 3.3.0 client means to throw MalformedStreamingHandler for any other mode, but never imported that
  // class: what its users get is this ReferenceError, an init error.
  if (!unset(mode) && mode !== STREAM_RESPONSE) throw new ReferenceError('MalformedStreamingHandler is not defined');
  const hwm = unset(marks[HANDLER_HIGHWATERMARK]) ? NaN : parseInt(String(marks[HANDLER_HIGHWATERMARK]));
  return { streaming: !unset(mode), highWaterMark: isNaN(hwm) ? undefined : hwm };
}

/** Whether the global is to be installed at all. */
function globalWanted(env: NodeJS.ProcessEnv): boolean {
  const off = env['AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA'];
  return off !== '1' && off !== 'true';
}

/** Installs (replaces, as 3.x does) `globalThis.awslambda`; `invokeStore` is added when given. */
export function installAwsLambdaGlobal(env: NodeJS.ProcessEnv, invokeStore?: object): void {
  if (!globalWanted(env)) return;
  const awslambda: Record<string, unknown> = { streamifyResponse, HttpResponseStream };
  if (invokeStore) awslambda['InvokeStore'] = invokeStore;
  (globalThis as Record<string, unknown>)['awslambda'] = awslambda;
}
