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
 *   high-resolution clock (each thread's performance.now() has its own origin),
 *   frozen while the VM is paused so that the guest sees no jump of `time`
 *   when it continues (as QEMU's virtual clock);
 * - pausing: a pause generation the worlds park at, an instruction
 *   boundary, and a slot per hart where a parked world leaves its saved
 *   state and finds the state to restore when the VM continues.
 */
import { MIP_MEIP, MIP_MSIP, MIP_MTIP, MIP_SEIP, MIP_STIP } from "../../cpu/riscv/trap.js";
import { HartState } from "../../firmware/sbi.js";
import { hex64, StateError, StateReader, type Saved } from "../../state/savedState.js";
import { REQ_SSIP } from "../../firmware/builtinFirmware.js";

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
/** The pause generation this hart's world last parked at. */
const PARKED = 11;
/** The write-shootdown epoch this hart's world has carried out. */
const WRITES_SEEN = 12;
/** Non-zero: the world is to fail (fault injection for tests of a VM's isolation). */
const FAULT = 13;
const STRIDE = 16;
/** Global int32 words after the harts. */
const POWER = 0;
const POWER_CODE = 1;
/** Non-zero while the VM is paused: the pause's generation. */
const PAUSE = 2;
/** Bumped whenever a world parks (what the VMM thread waits on). */
const PARK_EVENTS = 3;
/** The latest write-shootdown epoch, and a count bumped whenever a world carries one out. */
const WRITES_EPOCH = 4;
const WRITES_ACKS = 5;
const GLOBAL_WORDS = 6;

/** Float64 stats: clock origin (epoch ms), frozen mtime (NaN while running), then instret per hart. */
const CLOCK_ORIGIN = 0;
const CLOCK_FROZEN = 1;
const INSTRET = 2;

/** Bytes per hart of the state slot: int32 length, int32 restore flag, then the JSON text. */
const SLOT_BYTES = 64 * 1024;
const SLOT_HEADER = 8;
const STATE_VERSION = 1;

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
  slots: SharedArrayBuffer;
}

const epochMs = (): number => performance.timeOrigin + performance.now();

export class HartControl {
  readonly harts: number;
  private readonly w: Int32Array;
  /** mtimecmp[h] at 2h, SBI timer[h] at 2h + 1. */
  private readonly timers: BigInt64Array;
  /** CLOCK_ORIGIN, CLOCK_FROZEN, then INSTRET + h. */
  private readonly stats: Float64Array;
  private readonly global: number;

  constructor(readonly buffers: HartControlBuffers) {
    this.w = new Int32Array(buffers.words);
    this.timers = new BigInt64Array(buffers.timers);
    this.stats = new Float64Array(buffers.stats);
    this.harts = this.timers.length / 2;
    this.global = this.harts * STRIDE;
  }

  /** Shared control for `harts` harts; `paused`: the worlds park before their first instruction (a VM waiting for its state). */
  static create(harts: number, paused = false): HartControl {
    const c = new HartControl({
      words: new SharedArrayBuffer(4 * (harts * STRIDE + GLOBAL_WORDS)),
      timers: new SharedArrayBuffer(16 * harts),
      stats: new SharedArrayBuffer(8 * (harts + INSTRET)),
      slots: new SharedArrayBuffer(SLOT_BYTES * harts),
    });
    c.timers.fill(-1n);
    c.stats[CLOCK_ORIGIN] = epochMs();
    c.stats[CLOCK_FROZEN] = NaN;
    for (let h = 0; h < harts; h++) c.w[h * STRIDE + HSM] = HartState.Stopped;
    if (paused) c.requestPause();
    return c;
  }

  /** mtime in ticks: frozen while the VM is paused. */
  now(): number {
    const frozen = this.stats[CLOCK_FROZEN];
    if (frozen === frozen) return frozen;
    return Math.floor((epochMs() - this.stats[CLOCK_ORIGIN]) * (MTIME_HZ / 1000));
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

  /** Takes hart h's pending requests (those in `mask`). */
  takeRequests(h: number, mask = -1): number {
    return Atomics.and(this.w, this.at(h, REQ), ~mask) & mask;
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
    this.stats[INSTRET + h] = n;
  }

  instret(): number {
    let n = 0;
    for (let h = 0; h < this.harts; h++) n += this.stats[INSTRET + h];
    return n;
  }

  // ------------------------------------------------------------ fault injection (tests)

  /** Makes hart h's world throw at its next slice, as a bug in it would. */
  injectFault(h: number): void {
    Atomics.store(this.w, this.at(h, FAULT), 1);
    this.wake(h);
  }

  faultInjected(h: number): boolean {
    return Atomics.load(this.w, this.at(h, FAULT)) !== 0;
  }

  // ------------------------------------------------------------ write shootdowns (vmkernel/writeTracker.ts)

  /**
   * Asks every world to drop its software TLBs' write entries; returns the
   * epoch to wait for with `writesShotDown`.
   */
  shootDownWrites(): number {
    const e = Atomics.add(this.w, this.global + WRITES_EPOCH, 1) + 1;
    this.wakeAll();
    return e;
  }

  /** Resolves once every world has carried out write shootdown epoch `e` (or the VM is powering off). */
  writesShotDown(e: number): Promise<void> {
    return this.everyWorld(WRITES_ACKS, (h) => Atomics.load(this.w, this.at(h, WRITES_SEEN)) - e >= 0);
  }

  /**
   * Resolves once `done(h)` holds for every hart (or the VM is powering
   * off), re-checking whenever a world bumps the global word `events`.
   * The VMM thread never blocks: it waits with Atomics.waitAsync.
   */
  private async everyWorld(events: number, done: (h: number) => boolean): Promise<void> {
    for (;;) {
      const seen = Atomics.load(this.w, this.global + events);
      let n = 0;
      for (let h = 0; h < this.harts; h++) if (done(h)) n++;
      if (n === this.harts || this.power() !== Power.Running) return;
      const r = Atomics.waitAsync(this.w, this.global + events, seen, 100);
      if (r.async) await r.value;
    }
  }

  /** World side: the write-shootdown epoch hart h must carry out, or 0 when it is up to date. */
  pendingWriteShootdown(h: number): number {
    const e = Atomics.load(this.w, this.global + WRITES_EPOCH);
    return e === Atomics.load(this.w, this.at(h, WRITES_SEEN)) ? 0 : e;
  }

  /** World side: hart h has dropped its write entries as of epoch e. */
  writesShotDownBy(h: number, e: number): void {
    Atomics.store(this.w, this.at(h, WRITES_SEEN), e);
    Atomics.add(this.w, this.global + WRITES_ACKS, 1);
    Atomics.notify(this.w, this.global + WRITES_ACKS);
  }

  // ------------------------------------------------------------ pausing (VMM side)

  /**
   * Asks every world to park at its next instruction boundary and freezes
   * mtime; returns the pause generation to wait for with `allParked`.
   */
  requestPause(): number {
    const g = this.pauseGeneration();
    if (g !== 0) return g;
    if (this.stats[CLOCK_FROZEN] !== this.stats[CLOCK_FROZEN]) this.stats[CLOCK_FROZEN] = this.now();
    const next = (Atomics.load(this.w, this.global + PARK_EVENTS) & 0x3fffffff) + 1;
    Atomics.store(this.w, this.global + PAUSE, next);
    this.wakeAll();
    return next;
  }

  /** Resolves once every world has parked at pause generation `g` (or the VM is powering off). */
  allParked(g: number): Promise<void> {
    return this.everyWorld(PARK_EVENTS, (h) => Atomics.load(this.w, this.at(h, PARKED)) === g);
  }

  /** Continues the VM: mtime runs on from where it stood, the worlds leave their parking. */
  resume(): void {
    const frozen = this.stats[CLOCK_FROZEN];
    if (frozen === frozen) this.stats[CLOCK_ORIGIN] = epochMs() - frozen / (MTIME_HZ / 1000);
    this.stats[CLOCK_FROZEN] = NaN;
    Atomics.store(this.w, this.global + PAUSE, 0);
    this.wakeAll();
  }

  /** The saved state hart h's world left when it parked. */
  parkedState(h: number): unknown {
    const { len, bytes } = this.slot(h);
    return JSON.parse(new TextDecoder().decode(bytes.slice(0, Atomics.load(len, 0))));
  }

  /** Gives hart h's parked world a state to restore when the VM continues. */
  setRestoreState(h: number, saved: Saved): void {
    this.writeSlot(h, saved);
    Atomics.store(this.slot(h).len, 1, 1);
  }

  // ------------------------------------------------------------ pausing (world side)

  /** Non-zero while a pause is requested: its generation. */
  pauseGeneration(): number {
    return Atomics.load(this.w, this.global + PAUSE);
  }

  /** Hart h's world parks at generation g, leaving its state in its slot. */
  park(h: number, g: number, saved: Saved): void {
    this.writeSlot(h, saved);
    Atomics.store(this.slot(h).len, 1, 0);
    Atomics.store(this.w, this.at(h, PARKED), g);
    Atomics.add(this.w, this.global + PARK_EVENTS, 1);
    Atomics.notify(this.w, this.global + PARK_EVENTS);
  }

  /** The state the VMM left hart h's world to restore while it was parked, once. */
  takeRestoreState(h: number): unknown {
    const { len } = this.slot(h);
    if (Atomics.exchange(len, 1, 0) === 0) return undefined;
    return this.parkedState(h);
  }

  private slot(h: number): { len: Int32Array; bytes: Uint8Array } {
    const at = h * SLOT_BYTES;
    return {
      len: new Int32Array(this.buffers.slots, at, 2),
      bytes: new Uint8Array(this.buffers.slots, at + SLOT_HEADER, SLOT_BYTES - SLOT_HEADER),
    };
  }

  private writeSlot(h: number, saved: Saved): void {
    const { len, bytes } = this.slot(h);
    const text = new TextEncoder().encode(JSON.stringify(saved));
    if (text.length > bytes.length) throw new StateError(`hart${h}: saved state of ${text.length} bytes does not fit its slot`);
    bytes.set(text);
    Atomics.store(len, 0, text.length);
  }

  // ------------------------------------------------------------ saved state (docs/checkpoint.md)

  /**
   * What the harts share, saved while paused: mtime, the CLINT's msip and
   * mtimecmp, the built-in SBI's timers, HSM states and start arguments, and
   * IPIs posted but not yet taken. Interrupt lines are not saved: the PLIC
   * and msip drive them again when they are restored.
   */
  saveState(): Saved {
    const harts = Array.from({ length: this.harts }, (_, h) => {
      const { pc, arg } = this.startArguments(h);
      return {
        v: STATE_VERSION,
        msip: this.msip(h),
        mtimecmp: hex64(this.mtimecmp(h)),
        sbiTimer: hex64(BigInt.asUintN(64, Atomics.load(this.timers, 2 * h + 1))),
        hsm: this.hartState(h),
        startPc: hex64(pc),
        startArg: hex64(arg),
        ipi: (Atomics.load(this.w, this.at(h, REQ)) & REQ_SSIP) !== 0,
      };
    });
    return { v: STATE_VERSION, mtime: this.now(), harts };
  }

  /** Restores `saveState`'s record into a paused VM's control, checking it all first. */
  restoreState(saved: unknown): void {
    const r = StateReader.open("harts", saved, STATE_VERSION);
    const mtime = r.int("mtime", 0, Number.MAX_SAFE_INTEGER);
    const harts = r.records("harts", this.harts, this.harts, STATE_VERSION).map((hr) => {
      return {
        msip: hr.int("msip", 0, 1),
        mtimecmp: hr.u64("mtimecmp"),
        sbiTimer: hr.u64("sbiTimer"),
        hsm: hr.int("hsm", HartState.Started, HartState.Suspended) as HartState,
        startPc: hr.u64("startPc"),
        startArg: hr.u64("startArg"),
        ipi: hr.bool("ipi"),
      };
    });
    if (this.pauseGeneration() === 0) throw new StateError("harts: restoring into a running VM");
    this.stats[CLOCK_FROZEN] = mtime;
    harts.forEach((s, h) => {
      this.setMsip(h, s.msip);
      Atomics.store(this.timers, 2 * h, BigInt.asIntN(64, s.mtimecmp));
      Atomics.store(this.timers, 2 * h + 1, BigInt.asIntN(64, s.sbiTimer));
      const put = (word: number, v: bigint): void => {
        this.w[this.at(h, word)] = Number(BigInt.asIntN(32, v));
        this.w[this.at(h, word + 1)] = Number(BigInt.asIntN(32, v >> 32n));
      };
      put(START_PC, s.startPc);
      put(START_ARG, s.startArg);
      this.setHartState(h, s.hsm);
      if (s.ipi) Atomics.or(this.w, this.at(h, REQ), REQ_SSIP);
      else Atomics.and(this.w, this.at(h, REQ), ~REQ_SSIP);
    });
  }
}
