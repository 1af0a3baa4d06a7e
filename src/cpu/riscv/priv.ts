/** Privilege levels (Privileged ISA §1.2): the encoding of mstatus.MPP and of the hart's current level. */
export const Priv = {
  U: 0,
  S: 1,
  M: 3,
} as const;
export type Priv = (typeof Priv)[keyof typeof Priv];
