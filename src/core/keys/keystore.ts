import { createCipheriv, randomBytes, randomUUID, scrypt as nodeScrypt, type BinaryLike } from 'node:crypto';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { ErrorCodes, InputError } from '../errors.js';

/**
 * How hard the keystore's scrypt is. `standard` (N = 2^17, ethers' default) protects keys whose
 * password the operator holds; `dev` (N = 2^12) is for one-machine networks whose generated
 * password is stored beside the keystore anyway, where a slow KDF would protect nothing.
 */
export type KeystoreStrength = 'standard' | 'dev';

const SCRYPT_N: Record<KeystoreStrength, number> = { standard: 1 << 17, dev: 1 << 12 };

/** Shortest operator-chosen keystore password accepted. */
export const MIN_PASSWORD_LENGTH = 12;

type Ethers = typeof import('ethers');
let ethersModule: Promise<Ethers> | undefined;

// scrypt's r and p as ethers and geth write them (N is the strength).
const SCRYPT_R = 8;
const SCRYPT_P = 1;

function deriveNative(
  password: Uint8Array,
  salt: Uint8Array,
  N: number,
  r: number,
  p: number,
  dkLen: number,
) {
  return new Promise<Uint8Array>((resolve, reject) => {
    const maxmem = 128 * N * r * 2 + 1024 * 1024;
    nodeScrypt(password as BinaryLike, salt as BinaryLike, dkLen, { N, r, p, maxmem }, (error, key) =>
      error ? reject(error) : resolve(new Uint8Array(key)),
    );
  });
}

/**
 * ethers (for decryption) is loaded on first use, as it costs ~100 ms, and its scrypt is pointed
 * at Node's native implementation: about twice as fast as the pure-JS default, off the main thread.
 */
function loadEthers(): Promise<Ethers> {
  ethersModule ??= import('ethers').then((ethers) => {
    ethers.scrypt.register(deriveNative);
    return ethers;
  });
  return ethersModule;
}

/** The scrypt key of one batch of keystores, being derived on Node's thread pool. */
export interface KeystoreKey {
  strength: KeystoreStrength;
  /** The salt every keystore of the batch records. */
  salt: Uint8Array;
  /** The derived key: AES-128 key (first 16 bytes) and MAC key (last 16). */
  derived: Promise<Uint8Array>;
}

/**
 * Starts deriving the key of a batch of keystores now. The derivation runs on Node's thread pool,
 * so the caller's thread can do other work meanwhile (at N = 2^17 it takes ~0.4 s of one core).
 * @param password - the keystore password
 * @param strength - scrypt cost, see {@link KeystoreStrength}
 * @returns the key being derived, for {@link encryptAccountKeys}
 * @example
 * const key = startKeystoreKey(password, 'standard');
 * // ... other work ...
 * const keystores = await encryptAccountKeys({ deployer }, key);
 */
export function startKeystoreKey(password: string, strength: KeystoreStrength): KeystoreKey {
  const early = prestarted;
  prestarted = undefined;
  if (early && early.password === password && early.key.strength === strength) return early.key;
  const salt = new Uint8Array(randomBytes(32));
  // The password is NFKC-normalised UTF-8, as ethers reads it (the same bytes for ASCII as geth).
  const derived = deriveNative(
    new TextEncoder().encode(password.normalize('NFKC')),
    salt,
    SCRYPT_N[strength],
    SCRYPT_R,
    SCRYPT_P,
    32,
  );
  // A batch abandoned before encryption (an invalid spec, say) must not surface as unhandled.
  derived.catch(() => undefined);
  return { strength, salt, derived };
}

let prestarted: { password: string; key: KeystoreKey } | undefined;

/**
 * Starts a key before the code that needs it has even loaded (bin/run.js does so for `init`).
 * The next {@link startKeystoreKey} call takes it if it asks for the same password and strength,
 * and discards it otherwise: a key is used at most once, so no two batches share a salt.
 * @param password - the keystore password
 * @param strength - scrypt cost, see {@link KeystoreStrength}
 * @returns the key being derived
 */
export function prestartKeystoreKey(password: string, strength: KeystoreStrength): KeystoreKey {
  prestarted = undefined;
  const key = startKeystoreKey(password, strength);
  prestarted = { password, key };
  return key;
}

/** Everything a V3 keystore is made of; the random parts are the caller's, so this is pure. */
export interface V3KeystoreInput {
  privateKey: Uint8Array;
  /** `0x` + 40 hex digits */
  address: string;
  /** 32 bytes of scrypt output for `salt` and `n` (r = 8, p = 1) */
  derivedKey: Uint8Array;
  salt: Uint8Array;
  n: number;
  /** 16 random bytes: the AES-CTR initial counter */
  iv: Uint8Array;
  /** a random (version 4) UUID */
  id: string;
}

/**
 * Writes a Web3 Secret Storage (V3) keystore: AES-128-CTR under the first half of the derived
 * key, MAC = keccak-256(second half ‖ ciphertext), fields in the order ethers and geth write them.
 * See https://ethereum.org/developers/docs/data-structures-and-encoding/web3-secret-storage/
 * @param input - the key, its address, the derived key and the random parameters
 * @returns the keystore as two-space-indented JSON text with a final newline
 */
