/**
 * A hart's world: the worker thread that runs one vCPU of a `VirtMachine`
 * (ESXi's vCPU world). It maps the shared guest RAM, keeps its own decoded
 * code and TLBs, reaches the CLINT directly through shared state and every
 * other device through its mailbox to the VMM thread, and sleeps in WFI on
 * its wake word until an interrupt line, a timer, an IPI or a power request
 * needs it.
 */
import { parentPort } from "node:worker_threads";
import { RemoteCompiler, type CompilerLink } from "../../cpu/riscv/translate/moduleCompiler.js";
import { interpreter, translator } from "../../cpu/riscv/translate/engine.js";
import { GuestMemory, type SharedGuestMemory } from "../../memory/guestMemory.js";
import { Bus } from "../../devices/bus.js";
import { Clint } from "../../devices/clint.js";
import { Hart } from "../../cpu/riscv/hart.js";
import { Priv } from "../../cpu/riscv/priv.js";
import { HartState } from "../../firmware/sbi.js";
import { BuiltinFirmware } from "../../firmware/builtinFirmware.js";
import { HartControl, Power, type HartControlBuffers } from "./hartControl.js";
import { hartClint } from "./hartClint.js";
import { MailboxClient, RemoteDevice } from "./mmioMailbox.js";
import { UartFastPath } from "./uartFastPath.js";
import { QUEUE_NOTIFY } from "../../devices/virtio/mmioTransport.js";
import { restoreHart, saveHart } from "../../cpu/riscv/hartSavedState.js";
import * as L from "../virtLayout.js";

/** What the VMM thread hands a world (structured-clonable). */
export interface WorldData {
  hartId: number;
  memory: SharedGuestMemory;
  control: HartControlBuffers;
  mailbox: SharedArrayBuffer;
  /** Device ranges on the VMM thread, in mailbox device-index order. */
  devices: { name: string; base: number; size: number }[];
  /** Which of them is the UART, and the state its fast path shares (src/vmm/smp/uartFastPath.ts). */
  uart: { device: number; shared: SharedArrayBuffer };
  /** Built-in SBI: how this hart boots (hart 0 at the kernel; others wait for HSM). */
  builtin?: { entry: number; dtb: number };
  /** M-mode firmware: every hart enters it with a0 = hartid, a1 = DTB, a2 = fw_dynamic_info. */
  firmware?: { entry: number; dtb: number; info: number };
  /** The VM waits for its state (VirtMachine's `incoming`): the hart does not boot. */
  incoming: boolean;
  /** `Hart.translateAfter`: 0 interprets only; n translates blocks on their n-th run. */
  translateAfter: number;
  /** This hart's link to the VM's compile world (src/vmm/smp/compileWorld.ts), when it translates. */
  compiler?: CompilerLink;
}

/**
 * Instructions between checks of shared state (interrupt lines, timers,
 * requests, power); the run loop itself reacts to the attention word within
 * a block or a chain (Hart's CHAIN_BUDGET). Bounds how late a timer
 * interrupt is seen (about a millisecond); measurements in docs/perf-log.md.
 */
const SLICE = 100_000;
/** Longest sleep before re-checking shared state anyway. */
const MAX_SLEEP_MS = 100;

