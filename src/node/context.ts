// The context object a Node handler receives, with the properties of AWS's Node client's in the same order:
// the completion part (callbackWaitsForEmptyEventLoop, succeed/fail/done, or the streaming variant) first,
// then what the environment says about the function, then what this invocation's /next headers say
// (clientContext and identity parsed from JSON). Also points `_X_AMZN_TRACE_ID` at the invocation's trace.
import type { Invocation } from '../runtime/types.ts';

const TRACE_ENV = '_X_AMZN_TRACE_ID';

/** A JSON header value; undefined when absent, an invocation error when it is not JSON. */
function fromJsonHeader(value: string | undefined, what: string): unknown {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value);
  } catch (err) {
    throw new Error(`Cannot parse ${what} as json: ${String(err)}`);
  }
}

function functionFields(env: NodeJS.ProcessEnv) {
  return {
    functionVersion: env['AWS_LAMBDA_FUNCTION_VERSION'],
    functionName: env['AWS_LAMBDA_FUNCTION_NAME'],
    memoryLimitInMB: env['AWS_LAMBDA_FUNCTION_MEMORY_SIZE'],
    logGroupName: env['AWS_LAMBDA_LOG_GROUP_NAME'],
    logStreamName: env['AWS_LAMBDA_LOG_STREAM_NAME'],
  };
}

function invocationFields(inv: Invocation, concurrent: boolean) {
  const deadline = inv.deadlineMs;
  const fields = {
    clientContext: fromJsonHeader(inv.clientContext, 'ClientContext'),
    identity: fromJsonHeader(inv.cognitoIdentity, 'CognitoIdentity'),
    invokedFunctionArn: inv.functionArn,
    awsRequestId: inv.requestId,
    tenantId: inv.tenantId,
  };
  // With several invocations at once the trace id cannot live in the environment: AWS's 4.x client (the
  // client of Lambda Managed Instances) puts it on the context instead.
  if (concurrent) Object.assign(fields, { xRayTraceId: inv.traceId });
  return Object.assign(fields, {
    getRemainingTimeInMillis: function getRemainingTimeInMillis(): number {
      return deadline - Date.now();
    },
  });
}

/**
 * Completes `completion` (which keeps its own properties first) into the handler's context. One invocation
 * at a time (`concurrent` false): `_X_AMZN_TRACE_ID` is set to the invocation's trace id, or removed.
 */
export function buildContext<T extends object>(completion: T, inv: Invocation, env: NodeJS.ProcessEnv, concurrent: boolean): T {
  if (!concurrent) {
    if (inv.traceId) env[TRACE_ENV] = inv.traceId;
    else delete env[TRACE_ENV];
  }
  return Object.assign(completion, functionFields(env), invocationFields(inv, concurrent));
}
