/**
 * A VM's VMX world (ESXi runs one VMX user world per VM): the worker thread
 * that holds the VM's machine — device models, the monitor's side of the
 * harts, device backends — and carries out its lifecycle actions, its
 * migrations and its restarts. The host's thread only posts actions
 * (protocol.ts); whatever fails in here ends this VM alone.
 */
import { parentPort, workerData } from "node:worker_threads";
import { createReadStream, createWriteStream } from "node:fs";
import { connect, createServer, type Socket } from "node:net";
import { VirtMachine } from "../virtMachine.js";
import { VmmError } from "../errors.js";
import { OutgoingMigration, readConfirmation, ACK_BYTE, type MigrationInfo } from "../migration/outgoing.js";
import { receiveMigration } from "../migration/incoming.js";
import { ReadableSource, WritableSink } from "../migration/byteStreams.js";
import { StreamError } from "../migration/stream.js";
import { StateError } from "../../state/savedState.js";
import type { MigrationUri, StateReason, VmAction, VmEvent, VmState, VmxWorldData } from "./protocol.js";

const port = parentPort;
if (port === null) throw new Error("vmxWorld.ts runs as a worker thread");
const data = workerData as VmxWorldData;

function post(e: VmEvent): void {
  port!.postMessage(e);
}

/** A one-line message for an error a user can cause (anything else keeps its stack for the report). */
function oneLine(e: unknown): string {
  if (e instanceof Error) return e.message.split("\n")[0];
  return String(e);
}

class VmxRuntime {
  private vm: VirtMachine | undefined;
  private state: VmState = "paused";
  private migration: OutgoingMigration | undefined;
  private resetRequested = false;
  private powerOffRequested = false;
  /** Instructions retired by the machines this world ran (one per boot). */
  private instructions = 0;

  private setState(state: VmState, reason: StateReason): void {
    if (state === this.state) return;
    this.state = state;
    post({ type: "state", state, reason });
  }

  /** Builds and runs the machine, again after each reboot, until it powers off; the exit status. */
  async main(): Promise<void> {
    let incoming = data.incoming;
    // Listen for an incoming migration before anything else, as QEMU does: by the time the host reports the VM, a source can connect.
    let connection: Promise<Socket> | undefined;
    if (incoming?.kind === "tcp") {
      try {
        connection = (await listenForOne(incoming.host, incoming.port)).connection;
      } catch (e) {
        post({ type: "exit", code: 125, error: `--incoming: cannot listen on ${incoming.host}:${incoming.port}: ${oneLine(e)}` });
        return;
      }
    }
    let ready = false;
    for (;;) {
      let vm: VirtMachine;
      try {
        vm = new VirtMachine(data.description, { consoleOut: (bytes) => post({ type: "console", bytes }), warn: (line) => post({ type: "warning", line }) }, { incoming: incoming !== undefined });
      } catch (e) {
        if (!(e instanceof VmmError)) throw e;
        post({ type: "exit", code: 125, error: e.message });
        return;
      }
      this.vm = vm;
      const running = vm.run();
      if (!ready) post({ type: "ready" });
      ready = true;
      if (incoming !== undefined) {
        this.setState("inmigrate", "incoming");
        const error = await this.receive(vm, incoming, connection);
        incoming = undefined;
        if (error !== undefined) {
          vm.stop({ kind: "poweroff", code: 1 });
          await running.catch(() => undefined);
          vm.close();
          post({ type: "exit", code: 125, error });
          return;
        }
      }
      this.setState("running", "boot");
      let ended;
      try {
        ended = await running;
      } catch (e) {
        vm.close();
        this.setState("crashed", "failure");
        post({ type: "exit", code: 125, error: oneLine(e) });
        return;
      }
      vm.close();
      this.vm = undefined;
      this.instructions += vm.instructions();
      if (ended.kind === "reboot") {
        post({ type: "reset", guest: !this.resetRequested });
        this.resetRequested = false;
        continue;
      }
      this.setState("shutdown", this.powerOffRequested ? "host-shutdown" : "guest-shutdown");
      post({ type: "exit", code: ended.code, instructions: this.instructions });
      return;
    }
  }

