import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transaction } from 'ethers';
import { describe, expect, it } from 'vitest';
import { fixtureKeySource } from '../../../test/support/fixture-keys.js';
import { aTempDir } from '../../../test/support/temp-dir.js';
import { ErrorCodes, InputError } from '../../core/errors.js';
import { encryptAccountKeys } from '../../core/keys/keystore.js';
import { loadWalletMaster } from './master-secret.js';
import { keystoreSigner } from './signer.js';

async function aKeystore(name: string, password: string): Promise<{ file: string; address: string }> {
  const dir = await aTempDir();
  const { [name]: keystore } = await encryptAccountKeys(
    { [name]: fixtureKeySource().accountKey(name) },
    password,
    'dev',
  );
  const file = join(dir, `${name}.json`);
  await writeFile(file, keystore!.json, { mode: 0o600 });
  return { file, address: keystore!.address };
}

describe('the keystore signer', () => {
  it('signs zero-gas legacy transactions that recover to its address', async () => {
    // Given the minter keystore
    const { file, address } = await aKeystore('minter', 'a long test password');
    const signer = await keystoreSigner({
      keystoreFile: file,
      password: 'a long test password',
      expectedAddress: address,
    });
    // When it signs a transaction
    const signed = await signer.signTransaction({
      chainId: 4242,
      nonce: 3,
      to: '0x00000000000000000000000000000000000000aa',
      data: '0x1234',
      gasLimit: 100_000n,
      gasPrice: 0n,
    });
    // Then the raw transaction is from the signer, with the fields given, and its hash is right
    const parsed = Transaction.from(signed.raw);
    expect(parsed.from?.toLowerCase()).toBe(address);
    expect([parsed.type, parsed.chainId, parsed.nonce, parsed.gasPrice, parsed.data]).toEqual([
      0,
      4242n,
      3,
      0n,
      '0x1234',
    ]);
    expect(signed.hash).toBe(parsed.hash);
    expect(signer.address).toBe(address);
  });

  it('refuses a keystore that is not the configured signer, or a wrong password', async () => {
    const { file } = await aKeystore('deployer', 'a long test password');
    const wrongAccount = await keystoreSigner({
      keystoreFile: file,
      password: 'a long test password',
      expectedAddress: '0x00000000000000000000000000000000000000aa',
    }).catch((error: unknown) => error as InputError);
    expect(wrongAccount).toBeInstanceOf(InputError);
    expect((wrongAccount as InputError).message).toContain(
      'but the configuration says the signer is 0x00000000',
    );
    await expect(
      keystoreSigner({ keystoreFile: file, password: 'not the password', expectedAddress: '0x00' }),
    ).rejects.toMatchObject({ code: ErrorCodes.KEY_INVALID });
  });
});

describe('the wallet master keystore', () => {
  it('opens to the same deriver as its seed, and says when it is missing', async () => {
    const { file, address } = await aKeystore('wallet-master', 'a long test password');
    const master = await loadWalletMaster({ keystoreFile: file, password: 'a long test password' });
    expect(master.fingerprint).toBe(address);
    expect(master.deriver.address(0)).toMatch(/^0x[0-9a-f]{40}$/);
    await expect(
      loadWalletMaster({ keystoreFile: join(file, '..', 'missing.json'), password: 'x' }),
    ).rejects.toMatchObject({
      code: ErrorCodes.KEY_INVALID,
      hint: expect.stringContaining('wallet-master.json'),
    });
  });
});
