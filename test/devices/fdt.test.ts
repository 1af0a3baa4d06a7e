import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { FdtNode, writeDtb } from "../../src/devices/fdt.js";
import { virtDeviceTree } from "../../src/vmm/virtDeviceTree.js";
import { ISA_EXTENSIONS } from "../../src/cpu/riscv/isa.js";
import { readDtb, find, cells, strs } from "../support/dtb.js";

test("DTB header, block layout and alignment follow the specification", () => {
  const root = new FdtNode("");
  root.u32("a", 1).str("compatible", "x").child("n@1").u64("b", 0x1_0000_0002n).strs("s", "one", "two").empty("flag");
  const b = writeDtb(root);
  const d = readDtb(b);
  assert.equal(d.header.magic, 0xd00dfeed);
  assert.equal(d.header.totalsize, b.length);
  assert.equal(d.header.version, 17);
  assert.equal(d.header.lastComp, 16);
  assert.equal(d.header.offRsvmap % 8, 0);
  assert.equal(d.header.offStruct % 4, 0);
  assert.equal(d.header.offStrings, d.header.offStruct + d.header.sizeStruct);
  assert.deepEqual([...b.subarray(d.header.offRsvmap, d.header.offRsvmap + 16)], new Array(16).fill(0));
  const n = find(d.root, "n@1");
  assert.ok(n);
  assert.deepEqual(cells(n.props.get("b")!), [1, 2]);
  assert.deepEqual(strs(n.props.get("s")!), ["one", "two"]);
  assert.equal(n.props.get("flag")!.length, 0);
});

test("property names are stored once in the strings block", () => {
  const root = new FdtNode("");
  for (let k = 0; k < 5; k++) root.child(`c${k}`).u32("reg", k).str("compatible", "x");
  const d = readDtb(writeDtb(root));
  assert.deepEqual(d.strings.sort(), ["compatible", "reg"]);
});

const desc = { memoryBytes: 256 << 20, harts: 2, bootargs: "console=ttyS0 quiet", virtioSlots: 8, initrd: { start: 0x8f000000, end: 0x8f100000 } };

test("the virt tree describes memory, harts with their ISA, and every device of the memory map", () => {
  const d = readDtb(virtDeviceTree(desc));
  const r = d.root;
  assert.deepEqual(cells(find(r, "memory@80000000")!.props.get("reg")!), [0, 0x80000000, 0, 256 << 20]);
  const cpu1 = find(r, "cpus/cpu@1")!;
  assert.deepEqual(strs(cpu1.props.get("riscv,isa-extensions")!), [...ISA_EXTENSIONS]);
  assert.equal(strs(cpu1.props.get("riscv,isa")!)[0], "rv64imafdc_zicbom_zicboz_zicntr_zicond_zicsr_zifencei_zihintpause_zba_zbb_zbs");
  assert.deepEqual(strs(cpu1.props.get("mmu-type")!), ["riscv,sv48"]);
  assert.deepEqual(cells(find(r, "cpus")!.props.get("timebase-frequency")!), [10_000_000]);
  const chosen = find(r, "chosen")!;
  assert.deepEqual(strs(chosen.props.get("bootargs")!), ["console=ttyS0 quiet"]);
  assert.deepEqual(cells(chosen.props.get("linux,initrd-start")!), [0, 0x8f000000]);
  assert.deepEqual(strs(chosen.props.get("stdout-path")!), ["/soc/serial@10000000"]);
  const plic = find(r, "soc/plic@c000000")!;
  const ic0 = cells(find(r, "cpus/cpu@0/interrupt-controller")!.props.get("phandle")!)[0];
  const ic1 = cells(find(r, "cpus/cpu@1/interrupt-controller")!.props.get("phandle")!)[0];
  assert.deepEqual(cells(plic.props.get("interrupts-extended")!), [ic0, 11, ic0, 9, ic1, 11, ic1, 9]);
  assert.deepEqual(cells(find(r, "soc/clint@2000000")!.props.get("interrupts-extended")!), [ic0, 3, ic0, 7, ic1, 3, ic1, 7]);
  assert.deepEqual(cells(find(r, "soc/serial@10000000")!.props.get("interrupts")!), [10]);
  for (let n = 0; n < 8; n++) {
    const v = find(r, `soc/virtio_mmio@${(0x10001000 + n * 0x1000).toString(16)}`)!;
    assert.deepEqual(cells(v.props.get("interrupts")!), [1 + n]);
  }
  const testPh = cells(find(r, "soc/test@100000")!.props.get("phandle")!)[0];
  assert.deepEqual(cells(find(r, "poweroff")!.props.get("regmap")!), [testPh]);
  assert.deepEqual(cells(find(r, "reboot")!.props.get("value")!), [0x7777]);
});

test("dtc decompiles the virt tree without warnings", () => {
  const r = spawnSync("dtc", ["-I", "dtb", "-O", "dts", "-"], { input: virtDeviceTree(desc), encoding: "utf8" });
  assert.equal(r.status, 0);
  assert.equal(r.stderr, "", "dtc warnings");
  assert.match(r.stdout, /compatible = "riscv-virtio";/);
  assert.match(r.stdout, /riscv,isa-extensions = "i\\0m\\0a\\0f\\0d\\0c\\0zicbom/);
});
