/**
 * The `virt` virtual machine: guest RAM, harts, the QEMU-virt devices, the
 * device tree, the boot images and the firmware, and the loop that runs the
 * harts (the VMM of ESXi's architecture).
 *
 * All harts of a machine currently run on one thread, scheduled round-robin
 * in slices; between slices the loop yields to Node's event loop so console
 * input and timers are served, and when every hart waits in WFI it sleeps
 * until the next timer deadline or input.
 */
import { GuestMemory } from "../memory/guestMemory.js";
import { Bus } from "../devices/bus.js";
import { Clint } from "../devices/clint.js";
import { Plic } from "../devices/plic.js";
import { Ns16550a } from "../devices/ns16550a.js";
import { SifiveTest, type PowerEvent } from "../devices/sifiveTest.js";
import { Hart, Priv } from "../cpu/riscv/hart.js";
import { MIP_MEIP, MIP_SEIP } from "../cpu/riscv/trap.js";
import { HartState } from "../firmware/sbi.js";
import { BuiltinFirmware } from "./builtinFirmware.js";
import { loadFirmware, loadKernel, placeTop, readImage } from "./bootLoader.js";
import { virtDeviceTree } from "./virtDeviceTree.js";
import { VmmError } from "./errors.js";
import { MmioTransport } from "../devices/virtio/mmioTransport.js";
import type { VirtioDevice } from "../devices/virtio/device.js";
import { VirtioBlk } from "../devices/virtio/blk.js";
import { VirtioNet } from "../devices/virtio/net.js";
import { VirtioRng } from "../devices/virtio/rng.js";
import { RawFileBackend } from "../modules/storage/rawFile.js";
import { BlockBackendError } from "../modules/storage/blockBackend.js";
import { UserNet } from "../modules/network/userNet.js";
import * as L from "./virtLayout.js";

export interface VirtConfig {
  memoryBytes: number;
  harts: number;
  /** Path of M-mode firmware, or undefined for tsxi's built-in SBI. */
  bios?: string;
  kernel: string;
  initrd?: string;
  append: string;
  /** Guest console output. */
  consoleOut: (bytes: Uint8Array) => void;
  /** Raw disk images, in the order the guest sees them (vda, vdb, ...). */
  drives?: { file: string; readOnly: boolean }[];
  /** A virtio-net NIC with a user-mode NAT backend (QEMU's -netdev user). */
  userNet?: boolean;
  /** One-line reports of device trouble (a broken virtqueue, a disk I/O error). */
  warn?: (line: string) => void;
}

/** The NIC's MAC address, QEMU's default. */
const GUEST_MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x12, 0x34, 0x56);

/** Instructions per hart between checks of timers and other harts. */
const SLICE = 50_000;
/** Wall time a run burst may take before yielding to the event loop. */
const BURST_MS = 8;
/** fw_dynamic_info (OpenSBI include/sbi/fw_dynamic.h): magic "OSBI", version 2. */
const FW_DYNAMIC_MAGIC = 0x4942534f;
const NEXT_MODE_S = 1;

export class VirtMachine {
  readonly mem: GuestMemory;
  readonly harts: Hart[];
  readonly uart: Ns16550a;
  readonly instructions = (): number => this.harts.reduce((n, h) => n + h.instret, 0);
  private readonly clint: Clint;
  private readonly firmware: BuiltinFirmware | undefined;
  private power: PowerEvent | undefined;
  private wakeUp: (() => void) | undefined;
  private readonly closers: (() => void)[] = [];

