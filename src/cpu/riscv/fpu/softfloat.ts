/**
 * Exact IEEE 754-2008 binary32/binary64 arithmetic on raw encodings, in
 * BigInt: the reference semantics of the F and D extensions (Unprivileged ISA
 * ch. 20-21) and the slow path behind the fast paths in fastpath.ts.
 *
 * Every operation computes its result exactly (or, for division and square
 * root, with at least p+2 significant bits plus a sticky bit) and rounds once
 * in `roundPack`, which also derives the accrued exception flags. RISC-V
 * detects tininess after rounding (§20.2, as IEEE 754 permits) and returns the
 * canonical NaN for every NaN result (§20.3).
 */

/** fflags bits (Unprivileged ISA §20.2, table "Accrued exception flag encoding"). */
export const NX = 1;
export const UF = 2;
export const OF = 4;
export const DZ = 8;
export const NV = 16;

/** Rounding modes (table "Rounding mode encoding"). */
export const RNE = 0;
export const RTZ = 1;
export const RDN = 2;
export const RUP = 3;
export const RMM = 4;

/** An IEEE binary interchange format: precision p (with hidden bit) and exponent range. */
export class Format {
  readonly width: number;
  readonly p: number;
  readonly emax: number;
  readonly emin: number;
  readonly hidden: bigint;
  readonly fracMask: bigint;
  readonly expMask: number;
  readonly signBit: bigint;
  readonly canonicalNaN: bigint;
  readonly infBits: bigint;
  readonly maxFinite: bigint;

  constructor(width: number, p: number) {
    this.width = width;
    this.p = p;
    const expBits = width - p;
    this.emax = (1 << (expBits - 1)) - 1;
    this.emin = 1 - this.emax;
    this.hidden = 1n << BigInt(p - 1);
    this.fracMask = this.hidden - 1n;
    this.expMask = (1 << expBits) - 1;
    this.signBit = 1n << BigInt(width - 1);
    this.infBits = BigInt(this.expMask) << BigInt(p - 1);
    this.canonicalNaN = this.infBits | (1n << BigInt(p - 2));
    this.maxFinite = this.infBits - 1n;
  }
}

export const F32 = new Format(32, 24);
export const F64 = new Format(64, 53);

/** Flags raised by the last operation(s); callers clear and read it. */
export const status = { flags: 0 };

const enum Kind {
  Zero,
  Finite,
  Inf,
  QNaN,
  SNaN,
}

/** A decoded operand: value = (-1)^sign * m * 2^e for Zero/Finite. */
interface Unpacked {
  kind: Kind;
  sign: number;
  m: bigint;
  e: number;
}

function unpack(F: Format, bits: bigint): Unpacked {
  const sign = (bits & F.signBit) !== 0n ? 1 : 0;
  const bexp = Number((bits >> BigInt(F.p - 1)) & BigInt(F.expMask));
  const frac = bits & F.fracMask;
  if (bexp === F.expMask) {
    if (frac === 0n) return { kind: Kind.Inf, sign, m: 0n, e: 0 };
    return { kind: (frac >> BigInt(F.p - 2)) !== 0n ? Kind.QNaN : Kind.SNaN, sign, m: 0n, e: 0 };
  }
  if (bexp === 0) {
    if (frac === 0n) return { kind: Kind.Zero, sign, m: 0n, e: 0 };
    return { kind: Kind.Finite, sign, m: frac, e: F.emin - (F.p - 1) };
  }
  return { kind: Kind.Finite, sign, m: frac | F.hidden, e: bexp - F.emax - (F.p - 1) };
}

const isNaN = (u: Unpacked): boolean => u.kind >= Kind.QNaN;

function signed(F: Format, sign: number, magnitude: bigint): bigint {
  return sign !== 0 ? magnitude | F.signBit : magnitude;
}

/** The canonical NaN, raising NV if any operand is a signalling NaN. */
function nanResult(F: Format, ...ops: Unpacked[]): bigint {
  if (ops.some((u) => u.kind === Kind.SNaN)) status.flags |= NV;
  return F.canonicalNaN;
}

function invalid(F: Format): bigint {
  status.flags |= NV;
  return F.canonicalNaN;
}

export function bitLength(m: bigint): number {
  return m === 0n ? 0 : m.toString(2).length;
}

/**
 * Rounds m * 2^e (plus a sticky fraction below 2^e) to a multiple of 2^q.
 * Returns the rounded multiplier; sets `lastInexact`.
 */
