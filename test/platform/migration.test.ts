// Live migration between two tsxi processes over QMP, as QEMU does it: the
// guest keeps rewriting memory while its RAM is copied, and finishes its
// work on the destination with the same results. And the ways a migration
// fails — the destination killed, the connection cut, a truncated or
// corrupted stream, other hardware — leave the source running and correct,
// and give the destination a one-line error and a non-zero exit.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, connect, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GuestConsole } from "../support/guestConsole.js";
import { QmpClient } from "../support/qmpClient.js";

const dir = mkdtempSync(join(tmpdir(), "tsxi-migrate-"));
const MEMORY = ["-m", "256M"];
let nextPort = 47000 + Math.floor(Math.random() * 1000) * 10;

/** The guest's workload: `PASSES` passes that write `seq R 7 N` for R = 1..6 to tmpfs, counting lines; then a checksum of the files. */
const PASSES = 8;
const N = 30_000;
const WORKLOAD =
  `(total=0; for p in $(seq ${PASSES}); do for r in 1 2 3 4 5 6; do seq $r 7 ${N} > /tmp/w$r; ` +
  `total=$((total + $(wc -l < /tmp/w$r))); done; done; ` +
  `echo "lines=$total sum=$(cat /tmp/w1 /tmp/w2 /tmp/w3 /tmp/w4 /tmp/w5 /tmp/w6 | md5sum | cut -d' ' -f1)" > /tmp/result) & true`;

function expectedResult(): string {
  let text = "";
  let lines = 0;
  for (let r = 1; r <= 6; r++) {
    let k = 0;
    for (let v = r; v <= N; v += 7, k++) text += `${v}\n`;
    lines += k;
  }
  return `lines=${lines * PASSES} sum=${createHash("md5").update(text).digest("hex")}`;
}

interface Vm {
  g: GuestConsole;
  q: QmpClient;
}

async function start(name: string, extra: string[] = []): Promise<Vm> {
  const sock = join(dir, `${name}.sock`);
  const g = new GuestConsole([...MEMORY, "--qmp", `unix:${sock},server=on,wait=off`, ...extra]);
  const q = await QmpClient.connect(sock);
  await q.execute("migrate-set-capabilities", { capabilities: [{ capability: "events", state: true }] });
  return { g, q };
}

async function booted(name: string): Promise<Vm> {
  const vm = await start(name);
  await vm.g.expect("# ", 150_000);
  return vm;
}

async function migrationEnd(q: QmpClient): Promise<string> {
  const e = await q.event("MIGRATION", (d) => d?.status === "completed" || d?.status === "failed" || d?.status === "cancelled", 120_000);
  return e.data?.status as string;
}

/** A copy of `b` with the bits of byte `at` inverted. */
function flipped(b: Buffer, at: number): Buffer {
  const c = Buffer.from(b);
  c[at] ^= 0xff;
  return c;
}

/** One line `tsxi: error: ...`, no stack trace, a non-zero status. */
async function assertOneLineError(g: GuestConsole, pattern: RegExp): Promise<void> {
  const status = await g.exited;
  assert.notEqual(status, 0);
  const lines = g.stderr.split("\n").filter((l) => l !== "");
  assert.equal(lines.length, 1, `one line expected, got: ${g.stderr}`);
  assert.match(lines[0], /^tsxi: error: /);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(g.stderr, /\n\s+at /);
}

/** The source still runs its guest, correctly: it answers at the console and finishes its workload. */
async function assertRunsOn(src: Vm): Promise<void> {
  assert.deepEqual(await src.q.execute("query-status"), { status: "running", singlestep: false, running: true });
  assert.equal(await src.g.run("echo $((6 * 7))"), "42");
}

test("live migration over TCP while the guest rewrites memory: the workload finishes on the destination", { timeout: 300_000 }, async (t) => {
  const src = await booted("live-src");
  const port = nextPort++;
  const dst = await start("live-dst", ["--incoming", `tcp:127.0.0.1:${port}`]);
  try {
    assert.deepEqual(await dst.q.execute("query-status"), { status: "inmigrate", singlestep: false, running: false });
    await src.g.run(WORKLOAD);
    await new Promise((r) => setTimeout(r, 1500)); // the workload is running
    await src.q.execute("migrate", { uri: `tcp:127.0.0.1:${port}` });
    const end = await migrationEnd(src.q);
    if (end !== "completed") assert.fail(`migration ${end}: ${JSON.stringify(await src.q.execute("query-migrate"))}; destination: ${dst.g.stderr}`);
    const info = (await src.q.execute("query-migrate")) as Record<string, unknown> & { ram: Record<string, number> };
    t.diagnostic(`total-time ${String(info["total-time"])} ms, downtime ${String(info.downtime)} ms, ${info.ram.transferred} bytes, ${info.ram["dirty-sync-count"]} rounds`);
    assert.equal(info.status, "completed");
    assert.ok(typeof info["total-time"] === "number" && typeof info.downtime === "number");
    assert.ok(info.ram["dirty-sync-count"] >= 3, "the write log was read at its start, after the first copy and at the pause");
    assert.deepEqual(await src.q.execute("query-status"), { status: "postmigrate", singlestep: false, running: false });
    await src.q.event("STOP");
    await dst.q.event("RESUME");
    // The destination finishes the workload the source started.
    dst.g.type("\n");
    const result = await dst.g.run("while [ ! -s /tmp/result ]; do sleep 1; done; cat /tmp/result", 240_000);
    assert.equal(result, expectedResult());
    await src.q.execute("quit");
    assert.equal(await src.g.exited, 0);
    dst.g.type("poweroff\n");
    assert.equal(await dst.g.exited, 0);
  } finally {
    src.g.kill();
    dst.g.kill();
  }
});

