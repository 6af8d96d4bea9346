// One keep-alive TCP connection to the Runtime API (TCP_NODELAY), carrying one request at a time: the
// caller writes a request, `expect()` resolves with the parsed response. Failures (reset, close, a malformed
// answer) reject the waiting request with a RuntimeApiError that says whether any byte of the answer came.
import { connect, type Socket } from 'node:net';
import { HttpProtocolError, RuntimeApiError, errorMessageOf } from './errors.ts';
import { ResponseParser, type HttpResponse } from './http1.ts';

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
  private waiter: Waiter | undefined;
  private drainWaiters: Array<() => void> = [];

  constructor(host: string, port: number) {
    const socket = connect({ host, port });
    socket.setNoDelay(true);
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onEnd());
    socket.on('error', (err) => this.fail(new RuntimeApiError(`Runtime API connection failed: ${errorMessageOf(err)}`, { beforeResponse: !this.parser.inResponse, cause: err })));
    socket.on('close', () => this.onClose());
    socket.on('drain', () => this.releaseDrainWaiters());
  }

  /** True when no request is waiting for its answer. */
  get idle(): boolean {
    return this.waiter === undefined;
  }

  /** Waits for the answer to the request written next (or just written). */
  expect(): Promise<HttpResponse> {
    if (this.closed) {
      return Promise.reject(new RuntimeApiError('Runtime API connection is closed', { beforeResponse: true }));
    }
    if (this.waiter) return Promise.reject(new Error('tandem: a request is already waiting on this connection'));
    return new Promise<HttpResponse>((resolve, reject) => {
      this.waiter = { resolve, reject };
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

  private onData(chunk: Buffer): void {
    if (!this.waiter) {
      this.fail(new HttpProtocolError(`${chunk.length} bytes arrived with no request waiting`));
      return;
    }
    let res: HttpResponse | undefined;
    try {
      res = this.parser.push(chunk);
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    if (res) this.deliver(res);
  }

  private onEnd(): void {
    let res: HttpResponse | undefined;
    try {
      res = this.parser.end();
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    this.closed = true;
    if (res && this.waiter) this.deliver(res);
    else this.fail(new RuntimeApiError('the Runtime API closed the connection', { beforeResponse: true }));
  }

  private onClose(): void {
    this.closed = true;
    this.fail(new RuntimeApiError('the Runtime API connection closed', { beforeResponse: !this.parser.inResponse }));
    this.releaseDrainWaiters();
  }

  private deliver(res: HttpResponse): void {
    const w = this.waiter!;
    this.waiter = undefined;
    this.served++;
    if (!res.keepAlive) this.destroy();
    w.resolve(res);
  }

  /** Rejects the waiting request (if any) and ends the connection. */
  private fail(err: Error): void {
    const w = this.waiter;
    this.waiter = undefined;
    if (!this.closed) this.destroy();
    this.releaseDrainWaiters();
    if (w) w.reject(err);
  }

  private releaseDrainWaiters(): void {
    if (this.drainWaiters.length === 0) return;
    const ws = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of ws) w();
  }
}
