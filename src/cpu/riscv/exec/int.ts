/**
 * Semantics of RV64I, M, Zba, Zbb, Zbs and Zicond (Unprivileged ISA ch. 2, 4,
 * 13, 28, 29). Each function reads its operands from the hart's int32 halves
 * and writes rd (index 32 when rd is x0).
 */
import type { Hart } from "../hart.js";
import type { Insn } from "../insn.js";
import {
  r,
  mul64,

  toBig,
  toBigU,
  fromBig,
  fromNum,
  toNum,
  sll64,
  srl64,
  sra64,
  lt64,
  ltu64,
  popcount32,
  ctz32,
} from "../i64.js";

type E = (h: Hart, i: Insn) => void;

function set64(h: Hart, rd: number, lo: number, hi: number): void {
  h.lo[2 * rd] = lo;
  h.hi[2 * rd] = hi;
}

/** Writes a 32-bit result sign-extended to 64 bits (the *W instructions). */
function setW(h: Hart, rd: number, v: number): void {
  h.lo[2 * rd] = v;
  h.hi[2 * rd] = v >> 31;
}

// ------------------------------------------------------------------ upper immediates, jumps

export const lui: E = (h, i) => setW(h, i.rd, i.imm);

export const auipc: E = (h, i) => {
  fromNum(h.pc + i.imm);
  set64(h, i.rd, r[0], r[1]);
};

export const jal: E = (h, i) => {
  fromNum(h.pc + i.len);
  set64(h, i.rd, r[0], r[1]);
  h.npc = h.pc + i.imm;
};

export const jalr: E = (h, i) => {
  const blo = h.lo[2 * i.rs1];
  const alo = (blo + i.imm) | 0;
  const ahi = (h.hi[2 * i.rs1] + (i.imm >> 31) + (alo >>> 0 < blo >>> 0 ? 1 : 0)) | 0;
  fromNum(h.pc + i.len);
  set64(h, i.rd, r[0], r[1]);
  h.npc = toNum(alo & ~1, ahi);
};

// ------------------------------------------------------------------ branches

export const beq: E = (h, i) => {
  if (h.lo[2 * i.rs1] === h.lo[2 * i.rs2] && h.hi[2 * i.rs1] === h.hi[2 * i.rs2]) h.npc = h.pc + i.imm;
};
export const bne: E = (h, i) => {
  if (h.lo[2 * i.rs1] !== h.lo[2 * i.rs2] || h.hi[2 * i.rs1] !== h.hi[2 * i.rs2]) h.npc = h.pc + i.imm;
};
export const blt: E = (h, i) => {
  if (lt64(h.lo[2 * i.rs1], h.hi[2 * i.rs1], h.lo[2 * i.rs2], h.hi[2 * i.rs2])) h.npc = h.pc + i.imm;
};
export const bge: E = (h, i) => {
  if (!lt64(h.lo[2 * i.rs1], h.hi[2 * i.rs1], h.lo[2 * i.rs2], h.hi[2 * i.rs2])) h.npc = h.pc + i.imm;
};
export const bltu: E = (h, i) => {
  if (ltu64(h.lo[2 * i.rs1], h.hi[2 * i.rs1], h.lo[2 * i.rs2], h.hi[2 * i.rs2])) h.npc = h.pc + i.imm;
};
export const bgeu: E = (h, i) => {
  if (!ltu64(h.lo[2 * i.rs1], h.hi[2 * i.rs1], h.lo[2 * i.rs2], h.hi[2 * i.rs2])) h.npc = h.pc + i.imm;
};

// ------------------------------------------------------------------ loads and stores

/** Effective address rs1 + imm, left in r. */
export function ea(h: Hart, i: Insn): void {
  const blo = h.lo[2 * i.rs1];
  const alo = (blo + i.imm) | 0;
  r[0] = alo;
  r[1] = (h.hi[2 * i.rs1] + (i.imm >> 31) + (alo >>> 0 < blo >>> 0 ? 1 : 0)) | 0;
}

