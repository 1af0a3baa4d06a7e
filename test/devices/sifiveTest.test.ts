import { test } from "node:test";
import assert from "node:assert/strict";
import { SifiveTest, type PowerEvent } from "../../src/devices/sifiveTest.js";

test("sifive test finisher: pass, fail with code, reset; other values ignored", () => {
  const events: PowerEvent[] = [];
  const dev = new SifiveTest((e) => events.push(e));
  dev.write(0, 4, 0x1234);
  dev.write(0, 4, 0x5555);
  dev.write(0, 4, (3 << 16) | 0x3333);
  dev.write(0, 4, 0x7777);
  dev.write(4, 4, 0x5555);
  assert.deepEqual(events, [{ kind: "poweroff", code: 0 }, { kind: "poweroff", code: 3 }, { kind: "reboot" }]);
});
