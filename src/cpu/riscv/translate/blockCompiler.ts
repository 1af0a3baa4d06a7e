/**
 * The translator ("scan before execution"): turns a decoded block — the same
 * `Block` the interpreter runs, from the one decoder — into a JavaScript
 * function that V8 compiles to machine code. Hot integer instructions become
 * inline statements (templates.ts); every other instruction, including every
 * one that needs the monitor (CSR access, xRET, WFI, SFENCE.VMA, FENCE.I,
 * ECALL/EBREAK, which the decoder always puts in a block of their own), is a
 * call of its semantic function. Before anything that can trap, the
 * function makes pc and the retired count exact, so traps stay precise.
 *
 * JavaScript source through `new Function`: guest state already lives in
 * typed arrays that generated JS indexes directly and the fallback calls
 * stay plain JS calls, which suits blocks that are mostly such calls (FP
 * code) and guests whose RAM is not a WebAssembly memory; everything else
 * goes to the WebAssembly back end (docs/translator.md).
 */
import type { Block, Hart } from "../hart.js";
import * as i64 from "../i64.js";
import { SETS_PC, TEMPLATES } from "./templates.js";

/**
 * A translated block: runs the block starting at pc `pc0` with the data TLB
 * set at machine byte offset `tlb` and returns the next pc. The run loop
 * counts the block's instructions as retired; on a trap it throws TRAP with
 * h.pc and h.icount (instructions before the trapping one) exact.
 */
export type BlockFn = (pc0: number, tlb: number) => number;

/** Helpers the generated code may call (X.*). */
const HELPERS = { r: i64.r, fromNum: i64.fromNum, toNum: i64.toNum, sll64: i64.sll64, srl64: i64.srl64, sra64: i64.sra64 };

/** JavaScript source of the block's function body (exported for tests and debugging). */
export function blockSource(b: Block): string {
  const out = ["const L = h.lo, H = h.hi, I32 = h.i32, U8 = h.u8, U16 = h.u16, T = h.dtlb;"];
  let off = 0;
  let pcSet = false;
  const n = b.insns.length;
  b.insns.forEach((ins, k) => {
    const pc = off === 0 ? "pc0" : `(pc0 + ${off})`;
    const sync = `h.pc = ${pc}; h.icount = ${k};`;
    const template = TEMPLATES.get(ins.exec);
    if (template !== undefined) {
      out.push(template(ins, { pc, sync }));
      if (SETS_PC.has(ins.exec)) pcSet = true;
    } else {
      out.push(`${sync} h.npc = ${pc} + ${ins.len}; I[${k}].exec(h, I[${k}]);`);
      if (k === n - 1) {
        out.push("return h.npc;");
        pcSet = true;
      }
    }
    off += ins.len;
  });
  if (!pcSet) out.push(`return pc0 + ${off};`);
  return out.join("\n");
}

/** Compiles the block to a JavaScript function for hart `h`. */
export function compileBlock(b: Block, h: Hart): BlockFn {
  const make = new Function("X", "I", "h", `"use strict"; return function block(pc0) {\n${blockSource(b)}\n};`) as (
    x: typeof HELPERS,
    insns: unknown,
    h: Hart,
  ) => BlockFn;
  return make(HELPERS, b.insns, h);
}
