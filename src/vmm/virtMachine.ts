/**
 * The `virt` virtual machine: guest RAM, the QEMU-virt devices, the device
 * tree, the boot images and the firmware, and its harts (the VMM of ESXi's
 * architecture).
 *
 * Each hart runs in its own world (a worker thread, src/vmm/smp/hartWorld.ts)
 * over the shared guest RAM. The devices stay on this, the VMM thread: the
 * worlds reach them through per-hart mailboxes, and the devices reach the
 * harts through shared interrupt lines (src/vmm/smp/hartControl.ts). This
 * thread's event loop stays free for console input, disk and network I/O.
 */
import { MessageChannel, Worker } from "node:worker_threads";
import { GuestMemory } from "../memory/guestMemory.js";
import { Bus, type MmioDevice } from "../devices/bus.js";
import { Plic } from "../devices/plic.js";
import { Ns16550a } from "../devices/ns16550a.js";
import { SifiveTest, type PowerEvent } from "../devices/sifiveTest.js";
import { MIP_MEIP, MIP_SEIP } from "../cpu/riscv/trap.js";
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
import { HartControl, Power } from "./smp/hartControl.js";
import { MailboxServer, mailboxBuffer } from "./smp/mmioMailbox.js";
import { UartFastPathHost, uartFastPathBuffer } from "./smp/uartFastPath.js";
import type { WorldData } from "./smp/hartWorld.js";
import type { CompileWorldData } from "./smp/compileWorld.js";
import type { CompilerLink } from "../cpu/riscv/translate/moduleCompiler.js";
import { StateReader, type Saved } from "../state/savedState.js";
import { checkHardware, saveHardware, type Hardware, type VmDescription } from "./vmDescription.js";
import { readHart } from "../cpu/riscv/hartSavedState.js";
import * as L from "./virtLayout.js";

/** Where a VM's output goes: the callbacks that are not part of its description. */
export interface MachineIo {
  /** Guest console output. */
  consoleOut: (bytes: Uint8Array) => void;
  /** One-line reports of device trouble (a broken virtqueue, a disk I/O error). */
  warn?: (line: string) => void;
}

export interface MachineOptions {
  /**
   * Build the machine without booting it: its worlds park before their
   * first instruction and RAM stays empty until a checkpoint is restored
   * into it (QEMU's -incoming).
   */
  incoming?: boolean;
}

const MACHINE_STATE_VERSION = 1;
/** Runs of a block before the translator compiles it: cold code is not worth compiling (docs/perf-log.md). */
export const HOT_BLOCK_RUNS = 40;

/** The NIC's MAC address, QEMU's default. */
const GUEST_MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x12, 0x34, 0x56);
/** fw_dynamic_info (OpenSBI include/sbi/fw_dynamic.h): magic "OSBI", version 2. */
const FW_DYNAMIC_MAGIC = 0x4942534f;
const NEXT_MODE_S = 1;
const WORLD_SCRIPT = new URL("./smp/hartWorld.js", import.meta.url);
const COMPILE_WORLD_SCRIPT = new URL("./smp/compileWorld.js", import.meta.url);

/**
 * Starts the compile world (src/vmm/smp/compileWorld.ts) with a port for each
 * hart world. Functions are compiled eagerly, there rather than lazily on
 * their first call on a vCPU's thread (V8's flags are per process).
 */
export function startCompileWorld(harts: number): { world: Worker; links: CompilerLink[] } {
  const channels = Array.from({ length: harts }, () => new MessageChannel());
  const answered = channels.map(() => new SharedArrayBuffer(4));
  const data: CompileWorldData = { links: channels.map((c, h) => ({ port: c.port2, answered: answered[h] })) };
  const world = new Worker(COMPILE_WORLD_SCRIPT, { workerData: data, transferList: channels.map((c) => c.port2) });
  return { world, links: channels.map((c, h) => ({ port: c.port1, answered: answered[h] })) };
}

