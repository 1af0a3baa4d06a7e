/** Exception and interrupt cause codes (Privileged ISA §3.1.15, Table 14). */
export const Cause = {
  InsnMisaligned: 0,
  InsnAccessFault: 1,
  IllegalInsn: 2,
  Breakpoint: 3,
  LoadMisaligned: 4,
  LoadAccessFault: 5,
  StoreMisaligned: 6,
  StoreAccessFault: 7,
  EcallU: 8,
  EcallS: 9,
  EcallM: 11,
  InsnPageFault: 12,
  LoadPageFault: 13,
  StorePageFault: 15,
} as const;
export type Cause = (typeof Cause)[keyof typeof Cause];

/** Interrupt numbers: bit positions in mip/mie. */
export const Irq = {
  SSI: 1,
  MSI: 3,
  STI: 5,
  MTI: 7,
  SEI: 9,
  MEI: 11,
} as const;
export type Irq = (typeof Irq)[keyof typeof Irq];

export const MIP_SSIP = 1 << Irq.SSI;
export const MIP_MSIP = 1 << Irq.MSI;
export const MIP_STIP = 1 << Irq.STI;
export const MIP_MTIP = 1 << Irq.MTI;
export const MIP_SEIP = 1 << Irq.SEI;
export const MIP_MEIP = 1 << Irq.MEI;

/**
 * Thrown (as a single shared instance) by semantic functions to abandon the
 * current instruction; the cause and tval are left on the hart. The run loop
 * catches it and enters the trap handler, so the faulting instruction has no
 * architectural effect and pc stays precise.
 */
export class TrapSignal {
  readonly isTrapSignal = true;
}
export const TRAP = new TrapSignal();

/** Access kinds, used for translation and PMP. */
export const Access = {
  Read: 0,
  Write: 1,
  Exec: 2,
} as const;
export type Access = (typeof Access)[keyof typeof Access];
