// A response-streaming invocation (`awslambda.streamifyResponse`), with AWS's 3.x semantics: the handler is
// called with (event, responseStream, context) and must return a promise; a return value is ignored with a
// warning; the invocation lasts until the stream has ended, however long after the handler returned; a throw
// or rejection ends the stream with the error trailers (after what was written) and is logged as `Invoke
// Error`. Then, unless `context.callbackWaitsForEmptyEventLoop` was set to false, the invocation waits for
// the event loop to be empty (one invocation at a time only).
import { buildContext } from './context.ts';
import { NodeJsExit } from './errors.ts';
import { logError } from './log-patch.ts';
import { ResponseSink } from './response-stream.ts';
import { isPromise, startLikeAws, type InvocationHost, type RunningInvocation } from './invocation.ts';
import type { InvokeIO } from '../runtime/types.ts';

const NOT_ASYNC = 'Streaming does not support non-async handlers.';

/** Runs one streaming invocation; it ends with `run.finish({kind: 'streamed'})` once the POST has ended. */
export function invokeStreaming(host: InvocationHost, run: RunningInvocation, io: InvokeIO, highWaterMark: number | undefined): void {
  const sink = new ResponseSink((contentType) => io.openStream(contentType), highWaterMark);
  run.sink = sink;
  let waitForEmptyEventLoop = true;
  const context = {
    get callbackWaitsForEmptyEventLoop() {
      return waitForEmptyEventLoop;
    },
    set callbackWaitsForEmptyEventLoop(value: boolean) {
      waitForEmptyEventLoop = value;
    },
  };
  const failStream = async (err: unknown) => {
    logError('Invoke Error', err);
    await sink.fail(err);
  };
  // The loop emptied before the stream could end (the handler's promise never settles, nothing was written):
  // nothing can end it any more. AWS's client would leave its open POST to the function's timeout.
  host.loop?.set(() => {
    host.loop?.reset();
    void failStream(new NodeJsExit()).then(() => run.finish({ kind: 'streamed' }));
  });

  const runHandler = async (): Promise<void> => {
    try {
      const ctx = buildContext(context, run.inv, host.env, host.concurrent);
      const event = JSON.parse(run.inv.body.toString('utf8'));
      const returned = host.callHandler(run, event, sink.stream, ctx);
      if (!isPromise(returned)) {
        await failStream(NOT_ASYNC);
      } else {
        if ((await returned) !== undefined) console.warn('Streaming handlers ignore return values.');
        await sink.done;
      }
    } catch (err) {
      await failStream(err);
    }
    if (run.done) return;
    if (waitForEmptyEventLoop && host.loop) host.loop.set(() => run.finish({ kind: 'streamed' }));
    else run.finish({ kind: 'streamed' });
  };
  startLikeAws(() => {
    if (!run.done) void runHandler();
  });
}
