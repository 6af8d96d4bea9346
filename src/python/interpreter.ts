// Which Python runs the workers: TANDEM_PYTHON (absolute path preferred), else `python3` found on PATH.
// Resolved once per process. A worker's hello may name its real executable (`exe`, e.g. behind a pyenv
// shim, which costs ~60 ms per start); later spawns then use that directly.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { WorkerStartError } from '../runtime/errors.ts';
import { ENV } from '../runtime/env.ts';

let learned: string | undefined;

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The interpreter command to spawn. Throws WorkerStartError naming what was tried. */
export function resolveInterpreter(env: NodeJS.ProcessEnv = process.env): string {
  if (learned) return learned;
  const configured = env[ENV.python];
  const name = configured && configured !== '' ? configured : 'python3';
  if (name.includes('/')) {
    const path = isAbsolute(name) ? name : join(process.cwd(), name);
    if (!isExecutableFile(path)) {
      throw new WorkerStartError(`${ENV.python}=${name} is not an executable file`);
    }
    return path;
  }
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  const what = configured ? `${ENV.python}=${name}` : 'python3 (set TANDEM_PYTHON to choose an interpreter)';
  throw new WorkerStartError(`cannot find the Python interpreter: ${what} is not on PATH`);
}

/** Remembers the real executable a worker reported, for the next spawns. */
export function learnInterpreter(executable: unknown): void {
  if (typeof executable === 'string' && isAbsolute(executable) && !learned && isExecutableFile(executable)) {
    learned = executable;
  }
}
