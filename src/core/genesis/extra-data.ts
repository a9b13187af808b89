import { RLP } from '@ethereumjs/rlp';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { ErrorCodes, InputError } from '../errors.js';

/** A validator vote carried in a block's extraData. */
export interface IbftVote {
  recipient: string;
  type: 'ADD' | 'DROP';
}

/** The decoded fields of an IBFT 2.0 extraData value (Besu's `BftExtraData`). */
export interface IbftExtraData {
  /** 32 bytes as 0x-hex. */
  vanity: string;
  /** Addresses as 0x + 40 lowercase hex, in the order they are encoded. */
  validators: string[];
  vote: IbftVote | undefined;
  round: number;
  /** 65-byte commit seals (r ‖ s ‖ recovery id) as 0x-hex. */
  seals: string[];
}

const VOTE_ADD = 0xff;
const VOTE_DROP = 0x00;
const ZERO_VANITY = `0x${'00'.repeat(32)}`;

/**
 * Encodes IBFT 2.0 extraData exactly as Besu's IbftExtraDataCodec does:
 * RLP[vanity(32), [validators], vote | empty string, round as 4 fixed bytes, [seals]].
 * @param extraData - the fields; validators are encoded in the order given
 * @returns 0x-hex
 * @example
 * encodeExtraData({ vanity: ZERO, validators: ['0xbe06...'], vote: undefined, round: 0, seals: [] })
 */
export function encodeExtraData(extraData: IbftExtraData): string {
  const vanity = fixedBytes(extraData.vanity, 32, 'vanity');
  const validators = extraData.validators.map((address, index) =>
    fixedBytes(address, 20, `validator ${index + 1}`),
  );
  const vote = extraData.vote
    ? [
        fixedBytes(extraData.vote.recipient, 20, 'vote recipient'),
        Uint8Array.of(extraData.vote.type === 'ADD' ? VOTE_ADD : VOTE_DROP),
      ]
    : Uint8Array.of();
  if (!Number.isInteger(extraData.round) || extraData.round < 0 || extraData.round > 0xffffffff) {
    throw new InputError(
      ErrorCodes.EXTRA_DATA_INVALID,
      `round: expected an integer from 0 to 2^32-1, found ${extraData.round}`,
    );
  }
  // Besu writes the round with RLPOutput.writeInt: always 4 bytes, so round 0 is 84 00000000.
  const round = new Uint8Array(4);
  new DataView(round.buffer).setUint32(0, extraData.round);
  const seals = extraData.seals.map((seal, index) => fixedBytes(seal, 65, `seal ${index + 1}`));
  return `0x${bytesToHex(RLP.encode([vanity, validators, vote, round, seals]))}`;
}

/**
 * The extraData of an IBFT 2.0 genesis block: zero vanity, the validators, no vote, round 0,
 * no seals (Besu's `encodeFromAddresses`, which `besu rlp encode --type=IBFT_EXTRA_DATA` uses).
 * @param validators - addresses, encoded in the order given
 * @returns 0x-hex
 */
export function encodeGenesisExtraData(validators: readonly string[]): string {
  return encodeExtraData({
    vanity: ZERO_VANITY,
    validators: [...validators],
    vote: undefined,
    round: 0,
    seals: [],
  });
}

/**
 * Decodes IBFT 2.0 extraData and checks every field's size as Besu's decoder does.
 * @param hex - 0x-hex (the 0x is optional)
 * @returns every field
 * @throws InputError (PC_EXTRA_DATA_INVALID) naming the field that is wrong
 */
export function decodeExtraData(hex: string): IbftExtraData {
  const clean = hex.trim().replace(/^0x/i, '');
  if (!/^([0-9a-fA-F]{2})+$/.test(clean)) {
    throw invalid('expected an even number of hex digits');
  }
  let decoded: unknown;
  try {
    decoded = RLP.decode(hexToBytes(clean.toLowerCase()));
  } catch (cause) {
    throw invalid(`not valid RLP (${(cause as Error).message})`);
  }
  if (!Array.isArray(decoded) || decoded.length !== 5) {
    throw invalid(
      Array.isArray(decoded) && decoded.length === 3
        ? 'a list of 3 items: this looks like the hashing form, not a header extraData'
        : 'expected a list of 5 items: vanity, validators, vote, round, seals',
    );
  }
  const [vanity, validators, vote, round, seals] = decoded as unknown[];
  return {
    vanity: `0x${bytesToHex(expectBytes(vanity, 32, 'vanity'))}`,
    validators: expectList(validators, 'validators').map(
      (item, index) => `0x${bytesToHex(expectBytes(item, 20, `validator ${index + 1}`))}`,
    ),
    vote: decodeVote(vote),
    round: decodeRound(round),
    seals: expectList(seals, 'seals').map(
      (item, index) => `0x${bytesToHex(expectBytes(item, 65, `seal ${index + 1}`))}`,
    ),
  };
}

function decodeVote(vote: unknown): IbftVote | undefined {
  if (vote instanceof Uint8Array) {
    if (vote.length === 0) return undefined;
    throw invalid('vote: expected an empty string or a list [recipient, type]');
  }
  const items = expectList(vote, 'vote');
  if (items.length === 0) {
    throw invalid(
      'vote: an empty list is the QBFT layout; IBFT 2.0 encodes "no vote" as an empty string (80)',
    );
  }
  if (items.length !== 2) throw invalid(`vote: expected [recipient, type], found a list of ${items.length}`);
  const [recipient, type] = items;
  const typeBytes = expectBytes(type, undefined, 'vote type');
  const typeByte = typeBytes.length === 0 ? VOTE_DROP : typeBytes.length === 1 ? typeBytes[0] : -1;
  if (typeByte !== VOTE_ADD && typeByte !== VOTE_DROP) {
    throw invalid('vote: expected [recipient, 0xff (ADD) or 0x00 (DROP)]');
  }
  return {
    recipient: `0x${bytesToHex(expectBytes(recipient, 20, 'vote recipient'))}`,
    type: typeByte === VOTE_ADD ? 'ADD' : 'DROP',
  };
}

function decodeRound(round: unknown): number {
  const bytes = expectBytes(round, undefined, 'round');
  if (bytes.length !== 4) {
    throw invalid(
      `round: expected 4 bytes, found ${bytes.length}${bytes.length === 0 ? ' (an empty round is the QBFT layout, not IBFT 2.0)' : ''}`,
    );
  }
  return new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0);
}

function expectBytes(value: unknown, length: number | undefined, field: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw invalid(`${field}: expected a byte string, found a list`);
  if (length !== undefined && value.length !== length) {
    throw invalid(`${field}: expected ${length} bytes, found ${value.length}`);
  }
  return value;
}

function expectList(value: unknown, field: string): unknown[] {
  if (!Array.isArray(value)) throw invalid(`${field}: expected a list, found a byte string`);
  return value;
}

function fixedBytes(hex: string, length: number, field: string): Uint8Array {
  const clean = hex.trim().replace(/^0x/i, '');
  if (!/^[0-9a-fA-F]*$/.test(clean) || clean.length !== length * 2) {
    throw new InputError(
      ErrorCodes.EXTRA_DATA_INVALID,
      `${field}: expected ${length} bytes (${length * 2} hex digits), found "${hex}"`,
    );
  }
  return hexToBytes(clean.toLowerCase());
}

function invalid(message: string): InputError {
  return new InputError(ErrorCodes.EXTRA_DATA_INVALID, `Invalid IBFT 2.0 extraData: ${message}`, {
    hint: 'Pass the extraData hex of an IBFT 2.0 genesis or block header.',
  });
}
