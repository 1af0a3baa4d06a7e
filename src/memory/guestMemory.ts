import { MachineMemory, PageMap, PAGE_SHIFT, PAGE_SIZE } from "../vmkernel/machineMemory.js";
import { WriteTracker, type SharedWriteTracker } from "../vmkernel/writeTracker.js";

/** Raised when a guest-physical access falls outside guest RAM. */
export class GuestMemoryError extends Error {
  override name = "GuestMemoryError";
}

/**
 * Guest-physical RAM as the vCPU and devices see it: one contiguous region
 * [base, base + size) backed page by page through the vmkernel's `PageMap`.
 *
 * Typed accessors are for devices, loaders and the page-table walker. The
 * vCPU's software TLB caches `machineOffset()` of a page and then indexes the
 * shared views directly, which is the only other place the layout is known.
 *
 * `pageFlags` marks pages whose writes must be seen: PAGE_CODE when the page
 * holds cached decoded code (a write drops those decodes: self-modifying
 * code), PAGE_WATCH when a device watches it (HTIF's tohost). The vCPU never
 * caches a write translation for a flagged page, so every store to one goes
 * through its slow path and `noteWrite()`, as do DMA and loader writes.
 */
export const PAGE_CODE = 1;
export const PAGE_WATCH = 2;

/**
 * Bytes of machine memory the vmkernel sets aside for each vCPU's state area:
 * the registers and software TLB the translator's WebAssembly code works on
 * (cpu/riscv/hartState.ts lays it out). Guest page maps never point there.
 */
export const VCPU_STATE_BYTES = 8 * 1024 * 1024;

/** What another world needs to map the same guest RAM (structured-clonable). */
export interface SharedGuestMemory {
  base: number;
  size: number;
  machine: SharedArrayBuffer | WebAssembly.Memory;
  pageMap: SharedArrayBuffer;
  vcpus: number;
  vcpuState: number;
  /** One int32: the count of `externalWrites()`. */
  externalWrites: SharedArrayBuffer;
  writeTracker: SharedWriteTracker;
}

export class GuestMemory {
  readonly base: number;
  readonly size: number;
  readonly end: number;
  readonly pageMap: PageMap;
  readonly machine: MachineMemory;
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly i32: Int32Array;
  /**
   * One byte per guest page: PAGE_CODE | PAGE_WATCH. Private to this world:
   * each world tracks the code its own hart decoded. A store by another hart
   * (or DMA) to that code becomes visible at FENCE.I, as the ISA requires
   * (Unprivileged ISA, Zifencei).
   */
  readonly pageFlags: Uint8Array;
  /** vCPU state areas: `vcpus` of VCPU_STATE_BYTES from machine byte offset `vcpuStateBase`. */
  readonly vcpus: number;
  private readonly vcpuStateBase: number;
  /** Shared by every world: bumped by each write through the typed accessors below. */
  private readonly writeCount: Int32Array;
  /** The vmkernel's write tracking of these pages, shared by every world (vmkernel/writeTracker.ts). */
  readonly writeTracker: WriteTracker;
  private readonly codeWriteListeners: ((guestPage: number) => void)[] = [];
  private readonly watchers: { start: number; end: number; fn: (gpa: number, len: number) => void }[] = [];

