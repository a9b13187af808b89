import { keccak_256 } from '@noble/hashes/sha3.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { describeWithReference, thrownBy } from '../../../test/support/reference.js';
import { ErrorCodes } from '../errors.js';
import {
  decodeExtraData,
  encodeExtraData,
  encodeGenesisExtraData,
  type IbftExtraData,
} from './extra-data.js';

interface ExtraDataVector {
  id: string;
  form: string;
  vanity: string;
  validators: string[];
  vote: { recipient: string; type: 'ADD' | 'DROP' } | null;
  round: number;
  seals: string[];
  expectedExtraDataHex: string;
}

function fieldsOf(vector: ExtraDataVector): IbftExtraData {
  return {
    vanity: vector.vanity,
    validators: vector.validators,
    vote: vector.vote ?? undefined,
    round: vector.round,
    seals: vector.seals,
  };
}

/** `count` distinct, deterministic addresses: keccak256("validator <seed> <i>")[12:]. */
function anAddressList(count: number, seed = 'a'): string[] {
  return Array.from(
    { length: count },
    (_, index) => `0x${bytesToHex(keccak_256(utf8ToBytes(`validator ${seed} ${index}`)).subarray(12))}`,
  );
}

function aGenesisExtraData(overrides: Partial<IbftExtraData> = {}): IbftExtraData {
  return {
    vanity: `0x${'00'.repeat(32)}`,
    validators: anAddressList(2),
    vote: undefined,
    round: 0,
    seals: [],
    ...overrides,
  };
}

/** The RLP list header for a payload of `length` bytes, written out from the RLP rules (yellow paper, appendix B). */
function rlpListHeader(length: number): string {
  if (length < 56) return (0xc0 + length).toString(16);
  let lengthHex = length.toString(16);
  if (lengthHex.length % 2 === 1) lengthHex = `0${lengthHex}`;
  return (0xf7 + lengthHex.length / 2).toString(16) + lengthHex;
}

/** A genesis extraData built by hand, byte by byte, independently of the code under test. */
function handEncodedGenesis(validators: readonly string[]): string {
  const validatorList =
    rlpListHeader(21 * validators.length) + validators.map((a) => `94${a.slice(2)}`).join('');
  const payload = `a0${'00'.repeat(32)}${validatorList}808400000000c0`;
  return `0x${rlpListHeader(payload.length / 2)}${payload}`;
}

describeWithReference<ExtraDataVector[]>(
  'the Besu IBFT 2.0 extraData vectors',
  'besu/ibft2-extradata-vectors.json',
  (vectors) => {
    it('are all present (12 vectors, 7 in genesis form)', () => {
      // Given the reference file
      // Then it holds what NOTES.md describes, so a truncated copy cannot pass silently
      expect(vectors).toHaveLength(12);
      expect(vectors.filter((vector) => vector.form.startsWith('genesis'))).toHaveLength(7);
    });

    it.each(vectors.map((vector) => [vector.id, vector] as const))(
      '%s: encodes byte-identically from its fields',
      (_id, vector) => {
        // Given the decoded fields of a Besu vector
        // When they are encoded
        const hex = encodeExtraData(fieldsOf(vector));
        // Then the bytes are exactly Besu's
        expect(hex).toBe(vector.expectedExtraDataHex);
      },
    );

    it.each(vectors.map((vector) => [vector.id, vector] as const))(
      '%s: decodes back to the same fields',
      (_id, vector) => {
        // Given Besu's bytes
        // When they are decoded
        const fields = decodeExtraData(vector.expectedExtraDataHex);
        // Then every field equals the vector's
        expect(fields).toEqual(fieldsOf(vector));
      },
    );

    it.each(
      vectors
        .filter((vector) => vector.form.startsWith('genesis'))
        .map((vector) => [vector.id, vector] as const),
    )('%s: is what encodeGenesisExtraData gives for its validators', (_id, vector) => {
      // Given a genesis-form vector (zero vanity, no vote, round 0, no seals)
      expect(vector.vote).toBeNull();
      expect(vector.round).toBe(0);
      // When only its validator list is encoded
      const hex = encodeGenesisExtraData(vector.validators);
      // Then the bytes are Besu's, validators in the order given (the encoder does not sort)
      expect(hex).toBe(vector.expectedExtraDataHex);
      expect(hex.endsWith('808400000000c0')).toBe(true);
    });
  },
);

