import type { GuestMemory } from "../../memory/guestMemory.js";
import type { PhysicalBus } from "./physicalBus.js";
import { Insn, F_ENDS_BLOCK, F_SYSTEM } from "./insn.js";
import { decode, decodeStraddling } from "./decode.js";
import { CodeSlots } from "./codeSlots.js";
import { Access, Cause, TRAP } from "./trap.js";
import { Regime, tlbHit, tlbIndex, TlbSet, TLB_BITS, TLB_MASK, TLB_SET_BYTES, TLB_SIZE } from "./tlb.js";
import { STATE_MSTATUS, STATE_PENDING, STATE_PRIV, STATE_TLBS, STATE_X } from "./hartState.js";
import { translate, flushTranslations } from "./mmu.js";
import { pmpAllows } from "./pmp.js";
import { takeTrap, takePendingInterrupt } from "./privileged.js";
import { MSTATUS_FS, MSTATUS_MPRV, MSTATUS_SUM } from "./csr.js";
import { PAGE_CODE } from "../../memory/guestMemory.js";
import { compileBlock, type BlockFn } from "./translate/blockCompiler.js";
import { WasmBackend } from "./translate/wasmBackend.js";
import type { ExecutionEngine, TranslationStats } from "./translate/engine.js";
import { Priv } from "./priv.js";

/** A decoded straight-line run of guest code starting at one physical address. */
export class Block {
  valid = true;
  /** `Hart.codeGeneration` when the block was last known to match memory (see `Hart.fenceI`). */
  gen = 0;
  /** Holds a 32-bit instruction whose halves lie in two pages (cannot be re-checked in place). */
  straddles = false;
  /** Times the interpreter ran it; at `Hart.translateAfter` it is translated. */
  hits = 0;
  /** Waiting for its WebAssembly batch (Hart.translate). */
  queued = false;
  /** The JavaScript back end's translation, once hot. */
  fn: BlockFn | undefined = undefined;
  /** Index in the hart's WebAssembly function table once the WebAssembly back end translated it, or -1. */
  index = -1;
  /**
   * The blocks after it in its page that its WebAssembly function runs too
   * (wasmRegions.ts, regionOf): it matches memory only while they do.
   */
  region: Block[] = [];
  constructor(
    readonly paddr: number,
    readonly insns: Insn[],
  ) {}
}

const BLOCK_MAX = 64;

/** Word indices of Hart.csrWords. */
const W_MSTATUS = 0;
const W_PRIV = (STATE_PRIV - STATE_MSTATUS) / 4;
const W_PENDING = (STATE_PENDING - STATE_MSTATUS) / 4;

/**
 * Runs of a queued block after which its batch is sent even if not full (a
 * batch otherwise waits for 32 blocks or for MAX_WAIT instructions, which
 * the interpreter takes long to run): a guest looping in code that waits for
 * its batch spins in the interpreter. Measurements in docs/perf-log.md.
 */
const URGENT_RUNS = 64;
/**
 * log2 of the run loop's jump-cache entries per regime (indexed by pc / 2):
 * large enough that hot code rarely collides (docs/perf-log.md).
 */
const JMP_BITS = 16;
/**
 * Translated blocks a hart keeps at most; past this the whole code cache is
 * dropped and rebuilt from hot code (QEMU's tb_flush policy), which bounds the
 * host memory a guest can make the translator use; a Debian boot stays
 * below it (docs/perf-log.md).
 */
const MAX_TRANSLATED = 32768;

/**
 * Most instructions one chain of translated code runs before the run loop
 * looks at the attention word again (translated code never does), which
 * bounds how late another world's interrupt or request is seen (about 0.2 ms
 * of translated code); measurements in docs/perf-log.md.
 */
const CHAIN_BUDGET = 50_000;

/**
 * One RV64GC hart: architectural state, the memory access paths (software
 * TLB fast path, slow path with translation, PMP, MMIO and misaligned
 * accesses) and the interpreter's run loop over cached decoded blocks.
 *
 * Integer registers are held as two int32 halves so that the address path
 * never touches BigInt (../shared/design.md, "The vCPU"): x[r] is
 * (`hi[2 * r]`, `lo[2 * r]`), views with stride 2 over the 64-bit words of
 * the state area that translated code uses whole (hartState.ts).
 * Register 32 is a sink that absorbs writes to x0.
 */
export class Hart {
  /** Low int32 halves of the registers, at even indices (2 * r). */
  readonly lo: Int32Array;
  /** High int32 halves of the registers, at even indices (2 * r). */
  readonly hi: Int32Array;
  /** pc of the executing instruction, an exact signed 64-bit value as a double. */
  pc = 0;
  /** Next pc: pc + len, overwritten by jumps and taken branches. */
  npc = 0;

  /** FP registers: f[i] as a double, fw[2i] / fw[2i+1] its low / high 32 bits. */
  readonly f: Float64Array;
  readonly fw: Int32Array;
  frm = 0;
  fflags = 0;

