// `tandem invoke` (`npm run invoke`): one invocation through the real runtime. The result goes to stdout
// (pretty-printed JSON on a terminal, the exact bytes otherwise; streamed responses as they arrive), the
// function's logs and the platform lines to stderr. With --watch, the runtime restarts whenever a file of
// the task root changes and the same event is invoked again, until Ctrl-C.
import type { Writable } from 'node:stream';
import { Supervisor, type InvokeReport } from './supervisor.ts';
import type { FunctionConfig } from './function-config.ts';
import { HTTP_INTEGRATION_CONTENT_TYPE, PreludeSplitter } from './http-prelude.ts';
import { watchTree } from './watch.ts';

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
  const supervisor = new Supervisor({ config: cmd.config, log: (c) => void cmd.io.stderr.write(c) });
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

/** Re-invokes after every change until the process is interrupted (the promise never resolves by itself). */
function watchLoop(supervisor: Supervisor, cmd: InvokeCommand): Promise<void> {
  const { io } = cmd;
  io.stderr.write(`tandem: watching ${cmd.config.taskRoot} for changes (Ctrl-C to stop)\n`);
  let running = false;
  let again = false;
  const rerun = async (files: string[]) => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    supervisor.restart();
    io.stderr.write(`\ntandem: ${files.join(', ')} changed: restarting the runtime and invoking again\n`);
    try {
      await invokeOnce(supervisor, cmd.event, io);
    } catch (e) {
      io.stderr.write(`tandem: ${(e as Error).message}\n`);
    }
    running = false;
    if (again) {
      again = false;
      void rerun(['(more files)']);
    }
  };
  const watcher = watchTree(cmd.config.taskRoot, (files) => void rerun(files));
  return new Promise<void>(() => {
    process.once('exit', () => watcher.close());
  });
}
