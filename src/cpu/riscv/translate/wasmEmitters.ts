/**
 * The per-instruction emitters of the WebAssembly back end: how a translated
 * function runs each instruction it does itself (wasmCodeGen.ts holds the
 * state they emit into). RV64's integer operations are WebAssembly's i64
 * ones (shift amounts are taken modulo 64 by both, Unprivileged ISA §4.2);
 * M-extension multiply-high and divide, Zba, Zbb and Zbs are inline; loads,
 * stores and AMOs inline the software TLB's fast path (the TlbSet of the
 * current data regime sits in the same memory, its offset is the second
 * argument, and guest RAM is indexed by machine offset), and AMOs use
 * WebAssembly's atomics, as other harts' threads share that memory.
 * Everything without an emitter here calls its semantic function from exec/
 * through the `ex` import, so there is one semantics; the differential test
 * holds this file to it. Monitor instructions that are common and cheap to
 * contain (CSR accesses, SFENCE.VMA) run through the `sys` import, which stops
 * the chain when they change what translated code relies on (see MONITOR);
 * sstatus's interrupt enables run inline (sstatusOp), on mstatus, the
 * privilege and the pending interrupts that the hart keeps in its state area.
 */
import type { Block } from "../hart.js";
import { F_SYSTEM, type Exec, type Insn } from "../insn.js";
import * as I from "../exec/int.js";
import * as A from "../exec/amo.js";
import * as S from "../exec/system.js";
import { Csr, MSTATUS_FS, MSTATUS_SIE, SSTATUS_MASK } from "../csr.js";
import { STATE_EXIT, STATE_MSTATUS, STATE_PENDING, STATE_PRIV } from "../hartState.js";
import { TLB_ROFF, TLB_RTAG, TLB_WOFF, TLB_WTAG } from "../tlb.js";
import { Atomic, Code, Op, VOID, Val } from "./wasmWriter.js";
import { EXIT_MONITOR, Gen, L_IX, L_T, L_VA } from "./wasmCodeGen.js";

/** Per-instruction emitters; an instruction without one calls its semantic function. */
export type Emit = (g: Gen, i: Insn) => void;

const ALIGN: Record<number, number> = { 1: 0, 2: 1, 4: 2, 8: 3 };

function load(size: 1 | 2 | 4 | 8, fast: Op): Emit {
  return (g, i) => {
    g.address(i);
    g.miss(TLB_RTAG, size);
    g.exitIf();
    g.hostAddress(TLB_ROFF);
    g.c.mem(fast, ALIGN[size]);
    g.set(i.rd);
  };
}

function store(size: 1 | 2 | 4 | 8, fast: Op): Emit {
  return (g, i) => {
    g.address(i);
    g.miss(TLB_WTAG, size);
    g.exitIf();
    g.hostAddress(TLB_WOFF);
    g.get(i.rs2);
    g.c.mem(fast, ALIGN[size]);
  };
}

/** rd = op(rs1, rs2) on 64 bits. */
const rr = (...ops: Op[]): Emit => (g, i) => {
  g.get(i.rs1);
  g.get(i.rs2);
  g.c.op(...ops);
  g.set(i.rd);
};

/** rd = op(rs1, imm) on 64 bits. */
const ri = (...ops: Op[]): Emit => (g, i) => {
  g.get(i.rs1);
  g.c.i64(i.imm).op(...ops);
  g.set(i.rd);
};

/** rd = sext32(op(rs1[31:0], rs2[31:0])). */
const rrW = (op: Op): Emit => (g, i) => {
  g.get(i.rs1);
  g.c.op(Op.I32WrapI64);
  g.get(i.rs2);
  g.c.op(Op.I32WrapI64, op, Op.I64ExtendI32S);
  g.set(i.rd);
};

/** rd = sext32(op(rs1[31:0], imm)). */
const riW = (op: Op): Emit => (g, i) => {
  g.get(i.rs1);
  g.c.op(Op.I32WrapI64).i32(i.imm).op(op, Op.I64ExtendI32S);
  g.set(i.rd);
};

/** rd = op(rs1): the unary Zbb instructions. */
const un = (...ops: Op[]): Emit => (g, i) => {
  g.get(i.rs1);
  g.c.op(...ops);
  g.set(i.rd);
};