  // --- CSR state (csr.ts implements the access rules) ---
  /**
   * mstatus, priv and mip & mie, in the state area (STATE_MSTATUS, ...):
   * translated code runs sstatus's interrupt enables itself
   * (wasmEmitters.ts, sstatusOp).
   */
  private readonly csrWords: Int32Array;
  private mipBits = 0;
  private mieBits = 0;
  mideleg = 0;
  medeleg = 0;
  mtvec = 0n;
  stvec = 0n;
  mepc = 0n;
  sepc = 0n;
  mcause = 0n;
  scause = 0n;
  mtval = 0n;
  stval = 0n;
  mscratch = 0n;
  sscratch = 0n;
  mcounteren = 0;
  scounteren = 0;
  mcountinhibit = 0;
  menvcfg = 0n;
  senvcfg = 0;
  satpMode = 0;
  satpAsid = 0;
  satpPpn = 0;
  readonly pmpcfg = new Uint8Array(16);
  readonly pmpaddr = new BigUint64Array(16);
  /** Byte ranges [pmpLo, pmpHi) decoded from pmpcfg/pmpaddr; empty when OFF. */
  readonly pmpLo = new Float64Array(16);
  readonly pmpHi = new Float64Array(16);
  /** instret = cycle: instructions retired (one per cycle). */
  instret = 0;
  cycleOffset = 0;
  instretOffset = 0;
  /** LR/SC reservation: machine int32 index of the reserved word, or -1, and the value LR read there. */
  reservation = -1;
  reservationValue = 0n;
  /**
   * Set when translated code stopped before a memory access it leaves to the
   * slow path (TLB miss, MMIO, misaligned, fault): the block there runs
   * interpreted once, which guarantees progress.
   */
  private interpretNext = false;
  /** Set by WFI when nothing is pending; the run loop returns so the platform can sleep. */
  waiting = false;
  /** Set by a device (e.g. HTIF) to end the run loop at the next block boundary. */
  stopRequested = false;
  /**
   * Non-zero in element 0 ends the run loop at the next block boundary; other
   * threads set it (a view into shared memory) when an interrupt line, a
   * request or a power event needs this hart's world.
   */
  attention: Int32Array<ArrayBufferLike> = new Int32Array(1);

  /**
   * ExecutionEngine.translateAfter: 0 runs the interpreter only; n > 0
   * translates a block on its n-th execution (scan before execution) and runs
   * the translation from then on.
   */
  readonly translateAfter: number;
  /** Instructions of the current JavaScript block (blockCompiler.ts) completed before a trap. */
  icount = 0;
  /** GuestMemory.externalWrites() at the last FENCE.I that re-checked code. */
  private externalWritesSeen = -1;
  /** Bumped by FENCE.I: blocks from an older generation are re-checked before they run. */
  private codeGeneration = 0;
  private translated = 0;
  /** For `stats`: JavaScript blocks compiled, instructions retired in JavaScript and WebAssembly blocks. */
  private jsBlocks = 0;
  private jsRetired = 0;
  private wasmRetired = 0;
  /** The engine's WebAssembly back end, if it has one (otherwise hot blocks become JavaScript). */
  private readonly wasm: WasmBackend | undefined;

  // --- pending trap, filled by raise() ---
  trapCause = 0;
  trapTval = 0n;

  // --- translation ---
  readonly tlbs: TlbSet[];
  /** Machine byte offset of this hart's state area (hartState.ts). */
  readonly stateBase: number;
  /** Data accesses' regime (priv, MPRV, SUM) and fetch regime (priv). */
  dtlb: TlbSet;
  itlb: TlbSet;
  /** Regime index of itlb (selects the jump cache). */
  iregime: Regime = Regime.M;
  /** 64-bit slow-path results. */
  tmpLo = 0;
  tmpHi = 0;

  // --- decoded code cache: guest RAM page index -> blocks by halfword offset ---
  // (Indexed by page, not a Map: physical addresses pass 2^31, and a Map keyed by them hashes heap numbers.)
  private readonly slots: CodeSlots;
  /**
   * Per guest page, the write-TLB entries that may map it: 0 none, 1 + entry
   * (set * TLB_SIZE + index) one, -1 several. A page that becomes code must
   * lose its write entries; most pages are written through one virtual
   * address (the kernel's linear map), so blockAt clears that one entry
   * instead of scanning four sets (docs/perf-log.md).
   */
  private readonly writeSlot: Int32Array;
  /** Which of `tlbs` is `dtlb`. */
  private dregime: Regime = Regime.M;
  /**
   * Jump cache, per regime: virtual pc -> Block. An entry counts only while
   * its epoch is `jumpEpoch`, so forgetting every entry (satp writes, global
   * SFENCE.VMA) costs one increment.
   */
  // Preallocated: an empty array written at a large index turns into a slow dictionary.
  private readonly jmpCache: (Block | undefined)[][] = [0, 1, 2, 3].map(() => new Array<Block | undefined>(1 << JMP_BITS).fill(undefined));
  private readonly jmpPc: Float64Array[] = [0, 1, 2, 3].map(() => new Float64Array(1 << JMP_BITS).fill(NaN));
  private readonly jmpEpoch: Int32Array[] = [0, 1, 2, 3].map(() => new Int32Array(1 << JMP_BITS));
  private jumpEpoch = 0;
  /**
   * Virtual pages (tags as in tlb.ts) with jump-cache entries since the last
   * full flush. Most single-page SFENCE.VMAs are for data pages (page-table
   * updates, fixmaps); they need not touch the jump caches at all.
   */
  private readonly codePages = new Set<number>();

