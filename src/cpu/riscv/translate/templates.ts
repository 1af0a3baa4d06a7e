/**
 * JavaScript templates for the translator: for the hot integer instructions,
 * the statements that do what their semantic function in exec/int.ts does,
 * specialised to the decoded fields (register numbers and immediates become
 * constants) and with the software TLB's fast path inlined. An instruction
 * without a template is translated into a call of its semantic function, so
 * both engines share one semantics; the differential test
 * (test/cpu/differential.test.ts) holds the templates to it.
 *
 * Names the templates may use (bound by blockCompiler.ts): `h` the hart,
 * `L`/`H` its register halves, `I32`/`U8`/`U16` guest memory views, `T` the
 * data TLB, `pc0` the block's first pc, `X` helpers from i64.ts. Every
 * template is a block statement `{ ... }`; 64-bit values stay in int32 halves.
 */
import type { Exec, Insn } from "../insn.js";
import * as I from "../exec/int.js";
import { TLB_MASK } from "../tlb.js";

/** Where an instruction sits in its block: what a template needs besides the instruction. */
export interface Site {
  /** Expression for this instruction's pc. */
  pc: string;
  /** Statements that make pc and retired count exact before a possible trap. */
  sync: string;
}

type Template = (i: Insn, s: Site) => string;

const w = (rd: number, lo: string, hi: string): string => `const lo_ = ${lo}, hi_ = ${hi}; L[${2 * rd}] = lo_; H[${2 * rd}] = hi_;`;
const wW = (rd: number, v: string): string => `const v_ = ${v}; L[${2 * rd}] = v_; H[${2 * rd}] = v_ >> 31;`;

/** 64-bit rs1 + imm into (alo, ahi): the effective-address and addi computation. */
const addImm = (rs1: number, imm: number): string =>
  `const blo = L[${2 * rs1}], alo = (blo + ${imm}) | 0, ahi = (H[${2 * rs1}] + ${imm >> 31} + ((alo >>> 0) < (blo >>> 0) ? 1 : 0)) | 0;`;

const tlbHit = (kind: "r" | "w", align: number): string =>
  `const ix = (alo >>> 12) & ${TLB_MASK}; if (T.${kind}Tag[2 * ix] === (alo & -4096) && T.${kind}Tag[2 * ix + 1] === ahi${align > 1 ? ` && (alo & ${align - 1}) === 0` : ""})`;

function load(size: 1 | 2 | 4, signed: boolean, view: string, shift: number): Template {
  const ext = size < 4 && signed ? `(v << ${32 - 8 * size}) >> ${32 - 8 * size}` : "v";
  const hi = signed ? "e >> 31" : "0";
  return (i, s) =>
    `{ ${addImm(i.rs1, i.imm)} let v; ${tlbHit("r", size)} v = ${view}[(T.rOff[ix] + (alo & 4095))${shift ? ` >>> ${shift}` : ""}]; else { ${s.sync} v = h.load(alo, ahi, ${size}); } const e = ${ext}; L[${2 * i.rd}] = e; H[${2 * i.rd}] = ${hi}; }`;
}

function store(size: 1 | 2 | 4, view: string, shift: number, mask: string): Template {
  return (i, s) =>
    `{ ${addImm(i.rs1, i.imm)} const v = L[${2 * i.rs2}]${mask}; ${tlbHit("w", size)} ${view}[(T.wOff[ix] + (alo & 4095))${shift ? ` >>> ${shift}` : ""}] = v; else { ${s.sync} h.store(alo, ahi, ${size}, v); } }`;
}

const cmpU = (a: string, b: string): string => `((${a}) >>> 0) < ((${b}) >>> 0)`;
/** Signed / unsigned 64-bit less-than of (L[a],H[a]) against (blo,bhi) expressions. */
const lt = (alo: string, ahi: string, blo: string, bhi: string): string => `((${ahi}) < (${bhi}) || ((${ahi}) === (${bhi}) && ${cmpU(alo, blo)}))`;
const ltu = (alo: string, ahi: string, blo: string, bhi: string): string =>
  `(${cmpU(ahi, bhi)} || ((${ahi}) === (${bhi}) && ${cmpU(alo, blo)}))`;

/** Branch templates end the block: they return the target or the next instruction's pc. */
function branch(cond: (i: Insn) => string): Template {
  return (i, s) => `{ return ${cond(i)} ? ${s.pc} + ${i.imm} : ${s.pc} + ${i.len}; }`;
}

