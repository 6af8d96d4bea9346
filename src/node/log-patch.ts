// console.* for Node handlers, as AWS's Node client patches it: `console.trace/debug/info/log/warn/error` and a
// new `console.fatal` each write one record: TEXT `<ISO time>\t<requestId>\t<LEVEL>\t<util.format(...)>` or,
// with AWS_LAMBDA_LOG_FORMAT=JSON, `{"timestamp","level","requestId",["tenantId"],"message",...}`; every `\n`
// of a record becomes `\r`, so one record is one line. AWS_LAMBDA_LOG_LEVEL turns the levels below it into
// no-ops; `_LAMBDA_TELEMETRY_LOG_FD` sends framed records to Lambda's telemetry fd instead of stdout.
//
// The request and tenant id a record carries: with one invocation at a time, the ones on AWS's global
// symbols (set per invocation); in Lambda Managed Instances mode, the invocation's own, from the invoke
// store (and JSON records, as Lambda sets that format for such functions and AWS's 4.x client writes).
import { format } from 'node:util';
import { writeSync } from 'node:fs';
import { intoError, toFormatted } from './errors.ts';

const REQUEST_ID = Symbol.for('aws.lambda.runtime.requestId');
const TENANT_ID = Symbol.for('aws.lambda.runtime.tenantId');
const globals = globalThis as unknown as Record<symbol, string | undefined>;

export function setCurrentRequestId(id: string | undefined): void {
  globals[REQUEST_ID] = id;
}
export function setCurrentTenantId(id: string | undefined): void {
  globals[TENANT_ID] = id;
}

/** Where a record's ids come from in Lambda Managed Instances mode (the invoke store). */
export interface LogIds {
  getRequestId(): string;
  getTenantId(): string | undefined;
}

export interface Level {
  name: string;
  priority: number;
  /** The level bits of a telemetry frame's type. */
  frameBits: number;
}

export const LEVELS: Readonly<Record<string, Level>> = Object.freeze({
  TRACE: { name: 'TRACE', priority: 1, frameBits: 0x04 },
  DEBUG: { name: 'DEBUG', priority: 2, frameBits: 0x08 },
  INFO: { name: 'INFO', priority: 3, frameBits: 0x0c },
  WARN: { name: 'WARN', priority: 4, frameBits: 0x10 },
  ERROR: { name: 'ERROR', priority: 5, frameBits: 0x14 },
  FATAL: { name: 'FATAL', priority: 6, frameBits: 0x18 },
});
const FRAME_JSON = 0xa55a0002;
const FRAME_TEXT = 0xa55a0003;

/** Serialises an Error met anywhere in a JSON record's message. */
function errorToJson(_key: string, value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  const fields: Record<string, unknown> = {
    errorType: value?.constructor?.name ?? 'UnknownError',
    errorMessage: value.message,
    stackTrace: typeof value.stack === 'string' ? value.stack.split('\n') : value.stack,
  };
  return Object.assign(fields, value);
}

/** One JSON record (exported for tests). A single argument is the message as is; several are formatted, the first Error adds its fields. */
export function jsonRecord(time: string, level: Level, requestId: unknown, tenantId: unknown, args: unknown[]): string {
  const record: Record<string, unknown> = { timestamp: time, level: level.name, requestId };
  if (tenantId !== undefined && tenantId !== null) record['tenantId'] = tenantId;
  if (args.length === 1) {
    record['message'] = args[0];
    try {
      return JSON.stringify(record, errorToJson);
    } catch {
      record['message'] = format(record['message']);
      return JSON.stringify(record);
    }
  }
  record['message'] = format(...args);
  const error = args.find((a): a is Error => a instanceof Error);
  if (error) {
    record['errorType'] = error?.constructor?.name ?? 'UnknownError';
    record['errorMessage'] = error.message;
    record['stackTrace'] = typeof error.stack === 'string' ? error.stack.split('\n') : [];
  }
  return JSON.stringify(record);
}

