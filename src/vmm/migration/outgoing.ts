/**
 * The source side of a migration (pre-copy, as QEMU's and vMotion's): RAM
 * is copied while the guest runs, then again the pages it wrote meanwhile,
 * until what is left fits the downtime limit; then the VM pauses, the rest
 * of RAM and the device state follow, and the destination confirms before
 * the source lets go. If anything fails — the destination dies, the
 * connection drops, the stream cannot be written — the VM continues where
 * it was, with nothing lost. A file is a destination that confirms when
 * its bytes are on disk (suspend to disk, `migrate file:`).
 */
import type { VirtMachine } from "../virtMachine.js";
import { PAGE_SIZE } from "../../vmkernel/machineMemory.js";
import type { ByteSource } from "./stream.js";
import { encodeHeader, encodeJson, encodeRecord, PAGES_PER_RECORD, RecordType, ZERO_PAGES_PER_RECORD } from "./stream.js";
import type { WritableSink } from "./byteStreams.js";

/** QEMU's defaults (migration/options.c): 300 ms downtime, 128 MiB/s. */
export const DEFAULT_DOWNTIME_LIMIT_MS = 300;
export const DEFAULT_MAX_BANDWIDTH = 128 << 20;
/** Rounds of re-sending written pages before the VM is paused whatever is left (a guest that writes faster than the link). */
const MAX_ROUNDS = 30;
/** The byte a destination sends once it holds the VM (its return path). */
export const ACK_BYTE = 0x06;

export interface MigrationParameters {
  /** Longest the VM may stay paused at the end, in ms (QEMU's downtime-limit). */
  downtimeLimitMs: number;
  /** Bytes per second at most, 0 for no limit (QEMU's max-bandwidth). */
  maxBandwidth: number;
}

/** QEMU's MigrationStatus values that tsxi goes through. */
export type MigrationStatus = "none" | "setup" | "active" | "device" | "completed" | "failed" | "cancelling" | "cancelled";

/** What query-migrate reports (QEMU's MigrationInfo and MigrationStats, qapi/migration.json). */
export interface MigrationInfo {
  status: MigrationStatus;
  /** ms since the start; the whole time once finished. */
  totalTimeMs: number;
  setupTimeMs: number;
  /** ms the VM was paused, once completed. */
  downtimeMs?: number;
  /** While active: what the downtime would be if the VM paused now. */
  expectedDowntimeMs?: number;
  ram: {
    transferred: number;
    remaining: number;
    total: number;
    /** Zero pages (QEMU's "duplicate"). */
    duplicate: number;
    normal: number;
    normalBytes: number;
    dirtyPagesRate: number;
    mbps: number;
    dirtySyncCount: number;
    precopyBytes: number;
    downtimeBytes: number;
  };
  error?: string;
}

export class MigrationError extends Error {
  override name = "MigrationError";
}

export class OutgoingMigration {
  private status: MigrationStatus = "setup";
  private readonly t0 = performance.now();
  private setupMs = 0;
  private endMs: number | undefined;
  private pausedAtMs: number | undefined;
  private downtimeMs: number | undefined;
  private expectedDowntimeMs: number | undefined;
  private error: string | undefined;
  private cancelled = false;
  private remaining: number;
  private duplicate = 0;
  private normal = 0;
  private syncs = 0;
  private dirtyRate = 0;
  private bytesPerMs = 0;
  private precopyBytes = 0;
  private readonly pages: number;

  /**
   * @param confirm the destination's return path: resolves when it confirms, rejects if it fails; undefined for a file
   * @param onStatus told of each status change (QMP's MIGRATION event)
   */
  constructor(
    private readonly vm: VirtMachine,
    private readonly sink: WritableSink,
    private readonly params: MigrationParameters,
    private readonly confirm: (() => Promise<void>) | undefined,
    private readonly onStatus: (s: MigrationStatus) => void = () => {},
  ) {
    this.pages = vm.mem.size / PAGE_SIZE;
    this.remaining = vm.mem.size;
  }

