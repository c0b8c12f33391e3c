// Diagnostic: summarises a V8 .cpuprofile (node --cpu-prof, or node:inspector's Profiler.stop) as self and
// inclusive time by function, by file and by package.
//
//   npx tsx bench/cpuprofile-summary.ts FILE.cpuprofile [top=25]
import { readFileSync } from "node:fs";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Where a frame's code lives: a node_modules package, node's own modules, this repo's directory, or V8. */
export function packageOf(url: string): string {
  if (url === "") return "(v8/native)";
  if (url.startsWith("node:")) return `node:${url.slice(5).split("/")[0] === "internal" ? url.slice(5).split("/").slice(0, 2).join("/") : url.slice(5)}`;
  const nm = url.lastIndexOf("/node_modules/");
  if (nm >= 0) {
    const rest = url.slice(nm + "/node_modules/".length).split("/");
    return rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  const src = url.indexOf("/src/");
  if (src >= 0) return `src/${url.slice(src + 5).split("/")[0]}`;
  const bench = url.indexOf("/bench/");
  if (bench >= 0) return "bench";
  return url;
}

function shortFile(url: string): string {
  if (url === "") return "(native)";
  const nm = url.lastIndexOf("/node_modules/");
  if (nm >= 0) return url.slice(nm + 14);
  const m = /\/(src|bench)\/.*$/.exec(url);
  return m ? m[0].slice(1) : url.replace(/^file:\/\//, "");
}

export function summarise(profile: CpuProfile, top: number): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const fnKey = (f: CallFrame) => `${f.functionName || "(anonymous)"} ${shortFile(f.url)}:${f.lineNumber + 1}`;
  const tables = {
    function: { self: new Map<string, number>(), total: new Map<string, number>() },
    file: { self: new Map<string, number>(), total: new Map<string, number>() },
    package: { self: new Map<string, number>(), total: new Map<string, number>() },
  };
  const keysOf = (f: CallFrame) => ({ function: fnKey(f), file: shortFile(f.url), package: packageOf(f.url) });
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
  let all = 0;
  let idle = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0; // a sample's time is the gap to the next
    const leaf = byId.get(profile.samples[i] as number);
    if (leaf === undefined) continue;
    all += dt;
    if (leaf.callFrame.functionName === "(idle)") {
      idle += dt;
      continue;
    }
    const leafKeys = keysOf(leaf.callFrame);
    for (const kind of ["function", "file", "package"] as const) add(tables[kind].self, leafKeys[kind], dt);
    const seen = { function: new Set<string>(), file: new Set<string>(), package: new Set<string>() };
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
      const node = byId.get(id);
      if (node === undefined) break;
      const keys = keysOf(node.callFrame);
      for (const kind of ["function", "file", "package"] as const) {
        if (seen[kind].has(keys[kind])) continue;
        seen[kind].add(keys[kind]);
        add(tables[kind].total, keys[kind], dt);
      }
    }
  }
  const busy = all - idle;
  const ms = (us: number) => (us / 1_000).toFixed(1).padStart(8);
  const pct = (us: number) => `${((100 * us) / Math.max(1, busy)).toFixed(1).padStart(5)}%`;
  const lines = [`sampled ${ms(all)} ms, idle ${ms(idle)} ms, busy ${ms(busy)} ms (percentages are of busy time)`];
  for (const kind of ["package", "file", "function"] as const) {
    const n = kind === "package" ? top : top;
    lines.push("", `== self time by ${kind}`);
    for (const [k, v] of [...tables[kind].self].sort((a, b) => b[1] - a[1]).slice(0, n)) lines.push(`${ms(v)} ms ${pct(v)}  ${k}`);
    lines.push("", `== inclusive time by ${kind}`);
    for (const [k, v] of [...tables[kind].total].sort((a, b) => b[1] - a[1]).slice(0, n)) lines.push(`${ms(v)} ms ${pct(v)}  ${k}`);
  }
  return lines.join("\n");
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].split("/").pop() ?? "")) {
  const file = process.argv[2];
  if (file === undefined) throw new Error("usage: cpuprofile-summary.ts FILE.cpuprofile [top]");
  console.log(summarise(JSON.parse(readFileSync(file, "utf8")) as CpuProfile, Number(process.argv[3] ?? 25)));
}
