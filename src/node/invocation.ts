// One Node invocation while it runs, and what the two ways of answering (buffered-invocation.ts,
// streaming-invocation.ts) need from the host: how to call the handler, whether to wait for the event loop,
// and the outcome's one way out (the first outcome wins; anything later is ignored).
import type { Invocation, InvokeOutcome } from '../runtime/types.ts';
import type { EmptyLoop } from './event-loop.ts';
import type { ResponseSink } from './response-stream.ts';

export const JSON_CONTENT_TYPE = 'application/json';

export class RunningInvocation {
  /** Set once the outcome is known. */
  done = false;
  /** A streaming invocation's response (an uncaught error then ends the stream with trailers). */
  sink: ResponseSink | undefined;

  constructor(
    readonly inv: Invocation,
    private readonly settle: (outcome: InvokeOutcome) => void,
  ) {}

  finish(outcome: InvokeOutcome): void {
    if (this.done) return;
    this.done = true;
    this.settle(outcome);
  }
}

/** What the invocation runners get from the host. */
export interface InvocationHost {
  readonly env: NodeJS.ProcessEnv;
  /** Lambda Managed Instances mode: several invocations at once, no waiting for the event loop. */
  readonly concurrent: boolean;
  /** The empty-loop listener; undefined in Lambda Managed Instances mode. */
  readonly loop: EmptyLoop | undefined;
  /** The handler is an `async function` (its unsettled promise is an error when the loop empties). */
  readonly handlerIsAsync: boolean;
  /** The handler declares a third parameter (a callback). */
  readonly handlerTakesCallback: boolean;
  /** Calls the user's handler (as the `handler` method of the Runtime, in the invocation's store context). */
  callHandler(run: RunningInvocation, a: unknown, b: unknown, c?: unknown): unknown;
}

export function isPromise(value: unknown): value is PromiseLike<unknown> {
  return Boolean(value && typeof (value as { then?: unknown }).then === 'function');
}

const RESOLVED = Promise.resolve();

/**
 * Runs `start` as AWS's client starts a handler: from a fresh macrotask, as a promise job that Node runs from
 * its native microtask checkpoint. The handler's own continuations then run in that checkpoint too, so an
 * error thrown after an `await` has no runtime frame below the handler's (not even `processTicksAndRejections`
 * when something queued a process.nextTick first, as Powertools' logger does on every line). `start` must not
 * throw.
 */
export function startLikeAws(start: () => void): void {
  setImmediate(() => void RESOLVED.then(start));
}
