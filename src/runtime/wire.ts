// Wire names and limits of the Lambda Runtime API as the runtime's own client uses them. The local emulator
// re-exports them (src/local/wire.ts); nothing here imports src/local.

/** tandem's version, sent as `User-Agent: tandem/<version>` (a test keeps it equal to package.json). */
export const VERSION = '0.1.0';
export const USER_AGENT = `tandem/${VERSION}`;

export const API_PREFIX = '/2018-06-01';
export const PATH_NEXT = `${API_PREFIX}/runtime/invocation/next`;
export const PATH_INIT_ERROR = `${API_PREFIX}/runtime/init/error`;
export const PATH_INVOCATION = `${API_PREFIX}/runtime/invocation/`;

/** Header names as sent (canonical spelling). */
export const HEADER = {
  requestId: 'Lambda-Runtime-Aws-Request-Id',
  deadline: 'Lambda-Runtime-Deadline-Ms',
  functionArn: 'Lambda-Runtime-Invoked-Function-Arn',
  traceId: 'Lambda-Runtime-Trace-Id',
  clientContext: 'Lambda-Runtime-Client-Context',
  cognitoIdentity: 'Lambda-Runtime-Cognito-Identity',
  tenantId: 'Lambda-Runtime-Aws-Tenant-Id',
  invocationId: 'Lambda-Runtime-Invocation-Id',
  errorType: 'Lambda-Runtime-Function-Error-Type',
  errorBody: 'Lambda-Runtime-Function-Error-Body',
  xrayCause: 'Lambda-Runtime-Function-XRay-Error-Cause',
  responseMode: 'Lambda-Runtime-Function-Response-Mode',
  contentType: 'Content-Type',
  contentLength: 'Content-Length',
  transferEncoding: 'Transfer-Encoding',
  trailer: 'Trailer',
  userAgent: 'User-Agent',
  host: 'Host',
} as const;

/** The same names lower-cased, as the response parser stores them. */
export const LC = {
  requestId: 'lambda-runtime-aws-request-id',
  deadline: 'lambda-runtime-deadline-ms',
  functionArn: 'lambda-runtime-invoked-function-arn',
  traceId: 'lambda-runtime-trace-id',
  clientContext: 'lambda-runtime-client-context',
  cognitoIdentity: 'lambda-runtime-cognito-identity',
  tenantId: 'lambda-runtime-aws-tenant-id',
  invocationId: 'lambda-runtime-invocation-id',
  contentType: 'content-type',
  contentLength: 'content-length',
  transferEncoding: 'transfer-encoding',
  connection: 'connection',
} as const;

export const STREAMING_MODE = 'streaming';
export const JSON_CONTENT_TYPE = 'application/json';

/** Lambda's buffered payload limit as RAPID checks it: 6 MiB + 100 bytes. */
export const MAX_BUFFERED_PAYLOAD_BYTES = 6 * 1024 * 1024 + 100;

/** Largest response head (status line + headers, or trailers) the client accepts. */
export const MAX_RESPONSE_HEAD_BYTES = 64 * 1024;

/** Largest response body the client accepts (an event from /next, or an error document). */
export const MAX_RESPONSE_BODY_BYTES = 64 * 1024 * 1024;
