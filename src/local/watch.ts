// `--watch`: calls back (debounced) when a file under the task root changes. Ignores what the runtime and
// tools write by themselves (__pycache__, .pyc, .git, node_modules/.cache, editor swap files), so a Python
// import writing bytecode never triggers a restart loop.
import { watch, type FSWatcher } from 'node:fs';

const IGNORED = /(^|[\\/])(__pycache__|\.git|\.pytest_cache|\.mypy_cache|\.ruff_cache|\.venv|node_modules[\\/]\.cache)([\\/]|$)|\.py[co]$|\.sw[pox]$|~$|(^|[\\/])\.#|4913$/;

export function isIgnoredPath(file: string): boolean {
  return IGNORED.test(file);
}

export function watchTree(dir: string, onChange: (files: string[]) => void, debounceMs = 150): { close(): void } {
  let timer: NodeJS.Timeout | undefined;
  let changed = new Set<string>();
  const watcher: FSWatcher = watch(dir, { recursive: true }, (_event, name) => {
    const file = name ? String(name) : '';
    if (file && isIgnoredPath(file)) return;
    changed.add(file || '.');
    clearTimeout(timer);
    timer = setTimeout(() => {
      const files = [...changed];
      changed = new Set();
      onChange(files);
    }, debounceMs);
  });
  watcher.on('error', () => undefined);
  return {
    close() {
      clearTimeout(timer);
      watcher.close();
    },
  };
}
