// Which file a handler string names, so the local tool can say "no such file" before starting anything.
// The language comes from the runtime's own router (src/runtime/router.ts, docs/routing.md: a prefix, then
// TANDEM_RUNTIME, then the files), so the tool and the runtime can never disagree about a handler.
import { statSync } from 'node:fs';
import { relative } from 'node:path';
import { nodeCandidates, pythonCandidates, route, type Language } from '../runtime/router.ts';

export type HandlerLanguage = Language;

export interface HandlerFile {
  language: HandlerLanguage;
  /** The file (or, for Node, module directory) found, relative to the task root; undefined when none exists. */
  file: string | undefined;
  /** Every file that was looked for, relative to the task root. */
  candidates: string[];
}

function exists(path: string, kind: 'file' | 'module-dir'): boolean {
  const s = statSync(path, { throwIfNoEntry: false });
  if (!s) return false;
  if (kind === 'file') return s.isFile();
  return s.isDirectory() && ['package.json', 'index.js'].some((f) => statSync(`${path}/${f}`, { throwIfNoEntry: false })?.isFile());
}

/**
 * Locates the handler's file under `taskRoot`; `undefined` when the handler string is malformed (no `.`).
 * `setting` is the function's `TANDEM_RUNTIME`; an invalid value throws the router's error.
 */
export function findHandlerFile(taskRoot: string, handler: string, setting?: string): HandlerFile | undefined {
  const routed = route(handler, taskRoot, setting);
  if (!routed.handler.includes('.')) return undefined;
  const rel = (p: string) => relative(taskRoot, p);
  if (routed.language === 'python') {
    const candidates = pythonCandidates(routed.handler, taskRoot);
    const found = candidates.find((p) => exists(p, 'file'));
    // Decided by the files and none exists: either language's file would have done.
    const decidedByFiles = routed.handler === handler && !setting;
    if (!found && decidedByFiles) candidates.push(...nodeCandidates(routed.handler, taskRoot));
    return { language: 'python', file: found && rel(found), candidates: candidates.map(rel) };
  }
  const withExt = nodeCandidates(routed.handler, taskRoot);
  const bare = withExt[0]?.slice(0, -'.js'.length);
  const found =
    withExt.find((p) => exists(p, 'file')) ??
    (bare !== undefined && (exists(bare, 'file') || exists(bare, 'module-dir')) ? bare : undefined);
  return { language: 'node', file: found && rel(found), candidates: withExt.map(rel) };
}
