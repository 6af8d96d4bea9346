// One keep-alive TCP connection to the Runtime API (TCP_NODELAY). The caller writes a request and `expect()`
// resolves with its parsed response; requests may be pipelined (answers come back in order). Failures
// (reset, close, a malformed or unsolicited answer) reject every waiting request with a RuntimeApiError
// that says whether any byte of its answer came. The socket keeps Node's event loop alive only while a
// request waits for its answer (as an idle keep-alive socket of node:http does not): an idle connection must
// not hide that a Node handler's own work is done (src/node/event-loop.ts waits for 'beforeExit').
// Reads go straight from libuv to the parser (`onread`, into a ReadSlab): none of the Readable stream's
// per-read work, no buffer allocated per read (measured under Lambda's CPU share: docs/runtime.md).
import { connect, type Socket } from 'node:net';
import { HttpProtocolError, RuntimeApiError, errorMessageOf } from './errors.ts';
import { ResponseParser, type HttpResponse } from './http1.ts';
import { ReadSlab } from './read-slab.ts';

interface Waiter {
  resolve(res: HttpResponse): void;
  reject(err: Error): void;
}

export class Connection {
  readonly socket: Socket;
  /** Responses completed on this connection; 0 while it is fresh. */
  served = 0;
  /** True once the connection can carry no more requests. */
  closed = false;
  private readonly parser = new ResponseParser();
  private readonly waiters: Waiter[] = [];
  private drainWaiters: Array<() => void> = [];
  private readonly slab = new ReadSlab();

  constructor(host: string, port: number) {
    const slab = this.slab;
    const socket = connect({
      host,
      port,
      noDelay: true,
      onread: {
        buffer: () => slab.next(this.parser.keptInput()),
        callback: (n: number, buf: Uint8Array): boolean => {
          slab.read(n);
          this.onData(buf as Buffer, n);
          return true;
        },
      },
    });
    socket.unref();
    this.socket = socket;
    socket.on('end', () => this.onEnd());
    socket.on('error', (err) => this.fail(new RuntimeApiError(`Runtime API connection failed: ${errorMessageOf(err)}`, { beforeResponse: !this.parser.inResponse, cause: err })));
    socket.on('close', () => this.onClose());
    socket.on('drain', () => this.releaseDrainWaiters());
  }

  /** True when no request is waiting for its answer. */
  get idle(): boolean {
    return this.waiters.length === 0;
  }

  /** Waits for the answer to the request written next (after any already waiting). */
  expect(): Promise<HttpResponse> {
    if (this.closed) {
      return Promise.reject(new RuntimeApiError('Runtime API connection is closed', { beforeResponse: true }));
    }
    return new Promise<HttpResponse>((resolve, reject) => {
      if (this.waiters.length === 0) this.socket.ref();
      this.waiters.push({ resolve, reject });
    });
  }

  /** Resolves when the socket has drained its write buffer, or has closed. */
  whenDrained(): Promise<void> {
    if (this.closed || !this.socket.writableNeedDrain) return Promise.resolve();
    return new Promise<void>((resolve) => this.drainWaiters.push(resolve));
  }

  destroy(): void {
    this.closed = true;
    this.socket.destroy();
  }

  /** `n` bytes read into `buf` (the slab's current read buffer). */
  private onData(buf: Buffer, n: number): void {
    if (this.waiters.length === 0) {
      this.fail(new HttpProtocolError(`${n} bytes arrived with no request waiting`));
      return;
    }
    try {
      this.parser.push(buf, this.onResponse, n);
    } catch (err) {
      this.fail(err as Error);
    }
  }

  private readonly onResponse = (res: HttpResponse, more: boolean): void => {
    if (more && this.waiters.length < 2) throw new HttpProtocolError('unexpected bytes after the response');
    this.deliver(res);
  };

  private onEnd(): void {
    let res: HttpResponse | undefined;
    try {
      res = this.parser.end();
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    this.closed = true;
    if (res && this.waiters.length > 0) this.deliver(res);
    this.fail(new RuntimeApiError('the Runtime API closed the connection', { beforeResponse: true }));
  }

  private onClose(): void {
    this.closed = true;
    this.fail(new RuntimeApiError('the Runtime API connection closed', { beforeResponse: !this.parser.inResponse }));
    this.releaseDrainWaiters();
  }

  private deliver(res: HttpResponse): void {
    const w = this.waiters.shift()!;
    if (this.waiters.length === 0) this.socket.unref();
    this.served++;
    w.resolve(res);
    if (!res.keepAlive) {
      this.fail(new RuntimeApiError('the Runtime API closed the connection', { beforeResponse: true }));
    }
  }

  /** Rejects every waiting request and ends the connection. */
  private fail(err: Error): void {
    const ws = this.waiters.splice(0);
    if (!this.closed) this.destroy();
    this.releaseDrainWaiters();
    // Only the first waiter can have seen bytes of its answer; later ones saw none.
    ws.forEach((w, i) => w.reject(i === 0 || !(err instanceof RuntimeApiError) ? err : new RuntimeApiError(err.message, { beforeResponse: true, cause: err })));
  }

  private releaseDrainWaiters(): void {
    if (this.drainWaiters.length === 0) return;
    const ws = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of ws) w();
  }
}