/** rd = op(rs1[31:0]) zero-extended: clzw, ctzw, cpopw (results 0..32). */
const unW = (op: Op): Emit => un(Op.I32WrapI64, op, Op.I64ExtendI32U);

/** rd = rs1 op ~rs2: andn, orn, and xnor as rs1 ^ ~rs2. */
const rrNot = (op: Op): Emit => (g, i) => {
  g.get(i.rs1);
  g.get(i.rs2);
  g.c.i64(-1).op(Op.I64Xor, op);
  g.set(i.rd);
};

/** rd = (rs1 cmp rs2) ? rs1 : rs2: min, max and their unsigned forms (select's operands, then rr's). */
const pick = (cmp: Op): Emit => {
  const choose = rr(cmp, Op.Select);
  return (g, i) => {
    g.get(i.rs1);
    g.get(i.rs2);
    choose(g, i);
  };
};

/** Pushes rs1, zero-extended from its low word for the Zba .uw forms. */
function base(g: Gen, i: Insn, uw: boolean): void {
  g.get(i.rs1);
  if (uw) g.c.op(Op.I32WrapI64, Op.I64ExtendI32U);
}

/** shNadd(.uw), add.uw (n = 0): rd = (rs1 << n) + rs2. */
const shadd = (n: number, uw: boolean): Emit => (g, i) => {
  base(g, i, uw);
  if (n > 0) g.c.i64(n).op(Op.I64Shl);
  g.get(i.rs2);
  g.c.op(Op.I64Add);
  g.set(i.rd);
};

const LOW7 = 0x7f7f_7f7f_7f7f_7f7fn;
const HIGH1 = 0x8080_8080_8080_8080n;

/**
 * orc.b (Unprivileged ISA ch. 28): each byte becomes 0xff when nonzero, else
 * 0x00, without branches. Bit 7 of ((x & 0x7f..) + 0x7f..) | x is set
 * exactly in the nonzero bytes (the sum of two 7-bit values stays in its
 * byte); moved to bit 0 and times 0xff, it fills its byte.
 */
const orcB: Emit = (g, i) => {
  const c = g.c;
  g.get(i.rs1);
  c.idx(Op.LocalTee, L_T).i64(LOW7).op(Op.I64And).i64(LOW7).op(Op.I64Add).idx(Op.LocalGet, L_T).op(Op.I64Or);
  c.i64(HIGH1).op(Op.I64And).i64(7).op(Op.I64ShrU).i64(0xff).op(Op.I64Mul);
  g.set(i.rd);
};

/** rev8: swaps the bytes of each halfword, then the halfwords of each word, then the two words. */
const rev8: Emit = (g, i) => {
  const c = g.c;
  g.get(i.rs1);
  c.idx(Op.LocalSet, L_T);
  for (const [sh, m] of [[8, 0x00ff_00ff_00ff_00ffn], [16, 0x0000_ffff_0000_ffffn]] as const) {
    c.idx(Op.LocalGet, L_T).i64(sh).op(Op.I64ShrU).i64(m).op(Op.I64And);
    c.idx(Op.LocalGet, L_T).i64(m).op(Op.I64And).i64(sh).op(Op.I64Shl, Op.I64Or).idx(Op.LocalSet, L_T);
  }
  c.idx(Op.LocalGet, L_T).i64(32).op(Op.I64Rotl);
  g.set(i.rd);
};

/** Pushes a Zbs bit index: rs2 (WebAssembly takes shift counts modulo 64) or the immediate. */
function bitIndex(g: Gen, i: Insn, imm: boolean): void {
  if (imm) g.c.i64(i.imm);
  else g.get(i.rs2);
}

/**
 * bset, binv, bclr and their immediate forms: rd = rs1 op mask, the mask
 * 1 << index, or ~(1 << index) to clear, which is rotl(-2, index).
 */
const bit = (op: Op, imm: boolean): Emit => (g, i) => {
  g.get(i.rs1);
  g.c.i64(op === Op.I64And ? -2 : 1);
  bitIndex(g, i, imm);
  g.c.op(Op.I64Rotl, op);
  g.set(i.rd);
};

/** bext(i): rd = (rs1 >> index) & 1. */
const bext = (imm: boolean): Emit => (g, i) => {
  g.get(i.rs1);
  bitIndex(g, i, imm);
  g.c.op(Op.I64ShrU).i64(1).op(Op.I64And);
  g.set(i.rd);
};

