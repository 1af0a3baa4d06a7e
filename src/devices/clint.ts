import type { MmioDevice } from "./bus.js";

/** The CLINT's registers as shared state (src/vmm/smp/hartControl.ts), so every hart's world sees one CLINT. */
export interface ClintState {
  readonly harts: number;
  now(): number;
  msip(h: number): number;
  setMsip(h: number, v: number): void;
  mtimecmp(h: number): bigint;
  setMtimecmp(h: number, v: bigint): void;
}

/**
 * The SiFive CLINT / ACLINT MSWI + MTIMER (QEMU virt at 0x0200_0000):
 * msip[h] at 4h, mtimecmp[h] at 0x4000 + 8h, mtime at 0xbff8. Stateless
 * itself: each world maps its own `Clint` over the shared registers, so
 * timer and software-interrupt accesses never leave the hart's thread.
 */
export class Clint implements MmioDevice {
  constructor(private readonly state: ClintState) {}

  read(offset: number, size: number): number | bigint {
    const s = this.state;
    if (offset < 0x4000) {
      const k = offset >> 2;
      return k < s.harts && size === 4 && (offset & 3) === 0 ? s.msip(k) : 0;
    }
    if (offset === 0xbff8 || offset === 0xbffc) return slice(BigInt(s.now()), offset - 0xbff8, size);
    const k = (offset - 0x4000) >> 3;
    if (k < s.harts) return slice(s.mtimecmp(k), (offset - 0x4000) & 7, size);
    return 0;
  }

  write(offset: number, size: number, value: number | bigint): void {
    const s = this.state;
    if (offset < 0x4000) {
      const k = offset >> 2;
      if (k < s.harts && (offset & 3) === 0) s.setMsip(k, Number(value) & 1);
      return;
    }
    const k = (offset - 0x4000) >> 3;
    if (offset >= 0xbff8 || k >= s.harts) return; // mtime is read-only here
    const byteOff = (offset - 0x4000) & 7;
    const mask = size === 8 ? 0xffffffffffffffffn : 0xffffffffn << BigInt(8 * byteOff);
    const v = (BigInt.asUintN(64, BigInt(value)) << BigInt(8 * byteOff)) & mask;
    s.setMtimecmp(k, (s.mtimecmp(k) & ~mask) | v);
  }
}

function slice(v: bigint, byteOff: number, size: number): number | bigint {
  const s = v >> BigInt(8 * byteOff);
  return size === 8 ? s : Number(s & 0xffffffffn);
}
