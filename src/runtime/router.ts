// Which host runs `_HANDLER`: the authority for the routing rule (docs/routing.md). `bootstrap` mirrors it
// in bash to decide whether to start the Python worker before Node; a test keeps the two in agreement.
//
//   `python:` prefix → Python; `node:` prefix → Node (the prefix is removed from the handler);
//   otherwise Python if a Python module file for the handler exists under the task root
//   (`<root>/<module path>.py` or `<root>/<module path>/__init__.py`, where the module path is the text
//   before the last `.` with both `.` and `/` read as directory separators);
//   otherwise Node if a Node module file exists (`<root>/<dir>/<module>.js|.mjs|.cjs`, where `<dir>` is
//   everything up to the last `/` and `<module>` the text of the last path segment before its first `.`;
//   only when that segment has a `.` and the handler has no `..`);
//   otherwise Python (so a missing module gets AWS Python's Runtime.ImportModuleError).
// Paths are joined as plain strings (`<root>/<...>`), exactly as the bash version does, and tested with
// stat (symlinks followed, regular files only), as bash's `[[ -f ]]`.
import { statSync } from 'node:fs';

export type Language = 'python' | 'node';

export interface Route {
  language: Language;
  /** The handler without any `python:`/`node:` prefix. */
  handler: string;
}

function isFile(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
  } catch {
    return false;
  }
}

/** Python module file candidates for a handler (empty when the handler has no `.`). */
export function pythonCandidates(handler: string, root: string): string[] {
  const dot = handler.lastIndexOf('.');
  if (dot < 0) return [];
  const mod = handler.slice(0, dot).replaceAll('.', '/');
  return [`${root}/${mod}.py`, `${root}/${mod}/__init__.py`];
}

/** Node module file candidates for a handler (empty when it cannot name a Node module). */
export function nodeCandidates(handler: string, root: string): string[] {
  const base = handler.slice(handler.lastIndexOf('/') + 1);
  if (!base.includes('.') || handler.includes('..')) return [];
  const p = `${root}/${handler.slice(0, handler.length - base.length)}${base.slice(0, base.indexOf('.'))}`;
  return [`${p}.js`, `${p}.mjs`, `${p}.cjs`];
}

export function route(handler: string, root: string): Route {
  if (handler.startsWith('python:')) return { language: 'python', handler: handler.slice('python:'.length) };
  if (handler.startsWith('node:')) return { language: 'node', handler: handler.slice('node:'.length) };
  if (pythonCandidates(handler, root).some(isFile)) return { language: 'python', handler };
  if (nodeCandidates(handler, root).some(isFile)) return { language: 'node', handler };
  return { language: 'python', handler };
}
