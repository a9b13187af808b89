import { Mnemonic } from 'ethers';
import { describe, expect, it } from 'vitest';
import { BugError } from '../../core/errors.js';
import { walletDeriverFromSeed, walletDid } from './wallets.js';

// The well-known development mnemonic; its m/44'/60'/0'/0/i accounts are published by every
// Ethereum dev tool (anvil, hardhat), which makes them an independent test vector.
const DEV_MNEMONIC = 'test test test test test test test test test test test junk';

describe('custodial wallet derivation', () => {
  it("derives m/44'/60'/0'/0/<index> from the seed, as standard wallets do", () => {
    // Given the seed of the development mnemonic
    const seed = Mnemonic.fromPhrase(DEV_MNEMONIC).computeSeed();
    // When addresses are derived for indexes 0, 1 and 2
    const deriver = walletDeriverFromSeed(Buffer.from(seed.slice(2), 'hex'));
    // Then they are the published accounts, lowercase
    expect([0, 1, 2].map((index) => deriver.address(index))).toEqual([
      '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266',
      '0x70997970c51812dc3a010c7d01b50e0d17dc79c8',
      '0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc',
    ]);
    expect(deriver.path(7)).toBe("m/44'/60'/0'/0/7");
  });

  it('refuses an index outside the non-hardened range', () => {
    const deriver = walletDeriverFromSeed(Buffer.alloc(32, 1));
    expect(() => deriver.address(2 ** 31)).toThrow(BugError);
    expect(() => deriver.address(-1)).toThrow(BugError);
  });

  it('names a wallet by a DID made of its address only', () => {
    expect(walletDid('peruri', '0xF39Fd6e51aad88F6F4ce6aB8827279cffFb92266')).toBe(
      'did:peruri:0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266',
    );
  });
});