/** The memory word of an AMO: .w works on i32 and sign-extends what it returns, .d on i64. */
interface Width {
  size: 4 | 8;
  /** From i64 to the word's type, and back with sign extension. */
  narrow: Op[];
  widen: Op[];
  load: Atomic;
  cmpxchg: Atomic;
}
const WORD: Width = { size: 4, narrow: [Op.I32WrapI64], widen: [Op.I64ExtendI32S], load: Atomic.I32Load, cmpxchg: Atomic.I32RmwCmpxchg };
const DOUBLE: Width = { size: 8, narrow: [], widen: [], load: Atomic.I64Load, cmpxchg: Atomic.I64RmwCmpxchg };

/**
 * An AMO (Unprivileged ISA, "A" extension) with the write TLB's fast path:
 * when the page is mapped for writing and rs1 is aligned, `rmw` does it at
 * the machine address on the stack with WebAssembly's atomics (the memory is
 * shared with the other harts' threads) and leaves the old value as i64.
 * The page needs no write note: tlb.ts maps only such pages for writing.
 * Anything else leaves the block (Gen.exitIf): the interpreter raises
 * the misaligned trap, walks the page table or faults.
 */
function amo(w: Width, rmw: (g: Gen, i: Insn) => void): Emit {
  return (g, i) => {
    g.address(i);
    g.miss(TLB_WTAG, w.size);
    g.exitIf();
    g.hostAddress(TLB_WOFF);
    rmw(g, i);
    g.set(i.rd);
  };
}

/** amoswap, amoadd, amoand, amoor, amoxor: one atomic read-modify-write. */
const amoRmw = (w: Width, op: Atomic): Emit =>
  amo(w, (g, i) => {
    g.get(i.rs2);
    g.c.op(...w.narrow).atomic(op, ALIGN[w.size]).op(...w.widen);
  });

/**
 * amomin, amomax and their unsigned forms: compare-and-swap until no other
 * hart wrote in between (as exec/amo.ts does); `cmp`(old, rs2) keeps the old
 * value. L_IX holds the machine address, L_T the old value, L_VA what the
 * compare-exchange found there.
 */
const amoMinMax = (w: Width, cmp: Op): Emit =>
  amo(w, (g, i) => {
    const c = g.c;
    const old = (): void => void c.idx(Op.LocalGet, L_T).op(...w.narrow);
    const rs2 = (): void => {
      g.get(i.rs2);
      c.op(...w.narrow);
    };
    c.idx(Op.LocalTee, L_IX).atomic(w.load, ALIGN[w.size]).op(...w.widen).idx(Op.LocalSet, L_T);
    c.op(Op.Loop, VOID).idx(Op.LocalGet, L_IX);
    old();
    old();
    rs2();
    old();
    rs2();
    c.op(cmp, Op.Select).atomic(w.cmpxchg, ALIGN[w.size]).op(...w.widen);
    c.idx(Op.LocalTee, L_VA).idx(Op.LocalGet, L_T).op(Op.I64Ne);
    c.idx(Op.LocalGet, L_VA).idx(Op.LocalSet, L_T).idx(Op.BrIf, 0).op(Op.End);
    c.idx(Op.LocalGet, L_T);
  });

/** Conditional branch: ends the block with the taken or fall-through pc. */
const branch = (cmp: Op): Emit => (g, i) => {
  g.pc(i.imm);
  g.pc(i.len);
  g.get(i.rs1);
  g.get(i.rs2);
  g.c.op(cmp, Op.Select);
  g.ended = true;
};

/** Pushes mulhu(rs1, rs2) minus the signed corrections (Hacker's Delight 8-3). */
function mulh(signedA: boolean, signedB: boolean): Emit {
  return (g, i) => {
    const c = g.c;
    const m = g.mulLocals();
    const [a, b] = [m, m + 1];
    g.get(i.rs1);
    c.idx(Op.LocalSet, a);
    g.get(i.rs2);
    c.idx(Op.LocalSet, b);
    mulhu(c, m);
    if (signedA) {
      // - (rs1 < 0 ? rs2 : 0)
      c.idx(Op.LocalGet, b).idx(Op.LocalGet, a).i64(63).op(Op.I64ShrS, Op.I64And, Op.I64Sub);
    }
    if (signedB) c.idx(Op.LocalGet, a).idx(Op.LocalGet, b).i64(63).op(Op.I64ShrS, Op.I64And, Op.I64Sub);
    g.set(i.rd);
  };
}