export const lb: E = (h, i) => {
  ea(h, i);
  setW(h, i.rd, (h.load(r[0], r[1], 1) << 24) >> 24);
};
export const lh: E = (h, i) => {
  ea(h, i);
  setW(h, i.rd, (h.load(r[0], r[1], 2) << 16) >> 16);
};
export const lw: E = (h, i) => {
  ea(h, i);
  setW(h, i.rd, h.load(r[0], r[1], 4));
};
export const lbu: E = (h, i) => {
  ea(h, i);
  set64(h, i.rd, h.load(r[0], r[1], 1), 0);
};
export const lhu: E = (h, i) => {
  ea(h, i);
  set64(h, i.rd, h.load(r[0], r[1], 2), 0);
};
export const lwu: E = (h, i) => {
  ea(h, i);
  set64(h, i.rd, h.load(r[0], r[1], 4), 0);
};
export const ld: E = (h, i) => {
  ea(h, i);
  h.load64(r[0], r[1]);
  set64(h, i.rd, h.tmpLo, h.tmpHi);
};
export const sb: E = (h, i) => {
  ea(h, i);
  h.store(r[0], r[1], 1, h.lo[2 * i.rs2] & 0xff);
};
export const sh: E = (h, i) => {
  ea(h, i);
  h.store(r[0], r[1], 2, h.lo[2 * i.rs2] & 0xffff);
};
export const sw: E = (h, i) => {
  ea(h, i);
  h.store(r[0], r[1], 4, h.lo[2 * i.rs2]);
};
export const sd: E = (h, i) => {
  ea(h, i);
  h.store64(r[0], r[1], h.lo[2 * i.rs2], h.hi[2 * i.rs2]);
};

// ------------------------------------------------------------------ register-immediate

export const addi: E = (h, i) => {
  const blo = h.lo[2 * i.rs1];
  const lo = (blo + i.imm) | 0;
  set64(h, i.rd, lo, (h.hi[2 * i.rs1] + (i.imm >> 31) + (lo >>> 0 < blo >>> 0 ? 1 : 0)) | 0);
};
export const slti: E = (h, i) => set64(h, i.rd, lt64(h.lo[2 * i.rs1], h.hi[2 * i.rs1], i.imm, i.imm >> 31) ? 1 : 0, 0);
export const sltiu: E = (h, i) => set64(h, i.rd, ltu64(h.lo[2 * i.rs1], h.hi[2 * i.rs1], i.imm, i.imm >> 31) ? 1 : 0, 0);
export const xori: E = (h, i) => set64(h, i.rd, h.lo[2 * i.rs1] ^ i.imm, h.hi[2 * i.rs1] ^ (i.imm >> 31));
export const ori: E = (h, i) => set64(h, i.rd, h.lo[2 * i.rs1] | i.imm, h.hi[2 * i.rs1] | (i.imm >> 31));
export const andi: E = (h, i) => set64(h, i.rd, h.lo[2 * i.rs1] & i.imm, h.hi[2 * i.rs1] & (i.imm >> 31));
export const slli: E = (h, i) => {
  sll64(h.lo[2 * i.rs1], h.hi[2 * i.rs1], i.imm);
  set64(h, i.rd, r[0], r[1]);
};
export const srli: E = (h, i) => {
  srl64(h.lo[2 * i.rs1], h.hi[2 * i.rs1], i.imm);
  set64(h, i.rd, r[0], r[1]);
};
export const srai: E = (h, i) => {
  sra64(h.lo[2 * i.rs1], h.hi[2 * i.rs1], i.imm);
  set64(h, i.rd, r[0], r[1]);
};
export const addiw: E = (h, i) => setW(h, i.rd, (h.lo[2 * i.rs1] + i.imm) | 0);
export const slliw: E = (h, i) => setW(h, i.rd, h.lo[2 * i.rs1] << i.imm);
export const srliw: E = (h, i) => setW(h, i.rd, (h.lo[2 * i.rs1] >>> i.imm) | 0);
export const sraiw: E = (h, i) => setW(h, i.rd, h.lo[2 * i.rs1] >> i.imm);

// ------------------------------------------------------------------ register-register