describe('encodeGenesisExtraData and decodeExtraData over generated validator lists', () => {
  it.each([0, 1, 2, 3, 4, 10, 11, 12, 13, 30])(
    'round-trips %i validators with the RLP-rule prefixes',
    (count) => {
      // Given `count` distinct addresses
      const validators = anAddressList(count, `n${count}`);
      // When they are encoded as a genesis extraData
      const hex = encodeGenesisExtraData(validators);
      // Then the bytes equal an encoding written out by hand from the RLP rules
      expect(hex).toBe(handEncodedGenesis(validators));
      // And decoding gives back the same list in the same order, with the genesis defaults
      expect(decodeExtraData(hex)).toEqual({
        vanity: `0x${'00'.repeat(32)}`,
        validators,
        vote: undefined,
        round: 0,
        seals: [],
      });
    },
  );

  it.each([
    // N, outer prefix, validator-list prefix, total bytes: NOTES.md (a) "Genesis size by validator count"
    [1, 'f83e', 'd5', 64],
    [2, 'f853', 'ea', 85],
    [4, 'f87e', 'f854', 128],
    [11, 'f90111', 'f8e7', 276],
    [13, 'f9013c', 'f90111', 319],
  ] as const)(
    'gives %i validators the outer prefix %s documented in NOTES.md',
    (count, outer, inner, size) => {
      // Given `count` validators
      const hex = encodeGenesisExtraData(anAddressList(count)).slice(2);
      // Then the outer list header, the validator-list header (after the 33-byte vanity) and the size match NOTES.md
      expect(hex.startsWith(`${outer}a0${'00'.repeat(32)}${inner}94`)).toBe(true);
      expect(hex.length / 2).toBe(size);
    },
  );

  it('keeps uppercase (checksummed) input as lowercase hex', () => {
    // Given a checksum-cased address
    const address = '0xBE068f726a13C8d46C44BE6ce9d275600e1735a4';
    // When it is encoded and decoded
    const { validators } = decodeExtraData(encodeGenesisExtraData([address]));
    // Then the decoded address is the same bytes in lowercase
    expect(validators).toEqual([address.toLowerCase()]);
  });
});

describe('encodeExtraData', () => {
  it('encodes a DROP vote as the single byte 00 and an ADD vote as 81ff', () => {
    // Given the same extraData with a DROP vote and with an ADD vote
    const recipient = anAddressList(1, 'recipient')[0]!;
    const drop = encodeExtraData(aGenesisExtraData({ vote: { recipient, type: 'DROP' } }));
    const add = encodeExtraData(aGenesisExtraData({ vote: { recipient, type: 'ADD' } }));
    // Then the vote is the list d6 [94 recipient, 00] or d7 [94 recipient, 81 ff] (Besu's VoteType values)
    expect(drop).toContain(`d694${recipient.slice(2)}00`);
    expect(add).toContain(`d794${recipient.slice(2)}81ff`);
  });

  it.each([
    [0, '8400000000'],
    [1, '8400000001'],
    [0x00fedcba, '8400fedcba'],
    [0xffffffff, '84ffffffff'],
  ])('writes round %i as 4 fixed bytes (%s)', (round, encoded) => {
    // Given an extraData with that round
    // When it is encoded
    const hex = encodeExtraData(aGenesisExtraData({ round }));
    // Then the round is the fixed-width 4-byte form just before the empty seal list
    expect(hex.endsWith(`${encoded}c0`)).toBe(true);
    expect(decodeExtraData(hex).round).toBe(round);
  });

  it.each([
    ['19 bytes', `0x${'11'.repeat(19)}`],
    ['21 bytes', `0x${'11'.repeat(21)}`],
    ['a non-hex digit', `0x${'11'.repeat(19)}zz`],
    ['an empty string', ''],
  ])('rejects a validator address of %s', (_case, address) => {
    // Given a validator list whose second address is unusable
    const extraData = aGenesisExtraData({ validators: [anAddressList(1)[0]!, address] });
    // When it is encoded
    const error = thrownBy(() => encodeExtraData(extraData));
    // Then it is an input error naming the validator and the expected size
    expect(error.code).toBe(ErrorCodes.EXTRA_DATA_INVALID);
    expect(error.code).toBe('PC_EXTRA_DATA_INVALID');
    expect(error.message).toContain('validator 2: expected 20 bytes (40 hex digits)');
  });

  it('rejects a bad address through encodeGenesisExtraData too', () => {
    // Given a genesis list with a 19-byte address
    // When it is encoded
    const error = thrownBy(() => encodeGenesisExtraData([`0x${'ab'.repeat(19)}`]));
    // Then the same input error is thrown
    expect(error.code).toBe(ErrorCodes.EXTRA_DATA_INVALID);
    expect(error.message).toContain('validator 1: expected 20 bytes');
  });

  it('rejects a vote recipient of the wrong length', () => {
    // Given a vote for a 21-byte recipient
    const extraData = aGenesisExtraData({ vote: { recipient: `0x${'22'.repeat(21)}`, type: 'ADD' } });
    // When it is encoded
    const error = thrownBy(() => encodeExtraData(extraData));
    // Then the recipient is named
    expect(error.code).toBe(ErrorCodes.EXTRA_DATA_INVALID);
    expect(error.message).toContain('vote recipient: expected 20 bytes');
  });

  it.each([-1, 2 ** 32, 1.5, Number.NaN])('rejects round %s as out of range', (round) => {
    // Given a round that does not fit Besu's 4-byte round field
    // When it is encoded
    const error = thrownBy(() => encodeExtraData(aGenesisExtraData({ round })));
    // Then the error says what range is expected and what was found
    expect(error.code).toBe(ErrorCodes.EXTRA_DATA_INVALID);
    expect(error.message).toBe(`round: expected an integer from 0 to 2^32-1, found ${round}`);
  });

  it('rejects a wrong-size vanity and a wrong-size seal', () => {
    // Given a 31-byte vanity, then a 64-byte seal
    const badVanity = () => encodeExtraData(aGenesisExtraData({ vanity: `0x${'00'.repeat(31)}` }));
    const badSeal = () => encodeExtraData(aGenesisExtraData({ seals: [`0x${'00'.repeat(64)}`] }));
    // Then each is an input error naming its field
    expect(thrownBy(badVanity).message).toContain('vanity: expected 32 bytes');
    expect(thrownBy(badSeal).message).toContain('seal 1: expected 65 bytes');
    expect(thrownBy(badSeal).code).toBe(ErrorCodes.EXTRA_DATA_INVALID);
  });
});

