import { access, readFile, stat } from 'node:fs/promises';

import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { decryptAccountKey } from '../../src/core/keys/keystore.js';
import { startAnvil, type AnvilNode } from '../support/anvil.js';
import { runCli } from '../support/cli.js';
import { aTempDir } from '../support/temp-dir.js';
import { freePort } from '../support/net.js';

const CONTRACTS = ['PointsToken', 'Badges', 'ActivityLog'];

interface ContractRow {
  name: string;
  status: string;
  address: string;
  txHash: string | null;
  blockNumber: number | null;
  bytecodeHash: string | null;
}

interface Envelope {
  status: number;
  result?: { chainId: number; rpcUrl: string; deployer: string; dryRun: boolean; contracts: ContractRow[] };
  error?: { code: string; message: string };
  warnings: string[];
}

interface Workspace {
  dir: string;
  deployer: string;
  record: () => Promise<string>;
}

// A workspace of the built-in "local" example (chain 1337, development password stored inside).
async function aWorkspace(): Promise<Workspace> {
  const dir = join(await aTempDir(), 'ws');
  const init = await runCli(['init', '--example', 'local', '--dir', dir, '--json']);
  expect(init.exitCode).toBe(0);
  const keystore = JSON.parse(await readFile(join(dir, 'accounts/deployer.json'), 'utf8')) as {
    address: string;
  };
  return {
    dir,
    deployer: `0x${keystore.address.replace(/^0x/, '')}`,
    record: () => readFile(join(dir, 'deployments.json'), 'utf8'),
  };
}

async function anAnvil(chainId: number): Promise<AnvilNode> {
  const node = await startAnvil({ chainId });
  onTestFinished(() => node.stop());
  return node;
}

function deploy(ws: Workspace, rpc: string, ...more: string[]) {
  return runCli(['contracts', 'deploy', '--dir', ws.dir, '--rpc', rpc, '--json', ...more]);
}

function envelope(stdout: string): Envelope {
  return JSON.parse(stdout) as Envelope;
}

async function nonceOf(url: string, address: string): Promise<number> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'eth_getTransactionCount',
      params: [address, 'latest'],
    }),
  });
  const { result } = (await response.json()) as { result: string };
  return Number(result);
}

async function codeAt(url: string, address: string): Promise<string> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_getCode', params: [address, 'latest'] }),
  });
  return ((await response.json()) as { result: string }).result;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