export const add: E = (h, i) => {
  const a = h.lo[2 * i.rs1];
  const lo = (a + h.lo[2 * i.rs2]) | 0;
  set64(h, i.rd, lo, (h.hi[2 * i.rs1] + h.hi[2 * i.rs2] + (lo >>> 0 < a >>> 0 ? 1 : 0)) | 0);
};
export const sub: E = (h, i) => {
  const a = h.lo[2 * i.rs1];
  const b = h.lo[2 * i.rs2];
  set64(h, i.rd, (a - b) | 0, (h.hi[2 * i.rs1] - h.hi[2 * i.rs2] - (a >>> 0 < b >>> 0 ? 1 : 0)) | 0);
};
export const sll: E = (h, i) => {
  sll64(h.lo[2 * i.rs1], h.hi[2 * i.rs1], h.lo[2 * i.rs2] & 63);
  set64(h, i.rd, r[0], r[1]);
};
export const slt: E = (h, i) => set64(h, i.rd, lt64(h.lo[2 * i.rs1], h.hi[2 * i.rs1], h.lo[2 * i.rs2], h.hi[2 * i.rs2]) ? 1 : 0, 0);
export const sltu: E = (h, i) => set64(h, i.rd, ltu64(h.lo[2 * i.rs1], h.hi[2 * i.rs1], h.lo[2 * i.rs2], h.hi[2 * i.rs2]) ? 1 : 0, 0);
export const xor: E = (h, i) => set64(h, i.rd, h.lo[2 * i.rs1] ^ h.lo[2 * i.rs2], h.hi[2 * i.rs1] ^ h.hi[2 * i.rs2]);
export const srl: E = (h, i) => {
  srl64(h.lo[2 * i.rs1], h.hi[2 * i.rs1], h.lo[2 * i.rs2] & 63);
  set64(h, i.rd, r[0], r[1]);
};
export const sra: E = (h, i) => {
  sra64(h.lo[2 * i.rs1], h.hi[2 * i.rs1], h.lo[2 * i.rs2] & 63);
  set64(h, i.rd, r[0], r[1]);
};
export const or: E = (h, i) => set64(h, i.rd, h.lo[2 * i.rs1] | h.lo[2 * i.rs2], h.hi[2 * i.rs1] | h.hi[2 * i.rs2]);
export const and: E = (h, i) => set64(h, i.rd, h.lo[2 * i.rs1] & h.lo[2 * i.rs2], h.hi[2 * i.rs1] & h.hi[2 * i.rs2]);
export const addw: E = (h, i) => setW(h, i.rd, (h.lo[2 * i.rs1] + h.lo[2 * i.rs2]) | 0);
export const subw: E = (h, i) => setW(h, i.rd, (h.lo[2 * i.rs1] - h.lo[2 * i.rs2]) | 0);
export const sllw: E = (h, i) => setW(h, i.rd, h.lo[2 * i.rs1] << (h.lo[2 * i.rs2] & 31));
export const srlw: E = (h, i) => setW(h, i.rd, (h.lo[2 * i.rs1] >>> (h.lo[2 * i.rs2] & 31)) | 0);
export const sraw: E = (h, i) => setW(h, i.rd, h.lo[2 * i.rs1] >> (h.lo[2 * i.rs2] & 31));

// ------------------------------------------------------------------ M extension

export const mul: E = (h, i) => {
  mul64(h.lo[2 * i.rs1], h.hi[2 * i.rs1], h.lo[2 * i.rs2], h.hi[2 * i.rs2]);
  set64(h, i.rd, r[0], r[1]);
};
export const mulh: E = (h, i) => {
  fromBig((toBig(h.lo[2 * i.rs1], h.hi[2 * i.rs1]) * toBig(h.lo[2 * i.rs2], h.hi[2 * i.rs2])) >> 64n);
  set64(h, i.rd, r[0], r[1]);
};
export const mulhsu: E = (h, i) => {
  fromBig((toBig(h.lo[2 * i.rs1], h.hi[2 * i.rs1]) * toBigU(h.lo[2 * i.rs2], h.hi[2 * i.rs2])) >> 64n);
  set64(h, i.rd, r[0], r[1]);
};
export const mulhu: E = (h, i) => {
  fromBig((toBigU(h.lo[2 * i.rs1], h.hi[2 * i.rs1]) * toBigU(h.lo[2 * i.rs2], h.hi[2 * i.rs2])) >> 64n);
  set64(h, i.rd, r[0], r[1]);
};
export const mulw: E = (h, i) => setW(h, i.rd, Math.imul(h.lo[2 * i.rs1], h.lo[2 * i.rs2]));

/** True when (hi:lo) is a sign-extended int32. */
function isI32(lo: number, hi: number): boolean {
  return hi === lo >> 31;
}

