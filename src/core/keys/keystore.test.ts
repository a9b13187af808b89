import { describe, expect, it } from 'vitest';
import { ErrorCodes, InputError } from '../errors.js';
import { fixtureKeySource } from '../../../test/support/fixture-keys.js';
import {
  decryptAccountKey,
  encryptAccountKeys,
  keystoreAddress,
  assertUsablePassword,
  startKeystoreKey,
} from './keystore.js';

interface V3 {
  address: string;
  Crypto: { kdfparams: { salt: string; n: number }; cipherparams: { iv: string }; ciphertext: string };
}

describe('account keystores', () => {
  it('encrypts a batch under one salt, with an IV of its own each, and every one decrypts', async () => {
    // Given three account keys and a password
    const source = fixtureKeySource();
    const keys = {
      deployer: source.accountKey('deployer'),
      minter: source.accountKey('minter'),
      admin: source.accountKey('admin-pds'),
    };
    // When they are encrypted as one batch at the dev strength
    const keystores = await encryptAccountKeys(keys, 'batch password 123', 'dev');
    // Then they share the salt (one derivation), never the IV, and each opens with the password
    const parsed = Object.values(keystores).map((keystore) => JSON.parse(keystore.json) as V3);
    expect(new Set(parsed.map((keystore) => keystore.Crypto.kdfparams.salt)).size).toBe(1);
    expect(new Set(parsed.map((keystore) => keystore.Crypto.cipherparams.iv)).size).toBe(3);
    expect(parsed.every((keystore) => keystore.Crypto.kdfparams.n === 4096)).toBe(true);
    for (const [name, keystore] of Object.entries(keystores)) {
      const opened = await decryptAccountKey(keystore.json, 'batch password 123', name);
      expect(opened.address).toBe(keystore.address);
      expect(opened.privateKey).toBe(`0x${Buffer.from(keys[name as keyof typeof keys]).toString('hex')}`);
      expect(keystoreAddress(keystore.json, name)).toBe(keystore.address);
    }
  });

  it('uses scrypt N = 2^17 for operator passwords', async () => {
    const keystores = await encryptAccountKeys(
      { deployer: fixtureKeySource().accountKey('deployer') },
      'operator password 1',
      'standard',
    );
    expect((JSON.parse(keystores.deployer!.json) as V3).Crypto.kdfparams.n).toBe(131072);
  });

  it('encrypts with a key derived ahead of time, under its salt, and the keystores open', async () => {
    // Given a key whose derivation started before the keys existed (a password ethers normalises)
    const password = 'ﬁve pässwörds 123';
    const key = startKeystoreKey(password, 'dev');
    // When a batch is encrypted with it
    const source = fixtureKeySource();
    const keys = { deployer: source.accountKey('deployer'), minter: source.accountKey('minter') };
    const keystores = await encryptAccountKeys(keys, key);
    // Then every keystore records that salt and opens with the password
    for (const [name, keystore] of Object.entries(keystores)) {
      expect((JSON.parse(keystore.json) as V3).Crypto.kdfparams.salt).toBe(
        Buffer.from(key.salt).toString('hex'),
      );
      const opened = await decryptAccountKey(keystore.json, password, name);
      expect(opened.privateKey).toBe(`0x${Buffer.from(keys[name as keyof typeof keys]).toString('hex')}`);
    }
  });

  it('derives nothing more when handed a key: the keystore holds exactly the key handed over', async () => {
    // Given a key "derived" ahead of time that is not what scrypt would give for the password
    const password = 'ﬁve pässwörds 123';
    const honest = startKeystoreKey(password, 'dev');
    await honest.derived;
    const planted = { ...honest, derived: Promise.resolve(new Uint8Array(64)) };
    // When a keystore is made with it
    const { deployer } = await encryptAccountKeys(
      { deployer: fixtureKeySource().accountKey('deployer') },
      planted,
    );
    // Then the password does not open it: the planted key was used, no second derivation made
    const error = await decryptAccountKey(deployer!.json, password, 'deployer').catch(
      (caught: unknown) => caught,
    );
    expect((error as InputError).code).toBe(ErrorCodes.KEY_INVALID);
  });

  it('separate batches get separate salts', async () => {
    const key = { deployer: fixtureKeySource().accountKey('deployer') };
    const first = await encryptAccountKeys(key, 'batch password 123', 'dev');
    const second = await encryptAccountKeys(key, 'batch password 123', 'dev');
    const salt = (json: string) => (JSON.parse(json) as V3).Crypto.kdfparams.salt;
    expect(salt(first.deployer!.json)).not.toBe(salt(second.deployer!.json));
  });

  it('refuses the wrong password without echoing it', async () => {
    const { deployer } = await encryptAccountKeys(
      { deployer: fixtureKeySource().accountKey('deployer') },
      'right password 123',
      'dev',
    );
    const error = await decryptAccountKey(
      deployer!.json,
      'wrong password 456',
      'accounts/deployer.json',
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).code).toBe(ErrorCodes.KEY_INVALID);
    expect((error as InputError).message).toContain('accounts/deployer.json');
    expect((error as InputError).message).not.toContain('wrong password');
  });

  it('reads the address without the password, and rejects what is not a keystore', () => {
    expect(() => keystoreAddress('{"address":"zz"}', 'x.json')).toThrow('x.json: not a V3 keystore');
    expect(() => keystoreAddress('not json', 'x.json')).toThrow('x.json: not a JSON keystore');
  });

  it('asks for at least 12 characters of password', () => {
    expect(() => assertUsablePassword('short', '$PW')).toThrow(/too short \(5 characters, at least 12/);
    expect(() => assertUsablePassword('long enough pw', '$PW')).not.toThrow();
  });
});
