/**
 * Machine memory: the vmkernel's pool of 4 KiB machine pages, held in one
 * SharedArrayBuffer so that every world (vCPU worker thread) of a VM sees the
 * same bytes. A guest never addresses machine pages directly; it goes through a
 * `PageMap` (guest page -> machine page), which is what later lets the vmkernel
 * share, balloon, swap and dirty-track pages without the CPU knowing.
 */
export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;

export class MachineMemory {
  readonly buffer: SharedArrayBuffer;
  readonly pageCount: number;
  private nextFree = 0;

  /** A new pool of `bytes`, or (in another world) the pool whose buffer is `bytes`. */
  constructor(bytes: number | SharedArrayBuffer) {
    const n = typeof bytes === "number" ? bytes : bytes.byteLength;
    if (!Number.isInteger(n) || n <= 0 || n % PAGE_SIZE !== 0) {
      throw new RangeError(`machine memory size must be a positive multiple of ${PAGE_SIZE} bytes, got ${n}`);
    }
    this.buffer = typeof bytes === "number" ? new SharedArrayBuffer(n) : bytes;
    this.pageCount = n / PAGE_SIZE;
  }

  /** Hands out `count` consecutive free machine pages; returns the first page number. */
  allocate(count: number): number {
    if (this.nextFree + count > this.pageCount) {
      throw new RangeError(`out of machine memory: ${count} pages requested, ${this.pageCount - this.nextFree} free`);
    }
    const first = this.nextFree;
    this.nextFree += count;
    return first;
  }
}

/**
 * Guest page -> machine page translation for one guest RAM region. Entry -1
 * means "not backed" (reserved for reclaimed/swapped pages later).
 */
export class PageMap {
  readonly entries: Int32Array;

  /** A new map of `pages` unbacked entries, or (in another world) the map over `entries`. */
  constructor(pages: number | Int32Array) {
    if (typeof pages === "number") {
      this.entries = new Int32Array(new SharedArrayBuffer(pages * 4));
      this.entries.fill(-1);
    } else {
      this.entries = pages;
    }
  }

  get pages(): number {
    return this.entries.length;
  }

  /** Backs guest pages [0, count) by consecutive machine pages starting at `firstMachinePage`. */
  mapLinear(firstMachinePage: number, count: number): void {
    for (let i = 0; i < count; i++) this.entries[i] = firstMachinePage + i;
  }
}
