/**
 * Semantic functions of the F and D extensions (Unprivileged ISA ch. 20-21).
 *
 * Arithmetic runs the host-double fast path (fastpath.ts) when the rounding
 * mode is RNE and the operands are ordinary, and otherwise the exact BigInt
 * reference (softfloat.ts). Both accrue fflags; any write to an f register
 * or to fflags sets mstatus.FS to Dirty (Privileged ISA §3.1.6.6).
 */
import type { Exec, Insn } from "../insn.js";
import type { Hart } from "../hart.js";
import { ea } from "../exec/int.js";
import { r } from "../i64.js";
import * as SF from "./softfloat.js";
import { F32, F64, NV, RNE, RTZ, status, type Format } from "./softfloat.js";
import * as Fast from "./fastpath.js";
import {
  CANONICAL_NAN_S, dBig, sBig, sBits, sValue, setDBig, setDBits, setDValue, setSBig, setSBits, setSValue,
} from "./regs.js";

/** The effective rounding mode; a reserved one (5, 6, or dynamic with frm >= 5) is illegal (§20.2). */
function roundingMode(h: Hart, i: Insn): number {
  h.requireFp(i);
  let rm = i.aux;
  if (rm === 7) rm = h.frm;
  if (rm > 4) h.illegal(i);
  return rm;
}

/** Accrues the flags of a slow-path operation. */
function accrue(h: Hart): void {
  if (status.flags !== 0) {
    h.fflags |= status.flags;
    h.markFpDirty();
  }
}

function setInt64(h: Hart, rd: number, lo: number, hi: number): void {
  h.lo[2 * rd] = lo;
  h.hi[2 * rd] = hi;
}

function setIntBig(h: Hart, rd: number, v: bigint): void {
  setInt64(h, rd, Number(BigInt.asIntN(32, v)), Number(BigInt.asIntN(32, v >> 32n)));
}

// ------------------------------------------------------------------ loads and stores

export const flw: Exec = (h, i) => {
  h.requireFp(i);
  ea(h, i);
  setSBits(h, i.rd, h.load(r[0], r[1], 4));
};
export const fld: Exec = (h, i) => {
  h.requireFp(i);
  ea(h, i);
  h.load64(r[0], r[1]);
  setDBits(h, i.rd, h.tmpLo, h.tmpHi);
};
export const fsw: Exec = (h, i) => {
  h.requireFp(i);
  ea(h, i);
  h.store(r[0], r[1], 4, h.fw[2 * i.rs2]);
};
export const fsd: Exec = (h, i) => {
  h.requireFp(i);
  ea(h, i);
  h.store64(r[0], r[1], h.fw[2 * i.rs2], h.fw[2 * i.rs2 + 1]);
};

// ------------------------------------------------------------------ arithmetic

type Fast1 = (h: Hart, rd: number, a: number) => boolean;
type Fast2 = (h: Hart, rd: number, a: number, b: number) => boolean;
type Fast3 = (h: Hart, rd: number, a: number, b: number, c: number) => boolean;

/** Operand access per format, so each operation is written once for S and D. */
interface Width {
  F: Format;
  value(h: Hart, r: number): number;
  big(h: Hart, r: number): bigint;
  setBig(h: Hart, r: number, v: bigint): void;
}
const S: Width = { F: F32, value: sValue, big: sBig, setBig: setSBig };
const D: Width = { F: F64, value: (h, n) => h.f[n], big: dBig, setBig: setDBig };

function op2(w: Width, fast: Fast2, slow: (F: Format, a: bigint, b: bigint, rm: number) => bigint): Exec {
  return (h, i) => {
    const rm = roundingMode(h, i);
    if (rm === RNE && fast(h, i.rd, w.value(h, i.rs1), w.value(h, i.rs2))) return;
    status.flags = 0;
    w.setBig(h, i.rd, slow(w.F, w.big(h, i.rs1), w.big(h, i.rs2), rm));
    accrue(h);
  };
}

function op1(w: Width, fast: Fast1, slow: (F: Format, a: bigint, rm: number) => bigint): Exec {
  return (h, i) => {
    const rm = roundingMode(h, i);
    if (rm === RNE && fast(h, i.rd, w.value(h, i.rs1))) return;
    status.flags = 0;
    w.setBig(h, i.rd, slow(w.F, w.big(h, i.rs1), rm));
    accrue(h);
  };
}

