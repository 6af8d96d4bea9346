// The runtime's own diagnostics: pino on stderr, silent unless TANDEM_LOG_LEVEL is set (pino is then
// imported lazily, so a normal start never loads it). `announce` is the one always-on channel, for the
// few conditions that end the runtime and must be explained on stderr whatever the log level.
// stdout is never written here: it belongs to the function.
import type { Logger } from 'pino';

let logger: Logger | undefined;

/** Loads pino when `level` is set. Call once, early, and await it. */
export async function initDiag(level: string | undefined): Promise<void> {
  if (!level || level === 'silent') return;
  const mod = await import('pino');
  // The CommonJS module's function, whichever way the bundler exposes it.
  const pino = (mod.default ?? mod.pino) as typeof mod.pino;
  logger = pino(
    { name: 'tandem', level, base: { pid: process.pid } },
    pino.destination({ dest: 2, sync: true }),
  );
}

/** True when messages at `debug` would be written (guards expensive message building). */
export function debugEnabled(): boolean {
  return logger !== undefined && logger.isLevelEnabled('debug');
}

type Fields = Record<string, unknown>;

export const diag = {
  debug(msg: string, fields?: Fields): void {
    if (logger) logger.debug(fields ?? {}, msg);
  },
  info(msg: string, fields?: Fields): void {
    if (logger) logger.info(fields ?? {}, msg);
  },
  warn(msg: string, fields?: Fields): void {
    if (logger) logger.warn(fields ?? {}, msg);
  },
  error(msg: string, fields?: Fields): void {
    if (logger) logger.error(fields ?? {}, msg);
  },
};

/** Always written: one `tandem: …` line on stderr (and to pino when it is on). */
export function announce(message: string, fields?: Fields): void {
  if (logger) logger.error(fields ?? {}, message);
  else process.stderr.write(`tandem: ${message}\n`);
}
