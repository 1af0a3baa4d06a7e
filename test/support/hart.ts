/**
 * A hart for unit tests that drive it directly, set up as firmware leaves a
 * hart: in M-mode, with PMP entry 0 granting all of memory.
 */
import { Hart } from "../../src/cpu/riscv/hart.js";
import { Priv } from "../../src/cpu/riscv/priv.js";
import type { GuestMemory } from "../../src/memory/guestMemory.js";
import { Bus } from "../../src/devices/bus.js";
import { updatePmpRanges } from "../../src/cpu/riscv/pmp.js";

/** A hart on `mem` with no devices, in M-mode, PMP entry 0 (NAPOT) granting everything. */
export function machineModeHart(mem: GuestMemory): Hart {
  const h = new Hart(0, mem, new Bus());
  h.priv = Priv.M;
  h.pmpaddr[0] = (1n << 54n) - 1n;
  h.pmpcfg[0] = 0x1f;
  updatePmpRanges(h);
  h.updateRegimes();
  return h;
}