/** Fused multiply-add family: ±(rs1 × rs2) ± rs3, rounded once (§20.6). */
function fused(w: Width, fast: Fast3, negProduct: boolean, negAddend: boolean): Exec {
  const sp = negProduct ? -1 : 1;
  const sc = negAddend ? -1 : 1;
  return (h, i) => {
    const rm = roundingMode(h, i);
    if (rm === RNE && fast(h, i.rd, sp * w.value(h, i.rs1), w.value(h, i.rs2), sc * w.value(h, i.rs3))) return;
    status.flags = 0;
    const F = w.F;
    const a = negProduct ? w.big(h, i.rs1) ^ F.signBit : w.big(h, i.rs1);
    const c = negAddend ? w.big(h, i.rs3) ^ F.signBit : w.big(h, i.rs3);
    w.setBig(h, i.rd, SF.fma(F, a, w.big(h, i.rs2), c, rm));
    accrue(h);
  };
}

export const fadd_s = op2(S, Fast.addS, SF.add);
export const fsub_s = op2(S, Fast.subS, SF.sub);
export const fmul_s = op2(S, Fast.mulS, SF.mul);
export const fdiv_s = op2(S, Fast.divS, SF.div);
export const fsqrt_s = op1(S, Fast.sqrtS, SF.sqrt);
export const fmadd_s = fused(S, Fast.fmaS, false, false);
export const fmsub_s = fused(S, Fast.fmaS, false, true);
export const fnmsub_s = fused(S, Fast.fmaS, true, false);
export const fnmadd_s = fused(S, Fast.fmaS, true, true);

export const fadd_d = op2(D, Fast.addD, SF.add);
export const fsub_d = op2(D, Fast.subD, SF.sub);
export const fmul_d = op2(D, Fast.mulD, SF.mul);
export const fdiv_d = op2(D, Fast.divD, SF.div);
export const fsqrt_d = op1(D, Fast.sqrtD, SF.sqrt);
export const fmadd_d = fused(D, Fast.fmaD, false, false);
export const fmsub_d = fused(D, Fast.fmaD, false, true);
export const fnmsub_d = fused(D, Fast.fmaD, true, false);
export const fnmadd_d = fused(D, Fast.fmaD, true, true);

// ------------------------------------------------------------------ sign injection, min/max, compare, classify

