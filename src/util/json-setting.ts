// A flag whose value is JSON, written inline or kept in a file (go-livepeer's -maxPricePerCapability convention).
import { readFileSync } from "node:fs";
import { parseExactJson, type ExactJson } from "./exact-json.js";

/**
 * The JSON a flag holds. A value starting with "{" or "[" is the JSON itself; anything else is the path of a file
 * holding it. Unlike go-livepeer's ReadFromFile, a path that cannot be read is an error rather than being parsed
 * as JSON, and malformed JSON is an error rather than a log line. Numbers keep their exact text.
 */
export function readJsonSetting(value: string, flag: string): ExactJson {
  const trimmed = value.trim();
  const inline = trimmed.startsWith("{") || trimmed.startsWith("[");
  let text = trimmed;
  if (!inline) {
    try {
      text = readFileSync(trimmed, "utf8").replace(/^\uFEFF/, "");
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new Error(`${flag}: ${JSON.stringify(trimmed)} is neither inline JSON nor a readable file (${reason})`);
    }
  }
  try {
    return parseExactJson(text);
  } catch (error) {
    const where = inline ? "" : ` in file ${JSON.stringify(trimmed)}`;
    throw new Error(`${flag}: invalid JSON${where}: ${(error as Error).message}`);
  }
}
