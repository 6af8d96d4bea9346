// The local function's configuration (what Lambda keeps in a function's settings) and the environment a
// runtime process gets from it, variable for variable as Lambda sets them for a custom runtime.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findHandlerFile } from './handler-file.ts';

export interface FunctionConfig {
  /** `_HANDLER`, e.g. `lambda_function.lambda_handler`. */
  handler: string;
  /** Absolute path: `LAMBDA_TASK_ROOT` and the runtime's working directory. */
  taskRoot: string;
  functionName: string;
  version: string;
  /** Function timeout in seconds (Lambda: whole seconds, 1-900). */
  timeoutSec: number;
  memoryMb: number;
  region: string;
  /** The runtime's command line: the real `bootstrap` by default. */
  bootstrap: string[];
  /** `LAMBDA_RUNTIME_DIR`. */
  runtimeDir: string;
  /** Variables from `--env-file`, applied last. */
  env: Record<string, string>;
}

export const DEFAULTS = {
  functionName: 'tandem-local',
  version: '$LATEST',
  timeoutSec: 3,
  memoryMb: 128,
  region: 'us-east-1',
  accountId: '123456789012',
} as const;

/** The repository (or installed package) root: `bootstrap` lives there, next to `dist/`. */
export function packageRoot(): string {
  // Bundled: dist/cli.mjs -> ..; from source: src/local/function-config.ts -> ../..
  const here = dirname(fileURLToPath(import.meta.url));
  return here.endsWith(join('src', 'local')) ? join(here, '..', '..') : join(here, '..');
}

export function defaultBootstrap(): string[] {
  return [join(packageRoot(), 'bootstrap')];
}

export function functionArn(c: Pick<FunctionConfig, 'region' | 'functionName'>): string {
  return `arn:aws:lambda:${c.region}:${DEFAULTS.accountId}:function:${c.functionName}`;
}


let resolvedPython: string | null | undefined;

/**
 * The real interpreter behind `python3` on PATH, resolved once per tool process: a version-manager shim
 * (pyenv) costs about 60 ms at every start, the interpreter it points to does not. `null` when none is found.
 */
export function resolvePython(env: NodeJS.ProcessEnv = process.env): string | null {
  if (resolvedPython !== undefined) return resolvedPython;
  try {
    const out = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], {
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 10_000,
    }).trim();
    resolvedPython = out || null;
  } catch {
    resolvedPython = null;
  }
  return resolvedPython;
}

function logStreamName(version: string): string {
  const d = new Date();
  const day = `${d.getUTCFullYear()}/${String(d.getUTCMonth() + 1).padStart(2, '0')}/${String(d.getUTCDate()).padStart(2, '0')}`;
  return `${day}/[${version}]${randomBytes(16).toString('hex')}`;
}

/**
 * The environment of one runtime process. Like Lambda's, it is built from scratch rather than inherited:
 * only PATH (with this Node first), the AWS credentials, TANDEM_* settings and the user's region are taken
 * from the tool's own environment.
 */
export function runtimeEnvironment(c: FunctionConfig, runtimeApi: string, from: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const nodeDir = dirname(process.execPath);
  const path = [nodeDir, from.PATH ?? '/usr/local/bin:/usr/bin:/bin'].join(':');
  const env: Record<string, string> = {
    PATH: path,
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    AWS_LAMBDA_FUNCTION_NAME: c.functionName,
    AWS_LAMBDA_FUNCTION_VERSION: c.version,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(c.memoryMb),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${c.functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: logStreamName(c.version),
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_RUNTIME_API: runtimeApi,
    AWS_REGION: c.region,
    AWS_DEFAULT_REGION: c.region,
    AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
    LAMBDA_TASK_ROOT: c.taskRoot,
    LAMBDA_RUNTIME_DIR: c.runtimeDir,
    _HANDLER: c.handler,
  };
  for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) {
    const v = from[k];
    if (v) env[k] = v;
  }
  for (const [k, v] of Object.entries(from)) {
    if (k.startsWith('TANDEM_') && v !== undefined) env[k] = v;
  }
  if (!env.TANDEM_PYTHON && !c.env.TANDEM_PYTHON && handlerLanguage(c, from) !== 'node') {
    const py = resolvePython(from);
    if (py) env.TANDEM_PYTHON = py;
  }
  return { ...env, ...c.env, AWS_LAMBDA_RUNTIME_API: runtimeApi };
}

/** The handler's language as the runtime will route it (an invalid TANDEM_RUNTIME counts as Python here). */
function handlerLanguage(c: FunctionConfig, from: NodeJS.ProcessEnv): string | undefined {
  try {
    return findHandlerFile(c.taskRoot, c.handler, c.env.TANDEM_RUNTIME ?? from.TANDEM_RUNTIME)?.language;
  } catch {
    return 'python';
  }
}
