// Waiting for a writable stream that said it was full (write() returned false) to take more: the tool
// passes its terminal's (or pipe's) pace on to the runtimes instead of buffering their output.
import type { Writable } from 'node:stream';

/** Resolves when `stream` can take more: at once if it can already, on 'drain', or when it closes. */
export function drained(stream: Writable): Promise<void> {
  if (!stream.writableNeedDrain) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.once('drain', done);
    stream.once('close', done);
  });
}
