import { scryptSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, InputError } from '../errors.js';
import { fixtureKeySource } from '../../../test/support/fixture-keys.js';
import {
  decryptAccountKey,
  encryptAccountKeys,
  keystoreAddress,
  assertUsablePassword,
  startKeystoreKey,
  v3KeystoreJson,
} from './keystore.js';
import { identityFromPrivateKey } from './node-key.js';

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

  it('encrypts and authenticates as the Web3 Secret Storage test vector says', () => {
    // Given the scrypt vector of the Web3 Secret Storage definition (its derived key included)
    const hex = (text: string) => new Uint8Array(Buffer.from(text, 'hex'));
    // When the keystore is written
    const keystore = JSON.parse(
      v3KeystoreJson({
        privateKey: hex('7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d'),
        address: '0x008aeeda4d805471df9b2a5b0f38a0c3bcba786b',
        derivedKey: hex('fac192ceb5fd772906bea3e118a69e8bbb5cc24229e20d8766fd298291bba6bd'),
        salt: hex('ab0c7876052600dd703518d6fc3fe8984592145b591fc8fb5c6d43190334ba19'),
        n: 262144,
        iv: hex('83dbcc02d8ccb40e466191a123791e0e'),
        id: '3198bc9c-6672-5ab3-d995-4942343ae5b6',
      }),
    ) as V3 & { Crypto: { mac: string } };
    // Then ciphertext and MAC are the published ones
    expect(keystore.Crypto.ciphertext).toBe(
      'd172bf743a674da9cdad04534d56926ef8358534d458fffccd4e6ad2fbde479c',
    );
    expect(keystore.Crypto.mac).toBe('2103ac29920d71da29f15d75b4a16dbe95cfd7ff8faea1056c33131d846e3097');
  });

  it('writes byte for byte what ethers writes for the same key, salt, IV and id', async () => {
    // Given one key and fixed random parts
    const { encryptKeystoreJson, uuidV4 } = await import('ethers');
    const privateKey = fixtureKeySource().accountKey('deployer');
    const { address } = identityFromPrivateKey(privateKey);
    const salt = new Uint8Array(32).fill(7);
    const iv = new Uint8Array(16).fill(9);
    const uuid = new Uint8Array(16).fill(11);
    const password = 'batch password 123';
    // When ethers and this module each write the keystore
    const byEthers = await encryptKeystoreJson(
      { address, privateKey: `0x${Buffer.from(privateKey).toString('hex')}` },
      password,
      { salt, iv, uuid: `0x${Buffer.from(uuid).toString('hex')}`, scrypt: { N: 4096 } },
    );
    const derivedKey = new Uint8Array(scryptSync(password, salt, 32, { N: 4096, r: 8, p: 1 }));
    const ours = v3KeystoreJson({ privateKey, address, derivedKey, salt, n: 4096, iv, id: uuidV4(uuid) });
    // Then the documents are the same, field order included
    expect(ours).toBe(`${JSON.stringify(JSON.parse(byEthers), null, 2)}\n`);
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
