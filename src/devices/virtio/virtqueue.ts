/**
 * The device side of a virtio split virtqueue (virtio 1.2 §2.7): the
 * descriptor table, the available ring the driver fills and the used ring the
 * device fills, with indirect descriptors (§2.7.5.3) and notification
 * suppression by event index (§2.7.7, §2.7.10).
 *
 * Everything here is guest-controlled memory. Every index, address and length
 * read from it is checked; a violation throws `VirtqueueError`, which the
 * transport turns into DEVICE_NEEDS_RESET (§2.1.2) — never a host exception.
 */
import type { GuestMemory } from "../../memory/guestMemory.js";
import { StateReader, type Saved, type Stateful } from "../../state/savedState.js";

export class VirtqueueError extends Error {
  override name = "VirtqueueError";
}

/** Descriptor flags (§2.7.5). */
const VIRTQ_DESC_F_NEXT = 1;
const VIRTQ_DESC_F_WRITE = 2;
const VIRTQ_DESC_F_INDIRECT = 4;
/** Available ring flag: the driver asks for no interrupts (§2.7.7). */
const VIRTQ_AVAIL_F_NO_INTERRUPT = 1;
const DESC_SIZE = 16;
/** Largest queue size a split virtqueue may have (§2.7). */
export const VIRTQ_MAX_SIZE = 32768;
const STATE_VERSION = 1;
/**
 * Largest ring address the transport can hold: it puts two 32-bit halves
 * together in a double, exact below 2^53 (where guest RAM is), rounded above.
 */
const ADDRESS_MAX = 2 ** 64;

/** One guest buffer of a chain: guest-physical address and length, both checked against RAM. */
export interface Buffer {
  addr: number;
  len: number;
}

/** A popped descriptor chain: the device reads `readable` and writes `writable` (§2.7.4). */
export interface Chain {
  head: number;
  readable: Buffer[];
  writable: Buffer[];
  readableBytes: number;
  writableBytes: number;
}

export class Virtqueue implements Stateful {
  /** Queue size chosen by the driver (QueueNum); at most `maxSize`. */
  size: number;
  descAddr = 0;
  availAddr = 0;
  usedAddr = 0;
  ready = false;
  /** VIRTIO_F_EVENT_IDX negotiated. */
  eventIdx = false;
  private lastAvail = 0;
  private usedIdx = 0;
  /** Used index at the last interrupt decision, for vring_need_event. */
  private signalledUsed = 0;

  constructor(
    private readonly mem: GuestMemory,
    readonly maxSize: number,
  ) {
    this.size = maxSize;
  }

  reset(): void {
    this.size = this.maxSize;
    this.descAddr = this.availAddr = this.usedAddr = 0;
    this.ready = false;
    this.eventIdx = false;
    this.lastAvail = this.usedIdx = this.signalledUsed = 0;
  }

  /** Checks the rings when the driver sets QueueReady (§4.2.3.2: sizes and alignment, §2.7). */
  validate(): void {
    this.checkRings(this.size, this.descAddr, this.availAddr, this.usedAddr);
    this.lastAvail = this.usedIdx = this.signalledUsed = 0;
  }

  /** Whether rings of `n` entries at these addresses are aligned and in guest RAM, else VirtqueueError. */
  private checkRings(n: number, desc: number, avail: number, used: number): void {
    if (n < 1 || n > this.maxSize) throw new VirtqueueError(`queue size ${n} is not in 1..${this.maxSize}`);
    this.area("descriptor table", desc, DESC_SIZE * n, 16);
    this.area("available ring", avail, 6 + 2 * n, 2);
    this.area("used ring", used, 6 + 8 * n, 4);
  }

  private area(what: string, addr: number, len: number, align: number): void {
    if (addr % align !== 0) throw new VirtqueueError(`${what} at 0x${addr.toString(16)} is not ${align}-byte aligned`);
    if (!this.mem.contains(addr, len)) throw new VirtqueueError(`${what} [0x${addr.toString(16)}, +${len}) is outside guest RAM`);
  }

