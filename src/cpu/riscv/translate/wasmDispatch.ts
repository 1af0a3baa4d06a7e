/**
 * Chaining for the WebAssembly back end: a small WebAssembly loop that runs
 * translated blocks one after another without coming back to the JavaScript
 * run loop, which costs far more per block than the blocks themselves (a
 * JS-to-WebAssembly call through a megamorphic call site).
 *
 * Blocks compiled together in one module (wasmModuleEncoder.ts) pass control
 * among themselves by tail calls (return_call, about 2 ns), directly to a
 * static successor or through the module's chain function; they return here
 * only when the next block lies in another module, because a call_indirect
 * costs 10-17 ns in Node 20's V8 (and its return_call_indirect far more).
 * Most block-to-block transfers stay in their module (docs/perf-log.md).
 *
 * Both this loop and the chain functions find the next block in the hart's
 * translated-code jump cache (hartState.ts: STATE_JUMPS, one table per
 * regime, filled by the run loop; an entry from an older epoch is a miss,
 * so forgetting them all is one increment). The loop calls a block through
 * the hart's function table. It returns to JavaScript on a miss
 * (untranslated code, or a block not seen from JavaScript yet), when the
 * instruction budget is used up, when a monitor instruction run by
 * translated code asks for the run loop (STATE_EXIT), or by an exception (a
 * trap). It never needs to check for interrupts: the run loop enters it only
 * with none deliverable, and only monitor instructions (which set STATE_EXIT
 * when they make one deliverable) or other worlds (through the attention
 * word, seen when the budget ends) can change that.
 *
 * STATE_DONE holds the instructions retired by completed blocks; blocks add
 * their count when they complete, so a trap inside a block is counted
 * exactly.
 */
import { JUMP_ENTRIES, JUMP_ENTRY_BYTES, STATE_DONE, STATE_EXIT } from "../hartState.js";
import { Code, encodeModule, Misc, Op, VOID, Val } from "./wasmWriter.js";

/** run(pc, dataTlb, jumpTable, budget, epoch) -> pc. */
export type Dispatch = (pc: number, tlb: number, jumps: number, budget: number, epoch: number) => number;

/** Epochs of the jump cache wrap here (then every entry is cleared). */
export const EPOCHS = 1 << 30;

/**
 * Type index of a block function in every module:
 * (pc f64, data TLB i32, instructions done i32, budget i32, jump table i32, epoch i32) -> next pc f64.
 */
export const BLOCK_TYPE = 0;
export const BLOCK_PARAMS = [Val.F64, Val.I32, Val.I32, Val.I32, Val.I32, Val.I32];

/**
 * Emits the jump-cache probe for the pc in local `pc`: sets local `e` to the
 * entry's address and leaves 1 (i32) on a miss, 0 on a hit. The entry is
 * pc (f64), function-table index (i32), epoch (i32).
 */
export function emitJumpProbe(c: Code, pc: number, jumps: number, epoch: number, e: number): void {
  // e = jumps + ((low word of pc >>> 1) & mask) * JUMP_ENTRY_BYTES
  c.idx(Op.LocalGet, pc).op(Op.MiscPrefix, Misc.I64TruncSatF64S, Op.I32WrapI64).i32(1).op(Op.I32ShrU).i32(JUMP_ENTRIES - 1).op(Op.I32And);
  c.i32(Math.log2(JUMP_ENTRY_BYTES)).op(Op.I32Shl).idx(Op.LocalGet, jumps).op(Op.I32Add).idx(Op.LocalTee, e);
  c.mem(Op.F64Load, 3, 0).idx(Op.LocalGet, pc).op(Op.F64Ne);
  c.idx(Op.LocalGet, e).mem(Op.I32Load, 2, 12).idx(Op.LocalGet, epoch).op(Op.I32Ne, Op.I32Or);
}

export function dispatchModule(stateBase: number, memoryPages: number, tableSize: number): Uint8Array {
  const PC = 0;
  const TLB = 1;
  const JUMPS = 2;
  const BUDGET = 3;
  const EPOCH = 4;
  const E = 5;
  const c = new Code();
  c.i32(0).i32(0).mem(Op.I32Store, 2, stateBase + STATE_DONE);
  c.op(Op.Loop, VOID);
  emitJumpProbe(c, PC, JUMPS, EPOCH, E);
  c.op(Op.If, VOID).idx(Op.LocalGet, PC).op(Op.Return, Op.End);
  c.idx(Op.LocalGet, PC).idx(Op.LocalGet, TLB).i32(0).mem(Op.I32Load, 2, stateBase + STATE_DONE);
  c.idx(Op.LocalGet, BUDGET).idx(Op.LocalGet, JUMPS).idx(Op.LocalGet, EPOCH);
  c.idx(Op.LocalGet, E).mem(Op.I32Load, 2, 8);
  c.idx(Op.CallIndirect, BLOCK_TYPE).op(0x00 /* table 0 */).idx(Op.LocalSet, PC);
  c.i32(0).mem(Op.I32Load, 2, stateBase + STATE_DONE).idx(Op.LocalGet, BUDGET).op(Op.I32LtU);
  c.i32(0).mem(Op.I32Load, 2, stateBase + STATE_EXIT).op(Op.I32Eqz, Op.I32And, Op.BrIf, 0, Op.End);
  c.idx(Op.LocalGet, PC);
  return encodeModule({
    types: [
      { params: BLOCK_PARAMS, results: [Val.F64] },
      { params: [Val.F64, Val.I32, Val.I32, Val.I32, Val.I32], results: [Val.F64] },
    ],
    memoryPages,
    table: tableSize,
    imports: [],
    funcs: [{ type: 1, locals: [Val.I32], code: c }],
    exports: [{ name: "run", func: 0 }],
  });
}
