import type { Hart } from "./hart.js";
import { Priv } from "./priv.js";
import { Cause } from "./trap.js";
import { r } from "./i64.js";
import { flushTranslations } from "./mmu.js";
import { updatePmpRanges } from "./pmp.js";

// mstatus bits (Privileged ISA §3.1.6); bits 32..63 are derived.
export const MSTATUS_SIE = 1 << 1;
export const MSTATUS_MIE = 1 << 3;
export const MSTATUS_SPIE = 1 << 5;
export const MSTATUS_MPIE = 1 << 7;
export const MSTATUS_SPP = 1 << 8;
export const MSTATUS_MPP = 3 << 11;
export const MSTATUS_FS = 3 << 13;
export const MSTATUS_MPRV = 1 << 17;
export const MSTATUS_SUM = 1 << 18;
export const MSTATUS_MXR = 1 << 19;
export const MSTATUS_TVM = 1 << 20;
export const MSTATUS_TW = 1 << 21;
export const MSTATUS_TSR = 1 << 22;

const MSTATUS_WRITABLE =
  MSTATUS_SIE | MSTATUS_MIE | MSTATUS_SPIE | MSTATUS_MPIE | MSTATUS_SPP | MSTATUS_MPP | MSTATUS_FS |
  MSTATUS_MPRV | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR;
export const SSTATUS_MASK = MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_FS | MSTATUS_SUM | MSTATUS_MXR;
/** UXL = SXL = 2 (64-bit), bits 32..35. */
const MSTATUS_HI_XL = 0xa;

/** Interrupts S-mode can see and delegate: SSI, STI, SEI. */
export const S_INTERRUPTS = (1 << 1) | (1 << 5) | (1 << 9);
/** mip bits writable by M-mode software (MTIP, MSIP, MEIP come from the platform). */
const MIP_WRITABLE = S_INTERRUPTS;
const MIE_WRITABLE = 0xaaa;
/** Exceptions that may be delegated: all but ECALL from M (cause 11) and the reserved 10, 14. */
const MEDELEG_WRITABLE = 0xb3ff;

// misa: MXL=2 (RV64), extensions A B C D F I M S U.
const MISA =
  (2n << 62n) |
  BigInt(
    [..."ABCDFIMSU"].reduce((m, c) => m | (1 << (c.charCodeAt(0) - 65)), 0),
  );

// menvcfg: FIOM(0), CBIE(5:4), CBCFE(6), CBZE(7); STCE(63), PBMTE(62) stay 0 until implemented.
const MENVCFG_WRITABLE = 0xf1n;
const SENVCFG_WRITABLE = 0xf1;

export const Csr = {
  fflags: 0x001,
  frm: 0x002,
  fcsr: 0x003,
  cycle: 0xc00,
  time: 0xc01,
  instret: 0xc02,
  sstatus: 0x100,
  sie: 0x104,
  stvec: 0x105,
  scounteren: 0x106,
  senvcfg: 0x10a,
  sscratch: 0x140,
  sepc: 0x141,
  scause: 0x142,
  stval: 0x143,
  sip: 0x144,
  satp: 0x180,
  mvendorid: 0xf11,
  marchid: 0xf12,
  mimpid: 0xf13,
  mhartid: 0xf14,
  mconfigptr: 0xf15,
  mstatus: 0x300,
  misa: 0x301,
  medeleg: 0x302,
  mideleg: 0x303,
  mie: 0x304,
  mtvec: 0x305,
  mcounteren: 0x306,
  menvcfg: 0x30a,
  mcountinhibit: 0x320,
  mscratch: 0x340,
  mepc: 0x341,
  mcause: 0x342,
  mtval: 0x343,
  mip: 0x344,
  mcycle: 0xb00,
  minstret: 0xb02,
  tselect: 0x7a0,
  tdata1: 0x7a1,
  tdata2: 0x7a2,
  tdata3: 0x7a3,
} as const;
export type Csr = (typeof Csr)[keyof typeof Csr];

