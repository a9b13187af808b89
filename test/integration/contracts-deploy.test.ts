import { Wallet, keccak256 } from 'ethers';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  deployContracts,
  type DeployContractsOptions,
  type DeployProgressEvent,
} from '../../src/core/contracts/deploy.js';
import { loadArtifact } from '../../src/core/contracts/artifacts.js';
import type { DeploymentsRecord } from '../../src/core/contracts/record.js';
import { InputError, RefusedError, RemoteError } from '../../src/core/errors.js';
import { connectRpc } from '../../src/io/rpc.js';
import { startAnvil, type AnvilNode } from '../support/anvil.js';
import { rejectionOf } from '../support/net.js';

interface Chain {
  node: AnvilNode;
  options: (overrides?: Partial<DeployContractsOptions>) => DeployContractsOptions;
  nonce: () => Promise<number>;
  /** Every record passed to onRecord by deployments made through `options()`. */
  recorded: DeploymentsRecord[];
  events: DeployProgressEvent[];
}

// A fresh anvil per test, stopped when the test ends, and a builder of deploy options on it.
async function aChain({ chainId = 31337 }: { chainId?: number } = {}): Promise<Chain> {
  const node = await startAnvil({ chainId });
  onTestFinished(() => node.stop());
  const provider = await connectRpc(node.url);
  onTestFinished(() => provider.destroy());
  const deployer = new Wallet(node.accounts[0]!.privateKey, provider);
  const recorded: DeploymentsRecord[] = [];
  const events: DeployProgressEvent[] = [];
  return {
    node,
    recorded,
    events,
    nonce: () => provider.getTransactionCount(deployer.address, 'latest'),
    options: (overrides = {}) => ({
      signer: deployer,
      params: {
        token: { name: 'Peruri Points', symbol: 'PPT', decimals: 2 },
        badges: { uri: 'ipfs://badges/{id}' },
      },
      admins: [node.accounts[1]!.address, node.accounts[2]!.address],
      minter: node.accounts[3]!.address,
      previous: undefined,
      onRecord: async (record) => {
        recorded.push(structuredClone(record));
      },
      onProgress: (event) => events.push(event),
      ...overrides,
    }),
  };
}

