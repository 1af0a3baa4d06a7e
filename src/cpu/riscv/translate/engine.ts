/**
 * How a hart runs guest code: the interpreter alone, or the translator
 * ("scan before execution") with its back ends. Whoever builds a hart (a
 * hart world, the bare-metal machine, a test) picks the engine and hands it
 * to Hart's constructor.
 */
import type { Hart } from "../hart.js";
import { WasmBackend } from "./wasmBackend.js";
import { compileHere, type ModuleCompiler } from "./moduleCompiler.js";

export interface ExecutionEngine {
  /**
   * 0: the interpreter runs everything; n > 0: a block is translated on its
   * n-th run and runs translated from then on.
   */
  readonly translateAfter: number;
  /**
   * The WebAssembly back end for hart `h`, which translates at most
   * `capacity` blocks before the hart drops its code cache; undefined when
   * hot blocks become JavaScript functions (blockCompiler.ts) instead.
   */
  wasmBackend(h: Hart, capacity: number): WasmBackend | undefined;
}

/**
 * What a hart's translator did since the hart was built (Hart.stats): all 0
 * under the interpreter. Tests check with it that translated code ran.
 */
export interface TranslationStats {
  /** Blocks compiled to JavaScript functions (blockCompiler.ts). */
  readonly jsBlocks: number;
  /** Blocks installed as WebAssembly functions (wasmBackend.ts). */
  readonly wasmBlocks: number;
  /** Instructions retired in JavaScript block functions. */
  readonly jsInstructions: number;
  /** Instructions retired in chains of WebAssembly blocks. */
  readonly wasmInstructions: number;
}

/** The interpreter alone. */
export const interpreter: ExecutionEngine = { translateAfter: 0, wasmBackend: () => undefined };

export interface TranslatorOptions {
  /** A block is translated on its `translateAfter`-th run (at least 1). */
  translateAfter: number;
  /**
   * Hot blocks compiled together in one WebAssembly module: up to 32 (the
   * default), which amortises V8's cost per module; 1 compiles each block as
   * soon as it is hot (bare-metal programs translated from their first run).
   */
  batch?: number;
  /** Where the WebAssembly modules are compiled: on the spot (the default), or a VM's compile world. */
  compiler?: ModuleCompiler;
  /**
   * "wasm" (the default): WebAssembly blocks where guest RAM is a WebAssembly
   * memory, JavaScript for blocks that are mostly calls of semantic functions
   * and for guests whose RAM is not; "js": JavaScript blocks only, as for a
   * guest whose RAM is not a WebAssembly memory (tests of that back end).
   */
  backend?: "wasm" | "js";
}

/** The translator: interprets a block until its `translateAfter`-th run, then translates it. */
export function translator(opts: TranslatorOptions): ExecutionEngine {
  if (!(opts.translateAfter >= 1)) throw new Error(`translateAfter must be at least 1, not ${opts.translateAfter}`);
  return {
    translateAfter: opts.translateAfter,
    wasmBackend: (h, capacity) => {
      const machine = h.mem.machine;
      if (opts.backend === "js" || machine.wasm === undefined) return undefined;
      return new WasmBackend(h, machine.wasm, machine.wasmPages, capacity, opts.batch ?? 32, opts.compiler ?? compileHere);
    },
  };
}