export class VirtMachine {
  readonly mem: GuestMemory;
  readonly uart: Ns16550a;
  /** The UART as the worlds reach it: the mailbox, and their TX rings and LSR mirror. */
  private readonly uartHost: UartFastPathHost;
  private readonly plic: Plic;
  private readonly transports: MmioTransport[] = [];
  private readonly control: HartControl;
  private readonly mailbox: SharedArrayBuffer;
  /** Devices on this thread, in mailbox index order. */
  private readonly remote: { name: string; base: number; size: number; dev: MmioDevice }[] = [];
  private readonly worlds: WorldData[] = [];
  /**
   * The worlds' threads and the compile world, started first thing in the
   * constructor so that their modules load while the VM is built (about
   * 0.1 s of a boot); run() posts each world its WorldData.
   */
  private readonly threads: Worker[];
  private readonly exits: Promise<void>[];
  private readonly compiler: { world: Worker; links: CompilerLink[] } | undefined;
  private failure: Error | undefined;
  private power: PowerEvent | undefined;
  private readonly closers: (() => void)[] = [];
  private readonly driveBytes: number[] = [];
  /** Frames for the guest NIC that arrived while the VM was paused: delivered when it continues. */
  private readonly heldFrames: Uint8Array[] = [];
  private deliverFrame: ((frame: Uint8Array) => void) | undefined;
  /** Serves the worlds' mailboxes while run() runs. */
  private server: MailboxServer | undefined;
  /** The pause generation the worlds park at while paused, else 0. */
  private pausedAt = 0;

  constructor(
    readonly description: VmDescription,
    private readonly io: MachineIo,
    opts: MachineOptions = {},
  ) {
    const cfg = description;
    if (cfg.harts < 1 || cfg.harts > 64) throw new VmmError(`--smp ${cfg.harts}: tsxi supports 1 to 64 harts`);
    this.mem = new GuestMemory(L.RAM_BASE, cfg.memoryBytes, undefined, cfg.harts);
    this.control = HartControl.create(cfg.harts, opts.incoming === true);
    if (opts.incoming === true) this.pausedAt = this.control.pauseGeneration();
    const failed = (e: Error): void => {
      this.failure ??= e;
      this.powerEvent({ kind: "poweroff", code: 1 });
    };
    this.compiler = cfg.engine === "interp" ? undefined : startCompileWorld(cfg.harts);
    this.compiler?.world.on("error", failed);
    this.threads = Array.from({ length: cfg.harts }, () => new Worker(WORLD_SCRIPT).on("error", failed));
    this.exits = this.threads.map((w) => new Promise<void>((resolve) => w.once("exit", () => resolve())));
    try {
      const bus = new Bus();
      const attach = (name: string, base: number, size: number, dev: MmioDevice): void => {
        bus.register(name, base, size, dev);
        this.remote.push({ name, base, size, dev });
      };
      bus.register("clint", L.CLINT_BASE, L.CLINT_SIZE, { read: () => 0, write: () => {} }); // each world maps its own CLINT view

      const plic = new Plic(L.PLIC_SOURCES, 2 * cfg.harts, (ctx, level) => {
        this.control.setLine(ctx >> 1, (ctx & 1) === 0 ? MIP_MEIP : MIP_SEIP, level);
      });
      this.plic = plic;
      attach("plic", L.PLIC_BASE, L.PLIC_SIZE, plic);
      const uartShared = uartFastPathBuffer(cfg.harts);
      this.uart = new Ns16550a(plic.line(L.UART0_IRQ), io.consoleOut, () => this.uartHost.mirror());
      this.uartHost = new UartFastPathHost(uartShared, cfg.harts, this.uart);
      const uart = { device: this.remote.length, shared: uartShared };
      attach("uart0", L.UART0_BASE, L.UART0_SIZE, this.uartHost);
      attach("test", L.TEST_BASE, L.TEST_SIZE, new SifiveTest((e) => this.powerEvent(e)));

      // Boot images: firmware at the RAM base, the kernel 2 MiB-aligned above it, initrd and DTB at the top.
      const boot = opts.incoming === true ? undefined : this.loadBootImages(cfg);

      // virtio-mmio slots, opened last so a bad boot image leaves no disk open.
      const devices = this.virtioDevices(cfg);
      for (let n = 0; n < L.VIRTIO_COUNT; n++) {
        const base = L.VIRTIO_BASE + n * L.VIRTIO_STRIDE;
        const warn = io.warn ?? (() => {});
        const transport = new MmioTransport(this.mem, plic.line(L.VIRTIO_IRQ + n), devices[n], (dev, why) =>
          warn(`${dev.name} at 0x${base.toString(16)}: device needs reset: ${why}`),
        );
        this.transports.push(transport);
        attach(`virtio${n}`, base, L.VIRTIO_STRIDE, transport);
      }

      this.mailbox = mailboxBuffer(cfg.harts);
      const ranges = this.remote.map(({ name, base, size }) => ({ name, base, size }));
      const firmware = cfg.bios === undefined ? { builtin: boot?.builtin ?? { entry: 0, dtb: 0 } } : { firmware: boot?.firmware ?? { entry: 0, dtb: 0, info: 0 } };
      for (let h = 0; h < cfg.harts; h++) {
        this.worlds.push({
          hartId: h, memory: this.mem.shared, control: this.control.buffers, mailbox: this.mailbox, devices: ranges, uart,
          ...firmware, incoming: opts.incoming === true, translateAfter: cfg.engine === "interp" ? 0 : HOT_BLOCK_RUNS,
        });
      }
    } catch (e) {
      this.stopThreads(); // a bad boot image or config: the worlds never run
      throw e;
    }
  }

