/**
 * tsxi's built-in firmware for one hart: what OpenSBI would do for an S-mode
 * kernel, done by the monitor instead of by M-mode code in the guest. Each
 * hart's world has its own instance; they cooperate through the harts'
 * shared state (`FirmwareHarts`, which the VMM's HartControl implements).
 *
 * It puts the hart into the state the Linux boot protocol expects after
 * firmware (Documentation/arch/riscv/boot.rst: S-mode, MMU off, a0 = hartid,
 * a1 = DTB), delegates every trap and supervisor interrupt to S-mode as
 * OpenSBI does, and implements the SBI (src/firmware/sbi.ts): the SBI timer
 * drives STIP, IPIs set SSIP, remote fences are carried out by the target
 * harts before the call returns, HSM starts and stops harts, SRST powers off
 * or reboots.
 */
import type { Hart } from "../cpu/riscv/hart.js";
import { Priv } from "../cpu/riscv/priv.js";
import { Cause, MIP_SEIP, MIP_SSIP, MIP_STIP } from "../cpu/riscv/trap.js";
import { flushTranslations } from "../cpu/riscv/mmu.js";
import { updatePmpRanges } from "../cpu/riscv/pmp.js";
import { HartState, SbiError, sbiCall, type ResetKind, type SbiPlatform } from "./sbi.js";

/** Exceptions OpenSBI delegates to S-mode (lib/sbi/sbi_hart.c, delegate_traps) plus the rest S can handle. */
const MEDELEG =
  (1 << Cause.InsnMisaligned) | (1 << Cause.InsnAccessFault) | (1 << Cause.IllegalInsn) | (1 << Cause.Breakpoint) |
  (1 << Cause.LoadMisaligned) | (1 << Cause.LoadAccessFault) | (1 << Cause.StoreMisaligned) |
  (1 << Cause.StoreAccessFault) | (1 << Cause.EcallU) | (1 << Cause.InsnPageFault) | (1 << Cause.LoadPageFault) |
  (1 << Cause.StorePageFault);
const MIDELEG = MIP_SSIP | MIP_STIP | MIP_SEIP;
/** How long a remote fence waits between checks of its own requests (two harts may fence each other). */
const FENCE_POLL_MS = 1;

/** Requests one hart's firmware posts to another's (FirmwareHarts.request). */
export const REQ_SSIP = MIP_SSIP;
export const REQ_FENCE_I = 1 << 16;
export const REQ_SFENCE_VMA = 1 << 17;

/**
 * What the firmware needs of the state the harts share across worlds
 * (src/vmm/smp/hartControl.ts's HartControl): timers, interrupt lines,
 * requests between harts with their acknowledgements, and HSM states.
 */
export interface FirmwareHarts {
  readonly harts: number;
  /** Arms hart h's SBI timer (-1n: never). */
  setSbiTimer(h: number, v: bigint): void;
  /** Hart h's mip with the shared lines and timers folded in (`sbiTimer`: the SBI owns STIP). */
  foldInterrupts(h: number, mip: number, sbiTimer: boolean): number;
  /** Posts requests (REQ_* bits) to hart h and wakes it; returns the acknowledgement count to wait past. */
  request(h: number, bits: number): number;
  /** Takes hart h's pending requests. */
  /** Takes hart h's pending requests (those in `mask`). */
  takeRequests(h: number, mask?: number): number;
  /** Hart h has carried out the requests it took. */
  acknowledge(h: number): void;
  /** Waits up to `ms` for hart h to acknowledge past `seen`; true when it has. */
  awaitAck(h: number, seen: number, ms: number): boolean;
  hartState(h: number): HartState;
  setHartState(h: number, s: HartState): void;
  /** STOPPED -> START_PENDING with the start address and argument; false if the hart was not stopped. */
  requestStart(h: number, pc: bigint, arg: bigint): boolean;
}

/** What the firmware needs from the VMM besides the harts. */
export interface FirmwareHost {
  reset(kind: ResetKind, reason: number): void;
  consoleWrite(bytes: Uint8Array): void;
}

export class BuiltinFirmware implements SbiPlatform {
  constructor(
    private readonly hart: Hart,
    private readonly control: FirmwareHarts,
    private readonly host: FirmwareHost,
  ) {
    const h = hart;
    h.hypercall = (self) => sbiCall(self, this);
    h.medeleg = MEDELEG;
    h.mideleg = MIDELEG;
    h.mcounteren = 7; // cycle, time, instret readable from S (and U via scounteren)
    h.menvcfg = 0xf0n; // CBIE = 11, CBCFE, CBZE: cache-block operations allowed below M
    // One PMP entry (NAPOT, everything, RWX), as OpenSBI leaves for S-mode.
    h.pmpaddr[0] = (1n << 54n) - 1n;
    h.pmpcfg[0] = 0x1f;
    updatePmpRanges(h);
  }

