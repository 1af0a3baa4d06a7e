/**
 * Byte-exact reading and back-pressured writing over Node streams (a TCP
 * socket or a file), for the migration stream.
 */
import type { Readable, Writable } from "node:stream";
import type { ByteSource } from "./stream.js";

/** Bytes buffered ahead of the reader before the stream is paused. */
const HIGH_WATER = 8 << 20;

export class ReadableSource implements ByteSource {
  private readonly chunks: Buffer[] = [];
  private have = 0;
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly stream: Readable) {
    stream.on("data", (c: Buffer) => {
      this.chunks.push(c);
      this.have += c.length;
      if (this.have >= HIGH_WATER) stream.pause();
      this.notify();
    });
    stream.on("end", () => this.finish());
    stream.on("close", () => this.finish());
    stream.on("error", (e) => {
      this.failure ??= e;
      this.finish();
    });
  }

  private finish(): void {
    this.ended = true;
    this.notify();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Exactly `n` bytes, or fewer if the stream ends first; rejects on a stream error. */
  async read(n: number): Promise<Uint8Array> {
    while (this.have < n && !this.ended) {
      if (this.stream.isPaused()) this.stream.resume();
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    if (this.failure !== undefined && this.have < n) throw this.failure;
    const take = Math.min(n, this.have);
    const out = new Uint8Array(take);
    for (let done = 0; done < take; ) {
      const c = this.chunks[0];
      const k = Math.min(c.length, take - done);
      out.set(c.subarray(0, k), done);
      done += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.have -= take;
    if (this.have < HIGH_WATER && this.stream.isPaused() && !this.ended) this.stream.resume();
    return out;
  }
}

/** Writes with back-pressure: resolves once the stream can take more; rejects if it failed or closed. */
export class WritableSink {
  private failure: Error | undefined;
  private bytes = 0;

  constructor(private readonly stream: Writable) {
    stream.on("error", (e) => (this.failure ??= e));
    stream.on("close", () => (this.failure ??= new Error("connection closed")));
  }

  /** Bytes written so far. */
  get written(): number {
    return this.bytes;
  }

  async write(parts: Uint8Array[]): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    let ok = true;
    for (const p of parts) {
      if (p.length === 0) continue;
      ok = this.stream.write(p);
      this.bytes += p.length;
    }
    if (!ok) await this.drained();
  }

  private drained(): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (): void => {
        this.stream.off("drain", done);
        this.stream.off("close", done);
        this.stream.off("error", done);
        if (this.failure !== undefined) reject(this.failure);
        else resolve();
      };
      this.stream.on("drain", done);
      this.stream.on("close", done);
      this.stream.on("error", done);
    });
  }

  /** Ends the stream once everything is flushed. */
  end(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.stream.end(() => (this.failure !== undefined ? reject(this.failure) : resolve()));
    });
  }
}
