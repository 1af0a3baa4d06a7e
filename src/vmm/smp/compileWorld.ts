/**
 * The compile world: a worker thread that compiles the translated code of a
 * VM's harts (src/cpu/riscv/translate/moduleCompiler.ts explains why). Each
 * hart's world has a port here; a request carries a batch (`BatchRequest`:
 * the blocks' instruction bits, decoded again here, and their links), and
 * the answer the encoded and compiled `WebAssembly.Module`, which the hart instantiates
 * (compiled code is shared by the process's threads, so nothing is compiled
 * twice). The VMM sets V8's `--no-wasm-lazy-compilation` before starting
 * this world, so every function is compiled here rather than on its first
 * call on the vCPU's thread. Unlike V8's own helpers it keeps the normal
 * priority (helperPriority.ts): the harts wait for its modules.
 */
import { workerData } from "node:worker_threads";
import type { CompileReply, CompileRequest, CompilerLink } from "../../cpu/riscv/translate/moduleCompiler.js";
import { encodeBatch } from "../../cpu/riscv/translate/wasmModuleEncoder.js";

export interface CompileWorldData {
  /** One link per hart world. */
  links: CompilerLink[];
}

for (const { port, answered } of (workerData as CompileWorldData).links) {
  const count = new Int32Array(answered);
  port.on("message", ({ id, batch }: CompileRequest) => {
    let reply: CompileReply;
    try {
      reply = { id, module: new WebAssembly.Module(encodeBatch(batch)) };
    } catch (e) {
      reply = { id, error: (e as Error).message };
    }
    port.postMessage(reply);
    Atomics.add(count, 0, 1);
  });
}
