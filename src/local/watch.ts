// `--watch`: calls back (debounced) when the code of a task root really changed. One non-recursive watcher
// per directory, all set up synchronously before watchTree returns (Node 20's recursive fs.watch on Linux
// scans the tree asynchronously and misses changes made right after it starts); directories created later
// are added as they appear. Two filters keep a single save from restarting the runtime more than once:
// - paths that tools write by themselves are ignored (bytecode, VCS and tool caches, virtualenvs, IDE
//   project files, editors' swap/backup/autosave files);
// - at the end of the debounce window each reported path is checked against what was last seen: a file
//   that appeared and vanished within the window (`sed -i`'s temp file, vim's `4913` probe, JetBrains'
//   `___jb_tmp___`), an attribute-only event on an unchanged file (same inode, size, mtime), or an event
//   on a directory itself is not a change.
import { readdirSync, statSync, watch, type FSWatcher, type Stats } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ToolError } from './local-function.ts';

const IGNORED_DIRS = [
  '__pycache__', '\\.git', '\\.hg', '\\.svn', '\\.pytest_cache', '\\.mypy_cache', '\\.ruff_cache', '\\.tox', '\\.nox',
  '\\.hypothesis', '\\.venv', 'venv', '\\.idea', '\\.vscode', '\\.aws-sam', 'htmlcov', 'node_modules[\\\\/]\\.cache',
];
const IGNORED_FILES = [
  '\\.py[co]$', // bytecode (Python 2 style, next to the source)
  '(^|[\\\\/])\\.[^\\\\/]*\\.s[a-w][a-z]$', // vim swap files: .name.swp, .swo, .swn, ..., .swx
  '~$', // backups (vim, emacs, nano)
  '(^|[\\\\/])\\.#', // emacs lock links
  '(^|[\\\\/])#[^\\\\/]*#$', // emacs autosave files
  '(^|[\\\\/])4913$', // vim's "can I write here" probe
  '___jb_(tmp|old)___$', // JetBrains safe write
  '(^|[\\\\/])\\.goutputstream-', // gedit / GIO safe write
  '\\.kate-swp$',
  '(^|[\\\\/])\\.DS_Store$',
  '(^|[\\\\/])\\.coverage(\\.|$)',
];
const IGNORED = new RegExp(`(^|[\\\\/])(${IGNORED_DIRS.join('|')})([\\\\/]|$)|${IGNORED_FILES.join('|')}`);

/** Past this many directories, deeper ones are not watched (inotify watches are a limited resource). */
const MAX_DIRS = 4000;

export function isIgnoredPath(file: string): boolean {
  return IGNORED.test(file);
}

const signature = (st: Stats): string => `${st.ino}:${st.size}:${st.mtimeMs}`;

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/**
 * Calls onChange with the paths (relative to root) that changed, debounced; `firstEventAt` is when the
 * first event of the batch arrived (performance.now()), so a caller can tell what happened while it was busy.
 */
export function watchTree(
  root: string,
  onChange: (files: string[], firstEventAt: number) => void,
  debounceMs = 150,
): { close(): void } {
  const watchers = new Map<string, FSWatcher>();
  /** Files known to exist (by path relative to root), with their last signature. */
  const files = new Map<string, string>();
  /** Directories known to exist (relative), root excluded. */
  const dirs = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let reported = new Set<string>();
  let firstEventAt = 0;
  let closed = false;

  /** The paths of the window that really changed; updates what is known. */
  const realChanges = (paths: string[]): string[] => {
    const real: string[] = [];
    for (const rel of paths) {
      const st = statOrUndefined(join(root, rel));
      if (!st) {
        // Gone: a change only if it existed before (a temp file that came and went is not).
        if (files.delete(rel)) real.push(rel);
        else if (dirs.delete(rel)) {
          real.push(rel);
          const prefix = rel + sep;
          for (const f of files.keys()) if (f.startsWith(prefix)) files.delete(f);
          for (const d of dirs) if (d.startsWith(prefix)) dirs.delete(d);
        }
        continue;
      }
      if (st.isDirectory()) {
        // A new directory counts once it holds files (addTree recorded them); events on a directory itself don't.
        if (!dirs.has(rel)) {
          dirs.add(rel);
          const prefix = rel + sep;
          if ([...files.keys()].some((f) => f.startsWith(prefix))) real.push(rel);
        }
        continue;
      }
      const sig = signature(st);
      if (files.get(rel) === sig) continue; // attributes only, or already reported
      files.set(rel, sig);
      real.push(rel);
    }
    return real;
  };

  const changedPath = (rel: string) => {
    if (reported.size === 0) firstEventAt = performance.now();
    reported.add(rel);
    clearTimeout(timer);
    timer = setTimeout(() => {
      const batch = [...reported];
      reported = new Set();
      if (closed) return;
      const real = realChanges(batch);
      if (real.length > 0) onChange(real, firstEventAt);
    }, debounceMs);
  };

  const add = (dir: string) => {
    if (closed || watchers.has(dir) || watchers.size >= MAX_DIRS) return;
    let w: FSWatcher;
    try {
      w = watch(dir, (_event, name) => {
        // No name, or an event on the watched directory itself (inotify names it by its own basename).
        if (!name) return;
        const full = join(dir, String(name));
        const rel = relative(root, full);
        if (isIgnoredPath(rel)) return;
        if (statOrUndefined(full)?.isDirectory()) addTree(full, false);
        changedPath(rel);
      });
    } catch (e) {
      if (dir === root) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new ToolError(
          `--watch: cannot watch ${root}: ${(e as Error).message}` +
            (code === 'EMFILE' || code === 'ENOSPC' ? ' (inotify limits: fs.inotify.max_user_instances / max_user_watches)' : ''),
        );
      }
      return; // vanished or unreadable
    }
    w.on('error', () => {
      w.close();
      watchers.delete(dir);
    });
    watchers.set(dir, w);
  };

  /** Watches dir and everything under it; files found are recorded as known (initially) or left to be reported. */
  const addTree = (dir: string, initial: boolean) => {
    add(dir);
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const full = join(dir, e.name);
      const rel = relative(root, full);
      if (isIgnoredPath(rel)) continue;
      if (e.isDirectory()) {
        if (initial) dirs.add(rel);
        addTree(full, initial);
      } else if (!files.has(rel)) {
        // Initially: the baseline an event is compared with. Later (a new directory): '' so that its files
        // count as changed.
        const st = initial ? statOrUndefined(full) : undefined;
        files.set(rel, st ? signature(st) : '');
      }
    }
  };

  addTree(root, true);
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      for (const w of watchers.values()) w.close();
      watchers.clear();
    },
  };
}