  readonly mem: GuestMemory;
  readonly bus: PhysicalBus;
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly i32: Int32Array;
  /** Platform timer (mtime) read by the time CSR; replaced by the platform. */
  readTime: () => number = () => 0;
  /**
   * Hypervisor call interface: when set, an ECALL from S-mode is handled here
   * (tsxi's built-in SBI) instead of trapping to M-mode, and execution
   * continues after the ECALL.
   */
  hypercall: ((h: Hart) => void) | undefined = undefined;

  constructor(
    readonly hartId: number,
    mem: GuestMemory,
    bus: PhysicalBus,
    engine: ExecutionEngine,
  ) {
    this.mem = mem;
    this.bus = bus;
    this.slots = new CodeSlots(Math.ceil(mem.size / 4096));
    this.writeSlot = new Int32Array(Math.ceil(mem.size / 4096));
    this.u8 = mem.u8;
    this.u16 = mem.u16;
    this.i32 = mem.i32;
    const base = mem.vcpuState(hartId);
    const buf = mem.machine.buffer;
    this.stateBase = base;
    this.lo = new Int32Array(buf, base + STATE_X, 2 * 33).fill(0);
    this.hi = new Int32Array(buf, base + STATE_X + 4, 2 * 33 - 1);
    this.tlbs = [0, 1, 2, 3].map((k) => new TlbSet(buf, base + STATE_TLBS + k * TLB_SET_BYTES));
    this.csrWords = new Int32Array(buf, base + STATE_MSTATUS, 3).fill(0);
    this.priv = Priv.M;
    const fbuf = new ArrayBuffer(256);
    this.f = new Float64Array(fbuf);
    this.fw = new Int32Array(fbuf);
    this.dtlb = this.tlbs[Regime.M];
    this.itlb = this.tlbs[Regime.M];
    mem.onCodeWrite((page) => this.invalidateCodePage(page));
    this.translateAfter = engine.translateAfter;
    this.wasm = engine.wasmBackend(this, MAX_TRANSLATED);
  }

  get priv(): Priv {
    return this.csrWords[W_PRIV] as Priv;
  }
  set priv(p: Priv) {
    this.csrWords[W_PRIV] = p;
  }
  /** Low 32 bits of mstatus; UXL/SXL are fixed at 2, SD is derived from FS. */
  get mstatus(): number {
    return this.csrWords[W_MSTATUS];
  }
  set mstatus(v: number) {
    this.csrWords[W_MSTATUS] = v;
  }
  get mip(): number {
    return this.mipBits;
  }
  set mip(v: number) {
    this.mipBits = v;
    this.csrWords[W_PENDING] = v & this.mieBits;
  }
  get mie(): number {
    return this.mieBits;
  }
  set mie(v: number) {
    this.mieBits = v;
    this.csrWords[W_PENDING] = this.mipBits & v;
  }

  // ---------------------------------------------------------------- registers

  /** x[r] as an unsigned 64-bit BigInt (tests, debugging, CSR instructions). */
  getX(r: number): bigint {
    return BigInt.asUintN(64, (BigInt(this.hi[2 * r]) << 32n) | BigInt(this.lo[2 * r] >>> 0));
  }

  setX(r: number, v: bigint): void {
    if (r === 0) return;
    this.lo[2 * r] = Number(BigInt.asIntN(32, v));
    this.hi[2 * r] = Number(BigInt.asIntN(32, v >> 32n));
  }

  // ---------------------------------------------------------------- traps

  /** Abandons the current instruction with an exception. */
  raise(cause: Cause, tvalLo: number, tvalHi: number): never {
    this.trapCause = cause;
    this.trapTval = BigInt.asUintN(64, (BigInt(tvalHi | 0) << 32n) | BigInt(tvalLo >>> 0));
    throw TRAP;
  }

  /** Illegal-instruction exception with mtval = the instruction bits. */
  illegal(i: Insn): never {
    return this.raise(Cause.IllegalInsn, i.raw, 0);
  }

  /** Illegal-instruction exception when the FP unit is off (mstatus.FS = 0). */
  requireFp(i: Insn): void {
    if ((this.mstatus & MSTATUS_FS) === 0) this.illegal(i);
  }

