import { describe, expect, it } from 'vitest';
import { describeWithReference, thrownBy } from '../../../test/support/reference.js';
import { ErrorCodes } from '../errors.js';
import {
  addressFromPublicKey,
  enodeUrl,
  formatNodeKeyFile,
  generatePrivateKey,
  identityFromPrivateKey,
  normalisePublicKey,
  parseNodeKeyFile,
} from './node-key.js';

interface NodeKeyVector {
  id: string;
  privateKey: string | null;
  publicKey: string;
  address: string;
}

// The quorum-dev-quickstart validator1 key (a public test fixture, see NOTES.md (b)).
const aPrivateKeyHex = (): string => '1a2c4ff0f1b38e2322658dba692816138eb22d002515df1fffca21278f406aa9';
const aPublicKeyHex = (): string =>
  '8208a3f344695d44e9cf2c023683cbea7b9343e2f70a5e804bd2c93858e945f8f91439eef96a4ab6c47ff06637d6fbe6472f96de1655a1bee57ea896654f3a22';
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

describeWithReference<NodeKeyVector[]>(
  'the Besu node-key vectors',
  'besu/node-key-vectors.json',
  (vectors) => {
    const withPrivateKey = vectors.filter((vector) => vector.privateKey !== null);
    const publicOnly = vectors.filter((vector) => vector.privateKey === null);

    it('are all present (5 with a private key, 2 public-key-only)', () => {
      // Given the reference file
      // Then it holds what NOTES.md describes, so a truncated copy cannot pass silently
      expect(withPrivateKey).toHaveLength(5);
      expect(publicOnly).toHaveLength(2);
    });

    it.each(withPrivateKey.map((vector) => [vector.id, vector] as const))(
      '%s: private key → public key → address',
      (_id, vector) => {
        // Given the private key as quorum-dev-quickstart ships its nodekey (64 hex, no 0x, trailing \n)
        const privateKey = parseNodeKeyFile(`${vector.privateKey}\n`, `nodes/${vector.id}/key`);
        expect(hex(privateKey)).toBe(vector.privateKey);
        // When the identity is derived
        const identity = identityFromPrivateKey(privateKey);
        // Then the public key (128 hex, no 0x) and the address are the vector's
        expect(identity).toEqual({ publicKey: vector.publicKey, address: vector.address });
      },
    );

    it.each(vectors.map((vector) => [vector.id, vector] as const))(
      '%s: public key → address',
      (_id, vector) => {
        // Given only the public key, as `besu public-key export` prints it (0x + 128 hex)
        // When its address is computed, with and without the 0x
        // Then it is the vector's address
        expect(addressFromPublicKey(`0x${vector.publicKey}`)).toBe(vector.address);
        expect(addressFromPublicKey(vector.publicKey)).toBe(vector.address);
      },
    );
  },
);

