import { randomBytes } from 'node:crypto';
import { access, appendFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Docker from 'dockerode';
import { expect, it } from 'vitest';
import { Ajv } from 'ajv';
import { envelopeSchema, resultSchemas } from '../../src/cli/result-schemas.js';
import { ADAPTER_NODE_OPTIONS } from '../../src/core/adapter-node-options.js';
import { encryptAccountKeys } from '../../src/core/keys/keystore.js';
import { ADAPTER_TEST_IMAGE, importAdapterImage } from '../support/adapter-image.js';
import { aBesuNetwork, type BesuNetwork } from '../support/besu-front.js';
import { CLI, runCli } from '../support/cli.js';
import {
  BESU_STAND_IN,
  dockerdForSuite,
  dockerdUnavailable,
  importTestImage,
  type Dockerd,
} from '../support/dockerd.js';
import type { FakeSystemd } from '../support/fake-systemd.js';
import { aMachinesBed } from '../support/machines-bed.js';
import { freePort } from '../support/net.js';
import { describeRequiring } from '../support/requirement.js';
import { sshdUnavailable, type Sshd } from '../support/sshd.js';
import { snapshotTree } from '../support/temp-dir.js';

// Real parts: OpenSSH servers on loopback (one per "machine", each with its own host key), a real
// Docker engine reached through SSH stream-local forwarding, the built CLI. Stand-ins: busybox for
// Besu's image and binary, the besu-front (anvil + IBFT 2.0 voting model) for Besu's JSON-RPC,
// a fake systemctl/journalctl (these machines have no systemd) that records calls and runs units.

let dockerd: () => Dockerd;

interface Bed {
  dir: string;
  installDir: string;
  network: string;
  a: Sshd;
  b: Sshd;
  c: Sshd;
  systemd: FakeSystemd;
  chain: BesuNetwork;
  jwtSecret: string;
  /** Runs `deploy` (or another command) with the bed's flags, as a user would. */
  cli(args: string[], extra?: string[]): ReturnType<typeof runCli>;
  docker: Docker;
}

// Machine a runs validator-1 (docker) and the tx node (docker), b runs validator-2 (systemd), c the
// adapter (systemd). Two validators: blocks need both (ceil(2N/3) = 2).
async function aDeployBed(
  options: { image?: string; serviceRuntime?: 'docker' | 'systemd' } = {},
): Promise<Bed> {
  const bed = await aMachinesBed({ prefix: 'peruri-deploy-', networkLetter: 't', dockerd: dockerd() });
  const { a, b, c, systemd, docker, network, installDir, flags } = bed;
  const { node } = bed;
  const spec = {
    name: network,
    chainId: 4242,
    installDir,
    besu: { image: options.image ?? BESU_STAND_IN.ref, binary: bed.fakeBesu },
    organisations: [{ name: 'org-1' }, { name: 'org-2' }],
    nodes: [
      await node('validator-1', 'validator', 'org-1', a, 'docker'),
      await node('validator-2', 'validator', 'org-2', b, 'systemd'),
      await node('tx', 'tx', 'org-1', a, 'docker'),
    ],
    service: {
      host: '127.0.0.1',
      ssh: bed.ssh(c),
      adapterPort: await freePort(),
      runtime: options.serviceRuntime ?? 'systemd',
    },
  };
  const { dir, address } = await bed.init(spec);

  const chain = await aBesuNetwork({
    chainId: 4242,
    validators: [address('validator-1'), address('validator-2')],
  });
  for (const entry of spec.nodes) {
    await chain.startNode({ name: entry.name, address: address(entry.name), port: entry.rpcPort });
  }
  const jwtSecret = randomBytes(24).toString('hex');
  return {
    dir,
    installDir,
    network,
    a,
    b,
    c,
    systemd,
    chain,
    jwtSecret,
    docker,
    cli: (args, extra = []) =>
      runCli(
        [
          ...args,
          '--dir',
          dir,
          ...flags,
          ...(args[0] === 'deploy' ? ['--adapter-command', CLI, '--adapter-image', ADAPTER_TEST_IMAGE] : []),
          ...extra,
        ],
        {
          env: { PERURI_CHAIN_ADAPTER_JWT_SECRET: jwtSecret },
        },
      ),
  };
}

interface DeployEnvelope {
  status: number;
  result?: {
    dryRun: boolean;
    changes: number;
    steps: { id: string; outcome: string; detail?: string }[];
  };
  error?: { code: string; message: string; hint?: string; details: string[] };
}

function parse(stdout: string): DeployEnvelope {
  return JSON.parse(stdout) as DeployEnvelope;
}

const ajv = new Ajv({ allErrors: true, strict: false });

// Every --json document of deploy and status must match the published schemas.
function expectSchema(command: 'deploy' | 'status', stdout: string): void {
  const document = JSON.parse(stdout) as { result?: unknown };
  expect(ajv.validate(envelopeSchema, document), ajv.errorsText()).toBe(true);
  expect(ajv.validate(resultSchemas[command]!, document.result), ajv.errorsText()).toBe(true);
}

function outcomes(envelope: DeployEnvelope): Record<string, string> {
  return Object.fromEntries(envelope.result!.steps.map((step) => [step.id, step.outcome]));
}

const unavailable = sshdUnavailable() ?? dockerdUnavailable();

describeRequiring(
  'deploy and status against real sshd and dockerd',
  'OpenSSH server and Docker engine',
  unavailable,
  () => {
    dockerd = dockerdForSuite([BESU_STAND_IN]);

    it('deploys nodes, contracts and adapter; a second run changes nothing; status reports health', async () => {
      const bed = await aDeployBed();

      // When the whole network is deployed for the first time
      const first = await bed.cli(['deploy', '--accept-new-host-key', '--health-timeout', '60', '--json']);
      const envelope = parse(first.stdout);
      expect(first.exitCode, first.stdout + first.stderr).toBe(0);
      expectSchema('deploy', first.stdout);

      // Then every step did its work, in order
      expect(outcomes(envelope)).toEqual({
        'node-folder:validator-1': 'changed',
        'node-runtime:validator-1': 'changed',
        'node-folder:validator-2': 'changed',
        'node-runtime:validator-2': 'changed',
        'node-folder:tx': 'changed',
        'node-runtime:tx': 'changed',
        health: 'checked',
        contracts: 'changed',
        'adapter-folder': 'changed',
        'adapter-runtime': 'changed',
      });
      // And the docker node runs the pinned image with its folder mounted, limits and restart policy
      const container = await bed.docker.getContainer(`besu-${bed.network}-validator-1`).inspect();
      const nodeDir = join(bed.installDir, 'nodes/validator-1');
      expect(container.State.Running).toBe(true);
      expect(container.Config.Image).toBe(BESU_STAND_IN.ref);
      expect(container.Config.User).toBe('1000:1000');
      expect(container.Config.Cmd).toEqual([`--config-file=${nodeDir}/config.toml`]);
      expect(container.HostConfig.Binds).toEqual([`${nodeDir}:${nodeDir}`]);
      expect(container.HostConfig.RestartPolicy?.Name).toBe('unless-stopped');
      expect(container.HostConfig.Memory).toBe(4 * 1024 ** 3);
      expect(container.HostConfig.NetworkMode).toBe('host');
      // the folder belongs to Besu's uid 1000, the key stays 0600, the replaced folder is kept
      const key = await stat(join(nodeDir, 'key'));
      expect([key.uid, key.mode & 0o777]).toEqual([1000, 0o600]);
      // And the systemd node and the adapter were installed and started through systemctl
      const calls = await bed.systemd.calls();
      const besuUnit = `besu-${bed.network}-validator-2.service`;
      const adapterUnit = `peruri-chain-${bed.network}-adapter.service`;
      expect(calls).toEqual(
        expect.arrayContaining([
          'systemctl daemon-reload',
          `systemctl enable ${besuUnit}`,
          `systemctl restart ${besuUnit}`,
          `systemctl enable ${adapterUnit}`,
          `systemctl restart ${adapterUnit}`,
        ]),
      );
      expect(await bed.systemd.log(besuUnit)).toContain(
        `besu stand-in --config-file=${bed.installDir}/nodes/validator-2/config.toml`,
      );
      // the adapter's secrets are in a 0600 file on its machine and nowhere in the output
      const envFile = join(bed.installDir, 'service/adapter.env');
      expect((await stat(envFile)).mode & 0o777).toBe(0o600);
      expect(await readFile(envFile, 'utf8')).toContain(bed.jwtSecret);
      expect(first.stdout + first.stderr).not.toContain(bed.jwtSecret);
      await access(join(bed.installDir, 'service/deployments.json'));
      const state = JSON.parse(await readFile(join(bed.dir, 'deploy-state.json'), 'utf8')) as {
        nodes: Record<string, { runtimeHash?: string }>;
        contracts?: unknown;
      };
      expect(Object.keys(state.nodes)).toEqual(['validator-1', 'validator-2', 'tx']);
      expect(state.nodes['tx']!.runtimeHash).toMatch(/^[0-9a-f]{64}$/);

      // When deploy runs again
      const machinesBefore = await snapshotTree(bed.installDir);
      const second = await bed.cli(['deploy', '--health-timeout', '60', '--json']);
      // Then it changes nothing
      expect(second.exitCode, second.stdout + second.stderr).toBe(0);
      expect(parse(second.stdout).result!.changes).toBe(0);
      expect(
        Object.values(outcomes(parse(second.stdout))).every((o) => o === 'unchanged' || o === 'checked'),
      ).toBe(true);
      // And a dry run now expects no change and touches nothing
      const dry = await bed.cli(['deploy', '--dry-run', '--json']);
      expect(parse(dry.stdout).result!.changes).toBe(0);
      expectSchema('deploy', dry.stdout);
      // (the running adapter's own database moves on by itself: its worker indexes new blocks)
      const withoutAdapterDatabase = (tree: Awaited<ReturnType<typeof snapshotTree>>) =>
        Object.fromEntries(Object.entries(tree).filter(([path]) => !/service\/adapter\.db/.test(path)));
      expect(withoutAdapterDatabase(await snapshotTree(bed.installDir))).toEqual(
        withoutAdapterDatabase(machinesBefore),
      );

      // When a node's folder changes (here a hand edit of its config) while its Besu has data
      const v2 = join(bed.installDir, 'nodes/validator-2');
      await mkdir(join(v2, 'data'), { recursive: true });
      await writeFile(join(v2, 'data/chain'), 'blocks');
      await appendFile(join(bed.dir, 'nodes/validator-2/config.toml'), '# tuned\n');
      const third = await bed.cli(['deploy', '--only', 'nodes', '--health-timeout', '60', '--json']);
      // Then only that node is stopped, replaced and restarted; its data moves over, the old folder is kept
      expect(third.exitCode, third.stdout + third.stderr).toBe(0);
      expect(outcomes(parse(third.stdout))).toMatchObject({
        'node-folder:validator-1': 'unchanged',
        'node-folder:validator-2': 'changed',
        'node-runtime:validator-2': 'changed',
        'node-runtime:tx': 'unchanged',
      });
      expect(await readFile(join(v2, 'data/chain'), 'utf8')).toBe('blocks');
      expect(await readFile(join(v2, 'config.toml'), 'utf8')).toContain('# tuned');
      expect(await readFile(`${v2}.previous/config.toml`, 'utf8')).not.toContain('# tuned');
      expect((await bed.systemd.calls()).slice(-4)).toEqual([
        `systemctl stop ${besuUnit}`,
        'systemctl daemon-reload',
        `systemctl enable ${besuUnit}`,
        `systemctl restart ${besuUnit}`,
      ]);

      // When status looks at the healthy network
      const healthy = await bed.cli(['status', '--json']);
      const status = JSON.parse(healthy.stdout) as {
        status: number;
        result: {
          healthy: boolean;
          nodes: {
            name: string;
            blockNumber: number;
            validatorsMatch: boolean | null;
            state: string;
            peers: number;
          }[];
          contracts: { deployed: boolean }[];
          adapter: { ready: boolean; readyCheck: string; queueDepth: number | null };
        };
      };
      expect(healthy.exitCode, healthy.stdout).toBe(0);
      expectSchema('status', healthy.stdout);
      expect(status.result.healthy).toBe(true);
      expect(status.result.nodes.map((node) => [node.name, node.state, node.validatorsMatch])).toEqual([
        ['validator-1', 'running', true],
        ['validator-2', 'active', true],
        ['tx', 'running', null],
      ]);
      expect(status.result.contracts.every((contract) => contract.deployed)).toBe(true);
      // the adapter's /ready (with a token from the JWT secret): its database and the chain answer
      expect(status.result.adapter).toMatchObject({
        ready: true,
        readyCheck: '/ready',
        queueDepth: 0,
        // No RabbitMQ intake in this workspace's adapter.yaml.
        amqpConnected: null,
      });
      expect(healthy.stdout).not.toContain(bed.jwtSecret);

      // When the tx node loses its peers
      bed.chain.nodes.find((node) => node.name === 'tx')!.setPeerCount(0);
      const unhealthyJson = await bed.cli(['status', '--json']);
      const human = await bed.cli(['status']);
      // Then status says so with exit 4, in JSON (status 4, full result) and in the table
      expect(unhealthyJson.exitCode).toBe(4);
      expectSchema('status', unhealthyJson.stdout);
      expect(JSON.parse(unhealthyJson.stdout)).toMatchObject({
        status: 4,
        result: { healthy: false, problems: ['node tx: no peers'] },
      });
      expect(human.exitCode).toBe(4);
      expect(human.stdout).toMatch(/tx\s+tx\s+.*UNHEALTHY/);
      // The table in the message: a second problem on a loaded machine is then named in the failure.
      expect(human.stderr, human.stdout).toContain('1 problem(s)');
    }, 400_000);

    it('runs the adapter in a container of its pinned image: ready, bounded heap, secrets not in its configuration', async () => {
      // Given a network whose service machine runs the adapter in Docker, and the adapter's image
      // on that machine's engine
      const bed = await aDeployBed({ serviceRuntime: 'docker' });
      await importAdapterImage(dockerd().socketPath);

      // When the network is deployed
      const deployed = await bed.cli(['deploy', '--accept-new-host-key', '--health-timeout', '60', '--json']);

      // Then the adapter runs in its container from that image, on the host's network, with its
      // folder mounted and the launchers' Node options, its secrets only in the mounted 0600 file
      expect(deployed.exitCode, deployed.stdout + deployed.stderr).toBe(0);
      expect(outcomes(parse(deployed.stdout))).toMatchObject({
        'adapter-folder': 'changed',
        'adapter-runtime': 'changed',
      });
      const container = await bed.docker.getContainer(`peruri-chain-${bed.network}-adapter`).inspect();
      expect(container.State.Running).toBe(true);
      expect(container.Config.Image).toBe(ADAPTER_TEST_IMAGE);
      expect(container.HostConfig.NetworkMode).toBe('host');
      expect(container.HostConfig.Binds).toEqual([`${bed.installDir}/service:${bed.installDir}/service`]);
      expect(container.Config.Env).toContain(`NODE_OPTIONS=${ADAPTER_NODE_OPTIONS}`);
      expect(JSON.stringify(container.Config)).not.toContain(bed.jwtSecret);
      // And status finds it ready (its database and the chain answer its /ready)
      const status = await bed.cli(['status', '--json']);
      expect(status.exitCode, status.stdout + status.stderr).toBe(0);
      expect(JSON.parse(status.stdout).result.adapter).toMatchObject({
        state: 'running',
        ready: true,
        readyCheck: '/ready',
        queueDepth: 0,
      });
      // And a second deploy leaves the container as it is
      const again = await bed.cli(['deploy', '--health-timeout', '60', '--json']);
      expect(again.exitCode, again.stdout + again.stderr).toBe(0);
      expect(outcomes(parse(again.stdout))).toMatchObject({ 'adapter-runtime': 'unchanged' });
      expect((await bed.docker.getContainer(container.Id).inspect()).State.StartedAt).toBe(
        container.State.StartedAt,
      );

      // When the workspace gets a new minter keystore (as rotate-key's switch puts it) and is deployed again
      const password = (await readFile(join(bed.dir, 'secrets/dev-keystore-password'), 'utf8')).trim();
      const { minter } = await encryptAccountKeys(
        { minter: new Uint8Array(randomBytes(32)) },
        password,
        'dev',
      );
      await writeFile(join(bed.dir, 'service/minter.json'), minter!.json, { mode: 0o600 });
      const rendered = await runCli(['render', '--dir', bed.dir]);
      expect(rendered.exitCode, rendered.stderr).toBe(0);
      const switched = await bed.cli(['deploy', '--health-timeout', '60', '--json']);
      // Then the container keeps running, not restarted: the adapter got SIGHUP and signs with the new key
      expect(switched.exitCode, switched.stdout + switched.stderr).toBe(0);
      const runtimeStep = parse(switched.stdout).result!.steps.find((step) => step.id === 'adapter-runtime');
      expect(runtimeStep).toMatchObject({
        outcome: 'changed',
        detail: `signer reloaded: ${minter!.address}`,
      });
      const after = await bed.docker.getContainer(container.Id).inspect();
      expect(after.State.StartedAt).toBe(container.State.StartedAt);
      expect(after.RestartCount).toBe(0);
      const logs = (
        await bed.docker.getContainer(container.Id).logs({ stdout: true, stderr: true })
      ).toString();
      expect(logs).toContain('signer replaced');
      expect(logs).toContain(minter!.address);
    }, 240_000);

    it('a dry run connects to nothing and writes nothing', async () => {
      const bed = await aDeployBed();
      const result = await bed.cli(['deploy', '--dry-run', '--json']);
      expect(result.exitCode, result.stderr).toBe(0);
      expect(Object.values(outcomes(parse(result.stdout)))).toContain('would change');
      await expect(access(bed.installDir)).rejects.toThrow();
      await expect(access(join(bed.dir, 'known_hosts'))).rejects.toThrow();
      await expect(access(join(bed.dir, 'deploy-state.json'))).rejects.toThrow();
      expect(bed.a.log()).not.toContain('Accepted publickey');
    }, 60_000);

    it('reports a missing image (never pulled), then resumes where it stopped once the image is loaded', async () => {
      const image = `peruri-test/besu-later:${randomBytes(3).toString('hex')}`;
      const bed = await aDeployBed({ image });

      const failed = await bed.cli(['deploy', '--accept-new-host-key', '--only', 'nodes', '--json']);
      expect(failed.exitCode).toBe(5);
      expect(parse(failed.stdout).error).toMatchObject({
        code: 'PC_IMAGE_MISSING',
        message: `${bed.a.host}:${bed.a.port}: the image ${image} is not on this machine`,
      });
      // the first folder is in place and recorded; its runtime is not
      const state = JSON.parse(await readFile(join(bed.dir, 'deploy-state.json'), 'utf8')) as {
        nodes: Record<string, { runtimeHash?: string }>;
      };
      expect(Object.keys(state.nodes)).toEqual(['validator-1']);
      expect(state.nodes['validator-1']!.runtimeHash).toBeUndefined();

      await importTestImage(dockerd().socketPath, { ...BESU_STAND_IN, ref: image });
      const resumed = await bed.cli(['deploy', '--only', 'nodes', '--health-timeout', '60', '--json']);
      expect(resumed.exitCode, resumed.stdout + resumed.stderr).toBe(0);
      expect(outcomes(parse(resumed.stdout))).toMatchObject({
        'node-folder:validator-1': 'unchanged',
        'node-runtime:validator-1': 'changed',
        'node-folder:validator-2': 'changed',
        health: 'checked',
      });
    }, 180_000);

    it('the health gate fails with exit 4, naming the node and showing its last log lines', async () => {
      const bed = await aDeployBed();
      // validator-2 is down: two validators need both, so the chain makes no block
      await bed.chain.nodes.find((node) => node.name === 'validator-2')!.stop();
      const result = await bed.cli([
        'deploy',
        '--accept-new-host-key',
        '--only',
        'nodes',
        '--health-timeout',
        '3',
        '--json',
      ]);
      expect(result.exitCode).toBe(4);
      const error = parse(result.stdout).error!;
      expect(error.code).toBe('PC_NODE_UNHEALTHY');
      expect(error.message).toMatch(
        /^Node validator-1 on 127\.0\.0\.1:\d+ is not healthy after 3 s: blocks do not advance/,
      );
      expect(error.details).toContain('last log lines of validator-1:');
      expect(error.details.join('\n')).toContain(
        `besu stand-in --config-file=${bed.installDir}/nodes/validator-1/config.toml`,
      );
      expect(error.details.join('\n')).toMatch(/validator-2: no answer over JSON-RPC/);
    }, 120_000);

    it('refuses a machine whose host key changed (exit 5) before changing anything, naming both fingerprints', async () => {
      const bed = await aDeployBed();
      // the keys are recorded once (status only reads), then machine b is reinstalled
      await bed.cli(['status', '--accept-new-host-key']);
      const oldFingerprint = bed.b.hostKeyFingerprint;
      const b = await bed.b.restart({ newHostKey: true });
      const result = await bed.cli(['deploy', '--accept-new-host-key']);
      expect(result.exitCode).toBe(5);
      expect(result.stderr).toContain(`The host key of 127.0.0.1:${b.port} has CHANGED`);
      expect(result.stderr).toContain(`presented: ${b.hostKeyFingerprint}`);
      expect(result.stderr).toContain(oldFingerprint);
      await expect(access(bed.installDir)).rejects.toThrow();
    }, 120_000);
  },
);
