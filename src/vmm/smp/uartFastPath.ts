/**
 * The UART's hot accesses without a mailbox round trip. Linux's 8250 driver
 * sends each console byte as "read LSR until THRE, write THR" (and its
 * interrupt-driven TX writes up to a FIFO's worth of THR bytes per
 * interrupt); through the mailbox each of those accesses would cost a round
 * trip to the VMM thread. Here a world answers them itself from shared
 * memory, and the VMM-side NS16550A stays the one device the guest sees:
 *
 * - LSR read: the UART mirrors what an LSR read returns whenever reading it
 *   has no side effect (no overrun to clear: PC16550D, OE is reset by the
 *   LSR read). THRE and TEMT are always set there (transmission is
 *   instantaneous) and DR follows the receive FIFO, so the mirrored word is
 *   the device's answer at the moment of the load.
 * - THR write: while a THR write would only transmit its byte (DLAB clear,
 *   no loopback, no THR-empty interrupt to raise, see
 *   `Ns16550a.thrWriteOnlyTransmits`) the world appends the byte to its own
 *   TX ring, and the VMM thread writes it to the UART's THR later. The write
 *   changes nothing else the guest could see, so only the order of output
 *   matters. A write that would raise the THR-empty interrupt (IER.ETBEI set,
 *   none pending) goes through the mailbox so that the interrupt is raised
 *   at once, as today; the following writes of the same burst find one
 *   pending and take the ring.
 *
 * Everything else, and a THR write or LSR read when the fast path is not
 * allowed or the ring is full, goes through the mailbox as before.
 *
 * Order. Each ring has one writer (its world) and one reader (the VMM
 * thread). The VMM thread drains every ring before it serves any mailbox
 * request, and on every doorbell; a world rings the doorbell when its byte
 * went into an empty ring. Around every mailbox access to the UART, the VMM
 * thread closes all rings (a bit in the tail word, so that a world's
 * compare-exchange of the tail fails if the ring closed after it looked),
 * drains them, performs the access, and reopens them only if a THR write
 * would still only transmit: a byte in a ring was therefore always accepted
 * under the UART state it is drained under. Per-hart rings keep program
 * order; across harts, a world uses its ring only while every other hart's
 * ring is empty, so a byte written after another hart's byte (as when harts
 * take turns under the kernel's console lock) never overtakes it: it either
 * finds that ring drained, or takes the mailbox, which drains it first.
 *
 * Doorbells. A byte that finds its ring empty may find the VMM thread idle,
 * so it must be rung for; but ringing at once for each such byte woke the
 * VMM thread for nearly every console byte (each a futex wake here and an
 * event-loop turn there; docs/perf-log.md). The world rings at
 * the end of a line, when the ring is half full, and otherwise at the end
 * of its run slice or before it sleeps (`flush`): output is late by at most
 * one slice.
 */
import type { MmioDevice } from "../../devices/bus.js";
import type { Ns16550a } from "../../devices/ns16550a.js";

const THR = 0;
const NEWLINE = 0x0a;
const LSR = 5;
/** Int32 word: the mirrored LSR value, or -1 when an LSR read must reach the device. */
const LINE_STATUS = 0;
/** Per-hart int32 words, one cache line per hart. */
const TAIL = 0; // (bytes appended << 1) | CLOSED
const HEAD = 1; // bytes drained
const HART_WORDS = 16;
const CLOSED = 1;
/** Byte counts wrap at 2^31 (the tail word keeps them above its CLOSED bit). */
const COUNT_MASK = 0x7fff_ffff;
/** Bytes a ring holds (a power of two): more than a console line, so a full ring is rare. */
export const RING_BYTES = 4096;

const headerWords = (harts: number): number => HART_WORDS * (harts + 1);

export function uartFastPathBuffer(harts: number): SharedArrayBuffer {
  return new SharedArrayBuffer(4 * headerWords(harts) + harts * RING_BYTES);
}

/** The word index of hart h's per-hart word. */
const at = (h: number, word: number): number => HART_WORDS * (h + 1) + word;

/** The world's end: the UART's range in a world's bus. */
export class UartFastPath implements MmioDevice {
  private readonly w: Int32Array;
  private readonly ring: Uint8Array;
  /** A byte went into an empty ring and the doorbell has not rung since. */
  private unrung = false;

  constructor(
    buffer: SharedArrayBuffer,
    private readonly hart: number,
    private readonly harts: number,
    /** The UART through the mailbox. */
    private readonly remote: MmioDevice,
    /** Wakes the VMM thread. */
    private readonly doorbell: () => void,
  ) {
    this.w = new Int32Array(buffer, 0, headerWords(harts));
    this.ring = new Uint8Array(buffer, 4 * headerWords(harts) + hart * RING_BYTES, RING_BYTES);
  }

