// The conformance runner: replays one recorded case (test/conformance/recorded/<set>/cases/*.json) through
// the real `bootstrap` and the project's own Runtime API emulator (src/local/runtime-api-server.ts), by the
// runner contract of test/conformance/recorded/README.md: fresh task root, exact /next headers and ids, the
// documented environment, the documented end-of-run rules; then normalises the recording (normalise.ts) and
// compares.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { constants as osConstants, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RuntimeApiServer, type QueuedInvocation } from '../../src/local/runtime-api-server.ts';
import { describeDifference, firstDifference, normalise, type Difference, type Normalised, type RawRecording } from './normalise.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const RECORDED = join(REPO_ROOT, 'test/conformance/recorded');
/** The Python case set (a folder holding cases/ and handlers/): `$TANDEM_CONFORMANCE_PYTHON`, else the recorded one. */
export const PYTHON_CASES_DIR = process.env.TANDEM_CONFORMANCE_PYTHON || join(RECORDED, 'python');
/** The Node case set: `$TANDEM_CONFORMANCE_NODE`, else the recorded one. */
export const NODE_CASES_DIR = process.env.TANDEM_CONFORMANCE_NODE || join(RECORDED, 'node');
/** The runtime under test: `$TANDEM_CONFORMANCE_BOOTSTRAP` (absolute), else `<repo>/bootstrap`. */
export const BOOTSTRAP = process.env.TANDEM_CONFORMANCE_BOOTSTRAP ?? join(REPO_ROOT, 'bootstrap');

// The fixed values of the runner contract (recorded/README.md).
export const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:conformance-fn';
export const TRACE_ID = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
const DEFAULT_DEADLINE_MS = 30_000;
const INIT_ERROR_GRACE_MS = 3_000;
const PARK_WAIT_MS = 3_000;
const DRAIN_MS = 300;
const OVERALL_MS = 20_000;
const KILL_AFTER_MS = 2_000;
const POLL_MS = 10;
const API = '/2018-06-01/runtime';

export function requestId(n: number): string {
  return `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
}

export interface CaseInvocation {
  body?: string;
  body_base64?: string;
  content_type?: string | null;
  headers?: Record<string, string>;
  deadline_ms?: number;
}

export interface ConformanceCase {
  name: string;
  description?: string;
  handler_dir: string;
  handler: string;
  env: Record<string, string | null>;
  invocations: CaseInvocation[];
  runtime_frames_only?: boolean;
  language?: string;
  expected: Normalised;
  /** Where the case file was read from (not part of the format). */
  file: string;
  /** The case set's folder, against which `handler_dir` resolves (not part of the format). */
  root: string;
}

function fail(file: string, message: string): never {
  throw new Error(`${file}: ${message}`);
}

/** Reads and checks every case of a case set (`<dir>/cases/*.json`), sorted by name. */
export function loadCases(dir: string): ConformanceCase[] {
  const casesDir = join(dir, 'cases');
  if (!existsSync(casesDir)) {
    throw new Error(`no conformance cases at ${casesDir}: the recorded cases belong in the repo (test/conformance/recorded/)`);
  }
  const files = readdirSync(casesDir).filter((f) => f.endsWith('.json'));
  if (files.length === 0) throw new Error(`no conformance cases in ${casesDir}`);
  return files
    .sort()
    .map((f) => {
      const file = join(casesDir, f);
      const c = JSON.parse(readFileSync(file, 'utf8')) as ConformanceCase;
      if (c.name !== basename(f, '.json')) fail(file, `name ${JSON.stringify(c.name)} does not match the file name`);
      if (typeof c.handler_dir !== 'string' || typeof c.handler !== 'string') fail(file, 'handler_dir and handler must be strings');
      if (!Array.isArray(c.invocations)) fail(file, 'invocations must be a list');
      for (const inv of c.invocations) {
        if ((inv.body === undefined) === (inv.body_base64 === undefined)) fail(file, 'each invocation needs exactly one of body, body_base64');
      }
      if (!c.expected || !Array.isArray(c.expected.requests)) fail(file, 'expected.requests missing');
      return { ...c, env: c.env ?? {}, file, root: dir };
    });
}

/** The interpreter a `python3`-like command really runs (resolves version-manager shims once). */
export function realPython(command: string): string {
  const r = spawnSyncText(command, ['-c', 'import sys; print(sys.executable)']);
  const exe = r.trim();
  if (!exe.startsWith('/')) throw new Error(`${command} did not report an absolute sys.executable: ${JSON.stringify(r)}`);
  return exe;
}

function spawnSyncText(command: string, args: string[]): string {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** `major.minor` of an interpreter. */
export function pythonVersion(python: string): string {
  return spawnSyncText(python, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])']).trim();
}

/** Does `python` import `module`? */
export function pythonHas(python: string, module: string): boolean {
  try {
    spawnSyncText(python, ['-c', `import ${module}`]);
    return true;
  } catch {
    return false;
  }
}

// ---- process bookkeeping: no runtime or worker outlives a test ---------------------------------------------

const liveGroups = new Set<number>();

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is gone
  }
}

