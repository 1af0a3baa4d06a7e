/**
 * A VM as its host sees it: an object with a lifecycle, driven by typed
 * actions over a channel to the VM's VMX world (vmxWorld.ts), with events
 * back. Nothing of the VM runs on the host's thread, and a failure in any
 * of the VM's worlds ends this VM ("crashed", with the reason) and nothing
 * else.
 */
import { Worker } from "node:worker_threads";
import type { MigrationInfo, MigrationParameters } from "../migration/outgoing.js";
import type { MigrationUri, VmAction, VmEvent, VmState, VmxWorldData } from "./protocol.js";
import type { VmDescription } from "../vmDescription.js";

const VMX_SCRIPT = new URL("./vmxWorld.js", import.meta.url);

/** How a VM ended: the guest's exit status, or 125 with the reason tsxi could not run it or it crashed. */
export interface VmExit {
  code: number;
  error?: string;
  /** Instructions the harts retired, over all restarts. */
  instructions?: number;
}

type Request = VmAction extends infer A ? (A extends { id: number } ? Omit<A, "id"> : never) : never;

export class VmHandle {
  private world: Worker;
  private current: VmState;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly listeners: ((e: VmEvent) => void)[] = [];
  private ended: VmExit | undefined;
  /** Resolves once the VM has ended (powered off, failed to start, or crashed). */
  readonly exited: Promise<VmExit>;
  /** Resolves once the VM is set up (built; listening for its incoming migration), or has ended. */
  readonly ready: Promise<void>;

  constructor(
    readonly description: VmDescription,
    opts: { incoming?: MigrationUri } = {},
  ) {
    this.current = opts.incoming !== undefined ? "inmigrate" : "running";
    const data: VmxWorldData = { description, incoming: opts.incoming };
    this.world = new Worker(VMX_SCRIPT, { workerData: data });
    this.ready = new Promise((resolve) => this.onEvent((e) => (e.type === "ready" || e.type === "exit" ? resolve() : undefined)));
    this.exited = new Promise((resolve) => {
      const end = (exit: VmExit): void => {
        if (this.ended !== undefined) return;
        this.ended = exit;
        for (const p of this.pending.values()) p.reject(new Error(`the VM ended: ${exit.error ?? `exit status ${exit.code}`}`));
        this.pending.clear();
        resolve(exit);
      };
      this.world.on("message", (e: VmEvent) => {
        if (e.type === "state") this.current = e.state;
        if (e.type === "reply") {
          const p = this.pending.get(e.id);
          this.pending.delete(e.id);
          if (e.error !== undefined) p?.reject(new Error(e.error));
          else p?.resolve(e.result);
        }
        for (const l of this.listeners) l(e);
        if (e.type === "exit") end({ code: e.code, error: e.error, instructions: e.instructions });
      });
      this.world.on("error", (err) => {
        const error = `VMX world failed: ${err.message.split("\n")[0]}`;
        this.crash();
        end({ code: 125, error });
      });
      this.world.on("exit", () => {
        if (this.ended === undefined) this.crash();
        end({ code: 125, error: "VMX world ended unexpectedly" });
      });
    });
  }

  private crash(): void {
    if (this.current === "crashed" || this.current === "shutdown") return;
    this.current = "crashed";
    for (const l of this.listeners) l({ type: "state", state: "crashed", reason: "failure" });
  }

  get state(): VmState {
    return this.current;
  }

  onEvent(listener: (e: VmEvent) => void): void {
    this.listeners.push(listener);
  }

  /** Sends an action and resolves with its result; rejects with a one-line Error if the VM refused it. */
  request(action: Request): Promise<unknown> {
    if (this.ended !== undefined) return Promise.reject(new Error("the VM has ended"));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.world.postMessage({ ...action, id } as VmAction);
    });
  }

  /** Console input (no reply). */
  input(bytes: Uint8Array): void {
    if (this.ended === undefined) this.world.postMessage({ type: "input", bytes } satisfies VmAction);
  }

  pause(): Promise<unknown> {
    return this.request({ type: "pause" });
  }

  continue(): Promise<unknown> {
    return this.request({ type: "continue" });
  }

  reset(): Promise<unknown> {
    return this.request({ type: "reset" });
  }

  powerOff(): Promise<unknown> {
    return this.request({ type: "powerOff" });
  }

  migrate(uri: MigrationUri, params: MigrationParameters): Promise<unknown> {
    return this.request({ type: "migrate", uri, params });
  }

  cancelMigration(): Promise<unknown> {
    return this.request({ type: "cancelMigration" });
  }

  async queryMigration(): Promise<MigrationInfo | undefined> {
    return (await this.request({ type: "queryMigration" })) as MigrationInfo | undefined;
  }

  /** Ends the VM's worlds at once (the host shutting down). */
  async terminate(): Promise<void> {
    await this.world.terminate();
  }
}
