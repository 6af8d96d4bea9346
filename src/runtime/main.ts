// Entry of dist/runtime.mjs, what `bootstrap` execs. Reads the environment, adopts the Python worker
// `bootstrap` started (or routes the handler itself), runs the host's init (posting /init/error when it
// fails), then the invocation loop. SIGTERM/SIGINT: forwarded to the workers, which get a short grace
// period, then the runtime dies of the same signal. Kept small and eager only for the Python path:
// the Node host and pino are imported only when needed (cold start and memory are benchmarked).
import { announce, initDiag } from './diag.ts';
import { DEFAULT_MAX_FRAME_BYTES, DEFAULT_SHUTDOWN_GRACE_MS, ENV, flag, optionalUint, positiveInt } from './env.ts';
import { errorMessageOf } from './errors.ts';
import { exitWith } from './exit.ts';
import { runLoop } from './loop.ts';
import { route, type Route } from './router.ts';
import { RuntimeApiClient } from './runtime-api-client.ts';
import type { ExitStatus, Host } from './types.ts';
import { createPythonHost, type PythonHost } from '../python/host.ts';
import { PythonPool } from '../python/pool.ts';
import { adoptWorker, type WorkerProcess } from '../python/worker-process.ts';

const env = process.env;

/** The worker `bootstrap` started, if any; its variables are removed from the environment either way. */
function takeAdoptedWorker(): WorkerProcess | undefined {
  const pid = optionalUint(env, ENV.workerPid);
  const writeFd = optionalUint(env, ENV.workerWriteFd);
  const readFd = optionalUint(env, ENV.workerReadFd);
  delete env[ENV.workerPid];
  delete env[ENV.workerWriteFd];
  delete env[ENV.workerReadFd];
  if (pid === undefined || writeFd === undefined || readFd === undefined) return undefined;
  return adoptWorker(pid, writeFd, readFd);
}

async function main(): Promise<void> {
  await initDiag(env[ENV.logLevel]);
  let adopted: WorkerProcess | undefined;
  try {
    adopted = takeAdoptedWorker();
  } catch (err) {
    // The hand-over failed: start a worker here instead (the pool spawns one).
    announce(`${errorMessageOf(err)}; starting a new worker`);
  }

  const apiAddress = env[ENV.runtimeApi];
  if (!apiAddress) {
    announce(`${ENV.runtimeApi} is not set: this program is meant to be started by Lambda or \`tandem invoke\``);
    adopted?.kill('SIGKILL');
    process.exit(1);
  }
  const concurrency = env[ENV.maxConcurrency] !== undefined ? positiveInt(env, ENV.maxConcurrency, 1) : 1;
  const pipeline = flag(env, ENV.pipeline, true);
  let api: RuntimeApiClient;
  try {
    api = new RuntimeApiClient(apiAddress);
  } catch (err) {
    // A malformed address: one line, and the worker goes too (it would only find its pipe broken).
    announce(errorMessageOf(err).replace(/^tandem: /, ''));
    adopted?.kill('SIGKILL');
    process.exit(1);
  }
  api.preconnect();

  const taskRoot = env[ENV.taskRoot] || process.cwd();
  const rawHandler = env[ENV.handler] ?? '';
  let r: Route;
  try {
    r = adopted ? { language: 'python' as const, handler: rawHandler.replace(/^python:/, '') } : route(rawHandler, taskRoot, env[ENV.runtime]);
  } catch (err) {
    announce(errorMessageOf(err).replace(/^tandem: /, ''));
    process.exit(1);
  }
  const maxFrameBytes = positiveInt(env, ENV.maxFrameBytes, DEFAULT_MAX_FRAME_BYTES);
  const shutdownGraceMs = positiveInt(env, ENV.shutdownGraceMs, DEFAULT_SHUTDOWN_GRACE_MS);

  let host: Host;
  let pythonHost: PythonHost | undefined;
  let callsPool: PythonPool | undefined;
  let stopLoop: ((status: ExitStatus, reason?: string) => void) | undefined;

  /** Ends the runtime: workers first, then this process, with `status`. */
  let ending = false;
  const end = async (status: ExitStatus, reason?: string): Promise<void> => {
    if (ending) return;
    ending = true;
    if (reason) announce(reason);
    await Promise.allSettled([host?.shutdown(), callsPool?.shutdown()]);
    api.close();
    exitWith(status);
  };

  if (r.language === 'python') {
    pythonHost = createPythonHost({
      size: concurrency,
      handler: r.handler,
      maxFrameBytes,
      shutdownGraceMs,
      adopted,
      onFatalDeath: (status) => (stopLoop ? stopLoop(status) : void end(status)),
    });
    host = pythonHost;
  } else {
    env[ENV.handler] = r.handler;
    // The Node host takes Lambda's telemetry fd for itself (and removes the variable, as AWS's Node client
    // does); Python workers it starts for python() calls still get it, so their logs land there too.
    const telemetryFd = env[ENV.telemetryFd];
    const callsEnv = () => (telemetryFd ? { ...process.env, [ENV.telemetryFd]: telemetryFd } : process.env);
    const { createNodeHost } = await import('../node/host.ts');
    host = createNodeHost({
      taskRoot,
      handler: r.handler,
      python: () =>
        (callsPool ??= new PythonPool({ mode: 'calls', size: concurrency, maxFrameBytes, shutdownGraceMs, env: callsEnv() })),
    });
  }

  const onSignal = (sig: NodeJS.Signals) => {
    pythonHost?.signal(sig);
    callsPool?.signal(sig);
    void end({ code: null, signal: sig });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  const init = await host.init();
  if (!init.ok) {
    if (init.error) {
      try {
        const out = await api.postInitError(init.error);
        if (out.status < 200 || out.status >= 300) announce(`the Runtime API answered ${out.status} to the init error`);
      } catch (err) {
        announce(`posting the init error failed: ${errorMessageOf(err)}`);
      }
    }
    await end(init.exit);
    return;
  }

  const loop = runLoop({ api, host, concurrency, pipeline, stop: end });
  stopLoop = loop.stop;
  await loop.done;
}

main().catch((err: unknown) => {
  announce(`the runtime failed: ${err instanceof Error && err.stack ? err.stack : errorMessageOf(err)}`);
  process.exit(1);
});
