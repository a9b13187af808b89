import { readFile } from 'node:fs/promises';
import { ErrorCodes, InputError } from '../../core/errors.js';
import { decryptAccountKey } from '../../core/keys/keystore.js';
import { activityHasherFromSeed, type ActivityHasher } from './refs.js';
import { walletDeriverFromSeed, type WalletDeriver } from './wallets.js';

/** What the daemon keeps of the wallet master secret: nothing private about any single wallet. */
export interface WalletMaster {
  deriver: WalletDeriver;
  hasher: ActivityHasher;
  /** The keystore's address: a public fingerprint of the seed, safe to log. */
  fingerprint: string;
}

/**
 * Derives what the daemon needs from the master seed, then wipes the caller's copy of the seed.
 * @param seed - the 32-byte seed (overwritten with zeros afterwards)
 * @param fingerprint - the keystore address
 */
export function walletMasterFromSeed(seed: Uint8Array, fingerprint: string): WalletMaster {
  try {
    return { deriver: walletDeriverFromSeed(seed), hasher: activityHasherFromSeed(seed), fingerprint };
  } finally {
    seed.fill(0);
  }
}

/**
 * Opens the wallet master keystore (`service/wallet-master.json`, written by `init`). Its
 * "private key" is the 32-byte BIP-32 seed of every custodial wallet.
 * @param options - keystore file and password
 * @returns the deriver and the activity hasher
 * @throws InputError (PC_KEY_INVALID) when the keystore is missing or the password wrong
 */
export async function loadWalletMaster(options: {
  keystoreFile: string;
  password: string;
}): Promise<WalletMaster> {
  let json: string;
  try {
    json = await readFile(options.keystoreFile, 'utf8');
  } catch (cause) {
    throw new InputError(
      ErrorCodes.KEY_INVALID,
      `Cannot read the wallet master keystore ${options.keystoreFile}`,
      {
        hint: 'Workspaces made by `peruri-chain init` have it at service/wallet-master.json; restore it from a snapshot if it was lost (every custodial wallet depends on it).',
        cause,
      },
    );
  }
  const { address, privateKey } = await decryptAccountKey(json, options.password, options.keystoreFile);
  return walletMasterFromSeed(Buffer.from(privateKey.slice(2), 'hex'), address);
}
