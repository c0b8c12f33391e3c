// What a gateway loads at start-up is memory it keeps (ethers' root entry alone is 24 MB of RSS): the gateway's
// modules load only the parts of ethers they use, and leave the simulated network and the on-chain modules
// (wallets, providers, contracts) to a gateway that runs them.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

async function modulesLoadedBy(entry: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "test/support/loaded-modules.mjs", entry], { timeout: 60_000 });
  return stdout.split("\n").filter((line) => line !== "");
}

describe("the gateway's modules", () => {
  it("load neither ethers' root entry, nor the simulator, nor the on-chain modules", async () => {
    const loaded = await modulesLoadedBy("src/gateway.ts");
    // The hook saw the gateway's own modules and the parts of ethers it uses.
    expect(loaded.some((url) => url.endsWith("/src/eth/identity.ts"))).toBe(true);
    expect(loaded.some((url) => url.includes("/ethers/lib.esm/address/"))).toBe(true);
    const unwanted = loaded.filter(
      (url) =>
        /\/ethers\/lib\.esm\/(ethers|index)\.js$/.test(url) ||
        /\/ethers\/lib\.esm\/(providers|wallet|contract|wordlists)\//.test(url) ||
        /\/src\/devnet\//.test(url) ||
        /\/src\/eth\/(keystore|chain|price-feed|onchain-payments)\.ts$/.test(url) ||
        /\/node_modules\/selfsigned\//.test(url),
    );
    expect(unwanted).toEqual([]);
  });
});
