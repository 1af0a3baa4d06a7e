/**
 * Instructions that enter the monitor: Zicsr, ECALL/EBREAK, xRET, WFI,
 * SFENCE.VMA and FENCE.I (Privileged ISA ch. 3, 10). Each ends its block
 * (F_SYSTEM), so the run loop sees any change of privilege, translation or
 * interrupt enables before the next instruction. Also the cache-block
 * operations (Zicbom/Zicboz), which are ordinary memory instructions here.
 */
import type { Hart } from "../hart.js";
import { Priv } from "../priv.js";
import type { Insn } from "../insn.js";
import { Csr, csrRead, csrWrite, MSTATUS_TSR, MSTATUS_TVM, MSTATUS_TW, readSstatusWords, writeSstatus } from "../csr.js";
import { Access, Cause, TRAP } from "../trap.js";
import { mret as doMret, sret as doSret } from "../privileged.js";
import { flushPage, flushTranslations } from "../mmu.js";
import { fromBig, r, toBig } from "../i64.js";
import { CACHE_BLOCK_BYTES } from "../isa.js";
import { tlbHit, tlbIndex } from "../tlb.js";

type E = (h: Hart, i: Insn) => void;

function setBig(h: Hart, rd: number, v: bigint): void {
  fromBig(v);
  h.lo[2 * rd] = r[0];
  h.hi[2 * rd] = r[1];
}

const enum CsrOp {
  Write,
  Set,
  Clear,
}

/**
 * The CSR instructions on sstatus without BigInt: Linux masks and unmasks
 * interrupts around every spinlock (csrrc/csrrs sstatus), the commonest CSR
 * access by far. `v`: the operand's low word (sstatus has no writable high
 * bits). Returns false when the general path must run.
 */
function sstatusFast(h: Hart, i: Insn, op: CsrOp, v: number, writes: boolean): boolean {
  if (i.aux !== Csr.sstatus || h.priv === Priv.U) return false;
  readSstatusWords(h);
  const lo = r[0];
  const hi = r[1];
  if (writes) writeSstatus(h, op === CsrOp.Write ? v : op === CsrOp.Set ? lo | v : lo & ~v);
  h.lo[2 * i.rd] = lo;
  h.hi[2 * i.rd] = hi;
  return true;
}

// CSR number in aux; rs1 is the source register or, for the *I forms, the 5-bit immediate.
export const csrrw: E = (h, i) => {
  if (sstatusFast(h, i, CsrOp.Write, h.lo[2 * i.rs1], true)) return;
  const v = toBig(h.lo[2 * i.rs1], h.hi[2 * i.rs1]);
  const old = csrRead(h, i.aux, i.raw);
  csrWrite(h, i.aux, v, i.raw);
  setBig(h, i.rd, old);
};
export const csrrs: E = (h, i) => {
  if (sstatusFast(h, i, CsrOp.Set, h.lo[2 * i.rs1], i.rs1 !== 0)) return;
  const v = toBig(h.lo[2 * i.rs1], h.hi[2 * i.rs1]);
  const old = csrRead(h, i.aux, i.raw);
  if (i.rs1 !== 0) csrWrite(h, i.aux, old | v, i.raw);
  setBig(h, i.rd, old);
};
export const csrrc: E = (h, i) => {
  if (sstatusFast(h, i, CsrOp.Clear, h.lo[2 * i.rs1], i.rs1 !== 0)) return;
  const v = toBig(h.lo[2 * i.rs1], h.hi[2 * i.rs1]);
  const old = csrRead(h, i.aux, i.raw);
  if (i.rs1 !== 0) csrWrite(h, i.aux, old & ~v, i.raw);
  setBig(h, i.rd, old);
};
export const csrrwi: E = (h, i) => {
  if (sstatusFast(h, i, CsrOp.Write, i.rs1, true)) return;
  const old = csrRead(h, i.aux, i.raw);
  csrWrite(h, i.aux, BigInt(i.rs1), i.raw);
  setBig(h, i.rd, old);
};
export const csrrsi: E = (h, i) => {
  if (sstatusFast(h, i, CsrOp.Set, i.rs1, i.rs1 !== 0)) return;
  const old = csrRead(h, i.aux, i.raw);
  if (i.rs1 !== 0) csrWrite(h, i.aux, old | BigInt(i.rs1), i.raw);
  setBig(h, i.rd, old);
};
export const csrrci: E = (h, i) => {
  if (sstatusFast(h, i, CsrOp.Clear, i.rs1, i.rs1 !== 0)) return;
  const old = csrRead(h, i.aux, i.raw);
  if (i.rs1 !== 0) csrWrite(h, i.aux, old & ~BigInt(i.rs1), i.raw);
  setBig(h, i.rd, old);
};