/**
 * Pushes mulhu(a, b) of the four locals from `m` (a, b, t, w), the high 64
 * bits of the unsigned 128-bit product (Hacker's Delight 8-2), inline: a call
 * would make V8 spill around it.
 */
function mulhu(c: Code, m: number): void {
  const [a, b, t, w] = [m, m + 1, m + 2, m + 3];
  const lo = (l: number): void => void c.idx(Op.LocalGet, l).i64(0xffffffff).op(Op.I64And);
  const hi = (l: number): void => void c.idx(Op.LocalGet, l).i64(32).op(Op.I64ShrU);
  // t = a1*b0 + (a0*b0 >> 32)
  hi(a); lo(b); c.op(Op.I64Mul);
  lo(a); lo(b); c.op(Op.I64Mul).i64(32).op(Op.I64ShrU, Op.I64Add).idx(Op.LocalSet, t);
  // w1 = (t & 0xffffffff) + a0*b1
  lo(t); lo(a); hi(b); c.op(Op.I64Mul, Op.I64Add).idx(Op.LocalSet, w);
  // a1*b1 + (t >> 32) + (w1 >> 32)
  hi(a); hi(b); c.op(Op.I64Mul);
  hi(t); c.op(Op.I64Add);
  hi(w); c.op(Op.I64Add);
}

/**
 * Division (Unprivileged ISA §13.2): by zero gives all ones (quotient) or the
 * dividend (remainder); signed overflow gives the dividend (quotient) or 0
 * (remainder) — WebAssembly's rem_s already does, its div_s would trap.
 * The W forms divide the sign- or zero-extended low words on 64 bits, where
 * nothing overflows, and sign-extend the low word of the result.
 */
function divide(op: Op, word: "s" | "u" | undefined): Emit {
  const isRem = op === Op.I64RemS || op === Op.I64RemU;
  return (g, i) => {
    const c = g.c;
    const operand = (r: number): void => {
      g.get(r);
      if (word !== undefined) c.op(Op.I32WrapI64, word === "s" ? Op.I64ExtendI32S : Op.I64ExtendI32U);
    };
    operand(i.rs2);
    c.idx(Op.LocalSet, L_T);
    c.idx(Op.LocalGet, L_T).op(Op.I64Eqz, Op.If, Val.I64);
    if (isRem) operand(i.rs1);
    else c.i64(-1);
    c.op(Op.Else);
    if (op === Op.I64DivS && word === undefined) {
      // MIN / -1 = MIN: compute as (rs1 == MIN && rs2 == -1) ? rs1 : rs1 / rs2.
      operand(i.rs1);
      c.i64(1n << 63n).op(Op.I64Eq).idx(Op.LocalGet, L_T).i64(-1).op(Op.I64Eq, Op.I32And, Op.If, Val.I64);
      operand(i.rs1);
      c.op(Op.Else);
      operand(i.rs1);
      c.idx(Op.LocalGet, L_T).op(op, Op.End);
    } else {
      operand(i.rs1);
      c.idx(Op.LocalGet, L_T).op(op);
    }
    c.op(Op.End);
    if (word !== undefined) c.op(Op.I32WrapI64, Op.I64ExtendI32S);
    g.set(i.rd);
  };
}