describe('parseNodeKeyFile', () => {
  it.each([
    ['0x + 64 lowercase hex, no newline (what Besu writes)', `0x${aPrivateKeyHex()}`],
    ['64 hex without 0x (quorum-genesis-tool)', aPrivateKeyHex()],
    ['64 hex + \\n (quorum-dev-quickstart)', `${aPrivateKeyHex()}\n`],
    ['0x + 64 hex + \\r\\n', `0x${aPrivateKeyHex()}\r\n`],
    ['uppercase hex (Besu validPrivateKey.txt has an uppercase A)', aPrivateKeyHex().toUpperCase()],
    ['0x + mixed case', `0x${aPrivateKeyHex().slice(0, 32).toUpperCase()}${aPrivateKeyHex().slice(32)}`],
  ])('accepts %s', (_case, text) => {
    // When a key file Besu accepts is parsed
    const privateKey = parseNodeKeyFile(text, 'nodes/a/key');
    // Then it is the 32-byte key
    expect(privateKey).toBeInstanceOf(Uint8Array);
    expect(hex(privateKey)).toBe(aPrivateKeyHex());
  });

  it('accepts a key ending in a lone \\r, a line terminator for Java readAllLines', () => {
    // Given a key file with an old-Mac line ending (Files.readAllLines treats \r alone as a line end)
    const text = `0x${aPrivateKeyHex()}\r`;
    // When it is parsed
    // Then it is the key, as Besu's KeyPairUtil reads it
    expect(hex(parseNodeKeyFile(text, 'nodes/a/key'))).toBe(aPrivateKeyHex());
  });

  it.each([
    ['0x01', `${'00'.repeat(31)}01`],
    ['abcd\n', `${'00'.repeat(30)}abcd`],
    [`0x${'11'.repeat(31)}`, `00${'11'.repeat(31)}`],
  ])('left-pads the short value %j to 32 bytes (Tuweni Bytes32.fromHexString)', (text, expected) => {
    // When a short even-length value is parsed
    const privateKey = parseNodeKeyFile(text, 'nodes/a/key');
    // Then it is left-padded with zero bytes
    expect(privateKey).toHaveLength(32);
    expect(hex(privateKey)).toBe(expected);
  });

  it.each([
    ['two lines', `0x${aPrivateKeyHex()}\n0x${aPrivateKeyHex()}`],
    ['a blank extra line', `0x${aPrivateKeyHex()}\n\n`],
    ['a blank extra line with \\r\\n', `0x${aPrivateKeyHex()}\r\n\r\n`],
    ['a blank first line', `\n0x${aPrivateKeyHex()}`],
    ['an empty file', ''],
    ['only 0x', '0x'],
    ['odd length', `0x${aPrivateKeyHex().slice(1)}`],
    ['more than 32 bytes', `0x00${aPrivateKeyHex()}`],
    ['a non-hex character', `0x${aPrivateKeyHex().slice(0, 63)}g`],
    ['leading whitespace (Besu does not trim)', ` 0x${aPrivateKeyHex()}`],
    ['trailing whitespace (Besu does not trim)', `0x${aPrivateKeyHex()} \n`],
    ['a double 0x', `0x0x${aPrivateKeyHex()}`],
  ])('rejects %s', (_case, text) => {
    // When a key file Besu refuses is parsed
    const error = thrownBy(() => parseNodeKeyFile(text, 'nodes/validator-1/key'));
    // Then it is an input error naming the file, with a hint about the format
    expect(error.code).toBe(ErrorCodes.KEY_INVALID);
    expect(error.code).toBe('PC_KEY_INVALID');
    expect(error.message).toBe('nodes/validator-1/key: not a node key file Besu can read');
    expect(error.hint).toContain('0x followed by 64 hex digits');
  });

  it.each([
    ['the zero key', `0x${'00'.repeat(32)}`],
    ['a short zero key', '0x00'],
    ['the curve order n', '0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141'],
    ['all ones (above n)', `0x${'ff'.repeat(32)}`],
  ])('rejects %s, which is no secp256k1 private key', (_case, text) => {
    // When a well-formed value outside 1..n-1 is parsed
    const error = thrownBy(() => parseNodeKeyFile(text, 'keys/tx/key'));
    // Then it is an input error naming the file
    expect(error.code).toBe(ErrorCodes.KEY_INVALID);
    expect(error.message).toBe('keys/tx/key: the value is not a valid secp256k1 private key');
  });
});

describe('formatNodeKeyFile', () => {
  it('writes 0x + 64 lowercase hex and no newline, as Besu writes its key file', () => {
    // Given a key parsed from uppercase text
    const privateKey = parseNodeKeyFile(aPrivateKeyHex().toUpperCase(), 'key');
    // When it is formatted
    const text = formatNodeKeyFile(privateKey);
    // Then it is exactly Besu's own format
    expect(text).toBe(`0x${aPrivateKeyHex()}`);
    expect(text).toMatch(/^0x[0-9a-f]{64}$/);
  });

  it('keeps the leading zero bytes of a small key', () => {
    // Given a key whose value fits in one byte
    const privateKey = parseNodeKeyFile('0x07', 'key');
    // When it is formatted
    // Then all 32 bytes are written
    expect(formatNodeKeyFile(privateKey)).toBe(`0x${'00'.repeat(31)}07`);
  });

  it.each(Array.from({ length: 8 }, (_, index) => index))('round-trips a fresh random key (#%i)', () => {
    // Given a freshly generated key
    const privateKey = generatePrivateKey();
    // When it is formatted and parsed back
    const text = formatNodeKeyFile(privateKey);
    const parsed = parseNodeKeyFile(text, 'key');
    // Then the bytes are the same and the text is in Besu's format
    expect(text).toMatch(/^0x[0-9a-f]{64}$/);
    expect(parsed).toEqual(privateKey);
  });
});