  constructor(cfg: VirtConfig) {
    if (cfg.harts < 1 || cfg.harts > 64) throw new VmmError(`--smp ${cfg.harts}: tsxi supports 1 to 64 harts`);
    this.mem = new GuestMemory(L.RAM_BASE, cfg.memoryBytes);
    const bus = new Bus();
    this.harts = Array.from({ length: cfg.harts }, (_, k) => new Hart(k, this.mem, bus));

    this.clint = new Clint(this.harts);
    bus.register("clint", L.CLINT_BASE, L.CLINT_SIZE, this.clint);
    for (const h of this.harts) h.readTime = () => this.clint.now();

    const plic = new Plic(L.PLIC_SOURCES, 2 * cfg.harts, (ctx, level) => {
      const h = this.harts[ctx >> 1];
      const bit = (ctx & 1) === 0 ? MIP_MEIP : MIP_SEIP;
      if (level) h.mip |= bit;
      else h.mip &= ~bit;
      if (level) this.wake();
    });
    bus.register("plic", L.PLIC_BASE, L.PLIC_SIZE, plic);
    this.uart = new Ns16550a(plic.line(L.UART0_IRQ), cfg.consoleOut);
    bus.register("uart0", L.UART0_BASE, L.UART0_SIZE, this.uart);
    bus.register("test", L.TEST_BASE, L.TEST_SIZE, new SifiveTest((e) => this.powerEvent(e)));

    // Boot images: firmware at the RAM base, the kernel 2 MiB-aligned above it, initrd and DTB at the top.
    const fw = cfg.bios !== undefined ? loadFirmware(this.mem, cfg.bios) : undefined;
    const kernel = loadKernel(this.mem, cfg.kernel, fw?.end ?? this.mem.base);
    const initrd = cfg.initrd !== undefined ? readImage(cfg.initrd, "initrd") : undefined;
    const probe = virtDeviceTree({ memoryBytes: cfg.memoryBytes, harts: cfg.harts, bootargs: cfg.append, virtioSlots: L.VIRTIO_COUNT, initrd: initrd ? { start: 0, end: 0 } : undefined });
    const top = placeTop(this.mem, probe.length + 4096, initrd?.length, kernel.end);
    const dtb = virtDeviceTree({
      memoryBytes: cfg.memoryBytes,
      harts: cfg.harts,
      bootargs: cfg.append,
      virtioSlots: L.VIRTIO_COUNT,
      initrd: top.initrd,
    });
    if (initrd !== undefined && top.initrd !== undefined) this.mem.writeBytes(top.initrd.start, initrd);
    this.mem.writeBytes(top.dtb, dtb);

    // virtio-mmio slots, opened last so a bad boot image leaves no disk open.
    const devices = this.virtioDevices(cfg);
    for (let n = 0; n < L.VIRTIO_COUNT; n++) {
      const base = L.VIRTIO_BASE + n * L.VIRTIO_STRIDE;
      const warn = cfg.warn ?? (() => {});
      const transport = new MmioTransport(this.mem, plic.line(L.VIRTIO_IRQ + n), devices[n], (dev, why) =>
        warn(`${dev.name} at 0x${base.toString(16)}: device needs reset: ${why}`),
      );
      bus.register(`virtio${n}`, base, L.VIRTIO_STRIDE, transport);
    }

    if (fw === undefined) {
      this.firmware = new BuiltinFirmware(this.harts, {
        now: () => this.clint.now(),
        reset: (kind) => this.powerEvent(kind === "shutdown" ? { kind: "poweroff", code: 0 } : { kind: "reboot" }),
        consoleWrite: (b) => cfg.consoleOut(b),
        consoleRead: () => new Uint8Array(0),
        wake: () => this.wake(),
      });
      this.firmware.enter(0, kernel.entry, BigInt(top.dtb));
    } else {
      // Every hart enters the firmware in M-mode, as on QEMU: a0 = hartid, a1 = DTB, a2 = fw_dynamic_info.
      const info = top.dtb - 64;
      const words = [FW_DYNAMIC_MAGIC, 2, kernel.entry, NEXT_MODE_S, 0, 0];
      words.forEach((w, k) => this.mem.writeU64(info + 8 * k, BigInt(w)));
      for (const h of this.harts) {
        h.priv = Priv.M;
        h.updateRegimes();
        h.pc = fw.entry;
        h.setX(10, BigInt(h.hartId));
        h.setX(11, BigInt(top.dtb));
        h.setX(12, BigInt(info));
      }
    }
  }

  /** The virtio devices in slot order: disks, then the NIC, then the entropy source. */
  private virtioDevices(cfg: VirtConfig): VirtioDevice[] {
    const devices: VirtioDevice[] = [];
    const warn = cfg.warn ?? (() => {});
    try {
      for (const [k, d] of (cfg.drives ?? []).entries()) {
        const disk = new RawFileBackend(d.file, d.readOnly);
        this.closers.push(() => disk.close());
        devices.push(new VirtioBlk(disk, `tsxi-disk${k}`, warn));
      }
    } catch (e) {
      this.close();
      if (e instanceof BlockBackendError) throw new VmmError(`--drive: ${e.message}`);
      throw e;
    }
    if (cfg.userNet) {
      const nic: VirtioNet = new VirtioNet(GUEST_MAC, (frame) => backend.receive(frame));
      const backend = new UserNet({ send: (frame) => nic.deliver(frame) });
      this.closers.push(() => backend.close());
      devices.push(nic);
    }
    devices.push(new VirtioRng());
    if (devices.length > L.VIRTIO_COUNT) {
      this.close();
      throw new VmmError(`too many virtio devices: ${devices.length} (the virt machine has ${L.VIRTIO_COUNT} slots)`);
    }
    return devices;
  }

  /** Releases host resources: disk files, sockets. */
  close(): void {
    for (const c of this.closers.splice(0)) c();
  }

  private powerEvent(e: PowerEvent): void {
    this.power ??= e;
    for (const h of this.harts) h.stopRequested = true;
    this.wake();
  }

  /** Ends the run from the host side (e.g. the console escape). */
  stop(e: PowerEvent): void {
    this.powerEvent(e);
  }

  /** Console input from the host. */
  input(bytes: Uint8Array): void {
    this.uart.pushInput(bytes);
    this.wake();
  }

  private wake(): void {
    const w = this.wakeUp;
    this.wakeUp = undefined;
    w?.();
  }

  private runnable(h: Hart): boolean {
    if (this.firmware !== undefined && this.firmware.state[h.hartId] !== HartState.Started) return false;
    return !h.waiting || (h.mip & h.mie) !== 0;
  }

  /** Runs until the guest powers off or reboots (or `stop` is called). */
  async run(): Promise<PowerEvent> {
    while (this.power === undefined) {
      const burstEnd = performance.now() + BURST_MS;
      let ran = false;
      do {
        this.clint.update();
        this.firmware?.updateTimers();
        ran = false;
        for (const h of this.harts) {
          if (this.power !== undefined) break;
          if (!this.runnable(h)) continue;
          h.run(SLICE);
          ran = true;
        }
      } while (ran && this.power === undefined && performance.now() < burstEnd);
      if (this.power !== undefined) break;
      if (ran) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        continue;
      }
      // Every hart is idle: sleep until the next timer deadline or a wake-up.
      const ms = Math.min(this.clint.msUntilNextDeadline(), this.firmware?.updateTimers() ?? Infinity, 100);
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          this.wakeUp = undefined;
          resolve();
        }, Math.max(0, ms));
        this.wakeUp = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    return this.power;
  }
}


