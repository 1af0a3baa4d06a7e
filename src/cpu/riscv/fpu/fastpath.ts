/**
 * Round-to-nearest-even fast paths on host doubles, with exact fflags.
 *
 * The host rounds every double operation to nearest-even, which is RISC-V's
 * RNE. What the host does not give is the inexact flag, so each fast path
 * derives it from an error-free transformation (TwoSum, Dekker's TwoProduct)
 * that is exact only when nothing over- or underflows; the magnitude guards
 * below keep every path inside that domain, and anything outside it (zeros,
 * subnormals, infinities, NaNs, huge values, other rounding modes) returns
 * false so the caller takes the exact BigInt path in softfloat.ts.
 *
 * Singles are computed in double and rounded once more with Math.fround:
 * for +, -, ×, ÷ and √ that double rounding is innocuous because 53 >= 2·24+2
 * (Figueroa, "When is double rounding innocuous?", 1995). Fused multiply-add
 * uses round-to-odd for the intermediate sum (Boldo & Melquiond, "Emulation
 * of FMA and correctly-rounded sums: proved algorithms using rounding to
 * odd", IEEE TC 2008), which makes the final rounding correct.
 *
 * Each function writes f[rd] and accrues NX itself and returns true, or
 * returns false having changed nothing.
 */
import type { Hart } from "../hart.js";
import { NX } from "./softfloat.js";
import { isEven, setDValue, setSValue, stepMagnitude } from "./regs.js";

const SPLIT = 134217729; // 2^27 + 1, Veltkamp's splitter for binary64
const TINY = 2 ** -900;
const HUGE = 2 ** 995;
const BIG = 2 ** 1020;
const MIN_NORMAL_D = 2 ** -1022;
const MIN_NORMAL_S = 2 ** -126;
const MAX_S = 3.4028234663852886e38;

/** Error of s = fl(a + b): a + b = s + err exactly (Knuth's TwoSum). */
function sumErr(a: number, b: number, s: number): number {
  const bb = s - a;
  return a - (s - bb) + (b - bb);
}

/** Error of p = fl(a × b) (Dekker's TwoProduct); exact when |p| >= 2^-969 and |a|, |b| < 2^995. */
function prodErr(a: number, b: number, p: number): number {
  let t = SPLIT * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLIT * b;
  const bh = t - (t - b);
  const bl = b - bh;
  return ah * bh - p + ah * bl + al * bh + al * bl;
}

/**
 * Result magnitude above the smallest normal: a result that rounded up to
 * exactly 2^emin may still be tiny (tininess is detected after rounding with
 * an unbounded exponent), so it takes the exact path.
 */
function okD(r: number): boolean {
  const m = Math.abs(r);
  return m > MIN_NORMAL_D && m <= Number.MAX_VALUE;
}

function okS(r: number): boolean {
  const m = Math.abs(r);
  return m > MIN_NORMAL_S && m <= MAX_S;
}

function done(h: Hart, inexact: boolean): true {
  if (inexact) h.fflags |= NX;
  return true;
}

export function addD(h: Hart, rd: number, a: number, b: number): boolean {
  const r = a + b;
  if (!okD(r)) return false;
  setDValue(h, rd, r);
  return done(h, sumErr(a, b, r) !== 0);
}

export function subD(h: Hart, rd: number, a: number, b: number): boolean {
  return addD(h, rd, a, -b);
}

export function mulD(h: Hart, rd: number, a: number, b: number): boolean {
  const r = a * b;
  const m = Math.abs(r);
  if (!(m >= TINY && m <= BIG && Math.abs(a) < HUGE && Math.abs(b) < HUGE)) return false;
  setDValue(h, rd, r);
  return done(h, prodErr(a, b, r) !== 0);
}

export function divD(h: Hart, rd: number, a: number, b: number): boolean {
  const q = a / b;
  const m = Math.abs(q);
  if (!(m >= TINY && m < HUGE && Math.abs(a) >= TINY && Math.abs(b) < HUGE)) return false;
  // q is exact iff q × b == a exactly.
  const p = q * b;
  setDValue(h, rd, q);
  return done(h, p !== a || prodErr(q, b, p) !== 0);
}

export function sqrtD(h: Hart, rd: number, a: number): boolean {
  if (!(a >= TINY && a <= BIG)) return false;
  const q = Math.sqrt(a);
  const p = q * q;
  setDValue(h, rd, q);
  return done(h, p !== a || prodErr(q, q, p) !== 0);
}

/** Round-to-odd of s = fl(x + y) given its error: the odd neighbour when inexact. */
function toOdd(s: number, err: number): number {
  if (err === 0 || !isEven(s)) return s;
  return stepMagnitude(s, err > 0 === s > 0);
}

export function fmaD(h: Hart, rd: number, a: number, b: number, c: number): boolean {
  const p = a * b;
  const mp = Math.abs(p);
  const mc = Math.abs(c);
  if (!(mp >= TINY && mp <= BIG && mc >= TINY && mc <= BIG && Math.abs(a) < HUGE && Math.abs(b) < HUGE)) return false;
  const pl = prodErr(a, b, p);
  const th = c + p;
  const tl = sumErr(c, p, th);
  const v0 = tl + pl;
  const e0 = sumErr(tl, pl, v0);
  const v = toOdd(v0, e0);
  const r = th + v;
  const mr = Math.abs(r);
  if (!(mr >= TINY && mr <= BIG)) return false;
  setDValue(h, rd, r);
  return done(h, e0 !== 0 || sumErr(th, v, r) !== 0);
}

export function addS(h: Hart, rd: number, a: number, b: number): boolean {
  const d = a + b;
  const r = Math.fround(d);
  if (!okS(r)) return false;
  setSValue(h, rd, r);
  return done(h, r !== d || sumErr(a, b, d) !== 0);
}

export function subS(h: Hart, rd: number, a: number, b: number): boolean {
  return addS(h, rd, a, -b);
}

export function mulS(h: Hart, rd: number, a: number, b: number): boolean {
  const d = a * b; // exact: 24 + 24 significant bits
  const r = Math.fround(d);
  if (!okS(r)) return false;
  setSValue(h, rd, r);
  return done(h, r !== d);
}

export function divS(h: Hart, rd: number, a: number, b: number): boolean {
  const r = Math.fround(a / b);
  if (!okS(r)) return false;
  setSValue(h, rd, r);
  return done(h, r * b !== a); // r × b is exact in double
}

export function sqrtS(h: Hart, rd: number, a: number): boolean {
  if (!(a > 0 && a <= MAX_S)) return false;
  const r = Math.fround(Math.sqrt(a));
  setSValue(h, rd, r);
  return done(h, r * r !== a);
}

export function fmaS(h: Hart, rd: number, a: number, b: number, c: number): boolean {
  const p = a * b; // exact
  const d = p + c;
  const e = sumErr(p, c, d);
  const v = toOdd(d, e);
  const r = Math.fround(v);
  if (!okS(r)) return false;
  setSValue(h, rd, r);
  return done(h, e !== 0 || r !== v);
}
