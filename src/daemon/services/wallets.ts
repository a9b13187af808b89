import { HDNodeWallet } from 'ethers';
import { BugError } from '../../core/errors.js';
import type { Custody, Store, WalletRecord } from '../store/types.js';

/**
 * BIP-44 path of the custodial wallets without the last level: user `i` has `m/44'/60'/0'/0/i`,
 * the same layout as common Ethereum wallets, so a recovered seed opens them with standard tools.
 */
export const WALLET_BASE_PATH = "m/44'/60'/0'/0";

/** The last level is a non-hardened BIP-32 index: below 2^31. */
export const MAX_WALLET_INDEX = 2 ** 31 - 1;

/** Derives custodial wallet addresses; holds only the public extended key of the base path. */
export interface WalletDeriver {
  /** The full derivation path of an index, e.g. `m/44'/60'/0'/0/7`. */
  path(index: number): string;
  /** The lowercase address of the wallet at an index. */
  address(index: number): string;
}

/**
 * Makes the deriver from the wallet master seed. The private key of the base path is used once,
 * here, to compute its public extended key (the last level is non-hardened); the deriver keeps
 * only that, so the request path holds no private key of any wallet and can derive addresses,
 * never keys.
 * @param seed - the master seed (16 to 64 bytes; peruri-chain makes 32)
 * @returns the deriver
 */
export function walletDeriverFromSeed(seed: Uint8Array): WalletDeriver {
  const parent = HDNodeWallet.fromSeed(seed).derivePath(WALLET_BASE_PATH).neuter();
  return {
    path: (index) => `${WALLET_BASE_PATH}/${index}`,
    address: (index) => {
      if (!Number.isSafeInteger(index) || index < 0 || index > MAX_WALLET_INDEX) {
        throw new BugError(`Wallet index ${index} is outside 0..${MAX_WALLET_INDEX}`);
      }
      return parent.deriveChild(index).address.toLowerCase();
    },
  };
}

/**
 * The DID of a wallet: `did:<method>:<lowercase address>`. It names the wallet, not the person, so
 * it holds no personal data.
 * @param method - the DID method (`peruri`)
 * @param address - the wallet address
 */
export function walletDid(method: string, address: string): string {
  return `did:${method}:${address.toLowerCase()}`;
}

/** A user's wallet as the API reports it. */
export interface WalletStatus {
  userId: string;
  address: string;
  did: string;
  custody: Custody;
  /** Token balance in the token's smallest unit, decimal text (from the chain event cache). */
  balance: string;
  badges: { id: string; amount: string }[];
  /** True when this request created the wallet. */
  created: boolean;
}

/** How many wallets the identity map keeps in memory (the oldest is forgotten first). */
const WALLETS_KEPT = 100_000;

/**
 * The identity map: app user id ⇄ wallet address ⇄ DID. A wallet record never changes once
 * created, so returning users are answered from memory, sparing a database read on every
 * activity (a change of custody, when it comes, must evict its record here).
 */
export class WalletService {
  private readonly known = new Map<string, WalletRecord>();

  constructor(
    private readonly store: Store,
    private readonly deriver: WalletDeriver,
    private readonly didMethod: string,
  ) {}

  /** The user's wallet if this process has seen it lately, without asking the store. */
  remembered(userId: string): WalletRecord | undefined {
    return this.known.get(userId);
  }

  /**
   * The user's wallet, created (index allocated, address derived, audited) on first sight.
   * @param userId - the app's user id
   * @param actor - who asks (the JWT subject), for the audit trail
   */
  async ensure(userId: string, actor: string): Promise<{ wallet: WalletRecord; created: boolean }> {
    const remembered = this.known.get(userId);
    if (remembered) return { wallet: remembered, created: false };
    const result = await this.store.ensureWallet({
      userId,
      derive: (index) => {
        const address = this.deriver.address(index);
        return { address, did: walletDid(this.didMethod, address) };
      },
      audit: (wallet) => ({
        actor,
        action: 'wallet.create',
        subject: wallet.address,
        details: { userId, index: wallet.index, did: wallet.did, custody: wallet.custody },
      }),
    });
    if (this.known.size >= WALLETS_KEPT) this.known.delete(this.known.keys().next().value!);
    this.known.set(userId, result.wallet);
    return result;
  }

  /**
   * The user's wallet with its cached balance and badges; creates the wallet on first sight.
   * @param userId - the app's user id
   * @param actor - who asks (the JWT subject)
   */
  async status(userId: string, actor: string): Promise<WalletStatus> {
    const { wallet, created } = await this.ensure(userId, actor);
    const holdings = await this.store.holdings(wallet.address);
    return {
      userId,
      address: wallet.address,
      did: wallet.did,
      custody: wallet.custody,
      balance: holdings.balance,
      badges: holdings.badges,
      created,
    };
  }
}
