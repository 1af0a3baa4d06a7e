/**
 * The WebAssembly back end of the translator: a decoded `Block` becomes one
 * WebAssembly function that V8 compiles straight to machine code (Liftoff,
 * then TurboFan when hot), so even lukewarm code runs native code — the JS
 * back end's functions start in V8's bytecode interpreter instead.
 *
 * - Guest registers live in i64 locals for the whole block: every one its
 *   code uses is loaded from the hart's state area (hartState.ts) on entry;
 *   written ones go back when it leaves and before anything that can trap
 *   or read them (the slow exit, semantic calls).
 *   RV64's integer operations are WebAssembly's i64 ones (shift amounts are
 *   taken modulo 64 by both, Unprivileged ISA §4.2).
 * - Loads, stores and AMOs inline the software TLB's fast path: the TlbSet
 *   of the current data regime sits in the same memory (its offset is the
 *   second argument), and guest RAM is indexed by machine offset. AMOs use
 *   WebAssembly's atomics, as other harts' threads share that memory.
 * - Everything without a template here calls its semantic function from exec/
 *   through the `ex` import, so there is one semantics; the differential test
 *   holds this file to it.
 * - Monitor instructions that are common and cheap to contain (CSR accesses,
 *   SFENCE.VMA) run through the `sys` import, which stops the chain when they
 *   change what translated code relies on (see MONITOR); sstatus's interrupt
 *   enables run inline (sstatusOp), on mstatus, the privilege and the
 *   pending interrupts that the hart keeps in its state area.
 * - Traps stay precise: before a call that can trap, the block counts the
 *   instructions retired into STATE_DONE and passes the
 *   instruction's pc and index, which the import stores in the hart.
 * - A block ends by tail-calling the next one (wasmDispatch.ts explains why):
 *   a static successor of its module directly, anything else through the
 *   module's chain function, which returns the pc to the dispatch loop when
 *   it cannot find the block in its module.
 * - A loop whose body branches runs as one function, the hot block's region
 *   (regionOf, emitBlock), with the registers in locals throughout.
 *
 * A block's function takes BLOCK_PARAMS (its pc, the byte offset of the data
 * TlbSet, the instructions done so far, the budget, the jump table and its
 * epoch) and returns the next pc when the chain leaves its module. Functions
 * are named after the block's physical address (pa_80201000), so profilers
 * show where guest time goes.
 */
import type { Block, Hart } from "../hart.js";
import { F_ENDS_BLOCK, F_SYSTEM, type Exec, type Insn } from "../insn.js";
import { decode, decodeStraddling } from "../decode.js";
import * as I from "../exec/int.js";
import * as A from "../exec/amo.js";
import * as S from "../exec/system.js";
import { Csr, MSTATUS_FS, MSTATUS_SIE, SSTATUS_MASK } from "../csr.js";
import { selectInterrupt } from "../privileged.js";
import {
  JUMP_ENTRIES, JUMP_ENTRY_BYTES, LIVE_ENTRIES, STATE_DONE, STATE_EXIT, STATE_JUMPS, STATE_LIVE, STATE_MSTATUS,
  STATE_PENDING, STATE_PRIV, STATE_X,
} from "../hartState.js";
import { BLOCK_PARAMS, BLOCK_TYPE, dispatchModule, emitJumpProbe, EPOCHS, type Dispatch } from "./wasmDispatch.js";
import { TLB_MASK, TLB_ROFF, TLB_RTAG, TLB_WOFF, TLB_WTAG } from "../tlb.js";
import { Atomic, Code, encodeModule, Misc, Op, VOID, Val, type FuncSpec, type FuncType } from "./wasmWriter.js";

const TYPES: FuncType[] = [
  { params: BLOCK_PARAMS, results: [Val.F64] }, // BLOCK_TYPE: a block, and the module's chain function
  { params: [Val.I32, Val.I32, Val.F64], results: [Val.F64] }, // EX_TYPE: ex(block, k, pc) -> npc, and sys
];
const EX_TYPE = 1;
const F_EX = 0;
const F_SYS = 1;
/**
 * Then the imported blocks of older modules that this module links to
 * directly; every module defines its chain function first, then its blocks
 * (ModuleLayout).
 */
const F_IMPORTED = 2;

/** Function indices of a module's imported blocks, chain function and blocks. */
class ModuleLayout {
  constructor(readonly imports: number) {}
  get chain(): number {
    return F_IMPORTED + this.imports;
  }
  block(j: number): number {
    return this.chain + 1 + j;
  }
}

// Parameters (BLOCK_PARAMS) of block and chain functions, and the fixed locals of a block.
const P_PC = 0;
const P_TLB = 1;
const P_DONE = 2;
const P_BUDGET = 3;
const P_JUMPS = 4;
const P_EPOCH = 5;
const L_VA = 6; // i64 effective address
const L_T = 7; // i64 temporary
const L_A32 = 8; // i32 low half of the effective address
const L_IX = 9; // i32 TLB index
const L_NPC = 10; // f64 next pc
const L_X = 11; // i32 where a slow exit left: byte offset from the entry << 8 | index in its block
/** Guest registers and temporaries follow, only those the block uses (Liftoff zeroes every local on entry). */
const FIRST_LOCAL = 12;
const FIXED_LOCALS = [Val.I64, Val.I64, Val.I32, Val.I32, Val.F64, Val.I32];

/** STATE_EXIT values: a monitor instruction needs the run loop; a memory access needs the slow path. */
const EXIT_MONITOR = 1;
const EXIT_SLOW = 2;

