// The migration stream (vmm/migration/stream.ts, byteStreams.ts) and its
// destination (incoming.ts): what is written reads back record for record,
// and a stream that is truncated anywhere, corrupted in any payload byte or
// not a tsxi stream at all is a one-line StreamError — never another
// exception, never a stream taken as good, never a VM given half a state.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PassThrough, Readable } from "node:stream";
import {
  decodeJson, encodeHeader, encodeJson, encodeRecord, RecordType, StreamError, StreamReader,
  type ByteSource, type StreamRecord,
} from "../../src/vmm/migration/stream.js";
import { ReadableSource, WritableSink } from "../../src/vmm/migration/byteStreams.js";
import { receiveMigration } from "../../src/vmm/migration/incoming.js";
import { checkHardware, saveHardware, type Hardware } from "../../src/vmm/vmDescription.js";
import { GuestMemory } from "../../src/memory/guestMemory.js";
import { PAGE_SIZE } from "../../src/vmkernel/machineMemory.js";
import { StateError } from "../../src/state/savedState.js";
import type { VirtMachine } from "../../src/vmm/virtMachine.js";

/** A ByteSource over bytes in memory: exactly n bytes, or what is left. */
class BytesSource implements ByteSource {
  private at = 0;
  constructor(private readonly bytes: Uint8Array) {}
  async read(n: number): Promise<Uint8Array> {
    const out = this.bytes.slice(this.at, this.at + n);
    this.at += out.length;
    return out;
  }
}

const RAM = 0x8000_0000;
const PAGES = 8;

const HARDWARE: Hardware = {
  description: { memoryBytes: PAGES * PAGE_SIZE, harts: 2, kernel: "Image", append: "console=ttyS0", drives: [{ file: "a.raw", readOnly: false }], userNet: true, engine: "jit" },
  driveBytes: [1 << 20],
};
const STATE = { v: 1, harts: [{ pc: "0x80200000" }, { pc: "0x0" }], note: "é ✓ \u0000" };

/** Page p's contents in the stream: a pattern of its own. */
function pageBytes(p: number): Uint8Array {
  return Uint8Array.from({ length: PAGE_SIZE }, (_, k) => (k * 7 + p * 31 + 1) & 0xff);
}

function pagesPayload(pages: number[]): Uint8Array {
  const out = new Uint8Array(pages.length * (4 + PAGE_SIZE));
  const v = new DataView(out.buffer);
  pages.forEach((p, k) => {
    v.setUint32(k * (4 + PAGE_SIZE), p, true);
    out.set(pageBytes(p), k * (4 + PAGE_SIZE) + 4);
  });
  return out;
}

const u32s = (xs: number[]): Uint8Array => new Uint8Array(Uint32Array.from(xs).buffer);
const concat = (parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));

/** The parts of a whole stream, as outgoing.ts writes it: header, setup, pages, zero pages, state, end. */
function streamParts(opts: { setup?: unknown; records?: Uint8Array[][] } = {}): Uint8Array[][] {
  return [
    [encodeHeader()],
    encodeJson(RecordType.Setup, opts.setup ?? saveHardware(HARDWARE)),
    ...(opts.records ?? [
      encodeRecord(RecordType.Pages, pagesPayload([0, 5, 2])),
      encodeRecord(RecordType.ZeroPages, u32s([1, 3])),
      encodeRecord(RecordType.Pages, pagesPayload([7])),
      encodeJson(RecordType.State, STATE),
    ]),
    encodeRecord(RecordType.End),
  ];
}

/** A stream of every record type with a single page: small enough to damage at every byte. */
const smallStream = (): Uint8Array[][] =>
  streamParts({ records: [encodeRecord(RecordType.Pages, pagesPayload([5])), encodeRecord(RecordType.ZeroPages, u32s([1, 3])), encodeJson(RecordType.State, STATE)] });