const shiftImm = (fn: string): Template => (i) => `{ X.${fn}(L[${2 * i.rs1}], H[${2 * i.rs1}], ${i.imm}); ${w(i.rd, "X.r[0]", "X.r[1]")} }`;

/** Templates that return the next pc (control transfers); after any other, the block continues or falls through. */
export const SETS_PC = new Set<Exec>([I.jal, I.jalr, I.beq, I.bne, I.blt, I.bge, I.bltu, I.bgeu]);

export const TEMPLATES = new Map<Exec, Template>([
  [I.lui, (i) => `{ ${wW(i.rd, String(i.imm | 0))} }`],
  [I.auipc, (i, s) => `{ X.fromNum(${s.pc} + ${i.imm}); ${w(i.rd, "X.r[0]", "X.r[1]")} }`],
  [I.jal, (i, s) => `{ X.fromNum(${s.pc} + ${i.len}); ${w(i.rd, "X.r[0]", "X.r[1]")} return ${s.pc} + ${i.imm}; }`],
  [I.jalr, (i, s) => `{ ${addImm(i.rs1, i.imm)} const t = X.toNum(alo & ~1, ahi); X.fromNum(${s.pc} + ${i.len}); ${w(i.rd, "X.r[0]", "X.r[1]")} return t; }`],
  [I.beq, branch((i) => `(L[${2 * i.rs1}] === L[${2 * i.rs2}] && H[${2 * i.rs1}] === H[${2 * i.rs2}])`)],
  [I.bne, branch((i) => `(L[${2 * i.rs1}] !== L[${2 * i.rs2}] || H[${2 * i.rs1}] !== H[${2 * i.rs2}])`)],
  [I.blt, branch((i) => lt(`L[${2 * i.rs1}]`, `H[${2 * i.rs1}]`, `L[${2 * i.rs2}]`, `H[${2 * i.rs2}]`))],
  [I.bge, branch((i) => `!${lt(`L[${2 * i.rs1}]`, `H[${2 * i.rs1}]`, `L[${2 * i.rs2}]`, `H[${2 * i.rs2}]`)}`)],
  [I.bltu, branch((i) => ltu(`L[${2 * i.rs1}]`, `H[${2 * i.rs1}]`, `L[${2 * i.rs2}]`, `H[${2 * i.rs2}]`))],
  [I.bgeu, branch((i) => `!${ltu(`L[${2 * i.rs1}]`, `H[${2 * i.rs1}]`, `L[${2 * i.rs2}]`, `H[${2 * i.rs2}]`)}`)],
  [I.lb, load(1, true, "U8", 0)],
  [I.lbu, load(1, false, "U8", 0)],
  [I.lh, load(2, true, "U16", 1)],
  [I.lhu, load(2, false, "U16", 1)],
  [I.lw, load(4, true, "I32", 2)],
  [I.lwu, load(4, false, "I32", 2)],
  [
    I.ld,
    (i, s) =>
      `{ ${addImm(i.rs1, i.imm)} let vl, vh; ${tlbHit("r", 8)} { const o = (T.rOff[ix] + (alo & 4095)) >>> 2; vl = I32[o]; vh = I32[o + 1]; } else { ${s.sync} h.load64(alo, ahi); vl = h.tmpLo; vh = h.tmpHi; } L[${2 * i.rd}] = vl; H[${2 * i.rd}] = vh; }`,
  ],
  [I.sb, store(1, "U8", 0, " & 255")],
  [I.sh, store(2, "U16", 1, " & 65535")],
  [I.sw, store(4, "I32", 2, "")],
  [
    I.sd,
    (i, s) =>
      `{ ${addImm(i.rs1, i.imm)} const vl = L[${2 * i.rs2}], vh = H[${2 * i.rs2}]; ${tlbHit("w", 8)} { const o = (T.wOff[ix] + (alo & 4095)) >>> 2; I32[o] = vl; I32[o + 1] = vh; } else { ${s.sync} h.store64(alo, ahi, vl, vh); } }`,
  ],
  [I.addi, (i) => `{ ${addImm(i.rs1, i.imm)} L[${2 * i.rd}] = alo; H[${2 * i.rd}] = ahi; }`],
  [I.addiw, (i) => `{ ${wW(i.rd, `(L[${2 * i.rs1}] + ${i.imm}) | 0`)} }`],
  [I.slti, (i) => `{ ${w(i.rd, `${lt(`L[${2 * i.rs1}]`, `H[${2 * i.rs1}]`, String(i.imm), String(i.imm >> 31))} ? 1 : 0`, "0")} }`],
  [I.sltiu, (i) => `{ ${w(i.rd, `${ltu(`L[${2 * i.rs1}]`, `H[${2 * i.rs1}]`, String(i.imm), String(i.imm >> 31))} ? 1 : 0`, "0")} }`],
  [I.xori, (i) => `{ ${w(i.rd, `L[${2 * i.rs1}] ^ ${i.imm}`, `H[${2 * i.rs1}] ^ ${i.imm >> 31}`)} }`],
  [I.ori, (i) => `{ ${w(i.rd, `L[${2 * i.rs1}] | ${i.imm}`, `H[${2 * i.rs1}] | ${i.imm >> 31}`)} }`],
  [I.andi, (i) => `{ ${w(i.rd, `L[${2 * i.rs1}] & ${i.imm}`, `H[${2 * i.rs1}] & ${i.imm >> 31}`)} }`],
  [I.slli, shiftImm("sll64")],
  [I.srli, shiftImm("srl64")],
  [I.srai, shiftImm("sra64")],
  [I.slliw, (i) => `{ ${wW(i.rd, `L[${2 * i.rs1}] << ${i.imm & 31}`)} }`],
  [I.srliw, (i) => `{ ${wW(i.rd, `(L[${2 * i.rs1}] >>> ${i.imm & 31}) | 0`)} }`],
  [I.sraiw, (i) => `{ ${wW(i.rd, `L[${2 * i.rs1}] >> ${i.imm & 31}`)} }`],
  [
    I.add,
    (i) => `{ const a = L[${2 * i.rs1}], lo = (a + L[${2 * i.rs2}]) | 0; ${w(i.rd, "lo", `(H[${2 * i.rs1}] + H[${2 * i.rs2}] + (${cmpU("lo", "a")} ? 1 : 0)) | 0`)} }`,
  ],
  [
    I.sub,
    (i) => `{ const a = L[${2 * i.rs1}], b = L[${2 * i.rs2}]; ${w(i.rd, "(a - b) | 0", `(H[${2 * i.rs1}] - H[${2 * i.rs2}] - (${cmpU("a", "b")} ? 1 : 0)) | 0`)} }`,
  ],
  [I.slt, (i) => `{ ${w(i.rd, `${lt(`L[${2 * i.rs1}]`, `H[${2 * i.rs1}]`, `L[${2 * i.rs2}]`, `H[${2 * i.rs2}]`)} ? 1 : 0`, "0")} }`],
  [I.sltu, (i) => `{ ${w(i.rd, `${ltu(`L[${2 * i.rs1}]`, `H[${2 * i.rs1}]`, `L[${2 * i.rs2}]`, `H[${2 * i.rs2}]`)} ? 1 : 0`, "0")} }`],
  [I.xor, (i) => `{ ${w(i.rd, `L[${2 * i.rs1}] ^ L[${2 * i.rs2}]`, `H[${2 * i.rs1}] ^ H[${2 * i.rs2}]`)} }`],
  [I.or, (i) => `{ ${w(i.rd, `L[${2 * i.rs1}] | L[${2 * i.rs2}]`, `H[${2 * i.rs1}] | H[${2 * i.rs2}]`)} }`],
  [I.and, (i) => `{ ${w(i.rd, `L[${2 * i.rs1}] & L[${2 * i.rs2}]`, `H[${2 * i.rs1}] & H[${2 * i.rs2}]`)} }`],
  [I.addw, (i) => `{ ${wW(i.rd, `(L[${2 * i.rs1}] + L[${2 * i.rs2}]) | 0`)} }`],
  [I.subw, (i) => `{ ${wW(i.rd, `(L[${2 * i.rs1}] - L[${2 * i.rs2}]) | 0`)} }`],
  [I.sllw, (i) => `{ ${wW(i.rd, `L[${2 * i.rs1}] << (L[${2 * i.rs2}] & 31)`)} }`],
  [I.srlw, (i) => `{ ${wW(i.rd, `(L[${2 * i.rs1}] >>> (L[${2 * i.rs2}] & 31)) | 0`)} }`],
  [I.sraw, (i) => `{ ${wW(i.rd, `L[${2 * i.rs1}] >> (L[${2 * i.rs2}] & 31)`)} }`],
  [I.mulw, (i) => `{ ${wW(i.rd, `Math.imul(L[${2 * i.rs1}], L[${2 * i.rs2}])`)} }`],
]);
