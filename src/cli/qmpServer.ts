/**
 * QMP, the QEMU Machine Protocol (docs/interop/qmp-spec.rst in QEMU), over a
 * Unix or TCP socket: the greeting, capabilities negotiation, commands as
 * JSON objects and asynchronous events, with QEMU 7.2's command names,
 * argument names, error classes and JSON shapes, so that QEMU's tools and
 * libraries drive a tsxi VM as they drive QEMU. Every command becomes an
 * action on the VM (VmHandle); nothing here touches the VM's machine.
 */
import { createServer, type Server, type Socket } from "node:net";
import { rmSync } from "node:fs";
import type { VmHandle } from "../vmm/vmx/vmHandle.js";
import type { MigrationInfo, MigrationParameters } from "../vmm/migration/outgoing.js";
import type { VmEvent, VmState } from "../vmm/vmx/protocol.js";
import { parseMigrationUri } from "./migrationUri.js";
import { JsonSplitter } from "./jsonSplitter.js";

/** What QEMU version tsxi's QMP speaks as. */
const VERSION = { qemu: { micro: 0, minor: 2, major: 7 }, package: "tsxi" };

type QmpError = { class: "GenericError" | "CommandNotFound"; desc: string };
class CommandError extends Error {
  constructor(
    readonly qmpClass: QmpError["class"],
    desc: string,
  ) {
    super(desc);
  }
}
const generic = (desc: string): CommandError => new CommandError("GenericError", desc);

/** Where QMP listens: QEMU's chardev syntax unix:PATH[,server=on][,wait=off] or tcp:HOST:PORT[,...]. */
export interface QmpAddress {
  path?: string;
  host?: string;
  port?: number;
  /** Start the VM only once a client has connected (QEMU's wait=on, its default for servers). */
  wait: boolean;
}

export function parseQmpAddress(s: string): QmpAddress {
  const [where, ...opts] = s.split(",");
  let wait = true;
  for (const o of opts) {
    if (o === "server" || o === "server=on") continue;
    if (o === "nowait" || o === "wait=off") wait = false;
    else if (o === "wait=on") wait = true;
    else throw new Error(`--qmp: unknown option '${o}' (expected server=on and wait=on|off)`);
  }
  if (where.startsWith("unix:") && where.length > 5) return { path: where.slice(5), wait };
  const tcp = /^tcp:([^:]*):(\d+)$/.exec(where);
  if (tcp !== null && Number(tcp[2]) < 65536) return { host: tcp[1] || "127.0.0.1", port: Number(tcp[2]), wait };
  throw new Error(`--qmp: '${where}' is not unix:PATH or tcp:HOST:PORT`);
}

/** QEMU's RunState names (qapi/run-state.json) for a VM's lifecycle states. */
const RUN_STATE: Record<VmState, string> = {
  inmigrate: "inmigrate",
  running: "running",
  paused: "paused",
  postmigrate: "postmigrate",
  shutdown: "shutdown",
  crashed: "internal-error",
};

interface Client {
  socket: Socket;
  /** Capabilities negotiated: commands accepted, events sent. */
  ready: boolean;
}

export class QmpServer {
  private readonly server: Server;
  private readonly clients = new Set<Client>();
  private readonly params: MigrationParameters;
  /** The migration capability "events": MIGRATION events are sent only when it is on, as in QEMU. */
  private migrationEvents = false;
  private vm: VmHandle | undefined;
  private last: VmState = "running";
  /** The next SHUTDOWN / RESET event's cause, when the host asked for it. */
  private hostCause: "quit" | "reset" | undefined;
  private firstClient: Promise<void>;
  /** Resolves once a VM is attached: commands that need it wait for it (the VM may still be setting up its incoming migration). */
  private readonly vmAttached: Promise<void>;
  private attached: () => void = () => {};

  constructor(
    private readonly addr: QmpAddress,
    params: MigrationParameters,
    /** The host's `quit`: powers the VM off and ends the process. */
    private readonly quit: () => void,
  ) {
    this.params = { ...params };
    let connected: () => void = () => {};
    this.firstClient = new Promise((resolve) => (connected = resolve));
    this.vmAttached = new Promise((resolve) => (this.attached = resolve));
    this.server = createServer((socket) => {
      connected();
      this.accept(socket);
    });
  }

  /** Serves `vm` (commands before this answer that there is no VM yet). */
  attach(vm: VmHandle): void {
    this.vm = vm;
    this.attached();
    this.last = vm.state;
    vm.onEvent((e) => this.onVmEvent(e));
  }