  info(): MigrationInfo {
    const now = this.endMs ?? performance.now() - this.t0;
    return {
      status: this.status,
      totalTimeMs: Math.round(now),
      setupTimeMs: Math.round(this.setupMs),
      downtimeMs: this.downtimeMs === undefined ? undefined : Math.round(this.downtimeMs),
      expectedDowntimeMs: this.status === "active" && this.expectedDowntimeMs !== undefined ? Math.round(this.expectedDowntimeMs) : undefined,
      ram: {
        transferred: this.sink.written,
        remaining: this.remaining,
        total: this.vm.mem.size,
        duplicate: this.duplicate,
        normal: this.normal,
        normalBytes: this.normal * PAGE_SIZE,
        dirtyPagesRate: Math.round(this.dirtyRate),
        mbps: (this.bytesPerMs * 8 * 1000) / 1e6,
        dirtySyncCount: this.syncs,
        precopyBytes: this.precopyBytes,
        downtimeBytes: this.precopyBytes === 0 ? 0 : this.sink.written - this.precopyBytes,
      },
      error: this.error,
    };
  }

  /** Asks the migration to stop; the VM continues (QEMU's migrate_cancel). */
  cancel(): void {
    if (this.status === "completed" || this.status === "failed" || this.status === "cancelled") return;
    this.cancelled = true;
    this.setStatus("cancelling");
  }

  private setStatus(s: MigrationStatus): void {
    if (s === this.status) return;
    this.status = s;
    this.onStatus(s);
  }

  private check(): void {
    if (this.cancelled) throw new MigrationError("migration cancelled");
  }

  /**
   * Runs the migration. Resolves when the destination holds the VM (this
   * VM then stays paused); on failure or cancellation the VM runs on as
   * before and the promise rejects with a one-line MigrationError.
   */
  async run(): Promise<void> {
    const vm = this.vm;
    const wasRunning = !vm.paused;
    this.onStatus("setup");
    try {
      await this.sink.write([encodeHeader(), ...encodeJson(RecordType.Setup, vm.hardware())]);
      await vm.startWriteLog();
      this.syncs++; // as QEMU counts: the log's start is its first sync
      this.setupMs = performance.now() - this.t0;
      this.setStatus("active");
      // Round 0: every page (the destination's RAM starts zeroed, so zero pages are counted, not sent).
      await this.sendPages(allPages(this.pages), true);
      let left: number[];
      for (let round = 1; ; round++) {
        this.check();
        const t = performance.now();
        const written = await vm.takeWrittenPages();
        this.syncs++;
        this.remaining = written.length * PAGE_SIZE;
        this.expectedDowntimeMs = this.bytesPerMs > 0 ? this.remaining / this.bytesPerMs : Infinity;
        if (!wasRunning || this.expectedDowntimeMs <= this.params.downtimeLimitMs || round >= MAX_ROUNDS) {
          left = written;
          break;
        }
        await this.sendPages(written, false);
        this.dirtyRate = written.length / Math.max(1e-3, (performance.now() - t) / 1000);
      }
      // Stop and copy: the rest of RAM, then the devices.
      this.precopyBytes = this.sink.written;
      this.pausedAtMs = performance.now();
      await vm.pause();
      this.setStatus("device");
      const last = [...new Set([...left, ...(await vm.takeWrittenPages())])].sort((a, b) => a - b);
      this.syncs++;
      // At full speed: max-bandwidth limits the live phase only, the paused guest waits for every byte
      // (QEMU lifts its rate limit here too, migration_completion).
      await this.sendPages(last, false, false);
      this.remaining = 0;
      await this.sink.write([...encodeJson(RecordType.State, vm.saveState()), ...encodeRecord(RecordType.End)]);
      await this.sink.end();
      this.check();
      await this.confirm?.();
      this.downtimeMs = performance.now() - this.pausedAtMs;
      vm.stopWriteLog();
      this.endMs = performance.now() - this.t0;
      this.setStatus("completed");
    } catch (e) {
      vm.stopWriteLog();
      if (wasRunning) vm.resume();
      this.endMs = performance.now() - this.t0;
      this.error = e instanceof Error ? e.message : String(e);
      this.setStatus(this.cancelled ? "cancelled" : "failed");
      throw new MigrationError(this.cancelled ? "migration cancelled" : `migration failed: ${this.error}`);
    }
  }