  /** Starts the hart in S-mode at `pc` with a0 = hartid, a1 = `arg` (boot protocol). */
  enter(pc: number, arg: bigint): void {
    const h = this.hart;
    h.priv = Priv.S;
    h.mstatus = 0;
    h.satpMode = 0;
    h.satpAsid = 0;
    h.satpPpn = 0;
    h.mip &= ~(MIP_SSIP | MIP_STIP);
    h.mie = 0;
    h.updateRegimes();
    flushTranslations(h);
    h.flushCode();
    h.setX(10, BigInt(h.hartId));
    h.setX(11, arg);
    h.pc = pc;
    h.waiting = false;
    this.control.setSbiTimer(h.hartId, -1n);
    this.control.setHartState(h.hartId, HartState.Started);
  }

  /**
   * Carries out requests other harts posted to this one (IPIs, remote
   * fences) and acknowledges them. A parked hart (a paused VM) carries out
   * only fences, which change no architectural state, so that a hart still
   * in an SBI fence call can reach its instruction boundary; its IPIs wait.
   */
  serviceRequests(fencesOnly = false): void {
    const id = this.hart.hartId;
    const req = this.control.takeRequests(id, fencesOnly ? REQ_FENCE_I | REQ_SFENCE_VMA : -1);
    if (req === 0) return;
    if (req & REQ_SSIP) this.hart.mip |= MIP_SSIP;
    if (req & REQ_FENCE_I) this.hart.fenceI();
    if (req & REQ_SFENCE_VMA) flushTranslations(this.hart);
    this.control.acknowledge(id);
  }

  hartCount(): number {
    return this.control.harts;
  }

  setTimer(hartId: number, stimeValue: bigint): void {
    this.control.setSbiTimer(hartId, stimeValue);
    // Clearing STIP must be visible before the kernel re-enables timer interrupts.
    this.hart.mip = this.control.foldInterrupts(this.hart.hartId, this.hart.mip, true);
  }

  sendIpi(hartIds: number[]): void {
    for (const id of hartIds) {
      if (id === this.hart.hartId) this.hart.mip |= MIP_SSIP;
      else this.control.request(id, REQ_SSIP);
    }
  }

  remoteFenceI(hartIds: number[]): void {
    this.fence(hartIds, REQ_FENCE_I, () => this.hart.fenceI());
  }

  remoteSfenceVma(hartIds: number[]): void {
    this.fence(hartIds, REQ_SFENCE_VMA, () => flushTranslations(this.hart));
  }

  /** Has every started target carry out `bit` before returning (SBI §8: the call completes the fence). */
  private fence(hartIds: number[], bit: number, local: () => void): void {
    const waits: [number, number][] = [];
    for (const id of hartIds) {
      if (id === this.hart.hartId) local();
      else if (this.control.hartState(id) === HartState.Started) waits.push([id, this.control.request(id, bit)]);
      // A stopped hart forgets all translations and code when it starts.
    }
    for (const [id, seen] of waits) {
      while (!this.control.awaitAck(id, seen, FENCE_POLL_MS)) {
        if (this.control.hartState(id) !== HartState.Started) break;
        this.serviceRequests();
      }
    }
  }

  hartStart(hartId: number, startAddr: bigint, opaque: bigint): SbiError {
    return this.control.requestStart(hartId, startAddr, opaque) ? SbiError.Success : SbiError.AlreadyAvailable;
  }

  hartStop(hartId: number): SbiError {
    if (this.control.hartState(hartId) !== HartState.Started) return SbiError.Failed;
    this.control.setHartState(hartId, HartState.Stopped);
    this.hart.waiting = true; // ends the current run slice
    return SbiError.Success;
  }

  hartStatus(hartId: number): HartState {
    return this.control.hartState(hartId);
  }

  reset(kind: ResetKind, reason: number): void {
    this.host.reset(kind, reason);
    this.hart.waiting = true;
  }

  consoleWrite(bytes: Uint8Array): void {
    this.host.consoleWrite(bytes);
  }

  consoleRead(): Uint8Array {
    return new Uint8Array(0); // console input goes to the UART
  }
}
