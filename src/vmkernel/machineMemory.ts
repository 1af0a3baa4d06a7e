/**
 * Machine memory: the vmkernel's pool of 4 KiB machine pages, held in one
 * shared buffer so that every world (vCPU worker thread) of a VM sees the
 * same bytes. A guest never addresses machine pages directly; it goes through a
 * `PageMap` (guest page -> machine page), which is what later lets the vmkernel
 * share, balloon, swap and dirty-track pages without the CPU knowing.
 *
 * The buffer is a shared WebAssembly memory whenever the pool fits in one
 * (4 GiB), so that the translator's WebAssembly code can address guest pages
 * and the vCPUs' state areas directly; a larger pool is a plain
 * SharedArrayBuffer and its vCPUs translate to JavaScript instead.
 */
export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;

/** WebAssembly page size (Core Specification §2.3.8). */
const WASM_PAGE = 65536;
/** Largest 32-bit WebAssembly memory, in WebAssembly pages. */
const WASM_MAX_PAGES = 65536;

export class MachineMemory {
  readonly buffer: SharedArrayBuffer;
  /** The same bytes as a WebAssembly memory, when the pool fits in one. */
  readonly wasm: WebAssembly.Memory | undefined;
  readonly pageCount: number;
  private nextFree = 0;

  /** A new pool of `bytes`, or (in another world) the pool whose buffer is `bytes`. */
  constructor(bytes: number | SharedArrayBuffer | WebAssembly.Memory) {
    if (typeof bytes === "number") {
      if (!Number.isInteger(bytes) || bytes <= 0 || bytes % PAGE_SIZE !== 0) {
        throw new RangeError(`machine memory size must be a positive multiple of ${PAGE_SIZE} bytes, got ${bytes}`);
      }
      const pages = Math.ceil(bytes / WASM_PAGE);
      this.wasm = pages <= WASM_MAX_PAGES ? new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true }) : undefined;
      this.buffer = this.wasm !== undefined ? (this.wasm.buffer as SharedArrayBuffer) : new SharedArrayBuffer(bytes);
      this.pageCount = bytes / PAGE_SIZE;
    } else if (bytes instanceof WebAssembly.Memory) {
      this.wasm = bytes;
      this.buffer = bytes.buffer as SharedArrayBuffer;
      this.pageCount = Math.floor(this.buffer.byteLength / PAGE_SIZE);
    } else {
      this.wasm = undefined;
      this.buffer = bytes;
      this.pageCount = bytes.byteLength / PAGE_SIZE;
    }
  }

  /** Pages of the WebAssembly memory (what a module importing it declares). */
  get wasmPages(): number {
    return this.buffer.byteLength / WASM_PAGE;
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
