// QMP as QEMU 7.2 speaks it (cli/qmpServer.ts), and the parsers behind it:
// the JSON splitter that cuts a byte stream into values (cli/jsonSplitter.ts),
// QEMU's migration URIs (cli/migrationUri.ts) and chardev addresses, and
// query-migrate's answer. The expected replies are those of a real
// qemu-system-riscv64 7.2 to the same input (JSON compared as values: QEMU
// orders "id" first in error replies, which no JSON client sees).
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JsonSplitter } from "../../src/cli/jsonSplitter.js";
import { parseMigrationUri } from "../../src/cli/migrationUri.js";
import { migrationInfoJson, parseQmpAddress, QmpServer } from "../../src/cli/qmpServer.js";
import type { MigrationInfo, MigrationParameters } from "../../src/vmm/migration/outgoing.js";
import type { MigrationUri, VmEvent, VmState } from "../../src/vmm/vmx/protocol.js";
import type { VmHandle } from "../../src/vmm/vmx/vmHandle.js";

// ------------------------------------------------------------ JsonSplitter

test("JsonSplitter: a value split across chunks comes out once, when complete", () => {
  const s = new JsonSplitter();
  const text = '{"execute": "migrate", "arguments": {"uri": "tcp:[::1]:4444"}, "id": [1, {"k": null}]}';
  for (let k = 0; k < text.length - 1; k++) assert.deepEqual(s.push(text[k]), [], `after ${k + 1} characters`);
  assert.deepEqual(s.push(text[text.length - 1]), [{ json: JSON.parse(text) }]);
  // Cut at every point into two chunks.
  for (let cut = 0; cut <= text.length; cut++) {
    const t = new JsonSplitter();
    assert.deepEqual([...t.push(text.slice(0, cut)), ...t.push(text.slice(cut))], [{ json: JSON.parse(text) }], `cut at ${cut}`);
  }
});

test("JsonSplitter: several values in one chunk, with or without whitespace between", () => {
  const s = new JsonSplitter();
  assert.deepEqual(s.push('{"a":1}{"b":2}\r\n [3,[4]]\t{"c":{}}\n'), [{ json: { a: 1 } }, { json: { b: 2 } }, { json: [3, [4]] }, { json: { c: {} } }]);
  assert.deepEqual(s.push("\n\n  \r\n"), [], "whitespace alone is nothing");
});

