/**
 * How a hart's world reaches the devices that live on the VMM thread (UART,
 * PLIC, virtio, power): a per-hart mailbox in shared memory. The world writes
 * a request, rings a doorbell and sleeps on its mailbox (Atomics.wait); the
 * VMM thread, woken by Atomics.waitAsync without blocking its event loop,
 * performs the access on the real device and posts the result. The access is
 * synchronous for the guest, as a load from a device register must be.
 *
 * Writes whose effect the guest never waits for (virtio's QueueNotify) are
 * *posted* instead: the world appends them to its ring and runs on, and the
 * VMM thread carries them out on the doorbell — and before it serves any
 * request, so that no later access overtakes them.
 */
import type { MmioDevice } from "../../devices/bus.js";

const STATE = 0;
const OP = 1;
const DEV = 2;
const OFFSET = 3;
const SIZE = 4;
const V_LO = 5;
const V_HI = 6;
const LEN = 7;
const HEADER_WORDS = 8;
/** Bytes a console write can carry at once. */
export const MAILBOX_DATA = 4096;
const STRIDE = HEADER_WORDS * 4 + MAILBOX_DATA;

/** Posted writes a hart's ring holds; a full ring makes the next write synchronous. */
const POSTED_SLOTS = 64;
/** Per hart: head (taken by the VMM), tail (added by the world), then (dev, offset, value) per slot. */
const POSTED_WORDS = 2 + 3 * POSTED_SLOTS;

const IDLE = 0;
const REQUEST = 1;
const DONE = 2;

export const MailOp = {
  Read: 1,
  Write: 2,
  /** Console output from the SBI (LEN bytes of data). */
  Console: 3,
  /** SBI system reset: V_LO = 0 poweroff, 1 reboot; V_HI = code. */
  Power: 4,
} as const;
export type MailOp = (typeof MailOp)[keyof typeof MailOp];

/** What the VMM thread does with a request. */
export interface MailHandler {
  read(dev: number, offset: number, size: number): number | bigint;
  write(dev: number, offset: number, size: number, value: number | bigint): void;
  console(bytes: Uint8Array): void;
  power(reboot: boolean, code: number): void;
  /**
   * Work the worlds queued in shared memory without a request (the UART's TX
   * rings, src/vmm/smp/uartFastPath.ts): done on every doorbell and before
   * each request is served, so that no request overtakes it.
   */
  drain(): void;
}

export function mailboxBuffer(harts: number): SharedArrayBuffer {
  return new SharedArrayBuffer(harts * STRIDE + 4 + 4 * harts * POSTED_WORDS);
}

function postedRing(buffer: SharedArrayBuffer, harts: number, hart: number): Int32Array {
  return new Int32Array(buffer, harts * STRIDE + 4 + 4 * hart * POSTED_WORDS, POSTED_WORDS);
}

/** The world's end: one hart's mailbox. */
export class MailboxClient {
  private readonly w: Int32Array;
  private readonly data: Uint8Array;
  private readonly doorbell: Int32Array;
  private readonly posted: Int32Array;

  constructor(buffer: SharedArrayBuffer, hart: number, harts: number) {
    this.posted = postedRing(buffer, harts, hart);
    this.w = new Int32Array(buffer, hart * STRIDE, HEADER_WORDS);
    this.data = new Uint8Array(buffer, hart * STRIDE + HEADER_WORDS * 4, MAILBOX_DATA);
    this.doorbell = new Int32Array(buffer, harts * STRIDE, 1);
  }

  /** Wakes the VMM thread (also without a request: see `MailHandler.drain`). */
  ring(): void {
    Atomics.add(this.doorbell, 0, 1);
    Atomics.notify(this.doorbell, 0);
  }

  private call(op: MailOp): void {
    const w = this.w;
    w[OP] = op;
    Atomics.store(w, STATE, REQUEST);
    this.ring();
    while (Atomics.load(w, STATE) === REQUEST) Atomics.wait(w, STATE, REQUEST);
    Atomics.store(w, STATE, IDLE);
  }

  read(dev: number, offset: number, size: number): number | bigint {
    const w = this.w;
    w[DEV] = dev;
    w[OFFSET] = offset;
    w[SIZE] = size;
    this.call(MailOp.Read);
    if (size === 8) return (BigInt(w[V_HI] >>> 0) << 32n) | BigInt(w[V_LO] >>> 0);
    return w[V_LO] >>> 0;
  }

  write(dev: number, offset: number, size: number, value: number | bigint): void {
    const w = this.w;
    const v = BigInt.asUintN(64, BigInt(value));
    w[DEV] = dev;
    w[OFFSET] = offset;
    w[SIZE] = size;
    w[V_LO] = Number(v & 0xffffffffn);
    w[V_HI] = Number(v >> 32n);
    this.call(MailOp.Write);
  }

