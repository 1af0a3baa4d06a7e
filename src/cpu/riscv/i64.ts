/**
 * 64-bit integer helpers over int32 halves (lo, hi). Results of two-word
 * operations are left in `r` (r[0] = lo, r[1] = hi) to avoid allocation.
 */
export const r = new Int32Array(2);

export const TWO32 = 4294967296;

/** High 32 bits of the unsigned product of two uint32 values (Hacker's Delight 8-2). */
export function mulhu32(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const t = a1 * b0 + ((a0 * b0) >>> 16);
  const w1 = (t & 0xffff) + a0 * b1;
  return (a1 * b1 + (t >>> 16) + (w1 >>> 16)) | 0;
}

/** Low 64 bits of a 64x64 product. */
export function mul64(alo: number, ahi: number, blo: number, bhi: number): void {
  r[0] = Math.imul(alo, blo);
  r[1] = (mulhu32(alo >>> 0, blo >>> 0) + Math.imul(alo, bhi) + Math.imul(ahi, blo)) | 0;
}

export function toBig(lo: number, hi: number): bigint {
  return (BigInt(hi) << 32n) | BigInt(lo >>> 0);
}

export function toBigU(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** Stores the low 64 bits of a BigInt into r. */
export function fromBig(v: bigint): void {
  r[0] = Number(BigInt.asIntN(32, v));
  r[1] = Number(BigInt.asIntN(32, v >> 32n));
}

/** Splits a double holding an exact signed 64-bit integer (a pc) into r. */
export function fromNum(n: number): void {
  r[0] = n % TWO32 | 0;
  r[1] = Math.floor(n / TWO32) | 0;
}

/** The signed 64-bit value (hi:lo) as an exact double when it is within +-2^53 (addresses, pcs). */
export function toNum(lo: number, hi: number): number {
  return hi * TWO32 + (lo >>> 0);
}

export function sll64(lo: number, hi: number, sh: number): void {
  if (sh === 0) {
    r[0] = lo;
    r[1] = hi;
  } else if (sh < 32) {
    r[1] = (hi << sh) | (lo >>> (32 - sh));
    r[0] = lo << sh;
  } else {
    r[1] = lo << (sh - 32);
    r[0] = 0;
  }
}

export function srl64(lo: number, hi: number, sh: number): void {
  if (sh === 0) {
    r[0] = lo;
    r[1] = hi;
  } else if (sh < 32) {
    r[0] = (lo >>> sh) | (hi << (32 - sh));
    r[1] = hi >>> sh;
  } else {
    r[0] = hi >>> (sh - 32);
    r[1] = 0;
  }
}

export function sra64(lo: number, hi: number, sh: number): void {
  if (sh === 0) {
    r[0] = lo;
    r[1] = hi;
  } else if (sh < 32) {
    r[0] = (lo >>> sh) | (hi << (32 - sh));
    r[1] = hi >> sh;
  } else {
    r[0] = hi >> (sh - 32);
    r[1] = hi >> 31;
  }
}

export function lt64(alo: number, ahi: number, blo: number, bhi: number): boolean {
  return ahi < bhi || (ahi === bhi && alo >>> 0 < blo >>> 0);
}

export function ltu64(alo: number, ahi: number, blo: number, bhi: number): boolean {
  return ahi >>> 0 < bhi >>> 0 || (ahi === bhi && alo >>> 0 < blo >>> 0);
}

/** Population count of a 32-bit value. */
export function popcount32(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** Count trailing zeros of a 32-bit value (32 for zero). */
export function ctz32(x: number): number {
  return x === 0 ? 32 : 31 - Math.clz32(x & -x);
}
