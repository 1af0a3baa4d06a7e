import { test } from "node:test";
import assert from "node:assert/strict";
import { Ns16550a } from "../../src/devices/ns16550a.js";

function setup(): { uart: Ns16550a; sent: number[]; irq: { level: boolean } } {
  const sent: number[] = [];
  const irq = { level: false };
  const uart = new Ns16550a({ set: (l) => (irq.level = l) }, (b) => sent.push(...b));
  return { uart, sent, irq };
}

test("THR writes go to the host; LSR always shows the transmitter empty", () => {
  const { uart, sent } = setup();
  for (const c of "hi\n") uart.write(0, 1, c.charCodeAt(0));
  assert.deepEqual(sent, [0x68, 0x69, 0x0a]);
  assert.equal(uart.read(5, 1) & 0x60, 0x60);
});

test("received bytes set DR and raise the RX interrupt when enabled", () => {
  const { uart, irq } = setup();
  uart.pushInput(Uint8Array.of(0x41, 0x42));
  assert.equal(irq.level, false, "IER disabled");
  uart.write(1, 1, 1);
  assert.equal(irq.level, true);
  assert.equal(uart.read(2, 1) & 0x0f, 0x04);
  assert.equal(uart.read(5, 1) & 1, 1);
  assert.equal(uart.read(0, 1), 0x41);
  assert.equal(uart.read(0, 1), 0x42);
  assert.equal(uart.read(5, 1) & 1, 0);
  assert.equal(irq.level, false);
  assert.equal(uart.read(2, 1) & 0x0f, 0x01);
});

test("THR-empty interrupt: raised on enable and after a write, cleared by reading IIR", () => {
  const { uart, irq } = setup();
  uart.write(1, 1, 2);
  assert.equal(irq.level, true);
  assert.equal(uart.read(2, 1) & 0x0f, 0x02);
  assert.equal(irq.level, false);
  uart.write(0, 1, 0x55);
  assert.equal(irq.level, true);
});

test("FIFO enable shows in IIR; DLAB selects the divisor latch; scratch register holds a value", () => {
  const { uart, sent } = setup();
  uart.write(2, 1, 1);
  assert.equal(uart.read(2, 1) & 0xc0, 0xc0);
  uart.write(3, 1, 0x83);
  uart.write(0, 1, 0x12);
  uart.write(1, 1, 0x34);
  assert.equal(uart.read(0, 1), 0x12);
  assert.equal(uart.read(1, 1), 0x34);
  assert.deepEqual(sent, [], "divisor writes are not data");
  uart.write(3, 1, 0x03);
  uart.write(7, 1, 0xa5);
  assert.equal(uart.read(7, 1), 0xa5);
});

test("loopback mode returns transmitted bytes to the receiver", () => {
  const { uart, sent } = setup();
  uart.write(4, 1, 0x10);
  uart.write(0, 1, 0x7e);
  assert.deepEqual(sent, []);
  assert.equal(uart.read(0, 1), 0x7e);
});

test("loopback bytes the guest does not read fill the receiver to its limit, then overrun", () => {
  const { uart } = setup();
  uart.write(4, 1, 0x10);
  for (let k = 0; k < 5000; k++) uart.write(0, 1, k & 0xff);
  assert.equal(uart.inputPending, 4096);
  assert.equal(uart.read(5, 1) & 0x03, 0x03, "DR and OE");
  assert.equal(uart.read(0, 1), 0);
});

test("what a fast path may mirror: the side-effect-free LSR answer and whether a THR write only transmits", () => {
  let changes = 0;
  const uart = new Ns16550a({ set: () => {} }, () => {}, () => changes++);
  assert.equal(uart.quietLineStatus, 0x60);
  assert.equal(uart.thrWriteOnlyTransmits, true);
  uart.pushInput(Uint8Array.of(1));
  assert.equal(uart.quietLineStatus, 0x61);
  assert.equal(changes, 1, "input notifies");
  uart.pushInput(new Uint8Array(5000));
  assert.equal(uart.quietLineStatus, -1, "an LSR read would clear OE");
  uart.read(5, 1);
  assert.equal(uart.quietLineStatus, 0x61);
  uart.write(3, 1, 0x83);
  assert.equal(uart.thrWriteOnlyTransmits, false, "DLAB: offset 0 is DLL");
  uart.write(3, 1, 0x03);
  uart.write(4, 1, 0x10);
  assert.equal(uart.thrWriteOnlyTransmits, false, "loopback");
  uart.write(4, 1, 0);
  uart.write(1, 1, 2);
  assert.equal(uart.thrWriteOnlyTransmits, true, "THR-empty already pending after ETBEI was set");
  uart.read(2, 1);
  assert.equal(uart.thrWriteOnlyTransmits, false, "the next THR write raises THR-empty");
  uart.write(0, 1, 0x41);
  assert.equal(uart.thrWriteOnlyTransmits, true);
});

