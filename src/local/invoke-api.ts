// The HTTP front of serve mode: Lambda's Invoke API (what AWS's emulator, the AWS CLI with --endpoint-url
// and the SDKs call), the response-streaming invoke (InvokeWithResponseStream, event-stream framed, sent as
// produced), and function-URL-style requests on every other path. Requests are handed to the Supervisor,
// which queues them or runs them on several runtimes; nothing a client sends can take the server down.
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { randomUUID } from 'node:crypto';
import type { Supervisor, InvokeReport, InvokeListener } from './supervisor.ts';
import { MAX_BUFFERED_PAYLOAD_BYTES } from './wire.ts';
import { MAX_ASYNC_REQUEST_BYTES, MAX_SYNC_REQUEST_BYTES, REQUEST_TOO_LARGE, requestTooLargeMessage } from './invoke-limits.ts';
import { invokeCompleteEvent, payloadChunkEvent } from './event-stream.ts';
import { functionUrlEvent, httpAnswerOf } from './function-url.ts';
import { HTTP_INTEGRATION_CONTENT_TYPE, PreludeSplitter } from './http-prelude.ts';

export const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;
export const STREAM_INVOKE_PATH = /^\/2021-11-15\/functions\/([^/]+)\/response-streaming-invocations$/;

export { MAX_SYNC_REQUEST_BYTES, MAX_ASYNC_REQUEST_BYTES };
/** Bytes of log returned by `X-Amz-Log-Type: Tail`. */
export const TAIL_BYTES = 4096;

export const H = {
  invocationType: 'x-amz-invocation-type',
  logType: 'x-amz-log-type',
  clientContext: 'x-amz-client-context',
  functionError: 'X-Amz-Function-Error',
  logResult: 'X-Amz-Log-Result',
  executedVersion: 'X-Amz-Executed-Version',
  requestId: 'x-amzn-RequestId',
  errorType: 'x-amzn-ErrorType',
  traceId: 'x-amzn-trace-id',
} as const;

interface Body {
  bytes: Buffer;
  size: number;
  over: boolean;
}

/** Reads a request body up to `limit` bytes; past it the rest is drained and dropped. */
function readBody(req: http.IncomingMessage, limit: number): Promise<Body> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= limit) parts.push(c);
    });
    req.on('end', () => resolve({ bytes: Buffer.concat(parts), size, over: size > limit }));
    req.on('error', reject);
  });
}

function sendJson(res: http.ServerResponse, status: number, doc: unknown, headers: Record<string, string> = {}): void {
  const body = Buffer.from(JSON.stringify(doc));
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': body.length, ...headers });
  res.end(body);
}

/** An Invoke API error as Lambda's front end shapes it: `x-amzn-ErrorType` and {"Type","message"}. */
function apiError(res: http.ServerResponse, status: number, type: string, message: string, requestId: string): void {
  sendJson(res, status, { Type: 'User', message }, { [H.errorType]: type, [H.requestId]: requestId });
}

function tail(report: InvokeReport): string {
  return report.log.subarray(-TAIL_BYTES).toString('base64');
}

