// Runs the Python worker's unittest suite (bridge-py/tests) on the interpreter the runtime would use
// (TANDEM_PYTHON, else python3), and reports its counts. Run directly, it exits with unittest's status.
import { spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Runs the suite with its output on the terminal; returns unittest's status and counts. */
export function runPythonTests(python = process.env.TANDEM_PYTHON || 'python3') {
  console.log(`\nbridge-py unittest on ${python}`);
  const r = spawnSync(python, ['-m', 'unittest', 'discover', '-s', 'tests', '-t', '.', '-v'], {
    cwd: join(root, 'bridge-py'),
    stdio: ['ignore', 'inherit', 'pipe'],
    encoding: 'utf8',
  });
  const err = r.stderr ?? '';
  process.stderr.write(err);
  const ran = Number(/^Ran (\d+) tests?/m.exec(err)?.[1] ?? 0);
  const status = /^(OK|FAILED)(?: \((.*)\))?$/m.exec(err);
  const counts = Object.fromEntries(
    (status?.[2] ?? '').split(', ').filter(Boolean).map((kv) => {
      const [k, v] = kv.split('=');
      return [k, Number(v)];
    }),
  );
  const failed = (counts.failures ?? 0) + (counts.errors ?? 0) + (counts['unexpected successes'] ?? 0);
  const skipped = counts.skipped ?? 0;
  const code = r.status ?? 1;
  return {
    status: code,
    passed: Math.max(0, ran - failed - skipped),
    failed: failed || (code !== 0 ? 1 : 0),
    skipped,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exit(runPythonTests().status);
}
