// A checkpoint or migration stream is restored only into the same hardware
// (vmm/vmDescription.ts, checkHardware), as QEMU requires the destination to
// be started with the same machine: every difference is a one-line
// StateError naming it; what is not hardware (boot image paths, the command
// line, the engine) may differ.
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkHardware, saveHardware, type Hardware } from "../../src/vmm/vmDescription.js";
import { StateError } from "../../src/state/savedState.js";

const OWN: Hardware = {
  description: {
    memoryBytes: 256 << 20,
    harts: 2,
    kernel: "/images/Image",
    initrd: "/images/initrd",
    append: "console=ttyS0",
    drives: [{ file: "/disks/root.raw", readOnly: false }, { file: "/disks/data.iso", readOnly: true }],
    userNet: true,
    engine: "jit",
  },
  driveBytes: [1 << 30, 5 * 2 ** 32],
};

/** `own` with `change` applied to a copy of its description. */
function other(change: (h: Hardware) => void): Hardware {
  const h = JSON.parse(JSON.stringify(OWN)) as Hardware;
  change(h);
  return h;
}

const saved = (h: Hardware): unknown => JSON.parse(JSON.stringify(saveHardware(h)));

function refuses(savedHw: unknown, own: Hardware, message: string): void {
  assert.throws(() => checkHardware(savedHw, own), (e: unknown) => {
    assert.ok(e instanceof StateError, String(e));
    assert.equal(e.message, message);
    return true;
  });
}

test("the same hardware is accepted, whatever its boot images, command line and engine", () => {
  checkHardware(saved(OWN), OWN);
  const elsewhere = other((h) => {
    h.description.kernel = "/elsewhere/Image";
    h.description.initrd = undefined;
    h.description.append = "";
    h.description.engine = "interp";
    h.description.drives[0].file = "/elsewhere/root.raw";
  });
  checkHardware(saved(OWN), elsewhere);
  checkHardware(saved(elsewhere), OWN);
});

test("every hardware difference is a one-line StateError naming it", () => {
  const cases: [string, (h: Hardware) => void, string][] = [
    ["RAM", (h) => (h.description.memoryBytes = 512 << 20), `the saved VM had ${256 << 20} bytes of RAM, this VM has ${512 << 20}`],
    ["harts", (h) => (h.description.harts = 4), "the saved VM had 2 harts, this VM has 4"],
    ["firmware", (h) => (h.description.bios = "/fw/fw_jump.bin"), "the saved VM had firmware builtin, this VM has m-mode"],
    ["disk count", (h) => h.description.drives.pop(), "the saved VM had 2 disks, this VM has 1"],
    ["no disks", (h) => (h.description.drives = []), "the saved VM had 2 disks, this VM has 0"],
    ["disk size", (h) => (h.driveBytes[1] += 512), `the saved VM had disk 1 of ${5 * 2 ** 32} bytes, this VM has ${5 * 2 ** 32 + 512}`],
    ["disk read-only", (h) => (h.description.drives[1].readOnly = false), "the saved VM had disk 1 read-only, this VM has writable"],
    ["disk writable", (h) => (h.description.drives[0].readOnly = true), "the saved VM had disk 0 writable, this VM has read-only"],
    ["NIC", (h) => (h.description.userNet = false), "the saved VM had a NIC, this VM has none"],
  ];
  for (const [what, change, message] of cases) {
    refuses(saved(OWN), other(change), message);
    assert.ok(!message.includes("\n"), what);
  }
  // The other way round: firmware and NIC in the checkpoint, not here.
  refuses(saved(other((h) => (h.description.bios = "/fw/fw_jump.bin"))), OWN, "the saved VM had firmware m-mode, this VM has builtin");
  refuses(saved(other((h) => (h.description.userNet = false))), OWN, "the saved VM had no NIC, this VM has one");
});

test("a malformed hardware record is a StateError naming its field", () => {
  const good = saved(OWN) as Record<string, unknown>;
  const cases: [string, unknown, RegExp][] = [
    ["not a record", "machine", /^machine: saved state is not a record$/],
    ["another version", { ...good, v: 2 }, /^machine: saved state version 2 is not 1$/],
    ["no RAM size", { ...good, memoryBytes: undefined }, /^machine: field 'memoryBytes' is missing$/],
    ["0 harts", { ...good, harts: 0 }, /^machine: field 'harts' is not an integer in \[1, 64\]$/],
    ["firmware a number", { ...good, firmware: 1 }, /^machine: field 'firmware' is not a string/],
    ["drives not a list", { ...good, drives: {} }, /^machine: field 'drives' is not a list/],
    ["a drive of another version", { ...good, drives: [{ v: 9, bytes: 1, readOnly: false }, (good.drives as unknown[])[1]] }, /^machine\.drives\[0\]: saved state version 9 is not 1$/],
    ["a negative disk size", { ...good, drives: [{ v: 1, bytes: -1, readOnly: false }, (good.drives as unknown[])[1]] }, /^machine\.drives\[0\]: field 'bytes' is not an integer/],
    ["NIC not a boolean", { ...good, userNet: "yes" }, /^machine: field 'userNet' is not a boolean$/],
  ];
  for (const [what, rec, message] of cases) {
    assert.throws(() => checkHardware(JSON.parse(JSON.stringify(rec)), OWN), (e: unknown) => e instanceof StateError && message.test(e.message), what);
  }
});
