/**
 * NS16550A UART (the `ns16550a` of QEMU virt at 0x1000_0000, IRQ 10), with
 * byte registers at consecutive offsets (reg-shift 0), as described by the
 * PC16550D data sheet: RBR/THR/DLL, IER/DLM, IIR/FCR, LCR, MCR, LSR, MSR, SCR.
 *
 * Transmission is instantaneous (bytes go straight to `output`), so THR is
 * always empty again by the time the guest looks. Received bytes come from
 * the host through `pushInput` and wait in a FIFO. Interrupts follow the
 * data sheet's priorities: line status, received data, THR empty (cleared by
 * reading IIR while it is the reported cause, or by writing THR), modem status.
 */
import type { MmioDevice } from "./bus.js";
import type { IrqLine } from "./irq.js";
import { StateReader, base64, type Saved, type Stateful } from "../state/savedState.js";

const IER_RDI = 1;
const IER_THRI = 2;
const IER_RLSI = 4;
const IIR_NONE = 1;
const IIR_THRI = 0x02;
const IIR_RDI = 0x04;
const IIR_RLSI = 0x06;
const IIR_FIFO = 0xc0;
const LCR_DLAB = 0x80;
const MCR_LOOP = 0x10;
const LSR_DR = 0x01;
const LSR_OE = 0x02;
const LSR_THRE = 0x20;
const LSR_TEMT = 0x40;
const MSR_CTS = 0x10;
const MSR_DSR = 0x20;
const MSR_DCD = 0x80;
/** Host input kept while the guest is not reading (beyond it, bytes are dropped and OE set). */
const INPUT_LIMIT = 4096;
const STATE_VERSION = 1;

export class Ns16550a implements MmioDevice, Stateful {
  private ier = 0;
  private lcr = 0;
  private mcr = 0;
  private scr = 0;
  private dll = 0;
  private dlm = 0;
  private fifoEnabled = false;
  private overrun = false;
  private thrPending = false;
  private readonly rx: number[] = [];
  private level = false;

  constructor(
    private readonly irq: IrqLine,
    private readonly output: (bytes: Uint8Array) => void,
    /** Called after every access and every input: lets a mirror of the queries below follow the state. */
    private readonly changed: () => void = () => {},
  ) {}

  /** Bytes typed on the host side. */
  pushInput(bytes: Uint8Array): void {
    for (const b of bytes) if (!this.receive(b)) break;
    this.update();
  }

  /** Puts a byte in the receive FIFO; when it is full, drops it and sets OE. */
  private receive(b: number): boolean {
    if (this.rx.length >= INPUT_LIMIT) {
      this.overrun = true;
      return false;
    }
    this.rx.push(b);
    return true;
  }

  /** Bytes waiting for the guest. */
  get inputPending(): number {
    return this.rx.length;
  }

  /** What an LSR read returns when reading it changes nothing (no overrun to clear), else -1. */
  get quietLineStatus(): number {
    return this.overrun ? -1 : this.lsr();
  }

  /**
   * Whether a THR write now would only transmit its byte: DLAB clear, no
   * loopback, and no THR-empty interrupt to raise (ETBEI clear, or one
   * already pending: it stays pending, the IRQ line keeps its level).
   */
  get thrWriteOnlyTransmits(): boolean {
    return (this.lcr & LCR_DLAB) === 0 && (this.mcr & MCR_LOOP) === 0 && ((this.ier & IER_THRI) === 0 || this.thrPending);
  }

  /**
   * The same as writing `bytes` to THR one after another, with one output
   * call for them all when those writes only transmit.
   */
  transmit(bytes: Uint8Array): void {
    if (!this.thrWriteOnlyTransmits) {
      for (const b of bytes) this.write(0, 1, b);
      return;
    }
    this.output(bytes.slice());
    this.thrPending = true;
    this.update();
  }

  private lsr(): number {
    return (this.rx.length > 0 ? LSR_DR : 0) | (this.overrun ? LSR_OE : 0) | LSR_THRE | LSR_TEMT;
  }

  private msr(): number {
    if ((this.mcr & MCR_LOOP) !== 0) {
      // Loopback: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD.
      const m = this.mcr;
      return ((m & 1) << 5) | ((m & 2) << 3) | ((m & 4) << 4) | ((m & 8) << 4);
    }
    return MSR_DCD | MSR_DSR | MSR_CTS;
  }

