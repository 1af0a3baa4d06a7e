/**
 * A QMP client for tests: connects to a Unix socket, negotiates
 * capabilities, sends commands and collects events, as QEMU's own
 * python/qemu/qmp does.
 */
import { connect, type Socket } from "node:net";

export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
  timestamp: { seconds: number; microseconds: number };
}

export class QmpClient {
  private buf = "";
  private readonly waiting: ((msg: Record<string, unknown>) => void)[] = [];
  readonly events: QmpEvent[] = [];
  greeting: Record<string, unknown> | undefined;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding("utf8");
    socket.on("data", (s: string) => {
      this.buf += s;
      for (let nl = this.buf.indexOf("\n"); nl >= 0; nl = this.buf.indexOf("\n")) {
        const line = this.buf.slice(0, nl).trim();
        this.buf = this.buf.slice(nl + 1);
        if (line === "") continue;
        const msg = JSON.parse(line) as Record<string, unknown>;
        if ("event" in msg) this.events.push(msg as unknown as QmpEvent);
        else if ("QMP" in msg) this.greeting = msg;
        else this.waiting.shift()?.(msg);
      }
    });
  }

  /** Connects (retrying while the server is not up yet) and negotiates capabilities. */
  static async connect(path: string, timeoutMs = 30_000): Promise<QmpClient> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const socket = await new Promise<Socket>((resolve, reject) => {
          const s = connect(path, () => resolve(s));
          s.once("error", reject);
        });
        const c = new QmpClient(socket);
        await c.execute("qmp_capabilities");
        return c;
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  /** Sends a raw line and returns the next reply. */
  raw(line: string): Promise<Record<string, unknown>> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.socket.write(line + "\n");
    });
  }

  /** Runs a command; resolves with its `return`, rejects with its error's description. */
  async execute(cmd: string, args?: Record<string, unknown>): Promise<unknown> {
    const reply = await this.raw(JSON.stringify(args === undefined ? { execute: cmd } : { execute: cmd, arguments: args }));
    if ("error" in reply) throw new Error((reply.error as { desc: string }).desc);
    return reply.return;
  }

  /** Waits for an event (optionally one whose data matches), returning it. */
  async event(name: string, match: (data: Record<string, unknown> | undefined) => boolean = () => true, timeoutMs = 60_000): Promise<QmpEvent> {
    const deadline = Date.now() + timeoutMs;
    let from = 0;
    for (;;) {
      for (; from < this.events.length; from++) {
        const e = this.events[from];
        if (e.event === name && match(e.data)) {
          this.events.splice(from, 1);
          return e;
        }
      }
      if (Date.now() > deadline) throw new Error(`no ${name} event within ${timeoutMs} ms (have: ${this.events.map((e) => e.event).join(", ")})`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}
