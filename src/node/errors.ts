// The Node host's errors and the three forms a handler's error takes on its way out, each exactly as AWS's
// Node client (aws-lambda-ric 3.3.0) makes it: the error document (`{errorType, errorMessage, trace}`, posted
// to /error and /init/error and sent in a stream's error trailer), the log form after `Invoke Error` (the
// error's enumerable properties and its stack as lines) and the X-Ray cause header.
import { types } from 'node:util';

/** One of AWS's `Runtime.*` error classes: the class keeps its short name, its errors say `Runtime.<name>`. */
function runtimeErrorClass(name: string) {
  const cls = class extends Error {};
  Object.defineProperty(cls, 'name', { value: name });
  cls.prototype.name = `Runtime.${name}`;
  return cls;
}

export const ImportModuleError = runtimeErrorClass('ImportModuleError');
export const HandlerNotFound = runtimeErrorClass('HandlerNotFound');
export const MalformedHandlerName = runtimeErrorClass('MalformedHandlerName');
export const UserCodeSyntaxError = runtimeErrorClass('UserCodeSyntaxError');
export const InvalidStreamingOperation = runtimeErrorClass('InvalidStreamingOperation');

/** An async handler (or a streaming one) left nothing to run and never settled: it can never finish. */
export class NodeJsExit extends Error {
  constructor() {
    super(
      'The Lambda runtime client detected an unexpected Node.js exit code. This is most commonly caused by a Promise that was never settled. For more information, see https://nodejs.org/docs/latest/api/process.html#exit-codes',
    );
  }
}
NodeJsExit.prototype.name = 'Runtime.NodeJsExit';

/** A rejected promise nobody handled; its message is the reason as a string. */
export class UnhandledPromiseRejection extends Error {
  reason: unknown;
  promise: unknown;
  constructor(reason: unknown, promise: unknown) {
    super(reason as string);
    this.reason = reason;
    this.promise = promise;
  }
}
UnhandledPromiseRejection.prototype.name = 'Runtime.UnhandledPromiseRejection';

/** Anything thrown or passed to a callback, as an Error (a non-Error value becomes `new Error(value)`). */
export function intoError(err: unknown): Error {
  return err instanceof Error ? err : new Error(err as string);
}

/** The error document: what `/error`, `/init/error` and a stream's error trailer carry. */
export interface RapidError {
  errorType: string;
  errorMessage: string;
  trace?: string[];
}

/** DEL escaped as AWS's client escapes it; null and undefined pass as undefined, any other non-string throws. */
function escapeDel(text: string | null | undefined): string | undefined {
  return text?.replaceAll('\x7F', '%7F');
}

/** Errors from other realms or libraries count when their name, message and stack are non-empty strings. */
function hasErrorShape(value: unknown): value is Error & { stack: string } {
  if (!value) return false;
  const { name, message, stack } = value as { name?: unknown; message?: unknown; stack?: unknown };
  return Boolean(name && message && stack) && typeof name === 'string' && typeof message === 'string' && typeof stack === 'string';
}

const UNREADABLE_ERROR: RapidError = {
  errorType: 'handled',
  errorMessage: 'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
};

export function toRapidResponse(error: unknown): RapidError {
  try {
    if (!types.isNativeError(error) && !hasErrorShape(error)) {
      // A string, number, plain object...: its type and its own toString() (which throws for null).
      return { errorType: typeof error, errorMessage: (error as { toString(): string }).toString(), trace: [] };
    }
    const e = error as Error;
    return {
      errorType: escapeDel(e.name)!,
      errorMessage: escapeDel(e.message)!,
      trace: escapeDel(e.stack)!.split('\n'),
    };
  } catch {
    return { ...UNREADABLE_ERROR };
  }
}

/** An Error as the `Invoke Error` log line shows it: type, message, `code`, its enumerable properties, stack lines. */
function loggableError(value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  const fields: Record<string, unknown> = { errorType: value.name, errorMessage: value.message, code: (value as { code?: unknown }).code };
  Object.assign(fields, value);
  if (typeof value.stack === 'string') fields['stack'] = value.stack.split('\n');
  return fields;
}

/** The TEXT-format log form of an error: a tab, then its JSON (the error document when that cannot be made). */
export function toFormatted(error: unknown): string {
  let json: string;
  try {
    json = JSON.stringify(error, (_key, value: unknown) => loggableError(value));
  } catch {
    json = JSON.stringify(toRapidResponse(error));
  }
  return '\t' + json;
}

interface XRayFrame {
  path: string;
  line: number;
  label: string;
}

/**
 * One `    at label (path:line:column)` line of a V8 stack as AWS's client reads it: parentheses dropped, the
 * label is what lies between `at` and the last space, and the location is split at its first `:` (so an
 * ES module's `file:///...` gives the path `file` and no line, exactly as on AWS).
 */
function xrayFrame(stackLine: string): XRayFrame {
  const text = stackLine.trim().replace(/[()]/g, '');
  const afterAt = text.slice(text.indexOf(' ') + 1);
  const lastSpace = afterAt.lastIndexOf(' ');
  const label = lastSpace >= 0 ? afterAt.slice(0, lastSpace) : '';
  const location = label === '' ? afterAt : afterAt.slice(lastSpace + 1);
  const [path, line] = location.split(':');
  return { path: path!, line: parseInt(line!), label: label || 'anonymous' };
}

/** The `Lambda-Runtime-Function-XRay-Error-Cause` JSON for what a handler threw ('' when it cannot be made). */
export function xrayCause(err: unknown): string {
  try {
    const e = err as { stack?: unknown; name?: string; message?: string };
    const frames = e.stack ? escapeDel(e.stack as string)!.split('\n').slice(1).map(xrayFrame) : [];
    return JSON.stringify({
      working_directory: process.cwd(),
      exceptions: [{ type: escapeDel(e.name), message: escapeDel(e.message), stack: frames }],
      paths: [...new Set(frames.map((f) => f.path))],
    });
  } catch {
    return '';
  }
}
