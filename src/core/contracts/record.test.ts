import { describe, expect, it } from 'vitest';
import { InputError } from '../errors.js';
import { parseDeploymentsRecord, type DeploymentEntry } from './record.js';

function anEntry(overrides: Partial<DeploymentEntry> = {}): DeploymentEntry {
  return {
    address: `0x${'ab'.repeat(20)}`,
    txHash: `0x${'01'.repeat(32)}`,
    blockNumber: 3,
    bytecodeHash: `0x${'02'.repeat(32)}`,
    constructorArgs: ['Points', 'PTS', 0, [`0x${'cd'.repeat(20)}`], `0x${'ef'.repeat(20)}`],
    ...overrides,
  };
}

describe('parseDeploymentsRecord', () => {
  it('accepts a partial record and puts its contracts in deployment order', () => {
    // Given a record written with ActivityLog before PointsToken and without Badges
    const json = JSON.parse(
      JSON.stringify({ chainId: 1337, contracts: { ActivityLog: anEntry(), PointsToken: anEntry() } }),
    );

    // When it is parsed
    const record = parseDeploymentsRecord(json);

    // Then both entries are kept, in the fixed order
    expect(record.chainId).toBe(1337);
    expect(Object.keys(record.contracts)).toEqual(['PointsToken', 'ActivityLog']);
    expect(record.contracts.ActivityLog).toEqual(anEntry());
  });

  it('lists every problem of a broken record in one InputError', () => {
    // Given a record with a bad chain id, an unknown contract and a malformed entry
    const json = {
      chainId: '1337',
      contracts: { Token: anEntry(), Badges: { ...anEntry(), address: '0x12', blockNumber: -1 } },
    };

    // When it is parsed
    let error: unknown;
    try {
      parseDeploymentsRecord(json, 'work/deployments.json');
    } catch (caught) {
      error = caught;
    }

    // Then one error names the file and lists each problem by path
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).code).toBe('PC_WORKSPACE_INVALID');
    expect((error as InputError).message).toBe('work/deployments.json is not a valid deployments record');
    expect((error as InputError).details).toEqual([
      'chainId: expected a positive integer, found "1337"',
      'contracts.Token: unknown contract; expected one of PointsToken, Badges, ActivityLog',
      'contracts.Badges.address: expected a 20-byte hex address',
      'contracts.Badges.blockNumber: expected a non-negative integer',
    ]);
  });
});
