/**
 * Write tracking for a VM's guest pages, shared by every world of the VM:
 * the vmkernel's way to learn which pages were written since it last looked
 * (the dirty log of live migration; page sharing and swapping use the same
 * protection to see the first write to a page they changed).
 *
 * The protocol (../shared/design.md, "The vmkernel's memory"):
 * 1. the vmkernel marks pages write-protected here;
 * 2. it shoots down the write entries of every world's software TLB and
 *    waits until every world has acknowledged (an epoch, HartControl);
 * 3. from then on, a vCPU never caches a write translation for a protected
 *    page (Hart.fillTlb), so its first store to it takes the slow path,
 *    which reaches `GuestMemory.noteWrite` like every other write to guest
 *    RAM (device DMA, loaders, AMOs, page-table A/D updates): the write is
 *    logged and the page unprotected, so later stores run at full speed.
 */
/** What another world needs to share the tracker (structured-clonable). */
export interface SharedWriteTracker {
  /** int32 [0]: non-zero while writes are logged. */
  logging: SharedArrayBuffer;
  /** One byte per guest page: 1 while write-protected. */
  protect: SharedArrayBuffer;
  /** One bit per guest page: written since the last `takeWritten`. */
  written: SharedArrayBuffer;
}

export class WriteTracker {
  private readonly logging: Int32Array;
  readonly protect: Uint8Array;
  private readonly written: Int32Array;

  constructor(readonly pages: number, shared?: SharedWriteTracker) {
    const s = shared ?? {
      logging: new SharedArrayBuffer(4),
      protect: new SharedArrayBuffer(pages),
      written: new SharedArrayBuffer(4 * Math.ceil(pages / 32)),
    };
    this.logging = new Int32Array(s.logging);
    this.protect = new Uint8Array(s.protect);
    this.written = new Int32Array(s.written);
  }

  get shared(): SharedWriteTracker {
    return {
      logging: this.logging.buffer as SharedArrayBuffer,
      protect: this.protect.buffer as SharedArrayBuffer,
      written: this.written.buffer as SharedArrayBuffer,
    };
  }

  get active(): boolean {
    return Atomics.load(this.logging, 0) !== 0;
  }

  /** Guest pages [first, last] were written (any world, any path). */
  noteWrite(first: number, last: number): void {
    if (Atomics.load(this.logging, 0) === 0) return;
    for (let p = first; p <= last; p++) {
      Atomics.or(this.written, p >>> 5, 1 << (p & 31));
      if (this.protect[p] !== 0) Atomics.store(this.protect, p, 0);
    }
  }

  /**
   * Starts logging with every page protected and none written; the caller
   * then shoots down every world's write entries before relying on the log.
   */
  start(): void {
    this.written.fill(0);
    this.protect.fill(1);
    Atomics.store(this.logging, 0, 1);
  }

  /** Stops logging and unprotects every page. */
  stop(): void {
    Atomics.store(this.logging, 0, 0);
    this.protect.fill(0);
  }

  /**
   * The pages written since the last call (or `start`), in order, each
   * protected again before it is returned: after the next shootdown, a
   * write to any of them is logged anew.
   */
  takeWritten(): number[] {
    const out: number[] = [];
    for (let w = 0; w < this.written.length; w++) {
      if (this.written[w] === 0) continue;
      let bits = Atomics.exchange(this.written, w, 0);
      while (bits !== 0) {
        const b = 31 - Math.clz32(bits & -bits);
        bits &= bits - 1;
        const p = w * 32 + b;
        if (p < this.pages) {
          Atomics.store(this.protect, p, 1);
          out.push(p);
        }
      }
    }
    return out;
  }

  /** Pages logged as written and not yet taken. */
  countWritten(): number {
    let n = 0;
    for (let w = 0; w < this.written.length; w++) {
      let x = this.written[w];
      while (x !== 0) {
        x &= x - 1;
        n++;
      }
    }
    return n;
  }
}
