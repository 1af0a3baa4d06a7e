/**
 * tsxi's built-in firmware: what OpenSBI would do for an S-mode kernel,
 * done by the monitor instead of by M-mode code in the guest.
 *
 * It puts each hart into the state the Linux boot protocol expects after
 * firmware (Documentation/arch/riscv/boot.rst: S-mode, MMU off, a0 = hartid,
 * a1 = DTB), delegates every trap and supervisor interrupt to S-mode as
 * OpenSBI does, and implements the SBI (src/firmware/sbi.ts) over the
 * machine: the SBI timer drives STIP, IPIs set SSIP, HSM starts and stops
 * harts, SRST powers off or reboots.
 */
import type { Hart } from "../cpu/riscv/hart.js";
import { Priv } from "../cpu/riscv/hart.js";
import { Cause, MIP_SEIP, MIP_SSIP, MIP_STIP } from "../cpu/riscv/trap.js";
import { flushTranslations } from "../cpu/riscv/mmu.js";
import { updatePmpRanges } from "../cpu/riscv/pmp.js";
import { HartState, SbiError, sbiCall, type ResetKind, type SbiPlatform } from "../firmware/sbi.js";

/** Exceptions OpenSBI delegates to S-mode (lib/sbi/sbi_hart.c, delegate_traps) plus the rest S can handle. */
const MEDELEG =
  (1 << Cause.InsnMisaligned) | (1 << Cause.InsnAccessFault) | (1 << Cause.IllegalInsn) | (1 << Cause.Breakpoint) |
  (1 << Cause.LoadMisaligned) | (1 << Cause.LoadAccessFault) | (1 << Cause.StoreMisaligned) |
  (1 << Cause.StoreAccessFault) | (1 << Cause.EcallU) | (1 << Cause.InsnPageFault) | (1 << Cause.LoadPageFault) |
  (1 << Cause.StorePageFault);
const MIDELEG = MIP_SSIP | MIP_STIP | MIP_SEIP;

/** What the firmware needs from the machine besides the harts. */
export interface FirmwareHost {
  /** mtime in ticks of the timebase. */
  now(): number;
  reset(kind: ResetKind, reason: number): void;
  consoleWrite(bytes: Uint8Array): void;
  consoleRead(max: number): Uint8Array;
  /** A hart became runnable or has work: stop sleeping. */
  wake(): void;
}

const NEVER = 0xffffffffffffffffn;

export class BuiltinFirmware implements SbiPlatform {
  readonly state: HartState[];
  /** Per-hart SBI timer deadline in timebase ticks. */
  private readonly timer: bigint[];

  constructor(
    private readonly harts: Hart[],
    private readonly host: FirmwareHost,
  ) {
    this.state = harts.map(() => HartState.Stopped);
    this.timer = harts.map(() => NEVER);
    for (const h of harts) {
      h.hypercall = (hart) => sbiCall(hart, this);
      h.medeleg = MEDELEG;
      h.mideleg = MIDELEG;
      h.mcounteren = 7; // cycle, time, instret readable from S (and U via scounteren)
      h.menvcfg = 0xf0n; // CBIE = 11, CBCFE, CBZE: cache-block operations allowed below M
      // One PMP entry (NAPOT, everything, RWX), as OpenSBI leaves for S-mode.
      h.pmpaddr[0] = (1n << 54n) - 1n;
      h.pmpcfg[0] = 0x1f;
      updatePmpRanges(h);
    }
  }

  /** Starts `hart` in S-mode at `pc` with a0 = hartid, a1 = `arg` (boot protocol). */
  enter(hartId: number, pc: number, arg: bigint): void {
    const h = this.harts[hartId];
    h.priv = Priv.S;
    h.mstatus = 0;
    h.satpMode = 0;
    h.satpAsid = 0;
    h.satpPpn = 0;
    h.mip &= ~(MIP_SSIP | MIP_STIP);
    h.mie = 0;
    h.updateRegimes();
    flushTranslations(h);
    h.setX(10, BigInt(hartId));
    h.setX(11, arg);
    h.pc = pc;
    h.waiting = false;
    this.state[hartId] = HartState.Started;
    this.host.wake();
  }

  /** Recomputes STIP from the SBI timers; returns ms until the next deadline (Infinity if none). */
  updateTimers(): number {
    const t = this.host.now();
    let next = Infinity;
    for (let k = 0; k < this.harts.length; k++) {
      const d = this.timer[k];
      if (BigInt(t) >= d) this.harts[k].mip |= MIP_STIP;
      else {
        this.harts[k].mip &= ~MIP_STIP;
        if (d < 1n << 62n) next = Math.min(next, (Number(d) - t) / 10_000);
      }
    }
    return next;
  }

  hartCount(): number {
    return this.harts.length;
  }

  setTimer(hartId: number, stimeValue: bigint): void {
    this.timer[hartId] = stimeValue;
    this.updateTimers();
  }

  sendIpi(hartIds: number[]): void {
    for (const id of hartIds) this.harts[id].mip |= MIP_SSIP;
    this.host.wake();
  }

  remoteFenceI(hartIds: number[]): void {
    for (const id of hartIds) this.harts[id].flushCode();
  }

  remoteSfenceVma(hartIds: number[]): void {
    for (const id of hartIds) flushTranslations(this.harts[id]);
  }

  hartStart(hartId: number, startAddr: bigint, opaque: bigint): SbiError {
    if (this.state[hartId] !== HartState.Stopped) return SbiError.AlreadyAvailable;
    this.enter(hartId, Number(BigInt.asIntN(64, startAddr)), opaque);
    return SbiError.Success;
  }

  hartStop(hartId: number): SbiError {
    if (this.state[hartId] !== HartState.Started) return SbiError.Failed;
    this.state[hartId] = HartState.Stopped;
    this.harts[hartId].waiting = true; // ends its current run slice
    return SbiError.Success;
  }

  hartStatus(hartId: number): HartState {
    return this.state[hartId];
  }

  reset(kind: ResetKind, reason: number): void {
    this.host.reset(kind, reason);
  }

  consoleWrite(bytes: Uint8Array): void {
    this.host.consoleWrite(bytes);
  }

  consoleRead(max: number): Uint8Array {
    return this.host.consoleRead(max);
  }
}
