/**
 * What the hart needs of the physical address space outside RAM: the device
 * mapped at an address, which it reads and writes at offsets from the
 * device's base. The VMM hands the hart its machine's Bus
 * (src/devices/bus.ts), which has this shape; the CPU imports nothing from
 * the devices layer.
 */
export interface PhysicalBus {
  /** The mapping holding [addr, addr + size), or undefined (an access fault for the CPU). */
  find(addr: number, size: number): { base: number; dev: MmioTarget } | undefined;
}

export interface MmioTarget {
  read(offset: number, size: number): number | bigint;
  write(offset: number, size: number, value: number | bigint): void;
}