/** Full mstatus value as a 64-bit BigInt (SD and UXL/SXL included). */
export function readMstatus(h: Hart): bigint {
  const sd = (h.mstatus & MSTATUS_FS) === MSTATUS_FS ? 1n << 63n : 0n;
  return sd | (BigInt(MSTATUS_HI_XL) << 32n) | BigInt(h.mstatus >>> 0);
}

/**
 * sstatus in int32 halves, without BigInt: r[0] = low word, r[1] = high word
 * (UXL, SD). For the CSR instructions' fast path (exec/system.ts).
 */
export function readSstatusWords(h: Hart): void {
  r[0] = h.mstatus & SSTATUS_MASK;
  r[1] = (MSTATUS_HI_XL & 3) | ((h.mstatus & MSTATUS_FS) === MSTATUS_FS ? 1 << 31 : 0);
}

/** Writes sstatus from its low word (the high word is read-only). */
export function writeSstatus(h: Hart, lo: number): void {
  writeMstatus(h, lo, SSTATUS_MASK);
}

function writeMstatus(h: Hart, v: number, mask: number): void {
  let n = (h.mstatus & ~mask) | (v & mask);
  // MPP is WARL over {U, S, M}: the reserved value 2 keeps the old setting.
  if ((n & MSTATUS_MPP) === 2 << 11) n = (n & ~MSTATUS_MPP) | (h.mstatus & MSTATUS_MPP);
  const changed = h.mstatus ^ n;
  h.mstatus = n;
  if (changed & MSTATUS_MXR) flushTranslations(h);
  if (changed & (MSTATUS_MPRV | MSTATUS_MPP | MSTATUS_SUM)) h.updateRegimes();
}

/** Counter access check for cycle/time/instret and hpmcounters (Zicntr, §3.1.11). */
function counterAllowed(h: Hart, bit: number): boolean {
  if (h.priv === Priv.M) return true;
  if (((h.mcounteren >>> bit) & 1) === 0) return false;
  if (h.priv === Priv.U && ((h.scounteren >>> bit) & 1) === 0) return false;
  return true;
}

function lowestPriv(csr: number): number {
  return (csr >>> 8) & 3;
}

/**
 * Reads a CSR with the access rules of the current privilege. Raises
 * illegal-instruction (tval = `raw`) when the CSR does not exist or may not be
 * accessed.
 */