/** Where each record of a stream lies: its header's first byte, its payload's first byte, its end. */
function layout(parts: Uint8Array[][]): { start: number; payload: number; end: number; type: number }[] {
  const out = [];
  let at = parts[0][0].length;
  for (const [h, p] of parts.slice(1)) {
    out.push({ start: at, payload: at + h.length, end: at + h.length + p.length, type: new DataView(h.buffer).getUint32(0, true) });
    at += h.length + p.length;
  }
  return out;
}

/** Reads a whole stream: header, records up to and including End. */
async function readAll(src: ByteSource): Promise<StreamRecord[]> {
  const r = new StreamReader(src);
  await r.header();
  const out: StreamRecord[] = [];
  for (;;) {
    const rec = await r.next();
    out.push(rec);
    if (rec.type === RecordType.End) return out;
  }
}

/** `p`, or a rejection (not a StreamError) if it has not settled within `ms`. */
async function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`still waiting after ${ms} ms`)), ms)));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves to the StreamError `p` rejects with; fails on success or on any other error. */
async function streamError(p: Promise<unknown>, what: string): Promise<string> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof StreamError, `${what}: ${String(e)} is not a StreamError`);
    assert.ok(!e.message.includes("\n"), `${what}: one line`);
    return e.message;
  }
  assert.fail(`${what}: the stream was accepted`);
}

test("a stream reads back record for record, from bytes and from a Node stream in odd chunks", async () => {
  const parts = streamParts();
  const bytes = concat(parts.flat());
  const expected = parts.slice(1).map(([h, p]) => ({ type: new DataView(h.buffer).getUint32(0, true), payload: p }));
  assert.deepEqual(await readAll(new BytesSource(bytes)), expected);
  const chunked = (b: Uint8Array, size: number): Readable => {
    const chunks: Buffer[] = [];
    for (let at = 0; at < b.length; at += size) chunks.push(Buffer.from(b.subarray(at, at + size)));
    return Readable.from(chunks);
  };
  for (const size of [7, 12, 4099]) assert.deepEqual(await readAll(new ReadableSource(chunked(bytes, size))), expected, `chunks of ${size}`);
  const small = concat(smallStream().flat());
  assert.deepEqual(await readAll(new ReadableSource(chunked(small, 1))), await readAll(new BytesSource(small)), "one byte at a time");
  const records = await readAll(new BytesSource(bytes));
  assert.deepEqual(decodeJson(records[0]), saveHardware(HARDWARE));
  assert.deepEqual(decodeJson(records[4]), STATE);
});

test("a stream written through WritableSink reads back through ReadableSource", async () => {
  const pipe = new PassThrough();
  const sink = new WritableSink(pipe);
  const reading = readAll(new ReadableSource(pipe));
  for (const part of streamParts()) await sink.write(part);
  await sink.end();
  const records = await reading;
  assert.equal(sink.written, concat(streamParts().flat()).length);
  assert.deepEqual(records.map((r) => r.type), [RecordType.Setup, RecordType.Pages, RecordType.ZeroPages, RecordType.Pages, RecordType.State, RecordType.End]);
});

test("truncation at every byte offset is a StreamError saying where the stream ends", async () => {
  const parts = smallStream();
  const bytes = concat(parts.flat());
  const records = layout(parts);
  for (let n = 0; n < bytes.length; n++) {
    const message = await streamError(readAll(new BytesSource(bytes.subarray(0, n))), `truncated at ${n}`);
    const rec = records.find((r) => n >= r.start && n < r.end) ?? records[records.length - 1];
    let want: RegExp;
    if (n === 0) want = /^migration stream is empty$/;
    else if (n < 16) want = /^not a tsxi migration stream/;
    else if (n === rec.start) want = /ends before its end record \(truncated\)$/;
    else if (n < rec.payload) want = /ends in the middle of a record header$/;
    else want = new RegExp(`ends in the middle of a record of type ${rec.type}$`);
    assert.match(message, want, `truncated at ${n}`);
  }
  // The same through a Node stream that ends early (a dropped connection): a short read, not a hang.
  for (let n = 0; n < bytes.length; n += 97) {
    await streamError(readAll(new ReadableSource(Readable.from([Buffer.from(bytes.subarray(0, n))]))), `stream truncated at ${n}`);
  }
});