describe('normalisePublicKey', () => {
  it('returns 128 lowercase hex without 0x for a key given with 0x in uppercase', () => {
    // Given a public key as an operator may paste it
    const pasted = `0x${aPublicKeyHex().toUpperCase()}`;
    // When it is normalised
    // Then it is the canonical form used in enodes
    expect(normalisePublicKey(pasted, 'nodes[0].publicKey')).toBe(aPublicKeyHex());
  });

  it.each([
    ['x = 1, y = 1', `${'00'.repeat(31)}01${'00'.repeat(31)}01`],
    ['all zeros', '00'.repeat(64)],
    ['a valid key with its last digit changed', `${aPublicKeyHex().slice(0, 127)}3`],
  ])('rejects a point not on secp256k1 (%s)', (_case, publicKey) => {
    // When a 128-hex value that is not a curve point is normalised
    const error = thrownBy(() => normalisePublicKey(publicKey, 'nodes[2].publicKey'));
    // Then it is an input error naming where it came from
    expect(error.code).toBe(ErrorCodes.KEY_INVALID);
    expect(error.message).toBe('nodes[2].publicKey: not a point on the secp256k1 curve');
    expect(error.hint).toContain('besu public-key export');
  });

  it.each([
    ['127 hex digits', aPublicKeyHex().slice(1), 127],
    ['the 04-prefixed uncompressed form (130 digits)', `04${aPublicKeyHex()}`, 130],
    ['a compressed key (66 digits)', `02${aPublicKeyHex().slice(0, 64)}`, 66],
  ])('rejects %s', (_case, publicKey, length) => {
    // When a value of the wrong length is normalised
    const error = thrownBy(() => normalisePublicKey(publicKey, 'nodes[1].publicKey'));
    // Then the error gives the expected and the found length
    expect(error.code).toBe(ErrorCodes.KEY_INVALID);
    expect(error.message).toBe(`nodes[1].publicKey: expected 128 hex digits, found ${length} characters`);
  });

  it('makes addressFromPublicKey reject a point not on the curve too', () => {
    // When the address of an off-curve value is asked for
    const error = thrownBy(() => addressFromPublicKey('00'.repeat(64)));
    // Then it is refused rather than hashed
    expect(error.code).toBe(ErrorCodes.KEY_INVALID);
  });
});

describe('enodeUrl', () => {
  it('formats enode://<128 hex>@<ipv4>:<port> without discport', () => {
    // When the enode of a node on an IPv4 address is formatted
    const url = enodeUrl(aPublicKeyHex(), '10.20.0.11', 30303);
    // Then it is the form Besu's EnodeURLImpl accepts
    expect(url).toBe(`enode://${aPublicKeyHex()}@10.20.0.11:30303`);
    expect(url).toMatch(/^enode:\/\/[0-9a-f]{128}@[0-9.]+:\d+$/);
  });

  it.each([
    ['::1', '[::1]'],
    ['fd00:20::11', '[fd00:20::11]'],
  ])('puts the IPv6 address %s in brackets', (host, bracketed) => {
    // When the enode of a node on an IPv6 address is formatted
    const url = enodeUrl(aPublicKeyHex(), host, 30304);
    // Then the address is bracketed so the port stays unambiguous
    expect(url).toBe(`enode://${aPublicKeyHex()}@${bracketed}:30304`);
  });
});
