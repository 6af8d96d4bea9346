// Python calls for Node handlers inside the runtime, with nothing to install: `globalThis.tandem.python` and
// `globalThis.tandem.PythonError`, backed by the runtime's Python pool (started on the first call only). The
// `tandem-lambda` package finds the same caller through a global symbol, so `import { python } from
// 'tandem-lambda'` in a handler uses the runtime's pool too. The pool's workers never keep the event loop
// alive themselves; a call in flight does (a callback handler waiting for an empty event loop waits for it).
import type { EmptyLoop } from './event-loop.ts';
import { makePython, PythonError, type PythonCaller } from './python-call.ts';

export type { PythonCaller } from './python-call.ts';

/** Where the runtime publishes its caller for the `tandem-lambda` package. */
export const RUNTIME_CALLER = Symbol.for('tandem.runtime.pythonCaller');
/** Where the runtime publishes its pre-start hook (a python() function was made). */
export const RUNTIME_WARM = Symbol.for('tandem.runtime.pythonWarm');

const WARM_FN = 'json.loads';
const WARM_BODY = Buffer.from('"null"');

/** `loop` is undefined in Lambda Managed Instances mode, where nothing waits for the event loop. */
export function installPythonGlobal(loop: EmptyLoop | undefined, getPool: (() => PythonCaller) | undefined): void {
  let pool: PythonCaller | undefined;
  const caller: PythonCaller = {
    call(fn, body, context) {
      if (!getPool) {
        return Promise.reject(new Error('tandem: this runtime was started without a Python pool, so python() cannot be used'));
      }
      const release = loop?.hold();
      let p: Promise<Awaited<ReturnType<PythonCaller['call']>>>;
      try {
        pool ??= getPool();
        p = pool.call(fn, body, context);
      } catch (err) {
        p = Promise.reject(err);
      }
      if (release) p.then(release, release);
      return p;
    },
  };
  // A handler that makes a python() function (usually at module scope, during init) will call Python: start
  // a worker now, so its start-up overlaps the rest of init instead of delaying the first call. A no-op
  // call (json.loads of "null") does it without output.
  let warmed = false;
  const warm = () => {
    if (warmed || !getPool) return;
    warmed = true;
    try {
      pool ??= getPool();
      pool.call(WARM_FN, WARM_BODY).catch(() => {});
    } catch {
      // the first real call reports the problem
    }
  };
  const g = globalThis as Record<string | symbol, unknown>;
  g[RUNTIME_CALLER] = caller;
  g[RUNTIME_WARM] = warm;
  g['tandem'] = Object.freeze({ python: makePython(() => caller, process.env, warm), PythonError });
}