/** WasmBackend.enteredIn: the block was entered at more than one pc (regimes take bits 0-3). */
const ENTERED_ELSEWHERE = 16;

/** Per-instruction emitters; an instruction without one calls its semantic function. */
type Emit = (g: Gen, i: Insn) => void;

/** Code generation state of one block. */
class Gen {
  readonly c = new Code();
  /** Local index of each guest register used (0 = not cached). */
  readonly local = new Int32Array(33);
  readonly used: number[] = [];
  /** Types of the locals after the fixed ones (registers and temporaries, in order of first use). */
  readonly localTypes: Val[] = [];
  /** First of mulhu's four i64 temporaries, once a multiply-high needs them. */
  private mulTemps = 0;
  /** First of sstatusOp's two i32 temporaries, once one needs them. */
  private csrTemps = 0;
  /** Registers written so far (must be stored before a call-out and at the end). */
  readonly dirty = new Set<number>();
  /**
   * Byte offset of the current instruction from the function's entry pc, its
   * index in its basic block (instructions retired before it since P_DONE)
   * and in the whole region (how the `ex` import finds it).
   */
  off = 0;
  k = 0;
  at = 0;
  /** The value left on the stack by a control transfer (the next pc), if any. */
  ended = false;
  /** Labels between the current block's code and the function's slow exit (emitBlock). */
  slowDepth = 0;
  /** Whether a memory access branches to the slow exit. */
  slowExits = false;

  /** `block`: this block's number in its module (the `ex` import's first argument). */
  constructor(
    readonly stateBase: number,
    readonly block: number,
  ) {}

  use(r: number): void {
    if (r === 0 || r === 32 || this.local[r] !== 0) return;
    this.local[r] = this.newLocal(Val.I64);
    this.used.push(r);
  }

  private newLocal(t: Val): number {
    this.localTypes.push(t);
    return FIRST_LOCAL + this.localTypes.length - 1;
  }

  /** mulhu's operands and intermediates: four i64 locals from the returned index. */
  mulLocals(): number {
    if (this.mulTemps === 0) {
      this.mulTemps = this.newLocal(Val.I64);
      for (let k = 1; k < 4; k++) this.newLocal(Val.I64);
    }
    return this.mulTemps;
  }

  /** sstatusOp's old and new mstatus: two i32 locals from the returned index. */
  csrLocals(): number {
    if (this.csrTemps === 0) {
      this.csrTemps = this.newLocal(Val.I32);
      this.newLocal(Val.I32);
    }
    return this.csrTemps;
  }

  get(r: number): void {
    if (r === 0) {
      this.c.i64(0);
      return;
    }
    this.use(r);
    this.c.idx(Op.LocalGet, this.local[r]);
  }

  /** Pops the value on the stack into rd (dropped for x0). */
  set(rd: number): void {
    if (rd === 0 || rd === 32) {
      this.c.op(Op.Drop);
      return;
    }
    this.use(rd);
    this.c.idx(Op.LocalSet, this.local[rd]);
    this.dirty.add(rd);
  }

  load(r: number, code = this.c): void {
    code.i32(0).mem(Op.I64Load, 3, this.stateBase + STATE_X + 8 * r).idx(Op.LocalSet, this.local[r]);
  }

  store(r: number): void {
    this.c.i32(0).idx(Op.LocalGet, this.local[r]).mem(Op.I64Store, 3, this.stateBase + STATE_X + 8 * r);
  }

  spill(): void {
    for (const r of this.dirty) this.store(r);
  }

  /**
   * Pushes a byte offset from the function's pc as f64: an i32 constant
   * converted (3-5 bytes of code) rather than an f64 constant (9).
   */
  offset(v: number): void {
    this.c.i32(v).op(Op.F64ConvertI32S);
  }

  /** Leaves (i32) whether the next pc (L_NPC) is the function's pc plus `delta`. */
  npcIs(delta: number): void {
    this.c.idx(Op.LocalGet, L_NPC).idx(Op.LocalGet, P_PC);
    this.offset(delta);
    this.c.op(Op.F64Add, Op.F64Eq);
  }

  /** Leaves (i32) whether `n` more instructions keep the chain within its budget. */
  withinBudget(n: number): void {
    this.c.idx(Op.LocalGet, P_DONE).i32(n).op(Op.I32Add).idx(Op.LocalGet, P_BUDGET).op(Op.I32LtU);
  }

  /** STATE_DONE = P_DONE + `n`: the instructions retired when the chain stops here. */
  storeDone(n: number): void {
    this.c.i32(0).idx(Op.LocalGet, P_DONE).i32(n).op(Op.I32Add).mem(Op.I32Store, 2, this.stateBase + STATE_DONE);
  }

  /** Counts the `n` instructions of the block just run into P_DONE. */
  retire(n: number): void {
    this.c.idx(Op.LocalGet, P_DONE).i32(n).op(Op.I32Add).idx(Op.LocalSet, P_DONE);
  }

  /** Tail-calls function `func` (a block or the chain function) with the next pc, after the `n` instructions of this block. */
  leave(n: number, func: number): void {
    const c = this.c;
    c.idx(Op.LocalGet, L_NPC).idx(Op.LocalGet, P_TLB).idx(Op.LocalGet, P_DONE).i32(n).op(Op.I32Add);
    c.idx(Op.LocalGet, P_BUDGET).idx(Op.LocalGet, P_JUMPS).idx(Op.LocalGet, P_EPOCH).idx(Op.ReturnCall, func);
  }

  /** pc of the current instruction plus `delta`, as f64. */
  pc(delta = 0): void {
    this.c.idx(Op.LocalGet, P_PC);
    this.offset(this.off + delta);
    this.c.op(Op.F64Add);
  }