  /** Marks FP state dirty after a write to an f register or fcsr. */
  markFpDirty(): void {
    this.mstatus |= MSTATUS_FS;
  }

  /** Recomputes the TLB regimes after a change of priv, MPRV, MPP or SUM. */
  updateRegimes(): void {
    this.iregime = regimeOf(this.priv, this.mstatus);
    this.itlb = this.tlbs[this.iregime];
    let eff: number = this.priv;
    if (this.priv === Priv.M && (this.mstatus & MSTATUS_MPRV) !== 0) eff = (this.mstatus >>> 11) & 3;
    this.dregime = regimeOf(eff, this.mstatus);
    this.dtlb = this.tlbs[this.dregime];
  }

  /** Privilege used for data accesses (MPRV applies). */
  effectivePriv(): Priv {
    if (this.priv === Priv.M && (this.mstatus & MSTATUS_MPRV) !== 0) return ((this.mstatus >>> 11) & 3) as Priv;
    return this.priv;
  }

  // ---------------------------------------------------------------- memory

  /** Loads `size` (1, 2, 4) bytes at the 64-bit virtual address (hi:lo); returns them zero-extended (size 4: as int32). */
  load(lo: number, hi: number, size: number): number {
    const idx = tlbIndex(lo);
    const t = this.dtlb;
    if (tlbHit(t.rTag, lo, hi) && (lo & (size - 1)) === 0) {
      const o = t.rOff[idx] + (lo & 4095);
      if (size === 4) return this.i32[o >>> 2];
      if (size === 1) return this.u8[o];
      return this.u16[o >>> 1];
    }
    return this.loadSlow(lo, hi, size, Cause.LoadAccessFault);
  }

  /** Loads 8 bytes into tmpLo/tmpHi. */
  load64(lo: number, hi: number): void {
    const idx = tlbIndex(lo);
    const t = this.dtlb;
    if (tlbHit(t.rTag, lo, hi) && (lo & 7) === 0) {
      const o = (t.rOff[idx] + (lo & 4095)) >>> 2;
      this.tmpLo = this.i32[o];
      this.tmpHi = this.i32[o + 1];
      return;
    }
    this.tmpLo = this.loadSlow(lo, hi, 4, Cause.LoadAccessFault, 8);
  }

  store(lo: number, hi: number, size: number, v: number): void {
    const idx = tlbIndex(lo);
    const t = this.dtlb;
    if (tlbHit(t.wTag, lo, hi) && (lo & (size - 1)) === 0) {
      const o = t.wOff[idx] + (lo & 4095);
      if (size === 4) this.i32[o >>> 2] = v;
      else if (size === 1) this.u8[o] = v;
      else this.u16[o >>> 1] = v;
      return;
    }
    this.storeSlow(lo, hi, size, v, 0);
  }

  store64(lo: number, hi: number, vlo: number, vhi: number): void {
    const idx = tlbIndex(lo);
    const t = this.dtlb;
    if (tlbHit(t.wTag, lo, hi) && (lo & 7) === 0) {
      const o = (t.wOff[idx] + (lo & 4095)) >>> 2;
      this.i32[o] = vlo;
      this.i32[o + 1] = vhi;
      return;
    }
    this.storeSlow(lo, hi, 8, vlo, vhi);
  }

  /**
   * Translates a data access and returns its physical address, raising the
   * right fault. Fills the TLB when the whole page is plain RAM.
   */
  translateData(lo: number, hi: number, access: Access, size: number): number {
    const priv = this.effectivePriv();
    const pa = translate(this, lo, hi, access, priv);
    this.fillTlb(lo, hi, pa, access, priv);
    if (!pmpAllows(this, pa, size, access, priv)) {
      this.raise(access === Access.Write ? Cause.StoreAccessFault : Cause.LoadAccessFault, lo, hi);
    }
    return pa;
  }

  private fillTlb(lo: number, hi: number, pa: number, access: Access, priv: Priv): void {
    const pagePa = pa - (pa & 4095);
    const off = this.mem.machinePageOffset(pagePa);
    if (off < 0 || !pmpAllows(this, pagePa, 4096, access, priv)) return;
    if (access === Access.Read) {
      this.dtlb.fillRead(lo, hi, off);
    } else if (access === Access.Write) {
      const pi = this.mem.pageIndex(pagePa);
      if (!this.mem.writeCacheable(pi)) return;
      const entry = 1 + this.dregime * TLB_SIZE + tlbIndex(lo);
      const was = this.writeSlot[pi];
      this.writeSlot[pi] = was === 0 || was === entry ? entry : -1;
      this.dtlb.fillWrite(lo, hi, off);
    } else {
      this.itlb.fillExec(lo, hi, pagePa);
    }
  }

