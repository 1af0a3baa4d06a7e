// The decoded-block index by physical address: slots per code page, blocks
// found again where they were put, emptied slots and closed pages free
// their ids for reuse without ever handing back a dropped block.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CodeSlots } from "../../src/cpu/riscv/codeSlots.js";
import { Block } from "../../src/cpu/riscv/hart.js";
import { decode } from "../../src/cpu/riscv/decode.js";

const block = (pa: number): Block => new Block(pa, [decode(0x00000013)]);

test("code slots hold blocks per page and halfword, and reuse the ids of dropped ones", () => {
  const slots = new CodeSlots(4);
  assert.equal(slots.has(1), false);
  assert.equal(slots.get(1, 0), undefined, "a page without slots");
  assert.equal(slots.open(1), true);
  assert.equal(slots.open(1), false, "opened once");
  const a = block(0x1000);
  const b = block(0x1ffe);
  slots.set(1, 0, a);
  slots.set(1, 2047, b);
  assert.equal(slots.get(1, 0), a);
  assert.equal(slots.get(1, 2047), b);
  assert.equal(slots.get(1, 1), undefined);
  const seen: Block[] = [];
  slots.forEach(1, (x) => seen.push(x));
  assert.deepEqual(seen, [a, b]);

  slots.set(1, 0, undefined); // a dropped: its id is free
  const c = block(0x1002);
  slots.set(1, 1, c);
  assert.equal(slots.get(1, 0), undefined, "the emptied slot stays empty");
  assert.equal(slots.get(1, 1), c);
  assert.equal(slots.get(1, 2047), b);

  slots.set(1, 1, block(0x1002)); // replacing a block frees the old one's id
  assert.notEqual(slots.get(1, 1), c);
  assert.deepEqual([...slots.codePages], [1]);
  slots.close(1);
  assert.equal(slots.has(1), false);
  assert.equal(slots.get(1, 2047), undefined);
  assert.deepEqual([...slots.codePages], []);
  slots.open(2);
  const d = block(0x2000);
  slots.set(2, 0, d);
  assert.equal(slots.get(2, 0), d, "ids from the closed page serve the next");
});
