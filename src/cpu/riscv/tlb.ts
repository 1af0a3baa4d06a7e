/**
 * The software TLB (../../../docs/cpu.md): direct-mapped, one table per access
 * kind (read, write, execute) and per translation regime. A tag is the
 * page-aligned sign-extended 64-bit virtual address, one little-endian i64
 * per entry (JavaScript compares its two int32 words): translated code checks
 * a hit and the alignment of an access with one i64 compare of
 * `va & (-4096 | (size - 1))` against it (QEMU's TLB comparator). A data
 * entry holds the machine-buffer byte offset of the page. Empty entries hold
 * EMPTY_TAG in their low word, which no page-aligned address (even with
 * misalignment bits) matches.
 *
 * Regimes: U, S, S with SUM=1, and M; privilege and SUM changes only switch
 * tables, so Linux's frequent user/kernel transitions and uaccess windows
 * never flush.
 */
export const TLB_BITS = 14;
export const TLB_SIZE = 1 << TLB_BITS;
export const TLB_MASK = TLB_SIZE - 1;

export const Regime = {
  U: 0,
  S: 1,
  SSum: 2,
  M: 3,
} as const;
export type Regime = (typeof Regime)[keyof typeof Regime];

/**
 * Byte layout of a TlbSet in its buffer, which translated WebAssembly code
 * indexes directly: three i64 tag arrays, one f64 array, then two i32 arrays.
 */
export const TLB_RTAG = 0;
export const TLB_WTAG = TLB_SIZE * 8;
export const TLB_XTAG = TLB_SIZE * 16;
export const TLB_XPAGE = TLB_SIZE * 24;
export const TLB_ROFF = TLB_SIZE * 32;
export const TLB_WOFF = TLB_SIZE * 36;
export const TLB_SET_BYTES = TLB_SIZE * 40;

/** Low tag word of an empty entry: not page-aligned, and more than any misalignment bits. */
const EMPTY_TAG = 4095;

/**
 * Fills a TlbSet remembers, so that flushAll empties only those entries:
 * between two flushes (satp writes, SFENCE.VMA) far fewer entries are filled
 * than the sets hold (docs/perf-log.md).
 */
const FILL_LOG = 4096;

export class TlbSet {
  readonly rTag: Int32Array;
  readonly rOff: Uint32Array;
  readonly wTag: Int32Array;
  readonly wOff: Uint32Array;
  readonly xTag: Int32Array;
  /** Execute entries hold the physical page address: the decoded-block cache is keyed by it. */
  readonly xPage: Float64Array;
  /** Entries filled since the last flushAll (the first FILL_LOG of them), and how many. */
  private readonly filled = new Int32Array(FILL_LOG);
  private fills = 0;

  /** A set over TLB_SET_BYTES of `buffer` from byte offset `base` (8-aligned). */
  constructor(
    buffer: ArrayBufferLike,
    readonly base: number,
  ) {
    this.rTag = new Int32Array(buffer, base + TLB_RTAG, 2 * TLB_SIZE).fill(EMPTY_TAG);
    this.wTag = new Int32Array(buffer, base + TLB_WTAG, 2 * TLB_SIZE).fill(EMPTY_TAG);
    this.xTag = new Int32Array(buffer, base + TLB_XTAG, 2 * TLB_SIZE).fill(EMPTY_TAG);
    this.xPage = new Float64Array(buffer, base + TLB_XPAGE, TLB_SIZE);
    this.rOff = new Uint32Array(buffer, base + TLB_ROFF, TLB_SIZE);
    this.wOff = new Uint32Array(buffer, base + TLB_WOFF, TLB_SIZE);
  }

  /** Maps the virtual page of (hi:lo) for reads to machine page offset `off`. */
  fillRead(lo: number, hi: number, off: number): void {
    setTag(this.rTag, lo, hi);
    this.rOff[tlbIndex(lo)] = off;
    this.logFill(lo);
  }

  /** Maps the virtual page of (hi:lo) for writes to machine page offset `off`. */
  fillWrite(lo: number, hi: number, off: number): void {
    setTag(this.wTag, lo, hi);
    this.wOff[tlbIndex(lo)] = off;
    this.logFill(lo);
  }

  /** Maps the virtual page of (hi:lo) for execution to physical page `pagePa`. */
  fillExec(lo: number, hi: number, pagePa: number): void {
    setTag(this.xTag, lo, hi);
    this.xPage[tlbIndex(lo)] = pagePa;
    this.logFill(lo);
  }

  private logFill(lo: number): void {
    if (this.fills < FILL_LOG) this.filled[this.fills] = tlbIndex(lo);
    this.fills++;
  }

  flushAll(): void {
    if (this.fills > FILL_LOG) {
      this.rTag.fill(EMPTY_TAG);
      this.wTag.fill(EMPTY_TAG);
      this.xTag.fill(EMPTY_TAG);
    } else {
      for (let k = 0; k < this.fills; k++) {
        const i = this.filled[k] << 1;
        this.rTag[i] = EMPTY_TAG;
        this.wTag[i] = EMPTY_TAG;
        this.xTag[i] = EMPTY_TAG;
      }
    }
    this.fills = 0;
  }

  /** Drops every write entry: the vmkernel changed which pages may be written directly (vmkernel/writeTracker.ts). */
  flushWrites(): void {
    this.wTag.fill(EMPTY_TAG);
  }

  /** Drops every entry for the virtual page of (hi:lo) (SFENCE.VMA with an address). */
  flushPage(lo: number, hi: number): void {
    clearTag(this.rTag, lo, hi);
    clearTag(this.wTag, lo, hi);
    clearTag(this.xTag, lo, hi);
  }

  /** Drops write entry `idx` if it points at machine page offset `off` (the page became code). */
  flushWriteEntry(idx: number, off: number): void {
    if (this.wOff[idx] === off) this.wTag[idx << 1] = EMPTY_TAG;
  }

  /** Drops write entries pointing at machine page offset `off` (the page became code). */
  flushWritesTo(off: number): void {
    for (let i = 0; i < TLB_SIZE; i++) if (this.wOff[i] === off) this.wTag[i << 1] = EMPTY_TAG;
  }
}

/** Entry index of the virtual address whose low word is `lo`. */
export function tlbIndex(lo: number): number {
  return (lo >>> 12) & TLB_MASK;
}

/** Whether tag array `tags` maps the virtual page of (hi:lo). */
export function tlbHit(tags: Int32Array, lo: number, hi: number): boolean {
  const i = tlbIndex(lo) << 1;
  return tags[i] === (lo & -4096) && tags[i + 1] === hi;
}

/** Empties the entry of tag array `tags` for (hi:lo) if it maps that page. */
function clearTag(tags: Int32Array, lo: number, hi: number): void {
  if (tlbHit(tags, lo, hi)) tags[tlbIndex(lo) << 1] = EMPTY_TAG;
}

/** Makes tag array `tags` map the virtual page of (hi:lo) (TlbSet's fills). */
function setTag(tags: Int32Array, lo: number, hi: number): void {
  const i = tlbIndex(lo) << 1;
  tags[i] = lo & -4096;
  tags[i + 1] = hi;
}

/** Exact page-number key of the 64-bit address (hi:lo) (the jump caches' page bookkeeping). */
export function vpnTag(lo: number, hi: number): number {
  return hi * 1048576 + (lo >>> 12);
}
