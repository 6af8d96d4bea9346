// python() outside the tandem runtime (a script or test importing `tandem-lambda`): one Python worker in
// `calls` mode, spawned on the first call with the runtime's own worker plumbing (src/python), calls queued
// one at a time. The worker imports modules from LAMBDA_TASK_ROOT (default: the working directory).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnWorker } from '../python/worker-process.ts';
import { resolveInterpreter } from '../python/interpreter.ts';
import { Worker } from '../python/worker.ts';
import type { PythonCaller, PythonCallResult } from './python-call.ts';

const SHUTDOWN_GRACE_MS = 500;
const MAX_FRAME_BYTES = 64 * 1024 * 1024;

/** bridge-py/worker.py: TANDEM_WORKER_SCRIPT, else the nearest `bridge-py/worker.py` above this file. */
function workerScript(env: NodeJS.ProcessEnv): string {
  const configured = env['TANDEM_WORKER_SCRIPT'];
  if (configured) return configured;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'bridge-py', 'worker.py');
    if (existsSync(candidate)) return candidate;
    const up = dirname(dir);
    if (up === dir) throw new Error('tandem-lambda: cannot find bridge-py/worker.py (set TANDEM_WORKER_SCRIPT)');
    dir = up;
  }
}

export function startStandalonePool(env: NodeJS.ProcessEnv = process.env): PythonCaller & { close(): Promise<void> } {
  let ready: Promise<Worker> | undefined;
  let tail: Promise<unknown> = Promise.resolve();

  const start = async (): Promise<Worker> => {
    const proc = spawnWorker({
      command: resolveInterpreter(env),
      args: [workerScript(env)],
      env: { ...env, TANDEM_FD_IN: '3', TANDEM_FD_OUT: '4', TANDEM_MODE: 'calls' },
    });
    const worker = new Worker(proc, MAX_FRAME_BYTES);
    const init = await worker.start();
    if (init.kind !== 'ready') {
      const detail = init.kind === 'initError' ? init.body.toString('utf8') : init.kind === 'failed' ? init.error.message : 'the worker exited';
      throw new Error(`tandem-lambda: the Python worker did not start: ${detail}`);
    }
    return worker;
  };

  return {
    call(fn, body, context): Promise<PythonCallResult> {
      const run = tail.then(async () => {
        ready ??= start();
        let worker: Worker;
        try {
          worker = await ready;
        } catch (err) {
          ready = undefined;
          throw err;
        }
        if (!worker.alive) {
          ready = start();
          worker = await ready;
        }
        return worker.call(fn, body, context);
      });
      tail = run.catch(() => {});
      return run;
    },
    async close() {
      const r = ready;
      ready = undefined;
      if (!r) return;
      const worker = await r.catch(() => undefined);
      await worker?.shutdown(SHUTDOWN_GRACE_MS);
    },
  };
}
