/**
 * The state harts share across worlds (worker threads), in SharedArrayBuffers
 * so that every thread reads and writes it with Atomics:
 *
 * - interrupt lines into each hart: the PLIC's MEIP/SEIP levels and the
 *   CLINT's MSIP, kept as mip bits; the hart folds them into its mip at
 *   every slice boundary and before it sleeps;
 * - one-shot requests to a hart: an SBI IPI (SSIP), remote FENCE.I and
 *   SFENCE.VMA, each acknowledged by a counter the requester waits on;
 * - a wake word per hart, the futex its world sleeps on in WFI;
 * - the timers: CLINT mtimecmp and the built-in SBI's per-hart deadline;
 * - HSM state and start arguments (SBI §9), the power request, statistics;
 * - mtime, one clock for every thread: 10 MHz from the epoch-based
 *   high-resolution clock (each thread's performance.now() has its own origin).
 */
import { MIP_MEIP, MIP_MSIP, MIP_MTIP, MIP_SEIP, MIP_STIP } from "../../cpu/riscv/trap.js";
import { HartState } from "../../firmware/sbi.js";

/** mtime frequency: 10 MHz, as QEMU's virt machine (timebase-frequency). */
export const MTIME_HZ = 10_000_000;
export const NEVER = 0xffffffffffffffffn;

/** Per-hart int32 words. */
const IRQ = 0;
const REQ = 1;
const WAKE = 2;
const HSM = 3;
const START_PC = 4; // 2 words
const START_ARG = 6; // 2 words
const FENCE_DONE = 8;
const MSIP = 9;
const ATTENTION = 10;
const STRIDE = 16;
/** Global int32 words after the harts. */
const POWER = 0;
const POWER_CODE = 1;

/** HSM word while a hart_start writes the start arguments. */
const CLAIMED = -1;

/** Interrupt lines the shared state drives; everything else in mip belongs to the hart. */
const LINES = MIP_MEIP | MIP_SEIP | MIP_MSIP;

export const Power = {
  Running: 0,
  Poweroff: 1,
  Reboot: 2,
} as const;
export type Power = (typeof Power)[keyof typeof Power];

/** The buffers, as passed to a world in workerData. */
export interface HartControlBuffers {
  words: SharedArrayBuffer;
  timers: SharedArrayBuffer;
  stats: SharedArrayBuffer;
}

const epochMs = (): number => performance.timeOrigin + performance.now();

export class HartControl {
  readonly harts: number;
  private readonly w: Int32Array;
  /** mtimecmp[h] at 2h, SBI timer[h] at 2h + 1. */
  private readonly timers: BigInt64Array;
  /** [0] = clock origin (epoch ms), [1 + h] = hart h's instructions retired. */
  private readonly stats: Float64Array;
  private readonly global: number;

  constructor(readonly buffers: HartControlBuffers) {
    this.w = new Int32Array(buffers.words);
    this.timers = new BigInt64Array(buffers.timers);
    this.stats = new Float64Array(buffers.stats);
    this.harts = this.timers.length / 2;
    this.global = this.harts * STRIDE;
  }

  static create(harts: number): HartControl {
    const c = new HartControl({
      words: new SharedArrayBuffer(4 * (harts * STRIDE + 4)),
      timers: new SharedArrayBuffer(16 * harts),
      stats: new SharedArrayBuffer(8 * (harts + 1)),
    });
    c.timers.fill(-1n);
    c.stats[0] = epochMs();
    for (let h = 0; h < harts; h++) c.w[h * STRIDE + HSM] = HartState.Stopped;
    return c;
  }

  /** mtime in ticks. */
  now(): number {
    return Math.floor((epochMs() - this.stats[0]) * (MTIME_HZ / 1000));
  }

  private at(h: number, word: number): number {
    return h * STRIDE + word;
  }

  // ------------------------------------------------------------ waking

  /** Makes hart h's world re-examine its state: ends its run slice at the next block, or its WFI sleep. */
  wake(h: number): void {
    Atomics.store(this.w, this.at(h, ATTENTION), 1);
    Atomics.add(this.w, this.at(h, WAKE), 1);
    Atomics.notify(this.w, this.at(h, WAKE));
  }

  /** The word a hart's run loop polls (`Hart.attention`). */
  attentionView(h: number): Int32Array {
    return this.w.subarray(this.at(h, ATTENTION), this.at(h, ATTENTION) + 1);
  }

  /** The world has seen what it was woken for. */
  clearAttention(h: number): void {
    Atomics.store(this.w, this.at(h, ATTENTION), 0);
  }

  wakeAll(): void {
    for (let h = 0; h < this.harts; h++) this.wake(h);
  }

  /** Sleeps hart h's world for up to `ms`, unless woken since `wakeCount()` returned `seen`. */
  sleep(h: number, seen: number, ms: number): void {
    Atomics.wait(this.w, this.at(h, WAKE), seen, Math.max(0, ms));
  }

  wakeCount(h: number): number {
    return Atomics.load(this.w, this.at(h, WAKE));
  }

  // ------------------------------------------------------------ interrupt lines

  /** Drives an interrupt line (MEIP, SEIP or MSIP) into hart h. */
  setLine(h: number, bit: number, level: boolean): void {
    if (level) Atomics.or(this.w, this.at(h, IRQ), bit);
    else Atomics.and(this.w, this.at(h, IRQ), ~bit);
    this.wake(h);
  }

  /** CLINT msip register of hart h (drives MSIP). */
  msip(h: number): number {
    return Atomics.load(this.w, this.at(h, MSIP));
  }

