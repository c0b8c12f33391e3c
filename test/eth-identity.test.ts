import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encryptKeystoreJson, getAddress, getBytes, hexlify, toUtf8Bytes, Wallet, ZeroAddress } from "ethers";
import {
  type AddressedSigner,
  offchainIdentity,
  orchestratorRequestMessage,
  verifyOrchestratorRequest,
  walletIdentity,
} from "../src/eth/identity.js";
import { findKeyFile, KeystoreError, loadKeystoreWallet, resolvePassword } from "../src/eth/keystore.js";
import { SignatureError, verifyDigestSignature, verifyLivepeerSignature } from "../src/eth/signature.js";

// Hardhat accounts #0 and #1: public test keys, never real ones.
const KEY_0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const ADDRESS_0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
const KEY_1 = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const ADDRESS_1 = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
// Pinned in eth-signature.test.ts too: Sign(utf8(ADDRESS_0)) with KEY_0.
const ORCH_REQ_SIG_0 =
  "0x47d66008c2c5b0671b8e7b43b62245ae9c4ba5f6ff7e94328b68eb45090cb1080815dec67a20bdec15ce794c9ce271fa8e6552d6b0976ab7a0b92d5516b32ef31c";

const PASSWORD = "correct horse battery staple 7f3a";
const WRONG_PASSWORD = "Tr0ub4dor&3 wrong 91c2";

/** Everything an error could show in a log line, stack and own properties included. */
function everythingIn(err: unknown): string {
  const ownProperties = JSON.stringify(err, Object.getOwnPropertyNames(err));
  return `${String(err)}\n${inspect(err, { showHidden: true, depth: Infinity })}\n${ownProperties}`;
}

async function errorOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof Error) return err;
    throw err;
  }
  throw new Error("expected a rejection");
}

describe("off-chain identity", () => {
  it("is the zero address with an empty signature and no signer", () => {
    const identity = offchainIdentity();
    expect(identity.address).toBe(ZeroAddress);
    expect(identity.addressBytes).toEqual(new Uint8Array(20));
    expect(identity.orchestratorRequestSig).toHaveLength(0);
    expect(identity.signer).toBeUndefined();
  });

  it("would fail an on-chain orchestrator's check (it checks only when it has a chain)", () => {
    const identity = offchainIdentity();
    expect(() => verifyOrchestratorRequest(identity.addressBytes, identity.orchestratorRequestSig)).toThrow(
      /invalid signature length/,
    );
  });
});

