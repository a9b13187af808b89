import { randomBytes, scrypt as nodeScrypt, type BinaryLike } from 'node:crypto';
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

/** Derived keys of the batches being encrypted, by password and salt; only while one runs. */
const batchKeys = new Map<string, Promise<Uint8Array>>();
let activeBatches = 0;

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

// What ethers' encryptKeystoreJson asks its scrypt for: r = 8, p = 1 and 64 bytes, from the
// NFKC-normalised UTF-8 password. A key started with the same inputs is the one it then finds.
const R = 8;
const P = 1;
const DK_LEN = 64;

function passwordBytes(password: string): Uint8Array {
  return new TextEncoder().encode(password.normalize('NFKC'));
}

function derivationId(
  password: Uint8Array,
  salt: Uint8Array,
  N: number,
  r: number,
  p: number,
  dkLen: number,
) {
  return `${bytesToHex(password)}|${bytesToHex(salt)}|${N}|${r}|${p}|${dkLen}`;
}

/**
 * ethers is loaded on first use (it costs ~100 ms) and its scrypt is pointed at Node's native
 * implementation (about twice as fast as the pure-JS default, off the main thread), memoised
 * within one batch so that keystores sharing a salt derive their key once.
 */
function loadEthers(): Promise<Ethers> {
  ethersModule ??= import('ethers').then((ethers) => {
    ethers.scrypt.register((password, salt, N, r, p, dkLen) => {
      if (activeBatches === 0) return deriveNative(password, salt, N, r, p, dkLen);
      const id = derivationId(password, salt, N, r, p, dkLen);
      const cached = batchKeys.get(id);
      if (cached) return cached;
      const derived = deriveNative(password, salt, N, r, p, dkLen);
      batchKeys.set(id, derived);
      return derived;
    });
    return ethers;
  });
  return ethersModule;
}

/** The scrypt key of one batch of keystores, being derived on Node's thread pool. */
export interface KeystoreKey {
  password: string;
  strength: KeystoreStrength;
  /** The salt every keystore of the batch records. */
  salt: Uint8Array;
  /** The derived key, 64 bytes as ethers asks for (the V3 keystore uses the first 32). */
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
  const salt = new Uint8Array(randomBytes(32));
  const derived = deriveNative(passwordBytes(password), salt, SCRYPT_N[strength], R, P, DK_LEN);
  // A batch abandoned before encryption (an invalid spec, say) must not surface as unhandled.
  derived.catch(() => undefined);
  return { password, strength, salt, derived };
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
  const [{ encryptKeystoreJson }, { identityFromPrivateKey }] = await Promise.all([
    loadEthers(),
    import('./node-key.js'),
  ]);
  const N = SCRYPT_N[batch.strength];
  batchKeys.set(derivationId(passwordBytes(batch.password), batch.salt, N, R, P, DK_LEN), batch.derived);
  activeBatches += 1;
  try {
    const entries = await Promise.all(
      Object.entries(keys).map(async ([name, privateKey]) => {
        const { address } = identityFromPrivateKey(privateKey);
        const json = await encryptKeystoreJson(
          { address, privateKey: `0x${bytesToHex(privateKey)}` },
          batch.password,
          {
            salt: batch.salt,
            scrypt: { N },
          },
        );
        return [name, { address, json: `${JSON.stringify(JSON.parse(json), null, 2)}\n` }] as const;
      }),
    );
    return Object.fromEntries(entries);
  } finally {
    activeBatches -= 1;
    if (activeBatches === 0) batchKeys.clear();
  }
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
