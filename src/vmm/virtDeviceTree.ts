/**
 * The device tree of tsxi's `virt` machine, generated from its description
 * with the node names, compatibles and properties QEMU's virt board uses
 * (hw/riscv/virt.c, create_fdt*), so guests see the platform they know.
 */
import { FdtNode, cells64, writeDtb } from "../devices/fdt.js";
import { CACHE_BLOCK_BYTES, ISA_BASE, ISA_EXTENSIONS, isaString } from "../cpu/riscv/isa.js";
import { Irq } from "../cpu/riscv/trap.js";
import * as L from "./virtLayout.js";

export interface VirtDescription {
  memoryBytes: number;
  harts: number;
  bootargs: string;
  initrd?: { start: number; end: number };
  /** virtio-mmio slots to describe (QEMU describes all 8; empty ones read DeviceID 0). */
  virtioSlots: number;
}

const reg = (base: number, size: number): number[] => [...cells64(base), ...cells64(size)];

export function virtDeviceTree(d: VirtDescription): Uint8Array {
  let nextPhandle = 1;
  const root = new FdtNode("");
  root.u32("#address-cells", 2).u32("#size-cells", 2).str("compatible", "riscv-virtio").str("model", "riscv-virtio,qemu");

  const chosen = root.child("chosen");
  chosen.str("bootargs", d.bootargs).str("stdout-path", `/soc/serial@${L.UART0_BASE.toString(16)}`);
  if (d.initrd !== undefined) chosen.u64("linux,initrd-start", d.initrd.start).u64("linux,initrd-end", d.initrd.end);

  root.child(`memory@${L.RAM_BASE.toString(16)}`).str("device_type", "memory").cells("reg", ...reg(L.RAM_BASE, d.memoryBytes));

  const cpus = root.child("cpus");
  cpus.u32("#address-cells", 1).u32("#size-cells", 0).u32("timebase-frequency", L.TIMEBASE_HZ);
  const intc: number[] = [];
  const cpuPhandles: number[] = [];
  for (let h = 0; h < d.harts; h++) {
    const cpu = cpus.child(`cpu@${h}`);
    const cpuPh = nextPhandle++;
    cpuPhandles.push(cpuPh);
    cpu.u32("phandle", cpuPh).str("device_type", "cpu").u32("reg", h).str("status", "okay").str("compatible", "riscv");
    cpu.str("riscv,isa", isaString()).str("riscv,isa-base", ISA_BASE).strs("riscv,isa-extensions", ...ISA_EXTENSIONS);
    cpu.u32("riscv,cbom-block-size", CACHE_BLOCK_BYTES).u32("riscv,cboz-block-size", CACHE_BLOCK_BYTES);
    cpu.str("mmu-type", "riscv,sv48");
    const ic = cpu.child("interrupt-controller");
    const icPh = nextPhandle++;
    intc.push(icPh);
    ic.u32("#address-cells", 0).u32("#interrupt-cells", 1).empty("interrupt-controller").str("compatible", "riscv,cpu-intc").u32("phandle", icPh);
  }
  const cluster = cpus.child("cpu-map").child("cluster0");
  cpuPhandles.forEach((ph, h) => cluster.child(`core${h}`).u32("cpu", ph));

  const soc = root.child("soc");
  soc.u32("#address-cells", 2).u32("#size-cells", 2).str("compatible", "simple-bus").empty("ranges");

  const testPh = nextPhandle++;
  soc.child(`test@${L.TEST_BASE.toString(16)}`)
    .u32("phandle", testPh)
    .cells("reg", ...reg(L.TEST_BASE, L.TEST_SIZE))
    .strs("compatible", "sifive,test1", "sifive,test0", "syscon");

  soc.child(`clint@${L.CLINT_BASE.toString(16)}`)
    .cells("interrupts-extended", ...intc.flatMap((ph) => [ph, Irq.MSI, ph, Irq.MTI]))
    .cells("reg", ...reg(L.CLINT_BASE, L.CLINT_SIZE))
    .strs("compatible", "sifive,clint0", "riscv,clint0");

  const plicPh = nextPhandle++;
  soc.child(`plic@${L.PLIC_BASE.toString(16)}`)
    .u32("phandle", plicPh)
    .u32("riscv,ndev", L.PLIC_SOURCES - 1)
    .cells("reg", ...reg(L.PLIC_BASE, L.PLIC_SIZE))
    .cells("interrupts-extended", ...intc.flatMap((ph) => [ph, Irq.MEI, ph, Irq.SEI]))
    .empty("interrupt-controller")
    .strs("compatible", "sifive,plic-1.0.0", "riscv,plic0")
    .u32("#address-cells", 0)
    .u32("#interrupt-cells", 1);

  soc.child(`serial@${L.UART0_BASE.toString(16)}`)
    .u32("interrupts", L.UART0_IRQ)
    .u32("interrupt-parent", plicPh)
    .u32("clock-frequency", 3686400)
    .cells("reg", ...reg(L.UART0_BASE, L.UART0_SIZE))
    .str("compatible", "ns16550a");

  for (let n = 0; n < d.virtioSlots; n++) {
    const base = L.VIRTIO_BASE + n * L.VIRTIO_STRIDE;
    soc.child(`virtio_mmio@${base.toString(16)}`)
      .u32("interrupts", L.VIRTIO_IRQ + n)
      .u32("interrupt-parent", plicPh)
      .cells("reg", ...reg(base, L.VIRTIO_STRIDE))
      .str("compatible", "virtio,mmio");
  }

  root.child("poweroff").u32("value", 0x5555).u32("offset", 0).u32("regmap", testPh).str("compatible", "syscon-poweroff");
  root.child("reboot").u32("value", 0x7777).u32("offset", 0).u32("regmap", testPh).str("compatible", "syscon-reboot");
  return writeDtb(root);
}
