/**
 * The A extension (Unprivileged ISA ch. 8, 9): LR/SC and AMOs. Every access is
 * performed with Atomics on the shared guest-memory buffer, so harts on
 * different worker threads see them as indivisible. SC succeeds only when the
 * reservation is held and the word still holds the value LR read
 * (compare-and-swap), which also catches writes by other harts.
 */
import type { Hart } from "../hart.js";
import type { Insn } from "../insn.js";
import { Access, Cause } from "../trap.js";
import { tlbHit, tlbIndex } from "../tlb.js";

type E = (h: Hart, i: Insn) => void;

/**
 * The physical address amoTarget leaves for noteWrite, or -1 when a write-TLB
 * hit says the page needs no note (tlb.ts fills write entries only for such
 * pages). A number, not an int32 scratch: RAM's addresses reach 2^31 and beyond.
 */
let notePa = -1;

/**
 * Checks alignment, translates for `access` (the data TLB first), and returns
 * the machine index (int32 units) of the word; sets notePa.
 */
function amoTarget(h: Hart, i: Insn, size: number, access: Access): number {
  const lo = h.lo[2 * i.rs1];
  const hi = h.hi[2 * i.rs1];
  if ((lo & (size - 1)) !== 0) h.raise(access === Access.Read ? Cause.LoadMisaligned : Cause.StoreMisaligned, lo, hi);
  const t = h.dtlb;
  const idx = tlbIndex(lo);
  if (tlbHit(access === Access.Write ? t.wTag : t.rTag, lo, hi)) {
    notePa = -1;
    return ((access === Access.Write ? t.wOff[idx] : t.rOff[idx]) + (lo & 4095)) >>> 2;
  }
  const pa = h.translateData(lo, hi, access, size);
  const off = h.mem.machinePageOffset(pa - (pa & 4095));
  // AMOs and LR/SC are supported on RAM only (device regions lack the atomic PMA).
  if (off < 0) h.raise(access === Access.Read ? Cause.LoadAccessFault : Cause.StoreAccessFault, lo, hi);
  notePa = pa;
  return (off + (pa & 4095)) >>> 2;
}

/** Notes an AMO's write for code and dirty tracking unless its page needs none (notePa = -1). */
function noteWrite(h: Hart, size: number): void {
  if (notePa >= 0) h.mem.noteWrite(notePa, size);
}

let i64view: BigInt64Array | undefined;
function big64(h: Hart): BigInt64Array {
  if (i64view === undefined || i64view.buffer !== h.i32.buffer) i64view = new BigInt64Array(h.i32.buffer);
  return i64view;
}

function setBig(h: Hart, rd: number, v: bigint): void {
  h.lo[2 * rd] = Number(BigInt.asIntN(32, v));
  h.hi[2 * rd] = Number(BigInt.asIntN(32, v >> 32n));
}

function rs2Big(h: Hart, i: Insn): bigint {
  return BigInt.asIntN(64, (BigInt(h.hi[2 * i.rs2]) << 32n) | BigInt(h.lo[2 * i.rs2] >>> 0));
}

export const lr_w: E = (h, i) => {
  const w = amoTarget(h, i, 4, Access.Read);
  const v = Atomics.load(h.i32, w);
  h.reservation = w;
  h.reservationValue = BigInt(v);
  h.lo[2 * i.rd] = v;
  h.hi[2 * i.rd] = v >> 31;
};

export const lr_d: E = (h, i) => {
  const w = amoTarget(h, i, 8, Access.Read);
  const v = Atomics.load(big64(h), w >>> 1);
  h.reservation = w;
  h.reservationValue = v;
  setBig(h, i.rd, v);
};

export const sc_w: E = (h, i) => {
  const w = amoTarget(h, i, 4, Access.Write);
  const held = h.reservation === w;
  h.reservation = -1;
  const expect = Number(h.reservationValue);
  const ok = held && Atomics.compareExchange(h.i32, w, expect, h.lo[2 * i.rs2]) === expect;
  if (ok) noteWrite(h, 4);
  h.lo[2 * i.rd] = ok ? 0 : 1;
  h.hi[2 * i.rd] = 0;
};

export const sc_d: E = (h, i) => {
  const w = amoTarget(h, i, 8, Access.Write);
  const held = h.reservation === w;
  h.reservation = -1;
  const expect = h.reservationValue;
  const ok = held && Atomics.compareExchange(big64(h), w >>> 1, expect, rs2Big(h, i)) === expect;
  if (ok) noteWrite(h, 8);
  h.lo[2 * i.rd] = ok ? 0 : 1;
  h.hi[2 * i.rd] = 0;
};

type Op32 = (old: number, v: number) => number;
type Op64 = (old: bigint, v: bigint) => bigint;

function amo32(op: Op32): E {
  return (h, i) => {
    const w = amoTarget(h, i, 4, Access.Write);
    const v = h.lo[2 * i.rs2];
    let old: number;
    do old = Atomics.load(h.i32, w);
    while (Atomics.compareExchange(h.i32, w, old, op(old, v)) !== old);
    noteWrite(h, 4);
    h.lo[2 * i.rd] = old;
    h.hi[2 * i.rd] = old >> 31;
  };
}

function amo64(op: Op64): E {
  return (h, i) => {
    const w = amoTarget(h, i, 8, Access.Write) >>> 1;
    const a = big64(h);
    const v = rs2Big(h, i);
    let old: bigint;
    do old = Atomics.load(a, w);
    while (Atomics.compareExchange(a, w, old, BigInt.asIntN(64, op(old, v))) !== old);
    noteWrite(h, 8);
    setBig(h, i.rd, old);
  };
}

const U64 = (x: bigint): bigint => BigInt.asUintN(64, x);

export const amoswap_w = amo32((_o, v) => v);
export const amoadd_w = amo32((o, v) => (o + v) | 0);
export const amoxor_w = amo32((o, v) => o ^ v);
export const amoand_w = amo32((o, v) => o & v);
export const amoor_w = amo32((o, v) => o | v);
export const amomin_w = amo32((o, v) => (o < v ? o : v));
export const amomax_w = amo32((o, v) => (o > v ? o : v));
export const amominu_w = amo32((o, v) => (o >>> 0 < v >>> 0 ? o : v));
export const amomaxu_w = amo32((o, v) => (o >>> 0 > v >>> 0 ? o : v));
export const amoswap_d = amo64((_o, v) => v);
export const amoadd_d = amo64((o, v) => o + v);
export const amoxor_d = amo64((o, v) => o ^ v);
export const amoand_d = amo64((o, v) => o & v);
export const amoor_d = amo64((o, v) => o | v);
export const amomin_d = amo64((o, v) => (o < v ? o : v));
export const amomax_d = amo64((o, v) => (o > v ? o : v));
export const amominu_d = amo64((o, v) => (U64(o) < U64(v) ? o : v));
export const amomaxu_d = amo64((o, v) => (U64(o) > U64(v) ? o : v));