test("JsonSplitter: braces, brackets and escaped quotes inside strings do not end a value", () => {
  const s = new JsonSplitter();
  const tricky = { s: 'a}b{c]d["e"\\', t: "\\", u: "\\\"}" };
  const text = JSON.stringify(tricky);
  assert.match(text, /\\\\"/, "the text has an escaped backslash before a closing quote");
  assert.deepEqual(s.push(text + JSON.stringify({ next: true })), [{ json: tricky }, { json: { next: true } }]);
  // A chunk that ends right after a backslash inside a string.
  const cut = text.indexOf("\\") + 1;
  assert.deepEqual([...s.push(text.slice(0, cut)), ...s.push(text.slice(cut))], [{ json: tricky }]);
});

test("JsonSplitter: garbage between values gives error items, and the next value still parses", () => {
  const s = new JsonSplitter();
  const items = s.push('}{"a":1} x {"b":2}');
  assert.deepEqual(items, [{ error: "JSON parse error, expecting value" }, { json: { a: 1 } }, { error: "JSON parse error, expecting value" }, { json: { b: 2 } }]);
  // Balanced but not JSON: one error, then recovery.
  const bad = s.push('{"a": }[1,]{"ok":1}');
  assert.equal(bad.length, 3);
  assert.match(bad[0].error ?? "", /^JSON parse error, /);
  assert.match(bad[1].error ?? "", /^JSON parse error, /);
  assert.deepEqual(bad[2], { json: { ok: 1 } });
});

test("JsonSplitter: a value longer than 1 MiB is one error, and the splitter recovers after it", () => {
  const s = new JsonSplitter();
  const huge = '{"pad": "' + "x".repeat(1 << 20) + '", "more": [1, {"b": "}"}]}';
  assert.deepEqual(s.push(huge), [{ error: `JSON parse error, value longer than ${1 << 20} characters` }]);
  assert.deepEqual(s.push('{"after": 1}'), [{ json: { after: 1 } }]);
  // A long value arriving in many chunks is cut off as well, once.
  const t = new JsonSplitter();
  const out = [...t.push("[")];
  for (let k = 0; k < 1100; k++) out.push(...t.push("1,".repeat(512)));
  out.push(...t.push('2] {"after": 2}'));
  assert.deepEqual(out, [{ error: `JSON parse error, value longer than ${1 << 20} characters` }, { json: { after: 2 } }]);
});

test("JsonSplitter: nothing inside a value that was too long comes out as a value of its own", () => {
  // The rest of a refused value is not input: an object nested in it is not a command.
  const s = new JsonSplitter();
  const items = s.push('{"pad": "' + "x".repeat(1 << 20) + '", "then": {"execute": "quit"}}');
  assert.deepEqual(items.filter((i) => i.json !== undefined), []);
});

// ------------------------------------------------------------ addresses and URIs

test("parseMigrationUri: QEMU's tcp:HOST:PORT and file:PATH", () => {
  assert.deepEqual(parseMigrationUri("tcp:dest.example:4444"), { kind: "tcp", host: "dest.example", port: 4444 });
  assert.deepEqual(parseMigrationUri("tcp:10.0.0.2:1"), { kind: "tcp", host: "10.0.0.2", port: 1 });
  assert.deepEqual(parseMigrationUri("tcp::65535"), { kind: "tcp", host: "0.0.0.0", port: 65535 }, "an empty host: every address");
  assert.deepEqual(parseMigrationUri("tcp:[::1]:4444"), { kind: "tcp", host: "::1", port: 4444 });
  assert.deepEqual(parseMigrationUri("tcp:[fe80::1%eth0]:80"), { kind: "tcp", host: "fe80::1%eth0", port: 80 });
  assert.deepEqual(parseMigrationUri("file:/tmp/vm.state"), { kind: "file", path: "/tmp/vm.state" });
  assert.deepEqual(parseMigrationUri("file:relative/with:colon"), { kind: "file", path: "relative/with:colon" });
  const bad: [string, RegExp][] = [
    ["file:", /: migration URI 'file:' needs a path$/],
    ["tcp:host:0", /port 0 is not 1 to 65535/],
    ["tcp:host:65536", /port 65536 is not 1 to 65535/],
    ["tcp:host:99999999999999999999", /is not 1 to 65535/],
    ["tcp:host", /is not tcp:HOST:PORT or file:PATH/],
    ["tcp:host:", /is not tcp:HOST:PORT or file:PATH/],
    ["tcp:host:http", /is not tcp:HOST:PORT or file:PATH/],
    ["tcp:::1:4444", /is not tcp:HOST:PORT or file:PATH/],
    ["tcp:[::1:4444", /is not tcp:HOST:PORT or file:PATH/],
    ["exec:cat > /tmp/x", /is not tcp:HOST:PORT or file:PATH/],
    ["unix:/tmp/sock", /is not tcp:HOST:PORT or file:PATH/],
    ["", /is not tcp:HOST:PORT or file:PATH/],
  ];
  for (const [uri, message] of bad) assert.throws(() => parseMigrationUri(uri), message, uri);
});

test("parseQmpAddress: QEMU's unix:PATH and tcp:HOST:PORT chardevs, server and wait options", () => {
  assert.deepEqual(parseQmpAddress("unix:/tmp/qmp.sock"), { path: "/tmp/qmp.sock", wait: true }, "wait=on is QEMU's default for a server");
  assert.deepEqual(parseQmpAddress("unix:/tmp/qmp.sock,server=on,wait=off"), { path: "/tmp/qmp.sock", wait: false });
  assert.deepEqual(parseQmpAddress("unix:/tmp/qmp.sock,server,nowait"), { path: "/tmp/qmp.sock", wait: false });
  assert.deepEqual(parseQmpAddress("unix:/tmp/qmp.sock,wait=off,wait=on"), { path: "/tmp/qmp.sock", wait: true }, "the last option wins");
  assert.deepEqual(parseQmpAddress("tcp:127.0.0.1:4444,server=on,wait=off"), { host: "127.0.0.1", port: 4444, wait: false });
  assert.deepEqual(parseQmpAddress("tcp::4444,server"), { host: "127.0.0.1", port: 4444, wait: true }, "an empty host: loopback only");
  const bad: [string, RegExp][] = [
    ["unix:", /'unix:' is not unix:PATH or tcp:HOST:PORT/],
    ["tcp:localhost", /is not unix:PATH or tcp:HOST:PORT/],
    ["tcp:localhost:65536", /is not unix:PATH or tcp:HOST:PORT/],
    ["stdio", /'stdio' is not unix:PATH or tcp:HOST:PORT/],
    ["unix:/tmp/q,server=off", /unknown option 'server=off'/],
    ["unix:/tmp/q,server=on,telnet", /unknown option 'telnet'/],
  ];
  for (const [addr, message] of bad) assert.throws(() => parseQmpAddress(addr), message, addr);
});

// ------------------------------------------------------------ query-migrate

const RAM_KEYS = [
  "transferred", "remaining", "total", "duplicate", "skipped", "normal", "normal-bytes", "dirty-pages-rate", "mbps",
  "dirty-sync-count", "postcopy-requests", "page-size", "multifd-bytes", "pages-per-second", "precopy-bytes",
  "downtime-bytes", "postcopy-bytes", "dirty-sync-missed-zero-copy",
].sort();

function info(status: MigrationInfo["status"], extra: Partial<MigrationInfo> = {}): MigrationInfo {
  return {
    status,
    totalTimeMs: 23,
    setupTimeMs: 1,
    ram: {
      transferred: 196_815, remaining: 0, total: 83_947_520, duplicate: 20_492, normal: 3, normalBytes: 12_288,
      dirtyPagesRate: 0, mbps: 76.85, dirtySyncCount: 2, precopyBytes: 0, downtimeBytes: 196_815,
    },
    ...extra,
  };
}

test("migrationInfoJson: QEMU's MigrationInfo names for each status", () => {
  assert.deepEqual(migrationInfoJson(undefined), {}, "no migration yet");
  assert.deepEqual(migrationInfoJson(info("failed", { error: "connection refused" })), { status: "failed", "error-desc": "connection refused" });
  assert.deepEqual(migrationInfoJson(info("failed")), { status: "failed" });
  assert.deepEqual(migrationInfoJson(info("cancelled", { error: "migration cancelled" })), { status: "cancelled" });
  // As qemu-system-riscv64 7.2 answers after `migrate "exec:cat > /dev/null"`.
  const done = migrationInfoJson(info("completed", { downtimeMs: 1 }));
  assert.deepEqual(Object.keys(done).sort(), ["downtime", "ram", "setup-time", "status", "total-time"]);
  assert.equal(done.status, "completed");
  assert.equal(done.downtime, 1);
  assert.equal(done["setup-time"], 1);
  assert.equal(done["total-time"], 23);
  const ram = done.ram as Record<string, number>;
  assert.deepEqual(Object.keys(ram).sort(), RAM_KEYS);
  assert.deepEqual(
    { transferred: ram.transferred, total: ram.total, duplicate: ram.duplicate, normal: ram.normal, "normal-bytes": ram["normal-bytes"], "page-size": ram["page-size"], skipped: ram.skipped, "downtime-bytes": ram["downtime-bytes"], "dirty-sync-count": ram["dirty-sync-count"] },
    { transferred: 196_815, total: 83_947_520, duplicate: 20_492, normal: 3, "normal-bytes": 12_288, "page-size": 4096, skipped: 0, "downtime-bytes": 196_815, "dirty-sync-count": 2 },
  );
  const active = migrationInfoJson(info("active", { expectedDowntimeMs: 40 }));
  assert.deepEqual(Object.keys(active).sort(), ["expected-downtime", "ram", "setup-time", "status", "total-time"]);
  assert.equal(active["expected-downtime"], 40);
});

// ------------------------------------------------------------ the server

/** A raw QMP connection: every message the server sends, in order. */
class RawQmp {
  private buf = "";
  private readonly messages: Record<string, unknown>[] = [];
  private wake: (() => void) | undefined;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding("utf8");
    socket.on("data", (s: string) => {
      this.buf += s;
      for (let nl = this.buf.indexOf("\n"); nl >= 0; nl = this.buf.indexOf("\n")) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        assert.ok(line.endsWith("\r"), "QMP lines end with CR LF, as QEMU's");
        this.messages.push(JSON.parse(line) as Record<string, unknown>);
      }
      this.wake?.();
    });
  }

  static open(path: string): Promise<RawQmp> {
    return new Promise((resolve, reject) => {
      const s = connect(path, () => resolve(new RawQmp(s)));
      s.once("error", reject);
    });
  }

  send(text: string): void {
    this.socket.write(text);
  }

  /** The next message, waiting up to 2 s. */
  async next(): Promise<Record<string, unknown>> {
    const deadline = Date.now() + 2000;
    while (this.messages.length === 0) {
      if (Date.now() > deadline) throw new Error("no QMP message within 2 s");
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 50);
      });
    }
    return this.messages.shift()!;
  }

  /** Sends one line and returns the next message. */
  async ask(line: string): Promise<Record<string, unknown>> {
    this.send(line + "\n");
    return this.next();
  }

  /** Sends one line; returns its reply and the one event it causes, whichever comes first (QEMU sends STOP before stop's reply). */
  async askWithEvent(line: string): Promise<[Record<string, unknown>, Record<string, unknown>]> {
    this.send(line + "\n");
    const two = [await this.next(), await this.next()];
    const e = two.findIndex((m) => "event" in m);
    assert.ok(e >= 0 && !("event" in two[1 - e]), `a reply and an event: ${JSON.stringify(two)}`);
    return [two[1 - e], two[e]];
  }

  /** Messages that arrived and were not taken (after a short wait). */
  async rest(): Promise<Record<string, unknown>[]> {
    await new Promise((r) => setTimeout(r, 100));
    return this.messages.splice(0);
  }

  close(): void {
    this.socket.destroy();
  }
}

