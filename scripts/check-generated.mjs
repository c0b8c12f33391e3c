// Fails when src/gen is not exactly what `buf generate` writes from proto/ now.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

function listFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

const out = mkdtempSync(join(tmpdir(), "gen-check-"));
try {
  execFileSync("buf", ["generate", "-o", out], { stdio: "inherit" });
  const fresh = join(out, "src/gen");
  const freshFiles = listFiles(fresh).map((f) => relative(fresh, f)).sort();
  const committedFiles = listFiles("src/gen").map((f) => relative("src/gen", f)).sort();
  const stale = [
    ...freshFiles.filter((f) => !committedFiles.includes(f)).map((f) => `missing: src/gen/${f}`),
    ...committedFiles.filter((f) => !freshFiles.includes(f)).map((f) => `not generated: src/gen/${f}`),
    ...freshFiles
      .filter((f) => committedFiles.includes(f))
      .filter((f) => !readFileSync(join(fresh, f)).equals(readFileSync(join("src/gen", f))))
      .map((f) => `differs: src/gen/${f}`),
  ];
  if (stale.length > 0) {
    console.error(`src/gen is stale; run npm run generate and commit:\n  ${stale.join("\n  ")}`);
    process.exit(1);
  }
  console.log(`src/gen is current (${freshFiles.length} files)`);
} finally {
  rmSync(out, { recursive: true, force: true });
}
