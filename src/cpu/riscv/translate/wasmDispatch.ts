/**
 * Chaining for the WebAssembly back end: a small WebAssembly loop that runs
 * translated block after translated block without coming back to the
 * JavaScript run loop, which costs far more per block than the blocks
 * themselves (a JS-to-WebAssembly call through a megamorphic call site).
 *
 * The loop looks the next pc up in the hart's translated-code jump cache
 * (hartState.ts: STATE_JUMPS, one table per regime, filled by the run loop;
 * an entry from an older epoch is a miss, so forgetting them all is one
 * increment) and calls the block through the hart's function table. It returns to
 * JavaScript on a miss (untranslated or monitor code, or a block not seen
 * from JavaScript yet), when the instruction budget is used up, or by an
 * exception (a trap). It never needs to check for interrupts: the run loop
 * enters it only with none pending, and only monitor instructions — never
 * translated — or other worlds (through the attention word, seen when the
 * budget ends) can make one pending.
 *
 * STATE_DONE holds the instructions retired by completed blocks, written
 * before each call, so a trap inside a block is counted exactly.
 */
import { JUMP_ENTRIES, JUMP_ENTRY_BYTES, STATE_DONE } from "../hartState.js";
import { Code, encodeModule, Misc, Op, VOID, Val } from "./wasmWriter.js";

/** run(pc, dataTlb, jumpTable, budget, epoch) -> pc. */
export type Dispatch = (pc: number, tlb: number, jumps: number, budget: number, epoch: number) => number;

/** Epochs fit in the 24 bits above an entry's instruction count. */
export const EPOCHS = 1 << 24;

/** Type index of a block function in every module: (pc f64, tlb i32) -> f64. */
export const BLOCK_TYPE = 0;

export function dispatchModule(stateBase: number, memoryPages: number, tableSize: number): Uint8Array {
  const PC = 0;
  const TLB = 1;
  const JUMPS = 2;
  const BUDGET = 3;
  const EPOCH = 4;
  const DONE = 5;
  const E = 6;
  const N = 7;
  const c = new Code();
  const saveDone = (): void => void c.i32(0).idx(Op.LocalGet, DONE).mem(Op.I32Store, 2, stateBase + STATE_DONE);
  c.op(Op.Loop, VOID);
  // e = jumps + ((low word of pc >>> 1) & mask) * JUMP_ENTRY_BYTES
  c.idx(Op.LocalGet, PC).op(Op.MiscPrefix, Misc.I64TruncSatF64S, Op.I32WrapI64).i32(1).op(Op.I32ShrU).i32(JUMP_ENTRIES - 1).op(Op.I32And);
  c.i32(Math.log2(JUMP_ENTRY_BYTES)).op(Op.I32Shl).idx(Op.LocalGet, JUMPS).op(Op.I32Add).idx(Op.LocalTee, E);
  c.mem(Op.F64Load, 3, 0).idx(Op.LocalGet, PC).op(Op.F64Ne);
  c.idx(Op.LocalGet, E).mem(Op.I32Load, 2, 12).idx(Op.LocalTee, N).i32(8).op(Op.I32ShrU).idx(Op.LocalGet, EPOCH).op(Op.I32Ne, Op.I32Or);
  c.op(Op.If, VOID);
  saveDone();
  c.idx(Op.LocalGet, PC).op(Op.Return, Op.End);
  saveDone();
  c.idx(Op.LocalGet, N).i32(255).op(Op.I32And).idx(Op.LocalSet, N);
  c.idx(Op.LocalGet, PC).idx(Op.LocalGet, TLB).idx(Op.LocalGet, E).mem(Op.I32Load, 2, 8);
  c.idx(Op.CallIndirect, BLOCK_TYPE).op(0x00 /* table 0 */).idx(Op.LocalSet, PC);
  c.idx(Op.LocalGet, DONE).idx(Op.LocalGet, N).op(Op.I32Add).idx(Op.LocalTee, DONE);
  c.idx(Op.LocalGet, BUDGET).op(Op.I32LtU, Op.BrIf, 0, Op.End);
  saveDone();
  c.idx(Op.LocalGet, PC);
  return encodeModule({
    types: [
      { params: [Val.F64, Val.I32], results: [Val.F64] },
      { params: [Val.F64, Val.I32, Val.I32, Val.I32, Val.I32], results: [Val.F64] },
    ],
    memoryPages,
    table: tableSize,
    imports: [],
    funcs: [{ type: 1, locals: [Val.I32, Val.I32, Val.I32], code: c }],
    exports: [{ name: "run", func: 0 }],
  });
}
