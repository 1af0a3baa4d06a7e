/**
 * A hart for unit tests that drive it directly, set up as firmware leaves a
 * hart: in M-mode, with PMP entry 0 granting all of memory.
 */
import assert from "node:assert/strict";
import { Hart } from "../../src/cpu/riscv/hart.js";
import { Priv } from "../../src/cpu/riscv/priv.js";
import type { GuestMemory } from "../../src/memory/guestMemory.js";
import { Bus } from "../../src/devices/bus.js";
import { updatePmpRanges } from "../../src/cpu/riscv/pmp.js";
import { interpreter, translator, type ExecutionEngine, type TranslatorOptions } from "../../src/cpu/riscv/translate/engine.js";

/** The interpreter for 0, else the translator, translating blocks on their `translateAfter`-th run. */
export function engineOf(translateAfter: number, opts: Omit<TranslatorOptions, "translateAfter"> = {}): ExecutionEngine {
  return translateAfter === 0 ? interpreter : translator({ ...opts, translateAfter });
}

/** Instructions `h` retired in translated code so far (JavaScript and WebAssembly blocks). */
export function translatedInstructions(h: Hart): number {
  return h.stats.jsInstructions + h.stats.wasmInstructions;
}

/**
 * Asserts what hart `h` on `engineOf(translateAfter)` ran translated: nothing
 * when it interprets; otherwise WebAssembly blocks, and at least `share` of
 * its instructions (instret) in translated code.
 */
export function assertTranslated(h: Hart, translateAfter: number, share: number): void {
  const stats = JSON.stringify({ instret: h.instret, ...h.stats });
  if (translateAfter === 0) {
    assert.equal(translatedInstructions(h), 0, `the interpreter ran translated code: ${stats}`);
    return;
  }
  assert.ok(h.stats.wasmBlocks > 0 && h.stats.wasmInstructions > 0, `no WebAssembly block ran: ${stats}`);
  assert.ok(translatedInstructions(h) >= share * h.instret, `less than ${share} of the instructions ran translated: ${stats}`);
}

/** A hart on `mem` with no devices, in M-mode, PMP entry 0 (NAPOT) granting everything. */
export function machineModeHart(mem: GuestMemory, eng: ExecutionEngine = interpreter): Hart {
  const h = new Hart(0, mem, new Bus(), eng);
  h.priv = Priv.M;
  h.pmpaddr[0] = (1n << 54n) - 1n;
  h.pmpcfg[0] = 0x1f;
  updatePmpRanges(h);
  h.updateRegimes();
  return h;
}
