import { describe, expect, it } from 'vitest';
import { aNetworkSpec } from '../../../test/support/spec-builders.js';
import { buildGenesis, sortValidators } from './build.js';
import { decodeExtraData } from './extra-data.js';

// The quorum-dev-quickstart validator addresses (NOTES.md (b)), in the order the quickstart lists them.
const quickstartValidators = (): string[] => [
  '0x93917cadbace5dfce132b991732c6cda9bcc5b8a',
  '0x27a97c9aaf04f18f3014c32e036dd0ac76da5f18',
  '0xce412f988377e31f4d0ff12d74df73b51c42d0ca',
  '0x98c1334496614aed49d2e81526d089f7264fed9c',
];
const sortedQuickstartValidators = (): string[] => [
  '0x27a97c9aaf04f18f3014c32e036dd0ac76da5f18',
  '0x93917cadbace5dfce132b991732c6cda9bcc5b8a',
  '0x98c1334496614aed49d2e81526d089f7264fed9c',
  '0xce412f988377e31f4d0ff12d74df73b51c42d0ca',
];

describe('buildGenesis', () => {
  it('writes the top-level keys in the order config, nonce, timestamp, gasLimit, difficulty, mixHash, coinbase, baseFeePerGas, extraData, alloc', () => {
    // Given a spec and its validators
    // When the genesis is built and serialised
    const genesis = buildGenesis(aNetworkSpec(), quickstartValidators());
    const reparsed = JSON.parse(JSON.stringify(genesis)) as Record<string, unknown>;
    // Then the keys come in the file's fixed order
    const order = [
      'config',
      'nonce',
      'timestamp',
      'gasLimit',
      'difficulty',
      'mixHash',
      'coinbase',
      'baseFeePerGas',
      'extraData',
      'alloc',
    ];
    expect(Object.keys(genesis)).toEqual(order);
    expect(Object.keys(reparsed)).toEqual(order);
  });

  it('carries the IBFT 2.0 header constants Besu enforces', () => {
    // When a genesis is built
    const genesis = buildGenesis(aNetworkSpec(), quickstartValidators());
    // Then mixHash is "ctical byzantine fault tolerance", difficulty 1, nonce 0
    expect(genesis.mixHash).toBe('0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365');
    expect(Buffer.from(genesis.mixHash.slice(2), 'hex').toString('latin1')).toBe(
      'ctical byzantine fault tolerance',
    );
    expect(genesis.difficulty).toBe('0x1');
    expect(genesis.nonce).toBe('0x0');
    expect(genesis.timestamp).toBe('0x0');
    expect(genesis.coinbase).toBe('0x0000000000000000000000000000000000000000');
  });

  it('takes the chain id and the ibft2 parameters from the spec', () => {
    // Given a spec with its own chain id and consensus values
    const spec = aNetworkSpec({
      chainId: 777001,
      consensus: { blockPeriodSeconds: 5, epochLength: 12345, requestTimeoutSeconds: 11 },
    });
    // When the genesis is built
    const { config } = buildGenesis(spec, quickstartValidators());
    // Then config carries them under Besu's lowercase ibft2 names
    expect(config.chainId).toBe(777001);
    expect(config.ibft2).toEqual({ blockperiodseconds: 5, epochlength: 12345, requesttimeoutseconds: 11 });
    expect(config).not.toHaveProperty('qbft');
    expect(config).not.toHaveProperty('clique');
    expect(config).not.toHaveProperty('ethash');
  });

  it.each([
    [5_000_000, '0x4c4b40'],
    [100_000_000, '0x5f5e100'],
    [9_007_199_254_740_991, '0x1fffffffffffff'],
  ])('writes blockGasLimit %i as gasLimit %s', (blockGasLimit, gasLimit) => {
    // Given a spec with that block gas limit
    // When the genesis is built
    const genesis = buildGenesis(aNetworkSpec({ blockGasLimit }), quickstartValidators());
    // Then gasLimit is its lowercase 0x-hex
    expect(genesis.gasLimit).toBe(gasLimit);
  });

  it('makes gas free: zeroBaseFee and baseFeePerGas 0x0', () => {
    // When a genesis is built
    const genesis = buildGenesis(aNetworkSpec(), quickstartValidators());
    // Then the base fee is zero from the start
    expect(genesis.config.zeroBaseFee).toBe(true);
    expect(genesis.baseFeePerGas).toBe('0x0');
    expect(genesis.alloc).toEqual({});
  });

  it('activates London at block 0 and no timestamp milestone (no shanghaiTime, no cancunTime)', () => {
    // When a genesis is built
    const { config } = buildGenesis(aNetworkSpec(), quickstartValidators());
    // Then every block milestone up to London is at 0
    for (const milestone of [
      'homesteadBlock',
      'eip150Block',
      'eip155Block',
      'eip158Block',
      'byzantiumBlock',
      'constantinopleBlock',
      'petersburgBlock',
      'istanbulBlock',
      'muirGlacierBlock',
      'berlinBlock',
      'londonBlock',
    ]) {
      expect(config[milestone], milestone).toBe(0);
    }
    // And no Shanghai, Cancun or any later timestamp milestone is set
    expect(config).not.toHaveProperty('shanghaiTime');
    expect(config).not.toHaveProperty('cancunTime');
    expect(Object.keys(config).filter((key) => key.endsWith('Time'))).toEqual([]);
  });

  it('encodes the validators sorted ascending in extraData, whatever the input order', () => {
    // Given the quickstart validators in their unsorted order, and reversed
    const spec = aNetworkSpec();
    // When a genesis is built from each order
    const fromGiven = buildGenesis(spec, quickstartValidators());
    const fromReversed = buildGenesis(spec, quickstartValidators().reverse());
    // Then extraData decodes to the ascending list, the same for both
    expect(decodeExtraData(fromGiven.extraData)).toEqual({
      vanity: `0x${'00'.repeat(32)}`,
      validators: sortedQuickstartValidators(),
      vote: undefined,
      round: 0,
      seals: [],
    });
    expect(fromReversed.extraData).toBe(fromGiven.extraData);
  });

  it('sorts checksum-cased addresses by their bytes and writes them in lowercase', () => {
    // Given addresses where a plain string sort would put uppercase B before lowercase a
    const mixed = [
      '0xB000000000000000000000000000000000000001',
      '0xa000000000000000000000000000000000000002',
    ];
    // When the genesis is built
    const { extraData } = buildGenesis(aNetworkSpec(), mixed);
    // Then the list is ascending by bytes (a0… before b0…) and lowercase
    expect(decodeExtraData(extraData).validators).toEqual([
      '0xa000000000000000000000000000000000000002',
      '0xb000000000000000000000000000000000000001',
    ]);
  });

  it('does not reorder the caller’s array', () => {
    // Given an unsorted validator list
    const validators = quickstartValidators();
    // When the genesis is built
    buildGenesis(aNetworkSpec(), validators);
    // Then the caller's array is unchanged
    expect(validators).toEqual(quickstartValidators());
  });

  it('returns a fresh object each time, so changing one genesis does not change the next', () => {
    // Given a built genesis that the caller then modifies
    const first = buildGenesis(aNetworkSpec(), quickstartValidators());
    first.config.londonBlock = 99;
    first.alloc['0x0000000000000000000000000000000000000001'] = { balance: '0x1' };
    // When another genesis is built
    const second = buildGenesis(aNetworkSpec(), quickstartValidators());
    // Then it has the defaults, not the modifications
    expect(second.config.londonBlock).toBe(0);
    expect(second.alloc).toEqual({});
  });
});

describe('sortValidators', () => {
  it('sorts lowercase addresses ascending, which is their byte order', () => {
    // Given addresses in an arbitrary order and case
    const input = [
      '0xff00000000000000000000000000000000000000',
      '0x0A00000000000000000000000000000000000000',
    ];
    // When they are sorted
    // Then they are lowercase, ascending
    expect(sortValidators(input)).toEqual([
      '0x0a00000000000000000000000000000000000000',
      '0xff00000000000000000000000000000000000000',
    ]);
  });
});
