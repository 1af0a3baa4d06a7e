/**
 * One world's view of the CLINT: the shared registers of `HartControl`, with
 * the world's own hart seeing its msip/mtimecmp writes at once (a hart that
 * writes its own msip takes the interrupt at the next instruction boundary,
 * not at the end of its slice).
 */
import type { Hart } from "../../cpu/riscv/hart.js";
import type { ClintState } from "../../devices/clint.js";
import type { HartControl } from "./hartControl.js";

export function hartClint(control: HartControl, hart: Hart, sbiTimer: boolean): ClintState {
  const refresh = (k: number): void => {
    if (k === hart.hartId) hart.mip = control.foldInterrupts(k, hart.mip, sbiTimer);
  };
  return {
    harts: control.harts,
    now: () => control.now(),
    msip: (k) => control.msip(k),
    setMsip: (k, v) => {
      control.setMsip(k, v);
      refresh(k);
    },
    mtimecmp: (k) => control.mtimecmp(k),
    setMtimecmp: (k, v) => {
      control.setMtimecmp(k, v);
      refresh(k);
    },
  };
}
