// On a terminal only: shows the runtime's log lines the way CloudWatch displays them. AWS's Python runtime
// writes a multi-line message (an error's traceback) as ONE log line whose lines are separated by carriage
// returns, so a terminal would draw them over each other; a lone `\r` is shown as a line break. Piped or
// redirected output, and the Tail log, keep the exact bytes.

import { StringDecoder } from 'node:string_decoder';

/** A stateful filter for a stream of log chunks (a `\r` at the end of a chunk waits for the next one). */
export function terminalLogFilter(): (chunk: Buffer | string) => string {
  const decoder = new StringDecoder('utf8'); // a character split between chunks stays whole
  let pendingCr = false;
  return (chunk) => {
    let text = (pendingCr ? '\r' : '') + (typeof chunk === 'string' ? chunk : decoder.write(chunk));
    pendingCr = text.endsWith('\r');
    if (pendingCr) text = text.slice(0, -1);
    return text.replace(/\r(?!\n)/g, '\n');
  };
}
