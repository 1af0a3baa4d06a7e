/**
 * The WebAssembly back end of the translator: a decoded `Block` becomes one
 * WebAssembly function that V8 compiles straight to machine code (Liftoff,
 * then TurboFan when hot), so even lukewarm code runs native code — the JS
 * back end's functions start in V8's bytecode interpreter instead.
 *
 * This file encodes a batch of hot blocks as one module (encodeBatch): its
 * chain function, and one function per block (emitBlock). The rest of the
 * back end, by job:
 * - wasmCodeGen.ts: the state of one function being emitted (guest
 *   registers in i64 locals, the TLB fast path, the slow exit, call-outs
 *   that keep traps precise);
 * - wasmEmitters.ts: how each instruction is emitted, or that it calls its
 *   semantic function through the `ex` or `sys` import;
 * - wasmRegions.ts: which blocks after a hot one its function runs too, and
 *   static successors;
 * - wasmBackend.ts: the hart's cache of translated blocks (batches, the
 *   function table, the jump cache, invalidation);
 * - wasmDispatch.ts: the dispatch loop between modules; wasmWriter.ts: the
 *   binary format.
 *
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
import { decode, decodeStraddling } from "../decode.js";
import { F_SYSTEM } from "../insn.js";
import { STATE_DONE, STATE_EXIT, STATE_LIVE } from "../hartState.js";
import { BLOCK_PARAMS, BLOCK_TYPE, emitJumpProbe } from "./wasmDispatch.js";
import { Code, encodeModule, Op, VOID, Val, type FuncSpec, type FuncType } from "./wasmWriter.js";
import { FIXED_LOCALS, Gen, L_NPC, P_BUDGET, P_DONE, P_EPOCH, P_JUMPS, P_PC } from "./wasmCodeGen.js";
import { emitterOf, registersOf } from "./wasmEmitters.js";
import { byteLength, samePage, splitAtTargets, staticSuccessors, type Decoded } from "./wasmRegions.js";

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
 * most block-to-block transfers stay in their module (docs/perf-log.md).
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
