import { randomBytes, randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Contract, Interface, JsonRpcProvider, Wallet, id, type Log } from 'ethers';
import { describe, expect, it, onTestFinished } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadArtifact } from '../../src/core/contracts/artifacts.js';
import { decryptAccountKey, encryptAccountKeys } from '../../src/core/keys/keystore.js';
import { adapterClient, lessonActivity, readChainRecord, waitSettled } from '../support/mirror-client.js';
import {
  aMirrorStack,
  startAdapterInProcess,
  startAdapterProcess,
  type MirrorStack,
} from '../support/mirror-stack.js';

// The signer reload (SIGHUP) that rotate-key uses to switch the adapter to a new minter key
// without a restart: intake never stops, nothing is lost or paid twice, and what the old key
// signed is still settled.

const MINTER_ROLES = [
  ['PointsToken', 'pointsToken', 'MINTER_ROLE'],
  ['Badges', 'badges', 'MINTER_ROLE'],
  ['ActivityLog', 'activityLog', 'ANCHOR_ROLE'],
] as const;

/** An admin of the stack's workspace, granting and revoking the minting roles as rotate-key does. */
async function anAdmin(stack: MirrorStack) {
  const password = stack.env.PERURI_CHAIN_KEYSTORE_PASSWORD!;
  const keystore = join(stack.dir, 'accounts/admin-peruri.json');
  const { privateKey } = await decryptAccountKey(await readFile(keystore, 'utf8'), password, keystore);
  const provider = new JsonRpcProvider(stack.chain.url, undefined, { staticNetwork: true });
  // ethers polls for receipts every 4 s by default; the stack makes a block a second.
  provider.pollingInterval = 200;
  onTestFinished(() => provider.destroy());
  const admin = new Wallet(privateKey, provider);
  const change = async (action: 'grantRole' | 'revokeRole', account: string) => {
    for (const [artifact, key, role] of MINTER_ROLES) {
      const contract = new Contract(stack.contracts[key], loadArtifact(artifact).abi as never, admin);
      const tx = (await contract.getFunction(action).send(id(role), account, { type: 0, gasPrice: 0n })) as {
        wait(): Promise<unknown>;
      };
      await tx.wait();
    }
  };
  return {
    provider,
    grant: (account: string) => change('grantRole', account),
    revoke: (account: string) => change('revokeRole', account),
  };
}

/** A new minter keystore in the service folder (the workspace password), as rotate-key uploads it. */
async function aNewMinterKeystore(stack: MirrorStack, file: string): Promise<string> {
  const { key } = await encryptAccountKeys(
    { key: new Uint8Array(randomBytes(32)) },
    stack.env.PERURI_CHAIN_KEYSTORE_PASSWORD!,
    'dev',
  );
  await writeFile(join(stack.dir, 'service', file), key!.json, { mode: 0o600 });
  return key!.address;
}

/** Points adapter.yaml's signer at another keystore and address. */
async function pointSignerAt(stack: MirrorStack, address: string, file: string): Promise<void> {
  const config = parse(await readFile(stack.config, 'utf8')) as { signer: Record<string, unknown> };
  config.signer = { ...config.signer, address, keystoreFile: join(stack.dir, 'service', file) };
  await writeFile(stack.config, stringify(config));
}

