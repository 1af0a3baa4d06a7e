// Suspend to a file and resume in a new process (issue 13): Debian 13's
// stock kernel, with its modules from the initramfs, a virtio disk and a
// virtio NIC, runs a deterministic CPU, memory, disk and network workload;
// mid-workload QMP stops the VM, saves it with `migrate file:` and quits; a
// new `tsxi run --incoming file:` finishes the workload, whose results must
// be the ones computed here (in TypeScript, without the emulator), printed
// and on the disk; the guest's log must show no RCU stall and no clocksource
// trouble. With the built-in SBI and with OpenSBI, on 1 and 4 harts.
// Slow: run with `npm run test:slow`.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { createServer, type AddressInfo, type Server } from "node:net";
import { rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { GuestConsole } from "../test/support/guestConsole.js";
import { QmpClient } from "../test/support/qmpClient.js";
import { debianArgs, ext4Disk, FIRMWARES, SHELL_READY, work } from "./support/debian.js";

/** Rounds each worker runs; the VM is saved once worker 0 has finished SAVE_AFTER of them. */
const ROUNDS = 12;
const SAVE_AFTER = 5;
/** Numbers generated per round and bytes of memory ballast on the disk, shared out between the workers. */
const LINES = 4000;
const BALLAST = 8 << 20;
/** How long the VM stays saved between the two processes. */
const DOWNTIME_MS = 25_000;
/** Bytes each worker fetches from the test over the network. */
const SALT = 64 << 10;

/**
 * The workload, run as `sh wl.sh N ROUNDS LINES DIR PORT`. Worker w (pinned
 * to hart w) fills a memory buffer in tmpfs with a salt fetched from the
 * test over the network (10.0.2.2:PORT) and its ballast from the disk
 * (DIR/ballast/w), and hashes it; then each round it generates numbers from
 * a Park–Miller generator with awk into a file on the disk, syncs, drops the
 * page cache, hashes the file (read back from the disk), appends the file
 * and a transliteration of it to a second buffer in tmpfs, and chains a
 * hash over the previous hash and both buffers. Each round's hashes go to a
 * log on the disk (DIR/wl/w/log), the final hash and the memory buffer's
 * hash to a result file. Once every worker is done the results are printed
 * and sent to the test over the network. Progress lines carry the guest's
 * uptime.
 */
const WORKLOAD = `# slow/debianSuspend.test.ts's workload
set -e
if [ "$1" = worker ]; then
  w=$2 rounds=$3 lines=$4 d=$5/wl/w$w port=$6
  read u _ < /proc/uptime
  echo "wl: w$w s $u"
  mkdir -p $d
  m=/tmp/wl-mem$w buf=/tmp/wl-buf$w
  { echo "get $w ${SALT}" | nc 10.0.2.2 $port; cat $5/ballast/w$w; } > $m
  h=$(sha256sum < $m | cut -d' ' -f1)
  echo "m $h" > $d/log
  read u _ < /proc/uptime
  echo "wl: w$w m $u"
  : > $buf
  x=$((w * 7919 + 1)) r=1
  while [ $r -le $rounds ]; do
    f=$d/r$r
    awk -v x=$x -v n=$lines 'BEGIN { for (i = 0; i < n; i++) { x = (x * 16807) % 2147483647; printf "%d %08x %o\\n", x, x, x } }' > $f
    sync
    echo 1 > /proc/sys/vm/drop_caches
    x=$(tail -n 1 $f | cut -d' ' -f1)
    s=$(sha256sum < $f | cut -d' ' -f1)
    { cat $f; tr 0-9 a-j < $f; } >> $buf
    h=$({ echo $h; cat $buf $m; } | sha256sum | cut -d' ' -f1)
    echo "r$r $s $h" >> $d/log
    read u _ < /proc/uptime
    echo "wl: w$w r$r $u"
    r=$((r + 1))
  done
  echo "$h $(sha256sum < $m | cut -d' ' -f1)" > $d/result
  exit
fi
n=$1 w=0
while [ $w -lt $n ]; do
  taskset $(printf %x $((1 << w))) sh $0 worker $w $2 $(($3 / n)) $4 $5 &
  w=$((w + 1))
done
wait
sync
w=0
while [ $w -lt $n ]; do
  echo "wl-result w$w $(cat $4/wl/w$w/result) $(sha256sum < $4/wl/w$w/log | cut -d' ' -f1)"
  w=$((w + 1))
done > /tmp/wl-results
cat /tmp/wl-results
nc 10.0.2.2 $5 < /tmp/wl-results
echo wl-done
`;

const sha256 = (...parts: (string | Buffer)[]): string => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest("hex");
};