  /** Slow path for loads: TLB miss, misaligned, MMIO. `size8` = 8 for a doubleword (result in tmpLo/tmpHi). */
  loadSlow(lo: number, hi: number, size: number, _fault: Cause, size8 = 0): number {
    const n = size8 || size;
    if ((lo & (n - 1)) !== 0 && (lo & 4095) + n > 4096) {
      // Misaligned and crossing a page: translate both pages first, then assemble bytes.
      return this.loadBytes(lo, hi, n);
    }
    const pa = this.translateData(lo, hi, Access.Read, n);
    if ((lo & (n - 1)) !== 0) return this.loadBytes(lo, hi, n);
    return this.physLoad(pa, n, lo, hi);
  }

  private loadBytes(lo: number, hi: number, n: number): number {
    const pas: number[] = [];
    for (let k = 0; k < n; k++) {
      const alo = (lo + k) | 0;
      const ahi = (hi + ((alo >>> 0) < (lo >>> 0) ? 1 : 0)) | 0;
      if (k === 0 || (alo & 4095) === 0) pas.push(this.translateData(alo, ahi, Access.Read, 1));
      else pas.push(pas[k - 1] + 1);
    }
    let vlo = 0;
    let vhi = 0;
    for (let k = 0; k < n; k++) {
      const b = this.physLoad(pas[k], 1, lo, hi);
      if (k < 4) vlo |= b << (8 * k);
      else vhi |= b << (8 * (k - 4));
    }
    if (n === 8) {
      this.tmpLo = vlo;
      this.tmpHi = vhi;
    }
    return n === 4 || n === 8 ? vlo | 0 : vlo >>> 0;
  }

  /** Reads RAM or MMIO at a physical address; (vlo, vhi) is the virtual address for faults. */
  physLoad(pa: number, n: number, vlo: number, vhi: number): number {
    const off = this.mem.machinePageOffset(pa - (pa & 4095));
    if (off >= 0) {
      const o = off + (pa & 4095);
      if (n === 1) return this.u8[o];
      if (n === 2) return this.u16[o >>> 1];
      if (n === 4) return this.i32[o >>> 2];
      this.tmpLo = this.i32[o >>> 2];
      this.tmpHi = this.i32[(o >>> 2) + 1];
      return this.tmpLo;
    }
    const m = this.bus.find(pa, n);
    if (m === undefined) this.raise(Cause.LoadAccessFault, vlo, vhi);
    const v = m.dev.read(pa - m.base, n);
    if (n === 8) {
      const b = BigInt.asUintN(64, BigInt(v));
      this.tmpLo = Number(BigInt.asIntN(32, b));
      this.tmpHi = Number(BigInt.asIntN(32, b >> 32n));
      return this.tmpLo;
    }
    const num = Number(v);
    return n === 4 ? num | 0 : num;
  }

  storeSlow(lo: number, hi: number, size: number, vlo: number, vhi: number): void {
    if ((lo & (size - 1)) !== 0) {
      const pas: number[] = [];
      for (let k = 0; k < size; k++) {
        const alo = (lo + k) | 0;
        const ahi = (hi + ((alo >>> 0) < (lo >>> 0) ? 1 : 0)) | 0;
        if (k === 0 || (alo & 4095) === 0) pas.push(this.translateData(alo, ahi, Access.Write, 1));
        else pas.push(pas[k - 1] + 1);
      }
      for (let k = 0; k < size; k++) {
        const b = k < 4 ? (vlo >>> (8 * k)) & 0xff : (vhi >>> (8 * (k - 4))) & 0xff;
        this.physStore(pas[k], 1, b, 0, lo, hi);
      }
      return;
    }
    const pa = this.translateData(lo, hi, Access.Write, size);
    this.physStore(pa, size, vlo, vhi, lo, hi);
  }

  physStore(pa: number, n: number, vlo: number, vhi: number, alo: number, ahi: number): void {
    const off = this.mem.machinePageOffset(pa - (pa & 4095));
    if (off >= 0) {
      const o = off + (pa & 4095);
      if (n === 1) this.u8[o] = vlo;
      else if (n === 2) this.u16[o >>> 1] = vlo;
      else if (n === 4) this.i32[o >>> 2] = vlo;
      else {
        this.i32[o >>> 2] = vlo;
        this.i32[(o >>> 2) + 1] = vhi;
      }
      this.mem.noteWrite(pa, n);
      return;
    }
    const m = this.bus.find(pa, n);
    if (m === undefined) this.raise(Cause.StoreAccessFault, alo, ahi);
    if (n === 8) m.dev.write(pa - m.base, 8, (BigInt(vhi >>> 0) << 32n) | BigInt(vlo >>> 0));
    else m.dev.write(pa - m.base, n, n === 4 ? vlo >>> 0 : vlo & (n === 1 ? 0xff : 0xffff));
  }

  // ---------------------------------------------------------------- code

