import type { MmioDevice } from "./bus.js";
import { MIP_MSIP, MIP_MTIP } from "../cpu/riscv/trap.js";

/** What the CLINT needs of a hart: its interrupt-pending bits. */
export interface InterruptTarget {
  mip: number;
}

/** mtime frequency: 10 MHz, as QEMU's virt machine (timebase-frequency). */
export const MTIME_HZ = 10_000_000;

/**
 * The SiFive CLINT / ACLINT MSWI + MTIMER (QEMU virt at 0x0200_0000):
 * msip[h] at 4h, mtimecmp[h] at 0x4000 + 8h, mtime at 0xbff8. mtime counts
 * from the host's monotonic clock.
 */
export class Clint implements MmioDevice {
  private readonly mtimecmp: bigint[];
  private readonly msip: number[];
  private readonly t0 = performance.now();

  constructor(private readonly harts: InterruptTarget[]) {
    this.mtimecmp = harts.map(() => 0xffffffffffffffffn);
    this.msip = harts.map(() => 0);
  }

  /** mtime in ticks. */
  now(): number {
    return Math.floor((performance.now() - this.t0) * (MTIME_HZ / 1000));
  }

  /** Recomputes MTIP for every hart from mtime and mtimecmp. */
  update(): void {
    const t = BigInt(this.now());
    for (let k = 0; k < this.harts.length; k++) {
      const h = this.harts[k];
      if (t >= this.mtimecmp[k]) h.mip |= MIP_MTIP;
      else h.mip &= ~MIP_MTIP;
    }
  }

  /** Milliseconds until the earliest timer deadline (Infinity when none is armed). */
  msUntilNextDeadline(): number {
    const t = this.now();
    let best = Infinity;
    for (const c of this.mtimecmp) {
      if (c >= 1n << 62n) continue;
      best = Math.min(best, Math.max(0, (Number(c) - t) / (MTIME_HZ / 1000)));
    }
    return best;
  }

  read(offset: number, size: number): number | bigint {
    if (offset < 0x4000) {
      const k = offset >> 2;
      return k < this.msip.length && size === 4 && (offset & 3) === 0 ? this.msip[k] : 0;
    }
    if (offset === 0xbff8 || offset === 0xbffc) return this.slice(BigInt(this.now()), offset - 0xbff8, size);
    const k = (offset - 0x4000) >> 3;
    if (k < this.mtimecmp.length) return this.slice(this.mtimecmp[k], (offset - 0x4000) & 7, size);
    return 0;
  }

  write(offset: number, size: number, value: number | bigint): void {
    if (offset < 0x4000) {
      const k = offset >> 2;
      if (k >= this.msip.length) return;
      this.msip[k] = Number(value) & 1;
      if (this.msip[k]) this.harts[k].mip |= MIP_MSIP;
      else this.harts[k].mip &= ~MIP_MSIP;
      return;
    }
    const k = (offset - 0x4000) >> 3;
    if (offset >= 0xbff8 || k >= this.mtimecmp.length) return; // mtime is read-only here
    const byteOff = (offset - 0x4000) & 7;
    const mask = size === 8 ? 0xffffffffffffffffn : 0xffffffffn << BigInt(8 * byteOff);
    const v = (BigInt.asUintN(64, BigInt(value)) << BigInt(8 * byteOff)) & mask;
    this.mtimecmp[k] = (this.mtimecmp[k] & ~mask) | v;
    this.update();
  }

  private slice(v: bigint, byteOff: number, size: number): number | bigint {
    const s = v >> BigInt(8 * byteOff);
    return size === 8 ? s : Number(s & 0xffffffffn);
  }
}