async function metric(url: string, name: string): Promise<string[]> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return text.split('\n').filter((line) => line.startsWith(name));
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('signer reload', () => {
  it('on SIGHUP, switches the running adapter to a new minter key while activities keep arriving: none refused, each paid once', async () => {
    // Given the adapter as its own process, taking activities from four clients all along
    const stack = await aMirrorStack({ mirror: { batchMaxSize: 30, batchIntervalMs: 100 } });
    const oldMinter = (parse(await readFile(stack.config, 'utf8')) as { signer: { address: string } }).signer
      .address;
    const adapter = await startAdapterProcess(stack);
    const client = adapterClient(adapter.url, await stack.token());
    const accepted: string[] = [];
    const refused: string[] = [];
    let sent = 0;
    let sending = true;
    const clients = Promise.all(
      Array.from({ length: 4 }, async () => {
        while (sending) {
          const answer = await client.track(lessonActivity(sent++), randomUUID()).catch((error: Error) => ({
            status: 0,
            body: { message: error.message } as Record<string, unknown>,
          }));
          if (answer.status === 202) accepted.push(String(answer.body.id));
          else refused.push(`${answer.status} ${JSON.stringify(answer.body)}`);
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
      }),
    );
    await until('the first activities', async () => accepted.length > 50, 30_000);

    // When a new key gets the minting roles, adapter.yaml names it, and the adapter gets SIGHUP
    const admin = await anAdmin(stack);
    const newMinter = await aNewMinterKeystore(stack, 'minter-next.json');
    await admin.grant(newMinter);
    await pointSignerAt(stack, newMinter, 'minter-next.json');
    const beforeReload = accepted.length;
    adapter.process.kill('SIGHUP');
    // Then it reports the new signer, with one replacement counted
    await until(
      'the new signer in /metrics',
      async () =>
        (await metric(adapter.url, 'peruri_adapter_signer_info')).includes(
          `peruri_adapter_signer_info{address="${newMinter}"} 1`,
        ),
      30_000,
    );
    expect(await metric(adapter.url, 'peruri_adapter_signer_reloads_total')).toContain(
      'peruri_adapter_signer_reloads_total{outcome="replaced"} 1',
    );
    // And once the old key loses its roles, activities still go on
    await admin.revoke(oldMinter);
    await until('more activities after the switch', async () => accepted.length > beforeReload + 100, 30_000);
    sending = false;
    await clients;
    expect(adapter.process.exitCode).toBeNull();

    // Then no request was refused at any time
    expect(refused).toEqual([]);
    // And every accepted activity is confirmed and paid exactly once on-chain
    const settled = await waitSettled(client, accepted, 120_000);
    expect([...settled.values()].filter((activity) => activity.status !== 'confirmed')).toEqual([]);
    const chain = await readChainRecord(stack.chain.url, stack.contracts);
    expect(chain.duplicateMints).toEqual([]);
    expect(chain.mints.size).toBe(accepted.length);
    // And batches were anchored by the old key before the switch and by the new one after it
    const log = new Interface(loadArtifact('ActivityLog').abi as never);
    const anchors = await admin.provider.getLogs({
      address: stack.contracts.activityLog,
      fromBlock: 0,
      toBlock: 'latest',
      topics: [log.getEvent('Anchored')!.topicHash],
    });
    const anchorers = new Set<string>();
    for (const entry of anchors as Log[]) {
      anchorers.add((await admin.provider.getTransaction(entry.transactionHash))!.from.toLowerCase());
    }
    expect(anchorers).toEqual(new Set([oldMinter.toLowerCase(), newMinter]));
    // And the replacement is in the audit trail (read after a clean stop)
    adapter.process.kill('SIGTERM');
    expect((await adapter.process).exitCode).toBe(0);
    const db = new Database(join(stack.dir, 'service/adapter.db'), { readonly: true });
    onTestFinished(() => {
      db.close();
    });
    const replaced = db
      .prepare("SELECT actor, subject, details FROM audit_log WHERE action = 'signer.replaced'")
      .all() as { actor: string; subject: string; details: string }[];
    expect(replaced).toHaveLength(1);
    expect(replaced[0]!.subject).toBe(newMinter);
    expect(JSON.parse(replaced[0]!.details)).toMatchObject({ previous: oldMinter.toLowerCase() });
  }, 240_000);

  it('keeps the running signer when the reload fails, and says why', async () => {
    // Given a running adapter
    const stack = await aMirrorStack();
    const adapter = await startAdapterInProcess(stack);
    const client = adapterClient(adapter.url, await stack.token());
    const before = await metric(adapter.url, 'peruri_adapter_signer_info');
    // When adapter.yaml names an address its keystore does not hold
    const other = await aNewMinterKeystore(stack, 'minter-other.json');
    const original = await readFile(stack.config, 'utf8');
    await pointSignerAt(stack, `0x${'ab'.repeat(20)}`, 'minter-other.json');
    // Then the reload is refused, naming the keystore and both addresses
    await expect(adapter.reloadSigner()).rejects.toMatchObject({
      code: 'PC_KEY_INVALID',
      message: expect.stringContaining(`holds ${other}`),
    });
    expect(await metric(adapter.url, 'peruri_adapter_signer_reloads_total')).toContain(
      'peruri_adapter_signer_reloads_total{outcome="failed"} 1',
    );
    expect(await metric(adapter.url, 'peruri_adapter_signer_info')).toEqual(before);
    expect(adapter.logs.join('')).toContain('signer reload failed; the running signer stays');
    expect(adapter.logs.join('')).not.toContain(stack.env.PERURI_CHAIN_KEYSTORE_PASSWORD);

    // When adapter.yaml is put back, with another setting changed as well
    const config = parse(original) as { mirror: Record<string, unknown> };
    config.mirror = { ...config.mirror, batchMaxSize: 7 };
    await writeFile(stack.config, stringify(config));
    // Then the reload keeps the signer and says the other change waits for a restart
    expect(await adapter.reloadSigner()).toMatchObject({ outcome: 'unchanged', restartNeeded: ['mirror'] });
    expect(adapter.logs.join('')).toContain('take effect at the next restart');
    // And the adapter still confirms activities with the signer it had
    const answer = await client.track(lessonActivity(1), randomUUID());
    expect(answer.status).toBe(202);
    const settled = await waitSettled(client, [String(answer.body.id)], 60_000);
    expect(settled.get(String(answer.body.id))?.status).toBe('confirmed');
  }, 120_000);
});