  /** pc of the current instruction plus `delta`, as i64 (link addresses, AUIPC). */
  pc64(delta: number): void {
    this.c.idx(Op.LocalGet, P_PC).op(Op.MiscPrefix, Misc.I64TruncSatF64S).i64(this.off + delta).op(Op.I64Add);
  }

  /** Effective address rs1 + imm into L_VA and L_A32, and the TLB index into L_IX. */
  address(i: Insn): void {
    const c = this.c;
    this.get(i.rs1);
    if (i.imm !== 0) c.i64(i.imm).op(Op.I64Add);
    c.idx(Op.LocalTee, L_VA).op(Op.I32WrapI64).idx(Op.LocalTee, L_A32);
    c.i32(12).op(Op.I32ShrU).i32(TLB_MASK).op(Op.I32And).idx(Op.LocalSet, L_IX);
  }

  /**
   * Leaves "TLB miss or misaligned" (i32) for the access kind's tag table:
   * the entry's page-aligned address against the effective address with its
   * page offset cleared but its misalignment bits kept (tlb.ts). A compare
   * that feeds `if` directly: Liftoff then emits cmp and jcc, where
   * i64.eq + i32.eqz took five instructions.
   */
  miss(tagTable: number, size: number): void {
    const c = this.c;
    c.idx(Op.LocalGet, L_IX).i32(3).op(Op.I32Shl).idx(Op.LocalGet, P_TLB).op(Op.I32Add).mem(Op.I64Load, 3, tagTable);
    c.idx(Op.LocalGet, L_VA).i64(-4096 | (size - 1)).op(Op.I64And, Op.I64Ne);
  }

  /** Leaves the machine byte address of the access (i32) from the entry's page offset table. */
  hostAddress(offTable: number): void {
    const c = this.c;
    c.idx(Op.LocalGet, L_IX).i32(2).op(Op.I32Shl).idx(Op.LocalGet, P_TLB).op(Op.I32Add).mem(Op.I32Load, 2, offTable);
    c.idx(Op.LocalGet, L_A32).i32(4095).op(Op.I32And, Op.I32Add);
  }

  /**
   * Pops "TLB miss or misaligned"; if set, leaves the block before the
   * current instruction through the function's slow exit (slowExit), which
   * writes back the registers, counts the instructions before it and
   * returns its pc with STATE_EXIT = EXIT_SLOW, so the run loop interprets
   * it (TLB refill, page fault, misaligned or MMIO access). No call on the
   * fast path: a call anywhere in a function makes V8 spill the values live
   * across it on every path.
   */
  exitIf(): void {
    const c = this.c;
    c.op(Op.If, VOID).i32((this.off << 8) | this.k).idx(Op.LocalSet, L_X);
    c.idx(Op.Br, this.slowDepth + 1).op(Op.End);
    this.slowExits = true;
  }

  /**
   * The slow exit every memory access of the function shares (one copy
   * instead of one per access: a Debian boot's functions were 90 bytes of
   * WebAssembly per guest instruction). It stores every register the
   * function writes, which is right wherever it left because every
   * register is loaded on entry.
   */
  slowExit(): void {
    const c = this.c;
    this.spill();
    c.i32(0).idx(Op.LocalGet, P_DONE).idx(Op.LocalGet, L_X).i32(255).op(Op.I32And, Op.I32Add).mem(Op.I32Store, 2, this.stateBase + STATE_DONE);
    c.i32(0).i32(EXIT_SLOW).mem(Op.I32Store, 2, this.stateBase + STATE_EXIT);
    c.idx(Op.LocalGet, P_PC).idx(Op.LocalGet, L_X).i32(8).op(Op.I32ShrU, Op.F64ConvertI32U, Op.F64Add);
  }

  /**
   * Calls the current instruction's semantic function through import `fn`
   * (`ex` or `sys`); leaves the next pc. STATE_DONE counts the instructions
   * before it first, so a trap there is precise.
   */
  callOut(fn: number): void {
    this.spill();
    const c = this.c;
    this.storeDone(this.k);
    c.i32(this.block).i32(this.at);
    this.pc();
    c.idx(Op.Call, fn);
  }
}

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
 * Anything else leaves the block (Gen.exitUnless): the interpreter raises
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

const BRANCHES = new Set<Exec>([I.beq, I.bne, I.blt, I.bge, I.bltu, I.bgeu]);

/**
 * CSR instructions on sstatus that set or clear bits (csrrs, csrrc and their
 * immediate forms; csrrs with x0 reads): Linux masks and unmasks interrupts
 * with them around every spinlock, about 300 000 times in a Debian boot,
 * each of which cost a call into JavaScript (`sys`). Translated code runs
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
function emitterOf(ins: Insn): Emit | undefined {
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
 * Registers a semantic function called from a block may read or write
 * (their locals are written back before the call and rd is reloaded after
 * it); loading one that the instruction does not use (an FP register
 * number, immediate bits) is never wrong.
 */
function registersOf(i: Insn): number[] {
  return [i.rs1, i.rs2, i.rd];
}


/**
 * Splits the blocks of a region where its forward branches land inside
 * them, so that every such target starts a block of the region (emitBlock
 * branches to block starts only). A block runs on to the next branch, so the
 * join point after an if-then lies inside the "then" block.
 */
