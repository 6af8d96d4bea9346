// Which host runs `_HANDLER`: the authority for the routing rule (docs/routing.md). `bootstrap` mirrors it
// in bash to decide whether to start the Python worker before Node; a test keeps the two in agreement.
//
//   `python:` prefix → Python; `node:` prefix → Node (the prefix is removed from the handler);
//   else `TANDEM_RUNTIME` (`python` | `node`) when set; else, by the files under the task root:
//   Python if a Python module file for the handler exists (`<root>/<module path>.py` or
//   `<root>/<module path>/__init__.py`, where the module path is the text before the last `.` with both
//   `.` and `/` read as directory separators);
//   else Node if a Node module exists, as AWS's Node client resolves one: `<p>` = `<root>/<dir>/<module>`
//   (`<dir>` everything up to the last `/`, `<module>` the last path segment up to its first `.`), and
//   `<p>.js|.mjs|.cjs` is a file, or `<p>` itself is a file (extensionless) or a directory holding
//   `package.json` or `index.js`; only when the handler has no `..`. A handler with no `.` at all counts
//   as Node when `<p>.js|.mjs|.cjs` exists (it then gets Node's Runtime.MalformedHandlerName);
//   else Python (so a missing module gets AWS Python's Runtime.ImportModuleError).
// Paths are joined as plain strings (`<root>/<...>`), exactly as the bash version does, and tested with
// stat (symlinks followed), as bash's `[[ -f ]]` / `[[ -d ]]`.
import { statSync } from 'node:fs';

export type Language = 'python' | 'node';

export interface Route {
  language: Language;
  /** The handler without any `python:`/`node:` prefix. */
  handler: string;
}

/** The values `TANDEM_RUNTIME` takes (unset or empty: decided per handler). */
export const LANGUAGES: readonly Language[] = ['python', 'node'];

function isFile(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
  } catch {
    return false;
  }
}

function isDir(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
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

/** `<root>/<dir>/<module>` for a handler, or undefined when it cannot name a Node module (`..`). */
function nodeModulePath(handler: string, root: string): string | undefined {
  if (handler.includes('..')) return undefined;
  const base = handler.slice(handler.lastIndexOf('/') + 1);
  const dot = base.indexOf('.');
  return `${root}/${handler.slice(0, handler.length - base.length)}${dot < 0 ? base : base.slice(0, dot)}`;
}

/** Node module file candidates with an extension (`.js`, `.mjs`, `.cjs`). */
export function nodeCandidates(handler: string, root: string): string[] {
  const p = nodeModulePath(handler, root);
  return p === undefined ? [] : [`${p}.js`, `${p}.mjs`, `${p}.cjs`];
}

/** True when a Node module exists for the handler (see the header). */
export function hasNodeModule(handler: string, root: string): boolean {
  const p = nodeModulePath(handler, root);
  if (p === undefined) return false;
  if (isFile(`${p}.js`) || isFile(`${p}.mjs`) || isFile(`${p}.cjs`)) return true;
  if (!handler.includes('.')) return false;
  return isFile(p) || (isDir(p) && (isFile(`${p}/package.json`) || isFile(`${p}/index.js`)));
}

/**
 * Routes a handler. `setting` is `TANDEM_RUNTIME`: `python` or `node` decides for every handler without a
 * prefix; unset or empty decides by the files; anything else is an error naming the variable.
 */
export function route(handler: string, root: string, setting?: string): Route {
  if (handler.startsWith('python:')) return { language: 'python', handler: handler.slice('python:'.length) };
  if (handler.startsWith('node:')) return { language: 'node', handler: handler.slice('node:'.length) };
  if (setting !== undefined && setting !== '') {
    if (setting === 'python' || setting === 'node') return { language: setting, handler };
    throw new Error(`tandem: TANDEM_RUNTIME must be python or node (or unset), got ${JSON.stringify(setting)}`);
  }
  if (pythonCandidates(handler, root).some(isFile)) return { language: 'python', handler };
  if (hasNodeModule(handler, root)) return { language: 'node', handler };
  return { language: 'python', handler };
}
