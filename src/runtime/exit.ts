// Ending the runtime with a given exit status: an exit code as is, a signal by re-raising it on this
// process (with Node's own listeners for it removed), so whoever waits for the runtime sees what the
// worker died of. Also the Lambda wording of an exit status ("exit status 3", "signal: killed").
import { constants as osConstants } from 'node:os';
import type { ExitStatus } from './types.ts';

// Go's names for signals, as Lambda prints them in Runtime.ExitError messages.
const SIGNAL_WORDS: Record<string, string> = {
  SIGHUP: 'hangup',
  SIGINT: 'interrupt',
  SIGQUIT: 'quit',
  SIGILL: 'illegal instruction',
  SIGTRAP: 'trace/breakpoint trap',
  SIGABRT: 'aborted',
  SIGBUS: 'bus error',
  SIGFPE: 'floating point exception',
  SIGKILL: 'killed',
  SIGUSR1: 'user defined signal 1',
  SIGSEGV: 'segmentation fault',
  SIGUSR2: 'user defined signal 2',
  SIGPIPE: 'broken pipe',
  SIGALRM: 'alarm clock',
  SIGTERM: 'terminated',
  SIGXCPU: 'CPU time limit exceeded',
  SIGXFSZ: 'file size limit exceeded',
  SIGSYS: 'bad system call',
};

/** `exit status 3` or `signal: killed`, as Lambda reports a runtime exit. */
export function describeExit(status: ExitStatus): string {
  if (status.signal) return `signal: ${SIGNAL_WORDS[status.signal] ?? status.signal}`;
  return `exit status ${status.code ?? 1}`;
}

// Signals Node keeps for itself (SIGUSR1 starts the inspector, SIGPIPE is ignored): a process cannot die
// of these by raising them, so it exits with the shell's 128+n instead.
const NOT_RAISABLE = new Set(['SIGUSR1', 'SIGPIPE', 'SIGCHLD', 'SIGWINCH', 'SIGCONT', 'SIGURG', 'SIGSTOP', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU']);

/** Ends this process with `status`. Never returns. */
export function exitWith(status: ExitStatus): never {
  const sig = status.signal;
  if (sig && !NOT_RAISABLE.has(sig)) {
    process.removeAllListeners(sig);
    try {
      process.kill(process.pid, sig);
    } catch {
      // fall through to the exit code
    }
    // The signal is delivered asynchronously to this thread in rare cases; make sure nothing else runs.
    const deadline = Date.now() + 200;
    while (Date.now() < deadline) {
      /* wait for the signal */
    }
  }
  const num = sig ? (osConstants.signals as Record<string, number>)[sig] : undefined;
  process.exit(sig ? 128 + (num ?? 9) : (status.code ?? 1));
}