/** NaN tests on the high word of a double / the bits of a single. */
const isNanD = (lo: number, hi: number): boolean => (hi & 0x7ff00000) === 0x7ff00000 && ((hi & 0xfffff) | lo) !== 0;
const isSNanD = (lo: number, hi: number): boolean => isNanD(lo, hi) && (hi & 0x80000) === 0;
const isNanS = (b: number): boolean => (b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0;
const isSNanS = (b: number): boolean => isNanS(b) && (b & 0x400000) === 0;

function sgnjS(h: Hart, i: Insn, sign: (a: number, b: number) => number): void {
  h.requireFp(i);
  const a = sBits(h, i.rs1);
  setSBits(h, i.rd, (a & 0x7fffffff) | (sign(a, sBits(h, i.rs2)) & 0x80000000));
}
function sgnjD(h: Hart, i: Insn, sign: (a: number, b: number) => number): void {
  h.requireFp(i);
  const ahi = h.fw[2 * i.rs1 + 1];
  setDBits(h, i.rd, h.fw[2 * i.rs1], (ahi & 0x7fffffff) | (sign(ahi, h.fw[2 * i.rs2 + 1]) & 0x80000000));
}
const signJ = (_a: number, b: number): number => b;
const signN = (_a: number, b: number): number => ~b;
const signX = (a: number, b: number): number => a ^ b;

export const fsgnj_s: Exec = (h, i) => sgnjS(h, i, signJ);
export const fsgnjn_s: Exec = (h, i) => sgnjS(h, i, signN);
export const fsgnjx_s: Exec = (h, i) => sgnjS(h, i, signX);
export const fsgnj_d: Exec = (h, i) => sgnjD(h, i, signJ);
export const fsgnjn_d: Exec = (h, i) => sgnjD(h, i, signN);
export const fsgnjx_d: Exec = (h, i) => sgnjD(h, i, signX);

function raiseNV(h: Hart): void {
  h.fflags |= NV;
  h.markFpDirty();
}

/**
 * fmin/fmax (§20.7, IEEE 754-2019 minimumNumber/maximumNumber): a NaN operand
 * is ignored, two NaNs give the canonical NaN, -0 is less than +0, and a
 * signalling NaN input raises NV.
 */
function minMaxS(h: Hart, i: Insn, max: boolean): void {
  h.requireFp(i);
  const a = sBits(h, i.rs1);
  const b = sBits(h, i.rs2);
  if (isSNanS(a) || isSNanS(b)) raiseNV(h);
  const an = isNanS(a);
  const bn = isNanS(b);
  let res: number;
  if (an && bn) res = CANONICAL_NAN_S;
  else if (an) res = b;
  else if (bn) res = a;
  else {
    const x = sValue(h, i.rs1);
    const y = sValue(h, i.rs2);
    if (x === y) res = max ? a & b : a | b; // equal: only ±0 differ, in the sign bit
    else res = x < y === max ? b : a;
  }
  setSBits(h, i.rd, res);
}
function minMaxD(h: Hart, i: Insn, max: boolean): void {
  h.requireFp(i);
  const alo = h.fw[2 * i.rs1];
  const ahi = h.fw[2 * i.rs1 + 1];
  const blo = h.fw[2 * i.rs2];
  const bhi = h.fw[2 * i.rs2 + 1];
  if (isSNanD(alo, ahi) || isSNanD(blo, bhi)) raiseNV(h);
  const an = isNanD(alo, ahi);
  const bn = isNanD(blo, bhi);
  if (an && bn) setDBits(h, i.rd, 0, 0x7ff80000);
  else if (an) setDBits(h, i.rd, blo, bhi);
  else if (bn) setDBits(h, i.rd, alo, ahi);
  else {
    const x = h.f[i.rs1];
    const y = h.f[i.rs2];
    if (x === y) setDBits(h, i.rd, alo, max ? ahi & bhi : ahi | bhi);
    else if (x < y === max) setDBits(h, i.rd, blo, bhi);
    else setDBits(h, i.rd, alo, ahi);
  }
}
export const fmin_s: Exec = (h, i) => minMaxS(h, i, false);
export const fmax_s: Exec = (h, i) => minMaxS(h, i, true);
export const fmin_d: Exec = (h, i) => minMaxD(h, i, false);
export const fmax_d: Exec = (h, i) => minMaxD(h, i, true);

const enum Cmp {
  Eq,
  Lt,
  Le,
}

/** feq is a quiet comparison (NV only for signalling NaNs); flt and fle signal on any NaN (§20.8). */
function compare(h: Hart, i: Insn, nan: boolean, snan: boolean, x: number, y: number, op: Cmp): void {
  h.requireFp(i);
  if (nan) {
    if (op !== Cmp.Eq || snan) raiseNV(h);
    setInt64(h, i.rd, 0, 0);
    return;
  }
  const t = op === Cmp.Eq ? x === y : op === Cmp.Lt ? x < y : x <= y;
  setInt64(h, i.rd, t ? 1 : 0, 0);
}
function compareS(h: Hart, i: Insn, op: Cmp): void {
  const a = sBits(h, i.rs1);
  const b = sBits(h, i.rs2);
  compare(h, i, isNanS(a) || isNanS(b), isSNanS(a) || isSNanS(b), sValue(h, i.rs1), sValue(h, i.rs2), op);
}
function compareD(h: Hart, i: Insn, op: Cmp): void {
  const fw = h.fw;
  const a = 2 * i.rs1;
  const b = 2 * i.rs2;
  const nan = isNanD(fw[a], fw[a + 1]) || isNanD(fw[b], fw[b + 1]);
  const snan = isSNanD(fw[a], fw[a + 1]) || isSNanD(fw[b], fw[b + 1]);
  compare(h, i, nan, snan, h.f[i.rs1], h.f[i.rs2], op);
}
export const feq_s: Exec = (h, i) => compareS(h, i, Cmp.Eq);
export const flt_s: Exec = (h, i) => compareS(h, i, Cmp.Lt);
export const fle_s: Exec = (h, i) => compareS(h, i, Cmp.Le);
export const feq_d: Exec = (h, i) => compareD(h, i, Cmp.Eq);
export const flt_d: Exec = (h, i) => compareD(h, i, Cmp.Lt);
export const fle_d: Exec = (h, i) => compareD(h, i, Cmp.Le);

/** fclass bit (§20.9) from sign, exponent-all-ones/zero and fraction state. */
function classify(sign: boolean, expAllOnes: boolean, expZero: boolean, fracZero: boolean, quiet: boolean): number {
  if (expAllOnes) {
    if (fracZero) return sign ? 1 << 0 : 1 << 7;
    return quiet ? 1 << 9 : 1 << 8;
  }
  if (expZero) {
    if (fracZero) return sign ? 1 << 3 : 1 << 4;
    return sign ? 1 << 2 : 1 << 5;
  }
  return sign ? 1 << 1 : 1 << 6;
}
export const fclass_s: Exec = (h, i) => {
  h.requireFp(i);
  const b = sBits(h, i.rs1);
  const e = (b >>> 23) & 0xff;
  setInt64(h, i.rd, classify(b < 0, e === 0xff, e === 0, (b & 0x7fffff) === 0, (b & 0x400000) !== 0), 0);
};
export const fclass_d: Exec = (h, i) => {
  h.requireFp(i);
  const lo = h.fw[2 * i.rs1];
  const hi = h.fw[2 * i.rs1 + 1];
  const e = (hi >>> 20) & 0x7ff;
  const fracZero = ((hi & 0xfffff) | lo) === 0;
  setInt64(h, i.rd, classify(hi < 0, e === 0x7ff, e === 0, fracZero, (hi & 0x80000) !== 0), 0);
};

// ------------------------------------------------------------------ moves

/** fmv.x.w copies the raw low 32 bits (boxed or not), sign-extended (§20.10). */
export const fmv_x_w: Exec = (h, i) => {
  h.requireFp(i);
  const v = h.fw[2 * i.rs1];
  setInt64(h, i.rd, v, v >> 31);
};
export const fmv_w_x: Exec = (h, i) => {
  h.requireFp(i);
  setSBits(h, i.rd, h.lo[2 * i.rs1]);
};
export const fmv_x_d: Exec = (h, i) => {
  h.requireFp(i);
  setInt64(h, i.rd, h.fw[2 * i.rs1], h.fw[2 * i.rs1 + 1]);
};
export const fmv_d_x: Exec = (h, i) => {
  h.requireFp(i);
  setDBits(h, i.rd, h.lo[2 * i.rs1], h.hi[2 * i.rs1]);
};

// ------------------------------------------------------------------ conversions

/** fcvt.s.d: narrowing, rounded. */
export const fcvt_s_d: Exec = (h, i) => {
  const rm = roundingMode(h, i);
  const x = h.f[i.rs1];
  const v = Math.fround(x);
  const m = Math.abs(v);
  if (rm === RNE && m > 2 ** -126 && m <= 3.4028234663852886e38) {
    setSValue(h, i.rd, v);
    if (v !== x) h.fflags |= SF.NX;
    return;
  }
  status.flags = 0;
  setSBig(h, i.rd, SF.convert(F32, F64, dBig(h, i.rs1), rm));
  accrue(h);
};

/** fcvt.d.s: widening is exact; only NaNs need the slow path (canonical NaN, NV for sNaN). */
export const fcvt_d_s: Exec = (h, i) => {
  const rm = roundingMode(h, i);
  const x = sValue(h, i.rs1);
  if (x === x) {
    setDValue(h, i.rd, x);
    return;
  }
  status.flags = 0;
  setDBig(h, i.rd, SF.convert(F64, F32, sBig(h, i.rs1), rm));
  accrue(h);
};

/** Integer source of fcvt.{s,d}.{w,wu,l,lu}, as an exact double when |v| <= 2^53, else NaN. */
type IntSource = (h: Hart, r: number) => number;
type IntSourceBig = (h: Hart, r: number) => bigint;
const fromW: IntSource = (h, n) => h.lo[2 * n];
const fromWU: IntSource = (h, n) => h.lo[2 * n] >>> 0;
const fromL: IntSource = (h, n) => {
  const hi = h.hi[2 * n];
  return hi >= -0x200000 && hi < 0x200000 ? hi * 4294967296 + (h.lo[2 * n] >>> 0) : NaN;
};
const fromLU: IntSource = (h, n) => {
  const hi = h.hi[2 * n];
  return hi >= 0 && hi < 0x200000 ? hi * 4294967296 + (h.lo[2 * n] >>> 0) : NaN;
};
const bigW: IntSourceBig = (h, n) => BigInt(h.lo[2 * n]);
const bigWU: IntSourceBig = (h, n) => BigInt(h.lo[2 * n] >>> 0);
const bigL: IntSourceBig = (h, n) => (BigInt(h.hi[2 * n]) << 32n) | BigInt(h.lo[2 * n] >>> 0);
const bigLU: IntSourceBig = (h, n) => (BigInt(h.hi[2 * n] >>> 0) << 32n) | BigInt(h.lo[2 * n] >>> 0);

function intToFloat(w: Width, exactLimit: number, src: IntSource, big: IntSourceBig): Exec {
  return (h, i) => {
    const rm = roundingMode(h, i);
    const v = src(h, i.rs1);
    if (Math.abs(v) <= exactLimit) {
      if (w === S) setSValue(h, i.rd, v);
      else setDValue(h, i.rd, v);
      return;
    }
    status.flags = 0;
    w.setBig(h, i.rd, SF.fromInt(w.F, big(h, i.rs1), rm));
    accrue(h);
  };
}
export const fcvt_s_w = intToFloat(S, 2 ** 24, fromW, bigW);
export const fcvt_s_wu = intToFloat(S, 2 ** 24, fromWU, bigWU);
export const fcvt_s_l = intToFloat(S, 2 ** 24, fromL, bigL);
export const fcvt_s_lu = intToFloat(S, 2 ** 24, fromLU, bigLU);
export const fcvt_d_w = intToFloat(D, 2 ** 53, fromW, bigW);
export const fcvt_d_wu = intToFloat(D, 2 ** 53, fromWU, bigWU);
export const fcvt_d_l = intToFloat(D, 2 ** 53, fromL, bigL);
export const fcvt_d_lu = intToFloat(D, 2 ** 53, fromLU, bigLU);

/**
 * fcvt.{w,wu,l,lu}.{s,d}: the common truncating case (C casts) runs on
 * doubles; everything else, including saturation, goes through softfloat.
 * 32-bit results are sign-extended, even for wu (§20.7).
 */
function floatToInt(w: Width, width: 32 | 64, isSigned: boolean): Exec {
  const min = isSigned ? -(2 ** (width - 1)) : 0;
  const max = Math.min(isSigned ? 2 ** (width - 1) - 1 : 2 ** width - 1, 2 ** 53);
  return (h, i) => {
    const rm = roundingMode(h, i);
    if (rm === RTZ) {
      const x = w.value(h, i.rs1);
      const t = Math.trunc(x);
      if (t >= min && t <= max) {
        if (t !== x) {
          h.fflags |= SF.NX;
          h.markFpDirty();
        }
        if (width === 32) {
          const v = t | 0;
          setInt64(h, i.rd, v, v >> 31);
        } else {
          const hi = Math.floor(t / 4294967296);
          setInt64(h, i.rd, (t - hi * 4294967296) | 0, hi | 0);
        }
        return;
      }
    }
    status.flags = 0;
    const v = SF.toInt(w.F, w.big(h, i.rs1), width, isSigned, rm);
    setIntBig(h, i.rd, width === 32 ? BigInt.asIntN(32, v) : v);
    accrue(h);
  };
}
export const fcvt_w_s = floatToInt(S, 32, true);
export const fcvt_wu_s = floatToInt(S, 32, false);
export const fcvt_l_s = floatToInt(S, 64, true);
export const fcvt_lu_s = floatToInt(S, 64, false);
export const fcvt_w_d = floatToInt(D, 32, true);
export const fcvt_wu_d = floatToInt(D, 32, false);
export const fcvt_l_d = floatToInt(D, 64, true);
export const fcvt_lu_d = floatToInt(D, 64, false);
