/**
 * The bare-metal machine (`tsxi run --bios none`): RAM at 0x8000_0000, a CLINT,
 * and HTIF through the ELF's tohost/fromhost symbols, as Spike and QEMU's
 * `spike` machine provide for the RISC-V test programs. Hart 0 starts in
 * M-mode at the ELF entry point.
 */
import { readFileSync } from "node:fs";
import { GuestMemory } from "../memory/guestMemory.js";
import { Bus } from "../devices/bus.js";
import { Clint } from "../devices/clint.js";
import { HartControl } from "./smp/hartControl.js";
import { hartClint } from "./smp/hartClint.js";
import { Htif } from "../devices/htif.js";
import { Hart } from "../cpu/riscv/hart.js";
import { interpreter, translator, type TranslationStats } from "../cpu/riscv/translate/engine.js";
import { parseElf, ElfError } from "./elf.js";
import { VmmError } from "./errors.js";
import { RAM_BASE, CLINT_BASE, CLINT_SIZE } from "./virtLayout.js";


export interface BareMetalOptions {
  kernel: string;
  memoryBytes: number;
  /** Upper bound on retired instructions; exceeding it is an error. */
  maxInstructions?: number;
  /** Console bytes from the guest. */
  console: (bytes: Uint8Array) => void;
  /** `Hart.translateAfter`: 0 (default) interprets; n translates a block on its n-th run. */
  translateAfter?: number;
  /** The translator's back end (engine.ts, TranslatorOptions.backend): "wasm" (default) or JavaScript blocks only. */
  backend?: "wasm" | "js";
}

export interface BareMetalResult {
  exitCode: number;
  instructions: number;
  seconds: number;
  /** What the translator did (all 0 when interpreting). */
  translation: TranslationStats;
}

const SLICE = 100_000;

export function loadBareMetal(opts: BareMetalOptions): { hart: Hart; htif: Htif; control: HartControl; flush: () => void } {
  let file: Uint8Array;
  try {
    file = readFileSync(opts.kernel);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new VmmError(code === "ENOENT" ? `kernel ${opts.kernel}: no such file` : `kernel ${opts.kernel}: cannot read (${code ?? String(e)})`);
  }
  let image;
  try {
    image = parseElf(file, `kernel ${opts.kernel}`);
  } catch (e) {
    if (e instanceof ElfError) throw new VmmError(e.message);
    throw e;
  }
  const mem = new GuestMemory(RAM_BASE, opts.memoryBytes);
  for (const seg of image.segments) {
    if (!mem.contains(seg.paddr, seg.memSize)) {
      throw new VmmError(
        `kernel ${opts.kernel}: segment at 0x${seg.paddr.toString(16)} (+0x${seg.memSize.toString(16)} bytes) lies outside RAM [0x${mem.base.toString(16)}, 0x${mem.end.toString(16)})`,
      );
    }
    mem.writeBytes(seg.paddr, seg.fileBytes);
    mem.fill(seg.paddr + seg.fileBytes.length, seg.memSize - seg.fileBytes.length, 0);
  }
  const tohost = image.symbols.get("tohost");
  if (tohost === undefined) {
    throw new VmmError(`kernel ${opts.kernel}: no 'tohost' symbol; --bios none needs HTIF (tohost/fromhost) to end the program`);
  }
  if (!mem.contains(tohost, 8) || tohost % 8 !== 0) {
    throw new VmmError(`kernel ${opts.kernel}: 'tohost' at 0x${tohost.toString(16)} is not an aligned address in RAM`);
  }
  const fromhost = image.symbols.get("fromhost");

  const bus = new Bus();
  const translateAfter = opts.translateAfter ?? 0;
  // Translating from the first run means every block, compiled at once (no batching).
  const engine = translateAfter > 0 ? translator({ translateAfter, batch: translateAfter === 1 ? 1 : undefined, backend: opts.backend }) : interpreter;
  const hart = new Hart(0, mem, bus, engine);
  const control = HartControl.create(1);
  bus.register("clint", CLINT_BASE, CLINT_SIZE, new Clint(hartClint(control, hart, false)));
  hart.readTime = () => control.now();
  let out: number[] = [];
  const flush = (): void => {
    if (out.length > 0) opts.console(Uint8Array.from(out));
    out = [];
  };
  const htif = new Htif(mem, tohost, fromhost !== undefined && mem.contains(fromhost, 8) ? fromhost : undefined, (b) => {
    out.push(b);
    if (b === 10 || out.length >= 4096) flush();
  });
  htif.onExit = () => {
    hart.stopRequested = true;
  };
  hart.pc = image.entry;
  return { hart, htif, control, flush };
}

/** Runs the program to its HTIF exit and returns the guest's exit status. */
export function runBareMetal(opts: BareMetalOptions): BareMetalResult {
  const { hart, htif, control, flush } = loadBareMetal(opts);
  const max = opts.maxInstructions ?? Infinity;
  const wait = new Int32Array(new SharedArrayBuffer(4));
  const t0 = performance.now();
  try {
    while (!hart.stopRequested) {
      if (hart.instret >= max) {
        throw new VmmError(`guest did not finish within ${max} instructions (pc 0x${BigInt.asUintN(64, BigInt(hart.pc)).toString(16)})`);
      }
      hart.run(Math.min(SLICE, max - hart.instret));
      hart.mip = control.foldInterrupts(0, hart.mip, false);
      if (hart.waiting && (hart.mip & hart.mie) === 0) {
        const ms = control.msUntilDeadline(0, false);
        if (ms === Infinity || (hart.mie & (1 << 7)) === 0) {
          throw new VmmError(`guest waits for an interrupt (WFI at pc 0x${BigInt.asUintN(64, BigInt(hart.pc)).toString(16)}) that nothing will raise`);
        }
        Atomics.wait(wait, 0, 0, Math.min(ms, 100));
        hart.mip = control.foldInterrupts(0, hart.mip, false);
      }
    }
  } finally {
    flush();
  }
  if (htif.error !== undefined) throw new VmmError(htif.error);
  return { exitCode: htif.exitCode ?? 0, instructions: hart.instret, seconds: (performance.now() - t0) / 1000, translation: hart.stats };
}