describe('contracts deploy (built CLI against anvil)', () => {
  it('deploys the three contracts on first run and records them in deployments.json', async () => {
    // Given a fresh workspace and a node serving its chain id
    const ws = await aWorkspace();
    const node = await anAnvil(1337);

    // When the contracts are deployed
    const run = await deploy(ws, node.url);

    // Then it succeeds with three deployed contracts on chain 1337, three transactions from the deployer
    expect(run.exitCode).toBe(0);
    const { result } = envelope(run.stdout);
    expect(result?.chainId).toBe(1337);
    expect(result?.rpcUrl).toBe(node.url);
    expect(result?.deployer.toLowerCase()).toBe(ws.deployer.toLowerCase());
    expect(result?.contracts.map((c) => [c.name, c.status])).toEqual(CONTRACTS.map((n) => [n, 'deployed']));
    expect(await nonceOf(node.url, ws.deployer)).toBe(3);

    // And deployments.json (0644) holds the chain id and the same three records, each with code on chain
    const record = JSON.parse(await ws.record()) as {
      chainId: number;
      contracts: Record<
        string,
        { address: string; txHash: string; blockNumber: number; bytecodeHash: string }
      >;
    };
    expect((await stat(join(ws.dir, 'deployments.json'))).mode & 0o777).toBe(0o644);
    expect(record.chainId).toBe(1337);
    expect(Object.keys(record.contracts)).toEqual(CONTRACTS);
    for (const contract of result!.contracts) {
      const { address, txHash, blockNumber, bytecodeHash } = record.contracts[contract.name]!;
      expect({ address, txHash, blockNumber, bytecodeHash }).toEqual({
        address: contract.address,
        txHash: contract.txHash,
        blockNumber: contract.blockNumber,
        bytecodeHash: contract.bytecodeHash,
      });
      expect((await codeAt(node.url, address)).length).toBeGreaterThan(2);
    }
  });

  it('verifies on a second run and sends nothing', async () => {
    // Given a workspace whose contracts were deployed
    const ws = await aWorkspace();
    const node = await anAnvil(1337);
    const first = await deploy(ws, node.url);
    expect(first.exitCode).toBe(0);
    const recordBefore = await ws.record();
    const nonceBefore = await nonceOf(node.url, ws.deployer);

    // When it runs again
    const second = await deploy(ws, node.url);

    // Then every contract is verified at the same address, no transaction is sent, the record is unchanged
    expect(second.exitCode).toBe(0);
    const contracts = envelope(second.stdout).result!.contracts;
    expect(contracts.map((c) => c.status)).toEqual(['verified', 'verified', 'verified']);
    expect(contracts.map((c) => c.address)).toEqual(
      envelope(first.stdout).result!.contracts.map((c) => c.address),
    );
    expect(await nonceOf(node.url, ws.deployer)).toBe(nonceBefore);
    expect(await ws.record()).toBe(recordBefore);
  });

  it('refuses a node whose chain id is not the one of network.yaml, with exit 5', async () => {
    // Given a fresh workspace of chain 1337, and a node serving chain 31337
    const ws = await aWorkspace();
    const other = await anAnvil(31337);

    // When it is asked to deploy there
    const run = await deploy(ws, other.url);

    // Then it refuses with PC_CHAIN_MISMATCH and a way out, sends nothing and writes no record
    expect(run.exitCode).toBe(5);
    const { error } = envelope(run.stdout) as Envelope & { error: { hint?: string } };
    expect(error.code).toBe('PC_CHAIN_MISMATCH');
    expect(error.message).toContain('serves chain 31337, but network.yaml says chain 1337');
    expect(error.hint).toContain('--allow-chain-change');
    expect(await nonceOf(other.url, ws.deployer)).toBe(0);
    expect(await exists(join(ws.dir, 'deployments.json'))).toBe(false);
  });

  it('refuses a node of another chain with exit 5 and leaves deployments.json untouched', async () => {
    // Given a workspace deployed on chain 1337, and a node serving chain 31337
    const ws = await aWorkspace();
    expect((await deploy(ws, (await anAnvil(1337)).url)).exitCode).toBe(0);
    const recordBefore = await ws.record();
    const other = await anAnvil(31337);

    // When it is pointed at the other node
    const run = await deploy(ws, other.url);

    // Then it refuses with PC_CHAIN_MISMATCH naming both chains, sends nothing and writes nothing
    expect(run.exitCode).toBe(5);
    const { error } = envelope(run.stdout);
    expect(error?.code).toBe('PC_CHAIN_MISMATCH');
    expect(error?.message).toContain('31337');
    expect(error?.message).toContain('1337');
    expect(await nonceOf(other.url, ws.deployer)).toBe(0);
    expect(await ws.record()).toBe(recordBefore);
  });

  it('deploys on another chain with --allow-chain-change, keeping a copy of the old record', async () => {
    // Given a workspace deployed on chain 1337, and a node serving chain 31337
    const ws = await aWorkspace();
    expect((await deploy(ws, (await anAnvil(1337)).url)).exitCode).toBe(0);
    const recordBefore = await ws.record();
    const other = await anAnvil(31337);

    // When it is pointed at the other node and allowed to change chains
    const run = await deploy(ws, other.url, '--allow-chain-change');

    // Then the contracts are deployed on the other chain and recorded for it
    expect(run.exitCode).toBe(0);
    const result = envelope(run.stdout);
    expect(result.result?.chainId).toBe(31337);
    expect(result.result?.contracts.map((c) => c.status)).toEqual(['deployed', 'deployed', 'deployed']);
    expect((JSON.parse(await ws.record()) as { chainId: number }).chainId).toBe(31337);
    expect(await nonceOf(other.url, ws.deployer)).toBe(3);

    // And the change is warned about, and the chain-1337 record is kept in .archive/
    expect(result.warnings.join('\n')).toContain('network.yaml says chain 1337');
    const archived = result.warnings.join('\n').match(/copied to (\.archive\/\S+deployments\.json)/)?.[1];
    expect(archived).toBeDefined();
    expect(await readFile(join(ws.dir, archived!), 'utf8')).toBe(recordBefore);
  });

  it('exits 4 naming the URL when the RPC endpoint cannot be reached', async () => {
    // Given a workspace and a loopback port nothing listens on
    const ws = await aWorkspace();
    const url = `http://127.0.0.1:${await freePort()}`;

    // When it is asked to deploy there
    const run = await deploy(ws, url);

    // Then it fails as a remote step, naming the URL, and writes no record
    expect(run.exitCode).toBe(4);
    const { error } = envelope(run.stdout);
    expect(error?.code).toBe('PC_REMOTE_FAILED');
    expect(error?.message).toContain(url);
    expect(await exists(join(ws.dir, 'deployments.json'))).toBe(false);
  });

  it('--dry-run sends nothing and plans three deployments at the addresses a real run uses', async () => {
    // Given a fresh workspace and node
    const ws = await aWorkspace();
    const node = await anAnvil(1337);

    // When a dry run is asked for
    const dry = await deploy(ws, node.url, '--dry-run');

    // Then the plan lists three contracts to deploy, nothing is sent and nothing is written
    expect(dry.exitCode).toBe(0);
    const plan = envelope(dry.stdout).result!;
    expect(plan.dryRun).toBe(true);
    expect(plan.contracts.map((c) => [c.name, c.status])).toEqual(CONTRACTS.map((n) => [n, 'would deploy']));
    expect(await nonceOf(node.url, ws.deployer)).toBe(0);
    expect(await exists(join(ws.dir, 'deployments.json'))).toBe(false);

    // And the real run then deploys exactly where the plan said
    const real = await deploy(ws, node.url);
    expect(real.exitCode).toBe(0);
    expect(envelope(real.stdout).result!.contracts.map((c) => c.address)).toEqual(
      plan.contracts.map((c) => c.address),
    );

    // And a dry run after it plans to verify them
    const again = await deploy(ws, node.url, '--dry-run');
    expect(envelope(again.stdout).result!.contracts.map((c) => c.status)).toEqual([
      'would verify',
      'would verify',
      'would verify',
    ]);
  });

  it('exits 3 on a wrong keystore password without printing it', async () => {
    // Given a workspace and a wrong password in the environment
    const ws = await aWorkspace();
    const node = await anAnvil(1337);
    const wrong = 'not-the-password-0123456789';

    // When it deploys, in JSON and in human mode
    const env = { PERURI_CHAIN_KEYSTORE_PASSWORD: wrong };
    const json = await runCli(['contracts', 'deploy', '--dir', ws.dir, '--rpc', node.url, '--json'], { env });
    const human = await runCli(['contracts', 'deploy', '--dir', ws.dir, '--rpc', node.url, '--verbose'], {
      env,
    });

    // Then both fail as bad input naming the keystore, never the password, and nothing is sent
    expect(json.exitCode).toBe(3);
    expect(envelope(json.stdout).error?.code).toBe('PC_KEY_INVALID');
    expect(human.exitCode).toBe(3);
    expect(human.stderr).toContain('accounts/deployer.json: cannot decrypt the keystore');
    for (const output of [json.stdout, json.stderr, human.stdout, human.stderr]) {
      expect(output).not.toContain(wrong);
    }
    expect(await nonceOf(node.url, ws.deployer)).toBe(0);
  });

  it('prints a table of the contracts and never the development password or the deployer key', async () => {
    // Given a workspace with its development password and its deployer key
    const ws = await aWorkspace();
    const node = await anAnvil(1337);
    const password = (await readFile(join(ws.dir, 'secrets/dev-keystore-password'), 'utf8')).trim();
    const { privateKey } = await decryptAccountKey(
      await readFile(join(ws.dir, 'accounts/deployer.json'), 'utf8'),
      password,
      'deployer',
    );
    const secrets = [password, privateKey.toLowerCase(), privateKey.slice(2).toLowerCase()];

    // When it plans, deploys in human mode (verbose), then runs again with --json
    const dryRun = await deploy(ws, node.url, '--dry-run');
    const human = await runCli(['contracts', 'deploy', '--dir', ws.dir, '--rpc', node.url, '--verbose']);
    const json = await deploy(ws, node.url);

    // Then the human summary is a table of contract, address and status on stdout
    expect(human.exitCode).toBe(0);
    expect(json.exitCode).toBe(0);
    const addresses = envelope(json.stdout).result!.contracts.map((c) => c.address);
    for (const [index, name] of CONTRACTS.entries()) {
      expect(human.stdout).toMatch(new RegExp(`^ +${name} +${addresses[index]} +deployed$`, 'm'));
    }

    // And no output, nor the record, holds the password or the key
    expect(dryRun.exitCode).toBe(0);
    const texts = [dryRun.stdout, dryRun.stderr, human.stdout, human.stderr, json.stdout, json.stderr];
    texts.push(await ws.record());
    for (const text of texts) {
      for (const secret of secrets) expect(text.toLowerCase()).not.toContain(secret.toLowerCase());
    }
  });
});