test("a migration whose destination dies, or whose connection is cut, leaves the source running", { timeout: 300_000 }, async () => {
  const src = await booted("fail-src");
  const others: GuestConsole[] = [];
  let proxy: Server | undefined;
  try {
    await src.q.execute("migrate-set-parameters", { "max-bandwidth": 8 << 20 }); // slow enough to interrupt
    await src.g.run(WORKLOAD);

    // The destination is killed mid-migration.
    const port1 = nextPort++;
    const killed = await start("fail-dst1", ["--incoming", `tcp:127.0.0.1:${port1}`]);
    others.push(killed.g);
    await src.q.execute("migrate", { uri: `tcp:127.0.0.1:${port1}` });
    await new Promise((r) => setTimeout(r, 700));
    killed.g.kill();
    assert.equal(await migrationEnd(src.q), "failed");
    const info = (await src.q.execute("query-migrate")) as Record<string, unknown>;
    assert.equal(info.status, "failed");
    assert.match(String(info["error-desc"]), /.+/);
    await assertRunsOn(src);

    // The connection is cut: the destination sees a truncated stream and says so in one line.
    const port2 = nextPort++;
    const cut = await start("fail-dst2", ["--incoming", `tcp:127.0.0.1:${port2}`]);
    others.push(cut.g);
    const sockets: Socket[] = [];
    proxy = createServer((a) => {
      const b = connect(port2, "127.0.0.1");
      sockets.push(a, b);
      a.pipe(b);
      b.pipe(a);
      a.on("error", () => b.destroy());
      b.on("error", () => a.destroy());
    });
    const proxyPort = nextPort++;
    await new Promise<void>((r) => proxy!.listen(proxyPort, "127.0.0.1", r));
    await src.q.execute("migrate", { uri: `tcp:127.0.0.1:${proxyPort}` });
    await new Promise((r) => setTimeout(r, 700));
    for (const s of sockets) s.destroy();
    assert.equal(await migrationEnd(src.q), "failed");
    await assertOneLineError(cut.g, /load of migration failed: .*(truncated|ends)/);
    await assertRunsOn(src);

    // And the source can still migrate afterwards: to a file, completely.
    await src.q.execute("migrate-set-parameters", { "max-bandwidth": 0 });
    await src.q.execute("migrate", { uri: `file:${join(dir, "after-failures.ckpt")}` });
    assert.equal(await migrationEnd(src.q), "completed");
    await src.q.execute("quit");
    assert.equal(await src.g.exited, 0);
  } finally {
    proxy?.close();
    src.g.kill();
    for (const g of others) g.kill();
  }
});

test("--incoming refuses a truncated, corrupted or foreign checkpoint with one line", { timeout: 300_000 }, async () => {
  const file = join(dir, "good.ckpt");
  const src = await booted("file-src");
  try {
    await src.q.execute("stop");
    await src.q.execute("migrate", { uri: `file:${file}` });
    assert.equal(await migrationEnd(src.q), "completed");
    await src.q.execute("quit");
    assert.equal(await src.g.exited, 0);
  } finally {
    src.g.kill();
  }
  const good = readFileSync(file);
  const variants: [string, Buffer, RegExp, string[]][] = [
    ["truncated", good.subarray(0, Math.floor(good.length / 2)), /truncated|ends in the middle/, MEMORY],
    ["corrupted", flipped(good, Math.floor(good.length / 2)), /CRC-32|corrupted/, MEMORY],
    ["not a checkpoint", Buffer.from("hello, world\n"), /not a tsxi migration stream/, MEMORY],
    ["other hardware", good, /the saved VM had 268435456 bytes of RAM, this VM has 134217728/, ["-m", "128M"]],
  ];
  for (const [name, bytes, pattern, mem] of variants) {
    const path = join(dir, `${name.replace(/\W/g, "-")}.ckpt`);
    writeFileSync(path, bytes);
    const g = new GuestConsole([...mem, "--incoming", `file:${path}`]);
    try {
      await assertOneLineError(g, pattern);
    } finally {
      g.kill();
    }
  }
});