function splitAtTargets(region: Decoded[]): Decoded[] {
  const targets = new Set<number>();
  let off = 0;
  for (const b of region) {
    for (const d of staticSuccessors(b)) if (d > 0) targets.add(off + d);
    off += byteLength(b);
  }
  const out: Decoded[] = [];
  const entry = region[0].paddr;
  off = 0;
  for (const b of region) {
    let start = off;
    let insns: Insn[] = [];
    for (const ins of b.insns) {
      if (off !== start && targets.has(off)) {
        out.push({ paddr: entry + start, straddles: b.straddles, insns, split: true });
        start = off;
        insns = [];
      }
      insns.push(ins);
      off += ins.len;
    }
    out.push({ paddr: entry + start, straddles: b.straddles, insns });
  }
  return out;
}

/** Bytes of guest code a decoded block covers. */
function byteLength(b: Decoded): number {
  return b.insns.reduce((o, ins) => o + ins.len, 0);
}

/** Most blocks, and instructions, one function runs as a region (regionOf). */
const REGION_BLOCKS = 6;
const REGION_INSNS = 64;

/**
 * The blocks that `b`'s function runs after it without leaving (emitBlock):
 * those that follow it in memory in the same page, each reached from the
 * ones before by falling through or by a forward branch or JAL, current
 * (`blockAt`), not monitor instructions, with few semantic calls.
 * A loop whose body has a branch inside (multi-precision arithmetic,
 * string routines) then runs in one function with its registers in locals,
 * instead of tail-calling from block to block and storing and loading them
 * at every step. The blocks stay blocks of their own too: other code may
 * enter them.
 */
function regionOf(b: Block, blockAt: (pa: number) => Block | undefined): Block[] {
  const region: Block[] = [];
  if (b.straddles || (b.insns[0].flags & F_SYSTEM) !== 0) return region;
  const reached = new Set<number>();
  let last: Block = b;
  let off = 0;
  let insns = b.insns.length;
  // Members up to the last that branches back to b: only a loop is worth its compile time.
  let loop = 0;
  for (;;) {
    const successors = staticSuccessors(last).map((d) => off + d);
    if (successors.includes(0)) loop = region.length;
    for (const d of successors) reached.add(d);
    off += byteLength(last);
    if (region.length + 1 >= REGION_BLOCKS || !reached.has(off) || !samePage(b, b.paddr + off)) break;
    const next = blockAt(b.paddr + off);
    if (next === undefined || next.straddles || (next.insns[0].flags & F_SYSTEM) !== 0) break;
    if (insns + next.insns.length > REGION_INSNS || !WasmBackend.suits(next)) break;
    region.push(next);
    insns += next.insns.length;
    last = next;
  }
  return region.slice(0, loop);
}

/**
 * Blocks compiled together in one module (Hart.translateBatch, at most this).
 * V8's fixed cost per module (about 200-700 µs on this machine, whatever its
 * size) dwarfs compiling a block (about 15 µs), so hot blocks queue up and
 * are compiled in batches.
 */
const BATCH = 32;
/**
 * Instructions a queued block waits at most for its batch to fill (a hot
 * loop alone must not wait forever). 2 * 10^5 rather than 10^6: with the
 * compile world a module costs the hart little, and a Debian boot
 * interpreted 1.7 M blocks waiting for their batch instead of 2.6 M (hart
 * thread medians 12.3 -> 11.8 s, four interleaved pairs).
 */
const MAX_WAIT = 200_000;
/** Blocks one page can hold (one per halfword). */
const PAGE_SLOTS = 2048;

/**
 * A hart's WebAssembly code generator: batches hot blocks into modules over
 * the shared memory, gives each an index in the hart's function table, and
 * runs chains of them (wasmDispatch.ts).
 */
export class WasmBackend {
  private readonly memory: WebAssembly.Memory;
  private readonly pages: number;
  private readonly table: WebAssembly.Table;
  private nextIndex = 0;
  private epoch = 0;
  private readonly run: Dispatch;
  /** The jump-cache entries as f64 (pc tags) and i32 (index, count) views. */
  private readonly jumpTags: Float64Array;
  private readonly jumpWords: Int32Array;
  private readonly done: Int32Array;
  private readonly exit: Int32Array;
  private readonly live: Int32Array;
  /**
   * Per table index, where chain() entered the block: its pc, and a bit per
   * regime (ENTERED_ELSEWHERE: at another pc too), so that retire() can
   * clear those jump-cache entries instead of emptying the cache (a Debian
   * boot rewrites code pages with translated blocks some 140 times).
   */
  private readonly enteredPc: Float64Array;
  private readonly enteredIn: Uint8Array;
  private pending: Block[] = [];
  /** The function-table entries, for modules that import them (the typings of WebAssembly.Table lack get). */
  private readonly functions: unknown[] = [];
  /** instret when the oldest pending block was queued. */
  private since = 0;
  /** Bumped by clear(): a batch compiled for an older cache is dropped on arrival. */
  private cacheGeneration = 0;

  /** `capacity`: the most blocks translated before the hart drops its code cache (and calls clear()). */
  constructor(
    private readonly h: Hart,
    memory: WebAssembly.Memory,
    pages: number,
    capacity: number,
  ) {
    this.memory = memory;
    this.pages = pages;
    // Translation stops at `capacity`; the last batch can hold BATCH - 1 queued blocks, a hot one and the rest of its page's.
    const tableSize = capacity + BATCH + PAGE_SLOTS;
    if (tableSize > LIVE_ENTRIES) throw new Error("translation cache larger than the live table");
    this.table = new WebAssembly.Table({ element: "anyfunc", initial: tableSize });
    const dispatch = new WebAssembly.Instance(new WebAssembly.Module(dispatchModule(h.stateBase, pages, tableSize)), {
      env: { memory, table: this.table },
    });
    this.run = dispatch.exports.run as Dispatch;
    const buf = h.mem.machine.buffer;
    const jumps = h.stateBase + STATE_JUMPS;
    this.jumpTags = new Float64Array(buf, jumps, (4 * JUMP_ENTRIES * JUMP_ENTRY_BYTES) / 8);
    this.jumpWords = new Int32Array(buf, jumps, (4 * JUMP_ENTRIES * JUMP_ENTRY_BYTES) / 4);
    this.done = new Int32Array(buf, h.stateBase + STATE_DONE, 1);
    this.exit = new Int32Array(buf, h.stateBase + STATE_EXIT, 1);
    this.live = new Int32Array(buf, h.stateBase + STATE_LIVE, LIVE_ENTRIES);
    this.enteredPc = new Float64Array(tableSize);
    this.enteredIn = new Uint8Array(tableSize);
    this.jumpTags.fill(NaN);
  }