  /** Listens; resolves once listening (and, with wait=on, once a client is connected). */
  async listen(): Promise<void> {
    if (this.addr.path !== undefined) rmSync(this.addr.path, { force: true });
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      if (this.addr.path !== undefined) this.server.listen(this.addr.path, resolve);
      else this.server.listen(this.addr.port, this.addr.host, resolve);
    });
    if (this.addr.wait) await this.firstClient;
  }

  close(): void {
    for (const c of this.clients) c.socket.destroy();
    this.server.close();
    if (this.addr.path !== undefined) rmSync(this.addr.path, { force: true });
  }

  private accept(socket: Socket): void {
    const client: Client = { socket, ready: false };
    this.clients.add(client);
    socket.on("close", () => this.clients.delete(client));
    socket.on("error", () => socket.destroy());
    send(socket, { QMP: { version: VERSION, capabilities: ["oob"] } });
    const splitter = new JsonSplitter();
    socket.on("data", (chunk: Buffer) => {
      for (const item of splitter.push(chunk.toString("utf8"))) void this.handle(client, item);
    });
  }

  private async handle(client: Client, item: { json?: unknown; error?: string }): Promise<void> {
    if (item.error !== undefined) return send(client.socket, { error: { class: "GenericError", desc: item.error } });
    const msg = item.json;
    if (typeof msg !== "object" || msg === null || Array.isArray(msg)) {
      return send(client.socket, { error: { class: "GenericError", desc: "QMP input must be a JSON object" } });
    }
    const m = msg as Record<string, unknown>;
    const id = Object.hasOwn(m, "id") ? { id: m.id } : {};
    try {
      const cmd = m.execute;
      if (cmd !== undefined && typeof cmd !== "string") throw generic("QMP input member 'execute' must be a string");
      if (m.arguments !== undefined && (typeof m.arguments !== "object" || m.arguments === null || Array.isArray(m.arguments))) {
        throw generic("QMP input member 'arguments' must be an object");
      }
      // As QEMU (qmp_dispatch_check_obj): a command is not run with members it does not know, e.g. a misspelt 'arguments'.
      const unexpected = Object.keys(m).find((k) => k !== "execute" && k !== "arguments" && k !== "id");
      if (unexpected !== undefined) throw generic(`QMP input member '${unexpected}' is unexpected`);
      if (typeof cmd !== "string") throw generic("QMP input lacks member 'execute'");
      const args = (m.arguments ?? {}) as Record<string, unknown>;
      if (!client.ready && cmd !== "qmp_capabilities") throw new CommandError("CommandNotFound", "Expecting capabilities negotiation with 'qmp_capabilities'");
      const result = await this.execute(client, cmd, args);
      send(client.socket, { return: result ?? {}, ...id });
    } catch (e) {
      const err = e instanceof CommandError ? { class: e.qmpClass, desc: e.message } : { class: "GenericError", desc: e instanceof Error ? e.message : String(e) };
      send(client.socket, { error: err, ...id });
    }
  }

  private async execute(client: Client, cmd: string, args: Record<string, unknown>): Promise<unknown> {
    if (this.vm === undefined && !VM_FREE.has(cmd)) await this.vmAttached;
    const vm = this.vm as VmHandle;
    const noArgs = (): void => {
      const extra = Object.keys(args)[0];
      if (extra !== undefined) throw generic(`Parameter '${extra}' is unexpected`);
    };
    switch (cmd) {
      case "qmp_capabilities":
        if (client.ready) throw new CommandError("CommandNotFound", "Capabilities negotiation is already complete, command ignored");
        client.ready = true;
        return {};
      case "query-version":
        noArgs();
        return VERSION;
      case "query-commands":
        noArgs();
        return COMMANDS.map((name) => ({ name }));
      case "query-status": {
        noArgs();
        const status = RUN_STATE[vm.state];
        return { status, singlestep: false, running: vm.state === "running" };
      }
      case "stop":
        noArgs();
        await vm.pause();
        return {};
      case "cont":
        noArgs();
        await vm.continue();
        return {};
      case "system_reset":
        noArgs();
        this.hostCause = "reset";
        await vm.reset();
        return {};
      case "quit":
        noArgs();
        this.hostCause = "quit";
        this.quit();
        return {};
      case "migrate": {
        const uri = args.uri;
        if (typeof uri !== "string") throw generic("Parameter 'uri' is missing");
        for (const k of Object.keys(args)) {
          if (k !== "uri" && k !== "blk" && k !== "inc" && k !== "detach" && k !== "resume") throw generic(`Parameter '${k}' is unexpected`);
        }
        if (args.blk === true || args.inc === true || args.resume === true) throw generic("tsxi migrates RAM and device state only (blk, inc and resume are not supported)");
        let parsed;
        try {
          parsed = parseMigrationUri(uri);
        } catch (e) {
          throw generic((e as Error).message);
        }
        await vm.migrate(parsed, { ...this.params });
        return {};
      }
      case "migrate_cancel":
        noArgs();
        await vm.cancelMigration();
        return {};
      case "query-migrate":
        noArgs();
        return migrationInfoJson(await vm.queryMigration());
      case "migrate-set-parameters":
        this.setParameters(args);
        return {};
      case "query-migrate-parameters":
        noArgs();
        return { "downtime-limit": this.params.downtimeLimitMs, "max-bandwidth": this.params.maxBandwidth };
      case "migrate-set-capabilities":
        this.setCapabilities(args);
        return {};
      case "query-migrate-capabilities":
        noArgs();
        return [{ capability: "events", state: this.migrationEvents }];
      default:
        throw new CommandError("CommandNotFound", `The command ${cmd} has not been found`);
    }
  }

  private setParameters(args: Record<string, unknown>): void {
    const next = { ...this.params };
    for (const [k, v] of Object.entries(args)) {
      if (k === "downtime-limit") {
        // QEMU's limit: 2000 s (migration/options.c, MAX_MIGRATE_DOWNTIME).
        if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 2_000_000) {
          throw generic("Parameter 'downtime_limit' expects an integer in the range of 0 to 2000000 milliseconds");
        }
        next.downtimeLimitMs = v;
      } else if (k === "max-bandwidth") {
        if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > Number.MAX_SAFE_INTEGER) throw generic("Parameter 'max_bandwidth' expects an integer in bytes per second");
        next.maxBandwidth = v;
      } else {
        throw generic(`Parameter '${k}' is unexpected`);
      }
    }
    Object.assign(this.params, next);
  }

  private setCapabilities(args: Record<string, unknown>): void {
    const caps = args.capabilities;
    if (!Array.isArray(caps)) throw generic("Parameter 'capabilities' is missing");
    let events = this.migrationEvents;
    for (const c of caps as unknown[]) {
      const cap = c as { capability?: unknown; state?: unknown };
      if (typeof c !== "object" || c === null || typeof cap.state !== "boolean") throw generic("Parameter 'capabilities' expects a list of {capability, state}");
      if (cap.capability !== "events") throw generic(`Parameter 'capability' does not accept value '${String(cap.capability)}'`);
      events = cap.state;
    }
    this.migrationEvents = events;
  }

  private onVmEvent(e: VmEvent): void {
    if (e.type === "state") {
      const was = this.last;
      this.last = e.state;
      const running = (s: VmState): boolean => s === "running";
      if (running(was) && (e.state === "paused" || e.state === "postmigrate")) this.event("STOP");
      else if (!running(was) && running(e.state) && (was === "paused" || was === "postmigrate" || was === "inmigrate")) this.event("RESUME");
      else if (e.state === "shutdown") {
        const host = this.hostCause === "quit";
        this.event("SHUTDOWN", { guest: !host, reason: host ? "host-qmp-quit" : "guest-shutdown" });
      }
    } else if (e.type === "reset") {
      const host = this.hostCause === "reset";
      this.hostCause = undefined;
      this.event("RESET", { guest: !host, reason: host ? "host-qmp-system-reset" : "guest-reset" });
    } else if (e.type === "migration" && this.migrationEvents) {
      this.event("MIGRATION", { status: e.status });
    }
  }

  private event(name: string, data?: unknown): void {
    const t = Date.now();
    const msg = { timestamp: { seconds: Math.floor(t / 1000), microseconds: (t % 1000) * 1000 }, event: name, ...(data !== undefined ? { data } : {}) };
    for (const c of this.clients) if (c.ready) send(c.socket, msg);
  }
}