  /** Physical address of the instruction at virtual pc (raises fetch faults). */
  private fetchPhys(pc: number): number {
    const lo = pc | 0; // ToInt32 keeps the low word (`%` on a double is a call to fmod)
    const hi = Math.floor(pc / 4294967296) | 0;
    const idx = tlbIndex(lo);
    const t = this.itlb;
    if (tlbHit(t.xTag, lo, hi)) return t.xPage[idx] + (lo & 4095);
    const pa = translate(this, lo, hi, Access.Exec, this.priv);
    if (!pmpAllows(this, pa, 2, Access.Exec, this.priv) || this.mem.machinePageOffset(pa - (pa & 4095)) < 0) {
      this.raise(Cause.InsnAccessFault, lo, hi);
    }
    this.fillTlb(lo, hi, pa, Access.Exec, this.priv);
    return pa;
  }

  /**
   * Reads a 16-bit parcel at the physical address. (Physical addresses pass
   * 2^31: `pa & 4095` takes their low bits exactly, where `pa % 4096` is a
   * call to fmod; so throughout this file.)
   */
  private parcel(pa: number): number {
    return this.u16[(this.mem.machinePageOffset(pa - (pa & 4095)) + (pa & 4095)) >>> 1];
  }

  /** Index of the guest page holding physical address `pa` (CodeSlots). */
  private pageOf(pa: number): number {
    return this.mem.pageIndex(pa - (pa & 4095));
  }

  /**
   * The decoded block at physical address `pa` in a page that holds code,
   * decoded now if it has not run yet (a translated region may take in code
   * after a branch not taken so far). Undefined when it awaits a re-check
   * after FENCE.I or would start with an instruction that straddles pages.
   */
  blockInCodePage(pa: number): Block | undefined {
    const pi = this.pageOf(pa);
    if (!this.slots.has(pi)) return undefined;
    const slot = (pa & 4095) >>> 1;
    const b = this.slots.get(pi, slot);
    if (b !== undefined) return b.valid && b.gen === this.codeGeneration ? b : undefined;
    if ((pa & 4095) === 4094 && (this.parcel(pa) & 3) === 3) return undefined;
    return this.decodeInto(pi, slot, NaN, pa); // its virtual address matters only for a first instruction that straddles
  }

  /** Decodes the block at `pc` (physical `pa`) into its slot of page `pi`. */
  private decodeInto(pi: number, slot: number, pc: number, pa: number): Block {
    const b = this.buildBlock(pc, pa);
    b.gen = this.codeGeneration;
    this.slots.set(pi, slot, b);
    return b;
  }

  /** The block at physical address `pa` if the WebAssembly back end has it installed and it is still valid. */
  translatedAt(pa: number): Block | undefined {
    const b = this.slots.get(this.pageOf(pa), (pa & 4095) >>> 1);
    return b !== undefined && b.valid && b.index >= 0 ? b : undefined;
  }

  /** The decoded block at the current pc, decoding it on first use. */
  blockAt(pc: number): Block {
    const pa = this.fetchPhys(pc);
    const page = pa - (pa & 4095);
    const pi = this.mem.pageIndex(page);
    if (this.slots.open(pi)) {
      this.mem.markCode(page);
      const entry = this.writeSlot[pi];
      if (entry !== 0) {
        this.writeSlot[pi] = 0;
        const off = this.mem.machinePageOffset(page);
        if (entry > 0) this.tlbs[(entry - 1) >>> TLB_BITS].flushWriteEntry((entry - 1) & TLB_MASK, off);
        else for (const t of this.tlbs) t.flushWritesTo(off);
      }
    }
    const slot = (pa & 4095) >>> 1;
    return this.slots.get(pi, slot) ?? this.decodeInto(pi, slot, pc, pa);
  }

  private buildBlock(pc: number, pa: number): Block {
    const insns: Insn[] = [];
    // Parcels by their offset in the page: one page lookup per block, not per parcel.
    const page = pa - (pa & 4095);
    const parcels = this.mem.machinePageOffset(page) >>> 1;
    let o = pa - page;
    while (insns.length < BLOCK_MAX) {
      let raw = this.u16[parcels + (o >>> 1)];
      if ((raw & 3) === 3) {
        if (o === 4094) {
          // A 32-bit instruction straddling a page: only as a block of its own.
          if (insns.length > 0) break;
          const pa2 = this.fetchPhys(pc + 2);
          raw = (raw | (this.parcel(pa2) << 16)) >>> 0;
          insns.push(decodeStraddling(raw));
          const b = new Block(pa, insns);
          b.straddles = true;
          return b;
        }
        raw = (raw | (this.u16[parcels + (o >>> 1) + 1] << 16)) >>> 0;
      }
      const ins = decode(raw);
      if ((ins.flags & F_SYSTEM) !== 0 && insns.length > 0) break; // system insns run as their own block
      insns.push(ins);
      if ((ins.flags & (F_ENDS_BLOCK | F_SYSTEM)) !== 0) break;
      o += ins.len;
      if (o === 4096) break;
    }
    return new Block(pa, insns);
  }

