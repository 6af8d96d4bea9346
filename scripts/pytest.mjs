// Runs the Python worker's unittest suite (bridge-py/tests) on the interpreter the runtime would use.
import { spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const python = process.env.TANDEM_PYTHON || 'python3';
const r = spawnSync(python, ['-m', 'unittest', 'discover', '-s', 'tests', '-t', '.', '-v'], {
  cwd: join(root, 'bridge-py'),
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