test("flipping any byte of any payload fails that record's CRC-32", async () => {
  const parts = smallStream();
  const bytes = concat(parts.flat());
  for (const r of layout(parts)) {
    for (let at = r.payload; at < r.end; at++) {
      const mask = 1 << (at % 8); // every bit position, across the bytes
      bytes[at] ^= mask;
      const message = await streamError(readAll(new BytesSource(bytes)), `byte ${at} ^ ${mask}`);
      bytes[at] ^= mask;
      assert.equal(message, `migration stream record of type ${r.type} fails its CRC-32 (corrupted)`);
    }
  }
  // The CRC field itself.
  const first = layout(parts)[0];
  bytes[first.start + 8] ^= 1;
  assert.match(await streamError(readAll(new BytesSource(bytes)), "crc"), /fails its CRC-32/);
});

test("flipping any bit of a record's type or length is refused too (the CRC-32 covers them)", async () => {
  const parts = smallStream();
  const bytes = concat(parts.flat());
  for (const r of layout(parts)) {
    for (let at = r.start; at < r.start + 8; at++) {
      for (let bit = 0; bit < 8; bit++) {
        bytes[at] ^= 1 << bit;
        await streamError(readAll(new BytesSource(bytes)), `record at ${r.start}: byte ${at - r.start} bit ${bit}`);
        bytes[at] ^= 1 << bit;
      }
    }
  }
  // The case that matters: a page record read as a zero-page record would zero pages named by its contents.
  const pages = layout(parts)[1];
  assert.equal(pages.type, RecordType.Pages);
  bytes[pages.start] ^= RecordType.Pages ^ RecordType.ZeroPages;
  assert.match(await streamError(readAll(new BytesSource(bytes)), "pages -> zero pages"), /record of type 3 fails its CRC-32/);
});

test("not a tsxi stream, another version, an unknown record type or an oversized record are refused", async () => {
  const good = concat(streamParts().flat());
  const patched = (at: number, f: (v: DataView) => void, bytes = good.slice()): Uint8Array => {
    f(new DataView(bytes.buffer, at));
    return bytes;
  };
  const refuse = (bytes: Uint8Array, what: string): Promise<string> => streamError(readAll(new BytesSource(bytes)), what);
  for (let k = 0; k < 8; k++) {
    assert.equal(await refuse(patched(k, (v) => v.setUint8(0, v.getUint8(0) ^ 0x20)), `magic byte ${k}`), "not a tsxi migration stream (bad magic)");
  }
  // A text-mode transfer that turns CR LF into LF is caught by the magic.
  const crlf = good.indexOf(0x0d);
  assert.equal(crlf, 6);
  assert.equal(await refuse(concat([good.subarray(0, 6), good.subarray(7)]), "CRLF -> LF"), "not a tsxi migration stream (bad magic)");
  assert.equal(await refuse(new TextEncoder().encode("QEVM\x00\x00\x00\x03 a QEMU stream"), "QEMU"), "not a tsxi migration stream (bad magic)");
  assert.equal(await refuse(patched(8, (v) => v.setUint32(0, 2, true)), "version"), "migration stream format version 2 is not 1");
  assert.equal(await refuse(patched(8, (v) => v.setUint32(0, 0, true)), "version 0"), "migration stream format version 0 is not 1");
  for (const type of [0, 6, 0x100, 0xffff_ffff]) {
    assert.equal(await refuse(patched(16, (v) => v.setUint32(0, type, true)), `type ${type}`), `migration stream has an unknown record type ${type}`);
  }
  const max: [number, number][] = [[RecordType.Setup, 1 << 20], [RecordType.Pages, 256 * (4 + PAGE_SIZE)], [RecordType.ZeroPages, 4 * 65536], [RecordType.State, 64 << 20], [RecordType.End, 0]];
  for (const [type, limit] of max) {
    for (const length of [limit + 1, 0xffff_ffff]) {
      // Only a header and a record header: the reader must refuse before it waits for (or allocates) the payload.
      const pipe = new PassThrough(); // never ends
      const header = concat([encodeHeader(), encodeRecord(type as RecordType)[0]]);
      new DataView(header.buffer).setUint32(16 + 4, length, true);
      pipe.write(header);
      const message = await streamError(within(readAll(new ReadableSource(pipe)), 2000), `type ${type} of ${length} bytes`);
      assert.equal(message, `migration stream record of type ${type} is ${length} bytes, more than ${limit}`);
      pipe.destroy();
    }
  }
  assert.equal(await refuse(new Uint8Array(0), "empty"), "migration stream is empty");
});