const PARAMS: MigrationParameters = { downtimeLimitMs: 300, maxBandwidth: 128 << 20 };
const dir = mkdtempSync(join(tmpdir(), "tsxi-qmp-"));
let sockets = 0;

async function server(): Promise<{ server: QmpServer; path: string; quits: number[] }> {
  const path = join(dir, `qmp${sockets++}.sock`);
  const quits: number[] = [];
  const s = new QmpServer({ path, wait: false }, { ...PARAMS }, () => quits.push(1));
  await s.listen();
  return { server: s, path, quits };
}

const error = (cls: string, desc: string): Record<string, unknown> => ({ error: { class: cls, desc } });

test("QMP before any VM: greeting, negotiation and the errors of malformed input, as QEMU 7.2's", async () => {
  const { server: s, path } = await server();
  const c = await RawQmp.open(path);
  try {
    const greeting = await c.next();
    assert.deepEqual(greeting, { QMP: { version: { qemu: { micro: 0, minor: 2, major: 7 }, package: "tsxi" }, capabilities: ["oob"] } });

    // Before qmp_capabilities, every command is refused, with the id echoed.
    assert.deepEqual(await c.ask('{"execute":"query-status"}'), error("CommandNotFound", "Expecting capabilities negotiation with 'qmp_capabilities'"));
    assert.deepEqual(await c.ask('{"execute":"nope"}'), error("CommandNotFound", "Expecting capabilities negotiation with 'qmp_capabilities'"));
    assert.deepEqual(await c.ask('{"execute":"query-status","id":7}'), { ...error("CommandNotFound", "Expecting capabilities negotiation with 'qmp_capabilities'"), id: 7 });

    // Malformed input is answered the same before and after negotiation.
    const malformed = async (): Promise<void> => {
      assert.deepEqual(await c.ask('{"execute": 5}'), error("GenericError", "QMP input member 'execute' must be a string"));
      assert.deepEqual(await c.ask('{"execute": 5, "id": 3}'), { ...error("GenericError", "QMP input member 'execute' must be a string"), id: 3 });
      assert.deepEqual(await c.ask("[1,2]"), error("GenericError", "QMP input must be a JSON object"));
      assert.deepEqual(await c.ask("[]"), error("GenericError", "QMP input must be a JSON object"));
      assert.deepEqual(await c.ask('{"execute":"query-status","arguments":3}'), error("GenericError", "QMP input member 'arguments' must be an object"));
      assert.deepEqual(await c.ask('{"execute":"query-status","arguments":null}'), error("GenericError", "QMP input member 'arguments' must be an object"));
      assert.deepEqual(await c.ask('{"execute":"query-status","arguments":[1]}'), error("GenericError", "QMP input member 'arguments' must be an object"));
      assert.deepEqual(await c.ask('{"execute":"query-status","arguments":3,"id":4}'), { ...error("GenericError", "QMP input member 'arguments' must be an object"), id: 4 });
      assert.deepEqual(await c.ask("{}"), error("GenericError", "QMP input lacks member 'execute'"));
      assert.deepEqual(await c.ask('{"id":5}'), { ...error("GenericError", "QMP input lacks member 'execute'"), id: 5 });
      assert.deepEqual(await c.ask('{"exec-oob":"query-status"}'), error("GenericError", "QMP input member 'exec-oob' is unexpected"));
      assert.deepEqual(await c.ask('{"execute":"query-status","control":{}}'), error("GenericError", "QMP input member 'control' is unexpected"));
      assert.deepEqual(await c.ask('{"execute":"query-status","foo":1,"id":9}'), { ...error("GenericError", "QMP input member 'foo' is unexpected"), id: 9 });
      assert.deepEqual(await c.ask('{"foo":1,"execute":5}'), error("GenericError", "QMP input member 'execute' must be a string"));
      assert.deepEqual(await c.ask("}"), error("GenericError", "JSON parse error, expecting value"));
      const notJson = await c.ask('{"a": }');
      assert.equal((notJson.error as { class: string }).class, "GenericError");
      assert.match((notJson.error as { desc: string }).desc, /^JSON parse error, /);
    };
    await malformed();

    assert.deepEqual(await c.ask('{"execute":"qmp_capabilities","id":7}'), { return: {}, id: 7 });
    assert.deepEqual(await c.ask('{"execute":"qmp_capabilities"}'), error("CommandNotFound", "Capabilities negotiation is already complete, command ignored"));
    await malformed();
    // No VM yet (with wait=on, QMP serves before the VM is built): what needs none is answered at once.
    assert.deepEqual(await c.ask('{"execute":"query-migrate-capabilities","id":"s"}'), { return: [{ capability: "events", state: false }], id: "s" });
    assert.deepEqual(await c.rest(), [], "one reply per input");
  } finally {
    c.close();
    s.close();
  }
});

