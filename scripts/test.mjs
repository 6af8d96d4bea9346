// `npm test`: type-check, the vitest suites, then the Python worker's unittest suite; ends with one plain
// summary line (`tests: N passed, N failed, N skipped`) over both runners. Exits non-zero if any step failed.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const run = (cmd, args, opts = {}) => spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });

let failedSteps = 0;

const tsc = run(process.execPath, [require.resolve('typescript/bin/tsc'), '--noEmit', '-p', 'tsconfig.json']);
if (tsc.status !== 0) {
  console.error('typecheck failed');
  failedSteps++;
}

const dir = mkdtempSync(join(tmpdir(), 'tandem-test-'));
const report = join(dir, 'vitest.json');
const vitestBin = join(dirname(require.resolve('vitest/package.json')), 'vitest.mjs');
const vitest = run(process.execPath, [vitestBin, 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)]);
let js = { passed: 0, failed: 0, skipped: 0 };
try {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  js = { passed: r.numPassedTests, failed: r.numFailedTests, skipped: r.numPendingTests + r.numTodoTests };
} catch {
  js.failed = 1; // no report: vitest itself failed
}
rmSync(dir, { recursive: true, force: true });
if (vitest.status !== 0 && js.failed === 0) failedSteps++;

const { runPythonTests } = await import(pathToFileURL(join(root, 'scripts', 'pytest.mjs')).href);
// The worker's own suite on the runtime's interpreter, and on Debian's python3.11 (with simplejson) when present.
const interpreters = [process.env.TANDEM_PYTHON || 'python3'];
if (existsSync('/usr/bin/python3.11') && !interpreters.includes('/usr/bin/python3.11')) interpreters.push('/usr/bin/python3.11');
const py = { status: 0, passed: 0, failed: 0, skipped: 0 };
for (const python of interpreters) {
  const r = runPythonTests(python);
  py.status ||= r.status;
  py.passed += r.passed;
  py.failed += r.failed;
  py.skipped += r.skipped;
}

const passed = js.passed + py.passed;
const failed = js.failed + py.failed + failedSteps;
const skipped = js.skipped + py.skipped;
console.log(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || vitest.status !== 0 || py.status !== 0 ? 1 : 0);