// Division by zero and overflow results: §13.2, Table 11.
export const div: E = (h, i) => {
  const alo = h.lo[2 * i.rs1], ahi = h.hi[2 * i.rs1], blo = h.lo[2 * i.rs2], bhi = h.hi[2 * i.rs2];
  if (blo === 0 && bhi === 0) return set64(h, i.rd, -1, -1);
  if (isI32(alo, ahi) && isI32(blo, bhi)) {
    const q = Math.trunc(alo / blo);
    return set64(h, i.rd, q | 0, q < 0 ? -1 : 0);
  }
  if (blo === -1 && bhi === -1 && alo === 0 && ahi === -0x80000000) return set64(h, i.rd, alo, ahi);
  fromBig(toBig(alo, ahi) / toBig(blo, bhi));
  set64(h, i.rd, r[0], r[1]);
};
export const divu: E = (h, i) => {
  const alo = h.lo[2 * i.rs1], ahi = h.hi[2 * i.rs1], blo = h.lo[2 * i.rs2], bhi = h.hi[2 * i.rs2];
  if (blo === 0 && bhi === 0) return set64(h, i.rd, -1, -1);
  if (ahi === 0 && bhi === 0) return set64(h, i.rd, Math.trunc((alo >>> 0) / (blo >>> 0)) | 0, 0);
  fromBig(toBigU(alo, ahi) / toBigU(blo, bhi));
  set64(h, i.rd, r[0], r[1]);
};
export const rem: E = (h, i) => {
  const alo = h.lo[2 * i.rs1], ahi = h.hi[2 * i.rs1], blo = h.lo[2 * i.rs2], bhi = h.hi[2 * i.rs2];
  if (blo === 0 && bhi === 0) return set64(h, i.rd, alo, ahi);
  if (isI32(alo, ahi) && isI32(blo, bhi)) {
    const m = alo % blo;
    return set64(h, i.rd, m | 0, m < 0 ? -1 : 0);
  }
  if (blo === -1 && bhi === -1 && alo === 0 && ahi === -0x80000000) return set64(h, i.rd, 0, 0);
  fromBig(toBig(alo, ahi) % toBig(blo, bhi));
  set64(h, i.rd, r[0], r[1]);
};
export const remu: E = (h, i) => {
  const alo = h.lo[2 * i.rs1], ahi = h.hi[2 * i.rs1], blo = h.lo[2 * i.rs2], bhi = h.hi[2 * i.rs2];
  if (blo === 0 && bhi === 0) return set64(h, i.rd, alo, ahi);
  if (ahi === 0 && bhi === 0) return set64(h, i.rd, (alo >>> 0) % (blo >>> 0) | 0, 0);
  fromBig(toBigU(alo, ahi) % toBigU(blo, bhi));
  set64(h, i.rd, r[0], r[1]);
};
export const divw: E = (h, i) => {
  const a = h.lo[2 * i.rs1], b = h.lo[2 * i.rs2];
  if (b === 0) return setW(h, i.rd, -1);
  if (a === -0x80000000 && b === -1) return setW(h, i.rd, a);
  setW(h, i.rd, Math.trunc(a / b) | 0);
};
export const divuw: E = (h, i) => {
  const a = h.lo[2 * i.rs1] >>> 0, b = h.lo[2 * i.rs2] >>> 0;
  setW(h, i.rd, b === 0 ? -1 : Math.trunc(a / b) | 0);
};
export const remw: E = (h, i) => {
  const a = h.lo[2 * i.rs1], b = h.lo[2 * i.rs2];
  if (b === 0) return setW(h, i.rd, a);
  if (a === -0x80000000 && b === -1) return setW(h, i.rd, 0);
  setW(h, i.rd, a % b | 0);
};
export const remuw: E = (h, i) => {
  const a = h.lo[2 * i.rs1] >>> 0, b = h.lo[2 * i.rs2] >>> 0;
  setW(h, i.rd, b === 0 ? a | 0 : (a % b) | 0);
};

// ------------------------------------------------------------------ Zba

