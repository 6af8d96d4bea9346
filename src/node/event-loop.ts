// "The event loop is empty", as Node means it. AWS's Node client (3.x) posts a callback handler's result
// (callbackWaitsForEmptyEventLoop), a sync handler's `null` and an unsettled async handler's error from
// process 'beforeExit', which Node emits when nothing keeps the loop alive: no ref'd handle that is active,
// no pending request, no timer. tandem's process also holds the runtime's own handles, and none of them keeps
// the loop alive while a handler runs: the Runtime API connection is ref'd only while a request waits for its
// answer (src/runtime/connection.ts), the Python workers of python() calls are unref'd (src/python/pool.ts)
// and a call in flight holds the loop through `hold()`. So 'beforeExit' comes exactly when the user's work is
// done, whatever that work is: Node decides, not a list of resource types or async_hooks bookkeeping (a
// synchronous randomUUID() leaves an async resource that only garbage collection destroys).
//
// Only with one invocation at a time: in Lambda Managed Instances mode the other invocations' GET /next
// keep the loop alive, so 'beforeExit' never comes (the hosts do not wait for it there).

/** What runs when the loop is empty; set per phase (init, one invocation) by the Node host. */
type Action = () => void;

const NOTHING: Action = () => {};
/** A timer that never fires (the largest delay Node takes) keeps the loop alive while Python calls run. */
const FOREVER_MS = 2 ** 31 - 1;

export class EmptyLoop {
  private action: Action = NOTHING;
  private listening = false;
  private holds = 0;
  private holdTimer: NodeJS.Timeout | undefined;

  /** Starts listening for 'beforeExit' (once; before the user's module loads, so ours runs first). */
  listen(): void {
    if (this.listening) return;
    this.listening = true;
    process.on('beforeExit', () => this.action());
  }

  /** What runs the next time the loop is empty, instead of what was set before. */
  set(action: Action): void {
    this.action = action;
  }

  /** Nothing runs when the loop is empty. */
  reset(): void {
    this.action = NOTHING;
  }

  /**
   * Keeps the loop alive until the returned release is called (idempotent): for work the runtime does on
   * the user's behalf with handles that do not keep the loop alive themselves (a python() call).
   */
  hold(): () => void {
    if (this.holds++ === 0) this.holdTimer = setInterval(NOTHING, FOREVER_MS);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.holds === 0) {
        clearInterval(this.holdTimer);
        this.holdTimer = undefined;
      }
    };
  }
}