let lastInexact = false;
function roundAt(m: bigint, e: number, q: number, sticky: boolean, sign: number, rm: number): bigint {
  const shift = q - e;
  if (shift <= 0) {
    // Exact at this quantum apart from the sticky part, which callers keep below a quarter ulp.
    lastInexact = sticky;
    const mm = m << BigInt(-shift);
    if (sticky && ((rm === RDN && sign !== 0) || (rm === RUP && sign === 0))) return mm + 1n;
    return mm;
  }
  const s = BigInt(shift);
  const rem = m & ((1n << s) - 1n);
  const half = 1n << (s - 1n);
  let mm = m >> s;
  const inexact = rem !== 0n || sticky;
  lastInexact = inexact;
  let up: boolean;
  switch (rm) {
    case RNE: up = rem > half || (rem === half && (sticky || (mm & 1n) === 1n)); break;
    case RTZ: up = false; break;
    case RDN: up = inexact && sign !== 0; break;
    case RUP: up = inexact && sign === 0; break;
    default: up = rem >= half; break; // RMM: ties away from zero
  }
  if (up) mm += 1n;
  return mm;
}

function overflowResult(F: Format, sign: number, rm: number): bigint {
  status.flags |= OF | NX;
  const toInf = rm === RNE || rm === RMM || (rm === RDN && sign !== 0) || (rm === RUP && sign === 0);
  return signed(F, sign, toInf ? F.infBits : F.maxFinite);
}

/**
 * Rounds (-1)^sign * (m + sticky) * 2^e to format F. When `sticky` is set, m
 * must have at least p+2 significant bits so the sticky part stays below a
 * quarter of the final ulp.
 */
export function roundPack(F: Format, sign: number, m: bigint, e: number, sticky: boolean, rm: number): bigint {
  if (m === 0n) return signed(F, sign, 0n);
  const E = e + bitLength(m) - 1; // exponent of the leading bit
  let q = Math.max(E, F.emin) - (F.p - 1);
  let mm = roundAt(m, e, q, sticky, sign, rm);
  const inexact = lastInexact;
  if (mm === F.hidden << 1n) {
    mm >>= 1n;
    q += 1;
  }
  if (q + F.p - 1 > F.emax) return overflowResult(F, sign, rm);
  if (inexact) {
    status.flags |= NX;
    if (E < F.emin) {
      // Tininess after rounding: would the result, rounded with an unbounded exponent, be below 2^emin?
      let tiny = true;
      if (E === F.emin - 1) tiny = roundAt(m, e, E - (F.p - 1), sticky, sign, rm) < F.hidden << 1n;
      if (tiny) status.flags |= UF;
    }
  }
  if (mm >= F.hidden) {
    const biased = BigInt(q + F.p - 1 + F.emax);
    return signed(F, sign, (biased << BigInt(F.p - 1)) | (mm & F.fracMask));
  }
  return signed(F, sign, mm);
}

/** Exact (-1)^sa*ma*2^ea + (-1)^sb*mb*2^eb, rounded; zero results follow §6.3 of IEEE 754. */
function addExact(F: Format, sa: number, ma: bigint, ea: number, sb: number, mb: bigint, eb: number, rm: number): bigint {
  if (ma === 0n && mb === 0n) return signed(F, sa === sb ? sa : rm === RDN ? 1 : 0, 0n);
  if (ma === 0n) ea = eb;
  if (mb === 0n) eb = ea;
  const e = Math.min(ea, eb);
  const a = (sa !== 0 ? -ma : ma) << BigInt(ea - e);
  const b = (sb !== 0 ? -mb : mb) << BigInt(eb - e);
  const s = a + b;
  if (s === 0n) return signed(F, rm === RDN ? 1 : 0, 0n);
  return s < 0n ? roundPack(F, 1, -s, e, false, rm) : roundPack(F, 0, s, e, false, rm);
}

export function add(F: Format, a: bigint, b: bigint, rm: number): bigint {
  const x = unpack(F, a);
  const y = unpack(F, b);
  if (isNaN(x) || isNaN(y)) return nanResult(F, x, y);
  if (x.kind === Kind.Inf) return y.kind === Kind.Inf && y.sign !== x.sign ? invalid(F) : a;
  if (y.kind === Kind.Inf) return b;
  return addExact(F, x.sign, x.m, x.e, y.sign, y.m, y.e, rm);
}

export function sub(F: Format, a: bigint, b: bigint, rm: number): bigint {
  return add(F, a, b ^ F.signBit, rm);
}

export function mul(F: Format, a: bigint, b: bigint, rm: number): bigint {
  const x = unpack(F, a);
  const y = unpack(F, b);
  if (isNaN(x) || isNaN(y)) return nanResult(F, x, y);
  const sign = x.sign ^ y.sign;
  if (x.kind === Kind.Inf || y.kind === Kind.Inf) {
    if (x.kind === Kind.Zero || y.kind === Kind.Zero) return invalid(F);
    return signed(F, sign, F.infBits);
  }
  return roundPack(F, sign, x.m * y.m, x.e + y.e, false, rm);
}

