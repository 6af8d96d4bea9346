// Shared pieces of the fault suite: the real `bootstrap` (test/runtime/run-bootstrap.ts) with the
// misbehaving function of fixtures/faults.py, cleanup after each test, and what /proc says about the
// processes involved (alive or not, children, fds), so a test can prove nothing hangs and nothing leaks.
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { runBootstrap, type Run, type RunOptions } from '../runtime/run-bootstrap.ts';

export { REPO, realPython, type Run } from '../runtime/run-bootstrap.ts';

export const FAULTS_PY = readFileSync(new URL('./fixtures/faults.py', import.meta.url), 'utf8');

const runs: Run[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(runs.splice(0).map((r) => r.cleanup()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The real bootstrap on fixtures/faults.py (handler `faults.handler` unless `opts.handler` says otherwise). */
export async function start(opts: Partial<RunOptions> = {}): Promise<Run> {
  const r = await runBootstrap({ handler: 'faults.handler', ...opts, files: { 'faults.py': FAULTS_PY, ...opts.files } });
  runs.push(r);
  return r;
}

/** A fresh directory removed after the test; `name` inside it. */
export function tempPath(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-fault-'));
  dirs.push(dir);
  return join(dir, name);
}

export const event = (v: unknown) => ({ body: Buffer.from(JSON.stringify(v)) });

export function stat(pid: number): { state: string; ppid: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: f[0]!, ppid: Number(f[1]) };
  } catch {
    return undefined;
  }
}

/** Running (or sleeping, stopped): not gone, not a zombie. */
export function alive(pid: number): boolean {
  const s = stat(pid);
  return s !== undefined && s.state !== 'Z' && s.state !== 'X';
}

/** Live processes whose parent is `pid` (for the runtime: its Python workers). */
export function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .filter((p) => stat(p)?.ppid === pid && alive(p));
}

/** What each open fd of `pid` points to. */
export function fdLinks(pid: number): Map<number, string> {
  const out = new Map<number, string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      out.set(Number(fd), readlinkSync(`/proc/${pid}/fd/${fd}`));
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

/** Whether fd `fd` of `pid` is close-on-exec (false when it cannot be told). */
export function cloexec(pid: number, fd: number): boolean {
  try {
    const flags = /flags:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'latin1'))?.[1];
    return flags !== undefined && (parseInt(flags, 8) & 0o2000000) !== 0;
  } catch {
    return false;
  }
}

/** Waits until `cond()` holds. No time limit of its own: the test's timeout is the hang detector. */
export async function until(cond: () => boolean, every = 10): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, every));
}

/** The pid a fixture wrote to `file`, once it is there. */
export async function pidFrom(file: string): Promise<number> {
  await until(() => existsSync(file) && readFileSync(file, 'utf8') !== '');
  return Number(readFileSync(file, 'utf8'));
}

/** The runtime's stderr lines that start with `tandem:`. */
export function tandemLines(r: Run): string[] {
  return r.stderr().split('\n').filter((l) => l.startsWith('tandem:'));
}

export function posts(r: Run): string[] {
  return r.server.requests.filter((q) => q.method === 'POST').map((q) => q.path);
}

/** The body of a buffered response, parsed. */
export function json(body: Buffer): unknown {
  return JSON.parse(body.toString('utf8'));
}