test("QMP: values split across writes, several in one write, garbage between them", async () => {
  const { server: s, path } = await server();
  const c = await RawQmp.open(path);
  try {
    await c.next(); // greeting
    c.send('{"execute":"qmp_');
    await new Promise((r) => setTimeout(r, 30));
    c.send('capabilities", "id": {"structured": [1, "two"]}}');
    assert.deepEqual(await c.next(), { return: {}, id: { structured: [1, "two"] } });
    const caps = { return: [{ capability: "events", state: false }] };
    c.send('{"execute":"query-migrate-capabilities","id":1}{"execute":"query-migrate-capabilities","id":2}\r\n{"execute":"query-migrate-capabilities","id":3}');
    for (const id of [1, 2, 3]) assert.deepEqual(await c.next(), { ...caps, id }, `reply ${id} in order`);
    c.send('x{"execute":"query-migrate-capabilities","id":4}\n');
    assert.deepEqual(await c.next(), error("GenericError", "JSON parse error, expecting value"));
    assert.deepEqual(await c.next(), { ...caps, id: 4 });
    // Each connection negotiates for itself.
    const d = await RawQmp.open(path);
    await d.next();
    assert.deepEqual(await d.ask('{"execute":"query-status"}'), error("CommandNotFound", "Expecting capabilities negotiation with 'qmp_capabilities'"));
    d.close();
  } finally {
    c.close();
    s.close();
  }
});

