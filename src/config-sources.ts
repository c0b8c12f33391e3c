// Where settings come from besides the command line, go-livepeer style: LP_<FLAG> environment variables
// (LP_ORCHADDR, LP_ETHPASSWORD) and a -config file, with flags > environment > file.
//
// The file is JSON or YAML with flag names as keys ({"orchAddr": ["a:8935", "b:8935"], "maxPricePerCapability":
// {...}}), or go-livepeer's own plain format, one "flagName value" per line. Lists are joined with commas; objects
// (ceilings, retry profiles, regions) are passed on as inline JSON.
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { similarNames } from "./util/similar-names.js";

/** LP_<FLAG> values, for the flags that are set in the environment. */
export function environmentValues(flagNames: readonly string[], env: NodeJS.ProcessEnv): Map<string, string> {
  const values = new Map<string, string>();
  for (const name of flagNames) {
    const value = env[`LP_${name.toUpperCase()}`];
    if (value !== undefined && value !== "") values.set(name, value);
  }
  return values;
}

/** The settings of a -config file. Throws an Error naming the file and the entry that is wrong. */
export function configFileValues(path: string, flagNames: readonly string[], booleanFlags: ReadonlySet<string>): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new Error(`-config ${JSON.stringify(path)}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const where = `-config ${path}`;
  const entries = structuredEntries(text, where) ?? plainEntries(text, booleanFlags);
  const known = new Set(flagNames);
  const values = new Map<string, string>();
  for (const [key, value] of entries) {
    if (key === "config") throw new Error(`${where}: a config file cannot name another one ("config")`);
    if (!known.has(key)) {
      const similar = similarNames(key, flagNames);
      throw new Error(`${where}: unknown setting "${key}"${similar.length > 0 ? `; did you mean ${similar.map((s) => `"${s}"`).join(", ")}?` : ""}`);
    }
    values.set(key, settingText(value, `${where}: "${key}"`));
  }
  return values;
}

/** JSON or YAML mapping; undefined when the text is neither a mapping nor empty (then it is the plain format). */
function structuredEntries(text: string, where: string): Array<[string, unknown]> | undefined {
  let parsed: unknown;
  try {
    parsed = parseYaml(text); // YAML 1.2 reads JSON too
  } catch (err) {
    if (/^\s*[{[]/.test(text)) throw new Error(`${where}: not valid JSON or YAML: ${(err as Error).message.split("\n")[0]}`);
    return undefined;
  }
  if (parsed === null || parsed === undefined) return [];
  if (typeof parsed === "object" && !Array.isArray(parsed)) return Object.entries(parsed as Record<string, unknown>);
  if (Array.isArray(parsed)) throw new Error(`${where}: must be a mapping of setting names to values, not a list`);
  return undefined;
}

/** go-livepeer's plain format: "name value" per line, "name" alone for a boolean, "#" comments. */
function plainEntries(text: string, booleanFlags: ReadonlySet<string>): Array<[string, unknown]> {
  const entries: Array<[string, unknown]> = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const space = line.search(/\s/);
    const name = space < 0 ? line : line.slice(0, space);
    const value = space < 0 ? (booleanFlags.has(name) ? "true" : "") : line.slice(space + 1).trim();
    entries.push([name.replace(/^--?/, ""), value]);
  }
  return entries;
}

function settingText(value: unknown, what: string): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) {
    if (!value.every((item) => typeof item === "string" || typeof item === "number")) throw new Error(`${what}: a list must hold strings or numbers`);
    return value.join(",");
  }
  if (value !== null && typeof value === "object") return JSON.stringify(value);
  throw new Error(`${what}: has no value`);
}
