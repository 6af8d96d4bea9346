// The per-invocation store of Lambda Managed Instances mode: `globalThis.awslambda.InvokeStore`, which AWS's
// 4.x Node client provides and Powertools and the AWS SDK read to keep the request id, trace id and their own
// per-invocation state apart while several invocations run at once. It is AWS's own implementation, the npm
// package `@aws/lambda-invoke-store` (the one those libraries depend on), bundled into the Node host and
// loaded only in that mode: a Python function, or a Node one with one invocation at a time, never loads it.
import type { InvokeStoreBase } from '@aws/lambda-invoke-store';
import type { Invocation } from '../runtime/types.ts';

export type InvokeStore = InvokeStoreBase;

/** The store for concurrent invocations (AsyncLocalStorage based); the package also puts it on the global. */
export async function createInvokeStore(): Promise<InvokeStore> {
  const { InvokeStore } = await import('@aws/lambda-invoke-store');
  return InvokeStore.getInstanceAsync(true);
}

/** The store's protected keys: global symbols (Symbol.for), the same in every copy of the package. */
const KEY_REQUEST_ID = Symbol.for('_AWS_LAMBDA_REQUEST_ID');
const KEY_X_RAY_TRACE_ID = Symbol.for('_AWS_LAMBDA_X_RAY_TRACE_ID');
const KEY_TENANT_ID = Symbol.for('_AWS_LAMBDA_TENANT_ID');

/** What one invocation's code sees in the store: its request id, trace id and (when it has one) tenant id. */
export function invokeScope(inv: Invocation): Record<symbol, unknown> {
  const scope: Record<symbol, unknown> = { [KEY_REQUEST_ID]: inv.requestId, [KEY_X_RAY_TRACE_ID]: inv.traceId };
  if (inv.tenantId !== undefined) scope[KEY_TENANT_ID] = inv.tenantId;
  return scope;
}
