/**
 * QEMU's migration URIs, as `migrate` and `--incoming` take them:
 * tcp:HOST:PORT (HOST may be empty for every address, or [IPv6]) and file:PATH.
 */
import type { MigrationUri } from "../vmm/vmx/protocol.js";

export function parseMigrationUri(s: string): MigrationUri {
  if (s.startsWith("file:")) {
    if (s.length === 5) throw new Error("migration URI 'file:' needs a path");
    return { kind: "file", path: s.slice(5) };
  }
  const tcp = /^tcp:(\[[^\]]+\]|[^:]*):(\d+)$/.exec(s);
  if (tcp !== null) {
    const port = Number(tcp[2]);
    if (port < 1 || port > 65535) throw new Error(`migration URI '${s}': port ${port} is not 1 to 65535`);
    const host = tcp[1].startsWith("[") ? tcp[1].slice(1, -1) : tcp[1];
    return { kind: "tcp", host: host === "" ? "0.0.0.0" : host, port };
  }
  throw new Error(`migration URI '${s}' is not tcp:HOST:PORT or file:PATH`);
}
