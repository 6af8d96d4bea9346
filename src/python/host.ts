// The Host for Python handlers: a PythonPool in handler mode (its first worker possibly the one `bootstrap`
// started), with the pool's init outcome turned into Lambda's init phase: ready, an init error to post
// (then exit 1), a worker that could not start (a clear message, Runtime.WorkerStartError, exit 1), a
// protocol version mismatch (exit 70), or a worker that died while importing the handler (post nothing,
// exit with its status).
import { announce } from '../runtime/diag.ts';
import { errorDocument } from '../runtime/errors.ts';
import type { ExitStatus, Host, InitOutcome, Invocation, InvokeIO, InvokeOutcome } from '../runtime/types.ts';
import { PythonPool, type PoolOptions } from './pool.ts';
import { PROTOCOL_MISMATCH_EXIT_CODE, ProtocolVersionError } from './worker.ts';

export interface PythonHost extends Host {
  readonly pool: PythonPool;
  /** Forwards a signal to every worker. */
  signal(sig: NodeJS.Signals): void;
}

export function createPythonHost(options: Omit<PoolOptions, 'mode'> & { onFatalDeath?: (s: ExitStatus) => void }): PythonHost {
  const pool = new PythonPool({ ...options, mode: 'handler' });
  pool.onFatalDeath = options.onFatalDeath;
  let stopped: Promise<void> | undefined;
  return {
    pool,
    async init(): Promise<InitOutcome> {
      const init = await pool.start();
      switch (init.kind) {
        case 'ready':
          return { ok: true };
        case 'initError':
          return { ok: false, error: { body: init.body, errorType: init.errorType }, exit: { code: 1, signal: null } };
        case 'died':
          return { ok: false, exit: init.exit };
        case 'failed': {
          announce(init.error.message);
          const code = init.error instanceof ProtocolVersionError ? PROTOCOL_MISMATCH_EXIT_CODE : 1;
          return {
            ok: false,
            error: { body: errorDocument(init.error), errorType: init.error.errorType },
            exit: { code, signal: null },
          };
        }
      }
    },
    invoke(inv: Invocation, io: InvokeIO): Promise<InvokeOutcome> {
      return pool.invoke(inv, io);
    },
    signal(sig: NodeJS.Signals): void {
      pool.signal(sig);
    },
    shutdown(): Promise<void> {
      stopped ??= pool.shutdown();
      return stopped;
    },
  };
}
