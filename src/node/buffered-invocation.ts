// A buffered invocation and its completion, with AWS's 3.x semantics. The handler completes by returning a
// promise, by `callback(err, result)`, or by `context.succeed/fail/done`; the first of these counts. An error
// is posted at once. A callback's result waits for the event loop to be empty (the default of
// `context.callbackWaitsForEmptyEventLoop`), then leaves one macrotask later. A handler that never completes
// gets, once nothing is left to run, `null` (sync and callback handlers) or Runtime.NodeJsExit (an
// `async function` whose promise never settled).
//
// Lambda Managed Instances mode (several invocations at once) never waits for the event loop, as AWS's 4.x
// client, the client of that mode: a callback posts at once, and a handler without a callback parameter that
// returns a plain value has that value posted.
import { NodeJsExit, toRapidResponse, xrayCause } from './errors.ts';
import { buildContext } from './context.ts';
import { logError } from './log-patch.ts';
import { JSON_CONTENT_TYPE, isPromise, startLikeAws, type InvocationHost, type RunningInvocation } from './invocation.ts';
import type { ErrorPost } from '../runtime/types.ts';

const UNSTRINGIFIABLE = 'Unable to stringify response body';

/** The response body: `JSON.stringify(result ?? null)`. */
export function responseBody(result: unknown): Buffer {
  let text: string | undefined;
  try {
    text = JSON.stringify(result === undefined ? null : result);
  } catch {
    throw new Error(UNSTRINGIFIABLE);
  }
  return Buffer.from(text ?? 'null');
}

/** An invocation's error post: the error document, JSON, with the X-Ray cause. */
export function invokeErrorPost(err: unknown): ErrorPost {
  const post: ErrorPost = { body: Buffer.from(JSON.stringify(toRapidResponse(err))), contentType: JSON_CONTENT_TYPE };
  const cause = xrayCause(err);
  if (cause) post.xrayCause = cause;
  return post;
}

/** The completion part of the context, and the callback: what the handler completes the invocation with. */
interface Completion {
  callback: (err?: unknown, result?: unknown) => void;
  context: {
    callbackWaitsForEmptyEventLoop: boolean;
    succeed: (result?: unknown) => void;
    fail: (err?: unknown) => void;
    done: (err?: unknown, result?: unknown) => void;
  };
  /** Whether the handler has completed by any of the four ways. */
  readonly completed: boolean;
  /** Called when the runtime completes the invocation itself: a later response is refused with a message. */
  markCompleted(): void;
}

function completion(host: InvocationHost, run: RunningInvocation): Completion {
  const { loop } = host;
  const whenEmpty = (action: () => void) => {
    // Only while this invocation runs: a late callback of an earlier one must not take over the listener.
    if (!run.done) loop?.set(action);
  };
  const postError = (err: unknown) => {
    logError('Invoke Error', err);
    run.finish({ kind: 'error', error: invokeErrorPost(err) });
  };
  let responded = false;
  /** Throws for a result JSON cannot encode, into whatever completed: as in AWS's client, that decides what follows. */
  const respond = (result: unknown) => {
    if (responded) {
      console.error('Invocation has already been reported as done. Cannot call complete more than once per invocation.');
      return;
    }
    responded = true;
    run.finish({ kind: 'response', contentType: JSON_CONTENT_TYPE, body: responseBody(result) });
  };
  const isError = (err: unknown) => err !== undefined && err !== null;

  let waitForEmptyEventLoop = true;
  let completed = false;
  /** Only the first completion of any kind counts (one that threw did not count). */
  const once =
    <A extends unknown[]>(fn: (...args: A) => void) =>
    (...args: A): void => {
      if (completed) return;
      fn(...args);
      completed = true;
    };
  const done = (err?: unknown, result?: unknown) => {
    whenEmpty(() => {});
    if (isError(err)) postError(err);
    else respond(result);
  };
  const callback = (err?: unknown, result?: unknown) => {
    whenEmpty(() => {});
    if (isError(err)) postError(err);
    else if (!waitForEmptyEventLoop || !loop) respond(result);
    // AWS's client posts from a fresh macrotask once the loop is empty.
    else whenEmpty(() => setImmediate(() => respond(result)));
  };
  return {
    callback: once(callback),
    context: {
      get callbackWaitsForEmptyEventLoop() {
        return waitForEmptyEventLoop;
      },
      set callbackWaitsForEmptyEventLoop(value: boolean) {
        waitForEmptyEventLoop = value;
      },
      succeed: once((result?: unknown) => done(null, result)),
      // fail() without an error still fails, with the string 'handled'.
      fail: once((err?: unknown) => (isError(err) ? done(err, null) : done('handled'))),
      done: once(done),
    },
    get completed() {
      return completed;
    },
    markCompleted() {
      responded = true;
    },
  };
}

/** Runs one buffered invocation; its outcome leaves through `run.finish`. */
export function invokeBuffered(host: InvocationHost, run: RunningInvocation): void {
  const c = completion(host, run);
  // Nothing left to run and no completion: AWS's client answers for the handler.
  host.loop?.set(() => {
    c.markCompleted();
    if (host.handlerIsAsync) {
      const error = new NodeJsExit();
      logError('Invoke Error', error);
      run.finish({ kind: 'error', error: invokeErrorPost(error) });
    } else {
      run.finish({ kind: 'response', contentType: JSON_CONTENT_TYPE, body: Buffer.from('null') });
    }
  });
  const runHandler = () => {
    if (run.done) return;
    let result: unknown;
    try {
      result = host.callHandler(run, JSON.parse(run.inv.body.toString('utf8')), buildContext(c.context, run.inv, host.env, host.concurrent), c.callback);
    } catch (err) {
      c.callback(err);
      return;
    }
    if (isPromise(result)) {
      (result as Promise<unknown>).then(c.context.succeed, c.context.fail).catch(c.context.fail);
    } else if (host.concurrent && !c.completed && !host.handlerTakesCallback) {
      // No event loop to wait for: the value a plain (event, context) handler returned is its answer.
      try {
        c.context.succeed(result);
      } catch (err) {
        c.context.fail(err);
      }
    }
  };
  startLikeAws(runHandler);
}