const EMIT = new Map<Exec, Emit>([
  [I.lui, (g, i) => { g.c.i64(i.imm); g.set(i.rd); }],
  [I.auipc, (g, i) => { g.pc64(i.imm); g.set(i.rd); }],
  [I.jal, (g, i) => { g.pc64(i.len); g.set(i.rd); g.pc(i.imm); g.ended = true; }],
  [
    I.jalr,
    (g, i) => {
      g.get(i.rs1);
      g.c.i64(i.imm).op(Op.I64Add).i64(-2).op(Op.I64And).idx(Op.LocalSet, L_T);
      g.pc64(i.len);
      g.set(i.rd);
      g.c.idx(Op.LocalGet, L_T).op(Op.F64ConvertI64S);
      g.ended = true;
    },
  ],
  [I.beq, branch(Op.I64Eq)],
  [I.bne, branch(Op.I64Ne)],
  [I.blt, branch(Op.I64LtS)],
  [I.bge, branch(Op.I64GeS)],
  [I.bltu, branch(Op.I64LtU)],
  [I.bgeu, branch(Op.I64GeU)],
  [I.lb, load(1, Op.I64Load8S)],
  [I.lbu, load(1, Op.I64Load8U)],
  [I.lh, load(2, Op.I64Load16S)],
  [I.lhu, load(2, Op.I64Load16U)],
  [I.lw, load(4, Op.I64Load32S)],
  [I.lwu, load(4, Op.I64Load32U)],
  [I.ld, load(8, Op.I64Load)],
  [I.sb, store(1, Op.I64Store8)],
  [I.sh, store(2, Op.I64Store16)],
  [I.sw, store(4, Op.I64Store32)],
  [I.sd, store(8, Op.I64Store)],
  [I.addi, ri(Op.I64Add)],
  [I.slti, (g, i) => { g.get(i.rs1); g.c.i64(i.imm).op(Op.I64LtS, Op.I64ExtendI32U); g.set(i.rd); }],
  [I.sltiu, (g, i) => { g.get(i.rs1); g.c.i64(i.imm).op(Op.I64LtU, Op.I64ExtendI32U); g.set(i.rd); }],
  [I.xori, ri(Op.I64Xor)],
  [I.ori, ri(Op.I64Or)],
  [I.andi, ri(Op.I64And)],
  [I.slli, ri(Op.I64Shl)],
  [I.srli, ri(Op.I64ShrU)],
  [I.srai, ri(Op.I64ShrS)],
  [I.addiw, riW(Op.I32Add)],
  [I.slliw, riW(Op.I32Shl)],
  [I.srliw, riW(Op.I32ShrU)],
  [I.sraiw, riW(Op.I32ShrS)],
  [I.add, rr(Op.I64Add)],
  [I.sub, rr(Op.I64Sub)],
  [I.sll, rr(Op.I64Shl)],
  [I.slt, rr(Op.I64LtS, Op.I64ExtendI32U)],
  [I.sltu, rr(Op.I64LtU, Op.I64ExtendI32U)],
  [I.xor, rr(Op.I64Xor)],
  [I.srl, rr(Op.I64ShrU)],
  [I.sra, rr(Op.I64ShrS)],
  [I.or, rr(Op.I64Or)],
  [I.and, rr(Op.I64And)],
  [I.addw, rrW(Op.I32Add)],
  [I.subw, rrW(Op.I32Sub)],
  [I.sllw, rrW(Op.I32Shl)],
  [I.srlw, rrW(Op.I32ShrU)],
  [I.sraw, rrW(Op.I32ShrS)],
  [I.mul, rr(Op.I64Mul)],
  [I.mulw, rrW(Op.I32Mul)],
  [I.mulhu, mulh(false, false)],
  [I.mulh, mulh(true, true)],
  [I.mulhsu, mulh(true, false)],
  [I.div, divide(Op.I64DivS, undefined)],
  [I.divu, divide(Op.I64DivU, undefined)],
  [I.rem, divide(Op.I64RemS, undefined)],
  [I.remu, divide(Op.I64RemU, undefined)],
  [I.divw, divide(Op.I64DivS, "s")],
  [I.divuw, divide(Op.I64DivU, "u")],
  [I.remw, divide(Op.I64RemS, "s")],
  [I.remuw, divide(Op.I64RemU, "u")],
  [I.add_uw, shadd(0, true)],
  [I.sh1add, shadd(1, false)],
  [I.sh2add, shadd(2, false)],
  [I.sh3add, shadd(3, false)],
  [I.sh1add_uw, shadd(1, true)],
  [I.sh2add_uw, shadd(2, true)],
  [I.sh3add_uw, shadd(3, true)],
  [I.slli_uw, (g, i) => { base(g, i, true); g.c.i64(i.imm).op(Op.I64Shl); g.set(i.rd); }],
  [I.andn, rrNot(Op.I64And)],
  [I.orn, rrNot(Op.I64Or)],
  [I.xnor, rrNot(Op.I64Xor)],
  [I.clz, un(Op.I64Clz)],
  [I.ctz, un(Op.I64Ctz)],
  [I.cpop, un(Op.I64Popcnt)],
  [I.clzw, unW(Op.I32Clz)],
  [I.ctzw, unW(Op.I32Ctz)],
  [I.cpopw, unW(Op.I32Popcnt)],
  [I.max, pick(Op.I64GtS)],
  [I.maxu, pick(Op.I64GtU)],
  [I.min, pick(Op.I64LtS)],
  [I.minu, pick(Op.I64LtU)],
  [I.sext_b, un(Op.I64Extend8S)],
  [I.sext_h, un(Op.I64Extend16S)],
  [I.zext_h, (g, i) => { g.get(i.rs1); g.c.i64(0xffff).op(Op.I64And); g.set(i.rd); }],
  [I.rol, rr(Op.I64Rotl)],
  [I.ror, rr(Op.I64Rotr)],
  [I.rori, ri(Op.I64Rotr)],
  [I.rolw, rrW(Op.I32Rotl)],
  [I.rorw, rrW(Op.I32Rotr)],
  [I.roriw, riW(Op.I32Rotr)],
  [I.orc_b, orcB],
  [I.rev8, rev8],
  [I.bclr, bit(Op.I64And, false)],
  [I.binv, bit(Op.I64Xor, false)],
  [I.bset, bit(Op.I64Or, false)],
  [I.bext, bext(false)],
  [I.bclri, bit(Op.I64And, true)],
  [I.binvi, bit(Op.I64Xor, true)],
  [I.bseti, bit(Op.I64Or, true)],
  [I.bexti, bext(true)],
  [A.amoswap_w, amoRmw(WORD, Atomic.I32RmwXchg)],
  [A.amoadd_w, amoRmw(WORD, Atomic.I32RmwAdd)],
  [A.amoxor_w, amoRmw(WORD, Atomic.I32RmwXor)],
  [A.amoand_w, amoRmw(WORD, Atomic.I32RmwAnd)],
  [A.amoor_w, amoRmw(WORD, Atomic.I32RmwOr)],
  [A.amomin_w, amoMinMax(WORD, Op.I32LtS)],
  [A.amomax_w, amoMinMax(WORD, Op.I32GtS)],
  [A.amominu_w, amoMinMax(WORD, Op.I32LtU)],
  [A.amomaxu_w, amoMinMax(WORD, Op.I32GtU)],
  [A.amoswap_d, amoRmw(DOUBLE, Atomic.I64RmwXchg)],
  [A.amoadd_d, amoRmw(DOUBLE, Atomic.I64RmwAdd)],
  [A.amoxor_d, amoRmw(DOUBLE, Atomic.I64RmwXor)],
  [A.amoand_d, amoRmw(DOUBLE, Atomic.I64RmwAnd)],
  [A.amoor_d, amoRmw(DOUBLE, Atomic.I64RmwOr)],
  [A.amomin_d, amoMinMax(DOUBLE, Op.I64LtS)],
  [A.amomax_d, amoMinMax(DOUBLE, Op.I64GtS)],
  [A.amominu_d, amoMinMax(DOUBLE, Op.I64LtU)],
  [A.amomaxu_d, amoMinMax(DOUBLE, Op.I64GtU)],
  [S.fence, () => undefined], // plain loads and stores of one thread are already ordered; AMOs use Atomics
]);


