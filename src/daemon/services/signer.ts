import { readFile } from 'node:fs/promises';
import { getBytes } from 'ethers';
import { ErrorCodes, InputError } from '../../core/errors.js';
import { decryptAccountKey } from '../../core/keys/keystore.js';
import { signLegacyTransaction } from './legacy-transaction.js';

/** A transaction for the signer: legacy type 0 with an explicit gas price (0 on this network). */
export interface UnsignedTransaction {
  chainId: number;
  nonce: number;
  to: string;
  data: string;
  gasLimit: bigint;
  gasPrice: bigint;
  value?: bigint;
}

/** A signed transaction as the outbox stores it before broadcasting. */
export interface SignedTransaction {
  /** The raw transaction, 0x hex, as eth_sendRawTransaction takes it. */
  raw: string;
  /** keccak256 of the raw transaction: its hash on-chain. */
  hash: string;
}

/**
 * Signs the daemon's transactions. The mirror worker depends on this interface only, so an HSM
 * (PKCS#11) or cloud KMS signer can replace the keystore one without touching it.
 */
export interface Signer {
  /** The signing account, lowercase. */
  readonly address: string;
  signTransaction(transaction: UnsignedTransaction): Promise<SignedTransaction>;
}

/** Options of {@link keystoreSigner}. */
export interface KeystoreSignerOptions {
  keystoreFile: string;
  password: string;
  /** The address the configuration says the signer has; a different keystore is refused. */
  expectedAddress: string;
}

/**
 * A signer over an encrypted V3 keystore, decrypted once at start; the key stays in memory only.
 * @param options - keystore file, password and expected address
 * @returns the signer
 * @throws InputError (PC_KEY_INVALID) when the file is unreadable, the password wrong or the
 *   address not the expected one
 */
export async function keystoreSigner(options: KeystoreSignerOptions): Promise<Signer> {
  let json: string;
  try {
    json = await readFile(options.keystoreFile, 'utf8');
  } catch (cause) {
    throw new InputError(ErrorCodes.KEY_INVALID, `Cannot read the signer keystore ${options.keystoreFile}`, {
      cause,
    });
  }
  const account = await decryptAccountKey(json, options.password, options.keystoreFile);
  if (account.address !== options.expectedAddress.toLowerCase()) {
    throw new InputError(
      ErrorCodes.KEY_INVALID,
      `${options.keystoreFile} holds ${account.address}, but the configuration says the signer is ${options.expectedAddress.toLowerCase()}`,
      { hint: 'Point signer.keystoreFile at the minter keystore, or fix signer.address.' },
    );
  }
  const privateKey = getBytes(account.privateKey);
  return {
    address: account.address,
    signTransaction: async (transaction) => signLegacyTransaction(privateKey, transaction),
  };
}