  setMsip(h: number, v: number): void {
    Atomics.store(this.w, this.at(h, MSIP), v & 1);
    this.setLine(h, MIP_MSIP, (v & 1) !== 0);
  }

  /**
   * Hart h's mip with the shared lines and timers folded in. `sbiTimer`: the
   * built-in SBI owns STIP (with M-mode firmware, STIP is the firmware's).
   */
  foldInterrupts(h: number, mip: number, sbiTimer: boolean): number {
    const t = BigInt(this.now());
    let m = (mip & ~(LINES | MIP_MTIP)) | (Atomics.load(this.w, this.at(h, IRQ)) & LINES);
    if (t >= this.mtimecmp(h)) m |= MIP_MTIP;
    if (sbiTimer) m = t >= BigInt.asUintN(64, Atomics.load(this.timers, 2 * h + 1)) ? m | MIP_STIP : m & ~MIP_STIP;
    return m;
  }

  // ------------------------------------------------------------ timers

  mtimecmp(h: number): bigint {
    return BigInt.asUintN(64, Atomics.load(this.timers, 2 * h));
  }

  setMtimecmp(h: number, v: bigint): void {
    Atomics.store(this.timers, 2 * h, BigInt.asIntN(64, v));
    this.wake(h);
  }

  setSbiTimer(h: number, v: bigint): void {
    Atomics.store(this.timers, 2 * h + 1, BigInt.asIntN(64, v));
  }

  /** Milliseconds until hart h's next timer deadline (Infinity when none is armed). */
  msUntilDeadline(h: number, sbiTimer: boolean): number {
    const t = this.now();
    let best = Infinity;
    for (const k of sbiTimer ? [2 * h, 2 * h + 1] : [2 * h]) {
      const c = BigInt.asUintN(64, Atomics.load(this.timers, k));
      if (c >= 1n << 62n) continue;
      best = Math.min(best, Math.max(0, (Number(c) - t) / (MTIME_HZ / 1000)));
    }
    return best;
  }

  // ------------------------------------------------------------ requests between harts

  /** Posts requests to hart h and wakes it; returns the acknowledgement count to wait past. */
  request(h: number, bits: number): number {
    const done = Atomics.load(this.w, this.at(h, FENCE_DONE));
    Atomics.or(this.w, this.at(h, REQ), bits);
    this.wake(h);
    return done;
  }

  /** Takes hart h's pending requests. */
  takeRequests(h: number): number {
    return Atomics.exchange(this.w, this.at(h, REQ), 0);
  }

  /** Hart h has carried out the requests it took. */
  acknowledge(h: number): void {
    Atomics.add(this.w, this.at(h, FENCE_DONE), 1);
    Atomics.notify(this.w, this.at(h, FENCE_DONE));
  }

  /** Waits up to `ms` for hart h to acknowledge past `seen`; true when it has. */
  awaitAck(h: number, seen: number, ms: number): boolean {
    if (Atomics.load(this.w, this.at(h, FENCE_DONE)) !== seen) return true;
    Atomics.wait(this.w, this.at(h, FENCE_DONE), seen, ms);
    return Atomics.load(this.w, this.at(h, FENCE_DONE)) !== seen;
  }

  // ------------------------------------------------------------ HSM (SBI §9)

  hartState(h: number): HartState {
    const s = Atomics.load(this.w, this.at(h, HSM));
    return s === CLAIMED ? HartState.StartPending : (s as HartState);
  }

  setHartState(h: number, s: HartState): void {
    Atomics.store(this.w, this.at(h, HSM), s);
  }

  /** STOPPED -> START_PENDING with the start address and argument; false if the hart was not stopped. */
  requestStart(h: number, pc: bigint, arg: bigint): boolean {
    const w = this.w;
    // Claim the hart first (a state no world acts on), so it never sees START_PENDING before its arguments.
    if (Atomics.compareExchange(w, this.at(h, HSM), HartState.Stopped, CLAIMED) !== HartState.Stopped) return false;
    const put = (word: number, v: bigint): void => {
      w[this.at(h, word)] = Number(BigInt.asIntN(32, v));
      w[this.at(h, word + 1)] = Number(BigInt.asIntN(32, v >> 32n));
    };
    put(START_PC, pc);
    put(START_ARG, arg);
    Atomics.store(w, this.at(h, HSM), HartState.StartPending); // publishes the arguments
    this.wake(h);
    return true;
  }

  startArguments(h: number): { pc: bigint; arg: bigint } {
    const get = (word: number): bigint =>
      BigInt.asIntN(64, (BigInt(this.w[this.at(h, word + 1)]) << 32n) | BigInt(this.w[this.at(h, word)] >>> 0));
    return { pc: get(START_PC), arg: get(START_ARG) };
  }

  // ------------------------------------------------------------ power and statistics

  power(): Power {
    return Atomics.load(this.w, this.global + POWER) as Power;
  }

  powerCode(): number {
    return Atomics.load(this.w, this.global + POWER_CODE);
  }

  /** Records the first power request (later ones are ignored) and wakes every hart. */
  requestPower(p: Power, code = 0): void {
    if (Atomics.compareExchange(this.w, this.global + POWER, Power.Running, p) === Power.Running) {
      Atomics.store(this.w, this.global + POWER_CODE, code);
    }
    this.wakeAll();
  }

  setInstret(h: number, n: number): void {
    this.stats[1 + h] = n;
  }

  instret(): number {
    let n = 0;
    for (let h = 0; h < this.harts; h++) n += this.stats[1 + h];
    return n;
  }
}