  /** Takes the VM's state from `uri` (QEMU's -incoming); undefined on success, else the one-line reason. */
  private async receive(vm: VirtMachine, uri: MigrationUri, connection: Promise<Socket> | undefined): Promise<string | undefined> {
    let socket: Socket | undefined;
    try {
      await vm.pause();
      let source: ReadableSource;
      if (uri.kind === "file") {
        source = new ReadableSource(createReadStream(uri.path));
      } else {
        socket = await connection!;
        source = new ReadableSource(socket);
      }
      await receiveMigration(vm, source);
      if (socket !== undefined) await new WritableSink(socket).write([Uint8Array.of(ACK_BYTE)]);
      vm.resume();
      return undefined;
    } catch (e) {
      if (e instanceof StreamError || e instanceof StateError || e instanceof VmmError) return `load of migration failed: ${e.message}`;
      if (e instanceof Error && "code" in e) return `load of migration failed: ${e.message}`; // a system error: the file or socket
      throw e;
    } finally {
      socket?.end();
    }
  }

  async act(a: VmAction): Promise<unknown> {
    if (a.type === "input") {
      this.vm?.input(a.bytes);
      return undefined;
    }
    const vm = this.vm;
    switch (a.type) {
      case "pause":
        if (vm === undefined || this.state !== "running") return undefined;
        await vm.pause();
        this.setState("paused", "host-pause");
        return undefined;
      case "continue":
        if (vm === undefined) return undefined;
        if (this.state === "inmigrate") throw new VmmError("the VM is waiting for an incoming migration");
        if (this.migration !== undefined && isActive(this.migration.info())) throw new VmmError("a migration is in progress");
        vm.resume();
        this.setState("running", "host-continue");
        return undefined;
      case "reset":
        this.resetRequested = true;
        vm?.stop({ kind: "reboot" });
        return undefined;
      case "powerOff":
        this.powerOffRequested = true;
        vm?.stop({ kind: "poweroff", code: 0 });
        return undefined;
      case "migrate":
        return this.migrate(a.uri, a.params);
      case "cancelMigration":
        this.migration?.cancel();
        return undefined;
      case "queryMigration":
        return this.migration?.info();
      case "injectFault":
        if (a.world === "vmx") setImmediate(() => {
          throw new Error("fault injected into the VMX world");
        });
        else vm?.injectFault(a.world);
        return undefined;
    }
  }

  /** Starts a migration and returns at once (QMP's migrate); progress comes as events. */
  private migrate(uri: MigrationUri, params: OutgoingMigrationParams): undefined {
    const vm = this.vm;
    if (vm === undefined || (this.state !== "running" && this.state !== "paused")) throw new VmmError(`the VM cannot migrate while ${this.state}`);
    if (this.migration !== undefined && isActive(this.migration.info())) throw new VmmError("a migration is already in progress");
    let sink: WritableSink;
    let confirm: (() => Promise<void>) | undefined;
    if (uri.kind === "file") {
      sink = new WritableSink(createWriteStream(uri.path));
    } else {
      const socket = connect(uri.port, uri.host);
      socket.setNoDelay(true);
      sink = new WritableSink(socket);
      const replies = new ReadableSource(socket);
      confirm = () => readConfirmation(replies);
    }
    const wasRunning = this.state === "running";
    const m = new OutgoingMigration(vm, sink, params, confirm, (status) => {
      if (status === "device") this.setState("paused", "migration"); // stop and copy
      post({ type: "migration", status });
    });
    this.migration = m;
    m.run().then(
      () => this.setState("postmigrate", "migration"),
      () => this.setState(wasRunning ? "running" : "paused", "migration"),
    );
    return undefined;
  }
}

type OutgoingMigrationParams = Extract<VmAction, { type: "migrate" }>["params"];

function isActive(info: MigrationInfo): boolean {
  return info.status === "setup" || info.status === "active" || info.status === "device" || info.status === "cancelling";
}

/** Listens on host:port; resolves once listening, with the one connection a migration comes over. */
function listenForOne(host: string, port: number): Promise<{ connection: Promise<Socket> }> {
  return new Promise((listening, failed) => {
    let accepted: (s: Socket) => void = () => {};
    const connection = new Promise<Socket>((resolve) => (accepted = resolve));
    const server = createServer({ noDelay: true }, (socket) => {
      server.close();
      accepted(socket);
    });
    server.once("error", failed);
    server.listen(port, host, () => listening({ connection }));
  });
}

const runtime = new VmxRuntime();
port.on("message", (a: VmAction) => {
  runtime.act(a).then(
    (result) => {
      if ("id" in a) post({ type: "reply", id: a.id, result });
    },
    (e: unknown) => {
      if (!(e instanceof VmmError)) throw e;
      if ("id" in a) post({ type: "reply", id: a.id, error: e.message });
    },
  );
});
runtime.main().then(
  () => port.close(),
  (e: unknown) => {
    throw e;
  },
);