/** Commands that do not need the VM. */
const VM_FREE = new Set(["qmp_capabilities", "query-version", "query-commands", "migrate-set-parameters", "query-migrate-parameters", "migrate-set-capabilities", "query-migrate-capabilities"]);

const COMMANDS = [
  "qmp_capabilities", "query-version", "query-commands", "query-status", "stop", "cont", "system_reset", "quit", "migrate",
  "migrate_cancel", "query-migrate", "migrate-set-parameters", "query-migrate-parameters", "migrate-set-capabilities",
  "query-migrate-capabilities",
];

function send(socket: Socket, msg: unknown): void {
  if (!socket.destroyed) socket.write(JSON.stringify(msg) + "\r\n");
}

/** query-migrate's answer (qapi/migration.json, MigrationInfo): {} before any migration. */
export function migrationInfoJson(info: MigrationInfo | undefined): Record<string, unknown> {
  if (info === undefined) return {};
  const out: Record<string, unknown> = { status: info.status };
  if (info.status === "failed" || info.status === "cancelled") {
    if (info.error !== undefined && info.status === "failed") out["error-desc"] = info.error;
    return out;
  }
  out["setup-time"] = info.setupTimeMs;
  out["total-time"] = info.totalTimeMs;
  if (info.downtimeMs !== undefined) out.downtime = info.downtimeMs;
  if (info.expectedDowntimeMs !== undefined) out["expected-downtime"] = info.expectedDowntimeMs;
  const r = info.ram;
  out.ram = {
    transferred: r.transferred,
    remaining: r.remaining,
    total: r.total,
    duplicate: r.duplicate,
    skipped: 0,
    normal: r.normal,
    "normal-bytes": r.normalBytes,
    "dirty-pages-rate": r.dirtyPagesRate,
    mbps: r.mbps,
    "dirty-sync-count": r.dirtySyncCount,
    "postcopy-requests": 0,
    "page-size": 4096,
    "multifd-bytes": 0,
    "pages-per-second": 0,
    "precopy-bytes": r.precopyBytes,
    "downtime-bytes": r.downtimeBytes,
    "postcopy-bytes": 0,
    "dirty-sync-missed-zero-copy": 0,
  };
  return out;
}