  /** Loads firmware, kernel, initrd and device tree into RAM; returns how the harts enter them. */
  private loadBootImages(cfg: VmDescription): Pick<WorldData, "builtin" | "firmware"> {
    const fw = cfg.bios !== undefined ? loadFirmware(this.mem, cfg.bios) : undefined;
    const kernel = loadKernel(this.mem, cfg.kernel, fw?.end ?? this.mem.base);
    const initrd = cfg.initrd !== undefined ? readImage(cfg.initrd, "initrd") : undefined;
    const describe = (initrdRange?: { start: number; end: number }): Uint8Array =>
      virtDeviceTree({ memoryBytes: cfg.memoryBytes, harts: cfg.harts, bootargs: cfg.append, virtioSlots: L.VIRTIO_COUNT, initrd: initrdRange });
    const probe = describe(initrd ? { start: 0, end: 0 } : undefined);
    const top = placeTop(this.mem, probe.length + 4096, initrd?.length, kernel.end);
    if (initrd !== undefined && top.initrd !== undefined) this.mem.writeBytes(top.initrd.start, initrd);
    this.mem.writeBytes(top.dtb, describe(top.initrd));
    if (fw === undefined) return { builtin: { entry: kernel.entry, dtb: top.dtb } };
    // Every hart enters the firmware in M-mode, as on QEMU: a0 = hartid, a1 = DTB, a2 = fw_dynamic_info.
    const info = top.dtb - 64;
    const words = [FW_DYNAMIC_MAGIC, 2, kernel.entry, NEXT_MODE_S, 0, 0];
    words.forEach((w, k) => this.mem.writeU64(info + 8 * k, BigInt(w)));
    return { firmware: { entry: fw.entry, dtb: top.dtb, info } };
  }

  /** Instructions retired by all harts so far. */
  instructions(): number {
    return this.control.instret();
  }

