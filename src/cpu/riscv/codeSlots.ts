/**
 * A hart's decoded blocks by physical address: for each guest page that
 * holds code, one slot per halfword (a block may start at any of them).
 *
 * A slot holds a small id into one array of blocks rather than the block:
 * the page's Int32Array lives outside the JavaScript heap, so the garbage
 * collector neither copies nor scans it (arrays of references were a third
 * of a Debian boot's vCPU heap: docs/perf-log.md). Ids of dropped blocks are
 * reused.
 */
import type { Block } from "./hart.js";

const SLOTS = 2048;

export class CodeSlots {
  private readonly pages: (Int32Array | undefined)[];
  private readonly byId: (Block | undefined)[] = [undefined]; // id 0: an empty slot
  private readonly freeIds: number[] = [];
  /** Indices of the pages that hold slots. */
  readonly codePages = new Set<number>();

  constructor(guestPages: number) {
    this.pages = new Array<Int32Array | undefined>(guestPages).fill(undefined);
  }

  /** Whether guest page `pi` holds slots. */
  has(pi: number): boolean {
    return this.pages[pi] !== undefined;
  }

  /** Gives guest page `pi` its slots; false if it had them. */
  open(pi: number): boolean {
    if (this.pages[pi] !== undefined) return false;
    this.pages[pi] = new Int32Array(SLOTS);
    this.codePages.add(pi);
    return true;
  }

  /** The block at halfword `slot` of page `pi`. */
  get(pi: number, slot: number): Block | undefined {
    const id = this.pages[pi]?.[slot] ?? 0;
    return id === 0 ? undefined : this.byId[id];
  }

  /** Puts `b` at halfword `slot` of page `pi` (which must hold slots), or empties the slot. */
  set(pi: number, slot: number, b: Block | undefined): void {
    const page = this.pages[pi]!;
    this.release(page[slot]);
    let id = 0;
    if (b !== undefined) {
      id = this.freeIds.pop() ?? this.byId.length;
      this.byId[id] = b;
    }
    page[slot] = id;
  }

  /** Calls `fn` with every block of page `pi`. */
  forEach(pi: number, fn: (b: Block) => void): void {
    const page = this.pages[pi];
    if (page === undefined) return;
    for (let s = 0; s < SLOTS; s++) if (page[s] !== 0) fn(this.byId[page[s]]!);
  }

  /** Drops page `pi`'s slots (its blocks stay as they are: callers mark them invalid first). */
  close(pi: number): void {
    const page = this.pages[pi];
    if (page === undefined) return;
    for (let s = 0; s < SLOTS; s++) this.release(page[s]);
    this.pages[pi] = undefined;
    this.codePages.delete(pi);
  }

  private release(id: number): void {
    if (id === 0) return;
    this.byId[id] = undefined;
    this.freeIds.push(id);
  }
}
