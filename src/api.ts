// The public API of the `tandem-lambda` package (bundled to dist/api.mjs): `python(fn)` for Node code that
// calls Python functions, and the PythonError those calls throw.
//
// Inside the tandem runtime (a Node handler), calls go to the runtime's own Python pool, found through a
// global the Node host publishes (the same pool `globalThis.tandem.python` uses; nothing to configure).
// Anywhere else (a script, a test), the first call starts a Python worker in `calls` mode, with the
// interpreter from TANDEM_PYTHON (or python3 on PATH); `shutdownPython()` stops it.
import { makePython, type PythonCaller } from './node/python-call.ts';
import { startStandalonePool } from './node/standalone-pool.ts';

export { PythonError } from './node/python-call.ts';
export type {
  PythonFunction,
  PythonCallOptions,
  PythonCallContext,
  LambdaContextLike,
} from './node/python-call.ts';

const RUNTIME_CALLER = Symbol.for('tandem.runtime.pythonCaller');
const RUNTIME_WARM = Symbol.for('tandem.runtime.pythonWarm');

let standalone: (PythonCaller & { close(): Promise<void> }) | undefined;

function caller(): PythonCaller {
  const inRuntime = (globalThis as Record<symbol, unknown>)[RUNTIME_CALLER] as PythonCaller | undefined;
  if (inRuntime) return inRuntime;
  standalone ??= startStandalonePool();
  return standalone;
}

/**
 * `const score = python('model.score'); const out = await score(payload, { context })`: calls the Python
 * function `score` of module `model` (imported once, then reused) with the payload as JSON; resolves with the
 * decoded JSON result, rejects with a PythonError when the function raises.
 */
export const python = makePython(caller, process.env, () => {
  // In the runtime, making a python() function starts the pool's first worker (see src/node/python-bridge.ts).
  ((globalThis as Record<symbol, unknown>)[RUNTIME_WARM] as (() => void) | undefined)?.();
});

/** Stops the Python worker a standalone `python()` started (no-op inside the runtime or before any call). */
export async function shutdownPython(): Promise<void> {
  const s = standalone;
  standalone = undefined;
  await s?.close();
}
