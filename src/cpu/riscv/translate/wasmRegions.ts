/**
 * Region formation for the WebAssembly back end: which blocks after a hot
 * block its function runs too (regionOf), and the static facts about
 * decoded blocks that the encoder and the direct links rely on (their static
 * successors, their page, their length). A loop whose body branches runs as
 * one function, with the registers in locals throughout.
 */
import type { Block } from "../hart.js";
import { F_ENDS_BLOCK, F_SYSTEM, type Insn } from "../insn.js";
import * as I from "../exec/int.js";
import { BRANCHES, emitterOf, suitsWasm } from "./wasmEmitters.js";

/**
 * A decoded block as the encoder needs it (a Block, or one decoded again
 * from a BatchRequest); `split`: the first part of a block that
 * splitAtTargets cut in two, which runs on into the rest as one block.
 */
export type Decoded = Pick<Block, "paddr" | "straddles" | "insns"> & { split?: boolean };

/**
 * Splits the blocks of a region where its forward branches land inside
 * them, so that every such target starts a block of the region (emitBlock
 * branches to block starts only). A block runs on to the next branch, so the
 * join point after an if-then lies inside the "then" block.
 */
export function splitAtTargets(region: Decoded[]): Decoded[] {
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
export function byteLength(b: Decoded): number {
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
export function regionOf(b: Block, blockAt: (pa: number) => Block | undefined): Block[] {
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
    if (insns + next.insns.length > REGION_INSNS || !suitsWasm(next)) break;
    region.push(next);
    insns += next.insns.length;
    last = next;
  }
  return region.slice(0, loop);
}

/**
 * Offsets from the block's pc of the successors known before it runs: the
 * targets of a final branch or JAL, or the fall-through after a last
 * instruction that does not end the block; none after JALR, a monitor
 * instruction or a semantic function's call (which returns the next pc).
 */
export function staticSuccessors(b: Decoded): number[] {
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
export function samePage(b: Decoded, pa: number): boolean {
  return !b.straddles && Math.floor(pa / 4096) === Math.floor(b.paddr / 4096);
}