describe('decodeExtraData', () => {
  const vanity = `a0${'00'.repeat(32)}`;
  const oneValidator = (address = '11'.repeat(20)) => `d594${address}`;

  it('accepts the hex without 0x and in uppercase', () => {
    // Given a genesis extraData without its 0x, in uppercase
    const validators = anAddressList(3);
    const hex = encodeGenesisExtraData(validators).slice(2).toUpperCase();
    // When it is decoded
    // Then the fields are the same as for the canonical form
    expect(decodeExtraData(hex).validators).toEqual(validators);
  });

  it.each([
    ['odd-length hex', '0xf83'],
    ['a non-hex character', '0xf8zz'],
    ['an empty value', '0x'],
  ])('rejects %s', (_case, hex) => {
    // When a value that is not whole bytes of hex is decoded
    const error = thrownBy(() => decodeExtraData(hex));
    // Then it is an input error about the hex itself
    expect(error.code).toBe(ErrorCodes.EXTRA_DATA_INVALID);
    expect(error.message).toBe('Invalid IBFT 2.0 extraData: expected an even number of hex digits');
    expect(error.hint).toBeDefined();
  });

  it.each([
    ['a truncated list', '0xf853a000'],
    ['trailing bytes after the list', `0x${encodeGenesisExtraData(anAddressList(1)).slice(2)}00`],
    ['a length prefix longer than the value', '0xb90100'],
  ])('rejects a value that is not RLP: %s', (_case, hex) => {
    // When it is decoded
    const error = thrownBy(() => decodeExtraData(hex));
    // Then it is an input error saying it is not RLP
    expect(error.code).toBe(ErrorCodes.EXTRA_DATA_INVALID);
    expect(error.message).toMatch(/^Invalid IBFT 2\.0 extraData: not valid RLP \(.+\)$/);
  });

  it('rejects a QBFT-layout value (vote as an empty list c0, round as an empty string 80)', () => {
    // Given a QBFT genesis extraData, built by hand: [vanity, [validator], [], 0 as 80, []]
    const payload = `${vanity}${oneValidator()}c080c0`;
    const hex = `0x${rlpListHeader(payload.length / 2)}${payload}`;
    expect(hex.endsWith('c080c0')).toBe(true);
    // When it is decoded as IBFT 2.0
    const error = thrownBy(() => decodeExtraData(hex));
    // Then it is rejected, and the message tells the operator this is the QBFT layout
    expect(error.code).toBe(ErrorCodes.EXTRA_DATA_INVALID);
    expect(error.message).toMatch(/QBFT/);
  });

  it('rejects a round encoded as an empty string 80 and names the QBFT layout', () => {
    // Given an IBFT 2.0 value whose only fault is round 0 written as a scalar (80)
    const payload = `${vanity}${oneValidator()}8080c0`;
    // When it is decoded
    const error = thrownBy(() => decodeExtraData(`0x${rlpListHeader(payload.length / 2)}${payload}`));
    // Then the round is named, with the reason
    expect(error.code).toBe(ErrorCodes.EXTRA_DATA_INVALID);
    expect(error.message).toBe(
      'Invalid IBFT 2.0 extraData: round: expected 4 bytes, found 0 (an empty round is the QBFT layout, not IBFT 2.0)',
    );
  });

  it('rejects a 3-byte round (IbftExtraDataRLPEncoderTest.incorrectlyEncodedRoundThrowsRlpException)', () => {
    // Given round 1 written on 3 bytes
    const payload = `${vanity}${oneValidator()}8083000001c0`;
    // When it is decoded
    const error = thrownBy(() => decodeExtraData(`0x${rlpListHeader(payload.length / 2)}${payload}`));
    // Then the round's size is the reported fault
    expect(error.code).toBe(ErrorCodes.EXTRA_DATA_INVALID);
    expect(error.message).toBe('Invalid IBFT 2.0 extraData: round: expected 4 bytes, found 3');
  });

  it('rejects a 19-byte validator', () => {
    // Given a validator list whose second entry is 19 bytes
    const validators = `94${'11'.repeat(20)}93${'22'.repeat(19)}`;
    const payload = `${vanity}${rlpListHeader(validators.length / 2)}${validators}808400000000c0`;
    // When it is decoded
    const error = thrownBy(() => decodeExtraData(`0x${rlpListHeader(payload.length / 2)}${payload}`));
    // Then that validator is named with its size
    expect(error.code).toBe(ErrorCodes.EXTRA_DATA_INVALID);
    expect(error.message).toBe('Invalid IBFT 2.0 extraData: validator 2: expected 20 bytes, found 19');
  });

  it('rejects a list of 3 items (the block-hash form without round and seals)', () => {
    // Given [vanity, validators, vote], the form Besu hashes for the block hash
    const payload = `${vanity}${oneValidator()}80`;
    // When it is decoded
    const error = thrownBy(() => decodeExtraData(`0x${rlpListHeader(payload.length / 2)}${payload}`));
    // Then the error says what it looks like
    expect(error.code).toBe(ErrorCodes.EXTRA_DATA_INVALID);
    expect(error.message).toBe(
      'Invalid IBFT 2.0 extraData: a list of 3 items: this looks like the hashing form, not a header extraData',
    );
  });

  it.each([
    ['4 items (without seals)', `${vanity}${'d594'}${'11'.repeat(20)}808400000000`],
    ['6 items', `${vanity}${'d594'}${'11'.repeat(20)}808400000000c0c0`],
  ])('rejects a list of %s', (_case, payload) => {
    // When a list of the wrong length is decoded
    const error = thrownBy(() => decodeExtraData(`0x${rlpListHeader(payload.length / 2)}${payload}`));
    // Then the error names the expected layout
    expect(error.code).toBe(ErrorCodes.EXTRA_DATA_INVALID);
    expect(error.message).toBe(
      'Invalid IBFT 2.0 extraData: expected a list of 5 items: vanity, validators, vote, round, seals',
    );
  });

  it('rejects a single byte string instead of a list', () => {
    // When an RLP byte string is decoded
    const error = thrownBy(() => decodeExtraData(`0xa0${'00'.repeat(32)}`));
    // Then it is rejected as not the 5-item list
    expect(error.code).toBe(ErrorCodes.EXTRA_DATA_INVALID);
    expect(error.message).toContain('expected a list of 5 items');
  });

  it('rejects a vote type other than ff (ADD) or 00 (DROP)', () => {
    // Given a vote [recipient, 0x01]
    const payload = `${vanity}${oneValidator()}d694${'11'.repeat(20)}018400000000c0`;
    // When it is decoded
    const error = thrownBy(() => decodeExtraData(`0x${rlpListHeader(payload.length / 2)}${payload}`));
    // Then the vote is named
    expect(error.code).toBe(ErrorCodes.EXTRA_DATA_INVALID);
    expect(error.message).toBe(
      'Invalid IBFT 2.0 extraData: vote: expected [recipient, 0xff (ADD) or 0x00 (DROP)]',
    );
  });

  it('rejects a 31-byte vanity and a 64-byte seal', () => {
    // Given a value with a short vanity, and one with a short seal
    const shortVanity = `9f${'00'.repeat(31)}${oneValidator()}808400000000c0`;
    const shortSeal = `${vanity}${oneValidator()}808400000000f842b840${'00'.repeat(64)}`;
    // When each is decoded
    const vanityError = thrownBy(() =>
      decodeExtraData(`0x${rlpListHeader(shortVanity.length / 2)}${shortVanity}`),
    );
    const sealError = thrownBy(() => decodeExtraData(`0x${rlpListHeader(shortSeal.length / 2)}${shortSeal}`));
    // Then each names its field
    expect(vanityError.message).toBe('Invalid IBFT 2.0 extraData: vanity: expected 32 bytes, found 31');
    expect(sealError.message).toBe('Invalid IBFT 2.0 extraData: seal 1: expected 65 bytes, found 64');
    expect(sealError.code).toBe(ErrorCodes.EXTRA_DATA_INVALID);
  });
});