/** A VM as QmpServer sees it: VmHandle's state, events and actions, recorded. */
class FakeVm {
  state: VmState = "running";
  readonly calls: unknown[] = [];
  migration: MigrationInfo | undefined;
  private readonly listeners: ((e: VmEvent) => void)[] = [];

  onEvent(l: (e: VmEvent) => void): void {
    this.listeners.push(l);
  }
  emit(e: VmEvent): void {
    if (e.type === "state") this.state = e.state;
    for (const l of this.listeners) l(e);
  }
  async pause(): Promise<void> {
    this.calls.push("pause");
    this.emit({ type: "state", state: "paused", reason: "host-pause" });
  }
  async continue(): Promise<void> {
    this.calls.push("continue");
    this.emit({ type: "state", state: "running", reason: "host-continue" });
  }
  async reset(): Promise<void> {
    this.calls.push("reset");
    this.emit({ type: "reset", guest: false });
  }
  async migrate(uri: MigrationUri, params: MigrationParameters): Promise<void> {
    this.calls.push({ migrate: uri, params });
  }
  async cancelMigration(): Promise<void> {
    this.calls.push("cancel");
  }
  async queryMigration(): Promise<MigrationInfo | undefined> {
    return this.migration;
  }
}

async function attached(): Promise<{ c: RawQmp; vm: FakeVm; done: () => void; quits: number[] }> {
  const { server: s, path, quits } = await server();
  const vm = new FakeVm();
  s.attach(vm as unknown as VmHandle);
  const c = await RawQmp.open(path);
  await c.next();
  assert.deepEqual(await c.ask('{"execute":"qmp_capabilities"}'), { return: {} });
  return { c, vm, quits, done: () => (c.close(), s.close()) };
}