export function csrRead(h: Hart, csr: number, raw: number): bigint {
  if (lowestPriv(csr) > h.priv) h.raise(Cause.IllegalInsn, raw, 0);
  switch (csr) {
    case Csr.fflags:
    case Csr.frm:
    case Csr.fcsr:
      if ((h.mstatus & MSTATUS_FS) === 0) h.raise(Cause.IllegalInsn, raw, 0);
      return BigInt(csr === Csr.fflags ? h.fflags : csr === Csr.frm ? h.frm : (h.frm << 5) | h.fflags);
    case Csr.cycle:
    case Csr.instret:
      if (!counterAllowed(h, csr & 31)) h.raise(Cause.IllegalInsn, raw, 0);
      return BigInt.asUintN(64, BigInt(h.instret + (csr === Csr.cycle ? h.cycleOffset : h.instretOffset)));
    case Csr.time:
      if (!counterAllowed(h, 1)) h.raise(Cause.IllegalInsn, raw, 0);
      return BigInt(h.readTime());
    case Csr.sstatus:
      return readMstatus(h) & (BigInt(SSTATUS_MASK) | (3n << 32n) | (1n << 63n));
    case Csr.sie:
      return BigInt(h.mie & h.mideleg);
    case Csr.sip:
      return BigInt(h.mip & h.mideleg);
    case Csr.stvec:
      return h.stvec;
    case Csr.scounteren:
      return BigInt(h.scounteren);
    case Csr.senvcfg:
      return BigInt(h.senvcfg);
    case Csr.sscratch:
      return h.sscratch;
    case Csr.sepc:
      return h.sepc;
    case Csr.scause:
      return h.scause;
    case Csr.stval:
      return h.stval;
    case Csr.satp:
      if (h.priv === Priv.S && (h.mstatus & MSTATUS_TVM) !== 0) h.raise(Cause.IllegalInsn, raw, 0);
      return (BigInt(h.satpMode) << 60n) | (BigInt(h.satpAsid) << 44n) | BigInt(h.satpPpn);
    case Csr.mvendorid:
    case Csr.marchid:
    case Csr.mimpid:
    case Csr.mconfigptr:
      return 0n;
    case Csr.mhartid:
      return BigInt(h.hartId);
    case Csr.mstatus:
      return readMstatus(h);
    case Csr.misa:
      return MISA;
    case Csr.medeleg:
      return BigInt(h.medeleg);
    case Csr.mideleg:
      return BigInt(h.mideleg);
    case Csr.mie:
      return BigInt(h.mie);
    case Csr.mip:
      return BigInt(h.mip);
    case Csr.mtvec:
      return h.mtvec;
    case Csr.mcounteren:
      return BigInt(h.mcounteren);
    case Csr.menvcfg:
      return h.menvcfg;
    case Csr.mcountinhibit:
      return BigInt(h.mcountinhibit);
    case Csr.mscratch:
      return h.mscratch;
    case Csr.mepc:
      return h.mepc;
    case Csr.mcause:
      return h.mcause;
    case Csr.mtval:
      return h.mtval;
    case Csr.mcycle:
      return BigInt.asUintN(64, BigInt(h.instret + h.cycleOffset));
    case Csr.minstret:
      return BigInt.asUintN(64, BigInt(h.instret + h.instretOffset));
    case Csr.tselect:
    case Csr.tdata1:
    case Csr.tdata2:
    case Csr.tdata3:
      return 0n; // no debug triggers: tdata1 reads type 0
  }
  if (csr === 0x3a0 || csr === 0x3a2) {
    const base = csr === 0x3a0 ? 0 : 8;
    let v = 0n;
    for (let k = 7; k >= 0; k--) v = (v << 8n) | BigInt(h.pmpcfg[base + k]);
    return v;
  }
  if (csr >= 0x3b0 && csr < 0x3b0 + 16) return h.pmpaddr[csr - 0x3b0];
  if (csr >= 0x3b0 + 16 && csr <= 0x3ef) return 0n; // pmpaddr16..63 not implemented: read-only zero
  if (csr >= 0x3a4 && csr <= 0x3ae && (csr & 1) === 0) return 0n; // pmpcfg4..14
  if ((csr >= 0xb03 && csr <= 0xb1f) || (csr >= 0x323 && csr <= 0x33f)) return 0n; // mhpmcounter/event
  if (csr >= 0xc03 && csr <= 0xc1f) {
    if (!counterAllowed(h, csr & 31)) h.raise(Cause.IllegalInsn, raw, 0);
    return 0n;
  }
  return h.raise(Cause.IllegalInsn, raw, 0);
}

