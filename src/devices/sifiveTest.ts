/**
 * The SiFive test device (`sifive,test1`, QEMU virt at 0x10_0000), reached by
 * Linux through syscon-poweroff / syscon-reboot: a 32-bit write of 0x5555
 * powers off with success, 0x7777 resets, (code << 16) | 0x3333 powers off
 * with failure `code` (QEMU hw/misc/sifive_test.c).
 */
import type { MmioDevice } from "./bus.js";

export type PowerEvent = { kind: "poweroff"; code: number } | { kind: "reboot" };

const FINISHER_FAIL = 0x3333;
const FINISHER_PASS = 0x5555;
const FINISHER_RESET = 0x7777;

export class SifiveTest implements MmioDevice {
  constructor(private readonly onPower: (e: PowerEvent) => void) {}

  read(): number {
    return 0;
  }

  write(offset: number, size: number, value: number | bigint): void {
    if (offset !== 0 || size !== 4) return;
    const v = Number(BigInt.asUintN(32, BigInt(value)));
    const status = v & 0xffff;
    if (status === FINISHER_PASS) this.onPower({ kind: "poweroff", code: 0 });
    else if (status === FINISHER_RESET) this.onPower({ kind: "reboot" });
    else if (status === FINISHER_FAIL) this.onPower({ kind: "poweroff", code: v >>> 16 || 1 });
  }
}
