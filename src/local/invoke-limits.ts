// Lambda's Invoke API request limits, and the words its front end refuses an oversized request with
// (HTTP 413, RequestEntityTooLargeException): one definition for `serve` (its HTTP answer) and `invoke`
// (which refuses such an event before running anything, as `aws lambda invoke` would get it refused).

/** Synchronous invoke request limit (Lambda: 6 MB). */
export const MAX_SYNC_REQUEST_BYTES = 6 * 1024 * 1024;
/** Asynchronous (Event) invoke request limit (Lambda: 1 MB since Oct 2025). */
export const MAX_ASYNC_REQUEST_BYTES = 1024 * 1024;

export const REQUEST_TOO_LARGE = 'RequestEntityTooLargeException';

/** `Request must be smaller than 6291456 bytes for the InvokeFunction operation`. */
export function requestTooLargeMessage(limit: number, operation: string): string {
  return `Request must be smaller than ${limit} bytes for the ${operation} operation`;
}