/** Writes a CSR (after csrRead has established that it exists and is readable). */
export function csrWrite(h: Hart, csr: number, v: bigint, raw: number): void {
  if ((csr >>> 10) === 3) h.raise(Cause.IllegalInsn, raw, 0); // read-only CSR
  const lo = Number(BigInt.asIntN(32, v));
  switch (csr) {
    case Csr.fflags:
      h.fflags = lo & 0x1f;
      h.markFpDirty();
      return;
    case Csr.frm:
      h.frm = lo & 7;
      h.markFpDirty();
      return;
    case Csr.fcsr:
      h.fflags = lo & 0x1f;
      h.frm = (lo >>> 5) & 7;
      h.markFpDirty();
      return;
    case Csr.sstatus:
      writeSstatus(h, lo);
      return;
    case Csr.sie:
      h.mie = (h.mie & ~h.mideleg) | (lo & h.mideleg & MIE_WRITABLE);
      return;
    case Csr.sip:
      // Only SSIP is writable through sip (STIP/SEIP are set by M-mode or the platform).
      h.mip = (h.mip & ~(h.mideleg & 2)) | (lo & h.mideleg & 2);
      return;
    case Csr.stvec:
      h.stvec = legalTvec(v);
      return;
    case Csr.scounteren:
      h.scounteren = lo >>> 0;
      return;
    case Csr.senvcfg:
      h.senvcfg = lo & SENVCFG_WRITABLE;
      return;
    case Csr.sscratch:
      h.sscratch = BigInt.asUintN(64, v);
      return;
    case Csr.sepc:
      h.sepc = BigInt.asUintN(64, v) & ~1n;
      return;
    case Csr.scause:
      h.scause = BigInt.asUintN(64, v);
      return;
    case Csr.stval:
      h.stval = BigInt.asUintN(64, v);
      return;
    case Csr.satp: {
      const mode = Number((BigInt.asUintN(64, v) >> 60n) & 0xfn);
      // WARL: modes other than Bare, Sv39 and Sv48 leave satp unchanged (§10.1.11).
      if (mode !== 0 && mode !== 8 && mode !== 9) return;
      h.satpMode = mode;
      h.satpAsid = Number((v >> 44n) & 0xffffn);
      h.satpPpn = Number(v & 0xfffffffffffn);
      flushTranslations(h);
      return;
    }
    case Csr.mstatus:
      writeMstatus(h, lo, MSTATUS_WRITABLE);
      return;
    case Csr.misa:
      return; // fixed
    case Csr.medeleg:
      h.medeleg = lo & MEDELEG_WRITABLE;
      return;
    case Csr.mideleg:
      h.mideleg = lo & S_INTERRUPTS;
      return;
    case Csr.mie:
      h.mie = lo & MIE_WRITABLE;
      return;
    case Csr.mip:
      h.mip = (h.mip & ~MIP_WRITABLE) | (lo & MIP_WRITABLE);
      return;
    case Csr.mtvec:
      h.mtvec = legalTvec(v);
      return;
    case Csr.mcounteren:
      h.mcounteren = lo >>> 0;
      return;
    case Csr.menvcfg:
      h.menvcfg = BigInt.asUintN(64, v) & MENVCFG_WRITABLE;
      return;
    case Csr.mcountinhibit:
      h.mcountinhibit = (lo & ~2) >>> 0; // a 32-bit register; bit 1 (TM) is read-only zero
      return;
    case Csr.mscratch:
      h.mscratch = BigInt.asUintN(64, v);
      return;
    case Csr.mepc:
      h.mepc = BigInt.asUintN(64, v) & ~1n;
      return;
    case Csr.mcause:
      h.mcause = BigInt.asUintN(64, v);
      return;
    case Csr.mtval:
      h.mtval = BigInt.asUintN(64, v);
      return;
    case Csr.mcycle:
      // The written value is what the next read sees (the writing instruction does not count).
      h.cycleOffset = Number(BigInt.asUintN(64, v)) - h.instret - 1;
      return;
    case Csr.minstret:
      h.instretOffset = Number(BigInt.asUintN(64, v)) - h.instret - 1;
      return;
    case Csr.tselect:
    case Csr.tdata1:
    case Csr.tdata2:
    case Csr.tdata3:
      return;
  }
  if (csr === 0x3a0 || csr === 0x3a2) {
    const base = csr === 0x3a0 ? 0 : 8;
    for (let k = 0; k < 8; k++) {
      const i = base + k;
      if (h.pmpcfg[i] & 0x80) continue; // locked
      let cfg = Number((BigInt.asUintN(64, v) >> BigInt(8 * k)) & 0xffn) & 0x9f;
      if ((cfg & 3) === 2) cfg &= ~3; // W without R is reserved: keep it inaccessible
      h.pmpcfg[i] = cfg;
    }
    updatePmpRanges(h);
    return;
  }
  if (csr >= 0x3b0 && csr < 0x3b0 + 16) {
    const i = csr - 0x3b0;
    if (h.pmpcfg[i] & 0x80) return;
    // An entry locked in TOR mode also locks the address register below it.
    if (i + 1 < 16 && (h.pmpcfg[i + 1] & 0x98) === 0x88) return;
    h.pmpaddr[i] = BigInt.asUintN(54, v);
    updatePmpRanges(h);
    return;
  }
  // Remaining existing CSRs are read-only zero or WARL-zero: writes are ignored.
}

/** xtvec: MODE 0 (direct) or 1 (vectored); reserved modes fall back to direct. */
function legalTvec(v: bigint): bigint {
  const u = BigInt.asUintN(64, v);
  return (u & 3n) >= 2n ? u & ~3n : u;
}
