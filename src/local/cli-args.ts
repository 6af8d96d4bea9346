// Command-line parsing for `tandem invoke|serve|events`: flags, their validation and the usage text.
// Every bad input becomes a UsageError with a message that says what was wrong and what is accepted.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';

export class UsageError extends Error {}

export type Command = 'invoke' | 'serve' | 'events' | 'help';

export interface CommonOptions {
  handler: string;
  dir: string;
  envFile: string | undefined;
  timeoutSec: number;
  memoryMb: number;
  functionName: string;
  bootstrap: string | undefined;
  watch: boolean;
}

export interface InvokeOptions extends CommonOptions {
  event: string | undefined;
  listEvents: boolean;
}

export interface ServeOptions extends CommonOptions {
  port: number;
  host: string;
  concurrency: number;
  maxConcurrency: number;
}

export const DEFAULT_HANDLER = 'lambda_function.lambda_handler';

type FlagKind = 'string' | 'boolean';
const COMMON_FLAGS: Record<string, FlagKind> = {
  dir: 'string',
  'env-file': 'string',
  timeout: 'string',
  memory: 'string',
  name: 'string',
  bootstrap: 'string',
  watch: 'boolean',
  help: 'boolean',
};
const INVOKE_FLAGS: Record<string, FlagKind> = { ...COMMON_FLAGS, event: 'string', 'list-events': 'boolean' };
const SERVE_FLAGS: Record<string, FlagKind> = { ...COMMON_FLAGS, port: 'string', host: 'string', concurrency: 'string', 'max-concurrency': 'string' };
const SHORT: Record<string, string> = { e: 'event', d: 'dir', t: 'timeout', m: 'memory', p: 'port', w: 'watch', h: 'help' };

interface Parsed {
  positionals: string[];
  flags: Record<string, string | boolean>;
}

function parseFlags(argv: string[], known: Record<string, FlagKind>, command: string): Parsed {
  const positionals: string[] = [];
  const flags: Record<string, string | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-' || !arg.startsWith('-')) {
      positionals.push(arg);
      continue;
    }
    let name: string;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
    } else {
      name = SHORT[arg.slice(1)] ?? arg;
    }
    const kind = known[name];
    if (!kind) {
      const valid = Object.keys(known).map((k) => `--${k}`).join(', ');
      throw new UsageError(`unknown option ${arg} for "${command}" (valid: ${valid})`);
    }
    if (kind === 'boolean') {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value`);
      flags[name] = true;
    } else {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      flags[name] = value;
    }
  }
  return { positionals, flags };
}

function numberFlag(flags: Parsed['flags'], name: string, dflt: number, check: (n: number) => boolean, rule: string): number {
  const raw = flags[name];
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(n) || !check(n)) {
    throw new UsageError(`--${name} ${String(raw)}: must be ${rule}`);
  }
  return n;
}

function common(p: Parsed, command: string): CommonOptions {
  if (p.positionals.length > 1) {
    throw new UsageError(`"${command}" takes one handler, got: ${p.positionals.join(' ')}`);
  }
  const dir = resolve(String(p.flags.dir ?? '.'));
  if (!existsSync(dir)) throw new UsageError(`--dir ${String(p.flags.dir ?? '.')}: no such directory`);
  if (!statSync(dir).isDirectory()) throw new UsageError(`--dir ${String(p.flags.dir)}: not a directory`);
  const envFile = p.flags['env-file'] as string | undefined;
  if (envFile !== undefined && !existsSync(envFile)) throw new UsageError(`--env-file ${envFile}: no such file`);
  const functionName = String(p.flags.name ?? 'tandem-local');
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(functionName)) {
    throw new UsageError(`--name ${functionName}: a function name is 1-64 letters, digits, - or _`);
  }
  return {
    handler: p.positionals[0] ?? DEFAULT_HANDLER,
    dir,
    envFile,
    timeoutSec: numberFlag(p.flags, 'timeout', 3, (n) => n > 0 && n <= 900, 'a number of seconds, above 0 and at most 900'),
    memoryMb: numberFlag(p.flags, 'memory', 128, (n) => Number.isInteger(n) && n >= 128 && n <= 10240, 'a whole number of MB from 128 to 10240'),
    functionName,
    bootstrap: p.flags.bootstrap as string | undefined,
    watch: p.flags.watch === true,
  };
}

export function parseInvoke(argv: string[]): InvokeOptions & { help: boolean } {
  const p = parseFlags(argv, INVOKE_FLAGS, 'invoke');
  const help = p.flags.help === true;
  const listEvents = p.flags['list-events'] === true;
  if (help || listEvents) {
    return { ...placeholder(), event: undefined, listEvents, help };
  }
  return { ...common(p, 'invoke'), event: p.flags.event as string | undefined, listEvents, help };
}

export function parseServe(argv: string[]): ServeOptions & { help: boolean } {
  const p = parseFlags(argv, SERVE_FLAGS, 'serve');
  if (p.flags.help === true) return { ...placeholder(), port: 9000, host: '127.0.0.1', concurrency: 1, maxConcurrency: 1, help: true };
  return {
    ...common(p, 'serve'),
    port: numberFlag(p.flags, 'port', 9000, (n) => Number.isInteger(n) && n >= 0 && n <= 65535, 'a port number (0-65535)'),
    host: String(p.flags.host ?? '127.0.0.1'),
    concurrency: numberFlag(p.flags, 'concurrency', 1, (n) => Number.isInteger(n) && n >= 1 && n <= 64, 'a whole number from 1 to 64'),
    maxConcurrency: numberFlag(p.flags, 'max-concurrency', 1, (n) => Number.isInteger(n) && n >= 1 && n <= 64, 'a whole number from 1 to 64'),
    help: false,
  };
}

function placeholder(): CommonOptions {
  return { handler: DEFAULT_HANDLER, dir: resolve('.'), envFile: undefined, timeoutSec: 3, memoryMb: 128, functionName: 'tandem-local', bootstrap: undefined, watch: false };
}

export const USAGE = `tandem: run a Lambda function locally through the real tandem runtime

Usage:
  tandem invoke [handler] [options]    one invocation: result on stdout, logs on stderr
  tandem serve  [handler] [options]    the Lambda Invoke API (and function-URL-style HTTP) on a local port
  tandem events [name]                 list the sample events, or print one
  (from the repo: npm run invoke -- ..., npm run serve -- ...)

handler defaults to ${DEFAULT_HANDLER} (file lambda_function.py, function lambda_handler).

Options (invoke and serve):
  --dir <path>          task root holding the handler (default: .)
  --env-file <file>     extra environment: KEY=value lines (.env) or a JSON object (SAM env.json works)
  --timeout <s>         function timeout in seconds (default 3, max 900)
  --memory <mb>         memory size reported to the function and in REPORT (default 128)
  --name <name>         function name (default tandem-local)
  --watch               restart the runtime when a file under --dir changes
  --bootstrap <path>    run another Runtime API client instead of tandem's bootstrap

invoke:
  -e, --event <x>       the event: a file, - (stdin), inline JSON, or a sample name (default {})
  --list-events         list the sample events

serve:
  --port <n>            default 9000        --host <addr>   default 127.0.0.1
  --concurrency <n>     runtime processes serving in parallel (default 1; extra requests queue)
  --max-concurrency <m> invocations each runtime takes at once: Lambda Managed Instances mode
                        (AWS_LAMBDA_MAX_CONCURRENCY=m; default 1, the classic one-at-a-time)

Exit status of invoke: 0 success, 1 function error, 2 bad usage or input, 3 timeout, 4 tool failure.
`;