describe("wallet identity", () => {
  it("signs the EIP-55 address string once and orchestrators accept it", async () => {
    const identity = await walletIdentity(new Wallet(KEY_0));
    expect(identity.address).toBe(ADDRESS_0);
    expect(identity.addressBytes).toEqual(getBytes(ADDRESS_0));
    expect(hexlify(identity.orchestratorRequestSig)).toBe(ORCH_REQ_SIG_0);
    expect(verifyOrchestratorRequest(identity.addressBytes, identity.orchestratorRequestSig)).toBe(ADDRESS_0);
    expect(() =>
      verifyLivepeerSignature(ADDRESS_0, toUtf8Bytes(ADDRESS_0), identity.orchestratorRequestSig),
    ).not.toThrow();
  });

  it("computes the OrchestratorRequest signature at start-up only", async () => {
    const wallet = new Wallet(KEY_1);
    let signatures = 0;
    const counting: AddressedSigner = {
      address: wallet.address,
      signMessage: (message) => {
        signatures += 1;
        return wallet.signMessage(message);
      },
    };
    const identity = await walletIdentity(counting);
    const first = identity.orchestratorRequestSig;
    expect(identity.orchestratorRequestSig).toBe(first);
    expect(signatures).toBe(1);
  });

  it("accepts the address bytes as go-ethereum's BytesToAddress reads them", async () => {
    const identity = await walletIdentity(new Wallet(KEY_0));
    const padded = new Uint8Array(32);
    padded.set(identity.addressBytes, 12);
    expect(verifyOrchestratorRequest(padded, identity.orchestratorRequestSig)).toBe(ADDRESS_0);
    expect(() => verifyOrchestratorRequest(getBytes(ADDRESS_1), identity.orchestratorRequestSig)).toThrow(
      SignatureError,
    );
  });

  it("signs messages (Sign over keccak) and ticket hashes (raw digest) with the gateway key", async () => {
    const { signer } = await walletIdentity(new Wallet(KEY_0));
    if (signer === undefined) throw new Error("a wallet identity has a signer");
    expect(signer.address).toBe(ADDRESS_0);
    const message = toUtf8Bytes("manifest");
    verifyLivepeerSignature(ADDRESS_0, message, await signer.sign(message));
    const ticketHash = getBytes("0x87ef13f2d37e4d5352a01d3c77b8179d80e0887f1953bfabfd0bfd7b0f689ddd");
    verifyDigestSignature(ADDRESS_0, ticketHash, await signer.signDigest(ticketHash));
  });

  it("fails at start-up when the signer does not sign as orchestrators verify", async () => {
    const impostor: AddressedSigner = {
      address: ADDRESS_1,
      signMessage: (message) => new Wallet(KEY_0).signMessage(message),
    };
    await expect(walletIdentity(impostor)).rejects.toThrow(SignatureError);
  });

  it("shows only the address when logged or stringified", async () => {
    const identity = await walletIdentity(new Wallet(KEY_0));
    const secret = KEY_0.slice(2);
    const renderings = [
      JSON.stringify(identity),
      JSON.stringify({ identity }),
      inspect(identity, { showHidden: true, depth: Infinity }),
      inspect({ identity }, { showHidden: true, depth: Infinity }),
      inspect(identity.signer, { showHidden: true, depth: Infinity }),
      JSON.stringify(identity.signer),
      JSON.stringify({ ...identity }),
      String(identity),
      `${identity}`,
    ];
    for (const text of renderings) expect(text.toLowerCase()).not.toContain(secret);
    expect(JSON.parse(JSON.stringify(identity))).toEqual({ address: ADDRESS_0 });
    expect(String(identity)).toBe(ADDRESS_0);
    expect(inspect(identity)).toBe(`GatewayIdentity(${ADDRESS_0})`);
  });

  it("builds the message from any spelling of the address", () => {
    expect(orchestratorRequestMessage(ADDRESS_0.toLowerCase())).toEqual(toUtf8Bytes(ADDRESS_0));
  });
});