  /**
   * New guest RAM backed by fresh machine pages, with state areas for `vcpus`
   * vCPUs, or (`shared`) another world's view of existing guest RAM.
   */
  constructor(base: number, size: number, shared?: SharedGuestMemory, vcpus = 1) {
    if (base % PAGE_SIZE !== 0 || size % PAGE_SIZE !== 0 || size <= 0) {
      throw new GuestMemoryError(`guest RAM base and size must be page aligned (base ${base}, size ${size})`);
    }
    this.base = base;
    this.size = size;
    this.end = base + size;
    const pages = size / PAGE_SIZE;
    if (shared === undefined) {
      const statePages = (vcpus * VCPU_STATE_BYTES) / PAGE_SIZE;
      this.machine = new MachineMemory(size + statePages * PAGE_SIZE);
      // State areas first: translated code addresses them with constant offsets, and small ones encode shorter.
      this.vcpus = vcpus;
      this.vcpuStateBase = this.machine.allocate(statePages) * PAGE_SIZE;
      this.pageMap = new PageMap(pages);
      this.pageMap.mapLinear(this.machine.allocate(pages), pages);
      this.writeCount = new Int32Array(new SharedArrayBuffer(4));
      this.writeTracker = new WriteTracker(pages);
    } else {
      this.machine = new MachineMemory(shared.machine);
      this.pageMap = new PageMap(new Int32Array(shared.pageMap));
      this.vcpus = shared.vcpus;
      this.vcpuStateBase = shared.vcpuState;
      this.writeCount = new Int32Array(shared.externalWrites);
      this.writeTracker = new WriteTracker(pages, shared.writeTracker);
    }
    this.u8 = new Uint8Array(this.machine.buffer);
    this.u16 = new Uint16Array(this.machine.buffer);
    this.i32 = new Int32Array(this.machine.buffer);
    this.pageFlags = new Uint8Array(pages);
  }

  /** The buffers another world needs to map this RAM. */
  get shared(): SharedGuestMemory {
    return {
      base: this.base,
      size: this.size,
      machine: this.machine.wasm ?? this.machine.buffer,
      pageMap: this.pageMap.entries.buffer as SharedArrayBuffer,
      vcpus: this.vcpus,
      vcpuState: this.vcpuStateBase,
      externalWrites: this.writeCount.buffer as SharedArrayBuffer,
      writeTracker: this.writeTracker.shared,
    };
  }

  /**
   * How many writes devices (DMA), loaders and firmware made through the
   * typed accessors, in any world. A vCPU's own stores are not counted: they
   * reach its code cache through `noteWrite()` directly.
   */
  externalWrites(): number {
    return Atomics.load(this.writeCount, 0);
  }

  /** Machine byte offset of vCPU `id`'s state area. */
  vcpuState(id: number): number {
    if (!Number.isInteger(id) || id < 0 || id >= this.vcpus) {
      throw new GuestMemoryError(`no state area for vCPU ${id} (this RAM was set up for ${this.vcpus})`);
    }
    return this.vcpuStateBase + id * VCPU_STATE_BYTES;
  }

  /** True when [gpa, gpa + len) lies entirely in guest RAM. */
  contains(gpa: number, len = 1): boolean {
    return gpa >= this.base && len >= 0 && gpa + len <= this.end;
  }

  /**
   * Byte offset in the machine buffer of the page holding guest-physical
   * address `gpa` (page aligned), or -1 when `gpa` is not RAM.
   */
  machinePageOffset(gpa: number): number {
    if (gpa < this.base || gpa >= this.end) return -1;
    const mp = this.pageMap.entries[(gpa - this.base) >>> PAGE_SHIFT];
    return mp < 0 ? -1 : mp * PAGE_SIZE;
  }

  /** Machine byte offset of `gpa` itself; throws outside RAM. */
  private off(gpa: number, len: number): number {
    if (!(gpa >= this.base && gpa + len <= this.end)) {
      throw new GuestMemoryError(`guest-physical access 0x${gpa.toString(16)}+${len} is outside RAM`);
    }
    const page = this.machinePageOffset(gpa);
    return page + (gpa & (PAGE_SIZE - 1));
  }

  /** Guest page index (relative to base) of `gpa`. */
  pageIndex(gpa: number): number {
    return (gpa - this.base) >>> PAGE_SHIFT;
  }

  onCodeWrite(listener: (guestPage: number) => void): void {
    this.codeWriteListeners.push(listener);
  }

  /** Calls `fn` after every write that touches [gpa, gpa + len). */
  watchWrites(gpa: number, len: number, fn: (gpa: number, len: number) => void): void {
    this.off(gpa, len);
    this.watchers.push({ start: gpa, end: gpa + len, fn });
    for (let p = this.pageIndex(gpa); p <= this.pageIndex(gpa + len - 1); p++) this.pageFlags[p] |= PAGE_WATCH;
  }