/** Writes with backpressure; resolves at once (dropping data) if the client has gone. */
function writeTo(res: http.ServerResponse, data: Buffer): Promise<void> {
  if (res.destroyed || res.writableEnded) return Promise.resolve();
  return new Promise((resolve) => {
    if (res.write(data)) return resolve();
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}

function decodeClientContext(raw: string | undefined): string | undefined | Error {
  if (raw === undefined || raw === '') return undefined;
  try {
    const text = Buffer.from(raw, 'base64').toString('utf8');
    const doc = JSON.parse(text) as unknown;
    if (!doc || typeof doc !== 'object') throw new Error('not an object');
    return text;
  } catch {
    return new Error('Client context must be a valid Base64-encoded JSON object.');
  }
}

export interface InvokeApiOptions {
  supervisor: Supervisor;
  log: (text: string) => void;
}

export function createInvokeApiServer(opts: InvokeApiOptions): http.Server {
  const server = http.createServer({ requestTimeout: 0, headersTimeout: 60_000 }, (req, res) => {
    handle(opts, req, res).catch((err: unknown) => {
      opts.log(`tandem: serve: ${(err as Error)?.stack ?? String(err)}\n`);
      if (!res.headersSent) sendJson(res, 500, { Type: 'Service', message: 'tandem local server error' }, { [H.errorType]: 'ServiceException' });
      else res.destroy();
    });
  });
  server.on('clientError', answerClientError);
  return server;
}

const CLIENT_ERRORS: Record<string, [number, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout'],
};

/**
 * A request Node's HTTP parser refused (not HTTP, a header too large, a bad Content-Length, a bad chunk):
 * answered with a status as Node's own server would (400, 431, 408), then the connection is closed. A
 * connection already reset, or one whose response has begun, is just closed.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) return void socket.destroy();
  const [status, reason] = CLIENT_ERRORS[err.code ?? ''] ?? [400, 'Bad Request'];
  const body = JSON.stringify({ message: reason });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
  );
}

async function handle(opts: InvokeApiOptions, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0]!;
  // Any method on the Invoke API paths invokes, as with AWS's emulator (a GET sends `{}`).
  if (INVOKE_PATH.test(path)) return invoke(opts, req, res);
  if (STREAM_INVOKE_PATH.test(path)) return invokeStreaming(opts, req, res);
  return functionUrl(opts, req, res);
}

interface Prepared {
  requestId: string;
  payload: Buffer;
  clientContext: string | undefined;
  tailLogs: boolean;
}

/** Common checks of both invoke paths; answers the client itself and returns undefined when it refused. */
async function prepare(req: http.IncomingMessage, res: http.ServerResponse, limit: number, operation: string): Promise<Prepared | undefined> {
  const requestId = randomUUID();
  const body = await readBody(req, limit);
  if (body.over) {
    apiError(res, 413, REQUEST_TOO_LARGE, requestTooLargeMessage(limit, operation), requestId);
    return undefined;
  }
  const cc = decodeClientContext(req.headers[H.clientContext] as string | undefined);
  if (cc instanceof Error) {
    apiError(res, 400, 'InvalidRequestContentException', cc.message, requestId);
    return undefined;
  }
  let payload = body.bytes;
  if (payload.length === 0) payload = Buffer.from('{}');
  try {
    JSON.parse(payload.toString('utf8'));
  } catch (e) {
    apiError(res, 400, 'InvalidRequestContentException', `Could not parse request body into json: ${(e as Error).message}`, requestId);
    return undefined;
  }
  const logType = String(req.headers[H.logType] ?? 'None');
  return { requestId, payload, clientContext: cc, tailLogs: logType === 'Tail' };
}

const TYPES = ['Event', 'RequestResponse', 'DryRun'];

function invocationType(req: http.IncomingMessage, res: http.ServerResponse, allowed: string[]): string | undefined {
  const type = String(req.headers[H.invocationType] ?? 'RequestResponse');
  if (!allowed.includes(type)) {
    req.resume();
    apiError(
      res,
      400,
      'ValidationException',
      `1 validation error detected: Value '${type}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [${allowed.join(', ')}]`,
      randomUUID(),
    );
    return undefined;
  }
  return type;
}

async function invoke(opts: InvokeApiOptions, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const type = invocationType(req, res, TYPES);
  if (!type) return;
  const limit = type === 'Event' ? MAX_ASYNC_REQUEST_BYTES : MAX_SYNC_REQUEST_BYTES;
  const p = await prepare(req, res, limit, type === 'Event' ? 'Invoke' : 'InvokeFunction');
  if (!p) return;
  if (type === 'DryRun') {
    res.writeHead(204, { [H.requestId]: p.requestId });
    return void res.end();
  }
  const request = {
    body: p.payload,
    requestId: p.requestId,
    ...(p.clientContext ? { clientContext: p.clientContext } : {}),
    ...(typeof req.headers[H.traceId] === 'string' ? { traceId: req.headers[H.traceId] as string } : {}),
  };
  if (type === 'Event') {
    res.writeHead(202, { [H.requestId]: p.requestId, 'Content-Length': 0 });
    res.end();
    opts.supervisor.invoke(request).catch((e: unknown) => opts.log(`tandem: async invocation ${p.requestId}: ${(e as Error).message}\n`));
    return;
  }
  const report = await opts.supervisor.invoke(request);
  const { result } = report;
  const headers: Record<string, string | number> = {
    [H.requestId]: report.requestId,
    [H.executedVersion]: opts.supervisor.config.version,
  };
  if (p.tailLogs) headers[H.logResult] = tail(report);
  let body = result.body;
  let contentType = 'application/json';
  if (result.kind === 'response' && result.streamed && result.body.length > MAX_BUFFERED_PAYLOAD_BYTES) {
    // A streamed answer to a buffered invoke is buffered, within the buffered limit.
    body = Buffer.from(
      JSON.stringify({
        errorMessage: `Response payload size exceeded maximum allowed payload size (${MAX_BUFFERED_PAYLOAD_BYTES} bytes).`,
        errorType: 'Function.ResponseSizeTooLarge',
      }),
    );
    headers[H.functionError] = 'Unhandled';
  } else if (result.kind === 'error') {
    headers[H.functionError] = 'Unhandled';
  } else if (result.contentType) {
    contentType = result.contentType;
  }
  res.writeHead(200, { 'Content-Type': contentType, 'Content-Length': body.length, ...headers });
  res.end(body);
}

async function invokeStreaming(opts: InvokeApiOptions, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const type = invocationType(req, res, ['RequestResponse', 'DryRun']);
  if (!type) return;
  const p = await prepare(req, res, MAX_SYNC_REQUEST_BYTES, 'InvokeWithResponseStream');
  if (!p) return;
  if (type === 'DryRun') {
    res.writeHead(204, { [H.requestId]: p.requestId });
    return void res.end();
  }
  const version = opts.supervisor.config.version;
  const open = (contentType: string, extra: Record<string, string> = {}) => {
    if (res.headersSent) return;
    res.writeHead(200, {
      'Content-Type': contentType,
      [H.requestId]: p.requestId,
      [H.executedVersion]: version,
      ...extra,
    });
    res.flushHeaders();
  };
  const listener: InvokeListener = {
    onStreamStart: (ct) => open(ct ?? 'application/octet-stream'),
    onChunk: (chunk) => writeTo(res, payloadChunkEvent(chunk)),
  };
  const report = await opts.supervisor.invoke(
    { body: p.payload, requestId: p.requestId, ...(p.clientContext ? { clientContext: p.clientContext } : {}) },
    listener,
  );
  const { result } = report;
  const complete: { ErrorCode?: string; ErrorDetails?: string; LogResult?: string } = {};
  if (result.kind === 'error') {
    open('application/json', { [H.functionError]: 'Unhandled' });
    complete.ErrorCode = result.errorType;
    complete.ErrorDetails = result.body.toString('utf8');
  } else if (!result.streamed) {
    open(result.contentType ?? 'application/json');
    if (result.body.length > 0) await writeTo(res, payloadChunkEvent(result.body));
  }
  if (p.tailLogs) complete.LogResult = tail(report);
  await writeTo(res, invokeCompleteEvent(complete));
  res.end();
}

async function functionUrl(opts: InvokeApiOptions, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const body = await readBody(req, MAX_SYNC_REQUEST_BYTES);
  if (body.over) return sendJson(res, 413, { Message: 'Request Entity Too Large' });
  const event = Buffer.from(JSON.stringify(functionUrlEvent(req, body.bytes)));
  let splitter: PreludeSplitter | undefined;
  const startPlain = (ct: string | undefined) => {
    res.writeHead(200, { 'Content-Type': ct ?? 'application/octet-stream' });
    res.flushHeaders();
  };
  const listener: InvokeListener = {
    onStreamStart(ct) {
      if (ct === HTTP_INTEGRATION_CONTENT_TYPE) splitter = new PreludeSplitter();
      else startPlain(ct);
    },
    async onChunk(chunk) {
      if (!splitter) return writeTo(res, chunk);
      const { prelude, body: rest } = splitter.push(chunk);
      if (prelude) {
        const headers: Array<[string, string]> = [];
        for (const [k, v] of Object.entries(prelude.headers ?? {})) headers.push([k, String(v)]);
        for (const [k, vs] of Object.entries(prelude.multiValueHeaders ?? {})) for (const v of vs) headers.push([k, String(v)]);
        for (const c of prelude.cookies ?? []) headers.push(['set-cookie', c]);
        if (!headers.some(([k]) => k.toLowerCase() === 'content-type')) headers.push(['content-type', 'application/octet-stream']);
        const status = Number(prelude.statusCode ?? 200);
        try {
          res.writeHead(Number.isInteger(status) && status >= 100 && status <= 599 ? status : 500, headers.flat());
        } catch (e) {
          // A header name or value HTTP cannot carry: the function's prelude is unusable.
          opts.log(`tandem: the streamed HTTP prelude cannot be sent: ${(e as Error).message}\n`);
          res.removeHeader('content-type');
          res.writeHead(502, { 'content-type': 'application/json' });
          res.end('{"Message":"Internal Server Error"}');
          return;
        }
        res.flushHeaders();
      }
      if (rest.length > 0) await writeTo(res, rest);
    },
  };
  const report = await opts.supervisor.invoke({ body: event }, listener);
  const { result } = report;
  if (result.kind === 'response' && result.streamed) {
    if (splitter && !res.headersSent) {
      const rest = splitter.end();
      startPlain('application/octet-stream');
      await writeTo(res, rest);
    }
    return void res.end();
  }
  if (result.kind === 'error') {
    if (res.headersSent) return void res.destroy(); // mid-stream failure: the client sees a cut response
    return sendJson(res, 502, { Message: 'Internal Server Error' }, { 'x-amzn-ErrorType': 'FunctionError', [H.requestId]: report.requestId });
  }
  const answer = httpAnswerOf(result.body, result.contentType);
  try {
    res.writeHead(answer.status, [...answer.headers, ['content-length', String(answer.body.length)]].flat());
  } catch (e) {
    opts.log(`tandem: the function's HTTP response cannot be sent: ${(e as Error).message}\n`);
    return sendJson(res, 502, { Message: 'Internal Server Error' });
  }
  res.end(answer.body);
}