describe("keystore", () => {
  let dir: string;
  let keysDir: string;
  let file0: string;
  let file1: string;
  let passwordFile: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "lp-keystore-test-"));
    keysDir = join(dir, "keystore");
    await mkdir(keysDir);
    // Cheap scrypt so the test is fast; real keystores use N = 2^18.
    const encrypt = (key: string) =>
      encryptKeystoreJson(new Wallet(key), PASSWORD, { scrypt: { N: 2 ** 10 } });
    // geth's file names; the #1 key sorts first, so "first key file" means ADDRESS_1.
    file1 = join(keysDir, `UTC--2024-01-01T00-00-00.000000000Z--${ADDRESS_1.slice(2).toLowerCase()}`);
    file0 = join(keysDir, `UTC--2024-06-01T00-00-00.000000000Z--${ADDRESS_0.slice(2).toLowerCase()}`);
    await writeFile(file1, await encrypt(KEY_1));
    await writeFile(file0, await encrypt(KEY_0));
    // Things a keystore directory may also hold, all to be skipped.
    await writeFile(join(keysDir, ".hidden"), await encrypt(KEY_0));
    await writeFile(join(keysDir, "0-notes.txt"), "not a key");
    await writeFile(join(keysDir, "0-other.json"), JSON.stringify({ address: "nope" }));
    await mkdir(join(keysDir, "0-subdir"));
    passwordFile = join(dir, "password.txt");
    await writeFile(passwordFile, `  ${PASSWORD}\n`);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("loads the first key file of a directory when no account is given", async () => {
    const wallet = await loadKeystoreWallet({ keystorePath: keysDir, password: PASSWORD });
    expect(wallet.address).toBe(ADDRESS_1);
    expect(wallet).toBeInstanceOf(Wallet);
  });

  it("loads the account asked for from a directory, in any spelling", async () => {
    const wallet = await loadKeystoreWallet({
      keystorePath: `${keysDir}/`,
      password: PASSWORD,
      account: ADDRESS_0.slice(2).toLowerCase(),
    });
    expect(wallet.address).toBe(ADDRESS_0);
  });

  it("loads a single key file", async () => {
    const wallet = await loadKeystoreWallet({ keystorePath: file0, password: PASSWORD });
    expect(wallet.address).toBe(ADDRESS_0);
    const same = await loadKeystoreWallet({ keystorePath: file0, password: PASSWORD, account: ADDRESS_0 });
    expect(same.address).toBe(ADDRESS_0);
  });

  it("reads the password from a file, trimmed, when the value names one", async () => {
    expect(await resolvePassword(passwordFile)).toBe(PASSWORD);
    expect(await resolvePassword(PASSWORD)).toBe(PASSWORD);
    const wallet = await loadKeystoreWallet({ keystorePath: file0, password: passwordFile });
    expect(wallet.address).toBe(ADDRESS_0);
  });

  it("says the password is wrong without repeating it", async () => {
    const err = await errorOf(loadKeystoreWallet({ keystorePath: file0, password: WRONG_PASSWORD }));
    expect(err).toBeInstanceOf(KeystoreError);
    expect(err.message).toBe(`could not decrypt keystore ${file0}: wrong password?`);
    expect(everythingIn(err)).not.toContain(WRONG_PASSWORD);
    expect(everythingIn(err)).not.toContain(PASSWORD);
  });

  it("never shows a password file's contents", async () => {
    const wrongFile = join(dir, "wrong-password.txt");
    await writeFile(wrongFile, WRONG_PASSWORD);
    const err = await errorOf(loadKeystoreWallet({ keystorePath: keysDir, password: wrongFile }));
    expect(err.message).toMatch(/wrong password\?$/);
    expect(everythingIn(err)).not.toContain(WRONG_PASSWORD);

    const emptyFile = join(dir, "empty-password.txt");
    await writeFile(emptyFile, " \n");
    const empty = await errorOf(loadKeystoreWallet({ keystorePath: keysDir, password: emptyFile }));
    expect(empty.message).toBe(`password file ${emptyFile} is empty`);
  });

  it("names a missing keystore path", async () => {
    const missing = join(dir, "no-such-keystore");
    const err = await errorOf(loadKeystoreWallet({ keystorePath: missing, password: PASSWORD }));
    expect(err).toBeInstanceOf(KeystoreError);
    expect(err.message).toBe(`keystore path ${missing} does not exist`);
    expect(everythingIn(err)).not.toContain(PASSWORD);
  });

  it("names an account that has no key file", async () => {
    const absent = "0x0000000000000000000000000000000000000bad";
    const err = await errorOf(findKeyFile(keysDir, absent));
    expect(err.message).toBe(`no key file for account ${getAddress(absent)} in ${keysDir}`);
  });

  it("rejects an account that contradicts the key file", async () => {
    const err = await errorOf(findKeyFile(file0, ADDRESS_1));
    expect(err.message).toContain(ADDRESS_0);
    expect(err.message).toContain(ADDRESS_1);
  });

  it("rejects an account that is not an address, an empty directory and a file that is not a key", async () => {
    await expect(findKeyFile(keysDir, "0x1234")).rejects.toThrow("account 0x1234 is not an Ethereum address");
    const emptyDir = join(dir, "empty");
    await mkdir(emptyDir);
    await expect(findKeyFile(emptyDir)).rejects.toThrow(`no key files in ${emptyDir}`);
    await expect(findKeyFile(passwordFile)).rejects.toThrow(`${passwordFile} is not a V3 JSON key file`);
  });
});
