// `tandem invoke` (`npm run invoke`): one invocation through the real runtime. The result goes to stdout
// (pretty-printed JSON on a terminal, the exact bytes otherwise; streamed responses as they arrive), the
// function's logs and the platform lines to stderr. With --watch, the runtime restarts whenever a file of
// the task root changes and the same event is invoked again, until Ctrl-C.
import type { Writable } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { Supervisor, type InvokeReport } from './supervisor.ts';
import type { FunctionConfig } from './function-config.ts';
import { HTTP_INTEGRATION_CONTENT_TYPE, PreludeSplitter } from './http-prelude.ts';
import { watchTree } from './watch.ts';
import { dropStaleBytecode } from './stale-bytecode.ts';
import { terminalLogFilter } from './terminal-log.ts';
import { drained } from './backpressure.ts';

export const EXIT = { ok: 0, functionError: 1, usage: 2, timeout: 3, tool: 4 } as const;

export interface InvokeIO {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable;
}

function write(stream: Writable, data: Buffer | string): Promise<void> {
  return new Promise((resolve) => {
    if (stream.write(data)) resolve();
    else stream.once('drain', resolve);
  });
}

function pretty(body: Buffer): string | undefined {
  try {
    return `${JSON.stringify(JSON.parse(body.toString('utf8')), null, 2)}\n`;
  } catch {
    return undefined;
  }
}

export function exitCodeOf(report: InvokeReport): number {
  if (report.outcome === 'timeout') return EXIT.timeout;
  return report.outcome === 'success' ? EXIT.ok : EXIT.functionError;
}

/** Runs one invocation and prints its result; returns the exit status. */
export async function invokeOnce(supervisor: Supervisor, event: Buffer, io: InvokeIO): Promise<number> {
  const tty = io.stdout.isTTY === true;
  let streamed = false;
  let splitter: PreludeSplitter | undefined;
  let lastByte = -1;
  const out = async (data: Buffer) => {
    if (data.length === 0) return;
    lastByte = data[data.length - 1]!;
    await write(io.stdout, data);
  };
  const report = await supervisor.invoke(
    { body: event },
    {
      onStreamStart(contentType) {
        streamed = true;
        if (tty && contentType === HTTP_INTEGRATION_CONTENT_TYPE) splitter = new PreludeSplitter();
      },
      async onChunk(chunk) {
        if (splitter) {
          const { prelude, body } = splitter.push(chunk);
          if (prelude) await write(io.stderr, `tandem: HTTP prelude ${JSON.stringify(prelude)}\n`);
          await out(body);
        } else {
          await out(chunk);
        }
      },
    },
  );
  const { result } = report;
  if (splitter) {
    await out(splitter.end());
  }
  if (result.kind === 'response') {
    if (!streamed) {
      const text = tty ? pretty(result.body) : undefined;
      await write(io.stdout, text ?? result.body);
      if (tty && text === undefined && !result.body.toString().endsWith('\n')) await write(io.stdout, '\n');
    } else if (tty && lastByte !== -1 && lastByte !== 0x0a) {
      await write(io.stdout, '\n');
    }
  } else if (streamed) {
    // Part of the response is already on stdout: the error document goes to stderr.
    if (tty && lastByte !== -1 && lastByte !== 0x0a) await write(io.stdout, '\n');
    await write(io.stderr, `tandem: the stream ended with ${result.errorType}: `);
    await write(io.stderr, result.body);
    await write(io.stderr, '\n');
  } else {
    const text = tty ? pretty(result.body) : undefined;
    await write(io.stdout, text ?? result.body);
  }
  return exitCodeOf(report);
}

export interface InvokeCommand {
  config: FunctionConfig;
  event: Buffer;
  watch: boolean;
  io: InvokeIO;
  /** Called with the supervisor so the caller can shut it down on a signal. */
  onSupervisor?(s: Supervisor): void;
}

export async function runInvoke(cmd: InvokeCommand): Promise<number> {
  const show = (cmd.io.stderr as { isTTY?: boolean }).isTTY ? terminalLogFilter() : (c: Buffer | string) => c;
  const { stderr } = cmd.io;
  const supervisor = new Supervisor({ config: cmd.config, log: (c) => stderr.write(show(c)), logDrain: () => drained(stderr) });
  cmd.onSupervisor?.(supervisor);
  try {
    const status = await invokeOnce(supervisor, cmd.event, cmd.io);
    if (!cmd.watch) return status;
    await watchLoop(supervisor, cmd);
    return status;
  } finally {
    await supervisor.close();
  }
}

/**
 * Re-invokes after every change until the process is interrupted (the promise never resolves by itself).
 * Changes made while an invocation runs queue one more run after it, except when the same files changed
 * during two runs in a row with no other change: that is the function writing into its own task root (read
 * only on Lambda), and re-running would loop forever; it waits for the next change instead.
 */
function watchLoop(supervisor: Supervisor, cmd: InvokeCommand): Promise<void> {
  const { io } = cmd;
  const root = cmd.config.taskRoot;
  let running = false;
  let lastRunEndedAt = -1;
  /** Changes reported while an invocation ran. */
  let duringRun = new Set<string>();
  /** Set when the current run was started by changes made during the previous one: those files. */
  let startedByRun: Set<string> | undefined;

  /** Files changed while the last run was in progress. */
  const changedByRun = (files: string[]) => {
    if (startedByRun && files.every((f) => startedByRun!.has(f))) {
      io.stderr.write(
        `tandem: ${describeFiles(files)} changed again while the function ran: not invoking again, to avoid a loop ` +
          `(is the function writing into its task root? On Lambda it is read-only; write to /tmp). ` +
          `Waiting for the next change.\n`,
      );
      startedByRun = undefined;
      return;
    }
    void rerun(files, new Set(files));
  };

  const rerun = async (files: string[], byRun: Set<string> | undefined) => {
    running = true;
    startedByRun = byRun;
    dropStaleBytecode(root, files);
    supervisor.restart();
    io.stderr.write(`\ntandem: ${describeFiles(files)} changed: restarting the runtime and invoking again\n`);
    try {
      await invokeOnce(supervisor, cmd.event, io);
    } catch (e) {
      io.stderr.write(`tandem: ${(e as Error).message}\n`);
    }
    running = false;
    lastRunEndedAt = performance.now();
    if (duringRun.size === 0) return;
    const next = [...duringRun];
    duringRun = new Set();
    changedByRun(next);
  };

  const watcher = watchTree(root, (files, firstEventAt) => {
    if (running) for (const f of files) duringRun.add(f);
    else if (firstEventAt <= lastRunEndedAt) changedByRun(files); // began during the last run, reported after it
    else void rerun(files, undefined);
  });
  // Only now: a change made as soon as this line is read is seen.
  io.stderr.write(`tandem: watching ${root} for changes (Ctrl-C to stop)\n`);
  return new Promise<void>(() => {
    process.once('exit', () => watcher.close());
  });
}

function describeFiles(files: string[]): string {
  return files.length <= 5 ? files.join(', ') : `${files.slice(0, 5).join(', ')} and ${files.length - 5} more files`;
}
