/**
 * Drives a guest over its console: starts `tsxi run` as a child process with
 * piped stdio (no raw mode), waits for output patterns, types commands and
 * collects what the guest printed between prompts.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { join } from "node:path";
import { REPO } from "./guest.js";

export const CLI = join(REPO, "dist", "src", "cli", "main.js");

export class GuestConsole {
  private readonly child: ChildProcessWithoutNullStreams;
  private out = "";
  private consumed = 0;
  readonly exited: Promise<number | null>;
  stderr = "";

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [CLI, "run", ...args], { stdio: ["pipe", "pipe", "pipe"] });
    this.child.stdout.setEncoding("latin1");
    this.child.stdout.on("data", (s: string) => {
      this.out += s;
    });
    this.child.stderr.setEncoding("latin1");
    this.child.stderr.on("data", (s: string) => {
      this.stderr += s;
    });
    this.exited = new Promise((resolve) => this.child.on("exit", (code) => resolve(code)));
  }

  /** Everything the guest printed so far. */
  get output(): string {
    return this.out;
  }

  /** Waits until the output after the last match contains `pattern`; returns the text up to and including it. */
  async expect(pattern: string | RegExp, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rest = this.out.slice(this.consumed);
      const m = typeof pattern === "string" ? (rest.includes(pattern) ? { index: rest.indexOf(pattern), 0: pattern } : null) : pattern.exec(rest);
      if (m !== null) {
        const end = (m.index ?? 0) + m[0].length;
        this.consumed += end;
        return rest.slice(0, end);
      }
      if (this.child.exitCode !== null) throw new Error(`guest exited (${this.child.exitCode}) before printing ${String(pattern)}; stderr: ${this.stderr}; last output: ${rest.slice(-2000)}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${String(pattern)}; last output: ${rest.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  type(text: string): void {
    this.child.stdin.write(text);
  }

  /**
   * Runs a shell command and returns its output. The output is framed by two
   * markers that the shell prints; the typed line spells them with an empty
   * quote pair inside ("__a""b"), so the terminal's echo of the command (which
   * may wrap) never matches them.
   */
  async run(command: string, timeoutMs = 60_000): Promise<string> {
    const m = `__tsxi_${Math.random().toString(36).slice(2)}_`;
    this.type(`echo "${m}""start"; ${command}; echo "${m}""end" $?\n`);
    await this.expect(new RegExp(`${m}start\\r?\\n`), timeoutMs);
    const text = (await this.expect(new RegExp(`${m}end \\d+\\r?\\n`), timeoutMs)).replace(/\r/g, "");
    const at = text.lastIndexOf(`${m}end `);
    // eslint-disable-next-line no-control-regex
    const out = text.slice(0, at).replace(/\x1b\[[0-9;]*[A-Za-z]/g, "").replace(/\n$/, "");
    const status = text.slice(at + m.length + 4).trim();
    if (status !== "0") throw new Error(`guest command '${command}' exited with status ${status}: ${out}`);
    return out;
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill("SIGKILL");
  }
}
