// Runs one bench process (the fake Runtime API, the call bench) with a plan over IPC and resolves with the
// result it sends back, or with { error } when it exits without one or runs past `limitMs` (then killed).
import { fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const benchDir = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The harness's environment without what Lambda does not set (every side gets the same). */
export function cleanEnv() {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  delete env.PYTHONDONTWRITEBYTECODE;
  return env;
}

export function runChild(script, message, limitMs) {
  return new Promise((resolve) => {
    const child = fork(join(benchDir, script), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: cleanEnv() });
    let done = false;
    const finish = (value) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(value);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish({ error: `${script} over ${limitMs} ms` });
    }, limitMs);
    child.on('message', finish);
    child.on('exit', (code, signal) => finish({ error: `${script} exited (code ${code}, signal ${signal}) without a result` }));
    child.send(message);
  });
}