function shadd(h: Hart, i: Insn, sh: number, uw: boolean): void {
  const alo = h.lo[2 * i.rs1];
  sll64(alo, uw ? 0 : h.hi[2 * i.rs1], sh);
  const slo = r[0], shi = r[1];
  const lo = (slo + h.lo[2 * i.rs2]) | 0;
  set64(h, i.rd, lo, (shi + h.hi[2 * i.rs2] + (lo >>> 0 < slo >>> 0 ? 1 : 0)) | 0);
}
export const add_uw: E = (h, i) => shadd(h, i, 0, true);
export const sh1add: E = (h, i) => shadd(h, i, 1, false);
export const sh2add: E = (h, i) => shadd(h, i, 2, false);
export const sh3add: E = (h, i) => shadd(h, i, 3, false);
export const sh1add_uw: E = (h, i) => shadd(h, i, 1, true);
export const sh2add_uw: E = (h, i) => shadd(h, i, 2, true);
export const sh3add_uw: E = (h, i) => shadd(h, i, 3, true);
export const slli_uw: E = (h, i) => {
  sll64(h.lo[2 * i.rs1], 0, i.imm);
  set64(h, i.rd, r[0], r[1]);
};

// ------------------------------------------------------------------ Zbb

export const andn: E = (h, i) => set64(h, i.rd, h.lo[2 * i.rs1] & ~h.lo[2 * i.rs2], h.hi[2 * i.rs1] & ~h.hi[2 * i.rs2]);
export const orn: E = (h, i) => set64(h, i.rd, h.lo[2 * i.rs1] | ~h.lo[2 * i.rs2], h.hi[2 * i.rs1] | ~h.hi[2 * i.rs2]);
export const xnor: E = (h, i) => set64(h, i.rd, ~(h.lo[2 * i.rs1] ^ h.lo[2 * i.rs2]), ~(h.hi[2 * i.rs1] ^ h.hi[2 * i.rs2]));
export const clz: E = (h, i) => {
  const hi = h.hi[2 * i.rs1];
  set64(h, i.rd, hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(h.lo[2 * i.rs1]), 0);
};
export const clzw: E = (h, i) => set64(h, i.rd, Math.clz32(h.lo[2 * i.rs1]), 0);
export const ctz: E = (h, i) => {
  const lo = h.lo[2 * i.rs1];
  set64(h, i.rd, lo !== 0 ? ctz32(lo) : 32 + ctz32(h.hi[2 * i.rs1]), 0);
};
export const ctzw: E = (h, i) => set64(h, i.rd, ctz32(h.lo[2 * i.rs1]), 0);
export const cpop: E = (h, i) => set64(h, i.rd, popcount32(h.lo[2 * i.rs1]) + popcount32(h.hi[2 * i.rs1]), 0);
export const cpopw: E = (h, i) => set64(h, i.rd, popcount32(h.lo[2 * i.rs1]), 0);
export const max: E = (h, i) => {
  const a = lt64(h.lo[2 * i.rs1], h.hi[2 * i.rs1], h.lo[2 * i.rs2], h.hi[2 * i.rs2]) ? i.rs2 : i.rs1;
  set64(h, i.rd, h.lo[2 * a], h.hi[2 * a]);
};
export const maxu: E = (h, i) => {
  const a = ltu64(h.lo[2 * i.rs1], h.hi[2 * i.rs1], h.lo[2 * i.rs2], h.hi[2 * i.rs2]) ? i.rs2 : i.rs1;
  set64(h, i.rd, h.lo[2 * a], h.hi[2 * a]);
};
export const min: E = (h, i) => {
  const a = lt64(h.lo[2 * i.rs1], h.hi[2 * i.rs1], h.lo[2 * i.rs2], h.hi[2 * i.rs2]) ? i.rs1 : i.rs2;
  set64(h, i.rd, h.lo[2 * a], h.hi[2 * a]);
};
export const minu: E = (h, i) => {
  const a = ltu64(h.lo[2 * i.rs1], h.hi[2 * i.rs1], h.lo[2 * i.rs2], h.hi[2 * i.rs2]) ? i.rs1 : i.rs2;
  set64(h, i.rd, h.lo[2 * a], h.hi[2 * a]);
};
export const sext_b: E = (h, i) => setW(h, i.rd, (h.lo[2 * i.rs1] << 24) >> 24);
export const sext_h: E = (h, i) => setW(h, i.rd, (h.lo[2 * i.rs1] << 16) >> 16);
export const zext_h: E = (h, i) => set64(h, i.rd, h.lo[2 * i.rs1] & 0xffff, 0);