test("a JSON record that is not valid UTF-8 JSON is a StreamError", () => {
  for (const payload of [new TextEncoder().encode("{\"v\": 1"), Uint8Array.from([0x22, 0xc3, 0x28, 0x22]), new Uint8Array(0)]) {
    assert.throws(() => decodeJson({ type: RecordType.State, payload }), (e: unknown) => e instanceof StreamError && e.message === "migration stream record of type 4 is not valid JSON");
  }
});

test("ReadableSource passes a stream's error on, and gives short reads at its end", async () => {
  const pipe = new PassThrough();
  const src = new ReadableSource(pipe);
  pipe.write(Buffer.from([1, 2, 3]));
  assert.deepEqual(await src.read(2), Uint8Array.from([1, 2]));
  const pending = src.read(4);
  pipe.destroy(new Error("connection reset"));
  await assert.rejects(pending, /connection reset/);
  const ended = new ReadableSource(Readable.from([Buffer.from([9, 8, 7])]));
  assert.deepEqual(await ended.read(5), Uint8Array.from([9, 8, 7]));
  assert.deepEqual(await ended.read(5), new Uint8Array(0));
});

// ------------------------------------------------------------ the destination (incoming.ts)

/**
 * What receiveMigration uses of a VirtMachine: a paused VM with RAM, its
 * hardware check and its state restore (a real VirtMachine starts worker
 * threads; its checkHardware is vmDescription's, tested there).
 */
function fakeVm(hw: Hardware = HARDWARE, paused = true): { vm: VirtMachine; mem: GuestMemory; restored: unknown[] } {
  const mem = new GuestMemory(RAM, PAGES * PAGE_SIZE);
  mem.fill(RAM, PAGES * PAGE_SIZE, 0xee); // the destination's RAM before the stream
  const restored: unknown[] = [];
  const vm = { paused, mem, checkHardware: (saved: unknown) => checkHardware(saved, hw), restoreState: (s: unknown) => restored.push(s) };
  return { vm: vm as unknown as VirtMachine, mem, restored };
}

const ramPage = (mem: GuestMemory, p: number): Uint8Array => mem.readBytes(RAM + p * PAGE_SIZE, PAGE_SIZE);

test("receiveMigration loads pages and zero pages, and restores the state once the end record has arrived", async () => {
  for (const clear of [false, true]) {
    const { vm, mem, restored } = fakeVm();
    const result = await receiveMigration(vm, new BytesSource(concat(streamParts().flat())), clear);
    assert.deepEqual(result, { pages: 4, zeroPages: 2 });
    for (const p of [0, 2, 5, 7]) assert.deepEqual(ramPage(mem, p), pageBytes(p), `page ${p}`);
    for (const p of [1, 3]) assert.deepEqual(ramPage(mem, p), new Uint8Array(PAGE_SIZE), `zero page ${p}`);
    const untouched = clear ? 0 : 0xee;
    for (const p of [4, 6]) assert.deepEqual(ramPage(mem, p), new Uint8Array(PAGE_SIZE).fill(untouched), `page ${p} not in the stream (clear: ${clear})`);
    assert.deepEqual(restored, [STATE]);
  }
});

