// The `application/vnd.awslambda.http-integration-response` framing of a streamed response: a JSON prelude
// ({"statusCode", "headers", "cookies", "multiValueHeaders"}), then 8 NUL bytes, then the body. The splitter
// takes chunks as they arrive and hands back the prelude once complete, then body bytes.

export const HTTP_INTEGRATION_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';
const DELIMITER = Buffer.alloc(8);
/** Where API Gateway stops looking for the delimiter. */
const MAX_PRELUDE_BYTES = 16 * 1024;

export interface HttpPrelude {
  statusCode?: number;
  headers?: Record<string, string>;
  multiValueHeaders?: Record<string, string[]>;
  cookies?: string[];
}

export class PreludeSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private done = false;

  /** Feed a chunk; returns the prelude when it completes with this chunk, and any body bytes in it. */
  push(chunk: Buffer): { prelude?: HttpPrelude; body: Buffer } {
    if (this.done) return { body: chunk };
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    const all = Buffer.concat(this.pending);
    const at = all.indexOf(DELIMITER);
    if (at < 0) {
      if (this.pendingBytes > MAX_PRELUDE_BYTES) return this.giveUp(all);
      return { body: Buffer.alloc(0) };
    }
    this.done = true;
    this.pending = [];
    let prelude: HttpPrelude;
    try {
      prelude = JSON.parse(all.subarray(0, at).toString('utf8')) as HttpPrelude;
    } catch {
      prelude = {};
    }
    return { prelude, body: all.subarray(at + DELIMITER.length) };
  }

  /** The stream ended: whatever was held back (no delimiter ever came) is body. */
  end(): Buffer {
    if (this.done) return Buffer.alloc(0);
    this.done = true;
    return Buffer.concat(this.pending);
  }

  get complete(): boolean {
    return this.done;
  }

  private giveUp(all: Buffer): { prelude?: HttpPrelude; body: Buffer } {
    this.done = true;
    this.pending = [];
    return { prelude: {}, body: all };
  }
}
