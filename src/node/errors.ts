// Error classes and error documents of the Node host, shaped as aws-lambda-ric 3.3.0 shapes them: the
// `Runtime.*` classes, the `/error` body `{errorType, errorMessage, trace}`, the `Invoke Error` log form
// (enumerable properties plus `stack`), and the X-Ray cause (`Lambda-Runtime-Function-XRay-Error-Cause`).
import { types } from 'node:util';

function runtimeError(name: string) {
  const cls = class extends Error {};
  Object.defineProperty(cls, 'name', { value: name });
  cls.prototype.name = `Runtime.${name}`;
  return cls;
}

export const ImportModuleError = runtimeError('ImportModuleError');
export const HandlerNotFound = runtimeError('HandlerNotFound');
export const MalformedHandlerName = runtimeError('MalformedHandlerName');
export const UserCodeSyntaxError = runtimeError('UserCodeSyntaxError');
export const MalformedStreamingHandler = runtimeError('MalformedStreamingHandler');
export const InvalidStreamingOperation = runtimeError('InvalidStreamingOperation');

export class NodeJsExit extends Error {
  constructor() {
    super(
      'The Lambda runtime client detected an unexpected Node.js exit code. This is most commonly caused by a Promise that was never settled. For more information, see https://nodejs.org/docs/latest/api/process.html#exit-codes',
    );
  }
}
NodeJsExit.prototype.name = 'Runtime.NodeJsExit';

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

/** Anything thrown or passed to a callback, as an Error (a non-Error becomes `new Error(value)`). */
export function intoError(err: unknown): Error {
  return err instanceof Error ? err : new Error(err as string);
}

function isErrorLike(obj: unknown): obj is { name: string; message: string; stack: string } {
  const o = obj as { name?: unknown; message?: unknown; stack?: unknown } | null | undefined;
  return Boolean(
    o && o.name && o.message && o.stack && typeof o.name === 'string' && typeof o.message === 'string' && typeof o.stack === 'string',
  );
}

export interface RapidError {
  errorType: string;
  errorMessage: string;
  trace?: string[];
}

/** The error document posted to `/error`, `/init/error` and in the stream error trailer. */
export function toRapidResponse(error: unknown): RapidError {
  try {
    if (types.isNativeError(error) || isErrorLike(error)) {
      const e = error as Error;
      return {
        errorType: e.name?.replaceAll('\x7F', '%7F'),
        errorMessage: e.message?.replaceAll('\x7F', '%7F'),
        trace: (e.stack as string).replaceAll('\x7F', '%7F').split('\n'),
      };
    }
    return { errorType: typeof error, errorMessage: (error as { toString(): string }).toString(), trace: [] };
  } catch {
    return {
      errorType: 'handled',
      errorMessage:
        'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
    };
  }
}

function withEnumerableProperties(value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  const ret = Object.assign(
    { errorType: value.name, errorMessage: value.message, code: (value as { code?: unknown }).code },
    value,
  ) as unknown as Record<string, unknown>;
  if (typeof value.stack === 'string') ret['stack'] = value.stack.split('\n');
  return ret;
}

/** The TEXT-format log form of an error: a tab, then JSON with the error's enumerable properties. */
export function toFormatted(error: unknown): string {
  try {
    return '\t' + JSON.stringify(error, (_k, v: unknown) => withEnumerableProperties(v));
  } catch {
    return '\t' + JSON.stringify(toRapidResponse(error));
  }
}

interface XRayStackEntry {
  path: string;
  line: number;
  label: string;
}

/** The X-Ray cause JSON for an error ('' when it cannot be built). */
export function xrayCause(err: unknown): string {
  try {
    const e = err as { stack?: unknown; name?: string; message?: string };
    const stack: XRayStackEntry[] = [];
    if (e.stack) {
      const lines = String(e.stack).split('\n');
      lines.shift();
      for (const stackLine of lines) {
        let line = stackLine.trim().replace(/\(|\)/g, '');
        line = line.substring(line.indexOf(' ') + 1);
        const cut = line.lastIndexOf(' ');
        const label = cut >= 0 ? line.slice(0, cut) : null;
        const where = (label === null || label.length === 0 ? line : line.slice(cut + 1)).split(':');
        stack.push({ path: where[0]!, line: parseInt(where[1]!), label: label || 'anonymous' });
      }
    }
    const cause = {
      working_directory: process.cwd(),
      exceptions: [
        { type: e.name, message: e.message, stack },
      ],
      paths: Array.from(new Set(stack.map((s) => s.path))),
    };
    return JSON.stringify(cause);
  } catch {
    return '';
  }
}
