import { randomBytes } from 'node:crypto';
import { access, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import Docker from 'dockerode';
import { expect, it, onTestFinished } from 'vitest';
import { envelopeSchema, resultSchemas } from '../../src/cli/result-schemas.js';
import { decryptAccountKey } from '../../src/core/keys/keystore.js';
import {
  enodeUrl,
  formatNodeKeyFile,
  generatePrivateKey,
  identityFromPrivateKey,
} from '../../src/core/keys/node-key.js';
import type { BesuNetwork } from '../support/besu-front.js';
import { runCli } from '../support/cli.js';
import { dockerdForSuite, dockerdUnavailable, type Dockerd } from '../support/dockerd.js';
import { describeRequiring } from '../support/requirement.js';
import { BESU_THAT_STOPS, aRotationBed as aBed, type Bed } from '../support/rotation-bed.js';
import { sshdUnavailable } from '../support/sshd.js';
import { snapshotTree } from '../support/temp-dir.js';

// The machines, the Docker engine and the Besu stand-in are described in test/support/rotation-bed.ts:
// real sshd, dockerd, CLI and anvil; Besu's JSON-RPC and IBFT 2.0 voting are the besu-front model.

let dockerd: () => Dockerd;
const aRotationBed = () => aBed(dockerd());

interface RotateEnvelope {
  status: number;
  result?: {
    dryRun: boolean;
    order?: string;
    orderReason?: string;
    oldAddress: string;
    newAddress: string | null;
    archivedKey: string | null;
    steps: {
      id: string;
      outcome: string;
      detail?: string;
      quorum?: { votesNeeded?: number; voters?: string[] };
    }[];
  };
  error?: { code: string; message: string; hint?: string; details: string[] };
}

const ajv = new Ajv({ allErrors: true, strict: false });

function parse(stdout: string): RotateEnvelope {
  const document = JSON.parse(stdout) as RotateEnvelope;
  expect(ajv.validate(envelopeSchema, document), ajv.errorsText()).toBe(true);
  if (document.result)
    expect(ajv.validate(resultSchemas['rotate-key']!, document.result), ajv.errorsText()).toBe(true);
  return document;
}

async function deployAll(bed: Bed): Promise<void> {
  const deployed = await bed.cli(['deploy', '--accept-new-host-key', '--health-timeout', '90', '--json']);
  expect(deployed.exitCode, deployed.stdout + deployed.stderr).toBe(0);
}

async function keystoreAddress(path: string): Promise<string> {
  return `0x${(JSON.parse(await readFile(path, 'utf8')) as { address: string }).address}`;
}

/** The roles the minter holds, contract by contract. */
const MINTER_ROLES = [
  ['PointsToken', 'MINTER_ROLE'],
  ['Badges', 'MINTER_ROLE'],
  ['ActivityLog', 'ANCHOR_ROLE'],
] as const;

/** Reads roles on the bed's deployed contracts straight from the chain. */
async function roleReader(bed: Bed) {
  const record = JSON.parse(await readFile(join(bed.dir, 'deployments.json'), 'utf8')) as {
    contracts: Record<string, { address: string }>;
  };
  const { Contract, JsonRpcProvider, id } = await import('ethers');
  const provider = new JsonRpcProvider(bed.chain.anvil.url, undefined, { staticNetwork: true });
  onTestFinished(() => provider.destroy());
  const hasRole = (name: string, role: string, account: string) =>
    new Contract(
      record.contracts[name]!.address,
      ['function hasRole(bytes32,address) view returns (bool)'],
      provider,
    )
      .getFunction('hasRole')
      .staticCall(
        role === 'DEFAULT_ADMIN_ROLE' ? `0x${'00'.repeat(32)}` : id(role),
        account,
      ) as Promise<boolean>;
  return { provider, hasRole };
}

/** Records the chain head every 100 ms until stopped. */
function sampleBlocks(chain: BesuNetwork): { stop(): { at: number; head: number }[] } {
  const samples: { at: number; head: number }[] = [];
  const timer = setInterval(() => samples.push({ at: Date.now(), head: chain.voting.head }), 100);
  return {
    stop: () => {
      clearInterval(timer);
      return samples;
    },
  };
}

/**
 * The validator sets the chain went through from block `from` to its head, each listed once, in
 * order (what ibft_getValidatorsByBlockNumber answers block by block).
 */
function setsSince(chain: BesuNetwork, from: number): string[][] {
  const sets: string[][] = [];
  for (let block = from; block <= chain.voting.head; block++) {
    const set = chain.voting.validatorsAt(block)!;
    if (sets.at(-1)?.join() !== set.join()) sets.push(set);
  }
  return sets;
}

/** The longest time the head stood still, in ms. */
function longestStall(samples: { at: number; head: number }[]): number {
  let longest = 0;
  let since = samples[0]!.at;
  for (let index = 1; index < samples.length; index++) {
    if (samples[index]!.head > samples[index - 1]!.head) since = samples[index]!.at;
    longest = Math.max(longest, samples[index]!.at - since);
  }
  return longest;
}

/** Every file under `root` whose bytes contain `needle`, relative to `root`. */
async function filesContaining(root: string, needle: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    if ((await readFile(path)).toString('latin1').toLowerCase().includes(needle)) {
      found.push(path.slice(root.length + 1));
    }
  }
  return found;
}

