// Function-URL-style HTTP on the serve port: any request that is not an Invoke API call becomes the event a
// Lambda function URL sends (payload format 2.0), and the function's answer becomes the HTTP response as a
// function URL maps it: a {"statusCode", "headers", "cookies", "body", "isBase64Encoded"} object as given,
// any other JSON as a 200 application/json body. Streamed answers are handled by the caller.
import type { IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';

const URL_ID = 'tandemlocalfunctionurl0000000000';

function isTextType(contentType: string | undefined): boolean {
  if (!contentType) return true;
  const t = contentType.split(';')[0]!.trim().toLowerCase();
  return t.startsWith('text/') || /[/+](json|xml|javascript)$/.test(t) || t === 'application/x-www-form-urlencoded';
}

function clfTime(d: Date): string {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${months[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

export function functionUrlEvent(req: IncomingMessage, body: Buffer, now = new Date()): Record<string, unknown> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!.toLowerCase();
    const value = req.rawHeaders[i + 1]!;
    if (name === 'cookie') {
      cookies = [...(cookies ?? []), ...value.split(/;\s*/).filter(Boolean)];
      continue;
    }
    headers[name] = headers[name] !== undefined ? `${headers[name]},${value}` : value;
  }
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = query[k] !== undefined ? `${query[k]},${v}` : v;
  const rawQuery = (req.url ?? '').includes('?') ? (req.url ?? '').slice((req.url ?? '').indexOf('?') + 1) : '';
  const domain = headers.host ?? `${URL_ID}.lambda-url.us-east-1.on.aws`;
  const event: Record<string, unknown> = {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: rawQuery,
  };
  if (cookies) event.cookies = cookies;
  event.headers = headers;
  if (Object.keys(query).length > 0) event.queryStringParameters = query;
  event.requestContext = {
    accountId: 'anonymous',
    apiId: URL_ID,
    domainName: domain,
    domainPrefix: domain.split('.')[0],
    http: {
      method: req.method ?? 'GET',
      path: url.pathname,
      protocol: `HTTP/${req.httpVersion}`,
      sourceIp: req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1',
      userAgent: headers['user-agent'] ?? '',
    },
    requestId: randomUUID(),
    routeKey: '$default',
    stage: '$default',
    time: clfTime(now),
    timeEpoch: now.getTime(),
  };
  if (body.length > 0) {
    const text = isTextType(headers['content-type']);
    event.body = text ? body.toString('utf8') : body.toString('base64');
    event.isBase64Encoded = !text;
  } else {
    event.isBase64Encoded = false;
  }
  return event;
}

export interface HttpAnswer {
  status: number;
  headers: Array<[string, string]>;
  body: Buffer;
}

/** Maps a buffered function result to the HTTP response a function URL would send. */
export function httpAnswerOf(result: Buffer, contentType: string | undefined): HttpAnswer {
  let doc: unknown;
  try {
    doc = JSON.parse(result.toString('utf8'));
  } catch {
    return { status: 200, headers: [['content-type', contentType ?? 'application/octet-stream']], body: result };
  }
  if (doc && typeof doc === 'object' && !Array.isArray(doc) && 'statusCode' in doc) {
    const r = doc as { statusCode: unknown; headers?: Record<string, unknown>; cookies?: unknown; body?: unknown; isBase64Encoded?: unknown };
    const headers: Array<[string, string]> = [];
    for (const [k, v] of Object.entries(r.headers ?? {})) headers.push([k.toLowerCase(), String(v)]);
    if (!headers.some(([k]) => k === 'content-type')) headers.push(['content-type', 'application/json']);
    if (Array.isArray(r.cookies)) for (const c of r.cookies) headers.push(['set-cookie', String(c)]);
    const text = r.body === undefined || r.body === null ? '' : typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
    const body = r.isBase64Encoded === true ? Buffer.from(text, 'base64') : Buffer.from(text);
    const status = Number(r.statusCode);
    return { status: Number.isInteger(status) && status >= 100 && status <= 599 ? status : 500, headers, body };
  }
  return { status: 200, headers: [['content-type', 'application/json']], body: result };
}
