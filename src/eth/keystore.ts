// Loading the gateway's key the way go-livepeer does from -ethKeystorePath, -ethAcctAddr and -ethPassword.
//
// -ethKeystorePath names a geth keystore directory or one V3 JSON key file; in a directory, -ethAcctAddr picks the
// account, else the first key file by name (geth lists its key files sorted by path). -ethPassword is the passphrase
// or the name of a file holding it. Decryption (scrypt) is slow in JS, so it happens once, at start-up.
//
// No error here may carry the passphrase, the key, or a password file's contents: messages name paths, addresses
// and what was wrong, and never chain the underlying error (its details could echo an argument).

import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { getAddress } from "ethers/address";
import { ZeroAddress } from "ethers/constants";
import { isError } from "ethers/utils";
import { Wallet } from "ethers/wallet";

export interface KeystoreOptions {
  /** -ethKeystorePath: a keystore directory or a single geth V3 JSON key file. */
  keystorePath: string;
  /** -ethPassword: the passphrase itself, or the path of a file holding it (whitespace-trimmed). */
  password: string;
  /** -ethAcctAddr: the account to use; by default the only account of a key file, or a directory's first. */
  account?: string | undefined;
}

/** A key file found on disk, still encrypted. */
export interface KeyFile {
  path: string;
  /** EIP-55 address from the file's "address" field. */
  address: string;
  json: string;
}

export class KeystoreError extends Error {
  override readonly name = "KeystoreError";
}

/** Key files are a few hundred bytes; anything far bigger in a keystore directory is not one and is not read. */
const MAX_KEY_FILE_BYTES = 1 << 20;

/** Finds, decrypts and returns the gateway's wallet. */
export async function loadKeystoreWallet(options: KeystoreOptions): Promise<Wallet> {
  const keyFile = await findKeyFile(options.keystorePath, options.account);
  const passphrase = await resolvePassword(options.password);
  return decryptKeyFile(keyFile, passphrase);
}

/**
 * go-livepeer's reading of -ethPassword: if it names an existing file (not a directory), the file's whitespace-
 * trimmed contents; otherwise the value itself.
 */
export async function resolvePassword(passwordArgument: string): Promise<string> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(passwordArgument)).isDirectory();
  } catch {
    return passwordArgument; // no such file: the value is the passphrase
  }
  if (isDirectory) return passwordArgument;
  // From here the value is known to be a path, so naming it in an error cannot reveal a passphrase.
  let contents: string;
  try {
    contents = await readFile(passwordArgument, "utf8");
  } catch (err) {
    throw new KeystoreError(`could not read password file ${passwordArgument} (${errorCode(err)})`);
  }
  const passphrase = contents.trim();
  // go-livepeer would fall back to using the file's name as the passphrase; an empty file is a mistake to report.
  if (passphrase === "") throw new KeystoreError(`password file ${passwordArgument} is empty`);
  return passphrase;
}

/** The key file -ethKeystorePath and -ethAcctAddr select, without decrypting it. */
export async function findKeyFile(keystorePath: string, account?: string): Promise<KeyFile> {
  const wanted = parseAccount(account);
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(keystorePath)).isDirectory();
  } catch (err) {
    if (errorCode(err) === "ENOENT") throw new KeystoreError(`keystore path ${keystorePath} does not exist`);
    throw new KeystoreError(`could not read keystore path ${keystorePath} (${errorCode(err)})`);
  }
  return isDirectory ? pickFromDirectory(keystorePath, wanted) : readSingleKeyFile(keystorePath, wanted);
}

async function readSingleKeyFile(path: string, wanted: string | undefined): Promise<KeyFile> {
  const keyFile = await readKeyFile(path);
  if (keyFile === undefined) throw new KeystoreError(`${path} is not a V3 JSON key file (no valid "address" field)`);
  if (wanted !== undefined && wanted !== keyFile.address) {
    throw new KeystoreError(
      `key file ${path} holds account ${keyFile.address}, but the account asked for is ${wanted}`,
    );
  }
  return keyFile;
}

async function pickFromDirectory(dir: string, wanted: string | undefined): Promise<KeyFile> {
  const names = (await readdir(dir)).filter(isCandidateName).sort();
  for (const name of names) {
    const keyFile = await readKeyFile(join(dir, name));
    if (keyFile !== undefined && (wanted === undefined || keyFile.address === wanted)) return keyFile;
  }
  if (wanted !== undefined) throw new KeystoreError(`no key file for account ${wanted} in ${dir}`);
  throw new KeystoreError(`no key files in ${dir}`);
}

/** geth skips hidden files and editor backups when it scans a keystore directory. */
function isCandidateName(name: string): boolean {
  return !name.startsWith(".") && !name.endsWith("~");
}

/** The file as a key file, or undefined when it is not one (not a regular file, not JSON, no usable address). */
async function readKeyFile(path: string): Promise<KeyFile | undefined> {
  try {
    const info = await stat(path);
    if (!info.isFile() || info.size > MAX_KEY_FILE_BYTES) return undefined;
    const json = await readFile(path, "utf8");
    const address = addressField(JSON.parse(json));
    return address === undefined ? undefined : { path, address, json };
  } catch {
    return undefined;
  }
}

/** The "address" field of a V3 key file: 40 hex digits, usually without "0x". The zero address is no account. */
function addressField(parsed: unknown): string | undefined {
  if (typeof parsed !== "object" || parsed === null) return undefined;
  const field = (parsed as { address?: unknown }).address;
  if (typeof field !== "string") return undefined;
  const hex = field.replace(/^0x/i, "");
  if (!/^[0-9a-fA-F]{40}$/.test(hex)) return undefined;
  const address = getAddress(`0x${hex.toLowerCase()}`);
  return address === ZeroAddress ? undefined : address;
}

/** -ethAcctAddr as an EIP-55 address; empty or zero means "not given", as in go-livepeer. */
function parseAccount(account: string | undefined): string | undefined {
  if (account === undefined || account.trim() === "") return undefined;
  const hex = account.trim().replace(/^0x/i, "");
  if (!/^[0-9a-fA-F]{40}$/.test(hex)) throw new KeystoreError(`account ${account} is not an Ethereum address`);
  const address = getAddress(`0x${hex.toLowerCase()}`);
  return address === ZeroAddress ? undefined : address;
}

async function decryptKeyFile(keyFile: KeyFile, passphrase: string): Promise<Wallet> {
  let decrypted: Awaited<ReturnType<typeof Wallet.fromEncryptedJson>>;
  try {
    decrypted = await Wallet.fromEncryptedJson(keyFile.json, passphrase);
  } catch (err) {
    throw new KeystoreError(`could not decrypt keystore ${keyFile.path}: ${decryptFailure(err)}`);
  }
  // A key file made from a mnemonic decrypts to an HD wallet; the gateway needs only the key.
  return decrypted instanceof Wallet ? decrypted : new Wallet(decrypted.privateKey);
}

/** Why decryption failed, from ethers' short message (which names the problem, never the argument's value). */
function decryptFailure(err: unknown): string {
  if (!isError(err, "INVALID_ARGUMENT")) return "not a supported V3 key file";
  if (err.argument === "password") return "wrong password?";
  if (err.shortMessage === "keystore address/privateKey mismatch") return 'the key does not match its "address" field';
  if (err.argument === "json") return "not a V3 JSON key file";
  return err.shortMessage;
}

function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : "unknown error";
}