  /**
   * Whether WebAssembly suits the block: not when a third or more of its
   * instructions (FP, LR/SC, ...) would call their semantic function, because
   * each such call leaves WebAssembly for JavaScript, which costs more than a
   * JavaScript block calling it directly (bench fp kernel: 17 MIPS as
   * WebAssembly, 54 MIPS as JavaScript).
   */
  static suits(b: Block): boolean {
    const first = b.insns[0];
    if ((first.flags & F_SYSTEM) !== 0) return MONITOR.has(first.exec) && !INSTRET_CSRS.has(first.aux);
    let calls = 0;
    for (const ins of b.insns) if (emitterOf(ins) === undefined) calls++;
    return calls * 3 < b.insns.length;
  }

  /** Queues a hot block (and its warm neighbours); compiles the batch when it is full. Returns how many blocks went. */
  queue(blocks: Block[]): number {
    if (this.pending.length === 0) this.since = this.h.instret;
    this.pending.push(...blocks);
    return this.pending.length >= Math.min(this.h.translateBatch, BATCH) ? this.flush() : 0;
  }

  /** Sends the pending batch now if it still holds `b` (the guest spins in it). Returns how many blocks went. */
  urge(b: Block): number {
    return this.pending.includes(b) ? this.flush() : 0;
  }

  /**
   * Installs the batches compiled since the last call; sends the pending
   * blocks if the compiler is idle or the oldest has waited long enough.
   */
  poll(): number {
    const c = this.h.moduleCompiler;
    c.collect();
    return this.pending.length > 0 && this.h.instret - this.since >= MAX_WAIT ? this.flush() : 0;
  }

  /** Compiles the pending blocks and waits until every batch is installed (tests; a caller about to measure). */
  finish(): number {
    const n = this.flush();
    this.h.moduleCompiler.drain();
    return n;
  }

  /** Drops queued blocks and frees the function table (the code cache was flushed). */
  clear(): void {
    this.pending = [];
    this.nextIndex = 0;
    this.functions.fill(undefined);
    this.enteredIn.fill(0);
    this.cacheGeneration++;
    this.killLinks();
    this.forgetJumps();
  }

  /** Lets direct links enter translated block `b` again: its re-check after FENCE.I found it unchanged. */
  relink(b: Block): void {
    if (b.index >= 0) this.live[b.index] = 1;
  }

  /**
   * Block `b` no longer matches memory: direct links stop entering it, and so
   * do the jump-cache entries that lead to it.
   */
  retire(b: Block): void {
    const i = b.index;
    if (i < 0) return;
    this.live[i] = 0;
    const regimes = this.enteredIn[i];
    this.enteredIn[i] = 0;
    if ((regimes & ENTERED_ELSEWHERE) !== 0) {
      this.forgetJumps();
      return;
    }
    const slot = (this.enteredPc[i] / 2) & (JUMP_ENTRIES - 1);
    for (let r = 0; r < 4; r++) {
      const e = r * JUMP_ENTRIES + slot;
      if (((regimes >>> r) & 1) !== 0 && this.jumpWords[e * 4 + 2] === i) this.jumpTags[e * 2] = NaN;
    }
  }

  /** Makes every translated block wait for its re-check before direct links enter it again. */
  killLinks(): void {
    this.live.fill(0);
  }

  /** Empties the jump cache: code mappings changed, or a translated block may no longer match memory. */
  forgetJumps(): void {
    if (++this.epoch === EPOCHS) {
      this.epoch = 0;
      this.jumpTags.fill(NaN);
    }
  }

  /**
   * Runs translated block `b` at `pc` and then every translated block it
   * leads to, up to `budget` instructions; returns the next pc. `retired()`
   * then (also after a trap) says how many instructions ran.
   */
  chain(b: Block, pc: number, regime: number, tlb: number, budget: number): number {
    const e = regime * JUMP_ENTRIES + ((pc / 2) & (JUMP_ENTRIES - 1));
    const i = b.index;
    if (this.enteredPc[i] !== pc) {
      if (this.enteredIn[i] !== 0) this.enteredIn[i] |= ENTERED_ELSEWHERE;
      this.enteredPc[i] = pc;
    }
    this.enteredIn[i] |= 1 << regime;
    this.jumpTags[e * 2] = pc;
    this.jumpWords[e * 4 + 2] = b.index;
    this.jumpWords[e * 4 + 3] = this.epoch;
    this.exit[0] = 0;
    return this.run(pc, tlb, this.h.stateBase + STATE_JUMPS + regime * JUMP_ENTRIES * JUMP_ENTRY_BYTES, budget, this.epoch);
  }

  retired(): number {
    return this.done[0];
  }

