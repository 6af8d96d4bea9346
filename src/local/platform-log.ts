// Lambda's platform log lines, formatted as the service prints them in a function's log stream:
// START / END / REPORT, the timeout line, and the INIT_REPORT line of a failed init.
// Pure functions: the supervisor decides when to print them.

export interface ReportFields {
  requestId: string;
  durationMs: number;
  billedMs: number;
  memorySizeMb: number;
  maxMemoryUsedMb: number;
  /** Only on a cold start. */
  initDurationMs?: number;
  /** Set when the invocation did not succeed: `timeout` or `error`. */
  status?: 'timeout' | 'error';
  /** With status `error`: the platform's error type (e.g. `Runtime.ExitError`). */
  errorType?: string;
}

export const startLine = (requestId: string, version: string): string =>
  `START RequestId: ${requestId} Version: ${version}\n`;

export const endLine = (requestId: string): string => `END RequestId: ${requestId}\n`;

const ms = (n: number): string => n.toFixed(2);

export function reportLine(f: ReportFields): string {
  const parts = [
    `REPORT RequestId: ${f.requestId}`,
    `Duration: ${ms(f.durationMs)} ms`,
    `Billed Duration: ${f.billedMs} ms`,
    `Memory Size: ${f.memorySizeMb} MB`,
    `Max Memory Used: ${f.maxMemoryUsedMb} MB`,
  ];
  if (f.initDurationMs !== undefined) parts.push(`Init Duration: ${ms(f.initDurationMs)} ms`);
  if (f.status) parts.push(`Status: ${f.status}`);
  if (f.status === 'error' && f.errorType) parts.push(`Error Type: ${f.errorType}`);
  return `${parts.join('\t')}\t\n`;
}

/** Lambda's line for an init phase that failed (on-demand functions log it only then). */
export const initReportLine = (initDurationMs: number, status: 'error' | 'timeout', errorType?: string): string =>
  `INIT_REPORT Init Duration: ${ms(initDurationMs)} ms\tPhase: init\tStatus: ${status}` +
  (status === 'error' && errorType ? `\tError Type: ${errorType}` : '') +
  '\n';

/** The line Lambda writes to the function's log when an invocation times out. */
export const timeoutLogLine = (requestId: string, timeoutSec: number, at = new Date()): string =>
  `${at.toISOString()} ${requestId} Task timed out after ${timeoutSec.toFixed(2)} seconds\n`;

/** `Billed Duration`: custom runtimes are billed for init too, rounded up to the millisecond. */
export const billedMs = (durationMs: number, initDurationMs = 0): number =>
  Math.max(1, Math.ceil(durationMs + initDurationMs));
