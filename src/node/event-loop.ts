// "The event loop is empty", as far as user code is concerned. aws-lambda-ric 3.x posts a callback handler's
// result (callbackWaitsForEmptyEventLoop, the default) and a sync handler's `null` from process 'beforeExit'.
// In tandem the process also holds the runtime's own handles (the Runtime API socket, Python workers), so
// beforeExit never comes; instead every async resource created by user code (module load, handler calls, and
// everything they schedule, followed through AsyncLocalStorage) is tracked with async_hooks, and the loop
// counts as empty when none of them still keeps Node alive (a ref'd handle, a pending request, a queued tick).
import { AsyncLocalStorage, createHook, type AsyncHook } from 'node:async_hooks';

const USER = Symbol('tandem.user');
const als = new AsyncLocalStorage<symbol>();

/** Resource types that keep the loop alive until destroyed (unless they have hasRef() and are unref'd). */
const KEEPS_ALIVE =
  /^(Timeout|Immediate|TickObject|Microtask|ZLIB|JSSTREAM|STREAMPIPE|WORKER|MESSAGEPORT|DNSCHANNEL|FSREQPROMISE|FSEVENTWRAP|STATWATCHER|SIGNALWRAP|.*WRAP|.*REQUEST|.*REQ)$/;
const NEVER = new Set(['PROMISE', 'HTTPINCOMINGMESSAGE', 'HTTPCLIENTREQUEST']);

const RECHECK_MS = 25;

interface Waiter {
  resolve(): void;
}

export class UserEventLoop {
  private readonly pending = new Map<number, { hasRef?: () => boolean }>();
  private hook: AsyncHook | undefined;
  private waiter: Waiter | undefined;
  private checkQueued = false;
  private holds = 0;
  /** False once disable() was called. */
  tracking = true;

  /** Starts tracking (before the user's module loads). */
  enable(): void {
    if (this.hook) return;
    this.hook = createHook({
      init: (id, type, _trigger, resource) => {
        if (NEVER.has(type) || !KEEPS_ALIVE.test(type)) return;
        if (als.getStore() !== USER) return;
        this.pending.set(id, resource as { hasRef?: () => boolean });
      },
      destroy: (id) => {
        if (this.pending.delete(id) && this.waiter) this.queueCheck();
      },
    }).enable();
  }

  /**
   * Stops tracking for good (async handlers: their response never waits for the loop, and async_hooks plus
   * AsyncLocalStorage cost every promise and await a JS callback). whenEmpty() then never resolves.
   */
  disable(): void {
    this.hook?.disable();
    this.hook = undefined;
    this.pending.clear();
    this.waiter = undefined;
    als.disable();
    this.tracking = false;
  }

  /** Runs fn as user code: what it creates (and what that creates) is tracked. */
  runAsUser<T>(fn: () => T): T {
    return this.tracking ? als.run(USER, fn) : fn();
  }

  /** Runs fn as runtime code: nothing it creates counts as the user's. */
  runAsRuntime<T>(fn: () => T): T {
    return this.tracking ? als.exit(fn) : fn();
  }

  /** Whether user code is what is running now. */
  get inUserCode(): boolean {
    return als.getStore() === USER;
  }

  /** Resolves once no user resource keeps the loop alive; one waiter at a time (a new one replaces the old). */
  whenEmpty(): Promise<void> {
    if (!this.tracking) return new Promise<void>(() => {});
    return new Promise<void>((resolve) => {
      this.waiter = { resolve };
      this.queueCheck();
    });
  }

  /** Stops waiting (the waiter's promise never resolves). */
  cancel(): void {
    this.waiter = undefined;
  }

  /** Counts an operation the runtime runs for user code (a Python call) as pending user work until released. */
  hold(): () => void {
    this.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
      if (this.waiter) this.queueCheck();
    };
  }

  private alive(): boolean {
    if (process.env['TANDEM_DEBUG_DRAIN']) {
      const kinds = [...this.pending.values()].map((r) => `${r.constructor?.name}:${typeof r.hasRef === 'function' ? r.hasRef() : '-'}`);
      process.stderr.write(`tandem drain: holds=${this.holds} pending=${kinds.join(',')}\n`);
    }
    if (this.holds > 0) return true;
    for (const r of this.pending.values()) {
      if (typeof r.hasRef !== 'function') return true;
      try {
        if (r.hasRef()) return true;
      } catch {
        return true;
      }
    }
    return false;
  }

  private queueCheck(): void {
    if (this.checkQueued) return;
    this.checkQueued = true;
    als.exit(() =>
      setImmediate(() => {
        this.checkQueued = false;
        const w = this.waiter;
        if (!w) return;
        if (this.alive()) {
          // A handle can be unref'd without being destroyed (a keep-alive socket going back to its pool).
          als.exit(() => setTimeout(() => this.waiter === w && this.queueCheck(), RECHECK_MS));
          return;
        }
        this.waiter = undefined;
        w.resolve();
      }),
    );
  }
}