export function v3KeystoreJson(input: V3KeystoreInput): string {
  const cipher = createCipheriv('aes-128-ctr', input.derivedKey.subarray(0, 16), input.iv);
  const ciphertext = new Uint8Array(Buffer.concat([cipher.update(input.privateKey), cipher.final()]));
  const mac = keccak_256(new Uint8Array([...input.derivedKey.subarray(16, 32), ...ciphertext]));
  const keystore = {
    address: input.address.replace(/^0x/, '').toLowerCase(),
    id: input.id,
    version: 3,
    Crypto: {
      cipher: 'aes-128-ctr',
      cipherparams: { iv: bytesToHex(input.iv) },
      ciphertext: bytesToHex(ciphertext),
      kdf: 'scrypt',
      kdfparams: { salt: bytesToHex(input.salt), n: input.n, dklen: 32, p: SCRYPT_P, r: SCRYPT_R },
      mac: bytesToHex(mac),
    },
  };
  return `${JSON.stringify(keystore, null, 2)}\n`;
}

/**
 * Encrypts account private keys into Web3 Secret Storage (V3) keystores, one per key.
 *
 * All keystores of one batch share the password, so they also share one random scrypt salt and
 * the key is derived once: with one password, cracking any keystore already opens them all, so
 * a salt per file would add cost for us and none for an attacker. Each keystore still has its
 * own random IV, so no AES-CTR keystream repeats.
 * @param keys - the private keys (32 bytes each) by name
 * @param key - a key from {@link startKeystoreKey}; or the password, followed by the strength
 * @param strength - scrypt cost when `key` is a password, see {@link KeystoreStrength}
 * @returns address and keystore JSON text by name
 */
export async function encryptAccountKeys(
  keys: Record<string, Uint8Array>,
  key: KeystoreKey,
): Promise<Record<string, { address: string; json: string }>>;
export async function encryptAccountKeys(
  keys: Record<string, Uint8Array>,
  password: string,
  strength: KeystoreStrength,
): Promise<Record<string, { address: string; json: string }>>;
export async function encryptAccountKeys(
  keys: Record<string, Uint8Array>,
  key: KeystoreKey | string,
  strength?: KeystoreStrength,
): Promise<Record<string, { address: string; json: string }>> {
  const batch = typeof key === 'string' ? startKeystoreKey(key, strength!) : key;
  const [{ identityFromPrivateKey }, derivedKey] = await Promise.all([
    import('./node-key.js'),
    batch.derived,
  ]);
  return Object.fromEntries(
    Object.entries(keys).map(([name, privateKey]) => {
      const { address } = identityFromPrivateKey(privateKey);
      const json = v3KeystoreJson({
        privateKey,
        address,
        derivedKey,
        salt: batch.salt,
        n: SCRYPT_N[batch.strength],
        iv: new Uint8Array(randomBytes(16)),
        id: randomUUID(),
      });
      return [name, { address, json }];
    }),
  );
}

/**
 * Decrypts a keystore with its password.
 * @param json - keystore JSON text
 * @param password - the keystore password
 * @param where - the keystore's path, for the error message
 * @returns the private key as 0x-hex and the address
 */
export async function decryptAccountKey(
  json: string,
  password: string,
  where: string,
): Promise<{ address: string; privateKey: string }> {
  const { decryptKeystoreJson } = await loadEthers();
  try {
    const account = await decryptKeystoreJson(json, password);
    return { address: account.address.toLowerCase(), privateKey: account.privateKey };
  } catch (cause) {
    throw new InputError(ErrorCodes.KEY_INVALID, `${where}: cannot decrypt the keystore`, {
      hint: 'Check PERURI_CHAIN_KEYSTORE_PASSWORD or the --keystore-password-file for this workspace.',
      cause,
    });
  }
}

/**
 * Reads the address recorded in a keystore without decrypting it.
 * @param json - keystore JSON text
 * @param where - the keystore's path, for the error message
 * @returns the address as 0x + 40 lowercase hex
 */
export function keystoreAddress(json: string, where: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new InputError(ErrorCodes.KEY_INVALID, `${where}: not a JSON keystore`);
  }
  const address = (parsed as { address?: unknown } | null)?.address;
  // Web3 Secret Storage says "crypto"; geth and ethers have written "Crypto" too.
  const crypto =
    (parsed as { crypto?: unknown; Crypto?: unknown } | null)?.crypto ??
    (parsed as { Crypto?: unknown }).Crypto;
  if (typeof address !== 'string' || !/^(0x)?[0-9a-fA-F]{40}$/.test(address) || typeof crypto !== 'object') {
    throw new InputError(ErrorCodes.KEY_INVALID, `${where}: not a V3 keystore with an address`);
  }
  return `0x${address.replace(/^0x/i, '').toLowerCase()}`;
}

/**
 * Whether an operator-chosen keystore password is long enough to encrypt keys with.
 * @param password - the password
 */
export function isUsablePassword(password: string): boolean {
  return password.length >= MIN_PASSWORD_LENGTH;
}

/**
 * Checks an operator-chosen keystore password before any key is encrypted with it.
 * @param password - the password
 * @param source - where it came from, for the message (never the value itself)
 */
export function assertUsablePassword(password: string, source: string): void {
  if (!isUsablePassword(password)) {
    throw new InputError(
      ErrorCodes.SECRET_MISSING,
      `The keystore password from ${source} is too short (${password.length} characters, at least ${MIN_PASSWORD_LENGTH} needed)`,
      { hint: 'Use a long random password, e.g. `openssl rand -base64 24`.' },
    );
  }
}