describe('deployContracts', () => {
  it('deploys the three contracts with zero-gas legacy transactions and records each one', async () => {
    // Given a fresh chain
    const chain = await aChain();
    const provider = await connectRpc(chain.node.url);
    onTestFinished(() => provider.destroy());
    const deployer = chain.node.accounts[0]!.address;
    const balanceBefore = await provider.getBalance(deployer);

    // When the contracts are deployed without a previous record
    const result = await deployContracts(chain.options());

    // Then each contract is deployed, and recorded as soon as it was mined
    expect(result.contracts.map((c) => [c.name, c.status])).toEqual([
      ['PointsToken', 'deployed'],
      ['Badges', 'deployed'],
      ['ActivityLog', 'deployed'],
    ]);
    expect(result.transactionsSent).toBe(3);
    expect(chain.recorded.map((r) => Object.keys(r.contracts))).toEqual([
      ['PointsToken'],
      ['PointsToken', 'Badges'],
      ['PointsToken', 'Badges', 'ActivityLog'],
    ]);
    expect(chain.recorded.at(-1)).toEqual(result.record);
    expect(result.record.chainId).toBe(31337);

    // And the record matches the chain: runtime code, its hash, the transaction and its block
    for (const name of ['PointsToken', 'Badges', 'ActivityLog'] as const) {
      const entry = result.record.contracts[name]!;
      const code = await provider.getCode(entry.address);
      expect(code).toBe(loadArtifact(name).deployedBytecode);
      expect(entry.bytecodeHash).toBe(keccak256(code));
      const tx = await provider.getTransaction(entry.txHash);
      const receipt = await provider.getTransactionReceipt(entry.txHash);
      expect(receipt?.contractAddress).toBe(entry.address);
      expect(receipt?.blockNumber).toBe(entry.blockNumber);
      expect(tx?.type).toBe(0);
      expect(tx?.gasPrice).toBe(0n);
    }
    expect(await provider.getBalance(deployer)).toBe(balanceBefore);

    // And the constructor arguments are recorded with checksummed addresses
    const [admin1, admin2] = [chain.node.accounts[1]!.address, chain.node.accounts[2]!.address];
    const minter = chain.node.accounts[3]!.address;
    expect(result.record.contracts.PointsToken!.constructorArgs).toEqual([
      'Peruri Points',
      'PPT',
      2,
      [admin1, admin2],
      minter,
    ]);
    expect(result.record.contracts.Badges!.constructorArgs).toEqual([
      'ipfs://badges/{id}',
      [admin1, admin2],
      minter,
    ]);
    expect(result.record.contracts.ActivityLog!.constructorArgs).toEqual([[admin1, admin2], minter]);

    // And the roles were granted by the constructors and read back
    expect(result.roles.filter((r) => r.granted)).toHaveLength(9);
    expect(result.roles).toContainEqual({
      contract: 'ActivityLog',
      role: 'ANCHOR_ROLE',
      account: minter,
      granted: true,
    });
    expect(result.warnings).toEqual([]);
    expect(chain.events.filter((e) => e.type === 'sent')).toHaveLength(3);
  });

  it('verifies a complete record on a re-run and sends no transaction', async () => {
    // Given contracts deployed by a first run
    const chain = await aChain();
    const first = await deployContracts(chain.options());
    const nonceBefore = await chain.nonce();
    chain.recorded.length = 0;

    // When it runs again with the record
    const second = await deployContracts(chain.options({ previous: first.record }));

    // Then nothing is sent and the same addresses come back as verified
    expect(await chain.nonce()).toBe(nonceBefore);
    expect(second.transactionsSent).toBe(0);
    expect(chain.recorded).toEqual([]);
    expect(second.contracts.map((c) => c.status)).toEqual(['verified', 'verified', 'verified']);
    expect(second.contracts.map((c) => c.address)).toEqual(first.contracts.map((c) => c.address));
    expect(second.record).toEqual(first.record);
    expect(second.roles.every((r) => r.granted)).toBe(true);
  });

  it('resumes from a partial record and deploys only what is missing', async () => {
    // Given a run whose caller could persist only the first contract (a crash after PointsToken)
    const chain = await aChain();
    const saved: DeploymentsRecord[] = [];
    const crash = await rejectionOf(
      deployContracts(
        chain.options({
          onRecord: async (record) => {
            if (saved.length === 1) throw new Error('disk full');
            saved.push(structuredClone(record));
          },
        }),
      ),
    );
    expect((crash as Error).message).toBe('disk full');
    expect(Object.keys(saved[0]!.contracts)).toEqual(['PointsToken']);
    const nonceBefore = await chain.nonce();

    // When it runs again with what was saved
    const result = await deployContracts(chain.options({ previous: saved[0] }));

    // Then PointsToken is verified in place and only the other two are deployed
    expect(result.contracts.map((c) => [c.name, c.status])).toEqual([
      ['PointsToken', 'verified'],
      ['Badges', 'deployed'],
      ['ActivityLog', 'deployed'],
    ]);
    expect(result.contracts[0]!.address).toBe(saved[0]!.contracts.PointsToken!.address);
    expect(await chain.nonce()).toBe(nonceBefore + 2);
    expect(Object.keys(result.record.contracts)).toEqual(['PointsToken', 'Badges', 'ActivityLog']);
  });

  it('refuses a record of another chain unless the chain change is allowed', async () => {
    // Given a record made on chain 31337 and a node serving chain 1337
    const original = await aChain({ chainId: 31337 });
    const { record } = await deployContracts(original.options());
    const other = await aChain({ chainId: 1337 });
    const nonceBefore = await other.nonce();

    // When deploying to the other chain with that record
    const error = await rejectionOf(deployContracts(other.options({ previous: record })));

    // Then it is refused with PC_CHAIN_MISMATCH and nothing is sent
    expect(error).toBeInstanceOf(RefusedError);
    expect((error as RefusedError).code).toBe('PC_CHAIN_MISMATCH');
    expect((error as RefusedError).message).toContain('31337');
    expect((error as RefusedError).message).toContain('1337');
    expect(await other.nonce()).toBe(nonceBefore);

    // When the chain change is allowed
    const result = await deployContracts(other.options({ previous: record, allowChainChange: true }));

    // Then all three are deployed afresh and the record now names the new chain
    expect(result.record.chainId).toBe(1337);
    expect(result.contracts.map((c) => c.status)).toEqual(['deployed', 'deployed', 'deployed']);
    expect(other.events).toContainEqual({ type: 'chain-changed', previousChainId: 31337, chainId: 1337 });
  });

  it('turns an unreachable RPC endpoint into a RemoteError that names the URL', async () => {
    // Given a provider connected to a node that then stops
    const chain = await aChain();
    const options = chain.options();
    await chain.node.stop();

    // When connecting to it, or deploying through the provider that is already connected
    const connectError = await rejectionOf(connectRpc(chain.node.url, { timeoutMs: 2_000 }));
    const deployError = await rejectionOf(deployContracts(options));

    // Then both are RemoteErrors with PC_REMOTE_FAILED naming the endpoint
    for (const error of [connectError, deployError]) {
      expect(error).toBeInstanceOf(RemoteError);
      expect((error as RemoteError).code).toBe('PC_REMOTE_FAILED');
      expect((error as RemoteError).message).toContain(chain.node.url);
    }
  });

  it('refuses a record whose bytecode hash was tampered with, sending nothing', async () => {
    // Given a complete record with one hash changed
    const chain = await aChain();
    const { record } = await deployContracts(chain.options());
    const tampered = structuredClone(record);
    tampered.contracts.Badges!.bytecodeHash = keccak256('0x00');
    const nonceBefore = await chain.nonce();

    // When it runs with that record
    const error = await rejectionOf(deployContracts(chain.options({ previous: tampered })));

    // Then it is refused, naming the contract, and nothing is redeployed
    expect(error).toBeInstanceOf(RefusedError);
    expect((error as RefusedError).code).toBe('PC_CONTRACT_MISMATCH');
    expect((error as RefusedError).details).toEqual([
      expect.stringMatching(/^Badges at 0x[0-9a-fA-F]{40}: runtime code hashes to 0x/),
    ]);
    expect(await chain.nonce()).toBe(nonceBefore);
  });

  it('refuses a recorded address without code, or with the code of another contract', async () => {
    // Given a record whose PointsToken points at an empty account and whose Badges entry points
    // at the ActivityLog contract (with ActivityLog's true code hash)
    const chain = await aChain();
    const { record } = await deployContracts(chain.options());
    const wrong = structuredClone(record);
    wrong.contracts.PointsToken!.address = chain.node.accounts[9]!.address;
    wrong.contracts.Badges = { ...record.contracts.ActivityLog!, constructorArgs: [] };

    // When it runs with that record
    const error = await rejectionOf(deployContracts(chain.options({ previous: wrong })));

    // Then both problems are reported in one refusal
    expect(error).toBeInstanceOf(RefusedError);
    expect((error as RefusedError).details).toEqual([
      `PointsToken at ${chain.node.accounts[9]!.address}: no contract there`,
      expect.stringMatching(/^Badges at 0x[0-9a-fA-F]{40}: deployed from another build of the contracts/),
    ]);
  });

  it('reports parameters that differ from the deployed ones and roles that are not held', async () => {
    // Given contracts deployed with symbol PPT and two admins
    const chain = await aChain();
    const { record } = await deployContracts(chain.options());

    // When re-run with another symbol and a third admin that was never granted
    const newcomer = chain.node.accounts[5]!.address;
    const base = chain.options();
    const result = await deployContracts(
      chain.options({
        previous: record,
        params: { ...base.params, token: { ...base.params.token, symbol: 'PTS' } },
        admins: [...base.admins, newcomer],
      }),
    );

    // Then nothing is redeployed and the differences come back as warnings and role checks
    expect(result.transactionsSent).toBe(0);
    expect(result.warnings).toContain(
      'PointsToken: symbol was "PPT" at deployment, the parameters now give "PTS"; the deployed contract keeps its value',
    );
    expect(result.warnings).toContain(`Badges: ${newcomer} does not hold DEFAULT_ADMIN_ROLE`);
    expect(result.roles).toContainEqual({
      contract: 'ActivityLog',
      role: 'DEFAULT_ADMIN_ROLE',
      account: newcomer,
      granted: false,
    });
  });

  it('rejects unusable parameters at once, listing every problem, before any transaction', async () => {
    // Given parameters with a bad decimals value, no admins and a malformed minter
    const chain = await aChain();
    const base = chain.options();
    const nonceBefore = await chain.nonce();

    // When deploying with them
    const error = await rejectionOf(
      deployContracts(
        chain.options({
          params: { ...base.params, token: { ...base.params.token, decimals: 256 } },
          admins: [],
          minter: '0x1234',
        }),
      ),
    );

    // Then one InputError lists all three
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).code).toBe('PC_CONTRACT_PARAMS_INVALID');
    expect((error as InputError).details).toEqual([
      'token.decimals: expected an integer from 0 to 255, found 256',
      'admins: expected at least one address',
      'minter: expected a 20-byte hex address, found "0x1234"',
    ]);
    expect(await chain.nonce()).toBe(nonceBefore);
  });
});
