// `tandem serve` (`npm run serve`): the Invoke API and function-URL-style HTTP on a local port, backed by a
// pool of warm runtimes; with --watch, runtimes restart when the task root changes.
import type { AddressInfo } from 'node:net';
import type http from 'node:http';
import { Supervisor } from './supervisor.ts';
import type { FunctionConfig } from './function-config.ts';
import { createInvokeApiServer } from './invoke-api.ts';
import { watchTree } from './watch.ts';
import { dropStaleBytecode } from './stale-bytecode.ts';
import { ToolError } from './local-function.ts';

export interface ServeCommand {
  config: FunctionConfig;
  host: string;
  port: number;
  concurrency: number;
  /** Invocations per runtime (Lambda Managed Instances mode when > 1); default 1. */
  maxConcurrency?: number;
  watch: boolean;
  log: (chunk: Buffer | string) => boolean | void;
  /** Resolves when `log`'s destination can take more after it returned false (backpressure). */
  logDrain?: () => Promise<void>;
  onSupervisor?(s: Supervisor): void;
}

export interface Serving {
  server: http.Server;
  supervisor: Supervisor;
  url: string;
  close(): Promise<void>;
}

export async function runServe(cmd: ServeCommand): Promise<Serving> {
  const supervisor = new Supervisor({
    config: cmd.config,
    concurrency: cmd.concurrency,
    ...(cmd.maxConcurrency !== undefined ? { maxConcurrency: cmd.maxConcurrency } : {}),
    log: cmd.log,
    ...(cmd.logDrain ? { logDrain: cmd.logDrain } : {}),
  });
  cmd.onSupervisor?.(supervisor);
  const server = createInvokeApiServer({ supervisor, log: (t) => void cmd.log(t) });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'EADDRINUSE' ? new ToolError(`port ${cmd.port} on ${cmd.host} is already in use (try --port)`) : e),
    );
    server.listen(cmd.port, cmd.host, () => resolve());
  });
  const a = server.address() as AddressInfo;
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  const url = `http://${host}:${a.port}`;
  if (!['127.0.0.1', '::1', 'localhost'].includes(cmd.host)) {
    cmd.log(`tandem: warning: listening on ${cmd.host}: anyone who can reach this address can invoke the function\n`);
  }
  const watcher = cmd.watch
    ? watchTree(cmd.config.taskRoot, (files) => {
        dropStaleBytecode(cmd.config.taskRoot, files);
        supervisor.restart();
        cmd.log(`tandem: ${files.join(', ')} changed: the next request starts a fresh runtime\n`);
      })
    : undefined;
  cmd.log(
    `tandem: serving ${cmd.config.handler} from ${cmd.config.taskRoot} at ${url} ` +
      `(timeout ${cmd.config.timeoutSec} s, memory ${cmd.config.memoryMb} MB, concurrency ${cmd.concurrency}${(cmd.maxConcurrency ?? 1) > 1 ? ` x ${cmd.maxConcurrency} per runtime (Managed Instances mode)` : ''}${cmd.watch ? ', watching' : ''})\n` +
      `  curl -XPOST ${url}/2015-03-31/functions/function/invocations -d '{}'\n`,
  );
  return {
    server,
    supervisor,
    url,
    async close() {
      watcher?.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await supervisor.close();
    },
  };
}
