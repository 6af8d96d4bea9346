// `--watch`: calls back (debounced) when a file under the task root changes. One non-recursive watcher per
// directory, all set up synchronously before watchTree returns (Node 20's recursive fs.watch on Linux scans
// the tree asynchronously and misses changes made right after it starts); directories created later are
// added as they appear. Ignores what the runtime and tools write by themselves (__pycache__, .pyc, .git,
// .venv, editor swap files), so a Python import writing bytecode never triggers a restart loop.
import { readdirSync, statSync, watch, type FSWatcher } from 'node:fs';
import { join, relative } from 'node:path';

const IGNORED = /(^|[\\/])(__pycache__|\.git|\.hg|\.pytest_cache|\.mypy_cache|\.ruff_cache|\.venv|node_modules[\\/]\.cache)([\\/]|$)|\.py[co]$|\.sw[pox]$|~$|(^|[\\/])\.#|(^|[\\/])4913$/;

/** Past this many directories, deeper ones are not watched (inotify watches are a limited resource). */
const MAX_DIRS = 4000;

export function isIgnoredPath(file: string): boolean {
  return IGNORED.test(file);
}

export function watchTree(root: string, onChange: (files: string[]) => void, debounceMs = 150): { close(): void } {
  const watchers = new Map<string, FSWatcher>();
  let timer: NodeJS.Timeout | undefined;
  let changed = new Set<string>();
  let closed = false;

  const changedFile = (file: string) => {
    changed.add(file);
    clearTimeout(timer);
    timer = setTimeout(() => {
      const files = [...changed];
      changed = new Set();
      if (!closed) onChange(files);
    }, debounceMs);
  };

  const add = (dir: string) => {
    if (closed || watchers.has(dir) || watchers.size >= MAX_DIRS) return;
    let w: FSWatcher;
    try {
      w = watch(dir, (_event, name) => {
        if (!name) return changedFile(relative(root, dir) || '.');
        const full = join(dir, String(name));
        const rel = relative(root, full);
        if (isIgnoredPath(rel)) return;
        try {
          if (statSync(full).isDirectory()) addTree(full);
        } catch {
          // removed: still a change
        }
        changedFile(rel);
      });
    } catch {
      return; // vanished or unreadable
    }
    w.on('error', () => {
      w.close();
      watchers.delete(dir);
    });
    watchers.set(dir, w);
  };

  const addTree = (dir: string) => {
    add(dir);
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const full = join(dir, e.name);
      if (!isIgnoredPath(relative(root, full))) addTree(full);
    }
  };

  addTree(root);
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      for (const w of watchers.values()) w.close();
      watchers.clear();
    },
  };
}
