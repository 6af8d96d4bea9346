// The Python interpreters the multi-version suites run on: pyenv's 3.9-3.13 (the newest micro of each minor
// version under ~/.pyenv/versions) and Debian's /usr/bin/python3.11 (with simplejson, as AWS's runtime has it).
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const PYENV_VERSIONS = ['3.9', '3.10', '3.11', '3.12', '3.13'] as const;
export const DEBIAN_PYTHON = '/usr/bin/python3.11';

export interface Interpreter {
  /** `major.minor`. */
  version: string;
  label: string;
  /** Absolute path, or undefined when not installed. */
  python: string | undefined;
}

/** pyenv's interpreter for each of `versions` (undefined when that version is not installed). */
export function pyenvPythons(versions: readonly string[] = PYENV_VERSIONS): Interpreter[] {
  const root = join(homedir(), '.pyenv/versions');
  const found = new Map<string, string>();
  if (existsSync(root)) {
    const dirs = readdirSync(root)
      .filter((d) => /^\d+\.\d+\.\d+$/.test(d))
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    for (const d of dirs) {
      const exe = join(root, d, 'bin/python3');
      if (existsSync(exe)) found.set(d.split('.').slice(0, 2).join('.'), exe);
    }
  }
  return versions.map((v) => ({ version: v, label: `pyenv ${v}`, python: found.get(v) }));
}

/** Debian's python3.11, when installed. */
export function debianPython(): Interpreter {
  return { version: '3.11', label: DEBIAN_PYTHON, python: existsSync(DEBIAN_PYTHON) ? DEBIAN_PYTHON : undefined };
}
