// The buffers a socket read with `onread` goes into: one slab, read into front to back. When the bytes of a
// read are still referenced after its callback (the parser kept views of them: a body it does not copy),
// the next read goes behind them; otherwise it reuses the same space. A slab with less than MIN_READ_BYTES
// left is dropped (the views keep it alive as long as they need it) for a fresh one. So a read costs no
// allocation, and a kept body is never copied.

const SLAB_BYTES = 64 * 1024;
const MIN_READ_BYTES = 16 * 1024;

export class ReadSlab {
  private slab = Buffer.allocUnsafe(SLAB_BYTES);
  private start = 0;
  private filled = 0;
  private current = this.slab;

  /** The last read put `n` bytes at the start of the current buffer. */
  read(n: number): void {
    this.filled = n;
  }

  /** The buffer for the next read; `keep`: the last read's bytes are still referenced. */
  next(keep: boolean): Buffer {
    if (keep && this.filled > 0) {
      this.start += this.filled;
      if (this.slab.length - this.start < MIN_READ_BYTES) {
        this.slab = Buffer.allocUnsafe(SLAB_BYTES);
        this.start = 0;
      }
      this.current = this.slab.subarray(this.start);
    }
    this.filled = 0;
    return this.current;
  }
}
