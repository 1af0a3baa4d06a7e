// ESLint rule `tsxi/layers`: imports in src/ point down the layers of docs/architecture.md.
// A module may import its own layer and the layers below it; src/state/ is a leaf
// that every layer may import; src/types/ holds ambient declarations only. Type-only
// imports count too.
import { dirname, relative, resolve, sep } from "node:path";
import { fileURLToPath, URL } from "node:url";

const SRC = fileURLToPath(new URL("../src/", import.meta.url));

/** The layers each layer imports directly; what they import it may import too. */
const BELOW = {
  cli: ["vmm", "image"],
  vmm: ["devices", "firmware", "cpu"],
  firmware: ["cpu"],
  devices: ["modules", "memory"],
  modules: [],
  cpu: ["memory"],
  memory: ["vmkernel"],
  vmkernel: [],
  image: [],
  state: [],
  types: [],
};

/** Every layer below `layer`, transitively. */
function reachable(layer) {
  const out = new Set();
  const visit = (l) => {
    for (const d of BELOW[l] ?? []) {
      if (!out.has(d)) {
        out.add(d);
        visit(d);
      }
    }
  };
  visit(layer);
  return out;
}
const ALLOWED = Object.fromEntries(Object.keys(BELOW).map((l) => [l, reachable(l)]));

/** The layer of a path under src/ (its first folder), or undefined outside src/. */
function layerOf(path) {
  const rel = relative(SRC, path);
  if (rel.startsWith("..") || rel === "") return undefined;
  return rel.split(sep)[0];
}

export const layers = {
  meta: {
    type: "problem",
    docs: { description: "imports in src/ point down the layers (docs/architecture.md)" },
    schema: [],
    messages: {
      up: "src/{{from}} may not import src/{{to}}: imports point down the layers (docs/architecture.md, lint/layers.js)",
      unknown: "src/{{layer}} is not a layer of lint/layers.js: add it there and to docs/architecture.md",
    },
  },
  create(context) {
    const from = layerOf(context.filename);
    if (from === undefined) return {};
    if (!(from in BELOW)) {
      return { Program: (node) => context.report({ node, messageId: "unknown", data: { layer: from } }) };
    }
    const check = (node) => {
      const spec = node.source?.value;
      if (typeof spec !== "string" || !spec.startsWith(".")) return;
      const to = layerOf(resolve(dirname(context.filename), spec));
      if (to === undefined || to === from || to === "state" || ALLOWED[from].has(to)) return;
      context.report({ node: node.source, messageId: "up", data: { from, to } });
    };
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check, ImportExpression: check };
  },
};
