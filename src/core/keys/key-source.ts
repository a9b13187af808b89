import { hexToBytes } from '@noble/hashes/utils.js';
import { generatePrivateKey } from './node-key.js';

/**
 * Where new private keys come from. `init` and `render` use fresh random keys; golden tests
 * pass fixed ones so that generated files are byte-stable.
 */
export interface KeySource {
  /** A private key for the node of that name. */
  nodeKey(nodeName: string): Uint8Array;
  /** A private key for an account: `deployer`, `minter` or `admin-<organisation>`. */
  accountKey(accountName: string): Uint8Array;
}

/** Fresh keys from the operating system's random source. */
export const randomKeySource: KeySource = {
  nodeKey: () => generatePrivateKey(),
  accountKey: () => generatePrivateKey(),
};

/**
 * Keys given in advance, by name; for tests and for reproducing a workspace.
 * @param keys - 0x-hex private keys by node or account name
 */
export function fixedKeySource(keys: Record<string, string>): KeySource {
  const take = (name: string): Uint8Array => {
    const hex = keys[name];
    if (!hex) throw new Error(`No fixed key named ${name}`);
    return hexToBytes(hex.replace(/^0x/, ''));
  };
  return { nodeKey: take, accountKey: take };
}