export function textRecord(time: string, level: Level, requestId: unknown, args: unknown[]): string {
  return `${time}\t${requestId}\t${level.name}\t${format(...args)}`;
}

type Write = (level: Level, args: unknown[]) => void;

/** Writes records to stdout, one per line (`\n` inside a record becomes `\r`). */
function toStdout(json: boolean, ids: () => [unknown, unknown]): Write {
  return (level, args) => {
    const [requestId, tenantId] = ids();
    const time = new Date().toISOString();
    const record = json ? jsonRecord(time, level, requestId, tenantId, args) : textRecord(time, level, requestId, args);
    process.stdout.write(record.replace(/\n/g, '\r') + '\n');
  };
}

/** Writes framed records to Lambda's telemetry fd: type, length, timestamp in µs (big-endian), then the record. */
function toTelemetryFd(fd: number, json: boolean, ids: () => [unknown, unknown]): Write {
  const header = Buffer.alloc(16);
  return (level, args) => {
    const [requestId, tenantId] = ids();
    const now = new Date();
    const time = now.toISOString();
    const record = json ? jsonRecord(time, level, requestId, tenantId, args) : textRecord(time, level, requestId, args) + '\n';
    const bytes = Buffer.from(record, 'utf8');
    header.writeUInt32BE(((json ? FRAME_JSON : FRAME_TEXT) | level.frameBits) >>> 0, 0);
    header.writeInt32BE(bytes.length, 4);
    header.writeBigInt64BE(BigInt(now.valueOf()) * 1000n, 8);
    writeSync(fd, header);
    writeSync(fd, bytes);
  };
}

let jsonFormat = false;
let patched = false;

/**
 * Patches the global console (once). Reads AWS_LAMBDA_LOG_FORMAT, AWS_LAMBDA_LOG_LEVEL and
 * `_LAMBDA_TELEMETRY_LOG_FD` (removed from the environment once read, as AWS's client does). With `store`
 * (Lambda Managed Instances mode) records carry each invocation's own ids and are always JSON.
 */
export function patchConsole(env: NodeJS.ProcessEnv = process.env, store?: LogIds): void {
  if (patched) return;
  patched = true;
  jsonFormat = store !== undefined || env['AWS_LAMBDA_LOG_FORMAT']?.toUpperCase() === 'JSON';
  const ids: () => [unknown, unknown] = store
    ? () => [store.getRequestId(), store.getTenantId()]
    : () => [globals[REQUEST_ID], globals[TENANT_ID]];
  const fd = env['_LAMBDA_TELEMETRY_LOG_FD'];
  let write: Write;
  if (fd !== undefined && fd !== null) {
    delete env['_LAMBDA_TELEMETRY_LOG_FD'];
    write = toTelemetryFd(parseInt(fd), jsonFormat, ids);
  } else {
    write = toStdout(jsonFormat, ids);
  }
  const threshold = LEVELS[env['AWS_LAMBDA_LOG_LEVEL']?.toUpperCase() ?? ''] ?? LEVELS['TRACE']!;
  const ignore = () => {};
  const at = (name: string, filtered = true) => {
    const level = LEVELS[name]!;
    if (filtered && level.priority < threshold.priority) return ignore;
    return (message?: unknown, ...rest: unknown[]) => write(level, [message, ...rest]);
  };
  const c = console as unknown as Record<string, unknown>;
  c['trace'] = at('TRACE');
  c['debug'] = at('DEBUG');
  c['info'] = at('INFO');
  c['log'] = c['info'];
  c['warn'] = at('WARN');
  c['error'] = at('ERROR');
  // FATAL is never filtered out.
  c['fatal'] = at('FATAL', false);
}

/** Logs an error as the runtime reports it (`Invoke Error`, `Uncaught Exception`...), through console.error. */
export function logError(label: string, err: unknown): void {
  if (jsonFormat) console.error(intoError(err));
  else console.error(label, toFormatted(intoError(err)));
}
