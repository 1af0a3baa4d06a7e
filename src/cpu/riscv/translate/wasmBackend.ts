/**
 * The runtime side of the WebAssembly back end: a hart's cache of translated
 * blocks. It batches hot blocks into modules (wasmModuleEncoder.ts encodes
 * them, a ModuleCompiler compiles them), gives each block an index in the
 * hart's function table, runs chains of them (wasmDispatch.ts), and keeps
 * the jump cache and the direct links' live words true when code changes.
 */
import type { Block, Hart } from "../hart.js";
import { selectInterrupt } from "../privileged.js";
import { JUMP_ENTRIES, JUMP_ENTRY_BYTES, LIVE_ENTRIES, STATE_DONE, STATE_EXIT, STATE_JUMPS, STATE_LIVE } from "../hartState.js";
import { dispatchModule, EPOCHS, type Dispatch } from "./wasmDispatch.js";
import { EXIT_MONITOR, EXIT_SLOW } from "./wasmCodeGen.js";
import { suitsWasm } from "./wasmEmitters.js";
import { regionOf, samePage, staticSuccessors } from "./wasmRegions.js";
import type { BatchRequest } from "./wasmModuleEncoder.js";
import type { ModuleCompiler } from "./moduleCompiler.js";

/** WasmBackend.enteredIn: the block was entered at more than one pc (regimes take bits 0-3). */
const ENTERED_ELSEWHERE = 16;

/**
 * Blocks compiled together in one module (TranslatorOptions.batch, at most this).
 * V8's fixed cost per module dwarfs compiling a block, so hot blocks queue
 * up and are compiled in batches (docs/perf-log.md).
 */
const BATCH = 32;
/**
 * Instructions a queued block waits at most for its batch to fill (a hot
 * loop alone must not wait forever); with the compile world a module costs
 * the hart little (docs/perf-log.md).
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
   * clear those jump-cache entries instead of emptying the cache (code pages
   * with translated blocks are rewritten often: docs/perf-log.md).
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
  private installs = 0;

  /**
   * `capacity`: the most blocks translated before the hart drops its code
   * cache (and calls clear()); `batch`: blocks compiled together in one
   * module (engine.ts, TranslatorOptions); `compiler`: where.
   */
  constructor(
    private readonly h: Hart,
    memory: WebAssembly.Memory,
    pages: number,
    capacity: number,
    private readonly batch: number,
    private readonly compiler: ModuleCompiler,
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

  /** Whether WebAssembly suits the block (wasmEmitters.ts, suitsWasm). */
  static suits(b: Block): boolean {
    return suitsWasm(b);
  }

  /** Queues a hot block (and its warm neighbours); compiles the batch when it is full. Returns how many blocks went. */
  queue(blocks: Block[]): number {
    if (this.pending.length === 0) this.since = this.h.instret;
    this.pending.push(...blocks);
    return this.pending.length >= Math.min(this.batch, BATCH) ? this.flush() : 0;
  }

  /** Sends the pending batch now if it still holds `b` (the guest spins in it). Returns how many blocks went. */
  urge(b: Block): number {
    return this.pending.includes(b) ? this.flush() : 0;
  }

  /**
   * Whether compiled batches wait for poll() (ModuleCompiler.ready: cheap,
   * so the run loop asks before every block).
   */
  ready(): boolean {
    return this.compiler.ready();
  }

  /**
   * Installs the batches compiled since the last call; sends the pending
   * blocks if the oldest has waited long enough (MAX_WAIT).
   */
  poll(): number {
    this.compiler.collect();
    return this.pending.length > 0 && this.h.instret - this.since >= MAX_WAIT ? this.flush() : 0;
  }

  /** Compiles the pending blocks and waits until every batch is installed (tests; a caller about to measure). */
  finish(): number {
    const n = this.flush();
    this.compiler.drain();
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

  /** Blocks entered in the function table so far (Hart.stats). */
  get installed(): number {
    return this.installs;
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
    this.compiler.compile(request, (module) => {
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
      this.installs++;
    });
  }
}