  /** The virtio devices in slot order: disks, then the NIC, then the entropy source. */
  private virtioDevices(cfg: VmDescription): VirtioDevice[] {
    const devices: VirtioDevice[] = [];
    const warn = this.io.warn ?? (() => {});
    try {
      for (const [k, d] of cfg.drives.entries()) {
        const disk = new RawFileBackend(d.file, d.readOnly);
        this.closers.push(() => disk.close());
        this.driveBytes.push(disk.size);
        devices.push(new VirtioBlk(disk, `tsxi-disk${k}`, warn));
      }
    } catch (e) {
      this.close();
      if (e instanceof BlockBackendError) throw new VmmError(`--drive: ${e.message}`);
      throw e;
    }
    if (cfg.userNet) {
      const nic: VirtioNet = new VirtioNet(GUEST_MAC, (frame) => backend.receive(frame));
      this.deliverFrame = (frame) => nic.deliver(frame);
      const backend = new UserNet({ send: (frame) => (this.pausedAt !== 0 ? this.heldFrames.push(frame) : nic.deliver(frame)) });
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

  /** Releases host resources: disk files, sockets, and the threads if run() never ran. */
  close(): void {
    for (const c of this.closers.splice(0)) c();
    this.stopThreads();
  }

  private stopThreads(): void {
    for (const w of this.threads) void w.terminate();
    void this.compiler?.world.terminate();
  }

  private powerEvent(e: PowerEvent): void {
    if (this.power !== undefined) return;
    this.power = e;
    this.control.requestPower(e.kind === "reboot" ? Power.Reboot : Power.Poweroff, e.kind === "poweroff" ? e.code : 0);
  }

  /** Ends the run from the host side (e.g. the console escape). */
  stop(e: PowerEvent): void {
    this.powerEvent(e);
  }

  /** Console input from the host. */
  input(bytes: Uint8Array): void {
    this.uart.pushInput(bytes);
  }

  /** Makes hart h's world fail (tests of a VM's isolation). */
  injectFault(h: number): void {
    if (Number.isInteger(h) && h >= 0 && h < this.description.harts) this.control.injectFault(h);
  }

  // ---------------------------------------------------------------- pausing and saved state

  get paused(): boolean {
    return this.pausedAt !== 0;
  }

  /**
   * Stops every hart at an instruction boundary, with guest time frozen
   * (HartControl). Resolves once all have parked; device I/O is complete
   * by then (every device request finishes inside its MMIO access).
   */
  async pause(): Promise<void> {
    if (this.pausedAt === 0) this.pausedAt = this.control.requestPause();
    await this.control.allParked(this.pausedAt);
    this.server?.drainPosted(); // queue notifications the harts posted before they parked
    this.uartHost.drain(); // console bytes the worlds queued before they parked
  }

  /** Continues a paused VM: guest time runs on from where it stopped. */
  resume(): void {
    if (this.pausedAt === 0) return;
    this.pausedAt = 0;
    this.control.resume();
    for (const f of this.heldFrames.splice(0)) this.deliverFrame?.(f);
  }

  /** The hardware as a checkpoint records it (what a restore must match). */
  hardware(): Saved {
    return saveHardware(this.ownHardware());
  }

  private ownHardware(): Hardware {
    return { description: this.description, driveBytes: this.driveBytes };
  }

  /** Refuses (StateError) a saved hardware record that is not this VM's hardware. */
  checkHardware(saved: unknown): void {
    checkHardware(saved, this.ownHardware());
  }

  /** Everything but RAM, of a paused VM: the harts, what they share, and every device. */
  saveState(): Saved {
    if (this.pausedAt === 0) throw new VmmError("the VM must be paused to save its state");
    return {
      v: MACHINE_STATE_VERSION,
      harts: Array.from({ length: this.description.harts }, (_, h) => this.control.parkedState(h) as Saved),
      control: this.control.saveState(),
      plic: this.plic.saveState(),
      uart: this.uart.saveState(),
      virtio: this.transports.map((t) => t.saveState()),
    };
  }

  /**
   * Restores `saveState`'s record into this paused VM (its RAM comes
   * separately); the harts take theirs when the VM continues. Everything
   * is checked first: a bad record is a StateError and changes nothing.
   */
  restoreState(saved: unknown): void {
    if (this.pausedAt === 0) throw new VmmError("the VM must be paused to restore a state");
    const r = StateReader.open("machine", saved, MACHINE_STATE_VERSION);
    const harts = r.list("harts", this.description.harts, this.description.harts);
    harts.forEach((x, h) => readHart(h, x)); // every hart's record checked here, before anything changes
    const virtio = r.list("virtio", this.transports.length, this.transports.length);
    // Each model checks its whole record before it changes anything.
    this.control.restoreState(r.raw("control"));
    this.plic.restoreState(r.raw("plic"));
    this.uart.restoreState(r.raw("uart"));
    this.transports.forEach((t, k) => t.restoreState(virtio[k]));
    harts.forEach((x, h) => this.control.setRestoreState(h, x as Saved));
  }

  // ---------------------------------------------------------------- write tracking (vmkernel/writeTracker.ts)

  /** Starts logging writes to guest RAM: every page protected, every world's write entries shot down. */
  async startWriteLog(): Promise<void> {
    this.mem.writeTracker.start();
    await this.control.writesShotDown(this.control.shootDownWrites());
  }

  /** The guest pages written since the last call (or the start), protected again and shot down before they are returned. */
  async takeWrittenPages(): Promise<number[]> {
    const pages = this.mem.writeTracker.takeWritten();
    if (pages.length > 0 && this.pausedAt === 0) await this.control.writesShotDown(this.control.shootDownWrites());
    return pages;
  }

  stopWriteLog(): void {
    this.mem.writeTracker.stop();
  }

  /** Runs the harts' worlds until the guest powers off or reboots (or `stop` is called). */
  async run(): Promise<PowerEvent> {
    const server = new MailboxServer(this.mailbox, this.description.harts, {
      read: (dev, offset, size) => this.remote[dev].dev.read(offset, size),
      write: (dev, offset, size, value) => this.remote[dev].dev.write(offset, size, value),
      console: (bytes) => this.io.consoleOut(bytes),
      power: (reboot, code) => this.powerEvent(reboot ? { kind: "reboot" } : { kind: "poweroff", code }),
      drain: () => this.uartHost.drain(),
    });
    server.start();
    this.server = server;
    const compiler = this.compiler;
    this.threads.forEach((w, h) => {
      const link = compiler?.links[h];
      w.postMessage({ ...this.worlds[h], compiler: link }, link ? [link.port] : []);
    });
    await Promise.all(this.exits);
    await compiler?.world.terminate();
    this.uartHost.drain(); // the last bytes a world queued before it stopped
    server.stop();
    if (this.failure !== undefined) throw new VmmError(`hart world failed: ${this.failure.message}`);
    return this.power ?? { kind: "poweroff", code: 0 };
  }
}
