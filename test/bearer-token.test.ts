// -adminToken: read from a value or a file, refused when too short, and compared as a bearer credential.
import { mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { bearerMatches, generateAdminToken, resolveAdminToken } from "../src/api/bearer-token.js";

describe("admin bearer token", () => {
  it("takes the value itself, or a file's trimmed contents", async () => {
    expect(await resolveAdminToken("a-long-enough-token-123")).toBe("a-long-enough-token-123");
    const path = join(await mkdtemp(join(tmpdir(), "token-")), "token");
    await writeFile(path, "  from-a-file-0123456789\n");
    expect(await resolveAdminToken(path)).toBe("from-a-file-0123456789");
  });

  it("refuses a short token or one with spaces, naming the flag and never echoing the value", async () => {
    for (const bad of ["short", "has a space in it 123"]) {
      const err = (await resolveAdminToken(bad).catch((e: unknown) => e)) as Error;
      expect(err.message).toMatch(/-adminToken must be at least 16 characters/);
      expect(err.message).not.toContain(bad);
    }
  });

  it("generates a token into a private file and matches only 'Bearer <token>'", async () => {
    const { token, path } = await generateAdminToken();
    expect((await readFile(path, "utf8")).trim()).toBe(token);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(bearerMatches(`Bearer ${token}`, token)).toBe(true);
    expect(bearerMatches(`bearer ${token}`, token)).toBe(true);
    expect(bearerMatches(token, token)).toBe(false);
    expect(bearerMatches(`Bearer ${token}x`, token)).toBe(false);
    expect(bearerMatches(undefined, token)).toBe(false);
  });
});
