import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { envelopeSchema, resultSchemas } from '../../src/cli/result-schemas.js';
import { identityFromPrivateKey } from '../../src/core/keys/node-key.js';
import { startAnvil } from '../support/anvil.js';
import { runCli } from '../support/cli.js';
import { aLocalWorkspace, anvilMissing } from '../support/local-stack.js';
import { describeRequiring } from '../support/requirement.js';
import { aTempDir } from '../support/temp-dir.js';

const ajv = new Ajv({ allErrors: true, strict: false });

/** Runs a command with --json and checks envelope and result against the committed schemas. */
async function expectJsonShape(schemaName: string, args: string[]): Promise<unknown> {
  const run = await runCli([...args, '--json']);
  const document = JSON.parse(run.stdout) as { status: number; result: unknown };
  expect(ajv.validate(envelopeSchema, document), ajv.errorsText()).toBe(true);
  expect(document.status, run.stdout).toBe(0);
  expect(ajv.validate(resultSchemas[schemaName]!, document.result), ajv.errorsText()).toBe(true);
  return document.result;
}

describe('every --json result matches its published schema', () => {
  it('init, validate, render and genesis extradata', async () => {
    const dir = join(await aTempDir(), 'ws');
    await expectJsonShape('init', ['init', '--example', 'local', '--dir', dir]);
    await expectJsonShape('validate', ['validate', '--dir', dir]);
    await expectJsonShape('render', ['render', '--dir', dir, '--dry-run']);
    const encoded = (await expectJsonShape('genesis extradata --validators', [
      'genesis',
      'extradata',
      '--validators',
      '0xbe068f726a13c8d46c44be6ce9d275600e1735a4',
    ])) as { extraData: string };
    await expectJsonShape('genesis extradata --decode', [
      'genesis',
      'extradata',
      '--decode',
      encoded.extraData,
    ]);
  });

  it('contracts deploy', async () => {
    const dir = join(await aTempDir(), 'ws');
    await runCli(['init', '--example', 'local', '--dir', dir, '--json']);
    const anvil = await startAnvil({ chainId: 1337 });
    try {
      await expectJsonShape('contracts deploy', ['contracts', 'deploy', '--dir', dir, '--rpc', anvil.url]);
    } finally {
      await anvil.stop();
    }
  });

  it('adapter reindex', async () => {
    const dir = join(await aTempDir(), 'ws');
    await runCli(['init', '--example', 'local', '--dir', dir, '--json']);
    const result = await expectJsonShape('adapter reindex', [
      'adapter',
      'reindex',
      '--config',
      join(dir, 'service/adapter.yaml'),
    ]);
    expect(result).toEqual({ balancesCleared: 0, badgeHoldingsCleared: 0, previousCursor: -1 });
  });

  it('deploy --dry-run (the full runs and status are checked in test/integration/deploy.test.ts)', async () => {
    const dir = join(await aTempDir(), 'ws');
    await runCli(['init', '--example', 'pilot', '--dir', dir, '--json'], {
      env: { PERURI_CHAIN_KEYSTORE_PASSWORD: 'a long pilot password 1234' },
    });
    const plan = (await expectJsonShape('deploy', ['deploy', '--dir', dir, '--dry-run'])) as {
      changes: number;
    };
    expect(plan.changes).toBe(11);
  });

  it('rotate-key --dry-run (full runs are checked in test/integration/rotate-key.test.ts)', async () => {
    const dir = join(await aTempDir(), 'ws');
    await runCli(['init', '--example', 'pilot', '--dir', dir, '--json'], {
      env: { PERURI_CHAIN_KEYSTORE_PASSWORD: 'a long pilot password 1234' },
    });
    const plan = (await expectJsonShape('rotate-key', [
      'rotate-key',
      '--dir',
      dir,
      '--node',
      'pds',
      '--dry-run',
    ])) as {
      validators: number;
      order: string;
      oldAddress: string;
      warnings: string[];
      newAddress: string | null;
      steps: {
        id: string;
        outcome: string;
        quorum: { setSize: number; setSizeAfter: number; quorumAfter: number };
      }[];
    };
    // Three validators: in-first would leave 2 of 4 online while pds restarts (3 needed), so the
    // old key goes out first (3 -> 2) and the new one comes in (2 -> 3, ceil(2·3/3) = 2 online)
    expect(plan.validators).toBe(3);
    expect(plan.newAddress).toBeNull();
    expect(plan.order).toBe('out-first');
    expect(plan.steps.map((step) => step.id)).toEqual([
      'allowlists',
      'vote-out',
      'move',
      'vote-in',
      'finish',
    ]);
    expect(plan.steps.find((step) => step.id === 'vote-in')!.quorum).toMatchObject({
      setSize: 2,
      setSizeAfter: 3,
      quorumAfter: 2,
    });

    // Given the record of a rotation started before there were two orders (no `order`)
    const fresh = identityFromPrivateKey(randomBytes(32));
    const publicKey = (await readFile(join(dir, 'nodes/pds/key.pub'), 'utf8')).trim().replace(/^0x/, '');
    await writeFile(
      join(dir, 'rotate-state.json'),
      JSON.stringify({
        version: 1,
        kind: 'validator',
        network: 'peruri-pilot',
        chainId: 0,
        node: 'pds',
        old: { address: plan.oldAddress, publicKey },
        new: { address: fresh.address, publicKey: fresh.publicKey, keyFile: null },
        done: ['allowlists', 'vote-in'],
        proposals: [],
        startedAt: new Date().toISOString(),
      }),
    );
    // Then a dry run shows it resuming in-first, where it stopped
    const resumed = (await expectJsonShape('rotate-key', [
      'rotate-key',
      '--dir',
      dir,
      '--node',
      'pds',
      '--dry-run',
    ])) as typeof plan;
    expect(resumed.order).toBe('in-first');
    expect(resumed.steps.map((step) => [step.id, step.outcome])).toEqual([
      ['allowlists', 'already done'],
      ['vote-in', 'already done'],
      ['move', 'would run'],
      ['vote-out', 'would run'],
      ['finish', 'would run'],
    ]);
    // And says that its move would be refused: 2 of 4 online while pds restarts, 3 needed
    expect(resumed.warnings).toContain(
      'move: while pds restarts: 2 of 4 validators online, ceil(2·4/3) = 3 needed; a run refuses this step.',
    );
  });

  it('snapshot and restore', async () => {
    const root = await aTempDir();
    await runCli(['init', '--example', 'local', '--dir', join(root, 'ws'), '--json']);
    const env = { PERURI_CHAIN_SNAPSHOT_PASSPHRASE: 'a snapshot passphrase 42' };
    const snapshot = await runCli(
      ['snapshot', '--dir', join(root, 'ws'), '--out', join(root, 'ws.snapshot'), '--json'],
      { env },
    );
    expect(ajv.validate(resultSchemas.snapshot!, JSON.parse(snapshot.stdout).result), ajv.errorsText()).toBe(
      true,
    );
    const restore = await runCli(
      ['restore', join(root, 'ws.snapshot'), '--dir', join(root, 'back'), '--json'],
      { env },
    );
    expect(ajv.validate(resultSchemas.restore!, JSON.parse(restore.stdout).result), ajv.errorsText()).toBe(
      true,
    );
  });

  describeRequiring('up and down', 'anvil from @foundry-rs/anvil', anvilMissing(), () => {
    it('up and down', async () => {
      const ws = await aLocalWorkspace();
      await expectJsonShape('up', ['up', '--dir', ws.dir]);
      await expectJsonShape('down', ['down', '--dir', ws.dir]);
    }, 60_000);
  });

  it('the schemas are strict: an extra member fails them', () => {
    expect(ajv.validate(resultSchemas.validate!, { surprise: true })).toBe(false);
  });
});