  /** Whether the last chain stopped before a memory access that needs the slow path (the run loop interprets it). */
  slowExit(): boolean {
    return this.exit[0] === EXIT_SLOW;
  }

  /**
   * Sends every pending block that is still valid to be compiled as one
   * module, reserving their table indices (direct links between them are
   * encoded with those); install() enters them once the module is ready.
   * Returns how many blocks went.
   */
  flush(): number {
    const blocks = this.pending.filter((b) => b.valid);
    this.pending = [];
    if (blocks.length === 0) return 0;
    const h = this.h;
    const base = this.nextIndex;
    for (const b of blocks) b.region = regionOf(b, (pa) => h.blockInCodePage(pa));
    // Static successors in the same page that an older module holds are imported and linked directly too.
    const inBatch = new Set(blocks.filter((b) => !b.straddles).map((b) => b.paddr));
    const imported: { paddr: number; index: number }[] = [];
    for (const b of blocks) {
      for (const r of [b, ...b.region]) {
        for (const delta of staticSuccessors(r)) {
          const pa = r.paddr + delta;
          if (!samePage(r, pa) || inBatch.has(pa) || imported.some((i) => i.paddr === pa)) continue;
          const t = h.translatedAt(pa);
          if (t !== undefined) imported.push({ paddr: pa, index: t.index });
        }
      }
    }
    const raws = (b: Block): number[] => b.insns.map((i) => i.raw);
    const request: BatchRequest = {
      stateBase: h.stateBase,
      pages: this.pages,
      base,
      blocks: blocks.map((b) => ({ paddr: b.paddr, straddles: b.straddles, raws: raws(b), region: b.region.map(raws) })),
      imported,
    };
    const importedFns = imported.map((i) => this.functions[i.index]);
    this.nextIndex += blocks.length;
    this.live.fill(0, base, this.nextIndex);
    const generation = this.cacheGeneration;
    h.moduleCompiler.compile(request, (module) => {
      if (generation === this.cacheGeneration) this.install(module, blocks, base, importedFns);
    });
    return blocks.length;
  }

  /**
   * Instantiates a compiled batch and enters its blocks in the function
   * table at the indices flush() reserved. A block dropped meanwhile (its
   * page was written) stays out; one that FENCE.I sent to be re-checked is
   * entered but not live, so direct links wait for the run loop's re-check.
   */
  private install(module: WebAssembly.Module, blocks: Block[], base: number, importedFns: unknown[]): void {
    const h = this.h;
    // A function's instructions: its block's, then those of the blocks of its region.
    const insns = blocks.map((b) => (b.region.length === 0 ? b.insns : [b, ...b.region].flatMap((r) => r.insns)));
    const ex = (j: number, k: number, pc: number): number => {
      const ins = insns[j][k];
      h.pc = pc;
      h.npc = pc + ins.len;
      ins.exec(h, ins);
      return h.npc;
    };
    const sys = (j: number, k: number, pc: number): number => {
      const { iregime, dtlb } = h;
      const epoch = this.epoch;
      const npc = ex(j, k, pc);
      if (h.iregime !== iregime || h.dtlb !== dtlb || this.epoch !== epoch || selectInterrupt(h) >= 0) this.exit[0] = EXIT_MONITOR;
      return npc;
    };
    const env: Record<string, unknown> = { memory: this.memory, ex, sys };
    importedFns.forEach((f, m) => (env[`b${m}`] = f));
    const instance = new WebAssembly.Instance(module, { env } as WebAssembly.Imports);
    blocks.forEach((b, j) => {
      if (!b.valid) return;
      b.index = base + j;
      this.functions[b.index] = instance.exports[String(j)];
      this.table.set(b.index, this.functions[b.index]);
      this.live[b.index] = h.isCurrent(b) ? 1 : 0;
    });
  }
}

/**
 * What a batch's module is made from: the blocks' instruction bits (decoded
 * again where the module is encoded, by the one decoder, so the request can
 * cross to the compile world), their physical addresses, their table
 * indices from `base`, and the older blocks they link to directly.
 */
export interface BatchRequest {
  stateBase: number;
  /** Pages of the shared memory the module imports. */
  pages: number;
  /** Table index of the first block. */
  base: number;
  /** `region`: the instruction bits of the blocks that follow in the block's function (regionOf). */
  blocks: { paddr: number; straddles: boolean; raws: number[]; region: number[][] }[];
  /** Translated blocks of older modules linked to directly, in import order. */
  imported: { paddr: number; index: number }[];
}

/**
 * A decoded block as the encoder needs it (a Block, or one decoded again
 * from a BatchRequest); `split`: the first part of a block that
 * splitAtTargets cut in two, which runs on into the rest as one block.
 */
type Decoded = Pick<Block, "paddr" | "straddles" | "insns"> & { split?: boolean };