test("QMP with a VM: unknown commands, unexpected arguments, query-status, stop and cont with their events", async () => {
  const { c, vm, done } = await attached();
  try {
    assert.deepEqual(await c.ask('{"execute":"nope","id":"x"}'), { ...error("CommandNotFound", "The command nope has not been found"), id: "x" });
    assert.deepEqual(await c.ask('{"execute":"query-status","arguments":{"x":1}}'), error("GenericError", "Parameter 'x' is unexpected"));
    // A misspelt 'arguments' is refused, not run without its arguments.
    assert.deepEqual(await c.ask('{"execute":"stop","argument":{}}'), error("GenericError", "QMP input member 'argument' is unexpected"));
    assert.deepEqual(vm.calls, [], "stop did not run");
    assert.deepEqual(await c.ask('{"execute":"query-status","id":{"a":[1]}}'), { return: { status: "running", singlestep: false, running: true }, id: { a: [1] } });
    const [stopped, stop] = await c.askWithEvent('{"execute":"stop"}');
    assert.deepEqual(stopped, { return: {} });
    assert.equal(stop.event, "STOP");
    const ts = stop.timestamp as { seconds: number; microseconds: number };
    assert.ok(Number.isInteger(ts.seconds) && Number.isInteger(ts.microseconds) && ts.microseconds < 1e6);
    assert.ok(Math.abs(ts.seconds - Date.now() / 1000) < 60);
    assert.deepEqual(Object.keys(stop).sort(), ["event", "timestamp"]);
    assert.deepEqual(await c.ask('{"execute":"query-status"}'), { return: { status: "paused", singlestep: false, running: false } });
    const [resumed, resume] = await c.askWithEvent('{"execute":"cont"}');
    assert.deepEqual(resumed, { return: {} });
    assert.equal(resume.event, "RESUME");
    vm.state = "inmigrate";
    assert.deepEqual(await c.ask('{"execute":"query-status"}'), { return: { status: "inmigrate", singlestep: false, running: false } });
    vm.state = "crashed";
    assert.deepEqual(await c.ask('{"execute":"query-status"}'), { return: { status: "internal-error", singlestep: false, running: false } });
    assert.deepEqual(await c.ask('{"execute":"query-version"}'), { return: { qemu: { micro: 0, minor: 2, major: 7 }, package: "tsxi" } });
    assert.deepEqual(vm.calls, ["pause", "continue"]);
    assert.deepEqual(await c.rest(), []);
  } finally {
    done();
  }
});

