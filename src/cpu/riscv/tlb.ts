/**
 * The software TLB (../../../docs/cpu.md): direct-mapped, one table per access
 * kind (read, write, execute) and per translation regime, so that a hit is one
 * compare and one typed-array index. A tag is the virtual page number of a
 * sign-extended 64-bit address held exactly as a double (hi * 2^20 + lo >>> 12);
 * a data entry holds the machine-buffer byte offset of the page. Empty entries
 * hold NaN, which compares unequal to every tag.
 *
 * Regimes: U, S, S with SUM=1, and M; privilege and SUM changes only switch
 * tables, so Linux's frequent user/kernel transitions and uaccess windows
 * never flush.
 */
export const TLB_BITS = 12;
export const TLB_SIZE = 1 << TLB_BITS;
export const TLB_MASK = TLB_SIZE - 1;

export const enum Regime {
  U = 0,
  S = 1,
  SSum = 2,
  M = 3,
}

/**
 * Byte layout of a TlbSet in its buffer, which translated WebAssembly code
 * indexes directly: four f64 arrays, then two i32 arrays.
 */
export const TLB_RTAG = 0;
export const TLB_WTAG = TLB_SIZE * 8;
export const TLB_XTAG = TLB_SIZE * 16;
export const TLB_XPAGE = TLB_SIZE * 24;
export const TLB_ROFF = TLB_SIZE * 32;
export const TLB_WOFF = TLB_SIZE * 36;
export const TLB_SET_BYTES = TLB_SIZE * 40;

export class TlbSet {
  readonly rTag: Float64Array;
  readonly rOff: Uint32Array;
  readonly wTag: Float64Array;
  readonly wOff: Uint32Array;
  readonly xTag: Float64Array;
  /** Execute entries hold the physical page address: the decoded-block cache is keyed by it. */
  readonly xPage: Float64Array;

  /** A set over TLB_SET_BYTES of `buffer` from byte offset `base` (8-aligned). */
  constructor(
    buffer: ArrayBufferLike,
    readonly base: number,
  ) {
    this.rTag = new Float64Array(buffer, base + TLB_RTAG, TLB_SIZE).fill(NaN);
    this.wTag = new Float64Array(buffer, base + TLB_WTAG, TLB_SIZE).fill(NaN);
    this.xTag = new Float64Array(buffer, base + TLB_XTAG, TLB_SIZE).fill(NaN);
    this.xPage = new Float64Array(buffer, base + TLB_XPAGE, TLB_SIZE);
    this.rOff = new Uint32Array(buffer, base + TLB_ROFF, TLB_SIZE);
    this.wOff = new Uint32Array(buffer, base + TLB_WOFF, TLB_SIZE);
  }

  flushAll(): void {
    this.rTag.fill(NaN);
    this.wTag.fill(NaN);
    this.xTag.fill(NaN);
  }

  /** Drops every entry for virtual page `vpn` (SFENCE.VMA with an address). */
  flushPage(vpn: number): void {
    const idx = vpn & TLB_MASK;
    if (this.rTag[idx] === vpn) this.rTag[idx] = NaN;
    if (this.wTag[idx] === vpn) this.wTag[idx] = NaN;
    if (this.xTag[idx] === vpn) this.xTag[idx] = NaN;
  }

  /** Drops write entries pointing at machine page offset `off` (the page became code). */
  flushWritesTo(off: number): void {
    for (let i = 0; i < TLB_SIZE; i++) if (this.wOff[i] === off) this.wTag[i] = NaN;
  }
}

/** Exact page-number tag of the 64-bit address (hi:lo). */
export function vpnTag(lo: number, hi: number): number {
  return hi * 1048576 + (lo >>> 12);
}
