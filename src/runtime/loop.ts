// The invocation loop: GET /next, hand the invocation to the host, post what it answered. One lane per
// invocation that may run at once (1, or AWS_LAMBDA_MAX_CONCURRENCY), each with its own /next.
// Status handling, as the Runtime API documents it: 2xx → next; 500 (any 5xx) → end the runtime; 400/403/410/413 and
// other 4xx → log and carry on. A transport failure on a POST is logged; the next /next tells whether the
// Runtime API is gone. A host whose process died ends the runtime with that process's exit status.
import { diag } from './diag.ts';
import { RuntimeApiError, errorDocument, errorMessageOf } from './errors.ts';
import type { ExitStatus, Host, Invocation, InvokeIO, PostOptions, PostOutcome, RuntimeApi, StreamWriter } from './types.ts';
import { JSON_CONTENT_TYPE } from './wire.ts';

export interface LoopOptions {
  api: RuntimeApi;
  host: Host;
  /** Invocations run at once (lanes, each with one /next open). Default 1. */
  concurrency?: number;
  /**
   * Send each buffered POST with the next GET /next behind it (HTTP pipelining; single concurrency only).
   * Default true; `TANDEM_PIPELINE=0` turns it off.
   */
  pipeline?: boolean;
  /**
   * Ends the runtime: called once, with the status to end with and, for failures of the runtime itself, a
   * message for stderr. The loop stops taking invocations first.
   */
  stop(status: ExitStatus, reason?: string): void | Promise<void>;
}

const FAILED: ExitStatus = { code: 1, signal: null };
const PIPELINE: PostOptions = { pipelineNext: true };

/** Runs until `stop` is called (by the loop itself, or from outside through the returned handle). */
export function runLoop(opts: LoopOptions): { done: Promise<void>; stop(status: ExitStatus, reason?: string): void } {
  let stopping = false;
  let finished!: () => void;
  const done = new Promise<void>((r) => (finished = r));
  const stop = (status: ExitStatus, reason?: string) => {
    if (stopping) return;
    stopping = true;
    Promise.resolve()
      .then(() => opts.stop(status, reason))
      .finally(finished);
  };
  const lanes = Math.max(1, opts.concurrency ?? 1);
  // A single loop sends each buffered POST with the next GET /next behind it (one write, no wait). Never
  // behind a POST after which the runtime ends (an error outcome with exit); after an answer that ends it
  // anyway (5xx) the pipelined /next is simply left unread, as a /next open at SIGTERM is.
  const pipeline = lanes === 1 && opts.pipeline !== false;
  for (let i = 0; i < lanes; i++) {
    void new Lane(opts.api, opts.host, () => stopping, stop, pipeline).run();
  }
  return { done, stop };
}

/** Checks a POST's answer. Returns false when the runtime must end. */
function postOk(what: string, inv: Invocation, out: PostOutcome, stop: (s: ExitStatus, r?: string) => void): boolean {
  if (out.status >= 200 && out.status < 300) return true;
  if (out.status >= 500) {
    stop(FAILED, `the Runtime API answered ${out.status} to ${what} for ${inv.requestId}; exiting (${out.body.toString('utf8', 0, 300)})`);
    return false;
  }
  diag.warn(`the Runtime API answered ${out.status} to ${what}; continuing`, {
    requestId: inv.requestId,
    status: out.status,
    body: out.body.toString('utf8', 0, 1000),
  });
  return true;
}

/** One /next → invoke → post cycle after another. Also the InvokeIO the host streams through. */
class Lane implements InvokeIO {
  private inv: Invocation | undefined;
  /** What the Runtime API answered to this invocation's streaming POST (or how it failed). */
  private streamOutcome: PostOutcome | Error | undefined;

  constructor(
    private readonly api: RuntimeApi,
    private readonly host: Host,
    private readonly stopping: () => boolean,
    private readonly stop: (s: ExitStatus, r?: string) => void,
    pipeline: boolean,
  ) {
    this.andNext = pipeline ? PIPELINE : undefined;
  }

  private readonly andNext: PostOptions | undefined;

  openStream(contentType: string): StreamWriter {
    const inner = this.api.openStream(this.inv!, contentType);
    const record = (p: Promise<PostOutcome>): Promise<PostOutcome> =>
      p.then(
        (out) => ((this.streamOutcome = out), out),
        (err: Error) => {
          this.streamOutcome = err;
          throw err;
        },
      );
    return {
      write: (chunk) => inner.write(chunk),
      end: () => record(inner.end()),
      fail: (type, body) => record(inner.fail(type, body)),
    };
  }

  private takeStreamOutcome(): PostOutcome | Error | undefined {
    const s = this.streamOutcome;
    this.streamOutcome = undefined;
    return s;
  }

  async run(): Promise<void> {
    const { api, host } = this;
    while (!this.stopping()) {
      let inv: Invocation;
      try {
        inv = await api.next();
      } catch (err) {
        if (!this.stopping()) this.stop(FAILED, `GET /next failed: ${errorMessageOf(err)}`);
        return;
      }
      this.inv = inv;
      this.streamOutcome = undefined;
      let outcome;
      try {
        outcome = await host.invoke(inv, this);
      } catch (err) {
        // A host must not throw; if one does, the invocation still gets an answer.
        outcome = { kind: 'error' as const, error: { body: errorDocument(err, inv.requestId), contentType: JSON_CONTENT_TYPE } };
      }
      if (this.stopping()) return;
      switch (outcome.kind) {
        case 'response':
          if (!(await this.post('the response', inv, () => api.postResponse(inv, outcome.contentType, outcome.body, this.andNext)))) return;
          break;
        case 'error':
          // After this error the runtime ends: no next invocation to ask for.
          if (!(await this.post('the error', inv, () => api.postError(inv, outcome.error, outcome.exit ? undefined : this.andNext)))) return;
          if (outcome.exit) {
            this.stop(outcome.exit);
            return;
          }
          break;
        case 'streamed': {
          const s = this.takeStreamOutcome();
          if (s instanceof Error) diag.warn(`the streaming response failed: ${s.message}`, { requestId: inv.requestId });
          else if (s && !postOk('the streaming response', inv, s, this.stop)) return;
          break;
        }
        case 'died':
          diag.info('the process running the handler died; ending the runtime', { requestId: inv.requestId, exit: outcome.exit });
          this.stop(outcome.exit);
          return;
      }
      this.inv = undefined;
    }
  }

  /** Posts; false when the runtime must end. */
  private async post(what: string, inv: Invocation, send: () => Promise<PostOutcome>): Promise<boolean> {
    let out: PostOutcome;
    try {
      out = await send();
    } catch (err) {
      if (err instanceof RuntimeApiError) {
        diag.warn(`posting ${what} failed: ${err.message}`, { requestId: inv.requestId });
        return true;
      }
      // Something about the answer itself could not be sent (e.g. a content type that is not a valid
      // header value): the invocation still gets an error.
      diag.warn(`cannot post ${what}: ${errorMessageOf(err)}`, { requestId: inv.requestId });
      try {
        out = await this.api.postError(inv, { body: errorDocument(err, inv.requestId), contentType: JSON_CONTENT_TYPE });
      } catch (err2) {
        diag.warn(`posting the error failed: ${errorMessageOf(err2)}`, { requestId: inv.requestId });
        return true;
      }
    }
    return postOk(what, inv, out, this.stop);
  }
}