  /** A 32-bit write the world does not wait for; synchronous when the ring is full. */
  post(dev: number, offset: number, value: number): void {
    const r = this.posted;
    const tail = r[1];
    if (((tail - Atomics.load(r, 0)) | 0) >= POSTED_SLOTS) return this.write(dev, offset, 4, value);
    const k = 2 + 3 * (tail & (POSTED_SLOTS - 1));
    r[k] = dev;
    r[k + 1] = offset;
    r[k + 2] = value;
    Atomics.store(r, 1, (tail + 1) | 0); // publishes the entry
    this.ring();
  }

  console(bytes: Uint8Array): void {
    for (let done = 0; done < bytes.length; done += MAILBOX_DATA) {
      const part = bytes.subarray(done, done + MAILBOX_DATA);
      this.data.set(part);
      this.w[LEN] = part.length;
      this.call(MailOp.Console);
    }
  }

  power(reboot: boolean, code: number): void {
    this.w[V_LO] = reboot ? 1 : 0;
    this.w[V_HI] = code;
    this.call(MailOp.Power);
  }
}

/** A device range in a world's bus whose accesses go through the mailbox. */
export class RemoteDevice implements MmioDevice {
  constructor(
    private readonly mailbox: MailboxClient,
    private readonly dev: number,
    /** Called after each access: device side effects (interrupt lines) are visible now. */
    private readonly after: () => void,
    /** The register offset whose 32-bit writes are posted, if any. */
    private readonly postedOffset = -1,
  ) {}

  read(offset: number, size: number): number | bigint {
    const v = this.mailbox.read(this.dev, offset, size);
    this.after();
    return v;
  }

  write(offset: number, size: number, value: number | bigint): void {
    if (offset === this.postedOffset && size === 4) this.mailbox.post(this.dev, offset, Number(value) | 0);
    else this.mailbox.write(this.dev, offset, size, value);
    this.after();
  }
}

/** The VMM thread's end: serves every hart's mailbox until stopped. */
export class MailboxServer {
  private readonly doorbell: Int32Array;
  private running = false;

  constructor(
    private readonly buffer: SharedArrayBuffer,
    private readonly harts: number,
    private readonly handler: MailHandler,
  ) {
    this.doorbell = new Int32Array(buffer, harts * STRIDE, 1);
  }

  start(): void {
    this.running = true;
    this.loop();
  }

  stop(): void {
    this.running = false;
    Atomics.add(this.doorbell, 0, 1);
    Atomics.notify(this.doorbell, 0);
  }

  private loop(): void {
    while (this.running) {
      const seen = Atomics.load(this.doorbell, 0);
      this.serveAll();
      const r = Atomics.waitAsync(this.doorbell, 0, seen);
      if (r.async) {
        void (r.value as Promise<string>).then(() => this.loop());
        return;
      }
    }
  }

  private serveAll(): void {
    for (let h = 0; h < this.harts; h++) {
      const w = new Int32Array(this.buffer, h * STRIDE, HEADER_WORDS);
      if (Atomics.load(w, STATE) !== REQUEST) continue;
      // After seeing the request: whatever the worlds queued before it goes first.
      this.drainPosted();
      this.handler.drain();
      this.serve(h, w);
      Atomics.store(w, STATE, DONE);
      Atomics.notify(w, STATE);
    }
    this.drainPosted();
    this.handler.drain();
  }

  /** Carries out every world's posted writes, in each world's order. */
  drainPosted(): void {
    for (let h = 0; h < this.harts; h++) {
      const r = postedRing(this.buffer, this.harts, h);
      for (let head = r[0], tail = Atomics.load(r, 1); head !== tail; head = (head + 1) | 0) {
        const k = 2 + 3 * (head & (POSTED_SLOTS - 1));
        const dev = r[k];
        const offset = r[k + 1];
        const value = r[k + 2] >>> 0;
        Atomics.store(r, 0, (head + 1) | 0); // the slot is free before the write runs (it may post more)
        this.handler.write(dev, offset, 4, value);
      }
    }
  }

  private serve(h: number, w: Int32Array): void {
    switch (w[OP]) {
      case MailOp.Read: {
        const v = BigInt.asUintN(64, BigInt(this.handler.read(w[DEV], w[OFFSET], w[SIZE])));
        w[V_LO] = Number(v & 0xffffffffn);
        w[V_HI] = Number(v >> 32n);
        return;
      }
      case MailOp.Write: {
        const v = w[SIZE] === 8 ? (BigInt(w[V_HI] >>> 0) << 32n) | BigInt(w[V_LO] >>> 0) : w[V_LO] >>> 0;
        this.handler.write(w[DEV], w[OFFSET], w[SIZE], v);
        return;
      }
      case MailOp.Console: {
        const len = Math.min(w[LEN] >>> 0, MAILBOX_DATA);
        this.handler.console(new Uint8Array(this.buffer, h * STRIDE + HEADER_WORDS * 4, len).slice());
        return;
      }
      case MailOp.Power:
        this.handler.power(w[V_LO] === 1, w[V_HI]);
        return;
    }
  }
}