test("receiveMigration refuses other hardware before it touches RAM", async () => {
  const others: Hardware[] = [
    { ...HARDWARE, description: { ...HARDWARE.description, memoryBytes: 2 * PAGES * PAGE_SIZE } },
    { ...HARDWARE, description: { ...HARDWARE.description, harts: 4 } },
    { ...HARDWARE, driveBytes: [2 << 20] },
  ];
  for (const hw of others) {
    const { vm, mem, restored } = fakeVm(hw);
    await assert.rejects(receiveMigration(vm, new BytesSource(concat(streamParts().flat())), true), (e: unknown) => e instanceof StateError && /^the saved VM had /.test(e.message));
    for (let p = 0; p < PAGES; p++) assert.deepEqual(ramPage(mem, p), new Uint8Array(PAGE_SIZE).fill(0xee), "RAM untouched, even with clear");
    assert.deepEqual(restored, []);
  }
});

test("receiveMigration refuses a malformed stream and restores no state from it", async () => {
  const cases: [string, Uint8Array[][], RegExp][] = [
    ["a page past the end of RAM", streamParts({ records: [encodeRecord(RecordType.Pages, pagesPayload([PAGES])), encodeJson(RecordType.State, STATE)] }), /names page 8, past the end of RAM \(8 pages\)/],
    ["a zero page past the end of RAM", streamParts({ records: [encodeRecord(RecordType.ZeroPages, u32s([2, 0xffff_ffff])), encodeJson(RecordType.State, STATE)] }), /names page 4294967295, past the end of RAM/],
    ["a partial page", streamParts({ records: [encodeRecord(RecordType.Pages, pagesPayload([1]).subarray(0, 100)), encodeJson(RecordType.State, STATE)] }), /a page record of a partial page/],
    ["a partial zero-page index", streamParts({ records: [encodeRecord(RecordType.ZeroPages, new Uint8Array(6)), encodeJson(RecordType.State, STATE)] }), /a zero-page record of a partial index/],
    ["two state records", streamParts({ records: [encodeJson(RecordType.State, STATE), encodeJson(RecordType.State, STATE)] }), /two device-state records/],
    ["no state record", streamParts({ records: [encodeRecord(RecordType.Pages, pagesPayload([1]))] }), /ends without the VM's device state/],
    ["a second setup record", streamParts({ records: [encodeJson(RecordType.Setup, saveHardware(HARDWARE)), encodeJson(RecordType.State, STATE)] }), /a second setup record/],
    ["state that is not JSON", streamParts({ records: [encodeRecord(RecordType.State, new TextEncoder().encode("{"))] }), /record of type 4 is not valid JSON/],
  ];
  for (const [what, parts, want] of cases) {
    const { vm, restored } = fakeVm();
    assert.match(await streamError(receiveMigration(vm, new BytesSource(concat(parts.flat()))), what), want, what);
    assert.deepEqual(restored, [], `${what}: no state restored`);
  }
  // Starting with something else than the setup record.
  const { vm, restored } = fakeVm();
  const noSetup = concat([encodeHeader(), ...encodeRecord(RecordType.Pages, pagesPayload([1])), ...encodeRecord(RecordType.End)]);
  assert.match(await streamError(receiveMigration(vm, new BytesSource(noSetup)), "no setup"), /starts with a record of type 2, not the setup record/);
  // Truncated at every record boundary and in every record: never a state restored.
  const whole = concat(streamParts().flat());
  for (const r of layout(streamParts())) {
    for (const n of [r.start, r.payload - 1, r.end - 1]) {
      await streamError(receiveMigration(vm, new BytesSource(whole.subarray(0, n))), `truncated at ${n}`);
      assert.deepEqual(restored, [], `truncated at ${n}: no state restored`);
    }
  }
  const running = fakeVm(HARDWARE, false);
  assert.match(await streamError(receiveMigration(running.vm, new BytesSource(whole)), "running"), /must be paused/);
});