function rotl64(h: Hart, i: Insn, sh: number): void {
  const lo = h.lo[2 * i.rs1], hi = h.hi[2 * i.rs1];
  sll64(lo, hi, sh);
  const a0 = r[0], a1 = r[1];
  srl64(lo, hi, (64 - sh) & 63);
  if (sh === 0) set64(h, i.rd, lo, hi);
  else set64(h, i.rd, a0 | r[0], a1 | r[1]);
}
export const rol: E = (h, i) => rotl64(h, i, h.lo[2 * i.rs2] & 63);
export const ror: E = (h, i) => rotl64(h, i, (64 - (h.lo[2 * i.rs2] & 63)) & 63);
export const rori: E = (h, i) => rotl64(h, i, (64 - i.imm) & 63);
function rotl32(v: number, sh: number): number {
  return sh === 0 ? v : (v << sh) | (v >>> (32 - sh));
}
export const rolw: E = (h, i) => setW(h, i.rd, rotl32(h.lo[2 * i.rs1], h.lo[2 * i.rs2] & 31));
export const rorw: E = (h, i) => setW(h, i.rd, rotl32(h.lo[2 * i.rs1], (32 - (h.lo[2 * i.rs2] & 31)) & 31));
export const roriw: E = (h, i) => setW(h, i.rd, rotl32(h.lo[2 * i.rs1], (32 - i.imm) & 31));
function orcb32(v: number): number {
  let o = 0;
  for (let k = 0; k < 32; k += 8) if ((v >>> k) & 0xff) o |= 0xff << k;
  return o;
}
export const orc_b: E = (h, i) => set64(h, i.rd, orcb32(h.lo[2 * i.rs1]), orcb32(h.hi[2 * i.rs1]));
function bswap32(v: number): number {
  return ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
}
export const rev8: E = (h, i) => set64(h, i.rd, bswap32(h.hi[2 * i.rs1]), bswap32(h.lo[2 * i.rs1]));

// ------------------------------------------------------------------ Zbs

function bitOp(h: Hart, i: Insn, idx: number, op: 0 | 1 | 2 | 3): void {
  const lo = h.lo[2 * i.rs1], hi = h.hi[2 * i.rs1];
  const mlo = idx < 32 ? 1 << idx : 0;
  const mhi = idx >= 32 ? 1 << (idx - 32) : 0;
  if (op === 0) set64(h, i.rd, lo & ~mlo, hi & ~mhi);
  else if (op === 1) set64(h, i.rd, ((lo & mlo) | (hi & mhi)) !== 0 ? 1 : 0, 0);
  else if (op === 2) set64(h, i.rd, lo ^ mlo, hi ^ mhi);
  else set64(h, i.rd, lo | mlo, hi | mhi);
}
export const bclr: E = (h, i) => bitOp(h, i, h.lo[2 * i.rs2] & 63, 0);
export const bext: E = (h, i) => bitOp(h, i, h.lo[2 * i.rs2] & 63, 1);
export const binv: E = (h, i) => bitOp(h, i, h.lo[2 * i.rs2] & 63, 2);
export const bset: E = (h, i) => bitOp(h, i, h.lo[2 * i.rs2] & 63, 3);
export const bclri: E = (h, i) => bitOp(h, i, i.imm, 0);
export const bexti: E = (h, i) => bitOp(h, i, i.imm, 1);
export const binvi: E = (h, i) => bitOp(h, i, i.imm, 2);
export const bseti: E = (h, i) => bitOp(h, i, i.imm, 3);

// ------------------------------------------------------------------ Zicond

export const czero_eqz: E = (h, i) => {
  if (h.lo[2 * i.rs2] === 0 && h.hi[2 * i.rs2] === 0) set64(h, i.rd, 0, 0);
  else set64(h, i.rd, h.lo[2 * i.rs1], h.hi[2 * i.rs1]);
};
export const czero_nez: E = (h, i) => {
  if (h.lo[2 * i.rs2] !== 0 || h.hi[2 * i.rs2] !== 0) set64(h, i.rd, 0, 0);
  else set64(h, i.rd, h.lo[2 * i.rs1], h.hi[2 * i.rs1]);
};