export const BRANCHES = new Set<Exec>([I.beq, I.bne, I.blt, I.bge, I.bltu, I.bgeu]);

/**
 * CSR instructions on sstatus that set or clear bits (csrrs, csrrc and their
 * immediate forms; csrrs with x0 reads): Linux masks and unmasks interrupts
 * with them around every spinlock, each of which cost a call into
 * JavaScript (`sys`) before (docs/perf-log.md). Translated code runs
 * them itself when the hart is not in U-mode and the write changes no bit
 * but SIE; anything else leaves through the slow exit before the
 * instruction, and the interpreter runs it (csr.ts). Setting SIE while an
 * interrupt is pending and enabled in mie stops the chain after it, so that
 * the run loop decides whether to take it (as `sys` does).
 */
function sstatusOp(set: boolean, imm: boolean): Emit {
  return (g, i) => {
    const c = g.c;
    const old = g.csrLocals();
    const now = old + 1;
    c.i32(0).mem(Op.I32Load, 2, g.stateBase + STATE_PRIV).op(Op.I32Eqz); // Priv.U: illegal
    g.exitIf();
    c.i32(0).mem(Op.I32Load, 2, g.stateBase + STATE_MSTATUS).idx(Op.LocalSet, old);
    const writes = i.rs1 !== 0;
    if (writes) {
      c.idx(Op.LocalGet, old);
      if (imm) c.i32(i.rs1);
      else {
        g.get(i.rs1);
        c.op(Op.I32WrapI64);
      }
      c.i32(SSTATUS_MASK).op(Op.I32And);
      if (set) c.op(Op.I32Or);
      else c.i32(-1).op(Op.I32Xor, Op.I32And);
      c.idx(Op.LocalTee, now).idx(Op.LocalGet, old).op(Op.I32Xor).i32(~MSTATUS_SIE).op(Op.I32And);
      g.exitIf();
      c.i32(0).idx(Op.LocalGet, now).mem(Op.I32Store, 2, g.stateBase + STATE_MSTATUS);
    }
    // rd = sstatus before the write: SD (bit 63) when FS is dirty, UXL = 2, the low word's sstatus bits.
    c.idx(Op.LocalGet, old).i32(MSTATUS_FS).op(Op.I32And).i32(MSTATUS_FS).op(Op.I32Eq, Op.I64ExtendI32U).i64(63).op(Op.I64Shl);
    c.i64(2 * 2 ** 32).op(Op.I64Or);
    c.idx(Op.LocalGet, old).i32(SSTATUS_MASK).op(Op.I32And, Op.I64ExtendI32U, Op.I64Or);
    g.set(i.rd);
    if (writes && set) {
      // SIE went from 0 to 1 with an interrupt pending
      c.idx(Op.LocalGet, now).idx(Op.LocalGet, old).op(Op.I32Xor).i32(MSTATUS_SIE).op(Op.I32And).i32(0).op(Op.I32Ne);
      c.i32(0).mem(Op.I32Load, 2, g.stateBase + STATE_PENDING).i32(0).op(Op.I32Ne, Op.I32And, Op.If, VOID);
      c.i32(0).i32(EXIT_MONITOR).mem(Op.I32Store, 2, g.stateBase + STATE_EXIT).op(Op.End);
    }
  };
}
const SSTATUS_OPS = new Map<Exec, Emit>([
  [S.csrrs, sstatusOp(true, false)],
  [S.csrrc, sstatusOp(false, false)],
  [S.csrrsi, sstatusOp(true, true)],
  [S.csrrci, sstatusOp(false, true)],
]);