  /** The highest-priority pending interrupt (IIR bits 3:0). */
  private cause(): number {
    if ((this.ier & IER_RLSI) !== 0 && this.overrun) return IIR_RLSI;
    if ((this.ier & IER_RDI) !== 0 && this.rx.length > 0) return IIR_RDI;
    if ((this.ier & IER_THRI) !== 0 && this.thrPending) return IIR_THRI;
    return IIR_NONE; // modem status never changes: the lines are fixed (or follow MCR in loopback)
  }

  private update(): void {
    const level = this.cause() !== IIR_NONE;
    if (level !== this.level) {
      this.level = level;
      this.irq.set(level);
    }
    this.changed();
  }

  saveState(): Saved {
    return {
      v: STATE_VERSION,
      ier: this.ier,
      lcr: this.lcr,
      mcr: this.mcr,
      scr: this.scr,
      dll: this.dll,
      dlm: this.dlm,
      fifoEnabled: this.fifoEnabled,
      overrun: this.overrun,
      thrPending: this.thrPending,
      rx: base64(Uint8Array.from(this.rx)),
    };
  }

  restoreState(saved: unknown): void {
    const r = StateReader.open("uart", saved, STATE_VERSION);
    const ier = r.int("ier", 0, 0x0f);
    const lcr = r.int("lcr", 0, 0xff);
    const mcr = r.int("mcr", 0, 0x1f);
    const scr = r.int("scr", 0, 0xff);
    const dll = r.int("dll", 0, 0xff);
    const dlm = r.int("dlm", 0, 0xff);
    const fifoEnabled = r.bool("fifoEnabled");
    const overrun = r.bool("overrun");
    const thrPending = r.bool("thrPending");
    const rx = r.bytes("rx", INPUT_LIMIT);
    this.ier = ier;
    this.lcr = lcr;
    this.mcr = mcr;
    this.scr = scr;
    this.dll = dll;
    this.dlm = dlm;
    this.fifoEnabled = fifoEnabled;
    this.overrun = overrun;
    this.thrPending = thrPending;
    this.rx.splice(0, this.rx.length, ...rx);
    // Drive the line, changed or not: a fresh machine's PLIC has not seen it.
    this.level = this.cause() !== IIR_NONE;
    this.irq.set(this.level);
    this.changed();
  }

  read(offset: number, size: number): number {
    if (size !== 1) return 0;
    const dlab = (this.lcr & LCR_DLAB) !== 0;
    let v = 0;
    switch (offset) {
      case 0:
        if (dlab) v = this.dll;
        else v = this.rx.shift() ?? 0;
        break;
      case 1:
        v = dlab ? this.dlm : this.ier;
        break;
      case 2: {
        const c = this.cause();
        if (c === IIR_THRI) this.thrPending = false; // reading IIR acknowledges THR empty
        v = c | (this.fifoEnabled ? IIR_FIFO : 0);
        break;
      }
      case 3: v = this.lcr; break;
      case 4: v = this.mcr; break;
      case 5:
        v = this.lsr();
        this.overrun = false;
        break;
      case 6: v = this.msr(); break;
      case 7: v = this.scr; break;
    }
    this.update();
    return v;
  }

  write(offset: number, size: number, value: number | bigint): void {
    if (size !== 1) return;
    const v = Number(BigInt.asUintN(8, BigInt(value)));
    const dlab = (this.lcr & LCR_DLAB) !== 0;
    switch (offset) {
      case 0:
        if (dlab) this.dll = v;
        else {
          if ((this.mcr & MCR_LOOP) !== 0) this.receive(v);
          else this.output(Uint8Array.of(v));
          this.thrPending = true; // transmitted at once: THR is empty again
        }
        break;
      case 1:
        if (dlab) this.dlm = v;
        else {
          // Enabling the THR-empty interrupt while THR is empty raises it (as the 16550 does).
          if ((v & IER_THRI) !== 0 && (this.ier & IER_THRI) === 0) this.thrPending = true;
          this.ier = v & 0x0f;
        }
        break;
      case 2:
        this.fifoEnabled = (v & 1) !== 0;
        if ((v & 2) !== 0) this.rx.length = 0;
        break;
      case 3: this.lcr = v; break;
      case 4: this.mcr = v & 0x1f; break;
      case 7: this.scr = v; break;
    }
    this.update();
  }
}