const unavailable = sshdUnavailable() ?? dockerdUnavailable();

describeRequiring(
  'rotate-key against real sshd and dockerd, Besu stood in by besu-front',
  'OpenSSH server and Docker engine',
  unavailable,
  () => {
    dockerd = dockerdForSuite([BESU_THAT_STOPS]);

    it('rotates a validator key out-first: old key out, node moved, new key in, votes discarded, blocks throughout', async () => {
      const bed = await aRotationBed();
      await bed.deployNodes();
      const oldAddress = bed.address('validator-1');
      const genesisBefore = await readFile(join(bed.dir, 'genesis.json'), 'utf8');
      const headBefore = bed.chain.voting.head;
      const stallsBefore = bed.chain.stalls.length;

      // When validator-1's key is rotated while the chain runs
      const sampler = sampleBlocks(bed.chain);
      const run = await bed.cli(['rotate-key', '--node', 'validator-1', '--timeout', '30', '--json']);
      const samples = sampler.stop();
      const envelope = parse(run.stdout);
      expect(run.exitCode, run.stdout + run.stderr).toBe(0);
      const newAddress = envelope.result!.newAddress!;
      expect(envelope.result!.oldAddress).toBe(oldAddress);
      // Four validators: in-first would leave 3 of 5 online while validator-1 restarts, so out-first
      expect(envelope.result!.order).toBe('out-first');
      expect(envelope.result!.steps.map((step) => [step.id, step.outcome])).toEqual([
        ['allowlists', 'done'],
        ['vote-out', 'done'],
        ['move', 'done'],
        ['vote-in', 'done'],
        ['finish', 'done'],
      ]);
      // (the vote out needs floor(4/2)+1 = 3 of the 4, validator-1 voting too; the vote in floor(3/2)+1 = 2 of 3)
      expect(envelope.result!.steps[1]!.quorum).toMatchObject({
        votesNeeded: 3,
        voters: ['validator-2', 'validator-3', 'validator-4', 'validator-1'],
      });
      expect(envelope.result!.steps[3]!.quorum).toMatchObject({
        votesNeeded: 2,
        voters: ['validator-2', 'validator-3', 'validator-4'],
      });
      expect(envelope.result!.steps[2]!.detail).toContain('admin_nodeInfo confirms it');

      // Then the chain's validator set holds the new key and not the old one
      const validators = bed.chain.voting.validators;
      expect(validators).toContain(newAddress);
      expect(validators).not.toContain(oldAddress);
      expect(validators).toHaveLength(4);
      // And validator-1 runs on the new key
      expect(bed.followed.fronts.get('validator-1')!.address).toBe(newAddress);
      // And no vote is left pending anywhere: every proposal made was discarded
      for (const front of bed.followed.fronts.values()) {
        expect(bed.chain.voting.pendingVotes(front.address), front.name).toEqual({});
      }
      const discards = [...bed.followed.fronts.values()].filter((front) =>
        front.calls.includes('ibft_discardValidatorVote'),
      );
      expect(discards.length).toBeGreaterThanOrEqual(3);
      // And the set went 4 -> 3 -> 4: the old key out before the new one in, never both in
      const sets = setsSince(bed.chain, headBefore);
      expect(sets.map((set) => set.length)).toEqual([4, 3, 4]);
      expect(sets[0]).toContain(oldAddress);
      expect(sets[1]).not.toContain(oldAddress);
      expect(sets[1]).not.toContain(newAddress);
      expect(sets[2]).toEqual([...sets[1]!, newAddress].sort());
      // And blocks kept coming throughout: no block attempt of the model (one every 200 ms) found
      // fewer than ceil(2N/3) validators online, the move and every rolling restart included (the
      // in-first order made 3 of 5 here while validator-1 restarted), and the head, sampled every
      // 100 ms, never stood still for 3 s
      expect(bed.chain.stalls.slice(stallsBefore)).toEqual([]);
      expect(samples.at(-1)!.head).toBeGreaterThan(headBefore + 20);
      expect(longestStall(samples)).toBeLessThan(3_000);

      // And the workspace is valid, genesis unchanged, the rotation recorded and the record of progress gone
      const validate = await runCli(['validate', '--dir', bed.dir]);
      expect(validate.exitCode, validate.stderr).toBe(0);
      expect(await readFile(join(bed.dir, 'genesis.json'), 'utf8')).toBe(genesisBefore);
      const history = JSON.parse(await readFile(join(bed.dir, 'key-rotations.json'), 'utf8')) as {
        rotations: { subject: string; from: string; to: string }[];
      };
      expect(history.rotations).toMatchObject([{ subject: 'validator-1', from: oldAddress, to: newAddress }]);
      await expect(access(join(bed.dir, 'rotate-state.json'))).rejects.toThrow();

      // And the old key is archived, encrypted, and opens with the workspace password
      const archived = await readFile(join(bed.dir, envelope.result!.archivedKey!), 'utf8');
      const password = (await readFile(join(bed.dir, 'secrets/dev-keystore-password'), 'utf8')).trim();
      expect((await decryptAccountKey(archived, password, 'archive')).address).toBe(oldAddress);

      // And every machine allowlists the new enode of validator-1 and no longer the old one
      const publicKey = (await readFile(join(bed.dir, 'nodes/validator-1/key.pub'), 'utf8'))
        .trim()
        .replace(/^0x/, '');
      const spec = (await import('yaml')).parse(await readFile(join(bed.dir, 'network.yaml'), 'utf8')) as {
        nodes: { name: string; p2pPort: number }[];
      };
      const p2pPort = spec.nodes.find((entry) => entry.name === 'validator-1')!.p2pPort;
      for (const name of ['validator-2', 'validator-3', 'validator-4', 'tx']) {
        const allowlist = await readFile(
          join(bed.installDir, 'nodes', name, 'permissions_config.toml'),
          'utf8',
        );
        expect(allowlist).toContain(enodeUrl(publicKey, '127.0.0.1', p2pPort));
        expect(allowlist.match(/enode:\/\//g)).toHaveLength(5);
      }
      expect(await readFile(join(bed.installDir, 'nodes/validator-1/key'), 'utf8')).toBe(
        await readFile(join(bed.dir, 'nodes/validator-1/key'), 'utf8'),
      );

      // And a second run of the same rotation is a new rotation, so status after the first is clean
      const status = await bed.cli(['status', '--json']);
      const nodes = (
        JSON.parse(status.stdout) as {
          result: { nodes: { name: string; validatorsMatch: boolean | null }[] };
        }
      ).result.nodes;
      expect(nodes.filter((entry) => entry.validatorsMatch === false)).toEqual([]);
    }, 240_000);

    it('rotates a validator onto an HSM-held key: nothing uploaded, the move waits until the operator gives the node its key', async () => {
      const bed = await aRotationBed();
      await bed.deployNodes();
      const oldAddress = bed.address('validator-1');
      // Given a key pair held outside the workspace, as an HSM would hold it
      const privateKey = generatePrivateKey();
      const hsm = identityFromPrivateKey(privateKey);
      const privateHex = formatNodeKeyFile(privateKey).slice(2);
      const front = bed.followed.fronts.get('validator-1')!;
      const nodeInfoCallsBefore = front.calls.filter((call) => call === 'admin_nodeInfo').length;

      // Given an operator who, once rotate-key waits at the move for admin_nodeInfo to report the
      // new key, puts that key into validator-1's folder on its machine and restarts its container
      const docker = new Docker({ socketPath: dockerd().socketPath });
      let operatorActedAt: number | undefined;
      let waitedAtMove = false;
      const operator = setInterval(() => {
        void readFile(join(bed.dir, 'rotate-state.json'), 'utf8')
          .then(async (text) => {
            const state = JSON.parse(text) as { archivedKey?: string; done: string[] };
            const asked = front.calls.filter((call) => call === 'admin_nodeInfo').length;
            if (operatorActedAt || !state.archivedKey || asked <= nodeInfoCallsBefore) return;
            operatorActedAt = Date.now();
            waitedAtMove = !state.done.includes('move');
            clearInterval(operator);
            await writeFile(join(bed.installDir, 'nodes/validator-1/key'), formatNodeKeyFile(privateKey), {
              mode: 0o600,
            });
            await docker.getContainer(`besu-${bed.network}-validator-1`).restart({ t: 5 });
          })
          .catch(() => undefined);
      }, 50);
      onTestFinished(() => clearInterval(operator));

      // When validator-1 is rotated onto the HSM-held public key
      const run = await bed.cli([
        'rotate-key',
        '--node',
        'validator-1',
        '--public-key',
        hsm.publicKey,
        '--timeout',
        '30',
        '--json',
      ]);

      // Then rotate-key waited at the move for the operator, and completed once the node ran the key
      expect(run.exitCode, run.stdout + run.stderr).toBe(0);
      expect(operatorActedAt, 'the operator was never waited for').toBeDefined();
      expect(waitedAtMove).toBe(true);
      const result = parse(run.stdout).result!;
      expect(result.newAddress).toBe(hsm.address);
      expect(result.steps.map((step) => [step.id, step.outcome])).toEqual([
        ['allowlists', 'done'],
        ['vote-out', 'done'],
        ['move', 'done'],
        ['vote-in', 'done'],
        ['finish', 'done'],
      ]);
      expect(result.steps[2]!.detail).toContain('admin_nodeInfo confirms it');
      // And the chain's validator set holds the HSM key and not the old one, and validator-1 runs it
      expect(bed.chain.voting.validators).toContain(hsm.address);
      expect(bed.chain.voting.validators).not.toContain(oldAddress);
      expect(bed.chain.voting.validators).toHaveLength(4);
      expect(front.address).toBe(hsm.address);
      // And the operator's key is still on the machine after the final rolling restart
      expect(await readFile(join(bed.installDir, 'nodes/validator-1/key'), 'utf8')).toBe(
        formatNodeKeyFile(privateKey),
      );
      // And no private key of the new identity was written anywhere in the workspace: network.yaml
      // names its public key and validator-1 has no key file
      expect(await filesContaining(bed.dir, privateHex)).toEqual([]);
      await expect(access(join(bed.dir, 'nodes/validator-1/key'))).rejects.toThrow();
      const spec = (await import('yaml')).parse(await readFile(join(bed.dir, 'network.yaml'), 'utf8')) as {
        nodes: { name: string; publicKey?: string }[];
      };
      expect(spec.nodes.find((entry) => entry.name === 'validator-1')!.publicKey).toBe(`0x${hsm.publicKey}`);
      // And the workspace is valid and the rotation recorded
      const validate = await runCli(['validate', '--dir', bed.dir]);
      expect(validate.exitCode, validate.stdout + validate.stderr).toBe(0);
      const history = JSON.parse(await readFile(join(bed.dir, 'key-rotations.json'), 'utf8')) as {
        rotations: { subject: string; from: string; to: string }[];
      };
      expect(history.rotations).toMatchObject([
        { subject: 'validator-1', from: oldAddress, to: hsm.address },
      ]);
    }, 180_000);

    it('refuses a pending foreign vote and a broken quorum (exit 5, nothing changed); a dry run touches nothing', async () => {
      const bed = await aRotationBed();
      await bed.deployNodes();
      const workspaceBefore = await snapshotTree(bed.dir);
      const machinesBefore = await snapshotTree(bed.installDir);

      // Given a vote someone else proposed on validator-3
      const stranger = `0x${randomBytes(20).toString('hex')}`;
      const v3 = bed.followed.fronts.get('validator-3')!;
      await fetch(v3.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'ibft_proposeValidatorVote',
          params: [stranger, true],
        }),
      });
      // When a rotation is asked for
      const pending = await bed.cli(['rotate-key', '--node', 'validator-2', '--json']);
      // Then it is refused with the vote named, and nothing changed
      expect(pending.exitCode, pending.stdout).toBe(5);
      const refusal = parse(pending.stdout);
      expect(refusal.error).toMatchObject({ code: 'PC_VOTES_PENDING' });
      expect(refusal.error!.details).toEqual([`validator-3: add ${stranger}`]);
      expect(refusal.error!.hint).toContain('ibft_discardValidatorVote');
      expect(await snapshotTree(bed.dir)).toEqual(workspaceBefore);
      bed.chain.voting.discard(v3.address, stranger);

      // Given one of the four validators stopped (3 of 4 still make blocks; 3 of 5 would not, and
      // neither would 2 of 4 while a rolling restart takes another one down)
      await bed.followed.fronts.get('validator-4')!.stop();
      const quorum = await bed.cli(['rotate-key', '--node', 'validator-2', '--json']);
      expect(quorum.exitCode, quorum.stdout).toBe(5);
      const broken = parse(quorum.stdout);
      expect(broken.error).toMatchObject({ code: 'PC_QUORUM_AT_RISK' });
      expect(broken.error!.message).toBe(
        'Refused: neither order of the rotation keeps ceil(2N/3) of the 4 validators online at every step',
      );
      const why = broken.error!.details.join('\n');
      expect(why).toContain('offline: validator-4');
      expect(why).toContain(
        'in-first: allowlists: while each validator restarts: 2 of 4 validators online, ceil(2·4/3) = 3 needed; vote-in: once the new key is in, before it runs: 3 of 5 validators online, ceil(2·5/3) = 4 needed',
      );
      expect(why).toContain(
        'out-first: allowlists: while each validator restarts: 2 of 4 validators online, ceil(2·4/3) = 3 needed; finish: while each validator restarts: 2 of 4 validators online, ceil(2·4/3) = 3 needed',
      );
      expect(await snapshotTree(bed.dir)).toEqual(workspaceBefore);
      await bed.followed.fronts.get('validator-4')!.start();

      // When a dry run is asked for
      const dry = await bed.cli(['rotate-key', '--node', 'validator-2', '--dry-run', '--json']);
      expect(dry.exitCode, dry.stderr).toBe(0);
      const plan = parse(dry.stdout).result!;
      // Then it shows the arithmetic and who votes, and touched nothing
      expect(plan.dryRun).toBe(true);
      expect(plan.order).toBe('out-first');
      expect(plan.steps.map((step) => [step.id, step.outcome])).toEqual([
        ['allowlists', 'would run'],
        ['vote-out', 'would run'],
        ['move', 'would run'],
        ['vote-in', 'would run'],
        ['finish', 'would run'],
      ]);
      expect(plan.steps[1]!.quorum).toMatchObject({
        votesNeeded: 3,
        voters: ['validator-1', 'validator-3', 'validator-4', 'validator-2'],
      });
      expect(plan.steps[3]!.quorum).toMatchObject({
        votesNeeded: 2,
        voters: ['validator-1', 'validator-3', 'validator-4'],
      });
      const human = await bed.cli(['rotate-key', '--node', 'validator-2', '--dry-run']);
      expect(human.stdout).toContain(
        'Order: out-first (old key out, node moved, new key in): in-first would stop blocks (move: while validator-2 restarts: 3 of 5 validators online, ceil(2·5/3) = 4 needed)',
      );
      expect(human.stdout).toContain('floor(4/2)+1 = 3 votes needed');
      expect(human.stdout).toContain('floor(3/2)+1 = 2 votes needed');
      expect(human.stdout).toContain('while validator-2 restarts: 3 of 3 online, ceil(2·3/3) = 2 needed');
      expect(await snapshotTree(bed.dir)).toEqual(workspaceBefore);
      expect(await snapshotTree(bed.installDir)).toEqual(machinesBefore);
      expect(bed.chain.voting.validators).toEqual([...bed.chain.voting.validatorsAt(0)!]);
    }, 240_000);

    it('resumes after a node became unreachable mid-way', async () => {
      const bed = await aRotationBed();
      await bed.deployNodes();
      const oldAddress = bed.address('validator-2');

      // Given validator-2 becomes unreachable during its move, once the old key has been voted out
      const freezer = setInterval(() => {
        void readFile(join(bed.dir, 'rotate-state.json'), 'utf8')
          .then((text) => {
            if ((JSON.parse(text) as { archivedKey?: string }).archivedKey) {
              bed.followed.freeze('validator-2');
              clearInterval(freezer);
            }
          })
          .catch(() => undefined);
      }, 20);
      onTestFinished(() => clearInterval(freezer));
      const failed = await bed.cli(['rotate-key', '--node', 'validator-2', '--timeout', '10', '--json']);
      // Then the move fails as a remote step, with the progress recorded
      expect(failed.exitCode, failed.stdout).toBe(4);
      expect(parse(failed.stdout).error).toMatchObject({ code: 'PC_NODE_UNHEALTHY' });
      const state = JSON.parse(await readFile(join(bed.dir, 'rotate-state.json'), 'utf8')) as {
        order: string;
        done: string[];
        new: { address: string };
      };
      expect(state.order).toBe('out-first');
      expect(state.done).toEqual(['allowlists', 'vote-out']);
      expect(bed.chain.voting.validators).not.toContain(oldAddress);
      expect(bed.chain.voting.validators).toHaveLength(3);

      // When the node is back and the rotation is run again
      bed.followed.thaw('validator-2');
      const resumed = await bed.cli(['rotate-key', '--node', 'validator-2', '--timeout', '30', '--json']);
      expect(resumed.exitCode, resumed.stdout + resumed.stderr).toBe(0);
      const result = parse(resumed.stdout).result!;
      // Then it continued where it stopped and completed
      expect(result.steps.map((step) => [step.id, step.outcome])).toEqual([
        ['allowlists', 'already done'],
        ['vote-out', 'already done'],
        ['move', 'done'],
        ['vote-in', 'done'],
        ['finish', 'done'],
      ]);
      expect(result.newAddress).toBe(state.new.address);
      expect(bed.chain.voting.validators).toContain(state.new.address);
      expect(bed.chain.voting.validators).not.toContain(oldAddress);
      const validate = await runCli(['validate', '--dir', bed.dir]);
      expect(validate.exitCode, validate.stderr).toBe(0);
    }, 240_000);

    it('resumes a minter rotation stopped after the grant: no second grant, the same new keystore, then switch and revoke', async () => {
      const bed = await aRotationBed();
      await deployAll(bed);
      const oldMinter = await keystoreAddress(join(bed.dir, 'service/minter.json'));
      const admins = await Promise.all(
        (await readdir(join(bed.dir, 'accounts')))
          .filter((name) => name.endsWith('.json'))
          .map((name) => keystoreAddress(join(bed.dir, 'accounts', name))),
      );
      const { provider, hasRole } = await roleReader(bed);
      const rolesHeld = async (account: string) => {
        const held: boolean[] = [];
        for (const [name, role] of MINTER_ROLES) held.push(await hasRole(name, role, account));
        return held;
      };
      // Every transaction the workspace admins (the signers of grants and revocations) ever sent
      const adminTransactions = async () => {
        let count = 0;
        for (const admin of admins) count += await provider.getTransactionCount(admin);
        return count;
      };

      // Given the service machine refuses the deploy key, so the switch cannot reach the adapter
      const authorizedKeys = join(bed.machines.c.dir, 'authorized_keys');
      const deployKey = (await readFile(`${bed.machines.a.clientKeyFile}.pub`, 'utf8')).trim();
      const authorized = await readFile(authorizedKeys, 'utf8');
      await writeFile(
        authorizedKeys,
        authorized
          .split('\n')
          .filter((line) => line.trim() !== deployKey)
          .join('\n'),
      );
      // When the minter is rotated
      const failed = await bed.cli(['rotate-key', '--account', 'minter', '--timeout', '30', '--json']);
      // Then it stops after the grant, as a remote step, with the grant recorded
      expect(failed.exitCode, failed.stdout + failed.stderr).toBe(4);
      const state = JSON.parse(await readFile(join(bed.dir, 'rotate-state.json'), 'utf8')) as {
        done: string[];
        new: { address: string; keystoreFile: string };
      };
      expect(state.done).toEqual(['grant']);
      expect(await rolesHeld(state.new.address)).toEqual([true, true, true]);
      expect(await rolesHeld(oldMinter)).toEqual([true, true, true]);
      const newKeystore = await readFile(join(bed.dir, state.new.keystoreFile), 'utf8');
      const transactionsAfterGrant = await adminTransactions();

      // When the service machine takes the deploy key again and the rotation is run again
      await writeFile(authorizedKeys, authorized);
      const resumed = await bed.cli(['rotate-key', '--account', 'minter', '--timeout', '60', '--json']);
      expect(resumed.exitCode, resumed.stdout + resumed.stderr).toBe(0);
      const result = parse(resumed.stdout).result!;
      // Then it continued from the recorded step: the grant is not sent again, only the 3 revocations are
      expect(result.steps.map((step) => [step.id, step.outcome])).toEqual([
        ['grant', 'already done'],
        ['switch', 'done'],
        ['revoke', 'done'],
      ]);
      expect(await adminTransactions()).toBe(transactionsAfterGrant + 3);
      // And the new minter is the one the first run made, with the same keystore, in the workspace
      // and on the service machine
      expect(result.newAddress).toBe(state.new.address);
      expect(await readFile(join(bed.dir, 'service/minter.json'), 'utf8')).toBe(newKeystore);
      expect(await readFile(join(bed.installDir, 'service/minter.json'), 'utf8')).toBe(newKeystore);
      // And the new minter holds every minting role and the old one none
      expect(await rolesHeld(state.new.address)).toEqual([true, true, true]);
      expect(await rolesHeld(oldMinter)).toEqual([false, false, false]);
      // And the rotation is complete and the workspace valid
      await expect(access(join(bed.dir, 'rotate-state.json'))).rejects.toThrow();
      expect((await runCli(['validate', '--dir', bed.dir])).exitCode).toBe(0);
    }, 240_000);

    it('rotates the minter (the running adapter reloads its signer, no restart) and an admin, granting before revoking', async () => {
      const bed = await aRotationBed();
      await deployAll(bed);
      const oldMinter = await keystoreAddress(join(bed.dir, 'service/minter.json'));
      const oldAdmin = await keystoreAddress(join(bed.dir, 'accounts/admin-org-1.json'));
      const { hasRole } = await roleReader(bed);
      for (const [name, role] of MINTER_ROLES) expect(await hasRole(name, role, oldMinter)).toBe(true);

      const adapterUnit = `peruri-chain-${bed.network}-adapter.service`;
      const calls = async (verb: string) =>
        (await bed.systemd.calls()).filter((call) => call === `systemctl ${verb} ${adapterUnit}`).length;
      const restartsBefore = await calls('restart');
      const startsBefore = await calls('start');
      // The adapter's /health, asked every 50 ms from here until the rotation is over
      const { listen } = (await import('yaml')).parse(
        await readFile(join(bed.installDir, 'service/adapter.yaml'), 'utf8'),
      ) as { listen: { port: number } };
      let watching = true;
      let answered = 0;
      const outages: string[] = [];
      const watcher = (async () => {
        while (watching) {
          try {
            const health = await fetch(`http://127.0.0.1:${listen.port}/health`, {
              signal: AbortSignal.timeout(2_000),
            });
            if (health.ok) answered += 1;
            else outages.push(`GET /health answered ${health.status}`);
          } catch (error) {
            outages.push(`${String(error)} ${String((error as { cause?: unknown }).cause)}`);
          }
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      })();

      // When the minter is rotated
      const minter = await bed.cli(['rotate-key', '--account', 'minter', '--timeout', '90', '--json']);
      watching = false;
      await watcher;
      expect(minter.exitCode, minter.stdout + minter.stderr).toBe(0);
      // Then the adapter answered all along
      expect(outages).toEqual([]);
      expect(answered).toBeGreaterThan(10);
      const result = parse(minter.stdout).result!;
      expect(result.steps.map((step) => [step.id, step.outcome])).toEqual([
        ['grant', 'done'],
        ['switch', 'done'],
        ['revoke', 'done'],
      ]);
      const newMinter = result.newAddress!;
      expect(newMinter).not.toBe(oldMinter);
      // Then the new key holds every minting role and the old one none
      for (const [name, role] of MINTER_ROLES) {
        expect(await hasRole(name, role, newMinter), `${name} ${role}`).toBe(true);
        expect(await hasRole(name, role, oldMinter), `${name} ${role}`).toBe(false);
      }
      // And the adapter on the service machine has the new keystore, its config names it, and it runs
      const serviceDir = join(bed.installDir, 'service');
      expect(await keystoreAddress(join(serviceDir, 'minter.json'))).toBe(newMinter);
      const config = (await import('yaml')).parse(
        await readFile(join(serviceDir, 'adapter.yaml'), 'utf8'),
      ) as {
        signer: { address: string; keystoreFile: string };
      };
      expect(config.signer).toMatchObject({
        address: newMinter,
        keystoreFile: join(serviceDir, 'minter.json'),
      });
      // And the adapter was not restarted: one reload (SIGHUP), and its log says the signer was replaced
      expect(await calls('restart')).toBe(restartsBefore);
      expect(await calls('start')).toBe(startsBefore);
      expect(await calls('reload')).toBe(1);
      expect(result.steps.find((step) => step.id === 'switch')!.detail).toMatch(/reloaded its signer/);
      const adapterLog = await bed.systemd.log(adapterUnit);
      expect(adapterLog).toContain('signer replaced');
      expect(adapterLog).toContain(newMinter);
      // And status finds it ready, signing with the new minter
      const status = await bed.cli(['status', '--json']);
      expect(
        (JSON.parse(status.stdout) as { result: { adapter: { ready: boolean; signer: string | null } } })
          .result.adapter,
        status.stdout,
      ).toMatchObject({ ready: true, signer: newMinter });
      // And the old minter keystore is archived and the workspace is valid
      expect(await keystoreAddress(join(bed.dir, result.archivedKey!))).toBe(oldMinter);
      expect((await runCli(['validate', '--dir', bed.dir])).exitCode).toBe(0);

      // When org-1's admin is rotated
      const admin = await bed.cli(['rotate-key', '--account', 'admin', '--organisation', 'org-1', '--json']);
      expect(admin.exitCode, admin.stdout + admin.stderr).toBe(0);
      const newAdmin = parse(admin.stdout).result!.newAddress!;
      // Then the new admin holds DEFAULT_ADMIN_ROLE on every contract and the old one renounced it
      for (const name of ['PointsToken', 'Badges', 'ActivityLog']) {
        expect(await hasRole(name, 'DEFAULT_ADMIN_ROLE', newAdmin), name).toBe(true);
        expect(await hasRole(name, 'DEFAULT_ADMIN_ROLE', oldAdmin), name).toBe(false);
      }
      expect(await keystoreAddress(join(bed.dir, 'accounts/admin-org-1.json'))).toBe(newAdmin);
      expect((await runCli(['validate', '--dir', bed.dir])).exitCode).toBe(0);
    }, 300_000);
  },
);
