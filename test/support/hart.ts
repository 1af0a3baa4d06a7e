/**
 * A hart for unit tests that drive it directly, set up as firmware leaves a
 * hart: in M-mode, with PMP entry 0 granting all of memory.
 */
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
