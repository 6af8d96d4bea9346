#!/usr/bin/env -S node --
// Entry of dist/cli.mjs (`tandem`, `npm run invoke`, `npm run serve`): dispatches the sub-commands, turns
// bad input into a one-line error and exit status 2, and on SIGINT/SIGTERM takes every runtime down
// (process groups) before exiting, so nothing outlives the tool.
import { UsageError, USAGE, parseInvoke, parseServe } from './cli-args.ts';
import { buildConfig, ToolError } from './local-function.ts';
import { readEvent } from './event-input.ts';
import { EXIT, runInvoke } from './invoke-command.ts';
import { drained } from './backpressure.ts';
import { runServe } from './serve-command.ts';
import { terminalLogFilter } from './terminal-log.ts';
import { formatSampleList, sampleEvent, SAMPLE_EVENTS } from './sample-events.ts';
import type { Supervisor } from './supervisor.ts';

const supervisors: Supervisor[] = [];
let stopping = false;

function onSignal(signal: NodeJS.Signals, status: number): void {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void Promise.allSettled(supervisors.map((s) => s.close())).then(() => process.exit(status));
  });
}

/**
 * `npm run invoke` / `npm run serve` run in the package root whatever directory the user typed them in;
 * npm keeps that directory in INIT_CWD. Relative paths (--dir, --event, --env-file) mean what the user
 * sees, so the tool works from there.
 */
function userDirectory(): string {
  const script = process.env.npm_lifecycle_event;
  const initCwd = process.env.INIT_CWD;
  return (script === 'invoke' || script === 'serve') && initCwd ? initCwd : process.cwd();
}

async function main(argv: string[]): Promise<number> {
  process.chdir(userDirectory());
  const [command, ...rest] = argv;
  switch (command) {
    case 'invoke': {
      const opts = parseInvoke(rest);
      if (opts.help) return void process.stdout.write(USAGE), EXIT.ok;
      if (opts.listEvents) return void process.stdout.write(formatSampleList()), EXIT.ok;
      const config = buildConfig(opts);
      const event = await readEvent(opts.event);
      return runInvoke({
        config,
        event,
        watch: opts.watch,
        io: { stdout: process.stdout, stderr: process.stderr },
        onSupervisor: (s) => supervisors.push(s),
      });
    }
    case 'serve': {
      const opts = parseServe(rest);
      if (opts.help) return void process.stdout.write(USAGE), EXIT.ok;
      const config = buildConfig(opts);
      // The server outlives any one bad request: an unexpected error is reported, not fatal.
      process.on('uncaughtException', (e) => process.stderr.write(`tandem: internal error (still serving): ${e.stack ?? String(e)}\n`));
      const show = process.stderr.isTTY ? terminalLogFilter() : (c: Buffer | string) => c;
      await runServe({
        config,
        host: opts.host,
        port: opts.port,
        concurrency: opts.concurrency,
        maxConcurrency: opts.maxConcurrency,
        watch: opts.watch,
        log: (c) => process.stderr.write(show(c)),
        logDrain: () => drained(process.stderr),
        onSupervisor: (s) => supervisors.push(s),
      });
      return new Promise<number>(() => undefined); // serves until a signal
    }
    case 'events': {
      if (rest.length === 0) return void process.stdout.write(formatSampleList()), EXIT.ok;
      const sample = sampleEvent(rest[0]!);
      if (!sample || rest.length > 1) {
        throw new UsageError(`events: unknown sample "${rest.join(' ')}" (samples: ${SAMPLE_EVENTS.map((e) => e.name).join(', ')})`);
      }
      process.stdout.write(`${JSON.stringify(sample.event, null, 2)}\n`);
      return EXIT.ok;
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? EXIT.usage : EXIT.ok;
    default:
      throw new UsageError(`unknown command "${command}" (commands: invoke, serve, events, help)`);
  }
}

onSignal('SIGINT', 130);
onSignal('SIGTERM', 143);
onSignal('SIGHUP', 129);
// A reader that stops early (`| head`) is not an error of the tool.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
  });
}
main(process.argv.slice(2)).then(
  (status) => {
    process.exitCode = status;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`tandem: ${err.message}\n(see: tandem help)\n`);
      process.exitCode = EXIT.usage;
    } else if (err instanceof ToolError) {
      process.stderr.write(`tandem: ${err.message}\n`);
      process.exitCode = EXIT.tool;
    } else {
      process.stderr.write(`tandem: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exitCode = EXIT.tool;
    }
    void Promise.allSettled(supervisors.map((s) => s.close()));
  },
);
