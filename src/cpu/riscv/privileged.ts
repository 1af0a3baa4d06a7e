import type { Hart } from "./hart.js";
import { Priv } from "./priv.js";
import {
  MSTATUS_MIE,
  MSTATUS_MPIE,
  MSTATUS_MPP,
  MSTATUS_MPRV,
  MSTATUS_SIE,
  MSTATUS_SPIE,
  MSTATUS_SPP,
} from "./csr.js";
import { Irq } from "./trap.js";

const INTERRUPT_BIT = 1n << 63n;

/** Converts a 64-bit unsigned BigInt address to the hart's signed-double pc form. */
export function pcFromBig(v: bigint): number {
  return Number(BigInt.asIntN(64, v));
}

/**
 * Enters the trap handler for an exception or interrupt (§3.1.6.1, §3.3.1,
 * §12.1): delegated to S-mode when taken from S/U and the medeleg/mideleg bit
 * is set, else to M-mode. Vectored xtvec applies to interrupts only.
 */
export function takeTrap(h: Hart, cause: number, tval: bigint, interrupt: boolean): void {
  const deleg = interrupt ? h.mideleg : h.medeleg;
  const pc = BigInt.asUintN(64, BigInt(h.pc));
  const causeVal = interrupt ? INTERRUPT_BIT | BigInt(cause) : BigInt(cause);
  if (h.priv !== Priv.M && ((deleg >>> cause) & 1) !== 0) {
    h.scause = causeVal;
    h.sepc = pc;
    h.stval = tval;
    let s = h.mstatus & ~(MSTATUS_SPIE | MSTATUS_SIE | MSTATUS_SPP);
    if (h.mstatus & MSTATUS_SIE) s |= MSTATUS_SPIE;
    if (h.priv === Priv.S) s |= MSTATUS_SPP;
    h.mstatus = s;
    h.priv = Priv.S;
    h.pc = vectorTarget(h.stvec, cause, interrupt);
  } else {
    h.mcause = causeVal;
    h.mepc = pc;
    h.mtval = tval;
    let s = h.mstatus & ~(MSTATUS_MPIE | MSTATUS_MIE | MSTATUS_MPP);
    if (h.mstatus & MSTATUS_MIE) s |= MSTATUS_MPIE;
    s |= h.priv << 11;
    h.mstatus = s;
    h.priv = Priv.M;
    h.pc = vectorTarget(h.mtvec, cause, interrupt);
  }
  h.reservation = -1;
  h.updateRegimes();
}

function vectorTarget(tvec: bigint, cause: number, interrupt: boolean): number {
  const base = tvec & ~3n;
  if (interrupt && (tvec & 3n) === 1n) return pcFromBig(BigInt.asUintN(64, base + BigInt(4 * cause)));
  return pcFromBig(base);
}

// Priority among pending interrupts (§3.1.9): MEI, MSI, MTI, SEI, SSI, STI.
const PRIORITY = [Irq.MEI, Irq.MSI, Irq.MTI, Irq.SEI, Irq.SSI, Irq.STI];

/** The interrupt that would be taken now, or -1 (§3.1.9: global enables by privilege). */
export function selectInterrupt(h: Hart): number {
  const pending = h.mip & h.mie;
  if (pending === 0) return -1;
  const mEnabled = h.priv < Priv.M || (h.mstatus & MSTATUS_MIE) !== 0;
  const sEnabled = h.priv < Priv.S || (h.priv === Priv.S && (h.mstatus & MSTATUS_SIE) !== 0);
  let m = mEnabled ? pending & ~h.mideleg : 0;
  if (m === 0) m = sEnabled ? pending & h.mideleg : 0;
  if (m === 0) return -1;
  for (const irq of PRIORITY) if ((m >>> irq) & 1) return irq;
  return 31 - Math.clz32(m);
}

/** Takes the highest-priority enabled pending interrupt, if any; returns whether one was taken. */
export function takePendingInterrupt(h: Hart): boolean {
  const irq = selectInterrupt(h);
  if (irq < 0) return false;
  takeTrap(h, irq, 0n, true);
  return true;
}

/** MRET (§3.3.2). */
export function mret(h: Hart): void {
  const s = h.mstatus;
  const mpp = (s & MSTATUS_MPP) >>> 11;
  let n = s & ~(MSTATUS_MIE | MSTATUS_MPP);
  if (s & MSTATUS_MPIE) n |= MSTATUS_MIE;
  n |= MSTATUS_MPIE;
  if (mpp !== Priv.M) n &= ~MSTATUS_MPRV;
  h.mstatus = n;
  h.priv = mpp as Priv;
  h.npc = pcFromBig(h.mepc);
  h.reservation = -1;
  h.updateRegimes();
}

/** SRET (§3.3.2): legality (TSR, U-mode) is checked by the caller. */
export function sret(h: Hart): void {
  const s = h.mstatus;
  const spp = (s & MSTATUS_SPP) !== 0 ? Priv.S : Priv.U;
  let n = s & ~(MSTATUS_SIE | MSTATUS_SPP | MSTATUS_MPRV);
  if (s & MSTATUS_SPIE) n |= MSTATUS_SIE;
  n |= MSTATUS_SPIE;
  h.mstatus = n;
  h.priv = spp;
  h.npc = pcFromBig(h.sepc);
  h.reservation = -1;
  h.updateRegimes();
}