  private invalidateCodePage(guestPage: number): void {
    if (!this.slots.has(guestPage)) return;
    this.slots.forEach(guestPage, (b) => {
      b.valid = false;
      this.wasm?.retire(b);
    });
    this.slots.close(guestPage);
  }

  /**
   * Translates a hot block: returns its JavaScript function, or undefined
   * when it went to the WebAssembly back end (it has a table index once its
   * batch is compiled) or the cache was full and was dropped instead.
   */
  private translate(b: Block): BlockFn | undefined {
    if (this.translated >= MAX_TRANSLATED) {
      this.flushCode();
      return undefined;
    }
    if (this.wasm !== undefined && b.queued) {
      // It ran URGENT_RUNS times more while its batch waited: the guest spins in it, so the batch goes now.
      b.hits = -Infinity;
      this.translated += this.wasm.urge(b);
      return undefined;
    }
    if (this.wasm !== undefined && WasmBackend.suits(b)) {
      const batch = [b, ...this.warmNeighbours(b)];
      for (const s of batch) {
        s.queued = true;
        s.hits = this.translateAfter - URGENT_RUNS;
      }
      this.translated += this.wasm.queue(batch);
      return undefined;
    }
    if ((b.insns[0].flags & F_SYSTEM) !== 0) {
      b.hits = -Infinity; // a monitor instruction: the interpreter's business
      return undefined;
    }
    b.fn = compileBlock(b, this);
    this.translated++;
    this.jsBlocks++;
    return b.fn;
  }

  /**
   * The blocks of `b`'s page that ran at least a quarter of the way to hot:
   * they go to the WebAssembly back end with `b`. Blocks of one page in one
   * module reach each other by direct links (wasmDispatch.ts), and those
   * that would have become hot later are not interpreted meanwhile
   * (measurements in docs/perf-log.md).
   */
  private warmNeighbours(b: Block): Block[] {
    const warm: Block[] = [];
    if (this.translateAfter < 4) return warm;
    const threshold = this.translateAfter >> 2;
    this.slots.forEach(this.pageOf(b.paddr), (s) => {
      if (s !== b && s.valid && !s.queued && s.hits >= threshold && s.fn === undefined && WasmBackend.suits(s)) warm.push(s);
    });
    return warm;
  }

  /** Compiles the hot blocks still waiting for their batch and installs them (tests; a caller about to measure). */
  finishTranslations(): void {
    if (this.wasm !== undefined) this.translated += this.wasm.finish();
  }

  /** What the translator did on this hart so far (engine.ts). */
  get stats(): TranslationStats {
    return { jsBlocks: this.jsBlocks, wasmBlocks: this.wasm?.installed ?? 0, jsInstructions: this.jsRetired, wasmInstructions: this.wasmRetired };
  }

  /** Whether decoded block `b` needs no re-check against memory (none since the last FENCE.I). */
  isCurrent(b: Block): boolean {
    return b.gen === this.codeGeneration;
  }

  /**
   * FENCE.I (local, or remote through the SBI): makes every store before it
   * visible to instruction fetch. This hart's own stores to code already
   * dropped the decodes they touched; what remains are writes by other harts
   * and DMA, which this world cannot see. So every cached block is re-checked
   * against memory when next run — its instruction bits compared with what
   * it was decoded from — and rebuilt only if they differ. Linux executes
   * FENCE.I often (code patching, module loading, every new executable
   * mapping); flushing everything each time made boot decode its code again
   * and again. With a single hart, and no device or loader write since the
   * last check (GuestMemory.externalWrites), there is nothing to re-check:
   * Linux patches its text with tens of thousands of FENCE.Is while it
   * boots (docs/perf-log.md).
   */
  fenceI(): void {
    const external = this.mem.externalWrites();
    if (this.mem.vcpus === 1 && external === this.externalWritesSeen) return;
    this.externalWritesSeen = external;
    this.codeGeneration++;
    this.wasm?.forgetJumps();
    this.wasm?.killLinks();
  }

  /** Whether the instruction bits of `b` are still those in memory. */
  private matches(b: Block): boolean {
    let p = b.paddr;
    if (b.straddles) return false;
    for (const ins of b.insns) {
      const bits = ins.len === 2 ? this.parcel(p) : (this.parcel(p) | (this.parcel(p + 2) << 16)) >>> 0;
      if (bits !== ins.raw >>> 0) return false;
      p += ins.len;
    }
    return true;
  }

  /** True when `b` (and the blocks of its region) still match the instruction bits in memory; otherwise drops it. */
  private revalidate(b: Block): boolean {
    if (this.matches(b) && b.region.every((r) => r.valid && this.matches(r))) {
      b.gen = this.codeGeneration;
      this.wasm?.relink(b);
      return true;
    }
    b.valid = false;
    this.wasm?.retire(b);
    const pi = this.pageOf(b.paddr);
    const slot = (b.paddr & 4095) >>> 1;
    if (this.slots.get(pi, slot) === b) this.slots.set(pi, slot, undefined);
    return false;
  }