/** a*b + c rounded once (the caller flips sign bits for fmsub/fnmsub/fnmadd). */
export function fma(F: Format, a: bigint, b: bigint, c: bigint, rm: number): bigint {
  const x = unpack(F, a);
  const y = unpack(F, b);
  const z = unpack(F, c);
  // §20.6: invalid for ∞ × 0 even when the addend is a quiet NaN.
  const infTimesZero =
    (x.kind === Kind.Inf && y.kind === Kind.Zero) || (x.kind === Kind.Zero && y.kind === Kind.Inf);
  if (isNaN(x) || isNaN(y) || isNaN(z)) {
    if (infTimesZero) status.flags |= NV;
    return nanResult(F, x, y, z);
  }
  if (infTimesZero) return invalid(F);
  const sp = x.sign ^ y.sign;
  if (x.kind === Kind.Inf || y.kind === Kind.Inf) {
    if (z.kind === Kind.Inf && z.sign !== sp) return invalid(F);
    return signed(F, sp, F.infBits);
  }
  if (z.kind === Kind.Inf) return c;
  return addExact(F, sp, x.m * y.m, x.e + y.e, z.sign, z.m, z.e, rm);
}

export function div(F: Format, a: bigint, b: bigint, rm: number): bigint {
  const x = unpack(F, a);
  const y = unpack(F, b);
  if (isNaN(x) || isNaN(y)) return nanResult(F, x, y);
  const sign = x.sign ^ y.sign;
  if (x.kind === Kind.Inf) return y.kind === Kind.Inf ? invalid(F) : signed(F, sign, F.infBits);
  if (y.kind === Kind.Inf) return signed(F, sign, 0n);
  if (y.kind === Kind.Zero) {
    if (x.kind === Kind.Zero) return invalid(F);
    status.flags |= DZ;
    return signed(F, sign, F.infBits);
  }
  if (x.kind === Kind.Zero) return signed(F, sign, 0n);
  const k = Math.max(0, F.p + 3 + bitLength(y.m) - bitLength(x.m));
  const n = x.m << BigInt(k);
  const q = n / y.m;
  return roundPack(F, sign, q, x.e - y.e - k, q * y.m !== n, rm);
}

/** Integer square root (floor) by Newton's method. */
function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt((bitLength(n) + 1) >> 1);
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

export function sqrt(F: Format, a: bigint, rm: number): bigint {
  const x = unpack(F, a);
  if (isNaN(x)) return nanResult(F, x);
  if (x.kind === Kind.Zero) return a;
  if (x.sign !== 0) return invalid(F);
  if (x.kind === Kind.Inf) return a;
  let s = Math.max(0, 2 * (F.p + 3) - bitLength(x.m));
  if (((x.e - s) & 1) !== 0) s += 1;
  const n = x.m << BigInt(s);
  const root = isqrt(n);
  return roundPack(F, 0, root, (x.e - s) / 2, root * root !== n, rm);
}

/** Conversion between formats (fcvt.s.d, fcvt.d.s). */
export function convert(to: Format, from: Format, a: bigint, rm: number): bigint {
  const x = unpack(from, a);
  if (isNaN(x)) return nanResult(to, x);
  if (x.kind === Kind.Inf) return signed(to, x.sign, to.infBits);
  if (x.kind === Kind.Zero) return signed(to, x.sign, 0n);
  return roundPack(to, x.sign, x.m, x.e, false, rm);
}

/** Integer (any size, already signed or unsigned as intended) to float. */
export function fromInt(F: Format, v: bigint, rm: number): bigint {
  if (v === 0n) return 0n;
  return v < 0n ? roundPack(F, 1, -v, 0, false, rm) : roundPack(F, 0, v, 0, false, rm);
}

/**
 * Float to integer of `width` bits (32 or 64), signed or unsigned, with the
 * saturation of §20.7 table "Domains of float-to-integer conversions":
 * NaN and +∞ give the maximum, -∞ the minimum, out-of-range values saturate
 * and raise NV (not NX). The result is returned as the integer value.
 */
export function toInt(F: Format, a: bigint, width: number, isSigned: boolean, rm: number): bigint {
  const x = unpack(F, a);
  const max = isSigned ? (1n << BigInt(width - 1)) - 1n : (1n << BigInt(width)) - 1n;
  const min = isSigned ? -(1n << BigInt(width - 1)) : 0n;
  if (isNaN(x)) {
    status.flags |= NV;
    return max;
  }
  if (x.kind === Kind.Inf) {
    status.flags |= NV;
    return x.sign !== 0 ? min : max;
  }
  let v: bigint;
  let inexact = false;
  if (x.kind === Kind.Zero) v = 0n;
  else if (x.e >= 0) v = x.m << BigInt(x.e);
  else {
    v = roundAt(x.m, x.e, 0, false, x.sign, rm);
    inexact = lastInexact;
  }
  if (x.sign !== 0) v = -v;
  if (v > max || v < min) {
    status.flags |= NV;
    return v < min ? min : max;
  }
  if (inexact) status.flags |= NX;
  return v;
}

/** True for a signalling NaN encoding (used by comparisons, which round nothing). */
export function isSignalling(F: Format, bits: bigint): boolean {
  return unpack(F, bits).kind === Kind.SNaN;
}
