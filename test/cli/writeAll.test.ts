// Console output when standard output is a non-blocking pipe whose reader
// falls behind (as under the platform tests' GuestConsole): nothing lost,
// nothing reordered, no EAGAIN.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const MODULE = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), "..", "..", "src", "cli", "writeAll.js")).href;

test("writeAll waits for a stalled reader instead of failing with EAGAIN", async () => {
  // Once Node has opened process.stdout over a socket pair, fd 1 is non-blocking (as the platform tests found it in `tsxi run`).
  const code = `
    void process.stdout;
    import(${JSON.stringify(MODULE)}).then(({ writeAll }) => {
      for (let k = 0; k < 20000; k++) writeAll(1, Uint8Array.of(k & 0xff));
      process.exit(0);
    });`;
  const child = spawn(process.execPath, ["-e", code], { stdio: ["pipe", "pipe", "pipe"] });
  const chunks: Buffer[] = [];
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  child.stdout.pause();
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  await new Promise((resolve) => setTimeout(resolve, 500));
  child.stdout.on("data", (d: Buffer) => chunks.push(d));
  child.stdout.resume();
  assert.equal(await exited, 0, stderr);
  const out = Buffer.concat(chunks);
  assert.equal(out.length, 20000);
  assert.ok(out.every((b, k) => b === (k & 0xff)));
});