  /** Forgets all decoded and translated code (a hart starting afresh, a full translation cache). */
  flushCode(): void {
    for (const pi of [...this.slots.codePages]) {
      this.slots.forEach(pi, (b) => (b.valid = false));
      this.slots.close(pi);
      this.mem.pageFlags[pi] &= ~PAGE_CODE;
    }
    this.translated = 0;
    this.wasm?.clear();
    for (let i = 0; i < 4; i++) this.jmpCache[i].fill(undefined); // let the dropped blocks go
    this.flushJumpCache();
  }

  /** Called whenever the virtual->physical mapping of code may have changed. */
  flushJumpCache(): void {
    this.wasm?.forgetJumps();
    this.codePages.clear();
    if (++this.jumpEpoch === 2 ** 30) {
      this.jumpEpoch = 0;
      for (let i = 0; i < 4; i++) this.jmpPc[i].fill(NaN);
    }
  }

  /** Forgets the jump-cache entries of one virtual page (tag as in tlb.ts): SFENCE.VMA with an address. */
  flushJumpPage(tag: number): void {
    if (!this.codePages.delete(tag)) return;
    this.wasm?.forgetJumps();
    // A page's 2048 halfword slots are consecutive in the direct-mapped cache.
    const first = (tag * 2048) & ((1 << JMP_BITS) - 1);
    for (let i = 0; i < 4; i++) this.jmpPc[i].fill(NaN, first, first + 2048);
  }

  // ---------------------------------------------------------------- run loop

  /**
   * Runs up to `budget` instructions (approximately: whole blocks). Returns
   * the number retired. Stops early on WFI with nothing pending or when a
   * device sets `stopRequested`.
   */
  run(budget: number): number {
    const start = this.instret;
    const limit = start + budget;
    this.waiting = false;
    const attention = this.attention;
    // A block that translated code left for the slow path is finished even past the budget.
    while ((this.instret < limit || this.interpretNext) && !this.stopRequested && !this.waiting && attention[0] === 0) {
      if ((this.mip & this.mie) !== 0 && takePendingInterrupt(this)) continue;
      if (this.wasm !== undefined && this.wasm.ready()) this.translated += this.wasm.poll();
      const pc = this.pc;
      const regime = this.iregime;
      const jslot = (pc / 2) & ((1 << JMP_BITS) - 1);
      let b: Block | undefined;
      if (this.jmpPc[regime][jslot] === pc && this.jmpEpoch[regime][jslot] === this.jumpEpoch) b = this.jmpCache[regime][jslot];
      let k = 0;
      try {
        if (b === undefined || !b.valid || (b.gen !== this.codeGeneration && !this.revalidate(b))) {
          b = this.blockAt(pc);
          if (b.gen !== this.codeGeneration && !this.revalidate(b)) b = this.blockAt(pc);
          this.jmpPc[regime][jslot] = pc;
          this.jmpEpoch[regime][jslot] = this.jumpEpoch;
          this.jmpCache[regime][jslot] = b;
          this.codePages.add(Math.floor(pc / 4096));
        }
        let fn = b.fn;
        if (fn === undefined && this.translateAfter > 0 && ++b.hits >= this.translateAfter) fn = this.translate(b);
        if (b.index >= 0 && !this.interpretNext) {
          k = -2;
          this.pc = this.wasm!.chain(b, pc, regime, this.dtlb.base, Math.min(limit - this.instret, CHAIN_BUDGET));
          const done = this.wasm!.retired();
          this.instret += done;
          this.wasmRetired += done;
          this.interpretNext = this.wasm!.slowExit();
          continue;
        }
        this.interpretNext = false;
        if (fn !== undefined) {
          k = -1;
          this.pc = fn(pc, this.dtlb.base);
          this.instret += b.insns.length;
          this.jsRetired += b.insns.length;
          continue;
        }
        const insns = b.insns;
        const n = insns.length;
        for (; k < n; k++) {
          const ins = insns[k];
          this.npc = this.pc + ins.len;
          ins.exec(this, ins);
          this.pc = this.npc;
        }
        this.instret += n;
      } catch (e) {
        if (e !== TRAP) throw e;
        // k: instructions the interpreter completed; -1: a JavaScript block; -2: a WebAssembly chain.
        const done = k >= 0 ? k : k === -1 ? this.icount : this.wasm!.retired();
        this.instret += done;
        if (k === -1) this.jsRetired += done;
        else if (k === -2) this.wasmRetired += done;
        takeTrap(this, this.trapCause, this.trapTval, false);
      }
    }
    if (this.wasm !== undefined) this.translated += this.wasm.poll();
    return this.instret - start;
  }
}

function regimeOf(priv: number, mstatus: number): Regime {
  if (priv === Priv.M) return Regime.M;
  if (priv === Priv.U) return Regime.U;
  return (mstatus & MSTATUS_SUM) !== 0 ? Regime.SSum : Regime.S;
}

export { flushTranslations };
