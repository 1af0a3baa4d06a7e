/**
 * Where the WebAssembly back end's batches become `WebAssembly.Module`s.
 *
 * V8 compiles a module on the thread that asks for it, and by default each
 * function lazily, on the thread that first calls it: on the vCPU's thread,
 * that and encoding the modules took seconds of a Debian boot
 * (docs/perf-log.md). A `RemoteCompiler` sends the batch (instruction bits, addresses,
 * links: a `BatchRequest`) to the compile world (src/vmm/smp/compileWorld.ts),
 * which encodes the module and compiles every function eagerly on another
 * core while the hart keeps interpreting the
 * batch's blocks; the hart picks the finished module up at its next
 * `collect()` and instantiates it (a module's compiled code is shared by
 * every thread of the process). `compileHere` compiles on the spot: tests,
 * bare-metal runs, hosts without a compile world.
 */
import { receiveMessageOnPort, type MessagePort } from "node:worker_threads";
import { encodeBatch, type BatchRequest } from "./wasmModuleEncoder.js";

export interface ModuleCompiler {
  /** Encodes and compiles a batch; `done` gets the module now or from a later collect()/drain(). */
  compile(batch: BatchRequest, done: (module: WebAssembly.Module) => void): void;
  /** Hands over the modules finished since the last call, without waiting. */
  collect(): void;
  /** Waits until every module asked for has been handed over. */
  drain(): void;
  /**
   * Whether collect() has something to hand over. Cheap (a word in shared
   * memory), so the run loop asks before every block: each block a finished
   * batch would have run is otherwise interpreted.
   */
  ready(): boolean;
}

export const compileHere: ModuleCompiler = {
  compile: (batch, done) => done(new WebAssembly.Module(encodeBatch(batch))),
  collect: () => {},
  drain: () => {},
  ready: () => false,
};

/**
 * A hart's channel to the compile world: the port, and a word the compile
 * world increments after each answer it posts (so the hart's run loop can
 * notice one without a call into Node).
 */
export interface CompilerLink {
  port: MessagePort;
  answered: SharedArrayBuffer;
}

/** A request to the compile world, and its answer (a module, or why it failed to compile). */
export interface CompileRequest {
  id: number;
  batch: BatchRequest;
}
export interface CompileReply {
  id: number;
  module?: WebAssembly.Module;
  error?: string;
}

/** Lets drain() sleep between polls (Atomics.wait needs a shared word). */
const NAP = new Int32Array(new SharedArrayBuffer(4));

export class RemoteCompiler implements ModuleCompiler {
  private nextId = 0;
  private readonly waiting = new Map<number, (module: WebAssembly.Module) => void>();
  private readonly port: MessagePort;
  private readonly answered: Int32Array;
  private delivered = 0;

  constructor(link: CompilerLink) {
    this.port = link.port;
    this.answered = new Int32Array(link.answered);
  }

  ready(): boolean {
    return this.answered[0] !== this.delivered;
  }

  compile(batch: BatchRequest, done: (module: WebAssembly.Module) => void): void {
    const id = this.nextId++;
    this.waiting.set(id, done);
    const request: CompileRequest = { id, batch };
    this.port.postMessage(request);
  }

  collect(): void {
    if (this.waiting.size === 0) return;
    for (let m = receiveMessageOnPort(this.port); m !== undefined; m = receiveMessageOnPort(this.port)) {
      this.deliver(m.message as CompileReply);
    }
  }

  drain(): void {
    while (this.waiting.size > 0) {
      const m = receiveMessageOnPort(this.port);
      if (m === undefined) Atomics.wait(NAP, 0, 0, 1);
      else this.deliver(m.message as CompileReply);
    }
  }

  private deliver(reply: CompileReply): void {
    this.delivered++;
    const done = this.waiting.get(reply.id);
    this.waiting.delete(reply.id);
    // The bytes are tsxi's own output: a module that does not compile is a translator bug.
    if (reply.module === undefined) throw new Error(`translated code failed to compile: ${reply.error}`);
    done?.(reply.module);
  }
}
