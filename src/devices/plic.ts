/**
 * Platform-Level Interrupt Controller (RISC-V PLIC Specification v1.0.0;
 * the `sifive,plic-1.0.0` / `riscv,plic0` of QEMU virt at 0x0c00_0000).
 *
 * Sources 1..n-1 are level-triggered through a gateway: a source is pending
 * while its line is high and it is not in service; a claim takes the
 * highest-priority (then lowest-numbered) pending, enabled source above the
 * context's threshold and marks it in service until the matching complete.
 * Context 2h is hart h's M-mode external interrupt, 2h + 1 its S-mode one;
 * `onContext(ctx, level)` tells the machine to set or clear MEIP / SEIP.
 *
 * Register map (§3-§8): priority 4·src; pending bits 0x1000; enables
 * 0x2000 + 0x80·ctx; threshold 0x20_0000 + 0x1000·ctx; claim/complete +4.
 */
import type { MmioDevice } from "./bus.js";
import type { IrqLine } from "./irq.js";
import { StateReader, type Saved, type Stateful } from "../state/savedState.js";

const PENDING = 0x1000;
const ENABLE = 0x2000;
const ENABLE_STRIDE = 0x80;
const CONTEXT = 0x20_0000;
const CONTEXT_STRIDE = 0x1000;
const STATE_VERSION = 1;
const U32_MAX = 0xffff_ffff;

export class Plic implements MmioDevice, Stateful {
  private readonly priority: Uint32Array;
  private readonly level: Uint8Array;
  private readonly pending: Uint8Array;
  private readonly inService: Uint8Array;
  /** enable[ctx][word], `words` words a context */
  private readonly enable: Uint32Array[];
  private readonly words: number;
  private readonly threshold: Uint32Array;
  private readonly output: boolean[];

  constructor(
    readonly sources: number,
    readonly contexts: number,
    private readonly onContext: (ctx: number, level: boolean) => void,
  ) {
    this.priority = new Uint32Array(sources);
    this.level = new Uint8Array(sources);
    this.pending = new Uint8Array(sources);
    this.inService = new Uint8Array(sources);
    this.words = Math.ceil(sources / 32);
    this.enable = Array.from({ length: contexts }, () => new Uint32Array(this.words));
    this.threshold = new Uint32Array(contexts);
    this.output = new Array<boolean>(contexts).fill(false);
  }

  /** The interrupt line of source `n` (1 <= n < sources). */
  line(n: number): IrqLine {
    if (n <= 0 || n >= this.sources) throw new RangeError(`PLIC has no source ${n}`);
    return { set: (level) => this.setLevel(n, level) };
  }

  private setLevel(n: number, level: boolean): void {
    this.level[n] = level ? 1 : 0;
    if (level && this.inService[n] === 0) this.pending[n] = 1;
    // A level source that drops before being claimed is no longer pending.
    if (!level && this.inService[n] === 0) this.pending[n] = 0;
    this.update();
  }

  private enabled(ctx: number, n: number): boolean {
    return ((this.enable[ctx][n >>> 5] >>> (n & 31)) & 1) !== 0;
  }

  /** Best claimable source for a context, or 0. */
  private best(ctx: number): number {
    let best = 0;
    let bestPrio = this.threshold[ctx];
    for (let n = 1; n < this.sources; n++) {
      if (this.pending[n] !== 0 && this.priority[n] > bestPrio && this.enabled(ctx, n)) {
        best = n;
        bestPrio = this.priority[n];
      }
    }
    return best;
  }

  private update(): void {
    for (let c = 0; c < this.contexts; c++) {
      const level = this.best(c) !== 0;
      if (level !== this.output[c]) {
        this.output[c] = level;
        this.onContext(c, level);
      }
    }
  }