  /**
   * Sends `pages` (guest page indices, ascending): zero pages as a list
   * (skipped when `fresh`: the destination's are zero already), the others
   * whole, at most `maxBandwidth` when `throttled`.
   */
  private async sendPages(pages: Iterable<number>, fresh: boolean, throttled = true): Promise<void> {
    const mem = this.vm.mem;
    const u8 = mem.u8;
    const words = mem.i32;
    let batch = new Uint8Array(PAGES_PER_RECORD * (4 + PAGE_SIZE));
    let view = new DataView(batch.buffer);
    let inBatch = 0;
    let zeros: number[] = [];
    const start = performance.now();
    const startBytes = this.sink.written;
    const flush = async (): Promise<void> => {
      const parts: Uint8Array[] = [];
      if (inBatch > 0) parts.push(...encodeRecord(RecordType.Pages, batch.subarray(0, inBatch * (4 + PAGE_SIZE))));
      if (zeros.length > 0) parts.push(...encodeRecord(RecordType.ZeroPages, new Uint8Array(Uint32Array.from(zeros).buffer)));
      if (parts.length === 0) return;
      await this.sink.write(parts);
      this.normal += inBatch;
      inBatch = 0;
      zeros = [];
      batch = new Uint8Array(PAGES_PER_RECORD * (4 + PAGE_SIZE));
      view = new DataView(batch.buffer);
      if (throttled) await this.throttle(start, startBytes);
      this.check();
    };
    for (const p of pages) {
      const off = mem.machinePageOffset(mem.base + p * PAGE_SIZE);
      if (isZeroPage(words, off >>> 2)) {
        this.duplicate++;
        if (!fresh) zeros.push(p);
        if (zeros.length === ZERO_PAGES_PER_RECORD) await flush();
      } else {
        const at = inBatch * (4 + PAGE_SIZE);
        view.setUint32(at, p, true);
        batch.set(u8.subarray(off, off + PAGE_SIZE), at + 4);
        if (++inBatch === PAGES_PER_RECORD) await flush();
      }
      this.remaining = Math.max(0, this.remaining - PAGE_SIZE);
    }
    await flush();
    const ms = performance.now() - start;
    if (ms > 1) this.bytesPerMs = (this.sink.written - startBytes) / ms;
  }

  /** Sleeps as long as sending faster than `maxBandwidth` requires. */
  private async throttle(start: number, startBytes: number): Promise<void> {
    const max = this.params.maxBandwidth;
    if (max <= 0) return;
    const ahead = ((this.sink.written - startBytes) / max) * 1000 - (performance.now() - start);
    if (ahead > 1) await new Promise((resolve) => setTimeout(resolve, ahead));
  }
}

function* allPages(n: number): Generator<number> {
  for (let p = 0; p < n; p++) yield p;
}

function isZeroPage(words: Int32Array, first: number): boolean {
  for (let k = first, end = first + PAGE_SIZE / 4; k < end; k++) if (words[k] !== 0) return false;
  return true;
}

/** Reads the destination's confirmation from its return path (a TCP connection). */
export async function readConfirmation(src: ByteSource): Promise<void> {
  const b = await src.read(1);
  if (b.length === 0) throw new MigrationError("the destination closed the connection before it confirmed");
  if (b[0] !== ACK_BYTE) throw new MigrationError(`the destination answered 0x${b[0].toString(16)} instead of confirming`);
}