/**
 * Processes that carry this run's LAMBDA_TASK_ROOT in their environment (the task root is unique per run):
 * anything the runtime started outside its process group. Linux /proc only; elsewhere none are found.
 */
function processesOfRun(taskRoot: string): number[] {
  const needle = Buffer.from(`\0LAMBDA_TASK_ROOT=${taskRoot}\0`);
  const found: number[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return found;
  }
  for (const d of entries) {
    try {
      const env = Buffer.concat([Buffer.from([0]), readFileSync(`/proc/${d}/environ`)]);
      if (env.includes(needle)) found.push(Number(d));
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

/** SIGKILLs every process group a run started and that may still be alive (afterAll / process exit). */
export function killAllRuns(): void {
  for (const pid of liveGroups) killGroup(pid, 'SIGKILL');
  liveGroups.clear();
}

process.once('exit', killAllRuns);

/** At most `n` runs at a time in this process (the suites run many cases concurrently on few cores). */
export function limiter(n: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async (fn) => {
    if (active >= n) await new Promise<void>((r) => waiting.push(r));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

// ---- one run ----------------------------------------------------------------------------------------------------

export interface RunOptions {
  /** Absolute path of the interpreter under test (`TANDEM_PYTHON`). */
  python: string;
  /** Default: `<repo>/bootstrap`. */
  bootstrap?: string;
  /** Passed to the normaliser (multi-version test only). */
  stdlibDirPattern?: string;
  /** What the run is on, for reports. Default: the Python interpreter. */
  label?: string;
}

export interface CaseRun {
  actual: Normalised;
  raw: RawRecording;
  stderr: string;
  /** Why the run ended: `exited`, `init-error`, `parked`, `no-park`, `overall`. */
  endedBy: string;
  /** Processes of this run still alive outside its process group after the run (killed by the runner). */
  leftovers: number[];
}

function makeTaskRoot(c: ConformanceCase): { dir: string; taskRoot: string } {
  const base = realpathSync(tmpdir());
  const dir = mkdtempSync(join(base, 'tandem-conformance-'));
  const taskRoot = realpathSync(dir) + '/task';
  if (!/^\/[\x20-\x7e]*$/.test(taskRoot) || /["'\\]/.test(taskRoot)) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`the temp dir gives a task root that is not plain ASCII without quotes: ${taskRoot} (set TMPDIR)`);
  }
  const source = resolve(c.root, c.handler_dir);
  if (!existsSync(source)) throw new Error(`${c.file}: handler_dir ${source} does not exist`);
  cpSync(source, taskRoot, { recursive: true, filter: (src) => basename(src) !== '__pycache__' });
  return { dir, taskRoot };
}

function environment(c: ConformanceCase, taskRoot: string, apiAddress: string, python: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', 'TANDEM_LOG_LEVEL']) {
    const v = process.env[name];
    if (v !== undefined) env[name] = v;
  }
  Object.assign(env, {
    LAMBDA_TASK_ROOT: taskRoot,
    _HANDLER: c.handler,
    AWS_LAMBDA_RUNTIME_API: apiAddress,
    AWS_LAMBDA_FUNCTION_NAME: 'conformance-fn',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128',
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/conformance-fn',
    AWS_LAMBDA_LOG_STREAM_NAME: '2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    TANDEM_PYTHON: python,
  });
  // A Node case runs as a function configured for Node would (docs/routing.md: TANDEM_RUNTIME).
  if (c.language === 'node') env.TANDEM_RUNTIME = 'node';
  for (const [name, value] of Object.entries(c.env)) {
    if (value === null) delete env[name];
    else env[name] = value;
  }
  return env;
}

function queued(inv: CaseInvocation, n: number): QueuedInvocation {
  return {
    body: inv.body_base64 !== undefined ? Buffer.from(inv.body_base64, 'base64') : Buffer.from(inv.body ?? '', 'utf8'),
    contentType: inv.content_type === undefined ? 'application/json' : inv.content_type,
    requestId: requestId(n),
    timeoutMs: inv.deadline_ms ?? DEFAULT_DEADLINE_MS,
    functionArn: FUNCTION_ARN,
    traceId: TRACE_ID,
    headers: inv.headers ?? {},
  };
}

function signalNumber(signal: NodeJS.Signals): number {
  return (osConstants.signals as Record<string, number>)[signal] ?? 0;
}

/** Runs one case through the real bootstrap and returns its normalised recording. */
export async function runCase(c: ConformanceCase, options: RunOptions): Promise<CaseRun> {
  const bootstrap = options.bootstrap ?? BOOTSTRAP;
  try {
    accessSync(bootstrap, fsConstants.X_OK);
  } catch {
    throw new Error(`the runtime's bootstrap is missing or not executable: ${bootstrap}`);
  }
  const { dir, taskRoot } = makeTaskRoot(c);
  const server = await RuntimeApiServer.start({ host: '127.0.0.1', record: true, functionArn: FUNCTION_ARN });
  let child: ChildProcess | undefined;
  try {
    let answered = 0;
    c.invocations.forEach((inv, i) => {
      const pending = server.enqueue(queued(inv, i + 1));
      void pending.result.then((r) => {
        if (!(r.kind === 'error' && r.source === 'init')) answered++;
      });
    });

    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const proc = spawn(bootstrap, [], {
      cwd: taskRoot,
      env: environment(c, taskRoot, server.address, options.python),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    child = proc;
    if (proc.pid !== undefined) liveGroups.add(proc.pid);
    proc.stdout!.on('data', (b: Buffer) => stdout.push(b));
    proc.stderr!.on('data', (b: Buffer) => stderr.push(b));
    const streamsClosed = Promise.all([
      new Promise<void>((r) => proc.stdout!.once('close', () => r())),
      new Promise<void>((r) => proc.stderr!.once('close', () => r())),
    ]);

    let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let spawnError: Error | undefined;
    const exited = new Promise<void>((r) => {
      proc.once('exit', (code, signal) => {
        exitInfo = { code, signal };
        r();
      });
      proc.once('error', (e) => {
        spawnError = e;
        exitInfo ??= { code: null, signal: null };
        r();
      });
    });

    // When the run ends (README "When a run ends").
    const started = Date.now();
    let initErrorAt: number | undefined;
    let answeredAt: number | undefined;
    let parkedAt: number | undefined;
    const endedBy = await new Promise<string>((done) => {
      void exited.then(() => done('exited'));
      const tick = (): void => {
        if (exitInfo) return;
        const now = Date.now();
        if (now - started >= OVERALL_MS) return done('overall');
        const reqs = server.requests;
        if (initErrorAt === undefined && reqs.some((r) => r.method === 'POST' && r.path === `${API}/init/error`)) initErrorAt = now;
        if (initErrorAt !== undefined) {
          if (now - initErrorAt >= INIT_ERROR_GRACE_MS) return done('init-error');
        } else if (answered >= c.invocations.length) {
          answeredAt ??= now;
          let lastPost = -1;
          reqs.forEach((r, i) => {
            if (r.method === 'POST') lastPost = i;
          });
          const parked = reqs.slice(lastPost + 1).some((r) => r.method === 'GET' && r.path === `${API}/invocation/next`);
          if (parked) parkedAt ??= now;
          if (parkedAt !== undefined && now - parkedAt >= DRAIN_MS) return done('parked');
          if (parkedAt === undefined && now - answeredAt >= PARK_WAIT_MS) return done('no-park');
        }
        setTimeout(tick, POLL_MS);
      };
      tick();
    });
    if (spawnError) throw new Error(`could not start ${bootstrap}: ${spawnError.message}`);

    const byItself = exitInfo !== undefined;
    if (!byItself && proc.pid !== undefined) {
      killGroup(proc.pid, 'SIGTERM');
      const killer = setTimeout(() => killGroup(proc.pid!, 'SIGKILL'), KILL_AFTER_MS);
      await exited;
      clearTimeout(killer);
    }
    // Whatever the runtime left behind in its group (a worker) goes too, so stdout reaches EOF.
    if (proc.pid !== undefined) killGroup(proc.pid, 'SIGKILL');
    const safety = setTimeout(() => {
      proc.stdout!.destroy();
      proc.stderr!.destroy();
    }, 5_000);
    await streamsClosed;
    clearTimeout(safety);
    if (proc.pid !== undefined) liveGroups.delete(proc.pid);
    const leftovers = processesOfRun(taskRoot);
    for (const pid of leftovers) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }

    const info = exitInfo!;
    const raw: RawRecording = {
      requests: server.requests.map((r) => ({ ...r })),
      stdout: Buffer.concat(stdout),
      exit: byItself ? { byItself: true, code: info.code ?? -signalNumber(info.signal!) } : { byItself: false },
      taskRoot,
      taskRootRealpath: realpathSync(taskRoot),
    };
    const actual = normalise(raw, {
      runtimeFramesOnly: c.runtime_frames_only === true,
      language: c.language,
      stdlibDirPattern: options.stdlibDirPattern,
    });
    return { actual, raw, stderr: Buffer.concat(stderr).toString('utf8'), endedBy, leftovers };
  } finally {
    if (child?.pid !== undefined) {
      killGroup(child.pid, 'SIGKILL');
      liveGroups.delete(child.pid);
    }
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface CaseResult {
  name: string;
  pass: boolean;
  difference?: Difference;
  /** A readable failure report: case name, first difference, the tail of stderr. */
  report?: string;
  run?: CaseRun;
}

/** Runs a case and compares it with its expectation (optionally adjusted by the caller). */
export async function checkCase(c: ConformanceCase, options: RunOptions, expected: Normalised = c.expected): Promise<CaseResult> {
  let run: CaseRun;
  try {
    run = await runCase(c, options);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return { name: c.name, pass: false, report: `${c.name}: the run failed: ${message}` };
  }
  if (run.leftovers.length > 0) {
    console.warn(`conformance case ${c.name}: the runtime left processes outside its group (killed): ${run.leftovers.join(', ')}`);
  }
  const difference = firstDifference(expected, run.actual);
  if (!difference) return { name: c.name, pass: true, run };
  const tail = run.stderr.trim().split('\n').slice(-15).join('\n');
  const report = [
    `conformance case ${c.name} (${c.file}) on ${options.label ?? options.python}: ${describeDifference(difference)}`,
    `  run ended by: ${run.endedBy}; exit ${JSON.stringify(run.actual.exit)}; ${run.actual.requests.length} requests`,
    tail ? `  stderr (last lines):\n${tail.replace(/^/gm, '    ')}` : '  stderr: (empty)',
  ].join('\n');
  return { name: c.name, pass: false, difference, report, run };
}