  read(offset: number, size: number): number {
    if (size !== 4 || (offset & 3) !== 0) return 0;
    if (offset < PENDING) {
      const n = offset >>> 2;
      return n < this.sources ? this.priority[n] : 0;
    }
    if (offset < ENABLE) {
      const w = (offset - PENDING) >>> 2;
      let v = 0;
      for (let b = 0; b < 32; b++) {
        const n = w * 32 + b;
        if (n < this.sources && this.pending[n] !== 0) v |= 1 << b;
      }
      return v >>> 0;
    }
    if (offset < CONTEXT) {
      const ctx = Math.floor((offset - ENABLE) / ENABLE_STRIDE);
      const w = ((offset - ENABLE) % ENABLE_STRIDE) >>> 2;
      if (ctx >= this.contexts || w >= this.enable[ctx].length) return 0;
      return this.enable[ctx][w];
    }
    const ctx = Math.floor((offset - CONTEXT) / CONTEXT_STRIDE);
    if (ctx >= this.contexts) return 0;
    const reg = (offset - CONTEXT) % CONTEXT_STRIDE;
    if (reg === 0) return this.threshold[ctx];
    if (reg === 4) return this.claim(ctx);
    return 0;
  }

  private claim(ctx: number): number {
    const n = this.best(ctx);
    if (n !== 0) {
      this.pending[n] = 0;
      this.inService[n] = 1;
      this.update();
    }
    return n;
  }

  write(offset: number, size: number, value: number | bigint): void {
    if (size !== 4 || (offset & 3) !== 0) return;
    const v = Number(BigInt.asUintN(32, BigInt(value)));
    if (offset < PENDING) {
      const n = offset >>> 2;
      if (n > 0 && n < this.sources) this.priority[n] = v & 7;
    } else if (offset < ENABLE) {
      return; // pending bits are read-only
    } else if (offset < CONTEXT) {
      const ctx = Math.floor((offset - ENABLE) / ENABLE_STRIDE);
      const w = ((offset - ENABLE) % ENABLE_STRIDE) >>> 2;
      if (ctx >= this.contexts || w >= this.enable[ctx].length) return;
      this.enable[ctx][w] = w === 0 ? v & ~1 : v; // source 0 does not exist
    } else {
      const ctx = Math.floor((offset - CONTEXT) / CONTEXT_STRIDE);
      if (ctx >= this.contexts) return;
      const reg = (offset - CONTEXT) % CONTEXT_STRIDE;
      if (reg === 0) this.threshold[ctx] = v & 7;
      else if (reg === 4) this.complete(ctx, v);
      else return;
    }
    this.update();
  }

  saveState(): Saved {
    return {
      v: STATE_VERSION,
      sources: this.sources,
      contexts: this.contexts,
      priority: [...this.priority],
      level: [...this.level],
      pending: [...this.pending],
      inService: [...this.inService],
      enable: this.enable.flatMap((words) => [...words]), // context by context
      threshold: [...this.threshold],
    };
  }

  restoreState(saved: unknown): void {
    const r = StateReader.open("plic", saved, STATE_VERSION);
    // Two contexts per hart: a checkpoint of a machine with other harts does not fit.
    r.same("sources", this.sources);
    r.same("contexts", this.contexts);
    const n = this.sources;
    const priority = r.ints("priority", n, 0, 7);
    const level = r.ints("level", n, 0, 1);
    const pending = r.ints("pending", n, 0, 1);
    const inService = r.ints("inService", n, 0, 1);
    const enable = r.ints("enable", this.contexts * this.words, 0, U32_MAX);
    const threshold = r.ints("threshold", this.contexts, 0, 7);
    this.priority.set(priority);
    this.level.set(level);
    this.pending.set(pending);
    this.inService.set(inService);
    this.enable.forEach((w, c) => w.set(enable.slice(c * this.words, (c + 1) * this.words)));
    this.threshold.set(threshold);
    // Drive every line, changed or not: a fresh machine's harts have not seen them.
    for (let c = 0; c < this.contexts; c++) {
      this.output[c] = this.best(c) !== 0;
      this.onContext(c, this.output[c]);
    }
  }

  /** Completion of a source the context may claim (§8): ends service; a still-high line pends again. */
  private complete(ctx: number, n: number): void {
    if (n <= 0 || n >= this.sources || !this.enabled(ctx, n) || this.inService[n] === 0) return;
    this.inService[n] = 0;
    if (this.level[n] !== 0) this.pending[n] = 1;
  }
}
