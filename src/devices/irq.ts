/**
 * An interrupt line from a device to an interrupt controller. Devices drive
 * it to a level (all of QEMU virt's platform interrupts are level-triggered);
 * the controller decides what the harts see.
 */
export interface IrqLine {
  set(level: boolean): void;
}
