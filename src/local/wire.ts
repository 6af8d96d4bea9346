// Wire names and limits of the Lambda Runtime API, shared by the local emulator and its tests.
// (The runtime's own client keeps its copy in src/runtime/wire.ts, so the runtime bundle never imports src/local.)

export const API_PREFIX = '/2018-06-01';

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
} as const;

export const STREAMING_MODE = 'streaming';

/** Lambda's buffered payload limit as RAPID checks it: 6 MiB + 100 bytes. */
export const MAX_BUFFERED_PAYLOAD_BYTES = 6 * 1024 * 1024 + 100;

/** Lambda's streamed response limit: 200 MB. */
export const MAX_STREAMED_PAYLOAD_BYTES = 200 * 1024 * 1024;
