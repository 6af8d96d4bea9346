// Shared set-up for the local tool's tests: a function config pointing at the fixture runtime (or the real
// bootstrap), temp task roots that are removed afterwards, and a log collector.
import { mkdtempSync, rmSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import type { FunctionConfig } from '../../src/local/function-config.ts';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FIXTURE_RUNTIME = join(ROOT, 'test', 'fixtures', 'fixture-runtime.mjs');
export const BOOTSTRAP = join(ROOT, 'bootstrap');
export const CLI = join(ROOT, 'dist', 'cli.mjs');

/** True once the real bootstrap runs Python handlers (checked by running the example once). */
export function realBootstrapExists(): boolean {
  return existsSync(BOOTSTRAP);
}

export function tempDir(files: Record<string, string> = {}): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-local-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function fixtureConfig(over: Partial<FunctionConfig> = {}): FunctionConfig {
  return {
    handler: 'fixture.handler',
    taskRoot: ROOT,
    functionName: 'fixture-fn',
    version: '$LATEST',
    timeoutSec: 10,
    memoryMb: 128,
    region: 'us-east-1',
    bootstrap: [process.execPath, FIXTURE_RUNTIME],
    runtimeDir: ROOT,
    env: {},
    ...over,
  };
}

export class LogCollector {
  private readonly parts: Buffer[] = [];
  readonly sink = (c: Buffer | string) => void this.parts.push(Buffer.from(c));
  get text(): string {
    return Buffer.concat(this.parts).toString('utf8');
  }
}

/** True while the process exists and is not a zombie (an unreaped corpse is dead for our purposes). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export async function waitFor(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Makes sure dist/cli.mjs is current (`npm test` builds first; a direct `vitest run` may not have). If the
 * build fails because of work in progress elsewhere in the tree, an existing dist/cli.mjs is used as is.
 */
export function ensureCliBuilt(): void {
  try {
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), '--if-stale'], { cwd: ROOT, stdio: 'pipe' });
  } catch (e) {
    if (!existsSync(CLI)) throw e;
  }
}