/** Encodes a batch's module: its chain function, then one function per block (wasmDispatch.ts). */
export function encodeBatch(req: BatchRequest): Uint8Array {
  const blocks: Decoded[] = req.blocks.map(({ paddr, straddles, raws }) => ({
    paddr,
    straddles,
    insns: raws.map((raw) => (straddles ? decodeStraddling(raw) : decode(raw))),
  }));
  // Each function's region: its block, then the blocks that follow it in memory.
  const regions = blocks.map((b, j) => {
    const region = [b];
    for (const raws of req.blocks[j].region) {
      const last = region[region.length - 1];
      region.push({ paddr: last.paddr + byteLength(last), straddles: false, insns: raws.map((raw) => decode(raw)) });
    }
    return splitAtTargets(region);
  });
  const { base, imported } = req;
  const byAddress = new Map<number, number>();
  blocks.forEach((b, j) => {
    if (!b.straddles) byAddress.set(b.paddr, j);
  });
  const importOf = new Map(imported.map((i, m) => [i.paddr, m]));
  const layout = new ModuleLayout(imported.length);
  const funcs: FuncSpec[] = [
    { type: BLOCK_TYPE, locals: [Val.I32, Val.I32], code: chainBody(req.stateBase, base, blocks.length, layout) },
  ];
  blocks.forEach((b, j) => {
    const g = new Gen(req.stateBase, j);
    const code = emitBlock(g, regions[j], layout, (delta) => {
      const pa = b.paddr + delta;
      if (!samePage(b, pa)) return undefined;
      const t = byAddress.get(pa);
      if (t !== undefined) return { func: layout.block(t), index: base + t };
      const m = importOf.get(pa);
      return m === undefined ? undefined : { func: F_IMPORTED + m, index: imported[m].index };
    });
    funcs.push({ type: BLOCK_TYPE, locals: [...FIXED_LOCALS, ...g.localTypes], code, name: `pa_${b.paddr.toString(16)}` });
  });
  return encodeModule({
    types: TYPES,
    memoryPages: req.pages,
    imports: [
      { name: "ex", type: EX_TYPE },
      { name: "sys", type: EX_TYPE },
      ...imported.map((_, m) => ({ name: `b${m}`, type: BLOCK_TYPE })),
    ],
    funcs,
    exports: blocks.map((_, j) => ({ name: String(j), func: layout.block(j) })),
  });
}

/**
 * The module's chain function, which every block of the module tail-calls
 * with the next pc: records the instructions retired so far, then looks the
 * pc up in the jump cache and tail-calls the block there if it belongs to
 * this module (table indices base, base + 1, ...). Anything else, or the end
 * of the budget, returns the pc to the dispatch loop. A return_call costs
 * about 2 ns where the dispatch loop's call_indirect costs 10-17 ns, and
 * three quarters of the block-to-block transfers of a Debian boot stay in
 * their module.
 */
function chainBody(stateBase: number, base: number, n: number, layout: ModuleLayout): Code {
  const E = BLOCK_PARAMS.length;
  const CUR = E + 1;
  const c = new Code();
  c.i32(0).idx(Op.LocalGet, P_DONE).mem(Op.I32Store, 2, stateBase + STATE_DONE);
  c.op(Op.Block, VOID); // exit
  c.idx(Op.LocalGet, P_DONE).idx(Op.LocalGet, P_BUDGET).op(Op.I32GeU).idx(Op.BrIf, 0);
  emitJumpProbe(c, P_PC, P_JUMPS, P_EPOCH, E);
  c.idx(Op.BrIf, 0);
  c.idx(Op.LocalGet, E).mem(Op.I32Load, 2, 8).i32(base).op(Op.I32Sub).idx(Op.LocalTee, CUR).i32(n).op(Op.I32GeU).idx(Op.BrIf, 0);
  for (let j = 0; j < n; j++) c.op(Op.Block, VOID); // block j's call follows the end of the j-th innermost
  c.idx(Op.LocalGet, CUR).brTable([...Array(n).keys()], 0);
  for (let j = 0; j < n; j++) {
    c.op(Op.End);
    for (let p = 0; p < BLOCK_PARAMS.length; p++) c.idx(Op.LocalGet, p);
    c.idx(Op.ReturnCall, layout.block(j));
  }
  c.op(Op.End);
  c.idx(Op.LocalGet, P_PC);
  return c;
}

/**
 * Offsets from the block's pc of the successors known before it runs: the
 * targets of a final branch or JAL, or the fall-through after a last
 * instruction that does not end the block; none after JALR, a monitor
 * instruction or a semantic function's call (which returns the next pc).
 */
function staticSuccessors(b: Decoded): number[] {
  const last = b.insns[b.insns.length - 1];
  const end = byteLength(b);
  const lastOff = end - last.len;
  if (BRANCHES.has(last.exec)) return [lastOff + last.imm, end];
  if (last.exec === I.jal) return [lastOff + last.imm];
  // A monitor instruction run inline (sstatusOp) ends its block but falls through unless it stops the chain.
  if (emitterOf(last) === undefined || ((last.flags & F_ENDS_BLOCK) !== 0 && (last.flags & F_SYSTEM) === 0)) return [];
  return [end];
}

/** Whether `pa` lies in block `b`'s page (a block straddling two pages links to nothing). */
function samePage(b: Decoded, pa: number): boolean {
  return !b.straddles && Math.floor(pa / 4096) === Math.floor(b.paddr / 4096);
}

/** A block linked directly (of the module being compiled, or imported): its function index and table index. */
interface LinkTarget {
  func: number;
  index: number;
}

/**
 * Emits the function of one block and its region (the blocks after it that
 * it reaches by falling through or branching forward: regionOf), laid out in
 * address order: a branch to a later block of the region is a `br` to it, a
 * branch back to the first block a `br` to a loop around them all, and the
 * guest registers stay in locals throughout. Every other transfer leaves the
 * function: it writes the registers back and tail-calls the next block. A
 * static successor (the fall-through or the target of a branch or JAL) in
 * the same physical page, in the same module or imported from an older one,
 * is linked directly: `linkTo(offset from the function's pc)` names it. Same
 * page means same mapping, so the link holds whatever satp says; the
 * successor's live word (STATE_LIVE) says whether it still matches memory.
 * Anything else goes through the chain function. P_DONE counts the
 * instructions retired before the current block of the region.
 */
