/**
 * Splits a stream of text into JSON values, as QMP reads its input: values
 * may arrive in pieces or several in one chunk, with or without newlines.
 * A value is complete when its braces and brackets balance outside strings.
 * Input that cannot be JSON gives an error item (QEMU's "JSON parse error")
 * and is dropped; one value is bounded in size so a client cannot make the
 * host buffer without end.
 */

/** Largest JSON value accepted, in characters. */
const MAX_VALUE = 1 << 20;

export interface JsonItem {
  json?: unknown;
  error?: string;
}

export class JsonSplitter {
  private buf = "";
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** The value being read was too long: its rest is scanned to find its end, and dropped. */
  private discarding = false;

  push(text: string): JsonItem[] {
    const out: JsonItem[] = [];
    for (const ch of text) {
      if (this.depth === 0 && !this.inString) {
        if (ch === " " || ch === "\t" || ch === "\r" || ch === "\n") continue;
        if (ch !== "{" && ch !== "[") {
          out.push({ error: "JSON parse error, expecting value" });
          continue;
        }
      }
      if (!this.discarding) this.buf += ch;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (ch === "\\") this.escaped = true;
        else if (ch === '"') this.inString = false;
      } else if (ch === '"') this.inString = true;
      else if (ch === "{" || ch === "[") this.depth++;
      else if (ch === "}" || ch === "]") {
        if (--this.depth === 0) {
          if (this.discarding) this.reset();
          else out.push(this.take());
        }
      }
      if (this.buf.length > MAX_VALUE) {
        // Not a reset: what follows is still inside this value, not input of its own.
        this.buf = "";
        this.discarding = true;
        out.push({ error: `JSON parse error, value longer than ${MAX_VALUE} characters` });
      }
    }
    return out;
  }

  private take(): JsonItem {
    const text = this.buf;
    this.reset();
    try {
      return { json: JSON.parse(text) };
    } catch (e) {
      return { error: `JSON parse error, ${(e as Error).message}` };
    }
  }

  private reset(): void {
    this.buf = "";
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
    this.discarding = false;
  }
}