/** Bytes of a xorshift32 generator: the salt served to worker w (seed w) and its ballast on the disk (seed 1000 + w). */
function pattern(seed: number, bytes: number): Buffer {
  const b = Buffer.alloc(bytes);
  let s = (0x9e3779b9 ^ (seed + 1)) >>> 0;
  for (let i = 0; i < bytes; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    b[i] = s >>> 24;
  }
  return b;
}
const ballast = (w: number, workers: number): Buffer => pattern(1000 + w, BALLAST / workers);

interface Expected {
  /** Each round's file. */
  files: Buffer[];
  log: string;
  result: string;
  /** The line the workload prints and sends. */
  line: string;
}

/** What worker w of `workers` must compute: the workload above, in TypeScript. */
function expected(w: number, workers: number): Expected {
  const lines = LINES / workers;
  const m = Buffer.concat([pattern(w, SALT), ballast(w, workers)]);
  const mHash = sha256(m);
  let h = mHash;
  let log = `m ${h}\n`;
  const buf: Buffer[] = [];
  const files: Buffer[] = [];
  let x = w * 7919 + 1;
  for (let r = 1; r <= ROUNDS; r++) {
    let text = "";
    for (let i = 0; i < lines; i++) {
      x = (x * 16807) % 2147483647; // < 2^46: exact in a double, as in awk
      text += `${x} ${x.toString(16).padStart(8, "0")} ${x.toString(8)}\n`;
    }
    const file = Buffer.from(text, "latin1");
    files.push(file);
    buf.push(file, Buffer.from(text.replace(/[0-9]/g, (d) => String.fromCharCode(d.charCodeAt(0) + 49)), "latin1"));
    h = sha256(`${h}\n`, ...buf, m);
    log += `r${r} ${sha256(file)} ${h}\n`;
  }
  const result = `${h} ${mHash}\n`;
  return { files, log, result, line: `wl-result w${w} ${h} ${mHash} ${sha256(log)}` };
}

/**
 * The test's end of the workload's network traffic (10.0.2.2:port in the
 * guest): "get W BYTES" answers worker W's salt; anything else is the
 * workload's results, kept in `received`.
 */
class WorkloadServer {
  readonly server: Server;
  received: string[] = [];