  read(offset: number, size: number): number | bigint {
    if (offset === LSR && size === 1) {
      const v = Atomics.load(this.w, LINE_STATUS);
      if (v >= 0) return v;
    }
    return this.remote.read(offset, size);
  }

  write(offset: number, size: number, value: number | bigint): void {
    if (offset === THR && size === 1 && this.transmit(typeof value === "number" ? value & 0xff : Number(value & 0xffn))) return;
    this.remote.write(offset, size, value);
  }

  /** Appends a THR byte to this hart's ring; false if the mailbox must take it. */
  private transmit(byte: number): boolean {
    const w = this.w;
    const tail = Atomics.load(w, at(this.hart, TAIL));
    if ((tail & CLOSED) !== 0) return false;
    const n = tail >>> 1;
    if (((n - Atomics.load(w, at(this.hart, HEAD))) & COUNT_MASK) >= RING_BYTES) return false;
    for (let h = 0; h < this.harts; h++) {
      if (h !== this.hart && Atomics.load(w, at(h, TAIL)) >>> 1 !== Atomics.load(w, at(h, HEAD))) return false;
    }
    this.ring[n & (RING_BYTES - 1)] = byte;
    if (Atomics.compareExchange(w, at(this.hart, TAIL), tail, ((n + 1) & COUNT_MASK) << 1) !== tail) return false;
    // The VMM thread reloads the tail after publishing each head, so it idles only once it saw
    // the ring empty: a byte that lands in an empty ring needs a doorbell, the others are drained anyway.
    const head = Atomics.load(w, at(this.hart, HEAD));
    if (head === n) this.unrung = true;
    if (this.unrung && (byte === NEWLINE || ((n + 1 - head) & COUNT_MASK) >= RING_BYTES / 2)) this.flush();
    return true;
  }

  /** Rings the doorbell if a byte may be waiting for an idle VMM thread (the world calls it after each run slice). */
  flush(): void {
    if (!this.unrung) return;
    this.unrung = false;
    this.doorbell();
  }
}

/** The VMM thread's end: the UART as the mailbox reaches it, and the drain of the worlds' rings. */
export class UartFastPathHost implements MmioDevice {
  private readonly w: Int32Array;
  private readonly rings: Uint8Array[] = [];

  constructor(
    buffer: SharedArrayBuffer,
    private readonly harts: number,
    private readonly uart: Ns16550a,
  ) {
    this.w = new Int32Array(buffer, 0, headerWords(harts));
    for (let h = 0; h < harts; h++) this.rings.push(new Uint8Array(buffer, 4 * headerWords(harts) + h * RING_BYTES, RING_BYTES));
    this.mirror();
    this.setOpen(uart.thrWriteOnlyTransmits);
  }

  /** Republishes the LSR answer (the UART calls it after every change). */
  mirror(): void {
    Atomics.store(this.w, LINE_STATUS, this.uart.quietLineStatus);
  }

  /** Writes every byte the worlds queued to the UART's THR, hart by hart, in order (a run at a time). */
  drain(): void {
    for (let h = 0; h < this.harts; h++) {
      const ring = this.rings[h];
      let head = Atomics.load(this.w, at(h, HEAD));
      for (;;) {
        const n = Atomics.load(this.w, at(h, TAIL)) >>> 1;
        if (n === head) break;
        while (head !== n) {
          const start = head & (RING_BYTES - 1);
          const end = Math.min(start + ((n - head) & COUNT_MASK), RING_BYTES);
          this.uart.transmit(ring.subarray(start, end));
          head = (head + end - start) & COUNT_MASK;
        }
        Atomics.store(this.w, at(h, HEAD), head);
      }
    }
  }

  read(offset: number, size: number): number {
    this.setOpen(false);
    this.drain();
    const v = this.uart.read(offset, size);
    this.setOpen(this.uart.thrWriteOnlyTransmits);
    return v;
  }

  write(offset: number, size: number, value: number | bigint): void {
    this.setOpen(false);
    this.drain();
    this.uart.write(offset, size, value);
    this.setOpen(this.uart.thrWriteOnlyTransmits);
  }

  private setOpen(open: boolean): void {
    for (let h = 0; h < this.harts; h++) {
      if (open) Atomics.and(this.w, at(h, TAIL), ~CLOSED);
      else Atomics.or(this.w, at(h, TAIL), CLOSED);
    }
  }
}
