// Bearer tokens for calls that change state at run time (the simulated network's fault switching). The token comes
// from -adminToken (the value, or a file holding it); compared in constant time so that response timing reveals
// nothing of it. It is never logged: only the path of a generated token's file is.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Shorter tokens are refused: they could be guessed. */
export const MIN_TOKEN_LENGTH = 16;

/** -adminToken: if it names a file, the file's whitespace-trimmed contents; otherwise the value itself. */
export async function resolveAdminToken(value: string): Promise<string> {
  let token = value;
  try {
    if ((await stat(value)).isFile()) token = (await readFile(value, "utf8")).trim();
  } catch {
    // not a file: the value is the token
  }
  if (token.length < MIN_TOKEN_LENGTH || /\s/.test(token)) {
    throw new Error(`-adminToken must be at least ${MIN_TOKEN_LENGTH} characters without spaces (or a file holding such a token)`);
  }
  return token;
}

/** A random token written to a new private file (mode 0600); returns both. */
export async function generateAdminToken(): Promise<{ token: string; path: string }> {
  const token = randomBytes(24).toString("base64url");
  const dir = await mkdtemp(join(tmpdir(), "livepeer-gateway-"));
  const path = join(dir, "admin-token");
  await writeFile(path, `${token}\n`, { mode: 0o600 });
  return { token, path };
}

/** Whether an Authorization header carries `Bearer <token>`, compared in constant time. */
export function bearerMatches(authorization: string | undefined, token: string): boolean {
  const match = /^Bearer +(\S+)\s*$/i.exec(authorization ?? "");
  if (!match) return false;
  const digest = (text: string) => createHash("sha256").update(text).digest();
  return timingSafeEqual(digest(match[1] as string), digest(token));
}
