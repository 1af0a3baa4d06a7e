/**
 * Access to the f registers as raw encodings and as host doubles.
 *
 * f[i] is stored as 64 bits (Hart.f / Hart.fw alias one buffer). A single is
 * NaN-boxed (Unprivileged ISA §21.2): its upper 32 bits are all ones, and a
 * single-precision read of a register that is not properly boxed sees the
 * canonical NaN. Values whose bits matter (NaN payloads, signalling NaNs) are
 * always moved as integers, never through a JavaScript number.
 */
import type { Hart } from "../hart.js";

export const CANONICAL_NAN_S = 0x7fc00000;

const f32 = new Float32Array(1);
const f32i = new Int32Array(f32.buffer);
const f64 = new Float64Array(1);
const f64i = new Int32Array(f64.buffer);

/** Bits of the single in f[r]: the canonical NaN when it is not NaN-boxed. */
export function sBits(h: Hart, r: number): number {
  return h.fw[2 * r + 1] === -1 ? h.fw[2 * r] : CANONICAL_NAN_S;
}

/** The single in f[r] as a double (exact; NaN for any NaN). */
export function sValue(h: Hart, r: number): number {
  f32i[0] = sBits(h, r);
  return f32[0];
}

export function setSBits(h: Hart, r: number, bits: number): void {
  h.fw[2 * r] = bits;
  h.fw[2 * r + 1] = -1;
  h.markFpDirty();
}

/** Writes a value already representable as a single (never NaN). */
export function setSValue(h: Hart, r: number, v: number): void {
  f32[0] = v;
  setSBits(h, r, f32i[0]);
}

/** Writes a double (never NaN: NaN results are written as bits). */
export function setDValue(h: Hart, r: number, v: number): void {
  h.f[r] = v;
  h.markFpDirty();
}

export function setDBits(h: Hart, r: number, lo: number, hi: number): void {
  h.fw[2 * r] = lo;
  h.fw[2 * r + 1] = hi;
  h.markFpDirty();
}

export function sBig(h: Hart, r: number): bigint {
  return BigInt(sBits(h, r) >>> 0);
}

export function dBig(h: Hart, r: number): bigint {
  return (BigInt(h.fw[2 * r + 1] >>> 0) << 32n) | BigInt(h.fw[2 * r] >>> 0);
}

export function setSBig(h: Hart, r: number, v: bigint): void {
  setSBits(h, r, Number(BigInt.asIntN(32, v)));
}

export function setDBig(h: Hart, r: number, v: bigint): void {
  setDBits(h, r, Number(BigInt.asIntN(32, v)), Number(BigInt.asIntN(32, v >> 32n)));
}

/** True when the double's encoding has its least significant bit clear. */
export function isEven(x: number): boolean {
  f64[0] = x;
  return (f64i[0] & 1) === 0;
}

/** The neighbour of x one ulp further from zero (up) or nearer to zero (down); x finite, nonzero. */
export function stepMagnitude(x: number, up: boolean): number {
  f64[0] = x;
  let lo = f64i[0];
  let hi = f64i[1];
  if (up) {
    lo = (lo + 1) | 0;
    if (lo === 0) hi = (hi + 1) | 0;
  } else {
    if (lo === 0) hi = (hi - 1) | 0;
    lo = (lo - 1) | 0;
  }
  f64i[0] = lo;
  f64i[1] = hi;
  return f64[0];
}
