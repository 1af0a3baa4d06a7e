/**
 * Settings of the whole process that hosts VMs (V8's flags, thread
 * priorities): the host's business, set once by whoever hosts VMs (`tsxi
 * run`, later `tsxi host`) before the first VM starts, never by a VM.
 */
import v8 from "node:v8";
import { lowerHelperThreads } from "./smp/helperPriority.js";

let configured = false;

export function configureHostProcess(): void {
  if (configured) return;
  configured = true;
  // Translated code's modules are compiled whole in the compile world, not lazily on a vCPU's thread (V8's flags are per process).
  v8.setFlagsFromString("--no-wasm-lazy-compilation");
  lowerHelperThreads(); // V8's and libuv's threads, before the first world starts
}