function emitBlock(g: Gen, region: Decoded[], layout: ModuleLayout, linkTo: (delta: number) => LinkTarget | undefined): Code {
  const c = g.c;
  // Emitted instructions get their registers' locals on first use; a call-out's must exist before it.
  for (const b of region) for (const ins of b.insns) if (emitterOf(ins) === undefined) for (const r of registersOf(ins)) g.use(r);
  const offsets: number[] = [];
  let end = 0;
  for (const b of region) {
    offsets.push(end);
    end += byteLength(b);
  }
  const successors = region.map((b, j) => staticSuccessors(b).map((d) => offsets[j] + d));
  const indexAt = new Map(offsets.map((o, j) => [o, j]));
  const forward = (j: number, d: number): number => {
    const t = indexAt.get(d);
    return t !== undefined && t > j ? t : -1;
  };
  // Blocks entered by a forward branch (not only by falling through from the one before) get a label.
  const labelled = region.map((_, t) => successors.some((list, j) => j < t && list.some((d) => d === offsets[t] && (j < t - 1 || d !== offsets[j] + byteLength(region[j])))));
  // A region that branches back to its start (memset, memcpy, multi-precision arithmetic) loops inside its function.
  const loop = successors.some((list) => list.includes(0));
  c.op(Op.Block, VOID); // the slow exit follows its end
  if (loop) c.op(Op.Loop, VOID);
  for (let t = region.length - 1; t > 0; t--) if (labelled[t]) c.op(Op.Block, VOID);
  let at = 0;
  region.forEach((b, j) => {
    if (labelled[j]) c.op(Op.End);
    const n = b.insns.length;
    g.ended = false;
    // Labels open in block j: those of the later labelled blocks (innermost first) before block t, then the loop.
    const openBefore = (t: number): number => labelled.filter((l, u) => l && u > j && u < t).length;
    g.slowDepth = openBefore(region.length) + (loop ? 1 : 0);
    for (let k = 0; k < n; k++, at++) {
      const ins = b.insns[k];
      g.k = k;
      g.at = at;
      const emit = emitterOf(ins);
      if (emit !== undefined) {
        emit(g, ins);
      } else {
        g.callOut((ins.flags & F_SYSTEM) !== 0 ? F_SYS : F_EX);
        if (k === n - 1) g.ended = true;
        else c.op(Op.Drop);
        if (g.local[ins.rd] !== 0) g.load(ins.rd);
      }
      g.off += ins.len;
    }
    if (!g.ended) {
      c.idx(Op.LocalGet, P_PC);
      g.offset(g.off);
      c.op(Op.F64Add);
    }
    c.idx(Op.LocalSet, L_NPC);
    const fall = offsets[j] + byteLength(b);
    const intoNext = j + 1 < region.length && successors[j].includes(fall);
    // A block that can only leave the function writes its registers back once, before choosing the exit.
    const stays = b.split === true || intoNext || successors[j].some((d) => forward(j, d) >= 0 || d === 0);
    if (!stays) g.spill();
    const spill = (): void => {
      if (stays) g.spill();
    };
    if ((b.insns[0].flags & F_SYSTEM) !== 0) {
      // The monitor instruction asked for the run loop: back to the dispatch loop, which stops too
      // (before any direct link: an inline sstatus access falls through to the next block).
      c.i32(0).mem(Op.I32Load, 2, g.stateBase + STATE_EXIT).op(Op.If, VOID);
      g.storeDone(n);
      c.idx(Op.LocalGet, L_NPC).op(Op.Return, Op.End);
    }
    for (const d of successors[j]) {
      if (intoNext && d === fall) continue;
      const t = forward(j, d);
      if (t >= 0) {
        // npc == pc + d && done + n < budget: on to block t of the region
        g.npcIs(d);
        g.withinBudget(n);
        c.op(Op.I32And, Op.If, VOID);
        g.retire(n);
        c.idx(Op.Br, openBefore(t) + 1).op(Op.End);
      } else if (d === 0) {
        // npc == pc && done + n < budget: around the loop again; memory is current at its head
        g.npcIs(0);
        g.withinBudget(n);
        c.op(Op.I32And, Op.If, VOID);
        spill();
        g.retire(n);
        c.idx(Op.Br, openBefore(region.length) + 1).op(Op.End);
      } else {
        const link = linkTo(d);
        if (link === undefined) continue;
        // npc == pc + d && live[link] && done + n < budget
        g.npcIs(d);
        c.i32(0).mem(Op.I32Load, 2, g.stateBase + STATE_LIVE + 4 * link.index).op(Op.I32And);
        g.withinBudget(n);
        c.op(Op.I32And, Op.If, VOID);
        spill();
        g.storeDone(n);
        g.leave(n, link.func);
        c.op(Op.End);
      }
    }
    if (b.split === true) {
      // The rest of the same block: on without a check, as the interpreter runs a block whole.
      g.retire(n);
    } else if (intoNext) {
      // Falls through into the next block of the region unless the branch went elsewhere or the budget is used up.
      g.npcIs(fall);
      g.withinBudget(n);
      c.op(Op.I32And, Op.I32Eqz, Op.If, VOID);
      spill();
      g.leave(n, layout.chain);
      c.op(Op.End);
      g.retire(n);
    } else {
      spill();
      g.leave(n, layout.chain);
    }
  });
  if (loop) c.op(Op.End, Op.Unreachable);
  c.op(Op.End);
  if (g.slowExits) g.slowExit();
  else c.op(Op.Unreachable);
  // On entry every register the function uses, also those written before read: the slow exit stores all it writes.
  const code = new Code();
  for (const r of g.used) g.load(r, code);
  code.bytes.append(c.bytes);
  return code;
}
