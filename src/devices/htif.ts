import type { GuestMemory } from "../memory/guestMemory.js";

/**
 * The Host-Target Interface of Spike and QEMU's `spike` machine: the guest
 * writes a 64-bit command to `tohost` (device << 56 | command << 48 | payload)
 * and the host acknowledges through `fromhost`.
 *  - device 0, payload odd: exit with status payload >> 1 (1 = success);
 *  - device 1, command 1: write the payload's low byte to the console.
 * The command is read once its high word has been written, since 32-bit
 * guests (and riscv-tests) store the low word first.
 */
export class Htif {
  /** Exit status once the guest has asked to exit. */
  exitCode: number | undefined;
  onExit: () => void = () => {};
  error: string | undefined;

  constructor(
    private readonly mem: GuestMemory,
    private readonly tohost: number,
    private readonly fromhost: number | undefined,
    private readonly console: (byte: number) => void,
  ) {
    mem.watchWrites(tohost, 8, (gpa, len) => {
      if (gpa + len > tohost + 4) this.poll();
    });
  }

  private poll(): void {
    const v = this.mem.readU64(this.tohost);
    if (v === 0n) return;
    const device = Number(v >> 56n);
    const command = Number((v >> 48n) & 0xffn);
    const payload = v & 0xffffffffffffn;
    this.mem.writeU64(this.tohost, 0n);
    if (device === 0 && command === 0) {
      if ((payload & 1n) === 1n) {
        this.exitCode = Number(payload >> 1n);
      } else {
        this.error = `HTIF system call proxying (payload 0x${payload.toString(16)}) is not supported`;
      }
      this.onExit();
      return;
    }
    if (device === 1 && command === 1) {
      this.console(Number(payload & 0xffn));
      this.ack(device, command, 0n);
      return;
    }
    // Unknown devices are acknowledged so the guest does not wait forever.
    this.ack(device, command, 0n);
  }

  private ack(device: number, command: number, data: bigint): void {
    if (this.fromhost === undefined) return;
    this.mem.writeU64(this.fromhost, (BigInt(device) << 56n) | (BigInt(command) << 48n) | data);
  }
}