test("QMP with a VM: migration parameters, capabilities and migrate, as QEMU's", async () => {
  const { c, vm, done } = await attached();
  try {
    assert.deepEqual(await c.ask('{"execute":"query-migrate"}'), { return: {} }, "before any migration");
    assert.deepEqual(await c.ask('{"execute":"query-migrate-parameters"}'), { return: { "downtime-limit": 300, "max-bandwidth": 134_217_728 } });
    assert.deepEqual(await c.ask('{"execute":"migrate-set-parameters","arguments":{"nope":1}}'), error("GenericError", "Parameter 'nope' is unexpected"));
    const tooLong = await c.ask('{"execute":"migrate-set-parameters","arguments":{"downtime-limit":3000000}}');
    assert.match((tooLong.error as { desc: string }).desc, /^Parameter 'downtime_limit' expects an integer in the range of 0 to /);
    assert.deepEqual(await c.ask('{"execute":"migrate-set-parameters","arguments":{"downtime-limit":50,"max-bandwidth":1000}}'), { return: {} });
    assert.deepEqual(await c.ask('{"execute":"query-migrate-parameters"}'), { return: { "downtime-limit": 50, "max-bandwidth": 1000 } });
    assert.deepEqual(await c.ask('{"execute":"migrate-set-capabilities","arguments":{"capabilities":[{"capability":"nope","state":true}]}}'), error("GenericError", "Parameter 'capability' does not accept value 'nope'"));
    assert.deepEqual(await c.ask('{"execute":"migrate","arguments":{}}'), error("GenericError", "Parameter 'uri' is missing"));
    const badUri = await c.ask('{"execute":"migrate","arguments":{"uri":"exec:cat"}}');
    assert.match((badUri.error as { desc: string }).desc, /is not tcp:HOST:PORT or file:PATH/);
    assert.deepEqual(await c.ask('{"execute":"migrate","arguments":{"uri":"tcp:[::1]:4444","detach":true}}'), { return: {} });
    assert.deepEqual(vm.calls, [{ migrate: { kind: "tcp", host: "::1", port: 4444 }, params: { downtimeLimitMs: 50, maxBandwidth: 1000 } }]);
    // MIGRATION events only once the "events" capability is on, as in QEMU.
    vm.emit({ type: "migration", status: "active" });
    assert.deepEqual(await c.ask('{"execute":"query-migrate-capabilities"}'), { return: [{ capability: "events", state: false }] }, "no event before this reply");
    assert.deepEqual(await c.ask('{"execute":"migrate-set-capabilities","arguments":{"capabilities":[{"capability":"events","state":true}]}}'), { return: {} });
    vm.emit({ type: "migration", status: "completed" });
    const e = await c.next();
    assert.equal(e.event, "MIGRATION");
    assert.deepEqual(e.data, { status: "completed" });
    vm.migration = info("completed", { downtimeMs: 3 });
    const q = await c.ask('{"execute":"query-migrate"}');
    assert.deepEqual(q, { return: migrationInfoJson(vm.migration) });
  } finally {
    done();
  }
});