export const ecall: E = (h) => {
  if (h.priv === Priv.S && h.hypercall !== undefined) {
    h.hypercall(h);
    return;
  }
  h.raise(h.priv === Priv.U ? Cause.EcallU : h.priv === Priv.S ? Cause.EcallS : Cause.EcallM, 0, 0);
};

export const ebreak: E = (h) => {
  h.raise(Cause.Breakpoint, h.pc % 4294967296 | 0, Math.floor(h.pc / 4294967296) | 0);
};

export const mret: E = (h, i) => {
  if (h.priv !== Priv.M) h.illegal(i);
  doMret(h);
};

export const sret: E = (h, i) => {
  if (h.priv === Priv.U || (h.priv === Priv.S && (h.mstatus & MSTATUS_TSR) !== 0)) h.illegal(i);
  doSret(h);
};

/** WFI (§3.3.3): illegal in U-mode, and in S-mode when TW=1; otherwise waits unless an interrupt is pending. */
export const wfi: E = (h, i) => {
  if (h.priv === Priv.U || (h.priv === Priv.S && (h.mstatus & MSTATUS_TW) !== 0)) h.illegal(i);
  if ((h.mip & h.mie) === 0) h.waiting = true;
};

export const sfence_vma: E = (h, i) => {
  if (h.priv === Priv.U || (h.priv === Priv.S && (h.mstatus & MSTATUS_TVM) !== 0)) h.illegal(i);
  if (i.rs1 === 0) flushTranslations(h);
  else flushPage(h, h.lo[2 * i.rs1], h.hi[2 * i.rs1]);
};

/** FENCE, FENCE.TSO, PAUSE: a single hart in program order needs nothing more. */
export const fence: E = () => {};

export const fence_i: E = (h) => h.fenceI();

// ------------------------------------------------------------------ Zicbom / Zicboz

const CBLOCK = CACHE_BLOCK_BYTES;

/** Whether a CBO with enable field at `shift` in menvcfg/senvcfg may run at this privilege. */
function cboEnabled(h: Hart, shift: number, width: number): boolean {
  const mask = (1 << width) - 1;
  if (h.priv === Priv.M) return true;
  if ((Number(h.menvcfg >> BigInt(shift)) & mask) === 0) return false;
  if (h.priv === Priv.U && ((h.senvcfg >>> shift) & mask) === 0) return false;
  return true;
}

/** Cache-block address: rs1 aligned down to the block size. */
function blockAddr(h: Hart, i: Insn): void {
  r[0] = h.lo[2 * i.rs1] & ~(CBLOCK - 1);
  r[1] = h.hi[2 * i.rs1];
}

/**
 * CBO.CLEAN/FLUSH/INVAL: tsxi has no caches, so these only check that a load
 * to the block would be permitted; faults are reported as store/AMO faults.
 */
function cboManage(shift: number, width: number): E {
  return (h, i) => {
    if (!cboEnabled(h, shift, width)) h.illegal(i);
    blockAddr(h, i);
    try {
      h.load(r[0], r[1], 1);
    } catch (e) {
      if (e !== TRAP) throw e;
      if (h.trapCause === Cause.LoadPageFault) h.trapCause = Cause.StorePageFault;
      else if (h.trapCause === Cause.LoadAccessFault) h.trapCause = Cause.StoreAccessFault;
      throw e;
    }
  };
}

export const cbo_inval = cboManage(4, 2);
export const cbo_clean = cboManage(6, 1);
export const cbo_flush = cboManage(6, 1);

/** CBO.ZERO: writes zeros to the whole 64-byte block. */
export const cbo_zero: E = (h, i) => {
  if (!cboEnabled(h, 7, 1)) h.illegal(i);
  blockAddr(h, i);
  const lo = r[0];
  const hi = r[1];
  const t = h.dtlb;
  if (tlbHit(t.wTag, lo, hi)) {
    const o = (t.wOff[tlbIndex(lo)] + (lo & 4095)) >>> 2;
    h.i32.fill(0, o, o + CBLOCK / 4);
    return;
  }
  h.translateData(lo, hi, Access.Write, CBLOCK); // fault before writing anything
  for (let k = 0; k < CBLOCK; k += 8) h.store64((lo + k) | 0, hi, 0, 0);
};
