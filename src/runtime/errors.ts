// The runtime's own error taxonomy, and the one safe serializer that turns any thrown value into an error
// document shaped like AWS's Python runtime's (`{"errorMessage", "errorType", "requestId", "stackTrace"}`, in
// that order, Python's separators, non-ASCII escaped). `errorDocument` never throws.

/** Base class: every error the runtime raises on purpose carries a Lambda-style `errorType`. */
export class TandemError extends Error {
  readonly errorType: string;
  constructor(errorType: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.errorType = errorType;
  }
}

/** The Runtime API could not be reached, or answered something the runtime cannot go on from. */
export class RuntimeApiError extends TandemError {
  /** The HTTP status, when there was an answer. */
  readonly status: number | undefined;
  /** True when the failure happened before any byte of the answer arrived (a retry is safe to consider). */
  readonly beforeResponse: boolean;
  constructor(message: string, options: { status?: number; beforeResponse?: boolean; cause?: unknown } = {}) {
    super('Runtime.ApiError', message, { cause: options.cause });
    this.status = options.status;
    this.beforeResponse = options.beforeResponse ?? false;
  }
}

/** The Runtime API's answer broke HTTP/1.1 as this client understands it. */
export class HttpProtocolError extends RuntimeApiError {
  constructor(message: string) {
    super(`malformed HTTP response from the Runtime API: ${message}`);
  }
}

/** A worker broke the frame protocol (bad frame, oversized frame, unexpected message, version mismatch). */
export class WorkerProtocolError extends TandemError {
  constructor(message: string) {
    super('Runtime.WorkerProtocolError', message);
  }
}

/** The Python worker could not be started or died before its handshake. */
export class WorkerStartError extends TandemError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('Runtime.WorkerStartError', message, options);
  }
}

/** A worker died while running a call (the `python()` API) or an invocation in a pool. */
export class WorkerExitError extends TandemError {
  constructor(message: string) {
    super('Runtime.ExitError', message);
  }
}

/** A configuration value the runtime cannot work with (environment, handler string). */
export class ConfigError extends TandemError {
  constructor(message: string) {
    super('Runtime.ConfigError', message);
  }
}

/** JSON string literal as Python's `json.dumps` (ensure_ascii) writes it: non-ASCII as `\uXXXX`. */
export function pyJsonString(s: string): string {
  return JSON.stringify(s).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function describe(err: unknown): { errorType: string; errorMessage: string } {
  if (err instanceof TandemError) return { errorType: err.errorType, errorMessage: err.message };
  if (err instanceof Error) return { errorType: `Runtime.${err.name || 'Error'}`, errorMessage: err.message };
  return { errorType: 'Runtime.Unknown', errorMessage: String(err) };
}

const FALLBACK = Buffer.from(
  '{"errorMessage": "tandem: the error could not be described", "errorType": "Runtime.Unknown", "requestId": "", "stackTrace": []}',
);

/**
 * The error document for `err`, as the bytes to post to `/error` or `/init/error`. Never throws: anything
 * that cannot be described (a throwing getter, a revoked proxy) gives a fixed fallback document.
 */
export function errorDocument(err: unknown, requestId = '', errorType?: string): Buffer {
  try {
    const d = describe(err);
    const type = errorType ?? d.errorType;
    return Buffer.from(
      `{"errorMessage": ${pyJsonString(String(d.errorMessage))}, "errorType": ${pyJsonString(String(type))}, ` +
        `"requestId": ${pyJsonString(String(requestId))}, "stackTrace": []}`,
    );
  } catch {
    return FALLBACK;
  }
}

/** The `errorType` `errorDocument` would use for `err`. Never throws. */
export function errorTypeOf(err: unknown): string {
  try {
    return describe(err).errorType;
  } catch {
    return 'Runtime.Unknown';
  }
}

/** A one-line message for stderr. Never throws. */
export function errorMessageOf(err: unknown): string {
  try {
    return err instanceof Error ? err.message : String(err);
  } catch {
    return 'unknown error';
  }
}
