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

  constructor(bytes: number) {
    if (!Number.isInteger(bytes) || bytes <= 0 || bytes % PAGE_SIZE !== 0) {
      throw new RangeError(`machine memory size must be a positive multiple of ${PAGE_SIZE} bytes, got ${bytes}`);
    }
    this.buffer = new SharedArrayBuffer(bytes);
    this.pageCount = bytes / PAGE_SIZE;
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

  constructor(readonly pages: number, shared = true) {
    const bytes = pages * 4;
    this.entries = new Int32Array(shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
    this.entries.fill(-1);
  }

  /** Backs guest pages [0, count) by consecutive machine pages starting at `firstMachinePage`. */
  mapLinear(firstMachinePage: number, count: number): void {
    for (let i = 0; i < count; i++) this.entries[i] = firstMachinePage + i;
  }
}
