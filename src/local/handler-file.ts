// Which file a handler string names, so the local tool can say "no such file" before starting anything.
// Follows the runtime's routing (DESIGN §4): a `node:`/`python:` prefix wins; otherwise a `.js/.mjs/.cjs`
// file makes it a Node handler and anything else is Python (`pkg.module.func` -> pkg/module.py).
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export type HandlerLanguage = 'node' | 'python';

export interface HandlerFile {
  language: HandlerLanguage;
  /** The file found, relative to the task root; undefined when none exists. */
  file: string | undefined;
  /** Every file that was looked for, relative to the task root. */
  candidates: string[];
}

const NODE_EXTENSIONS = ['.js', '.mjs', '.cjs'];

function nodeCandidates(handler: string): string[] | undefined {
  const slash = handler.lastIndexOf('/');
  const dot = handler.indexOf('.', slash + 1);
  if (dot <= slash + 1 || dot === handler.length - 1) return undefined;
  const base = handler.slice(0, dot);
  return NODE_EXTENSIONS.map((e) => base + e);
}

function pythonCandidates(handler: string): string[] | undefined {
  const dot = handler.lastIndexOf('.');
  if (dot <= 0 || dot === handler.length - 1) return undefined;
  const mod = handler.slice(0, dot).replace(/\./g, '/');
  return [`${mod}.py`, `${mod}/__init__.py`];
}

/** Locates the handler's file under `taskRoot`; `undefined` when the handler string is malformed. */
export function findHandlerFile(taskRoot: string, handler: string): HandlerFile | undefined {
  let name = handler;
  let forced: HandlerLanguage | undefined;
  if (name.startsWith('node:')) [forced, name] = ['node', name.slice(5)];
  else if (name.startsWith('python:')) [forced, name] = ['python', name.slice(7)];
  const node = forced === 'python' ? undefined : nodeCandidates(name);
  const py = forced === 'node' ? undefined : pythonCandidates(name);
  if (!node && !py) return undefined;
  const nodeFile = node?.find((f) => existsSync(join(taskRoot, f)));
  if (nodeFile || forced === 'node') return { language: 'node', file: nodeFile, candidates: node ?? [] };
  const pyFile = py?.find((f) => existsSync(join(taskRoot, f)));
  return { language: 'python', file: pyFile, candidates: [...(py ?? []), ...(node ?? [])] };
}
