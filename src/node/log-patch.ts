// Console patching for Node handlers, as aws-lambda-ric 3.3.0 does it: `console.trace/debug/info/log/warn/error`
// and a new `console.fatal` write `<ts>\t<requestId>\t<LEVEL>\t<util.format(...)>` (every `\n` → `\r`) or, with
// AWS_LAMBDA_LOG_FORMAT=JSON, one JSON record per line; AWS_LAMBDA_LOG_LEVEL turns lower levels into no-ops;
// `_LAMBDA_TELEMETRY_LOG_FD` switches to the framed telemetry fd. Also owns the request/tenant id that log
// lines carry (kept on the same global symbols as AWS's client) and the "Invoke Error" style error logger.
import { format } from 'node:util';
import { writeSync } from 'node:fs';
import { intoError, toFormatted } from './errors.ts';

const REQUEST_ID = Symbol.for('aws.lambda.runtime.requestId');
const TENANT_ID = Symbol.for('aws.lambda.runtime.tenantId');
const g = globalThis as unknown as Record<symbol, string | undefined>;

export function setCurrentRequestId(id: string | undefined): void {
  g[REQUEST_ID] = id;
}
export function setCurrentTenantId(id: string | undefined): void {
  g[TENANT_ID] = id;
}

interface Level {
  name: string;
  priority: number;
  tlvMask: number;
}
const LEVELS: Record<string, Level> = Object.freeze({
  TRACE: { name: 'TRACE', priority: 1, tlvMask: 0b00100 },
  DEBUG: { name: 'DEBUG', priority: 2, tlvMask: 0b01000 },
  INFO: { name: 'INFO', priority: 3, tlvMask: 0b01100 },
  WARN: { name: 'WARN', priority: 4, tlvMask: 0b10000 },
  ERROR: { name: 'ERROR', priority: 5, tlvMask: 0b10100 },
  FATAL: { name: 'FATAL', priority: 6, tlvMask: 0b11000 },
});

type LogFn = (level: Level, ...params: unknown[]) => void;

function jsonErrorReplacer(_k: string, value: unknown): unknown {
  if (value instanceof Error) {
    return Object.assign(
      {
        errorType: value?.constructor?.name ?? 'UnknownError',
        errorMessage: value.message,
        stackTrace: typeof value.stack === 'string' ? value.stack.split('\n') : value.stack,
      },
      value,
    );
  }
  return value;
}

function formatJson(requestId: unknown, timestamp: string, level: Level, tenantId: unknown, params: unknown[]): string {
  const result: Record<string, unknown> = { timestamp, level: level.name, requestId };
  if (tenantId !== undefined && tenantId !== null) result['tenantId'] = tenantId;
  if (params.length === 1) {
    result['message'] = params[0];
    try {
      return JSON.stringify(result, jsonErrorReplacer);
    } catch {
      result['message'] = format(result['message']);
      return JSON.stringify(result);
    }
  }
  result['message'] = format(...params);
  for (const p of params) {
    if (p instanceof Error) {
      result['errorType'] = p?.constructor?.name ?? 'UnknownError';
      result['errorMessage'] = p.message;
      result['stackTrace'] = typeof p.stack === 'string' ? p.stack.split('\n') : [];
      break;
    }
  }
  return JSON.stringify(result);
}

const textToStdout: LogFn = (level, ...params) => {
  const line = `${new Date().toISOString()}\t${g[REQUEST_ID]}\t${level.name}\t${format(...params)}`;
  process.stdout.write(line.replace(/\n/g, '\r') + '\n');
};

const jsonToStdout: LogFn = (level, ...params) => {
  const line = formatJson(g[REQUEST_ID], new Date().toISOString(), level, g[TENANT_ID], params);
  process.stdout.write(line.replace(/\n/g, '\r') + '\n');
};

function toFd(fd: number, json: boolean): LogFn {
  const header = Buffer.alloc(16);
  return (level, ...params) => {
    const date = new Date();
    const time = date.toISOString();
    const message = json
      ? formatJson(g[REQUEST_ID], time, level, g[TENANT_ID], params)
      : `${time}\t${g[REQUEST_ID]}\t${level.name}\t${format(...params)}\n`;
    const bytes = Buffer.from(message, 'utf8');
    header.writeUInt32BE(((json ? 0xa55a0002 : 0xa55a0003) | level.tlvMask) >>> 0, 0);
    header.writeInt32BE(bytes.length, 4);
    header.writeBigInt64BE(BigInt(date.valueOf()) * 1000n, 8);
    writeSync(fd, header);
    writeSync(fd, bytes);
  };
}

let jsonFormat = false;
let patched = false;

/** Patches the global console once (idempotent). Reads AWS_LAMBDA_LOG_FORMAT / _LEVEL / _LAMBDA_TELEMETRY_LOG_FD. */
export function patchConsole(env: NodeJS.ProcessEnv = process.env): void {
  if (patched) return;
  patched = true;
  jsonFormat = env['AWS_LAMBDA_LOG_FORMAT']?.toUpperCase() === 'JSON';
  let log: LogFn;
  const fdVar = env['_LAMBDA_TELEMETRY_LOG_FD'];
  if (fdVar !== undefined && fdVar !== null) {
    delete env['_LAMBDA_TELEMETRY_LOG_FD'];
    log = toFd(parseInt(fdVar), jsonFormat);
  } else {
    log = jsonFormat ? jsonToStdout : textToStdout;
  }
  const min = LEVELS[env['AWS_LAMBDA_LOG_LEVEL']?.toUpperCase() ?? ''] ?? LEVELS['TRACE']!;
  const nop = () => {};
  const method = (name: string) => {
    const level = LEVELS[name]!;
    return level.priority >= min.priority ? (msg?: unknown, ...params: unknown[]) => log(level, msg, ...params) : nop;
  };
  const c = console as unknown as Record<string, unknown>;
  c['trace'] = method('TRACE');
  c['debug'] = method('DEBUG');
  c['info'] = method('INFO');
  c['log'] = c['info'];
  c['warn'] = method('WARN');
  c['error'] = method('ERROR');
  c['fatal'] = (msg?: unknown, ...params: unknown[]) => log(LEVELS['FATAL']!, msg, ...params);
}

/** Logs an error the way the runtime reports it (`Invoke Error`, `Uncaught Exception`...), through console.error. */
export function logError(label: string, err: unknown): void {
  if (jsonFormat) console.error(intoError(err));
  else console.error(label, toFormatted(intoError(err)));
}