  saveState(): Saved {
    const { size, descAddr, availAddr, usedAddr, ready, eventIdx, lastAvail, usedIdx, signalledUsed } = this;
    return { v: STATE_VERSION, size, descAddr, availAddr, usedAddr, ready, eventIdx, lastAvail, usedIdx, signalledUsed };
  }

  restoreState(saved: unknown): void {
    this.checkState(saved, "virtqueue")();
  }

  /**
   * Checks a record of `saveState` (named `what` in errors) and returns what
   * restores it: a transport checks all its queues before it changes one.
   */
  checkState(saved: unknown, what: string): () => void {
    const r = StateReader.open(what, saved, STATE_VERSION);
    // Until the queue is ready these hold whatever the driver wrote: QueueNum, address halves.
    const size = r.int("size", 0, 0xffff_ffff);
    const descAddr = r.int("descAddr", 0, ADDRESS_MAX);
    const availAddr = r.int("availAddr", 0, ADDRESS_MAX);
    const usedAddr = r.int("usedAddr", 0, ADDRESS_MAX);
    const ready = r.bool("ready");
    const eventIdx = r.bool("eventIdx");
    const lastAvail = r.int("lastAvail", 0, 0xffff);
    const usedIdx = r.int("usedIdx", 0, 0xffff);
    const signalledUsed = r.int("signalledUsed", 0, 0xffff);
    // A ready queue's rings passed validate(): checked again, keeping the indices in flight.
    if (ready) {
      try {
        this.checkRings(size, descAddr, availAddr, usedAddr);
      } catch (e) {
        if (!(e instanceof VirtqueueError)) throw e;
        r.fail("ready", `is true but ${e.message}`);
      }
    }
    return () => {
      this.size = size;
      this.descAddr = descAddr;
      this.availAddr = availAddr;
      this.usedAddr = usedAddr;
      this.ready = ready;
      this.eventIdx = eventIdx;
      this.lastAvail = lastAvail;
      this.usedIdx = usedIdx;
      this.signalledUsed = signalledUsed;
    };
  }

  /** Number of chains the driver has made available and the device not yet popped. */
  pending(): number {
    const avail = this.mem.readU16(this.availAddr + 2);
    const n = (avail - this.lastAvail) & 0xffff;
    if (n > this.size) throw new VirtqueueError(`available index ${avail} is ${n} ahead of the device (queue size ${this.size})`);
    return n;
  }

  /** Takes the next available chain, or undefined when the ring is empty. */
  pop(): Chain | undefined {
    if (!this.ready || this.pending() === 0) return undefined;
    const head = this.mem.readU16(this.availAddr + 4 + 2 * (this.lastAvail % this.size));
    this.lastAvail = (this.lastAvail + 1) & 0xffff;
    if (this.eventIdx) {
      // avail_event (§2.7.10): ask to be notified as soon as the driver adds anything after this.
      this.mem.writeU16(this.usedAddr + 4 + 8 * this.size, this.lastAvail);
    }
    return this.walk(head);
  }

