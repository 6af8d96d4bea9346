// Every environment variable the Node runtime reads or sets, by name, in one place (documented in
// docs/configuration.md). Other modules import the names from here; nothing else spells them.

export const ENV = {
  /** `host:port` of the Runtime API (set by Lambda). */
  runtimeApi: 'AWS_LAMBDA_RUNTIME_API',
  /** The handler, e.g. `lambda_function.lambda_handler`, `python:app.handler`, `node:index.handler`. */
  handler: '_HANDLER',
  /** The function's code directory (set by Lambda; the bootstrap defaults it to the working directory). */
  taskRoot: 'LAMBDA_TASK_ROOT',
  /** Lambda Managed Instances: the number of invocations to run at once. */
  maxConcurrency: 'AWS_LAMBDA_MAX_CONCURRENCY',
  /** Runtime diagnostics on stderr (pino level: trace, debug, info, warn, error, fatal). Silent when unset. */
  logLevel: 'TANDEM_LOG_LEVEL',
  /** The Python interpreter (absolute path preferred); default `python3` on PATH. */
  python: 'TANDEM_PYTHON',
  /** The worker entry script; default `bridge-py/worker.py` next to the runtime's `dist/`. */
  workerScript: 'TANDEM_WORKER_SCRIPT',
  /** Largest protocol frame either side accepts (bytes); default 64 MiB. */
  maxFrameBytes: 'TANDEM_MAX_FRAME_BYTES',
  /** How long workers get to exit after SIGTERM before they are killed (ms); default 500. */
  shutdownGraceMs: 'TANDEM_SHUTDOWN_GRACE_MS',
  /** The language of a handler without `python:`/`node:` prefix: `python` or `node`; unset: by its files. */
  runtime: 'TANDEM_RUNTIME',
  /** A program that wraps the process running the handler (checked and applied by `bootstrap`). */
  execWrapper: 'AWS_LAMBDA_EXEC_WRAPPER',
  /** `0` turns off HTTP pipelining of GET /next behind each buffered POST (default on, single concurrency). */
  pipeline: 'TANDEM_PIPELINE',
  /** Set by `bootstrap` for Node only: the worker it started, and Node's ends of the two pipes. */
  workerPid: 'TANDEM_WORKER_PID',
  workerWriteFd: 'TANDEM_WORKER_WRITE_FD',
  workerReadFd: 'TANDEM_WORKER_READ_FD',
  /** Set for the worker only: its ends of the two pipes, and what it loads (`handler` or `calls`). */
  workerFdIn: 'TANDEM_FD_IN',
  workerFdOut: 'TANDEM_FD_OUT',
  workerMode: 'TANDEM_MODE',
  /** Lambda's telemetry log fd (managed runtimes): passed on to workers at the same number. */
  telemetryFd: '_LAMBDA_TELEMETRY_LOG_FD',
  /** Set by the runtime when it hands a trace id to in-process code (single concurrency only). */
  traceId: '_X_AMZN_TRACE_ID',
} as const;

export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024;
export const DEFAULT_SHUTDOWN_GRACE_MS = 500;

type Env = Record<string, string | undefined>;

/** A positive integer from the environment, or `fallback` when unset; a bad value is an error naming the variable. */
export function positiveInt(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || !Number.isSafeInteger(Number(raw))) {
    throw new Error(`tandem: ${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  }
  return Number(raw);
}

/** A non-negative integer (e.g. a file descriptor), or undefined when unset. */
export function optionalUint(env: Env, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw new Error(`tandem: ${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  }
  return Number(raw);
}

/** A boolean switch: unset or empty → `fallback`; `0`/`false`/`off`/`no` → false; `1`/`true`/`on`/`yes` → true. */
export function flag(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = raw.toLowerCase();
  if (v === '0' || v === 'false' || v === 'off' || v === 'no') return false;
  if (v === '1' || v === 'true' || v === 'on' || v === 'yes') return true;
  throw new Error(`tandem: ${name} must be 0 or 1, got ${JSON.stringify(raw)}`);
}
