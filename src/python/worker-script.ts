// Where the worker's entry script is: TANDEM_WORKER_SCRIPT, else `bridge-py/worker.py` found by walking up
// from this module's file (dist/runtime.mjs, dist/chunks/*.mjs, or src/python/*.ts in tests).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENV } from '../runtime/env.ts';
import { WorkerStartError } from '../runtime/errors.ts';

let found: string | undefined;

export function workerScript(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env[ENV.workerScript];
  if (configured) return configured;
  if (found) return found;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const candidate = join(dir, 'bridge-py', 'worker.py');
    if (existsSync(candidate)) return (found = candidate);
    dir = dirname(dir);
  }
  throw new WorkerStartError(`cannot find bridge-py/worker.py near ${fileURLToPath(import.meta.url)} (set ${ENV.workerScript})`);
}