/** How translated code runs `ins` itself, or undefined when it calls its semantic function. */
export function emitterOf(ins: Insn): Emit | undefined {
  return EMIT.get(ins.exec) ?? (ins.aux === Csr.sstatus ? SSTATUS_OPS.get(ins.exec) : undefined);
}

/**
 * Monitor instructions that translated code runs itself, through the `sys`
 * import (each is a block of its own): CSR accesses, the commonest by far
 * (Linux's interrupt enables and disables, rdtime), and SFENCE.VMA. The
 * counters that read instret are left to the run loop, which alone knows it
 * exactly. Afterwards `sys` makes the chain stop when the instruction changed
 * what the chain relies on: the privilege regime, the data TLB, the jump
 * cache, or no interrupt being deliverable.
 */
const MONITOR = new Set<Exec>([S.csrrw, S.csrrs, S.csrrc, S.csrrwi, S.csrrsi, S.csrrci, S.sfence_vma]);
const INSTRET_CSRS = new Set<number>([Csr.cycle, Csr.instret, Csr.mcycle, Csr.minstret]);

/**
 * Whether WebAssembly suits the block: not when a third or more of its
 * instructions (FP, LR/SC, ...) would call their semantic function, because
 * each such call leaves WebAssembly for JavaScript, which costs more than a
 * JavaScript block calling it directly (the bench fp kernel:
 * docs/perf-log.md).
 */
export function suitsWasm(b: Block): boolean {
  const first = b.insns[0];
  if ((first.flags & F_SYSTEM) !== 0) return MONITOR.has(first.exec) && !INSTRET_CSRS.has(first.aux);
  let calls = 0;
  for (const ins of b.insns) if (emitterOf(ins) === undefined) calls++;
  return calls * 3 < b.insns.length;
}


/**
 * Registers a semantic function called from a block may read or write
 * (their locals are written back before the call and rd is reloaded after
 * it); loading one that the instruction does not use (an FP register
 * number, immediate bits) is never wrong.
 */
export function registersOf(i: Insn): number[] {
  return [i.rs1, i.rs2, i.rd];
}
