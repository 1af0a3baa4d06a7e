/**
 * The physical address space outside RAM: devices register a range and get
 * `read(offset, size)` / `write(offset, size, value)` calls with offsets
 * relative to their base. Overlapping registrations are rejected.
 */
export interface MmioDevice {
  read(offset: number, size: number): number | bigint;
  write(offset: number, size: number, value: number | bigint): void;
}

export class BusError extends Error {
  override name = "BusError";
}

interface Mapping {
  base: number;
  end: number;
  name: string;
  dev: MmioDevice;
}

export class Bus {
  private readonly maps: Mapping[] = [];
  private last: Mapping | undefined;

  register(name: string, base: number, size: number, dev: MmioDevice): void {
    if (size <= 0) throw new BusError(`device ${name}: size must be positive`);
    const end = base + size;
    for (const m of this.maps) {
      if (base < m.end && end > m.base) {
        throw new BusError(
          `device ${name} [0x${base.toString(16)}, 0x${end.toString(16)}) overlaps ${m.name} [0x${m.base.toString(16)}, 0x${m.end.toString(16)})`,
        );
      }
    }
    this.maps.push({ base, end, name, dev });
    this.maps.sort((a, b) => a.base - b.base);
  }

  /** The mapping holding [addr, addr + size), or undefined (an access fault for the CPU). */
  find(addr: number, size: number): Mapping | undefined {
    const l = this.last;
    if (l !== undefined && addr >= l.base && addr + size <= l.end) return l;
    for (const m of this.maps) {
      if (addr >= m.base && addr + size <= m.end) {
        this.last = m;
        return m;
      }
    }
    return undefined;
  }
}
