import { ECDH, createECDH, randomBytes } from 'node:crypto';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { ErrorCodes, InputError } from '../errors.js';

/** A node identity as Besu derives it from the node key. */
export interface NodeIdentity {
  /** 64 bytes: the uncompressed secp256k1 point without the 04 prefix, as lowercase hex (no 0x). */
  publicKey: string;
  /** `0x` + 40 lowercase hex: the last 20 bytes of keccak256(publicKey); the validator address. */
  address: string;
}

// The curve arithmetic is OpenSSL's (node:crypto): @noble/curves spent ~50 ms building its tables
// on the first key, which every init paid.

// secp256k1's group order n: private keys are the integers 1 .. n-1.
const CURVE_ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

function isValidPrivateKey(privateKey: Uint8Array): boolean {
  if (privateKey.length !== 32) return false;
  const value = BigInt(`0x${bytesToHex(privateKey)}`);
  return value > 0n && value < CURVE_ORDER;
}

/**
 * Makes a fresh node private key from the operating system's random source.
 * @returns 32 bytes, a valid secp256k1 scalar
 */
export function generatePrivateKey(): Uint8Array {
  // Rejection sampling: 32 random bytes fall outside 1 .. n-1 with a probability of ~2^-128.
  for (;;) {
    const candidate = new Uint8Array(randomBytes(32));
    if (isValidPrivateKey(candidate)) return candidate;
  }
}

/**
 * Derives the public key and address of a node private key (Besu's `public-key export`).
 * @param privateKey - 32 bytes
 * @returns the public key (128 hex, no 0x) and the address
 * @example
 * identityFromPrivateKey(parseNodeKeyFile(text, 'nodes/a/key')).address // '0x93917c...'
 */
export function identityFromPrivateKey(privateKey: Uint8Array): NodeIdentity {
  const ecdh = createECDH('secp256k1');
  ecdh.setPrivateKey(privateKey);
  const publicKey = bytesToHex(new Uint8Array(ecdh.getPublicKey()).subarray(1));
  return { publicKey, address: addressFromPublicKey(publicKey) };
}

/**
 * The address of a public key: keccak256 of the 64 bytes, last 20 bytes.
 * @param publicKey - 128 hex digits, with or without 0x
 * @returns `0x` + 40 lowercase hex
 */
export function addressFromPublicKey(publicKey: string): string {
  const bytes = hexToBytes(normalisePublicKey(publicKey, 'public key'));
  return `0x${bytesToHex(keccak_256(bytes).subarray(12))}`;
}

/**
 * Checks a public key given by an operator and returns it as 128 lowercase hex without 0x.
 * It must be a point on secp256k1, or Besu would refuse every enode made from it.
 * @param publicKey - 128 hex digits, optional 0x
 * @param where - where the value came from, for the error message
 */
export function normalisePublicKey(publicKey: string, where: string): string {
  const hex = publicKey.trim().replace(/^0x/i, '').toLowerCase();
  if (!/^[0-9a-f]{128}$/.test(hex)) {
    throw new InputError(
      ErrorCodes.KEY_INVALID,
      `${where}: expected 128 hex digits, found ${hex.length} characters`,
    );
  }
  try {
    // OpenSSL refuses to decode a point that is not on the curve.
    ECDH.convertKey(`04${hex}`, 'secp256k1', 'hex');
  } catch {
    throw new InputError(ErrorCodes.KEY_INVALID, `${where}: not a point on the secp256k1 curve`, {
      hint: 'Export the key with `besu public-key export` (or from your HSM) and paste all 128 hex digits.',
    });
  }
  return hex;
}

/**
 * Parses a node key file the way Besu reads it: one line (a trailing newline is fine), optional
 * 0x, any case, even length, at most 32 bytes, left-padded (see NOTES.md, KeyPairUtil).
 * @param text - the file content
 * @param where - the file path, for the error message
 * @returns the 32-byte private key
 */
export function parseNodeKeyFile(text: string, where: string): Uint8Array {
  // Java's readAllLines ends a line at \n, \r\n or a lone \r.
  const lines = text.replace(/(\r\n|\r|\n)$/, '').split(/\r\n|\r|\n/);
  const line = lines[0] ?? '';
  const hex = line.replace(/^0x/i, '');
  if (
    lines.length !== 1 ||
    !/^[0-9a-fA-F]*$/.test(hex) ||
    hex.length === 0 ||
    hex.length % 2 !== 0 ||
    hex.length > 64
  ) {
    throw new InputError(ErrorCodes.KEY_INVALID, `${where}: not a node key file Besu can read`, {
      hint: 'A node key file holds one line: 0x followed by 64 hex digits.',
    });
  }
  const privateKey = hexToBytes(hex.padStart(64, '0'));
  if (!isValidPrivateKey(privateKey)) {
    throw new InputError(ErrorCodes.KEY_INVALID, `${where}: the value is not a valid secp256k1 private key`);
  }
  return privateKey;
}

/**
 * Formats a private key exactly as Besu writes its own key file: 0x + 64 lowercase hex, no newline.
 * @param privateKey - 32 bytes
 */
export function formatNodeKeyFile(privateKey: Uint8Array): string {
  return `0x${bytesToHex(privateKey)}`;
}

/**
 * The enode URL of a node, as Besu's EnodeURLImpl requires it (128 hex id, IP host, TCP port;
 * discport omitted because it equals the TCP port).
 * @param publicKey - 128 hex, no 0x
 * @param host - an IP address
 * @param port - the P2P port
 */
export function enodeUrl(publicKey: string, host: string, port: number): string {
  const bracketed = host.includes(':') ? `[${host}]` : host;
  return `enode://${publicKey}@${bracketed}:${port}`;
}
