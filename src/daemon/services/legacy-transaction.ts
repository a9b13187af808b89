import { RLP } from '@ethereumjs/rlp';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { fromHex, toHex } from '../../core/hex.js';
import { keccak256 } from '../../core/keccak.js';
import type { SignedTransaction, UnsignedTransaction } from './signer.js';

/**
 * Signs a legacy (type 0) transaction with EIP-155 replay protection, the form the worker sends
 * (zero gas price; London networks accept it). Byte for byte what ethers' `Wallet.signTransaction`
 * produces (RFC 6979 signatures are deterministic; the tests compare the two), but on bytes
 * throughout: ethers spends about 30 ms on a 40 kB mint transaction in hex-string conversions,
 * which at 25 such transactions per 10,000-activity batch would take most of a core.
 * @param privateKey - 32 bytes
 * @param transaction - the fields to sign
 * @returns the raw signed transaction and its hash, as 0x hex
 */
export function signLegacyTransaction(
  privateKey: Uint8Array,
  transaction: UnsignedTransaction,
): SignedTransaction {
  const chainId = BigInt(transaction.chainId);
  const fields = [
    quantity(BigInt(transaction.nonce)),
    quantity(transaction.gasPrice),
    quantity(transaction.gasLimit),
    fromHex(transaction.to, 'to'),
    quantity(transaction.value ?? 0n),
    fromHex(transaction.data, 'data'),
  ];
  // EIP-155: the signed payload ends with chainId, 0, 0.
  const digest = keccak256(RLP.encode([...fields, quantity(chainId), new Uint8Array(), new Uint8Array()]));
  const signature = secp256k1.sign(digest, privateKey, { prehash: false, format: 'recovered' });
  const recovery = BigInt(signature[0]!);
  const raw = RLP.encode([
    ...fields,
    quantity(recovery + chainId * 2n + 35n),
    trimmed(signature.subarray(1, 33)),
    trimmed(signature.subarray(33, 65)),
  ]);
  return { raw: `0x${toHex(raw)}`, hash: `0x${toHex(keccak256(raw))}` };
}

/** An RLP quantity: big-endian, no leading zero bytes, zero as the empty string. */
function quantity(value: bigint): Uint8Array {
  if (value < 0n) throw new RangeError('A transaction field cannot be negative');
  if (value === 0n) return new Uint8Array();
  const hex = value.toString(16);
  return fromHex(hex.length % 2 ? `0${hex}` : hex);
}

function trimmed(bytes: Uint8Array): Uint8Array {
  let start = 0;
  while (start < bytes.length && bytes[start] === 0) start++;
  return bytes.subarray(start);
}
