/**
 * Code generation state of one translated function (wasmModuleEncoder.ts
 * lays out the functions): its parameters and fixed locals, the guest
 * registers it keeps in i64 locals for its whole run (every one its code uses
 * is loaded from the hart's state area, hartState.ts, on entry; written ones
 * go back when it leaves and before anything that can trap or read them),
 * the inline software-TLB fast path of loads, stores and AMOs, the one slow
 * exit, and call-outs to semantic functions, before which the function counts
 * the instructions retired into STATE_DONE, so that traps stay precise.
 */
import type { Insn } from "../insn.js";
import { STATE_DONE, STATE_EXIT, STATE_X } from "../hartState.js";
import { TLB_MASK } from "../tlb.js";
import { Code, Misc, Op, VOID, Val } from "./wasmWriter.js";

// Parameters (BLOCK_PARAMS) of block and chain functions, and the fixed locals of a block.
export const P_PC = 0;
export const P_TLB = 1;
export const P_DONE = 2;
export const P_BUDGET = 3;
export const P_JUMPS = 4;
export const P_EPOCH = 5;
export const L_VA = 6; // i64 effective address
export const L_T = 7; // i64 temporary
export const L_A32 = 8; // i32 low half of the effective address
export const L_IX = 9; // i32 TLB index
export const L_NPC = 10; // f64 next pc
export const L_X = 11; // i32 where a slow exit left: byte offset from the entry << 8 | index in its block
/** Guest registers and temporaries follow, only those the block uses (Liftoff zeroes every local on entry). */
export const FIRST_LOCAL = 12;
export const FIXED_LOCALS = [Val.I64, Val.I64, Val.I32, Val.I32, Val.F64, Val.I32];

/** STATE_EXIT values: a monitor instruction needs the run loop; a memory access needs the slow path. */
export const EXIT_MONITOR = 1;
export const EXIT_SLOW = 2;

/** Code generation state of one block. */
export class Gen {
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
   * instead of one per access, which made functions large:
   * docs/perf-log.md). It stores every register the
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