function runWorld(d: WorldData): void {
  const id = d.hartId;
  const control = new HartControl(d.control);
  const mem = new GuestMemory(d.memory.base, d.memory.size, d.memory);
  const mailbox = new MailboxClient(d.mailbox, id, control.harts);
  const bus = new Bus();
  const compiler = d.compiler === undefined ? undefined : new RemoteCompiler(d.compiler);
  const hart = new Hart(id, mem, bus, d.translateAfter > 0 ? translator({ translateAfter: d.translateAfter, compiler }) : interpreter);
  const sbiTimer = d.builtin !== undefined;
  const fold = (): void => {
    hart.mip = control.foldInterrupts(id, hart.mip, sbiTimer);
  };
  bus.register("clint", L.CLINT_BASE, L.CLINT_SIZE, new Clint(hartClint(control, hart, sbiTimer)));
  let uart: UartFastPath | undefined;
  d.devices.forEach((dev, k) => {
    const remote = new RemoteDevice(mailbox, k, fold, dev.name.startsWith("virtio") ? QUEUE_NOTIFY : -1);
    if (k === d.uart.device) {
      uart = new UartFastPath(d.uart.shared, id, control.harts, remote, () => mailbox.ring());
      bus.register(dev.name, dev.base, dev.size, uart);
    } else {
      bus.register(dev.name, dev.base, dev.size, remote);
    }
  });
  hart.readTime = () => control.now();
  hart.attention = control.attentionView(id);

  let firmware: BuiltinFirmware | undefined;
  if (d.builtin !== undefined) {
    firmware = new BuiltinFirmware(hart, control, {
      consoleWrite: (b) => mailbox.console(b),
      reset: (kind) => mailbox.power(kind !== "shutdown", 0),
    });
    if (id === 0 && !d.incoming) firmware.enter(d.builtin.entry, BigInt(d.builtin.dtb));
  } else if (d.firmware !== undefined && !d.incoming) {
    hart.priv = Priv.M;
    hart.updateRegimes();
    hart.pc = d.firmware.entry;
    hart.setX(10, BigInt(id));
    hart.setX(11, BigInt(d.firmware.dtb));
    hart.setX(12, BigInt(d.firmware.info));
  }

  /**
   * A paused VM: the hart is at an instruction boundary; leave its state
   * for the VMM, carry out fences for harts still in an SBI call until the
   * VM continues, then take the state the VMM left to restore, if any.
   */
  /** The vmkernel's write shootdowns (vmkernel/writeTracker.ts), acknowledged by epoch. */
  const shootDownWrites = (): void => {
    const e = control.pendingWriteShootdown(id);
    if (e === 0) return;
    for (const t of hart.tlbs) t.flushWrites();
    control.writesShotDownBy(id, e);
  };
  const park = (g: number): void => {
    control.park(id, g, saveHart(hart));
    while (control.pauseGeneration() === g && control.power() === Power.Running) {
      const seen = control.wakeCount(id);
      control.clearAttention(id);
      shootDownWrites();
      firmware?.serviceRequests(true);
      if (control.pauseGeneration() !== g) break;
      control.sleep(id, seen, MAX_SLEEP_MS);
    }
    const restore = control.takeRestoreState(id);
    if (restore !== undefined) restoreHart(hart, restore);
  };

  while (control.power() === Power.Running) {
    uart?.flush(); // console bytes of the last slice, before anything else (even a sleep)
    if (control.faultInjected(id)) throw new Error(`fault injected into hart ${id}'s world`);
    const pause = control.pauseGeneration();
    if (pause !== 0) {
      park(pause);
      continue;
    }
    const seen = control.wakeCount(id);
    control.clearAttention(id);
    shootDownWrites();
    firmware?.serviceRequests();
    fold();
    if (firmware !== undefined) {
      const state = control.hartState(id);
      if (state === HartState.StartPending) {
        const { pc, arg } = control.startArguments(id);
        firmware.enter(Number(pc), arg);
      } else if (state !== HartState.Started) {
        control.sleep(id, seen, MAX_SLEEP_MS);
        continue;
      }
    }
    if (hart.waiting && (hart.mip & hart.mie) === 0) {
      control.sleep(id, seen, Math.min(control.msUntilDeadline(id, sbiTimer), MAX_SLEEP_MS));
      fold();
      if ((hart.mip & hart.mie) === 0) continue;
    }
    hart.run(SLICE);
    control.setInstret(id, hart.instret);
  }
  control.setInstret(id, hart.instret);
}

// The VMM starts this world while it builds the VM, then posts its WorldData.
parentPort?.once("message", (d: WorldData) => {
  runWorld(d);
  parentPort?.close();
});
