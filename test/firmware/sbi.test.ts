// The built-in SBI: calls decoded from a0-a7, results in a0/a1, effects on a mock platform.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Hart } from "../../src/cpu/riscv/hart.js";
import { GuestMemory } from "../../src/memory/guestMemory.js";
import { Bus } from "../../src/devices/bus.js";
import { interpreter } from "../../src/cpu/riscv/translate/engine.js";
import { sbiCall, HartState, SbiError, type SbiPlatform, type ResetKind } from "../../src/firmware/sbi.js";

class MockPlatform implements SbiPlatform {
  timers: [number, bigint][] = [];
  ipis: number[][] = [];
  fences: string[] = [];
  started: [number, bigint, bigint][] = [];
  resets: [ResetKind, number][] = [];
  out: number[] = [];
  input = [0x61, 0x62];
  hartCount(): number { return 4; }
  setTimer(id: number, v: bigint): void { this.timers.push([id, v]); }
  sendIpi(ids: number[]): void { this.ipis.push(ids); }
  remoteFenceI(ids: number[]): void { this.fences.push(`i:${ids.join(",")}`); }
  remoteSfenceVma(ids: number[]): void { this.fences.push(`vma:${ids.join(",")}`); }
  hartStart(id: number, addr: bigint, opaque: bigint): SbiError {
    if (id === 0) return SbiError.AlreadyAvailable;
    this.started.push([id, addr, opaque]);
    return SbiError.Success;
  }
  hartStop(): SbiError { return SbiError.Success; }
  hartStatus(id: number): HartState { return id === 0 ? HartState.Started : HartState.Stopped; }
  reset(kind: ResetKind, reason: number): void { this.resets.push([kind, reason]); }
  consoleWrite(b: Uint8Array): void { this.out.push(...b); }
  consoleRead(max: number): Uint8Array { return Uint8Array.from(this.input.splice(0, max)); }
}

function setup(): { h: Hart; p: MockPlatform } {
  const h = new Hart(0, new GuestMemory(0x80000000, 1 << 20), new Bus(), interpreter);
  return { h, p: new MockPlatform() };
}

function call(h: Hart, p: SbiPlatform, eid: number, fid: number, ...args: bigint[]): [bigint, bigint] {
  h.setX(17, BigInt(eid));
  h.setX(16, BigInt(fid));
  args.forEach((a, k) => h.setX(10 + k, a));
  sbiCall(h, p);
  return [BigInt.asIntN(64, h.getX(10)), h.getX(11)];
}

test("base extension reports v2.0 and probes extensions", () => {
  const { h, p } = setup();
  assert.deepEqual(call(h, p, 0x10, 0), [0n, 2n << 24n]);
  assert.deepEqual(call(h, p, 0x10, 3, 0x54494d45n), [0n, 1n]);
  assert.deepEqual(call(h, p, 0x10, 3, 0x4442434en), [0n, 1n]);
  assert.deepEqual(call(h, p, 0x10, 3, 0x12345n), [0n, 0n]);
  assert.deepEqual(call(h, p, 0x10, 99), [-2n, 0n]);
});

test("TIME, IPI with hart masks, RFENCE", () => {
  const { h, p } = setup();
  assert.equal(call(h, p, 0x54494d45, 0, 123456n)[0], 0n);
  assert.deepEqual(p.timers, [[0, 123456n]]);
  assert.equal(call(h, p, 0x735049, 0, 0b101n, 1n)[0], 0n);
  assert.deepEqual(p.ipis, [[1, 3]]);
  assert.equal(call(h, p, 0x735049, 0, 0n, 0xffffffffffffffffn)[0], 0n);
  assert.deepEqual(p.ipis[1], [0, 1, 2, 3]);
  assert.equal(call(h, p, 0x735049, 0, 1n, 4n)[0], -3n, "hart 4 does not exist");
  assert.equal(call(h, p, 0x52464e43, 1, 0b11n, 0n)[0], 0n);
  assert.deepEqual(p.fences, ["vma:0,1"]);
});

test("HSM start/status and errors", () => {
  const { h, p } = setup();
  assert.equal(call(h, p, 0x48534d, 0, 2n, 0x80200000n, 7n)[0], 0n);
  assert.deepEqual(p.started, [[2, 0x80200000n, 7n]]);
  assert.equal(call(h, p, 0x48534d, 0, 0n, 0n, 0n)[0], -6n);
  assert.equal(call(h, p, 0x48534d, 0, 9n, 0n, 0n)[0], -3n);
  assert.deepEqual(call(h, p, 0x48534d, 2, 1n), [0n, 1n]);
});

test("SRST and DBCN", () => {
  const { h, p } = setup();
  assert.equal(call(h, p, 0x53525354, 0, 0n, 0n)[0], 0n);
  assert.deepEqual(p.resets, [["shutdown", 0]]);
  assert.equal(call(h, p, 0x53525354, 0, 7n, 0n)[0], -3n);
  h.mem.writeBytes(0x80001000, new TextEncoder().encode("hi!"));
  assert.deepEqual(call(h, p, 0x4442434e, 0, 3n, 0x80001000n, 0n), [0n, 3n]);
  assert.equal(String.fromCharCode(...p.out), "hi!");
  assert.equal(call(h, p, 0x4442434e, 0, 3n, 0x1000n, 0n)[0], -3n, "outside RAM");
  assert.deepEqual(call(h, p, 0x4442434e, 1, 8n, 0x80002000n, 0n), [0n, 2n]);
  assert.equal(h.mem.readU8(0x80002001), 0x62);
});

test("legacy console and shutdown", () => {
  const { h, p } = setup();
  h.setX(11, 77n);
  call(h, p, 1, 0, 0x41n);
  assert.equal(h.getX(10), 0n);
  assert.equal(h.getX(11), 77n, "legacy calls leave a1 alone");
  assert.deepEqual(p.out, [0x41]);
  call(h, p, 8, 0);
  assert.deepEqual(p.resets, [["shutdown", 0]]);
});

test("PMU: the fixed counters cycle, time and instret, and event matching", () => {
  const { h, p } = setup();
  assert.deepEqual(call(h, p, 0x10, 3, 0x504d55n), [0n, 1n]);
  assert.deepEqual(call(h, p, 0x504d55, 0), [0n, 3n]);
  assert.deepEqual(call(h, p, 0x504d55, 1, 0n), [0n, BigInt(0xc00 | (63 << 12))]);
  assert.deepEqual(call(h, p, 0x504d55, 1, 2n), [0n, BigInt(0xc02 | (63 << 12))]);
  assert.equal(call(h, p, 0x504d55, 1, 3n)[0], -3n);
  assert.deepEqual(call(h, p, 0x504d55, 2, 0n, 0b111n, 0n, 2n), [0n, 2n], "instructions on counter 2");
  assert.equal(call(h, p, 0x504d55, 2, 0n, 0b011n, 0n, 2n)[0], -2n, "counter 2 not in the mask");
  assert.equal(call(h, p, 0x504d55, 2, 0n, 0b111n, 0n, 0x10005n)[0], -2n, "cache events are not supported");
  assert.equal(call(h, p, 0x504d55, 3, 0n, 1n, 0n, 0n)[0], 0n);
  assert.equal(call(h, p, 0x504d55, 5, 0n)[0], -3n, "no firmware counters");
});