test("transmit is THR writes in a row: one output call when they only transmit, the receiver in loopback", () => {
  const calls: number[][] = [];
  const irq = { level: false };
  const uart = new Ns16550a({ set: (l) => (irq.level = l) }, (b) => calls.push([...b]));
  uart.transmit(Uint8Array.of(1, 2, 3));
  assert.deepEqual(calls, [[1, 2, 3]]);
  uart.write(1, 1, 2);
  uart.read(2, 1);
  assert.equal(irq.level, false);
  uart.transmit(Uint8Array.of(4, 5));
  assert.deepEqual(calls, [[1, 2, 3], [4], [5]], "the first byte raises THR-empty");
  assert.equal(irq.level, true);
  uart.write(1, 1, 0);
  uart.write(4, 1, 0x10);
  uart.transmit(Uint8Array.of(6, 7));
  assert.equal(calls.length, 3);
  assert.equal(uart.read(0, 1), 6);
  assert.equal(uart.read(0, 1), 7);
});

/** Mid-conversation: a full receive FIFO that overran, DLAB set for a divisor change, THR-empty pending behind RX data. */
function midOperation(): ReturnType<typeof setup> {
  const u = setup();
  u.uart.write(2, 1, 1);
  u.uart.write(1, 1, 0x07); // RLS, RX and THR-empty interrupts: THR-empty pends at once
  u.uart.write(4, 1, 0x0b);
  u.uart.write(7, 1, 0x5a);
  u.uart.pushInput(Uint8Array.from({ length: 4097 }, (_, k) => (k * 13) & 0xff));
  u.uart.write(3, 1, 0x83);
  u.uart.write(0, 1, 0x0c);
  u.uart.write(1, 1, 0x00);
  return u;
}

/** The same accesses after a checkpoint, on the original and on the restored UART: every value read and the IRQ level. */
function carryOn({ uart, sent, irq }: ReturnType<typeof setup>): unknown[] {
  const seen: unknown[] = [];
  const read = (offset: number): void => void seen.push([offset, uart.read(offset, 1), irq.level]);
  for (const offset of [5, 5, 2, 0, 1, 3, 4, 7]) read(offset); // LSR twice: OE clears on read; DLL, DLM under DLAB
  uart.write(3, 1, 0x03);
  for (const offset of [1, 0, 0, 2]) read(offset);
  uart.write(1, 1, 0x02); // RX interrupts off: THR-empty is what is left
  read(2);
  read(2);
  uart.write(0, 1, 0x21);
  seen.push(["sent", [...sent], irq.level, uart.inputPending]);
  return seen;
}

test("a UART restored from a JSON checkpoint drives its line and carries on as the original", () => {
  const a = midOperation();
  const saved = JSON.parse(JSON.stringify(a.uart.saveState())) as unknown;
  const driven: boolean[] = [];
  let changes = 0;
  const b = { uart: undefined as unknown as Ns16550a, sent: [] as number[], irq: { level: false } };
  b.uart = new Ns16550a({ set: (l) => driven.push((b.irq.level = l)) }, (bytes) => b.sent.push(...bytes), () => changes++);
  b.uart.restoreState(saved);
  assert.deepEqual(driven, [true], "the line is driven once");
  assert.equal(changes, 1, "the fast-path mirror is told");
  const expected = carryOn(a);
  assert.deepEqual(expected.slice(0, 5), [[5, 0x63, true], [5, 0x61, true], [2, 0xc4, true], [0, 0x0c, true], [1, 0x00, true]]);
  assert.deepEqual(expected.slice(-3), [[2, 0xc2, false], [2, 0xc1, false], ["sent", [0x21], true, 4094]]);
  assert.deepEqual(carryOn(b), expected);
});

test("a bad UART record is refused with its field named and changes nothing", () => {
  const good = midOperation().uart.saveState();
  const cases: [unknown, RegExp][] = [
    [{ ...good, v: "1" }, /^uart: saved state version "1" is not 1$/],
    [{ ...good, ier: 0x10 }, /^uart: field 'ier' is not an integer in \[0, 15\]$/],
    [{ ...good, thrPending: 1 }, /^uart: field 'thrPending' is not a boolean$/],
    [{ ...good, rx: Buffer.alloc(4097).toString("base64") }, /^uart: field 'rx' holds 4097 bytes, more than 4096$/],
    [{ ...good, rx: "not base64!" }, /^uart: field 'rx' is not base64 of at most 4096 bytes$/],
    [Object.fromEntries(Object.entries(good).filter(([k]) => k !== "dlm")), /^uart: field 'dlm' is missing$/],
    [[good], /^uart: saved state is not a record$/],
  ];
  for (const [bad, message] of cases) {
    let driven = 0;
    const target = new Ns16550a({ set: () => driven++ }, () => {});
    target.restoreState(good);
    const before = target.saveState();
    driven = 0;
    assert.throws(() => target.restoreState(bad), (e: Error) => e.name === "StateError" && message.test(e.message), String(message));
    assert.deepEqual(target.saveState(), before, "unchanged");
    assert.equal(driven, 0, "the line is left alone");
  }
});
