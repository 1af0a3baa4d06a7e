/**
 * The channel between a VM's VMX world (its device models, monitor and
 * migration, vmxWorld.ts) and whoever hosts the VM (vmHandle.ts): typed
 * actions in, events and replies out. Everything here is structured-clonable:
 * a VM is driven by data, never by callbacks into the host's thread.
 */
import type { VmDescription } from "../vmDescription.js";
import type { MigrationInfo, MigrationParameters } from "../migration/outgoing.js";

/** A VM's lifecycle (its run state), with QEMU's names where QMP reports them. */
export type VmState =
  /** Built, waiting for its state from a migration stream or a file (QEMU's inmigrate). */
  | "inmigrate"
  | "running"
  | "paused"
  /** Paused after its state went to a migration destination (QEMU's postmigrate). */
  | "postmigrate"
  /** Powered off (by the guest or the host): its worlds have ended. */
  | "shutdown"
  /** One of its worlds failed: the VM is stopped, the host runs on. */
  | "crashed";

/** Where a migration stream goes or comes from (QEMU's URIs): tcp:HOST:PORT or file:PATH. */
export type MigrationUri = { kind: "tcp"; host: string; port: number } | { kind: "file"; path: string };

export interface VmxWorldData {
  description: VmDescription;
  /** Wait for the VM's state from this source instead of booting (QEMU's -incoming). */
  incoming?: MigrationUri;
}

/** Actions the host sends; those with an `id` are answered with a Reply of the same id. */
export type VmAction =
  | { type: "input"; bytes: Uint8Array }
  | { type: "pause"; id: number }
  | { type: "continue"; id: number }
  | { type: "reset"; id: number }
  | { type: "powerOff"; id: number }
  | { type: "migrate"; id: number; uri: MigrationUri; params: MigrationParameters }
  | { type: "cancelMigration"; id: number }
  | { type: "queryMigration"; id: number }
  /** Fault injection for tests: an exception in the VMX world or in hart `hart`'s world. */
  | { type: "injectFault"; id: number; world: "vmx" | number };

export type VmEvent =
  /** The VM is set up: built, or (incoming) listening for its migration. */
  | { type: "ready" }
  | { type: "console"; bytes: Uint8Array }
  | { type: "warning"; line: string }
  | { type: "state"; state: VmState; reason: StateReason }
  | { type: "migration"; status: MigrationInfo["status"] }
  /** The VM restarted its machine (guest reboot or host reset). */
  | { type: "reset"; guest: boolean }
  | { type: "reply"; id: number; result?: unknown; error?: string }
  /** The VM ended: the guest's exit status (0 after a clean poweroff), or the reason it crashed. */
  | { type: "exit"; code: number; error?: string; instructions?: number };

/** Why the state changed (QEMU's ShutdownCause and the like), for events. */
export type StateReason =
  | "boot"
  | "host-pause"
  | "host-continue"
  | "migration"
  | "incoming"
  | "guest-shutdown"
  | "host-shutdown"
  | "failure";
