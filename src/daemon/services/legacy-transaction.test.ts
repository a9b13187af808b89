import { Transaction, Wallet, getBytes, hexlify, keccak256, randomBytes } from 'ethers';
import { describe, expect, it } from 'vitest';
import { signLegacyTransaction } from './legacy-transaction.js';

describe('signLegacyTransaction', () => {
  // ethers is the reference: the same fields and key must give the same bytes.
  it.each([
    { nonce: 0, gasLimit: 21_000n, data: '0x', chainId: 1337 },
    { nonce: 1, gasLimit: 100_000n, data: hexlify(randomBytes(68)), chainId: 1 },
    { nonce: 255, gasLimit: 12_860_000n, data: hexlify(randomBytes(38_500)), chainId: 2_026_112_401 },
    { nonce: 70_000, gasLimit: 30_000_000n, data: hexlify(randomBytes(5)), chainId: 4242 },
  ])('matches ethers for nonce $nonce on chain $chainId', async ({ nonce, gasLimit, data, chainId }) => {
    for (let key = 0; key < 5; key++) {
      const wallet = Wallet.createRandom();
      const to = Wallet.createRandom().address;
      const fields = { chainId, nonce, to, data, gasLimit, gasPrice: 0n, value: 0n };
      const expected = await wallet.signTransaction(Transaction.from({ type: 0, ...fields }));
      const signed = signLegacyTransaction(getBytes(wallet.privateKey), fields);
      expect(signed.raw).toBe(expected);
      expect(signed.hash).toBe(keccak256(expected));
      expect(Transaction.from(signed.raw).from).toBe(wallet.address);
    }
  });
});
