// Before a `--watch` restart: removes the cached bytecode (`__pycache__/<module>.<tag>.pyc`) of the Python
// files that changed. Python trusts a .pyc whose recorded source mtime (whole seconds) and size match the
// source, so an edit that keeps the size (`return 1` -> `return 2`) saved within the same second as the
// previous compile would otherwise run the OLD code after the restart. Only bytecode of changed files is
// touched; Python writes it again at the next import.
import { readdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Removes the bytecode of every `.py` among `files` (paths relative to root); returns the removed paths. */
export function dropStaleBytecode(root: string, files: readonly string[]): string[] {
  const removed: string[] = [];
  for (const file of files) {
    if (!file.endsWith('.py')) continue;
    const cache = join(root, dirname(file), '__pycache__');
    const stem = basename(file, '.py');
    const own = new RegExp(`^${escape(stem)}\\.[^.]+(\\.opt-\\d+)?\\.pyc$`);
    let names: string[];
    try {
      names = readdirSync(cache);
    } catch {
      continue; // no cache directory
    }
    for (const name of names) {
      if (!own.test(name)) continue;
      try {
        rmSync(join(cache, name), { force: true });
        removed.push(join(cache, name));
      } catch {
        // unwritable cache: Python's own check still applies
      }
    }
  }
  return removed;
}
