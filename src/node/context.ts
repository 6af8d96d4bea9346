// The context object a Node handler receives, built as aws-lambda-ric 3.3.0 builds it: the completion part
// (callbackWaitsForEmptyEventLoop, succeed/fail/done, or the streaming variant) first, then the fields from
// the environment, then those from the /next headers (clientContext and identity parsed as JSON). Also sets
// `_X_AMZN_TRACE_ID` for the invocation (deleted when the header is absent).
import type { Invocation } from '../runtime/types.ts';

function parseJson(value: string | undefined, name: string): unknown {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value);
  } catch (err) {
    throw new Error(`Cannot parse ${name} as json: ${String(err)}`);
  }
}

/** Adds the environment and header fields to `base` (which keeps its own properties first), as AWS does. */
export function attachEnvironmentData<T extends object>(base: T, inv: Invocation, env: NodeJS.ProcessEnv): T {
  if (inv.traceId) env['_X_AMZN_TRACE_ID'] = inv.traceId;
  else delete env['_X_AMZN_TRACE_ID'];
  const deadline = inv.deadlineMs;
  return Object.assign(
    base,
    {
      functionVersion: env['AWS_LAMBDA_FUNCTION_VERSION'],
      functionName: env['AWS_LAMBDA_FUNCTION_NAME'],
      memoryLimitInMB: env['AWS_LAMBDA_FUNCTION_MEMORY_SIZE'],
      logGroupName: env['AWS_LAMBDA_LOG_GROUP_NAME'],
      logStreamName: env['AWS_LAMBDA_LOG_STREAM_NAME'],
    },
    {
      clientContext: parseJson(inv.clientContext, 'ClientContext'),
      identity: parseJson(inv.cognitoIdentity, 'CognitoIdentity'),
      invokedFunctionArn: inv.functionArn,
      awsRequestId: inv.requestId,
      tenantId: inv.tenantId,
      getRemainingTimeInMillis(): number {
        return deadline - Date.now();
      },
    },
  );
}
