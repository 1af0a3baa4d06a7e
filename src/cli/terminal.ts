/**
 * The guest console on the user's terminal: raw mode when stdin is a TTY,
 * and QEMU's escape sequences — Ctrl-A X quits, Ctrl-A C is not a monitor
 * here, Ctrl-A Ctrl-A sends a literal Ctrl-A, Ctrl-A H prints help.
 */
import { writeSync } from "node:fs";

const CTRL_A = 0x01;

export interface Terminal {
  /** Stops reading and restores the terminal. */
  close(): void;
}

export function attachTerminal(input: (bytes: Uint8Array) => void, quit: () => void): Terminal {
  const stdin = process.stdin;
  const raw = stdin.isTTY === true;
  if (raw) stdin.setRawMode(true);
  let escape = false;
  const onData = (chunk: Buffer): void => {
    const out: number[] = [];
    for (const b of chunk) {
      if (escape) {
        escape = false;
        if (b === 0x78 || b === 0x58) {
          quit();
          return;
        }
        if (b === CTRL_A) out.push(CTRL_A);
        else if (b === 0x68 || b === 0x48) writeSync(2, "\r\nC-a x    exit tsxi\r\nC-a C-a  send C-a\r\n");
        continue;
      }
      if (b === CTRL_A && raw) escape = true;
      else out.push(b);
    }
    if (out.length > 0) input(Uint8Array.from(out));
  };
  stdin.on("data", onData);
  stdin.resume();
  return {
    close() {
      stdin.off("data", onData);
      stdin.pause();
      if (raw) stdin.setRawMode(false);
    },
  };
}