  /** Marks the page holding `gpa` as holding cached code. */
  markCode(gpa: number): void {
    this.pageFlags[this.pageIndex(gpa)] |= PAGE_CODE;
  }

  /** Whether a vCPU may cache a write translation of guest page `p` (pageIndex): not while anyone must see its writes. */
  writeCacheable(p: number): boolean {
    return (this.pageFlags[p] | this.writeTracker.protect[p]) === 0;
  }

  /** Tells the vmkernel's write tracking, code caches and watchers that [gpa, gpa+len) was written. */
  noteWrite(gpa: number, len: number): void {
    if (len <= 0) return;
    const first = this.pageIndex(gpa);
    const last = this.pageIndex(gpa + len - 1);
    this.writeTracker.noteWrite(first, last);
    for (let p = first; p <= last; p++) {
      const flags = this.pageFlags[p];
      if (flags === 0) continue;
      if (flags & PAGE_CODE) {
        this.pageFlags[p] = flags & ~PAGE_CODE;
        for (const l of this.codeWriteListeners) l(p);
      }
      if (flags & PAGE_WATCH) {
        for (const w of this.watchers) if (gpa < w.end && gpa + len > w.start) w.fn(gpa, len);
      }
    }
  }

  readU8(gpa: number): number {
    return this.u8[this.off(gpa, 1)];
  }
  readU16(gpa: number): number {
    const o = this.off(gpa, 2);
    return this.u8[o] | (this.u8[o + 1] << 8);
  }
  readU32(gpa: number): number {
    if ((gpa & 3) === 0) return this.i32[this.off(gpa, 4) >> 2] >>> 0;
    return (this.readU16(gpa) | (this.readU16(gpa + 2) << 16)) >>> 0;
  }
  readU64(gpa: number): bigint {
    return (BigInt(this.readU32(gpa + 4)) << 32n) | BigInt(this.readU32(gpa));
  }
  writeU8(gpa: number, v: number): void {
    this.u8[this.off(gpa, 1)] = v;
    Atomics.add(this.writeCount, 0, 1);
    this.noteWrite(gpa, 1);
  }
  writeU16(gpa: number, v: number): void {
    this.writeU8(gpa, v & 0xff);
    this.writeU8(gpa + 1, (v >>> 8) & 0xff);
  }
  writeU32(gpa: number, v: number): void {
    if ((gpa & 3) === 0) {
      this.i32[this.off(gpa, 4) >> 2] = v;
      Atomics.add(this.writeCount, 0, 1);
      this.noteWrite(gpa, 4);
    } else {
      this.writeU16(gpa, v & 0xffff);
      this.writeU16(gpa + 2, v >>> 16);
    }
  }
  writeU64(gpa: number, v: bigint): void {
    this.writeU32(gpa, Number(v & 0xffffffffn));
    this.writeU32(gpa + 4, Number((v >> 32n) & 0xffffffffn));
  }

  readBytes(gpa: number, len: number): Uint8Array {
    this.off(gpa, len);
    const out = new Uint8Array(len);
    for (let done = 0; done < len; ) {
      const a = gpa + done;
      const n = Math.min(len - done, PAGE_SIZE - (a & (PAGE_SIZE - 1)));
      const o = this.off(a, n);
      out.set(this.u8.subarray(o, o + n), done);
      done += n;
    }
    return out;
  }

  writeBytes(gpa: number, data: Uint8Array): void {
    this.off(gpa, data.length);
    for (let done = 0; done < data.length; ) {
      const a = gpa + done;
      const n = Math.min(data.length - done, PAGE_SIZE - (a & (PAGE_SIZE - 1)));
      const o = this.off(a, n);
      this.u8.set(data.subarray(done, done + n), o);
      done += n;
    }
    Atomics.add(this.writeCount, 0, 1);
    this.noteWrite(gpa, data.length);
  }

  fill(gpa: number, len: number, value: number): void {
    this.writeBytes(gpa, new Uint8Array(len).fill(value));
  }
}