  /** Follows a chain from `head`, expanding an indirect table, checking every descriptor. */
  private walk(head: number): Chain {
    const chain: Chain = { head, readable: [], writable: [], readableBytes: 0, writableBytes: 0 };
    let table = this.descAddr;
    let tableSize = this.size;
    let index = head;
    let indirect = false;
    // Each descriptor may be visited once: a longer chain has a loop (§2.7.5.2).
    let budget = tableSize;
    for (;;) {
      if (index >= tableSize) throw new VirtqueueError(`descriptor index ${index} is outside a table of ${tableSize}`);
      if (budget-- === 0) throw new VirtqueueError(`descriptor chain from ${head} loops`);
      const d = table + DESC_SIZE * index;
      const addr = this.mem.readU32(d) + this.mem.readU32(d + 4) * 0x1_0000_0000;
      const len = this.mem.readU32(d + 8);
      const flags = this.mem.readU16(d + 12);
      const next = this.mem.readU16(d + 14);
      if (flags & VIRTQ_DESC_F_INDIRECT) {
        // §2.7.5.3.1: only in the main table, not combined with NEXT, a whole number of descriptors.
        if (indirect) throw new VirtqueueError("indirect descriptor inside an indirect table");
        if (flags & VIRTQ_DESC_F_NEXT) throw new VirtqueueError("indirect descriptor with the NEXT flag");
        if (len === 0 || len % DESC_SIZE !== 0) throw new VirtqueueError(`indirect table length ${len} is not a non-zero multiple of ${DESC_SIZE}`);
        if (len / DESC_SIZE > VIRTQ_MAX_SIZE) throw new VirtqueueError(`indirect table of ${len / DESC_SIZE} descriptors is too long`);
        this.area("indirect table", addr, len, 1);
        indirect = true;
        table = addr;
        tableSize = budget = len / DESC_SIZE;
        index = 0;
        continue;
      }
      if (!this.mem.contains(addr, len)) throw new VirtqueueError(`buffer [0x${addr.toString(16)}, +${len}) is outside guest RAM`);
      if (flags & VIRTQ_DESC_F_WRITE) {
        chain.writable.push({ addr, len });
        chain.writableBytes += len;
      } else {
        // §2.7.4.2: device-readable descriptors come before device-writable ones.
        if (chain.writable.length > 0) throw new VirtqueueError("device-readable descriptor after a device-writable one");
        chain.readable.push({ addr, len });
        chain.readableBytes += len;
      }
      if (!(flags & VIRTQ_DESC_F_NEXT)) return chain;
      index = next;
    }
  }

  /** Returns a chain to the driver with `written` bytes written to its writable part (§2.7.8). */
  push(chain: Chain, written: number): void {
    const slot = this.usedAddr + 4 + 8 * (this.usedIdx % this.size);
    this.mem.writeU32(slot, chain.head);
    this.mem.writeU32(slot + 4, Math.min(written, chain.writableBytes));
    this.usedIdx = (this.usedIdx + 1) & 0xffff;
    this.mem.writeU16(this.usedAddr + 2, this.usedIdx);
  }

  /**
   * Whether the driver wants an interrupt for what was pushed since the last
   * call: vring_need_event with used_event (§2.7.10), or the NO_INTERRUPT flag.
   */
  shouldInterrupt(): boolean {
    const old = this.signalledUsed;
    const now = this.usedIdx;
    this.signalledUsed = now;
    if (old === now) return false;
    if (!this.eventIdx) return (this.mem.readU16(this.availAddr) & VIRTQ_AVAIL_F_NO_INTERRUPT) === 0;
    const usedEvent = this.mem.readU16(this.availAddr + 4 + 2 * this.size);
    return ((now - usedEvent - 1) & 0xffff) < ((now - old) & 0xffff);
  }
}

/** Copies up to `len` bytes from the chain's readable part, starting `offset` bytes in. */
export function readChain(mem: GuestMemory, chain: Chain, offset: number, len: number): Uint8Array {
  const out = new Uint8Array(Math.max(0, Math.min(len, chain.readableBytes - offset)));
  let done = 0;
  let skip = offset;
  for (const b of chain.readable) {
    if (done === out.length) break;
    if (skip >= b.len) {
      skip -= b.len;
      continue;
    }
    const n = Math.min(b.len - skip, out.length - done);
    out.set(mem.readBytes(b.addr + skip, n), done);
    done += n;
    skip = 0;
  }
  return out;
}

/** Copies `data` into the chain's writable part starting `offset` bytes in; returns the bytes written. */
export function writeChain(mem: GuestMemory, chain: Chain, offset: number, data: Uint8Array): number {
  let done = 0;
  let skip = offset;
  for (const b of chain.writable) {
    if (done === data.length) break;
    if (skip >= b.len) {
      skip -= b.len;
      continue;
    }
    const n = Math.min(b.len - skip, data.length - done);
    mem.writeBytes(b.addr + skip, data.subarray(done, done + n));
    done += n;
    skip = 0;
  }
  return done;
}