  constructor() {
    this.server = createServer((c) => {
      let got = Buffer.alloc(0);
      let answered = false;
      c.on("error", () => undefined);
      c.on("data", (d: Buffer) => {
        got = Buffer.concat([got, d]);
        const text = got.toString("latin1");
        const get = /^get (\d+) (\d+)\n/.exec(text);
        if (get !== null && !answered) {
          answered = true;
          c.end(pattern(Number(get[1]), Number(get[2])));
        }
      });
      c.on("end", () => {
        if (!answered) this.received.push(got.toString("latin1"));
        c.end();
      });
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return (this.server.address() as AddressInfo).port;
  }

  close(): void {
    this.server.close();
  }
}

/** The guest's log must show none of these. */
const BAD_LOG = [
  /rcu.{0,20}stall/i,
  /rcu: INFO/,
  /timekeeping watchdog/i,
  /clocksource.{0,60}unstable/i,
  /Marking clocksource/i,
  /clocksource watchdog/i,
  /soft lockup/i,
  /blocked for more than/,
];

function assertCleanLog(where: string, text: string): void {
  for (const re of BAD_LOG) {
    const m = re.exec(text);
    if (m !== null) {
      const line = text.slice(text.lastIndexOf("\n", m.index) + 1, text.indexOf("\n", m.index));
      assert.fail(`${where} shows ${re}: ${line}`);
    }
  }
}

/** A file's contents from an ext4 image, read on the host (debugfs, e2fsprogs). */
function readExt4(image: string, path: string): Buffer {
  return execFileSync("debugfs", ["-R", `cat ${path}`, image], { stdio: ["ignore", "pipe", "ignore"], maxBuffer: 64 << 20 });
}

/** Types a file into the guest in base64 pieces (the UART takes a few KiB of input at a time). */
async function upload(g: GuestConsole, path: string, text: string): Promise<void> {
  const b64 = Buffer.from(text).toString("base64");
  await g.run(`rm -f ${path}.b64`);
  for (let at = 0; at < b64.length; at += 512) await g.run(`echo ${b64.slice(at, at + 512)} >> ${path}.b64`);
  await g.run(`base64 -d ${path}.b64 > ${path}`);
  assert.equal((await g.run(`sha256sum < ${path} | cut -d' ' -f1`)).trim(), sha256(text));
}

async function suspendResume(t: TestContext, firmware: readonly string[], smp: number, tag: string): Promise<void> {
  const want = Array.from({ length: smp }, (_, w) => expected(w, smp));
  const disk = ext4Disk(`suspend-${tag}`, "64M", Object.fromEntries(want.map((_, w) => [`ballast/w${w}`, ballast(w, smp)])));
  const checkpoint = join(work, `suspend-${tag}.ckpt`);
  rmSync(checkpoint, { force: true });
  const qmpPath = join(work, `qmp-${tag}.sock`);
  const net = new WorkloadServer();
  const port = await net.listen();
  const args = [
    ...debianArgs({ smp, firmware }), "--drive", `file=${disk},format=raw`, "--netdev", "user",
    "--qmp", `unix:${qmpPath},server=on,wait=off`,
  ];
  let g = new GuestConsole(args);
  let qmp: QmpClient | undefined;
  let before = "";
  try {
    // First process: boot, start the workload, save it mid-way, quit.
    qmp = await QmpClient.connect(qmpPath);
    await qmp.execute("migrate-set-capabilities", { capabilities: [{ capability: "events", state: true }] });
    await g.expect(SHELL_READY, 400_000);
    assert.equal((await g.run("grep -c ^processor /proc/cpuinfo")).trim(), String(smp));
    await g.run("mount -t ext4 /dev/vda /mnt");
    await g.run("echo 4 > /proc/sys/vm/drop_caches"); // once: later drops print nothing
    await upload(g, "/tmp/wl.sh", WORKLOAD);
    g.type(`sh /tmp/wl.sh ${smp} ${ROUNDS} ${LINES} /mnt ${port} &\n`);
    const started = Date.now();
    const last = await g.expect(new RegExp(`wl: w0 r${SAVE_AFTER} ([\\d.]+)\\r?\\n`), 600_000);
    const lastSeen = Date.now();
    const lastUptime = Number(/([\d.]+)\r?\n$/.exec(last)?.[1]);
    t.diagnostic(`${SAVE_AFTER} of ${ROUNDS} rounds in ${((lastSeen - started) / 1000).toFixed(1)} s`);
    await qmp.execute("stop");
    const stopped = Date.now();
    assert.deepEqual(await qmp.execute("query-status"), { status: "paused", singlestep: false, running: false });
    const saveStart = Date.now();
    await qmp.execute("migrate", { uri: `file:${checkpoint}` });
    const done = await qmp.event("MIGRATION", (d) => d?.status === "completed" || d?.status === "failed", 300_000);
    const saveMs = Date.now() - saveStart;
    assert.equal(done.data?.status, "completed", `migration ended ${JSON.stringify(await qmp.execute("query-migrate"))}`);
    const info = (await qmp.execute("query-migrate")) as { status: string; "total-time": number };
    assert.equal(info.status, "completed");
    assert.equal(((await qmp.execute("query-status")) as { status: string }).status, "postmigrate");
    await qmp.execute("quit");
    assert.equal(await g.exited, 0, `first process: ${g.stderr}`);
    qmp.close();
    qmp = undefined;
    before = g.output;
    assert.ok(!before.includes("wl-done"), "the workload finished before the save");
    const bytes = statSync(checkpoint).size;
    t.diagnostic(`save: ${saveMs} ms (query-migrate total-time ${info["total-time"]} ms), checkpoint ${(bytes / (1 << 20)).toFixed(1)} MiB`);

    // The suspended VM stays on the disk for longer than RCU's stall timeout (21 s): a guest clock that ran on
    // through the downtime would show as a jump of uptime (checked below) and as an RCU stall.
    await new Promise((r) => setTimeout(r, DOWNTIME_MS));

    // Second process: restore and finish.
    const restoreStart = Date.now();
    g = new GuestConsole([...args, "--incoming", `file:${checkpoint}`]);
    qmp = await QmpClient.connect(qmpPath);
    // RESUME comes once the state is in; if the VM already runs when QMP first answers, the time is an upper bound.
    const status = ((await qmp.execute("query-status")) as { status: string }).status;
    if (status === "inmigrate") await qmp.event("RESUME", undefined, 300_000);
    else assert.equal(status, "running");
    const restoreMs = Date.now() - restoreStart;
    t.diagnostic(`restore: ${restoreMs} ms from process start to RESUME${status === "inmigrate" ? "" : " (at most: already running when QMP first answered)"}`);
    // Guest time across the save runs on from where it stood: it advances by no more than the host's running time.
    const first = await g.expect(/wl: w\d+ \w+ ([\d.]+)\r?\n/, 600_000);
    const running = (stopped - lastSeen + Date.now() - restoreStart) / 1000;
    const guest = Number(/([\d.]+)\r?\n$/.exec(first)?.[1]) - lastUptime;
    t.diagnostic(`guest uptime across the save: +${guest.toFixed(2)} s for at most ${running.toFixed(2)} s of running (${((restoreStart - stopped) / 1000).toFixed(1)} s stopped)`);
    assert.ok(guest <= running + 1, `the guest's clock jumped by ${guest.toFixed(2)} s across the save, running at most ${running.toFixed(2)} s`);
    const finished = await g.expect(/wl-done\r?\n/, 900_000);
    t.diagnostic(`the restored VM finished the workload ${((Date.now() - restoreStart) / 1000).toFixed(1)} s after its process started`);
    const after = g.output;
    assert.doesNotMatch(after, /wl: w0 r1 /, "the restored VM started the workload again");
    assert.match(after, new RegExp(`wl: w0 r${ROUNDS} `));
    const progress = (text: string): string => [...text.matchAll(/wl: w(\d+) (\w+) ([\d.]+)/g)].map((m) => `w${m[1]} ${m[2]} ${m[3]}`).join(", ");
    t.diagnostic(`progress (worker, start/memory/round, guest uptime) before the save: ${progress(before)}; after the restore: ${progress(after)}`);
    for (const w of want) assert.ok(finished.includes(w.line + "\n") || finished.includes(w.line + "\r\n"), `printed results lack '${w.line}': ${finished.slice(-2000)}`);
    assert.deepEqual(net.received.map((s) => s.trim()), [want.map((w) => w.line).join("\n")]);
    const dmesg = await g.run("dmesg");
    assertCleanLog("dmesg", dmesg);
    assertCleanLog("the console before the save", before);
    assertCleanLog("the console after the restore", after);
    await g.run("umount /mnt");
    g.type("poweroff\n");
    assert.equal(await g.exited, 0, `second process: ${g.stderr}`);
  } finally {
    qmp?.close();
    g.kill();
    net.close();
  }
  // The disk, read on the host.
  for (const [w, e] of want.entries()) {
    assert.equal(readExt4(disk, `/wl/w${w}/result`).toString("latin1"), e.result);
    assert.equal(readExt4(disk, `/wl/w${w}/log`).toString("latin1"), e.log);
    for (const [i, f] of e.files.entries()) assert.equal(sha256(readExt4(disk, `/wl/w${w}/r${i + 1}`)), sha256(f), `/wl/w${w}/r${i + 1}`);
  }
  rmSync(checkpoint, { force: true });
  rmSync(disk, { force: true });
}

for (const { name, args: firmware } of FIRMWARES) {
  for (const smp of [1, 4]) {
    test(`Debian guest saved mid-workload with migrate file: finishes it in a new process (${name}, ${smp} hart${smp > 1 ? "s" : ""})`, { timeout: 2_400_000 }, async (t) => {
      await suspendResume(t, firmware, smp, `${name.replace(/\W/g, "")}-${smp}`);
    });
  }
}
