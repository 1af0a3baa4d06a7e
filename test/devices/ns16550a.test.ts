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
