/**
 * The part of the WebAssembly JavaScript API tsxi uses (WebAssembly JS API
 * §5). TypeScript ships these declarations only with the DOM libraries, which
 * a Node program must not pull in.
 */
declare namespace WebAssembly {
  interface MemoryDescriptor {
    initial: number;
    maximum?: number;
    shared?: boolean;
  }
  class Memory {
    constructor(descriptor: MemoryDescriptor);
    readonly buffer: ArrayBuffer | SharedArrayBuffer;
  }
  class Table {
    constructor(descriptor: { element: "anyfunc"; initial: number });
    set(index: number, value: unknown): void;
  }
  class Module {
    constructor(bytes: Uint8Array);
  }
  type ImportValue = Memory | Table | ((...args: number[]) => number | void);
  type Imports = Record<string, Record<string, ImportValue>>;
  class Instance {
    constructor(module: Module, imports?: Imports);
    readonly exports: Record<string, unknown>;
  }
  class CompileError extends Error {}
}
