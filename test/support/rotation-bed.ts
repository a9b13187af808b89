import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { BesuNetwork } from './besu-front.js';
import { aBesuNetwork } from './besu-front.js';
import { CLI, runCli } from './cli.js';
import type { Dockerd } from './dockerd.js';
import type { FakeSystemd } from './fake-systemd.js';
import { aMachinesBed } from './machines-bed.js';
import { freePort } from './net.js';
import { followRuntimes, type FollowedFronts } from './runtime-fronts.js';
import type { Sshd } from './sshd.js';

/**
 * A network of four validators and a tx node for rotate-key and restore tests. Real parts:
 * OpenSSH servers on loopback (the "machines"), a real Docker engine, the built CLI, anvil (a real
 * EVM) under the chain. Stand-ins: busybox for Besu's process, and the besu-front (IBFT 2.0 voting
 * and liveness model, ibft-voting.ts) for Besu's JSON-RPC. Each node's front runs exactly when its
 * container or (fake-systemd) unit runs, under the key its folder holds at start
 * (runtime-fronts.ts): a restart onto a new key makes it another validator.
 */
// Besu ends on SIGTERM; busybox's sleep as PID 1 would ignore it and every restart would wait
// out the 120 s stop timeout.
export const BESU_THAT_STOPS = {
  ref: 'peruri-test/besu-stand-in:stops',
  changes: [
    `ENTRYPOINT ["/bin/sh", "-c", "trap 'exit 0' TERM; echo \\"besu stand-in $*\\"; sleep 86400 & wait", "besu"]`,
  ],
};

export interface Bed {
  dir: string;
  installDir: string;
  network: string;
  chain: BesuNetwork;
  followed: FollowedFronts;
  systemd: FakeSystemd;
  /** Machine a (validator-1, validator-4), b (validator-2, tx), c (validator-3, adapter). */
  machines: { a: Sshd; b: Sshd; c: Sshd };
  /** The SSH, Docker and systemd flags every command of the bed gets. */
  flags: string[];
  /** Node addresses as init made them. */
  address(name: string): string;
  cli(args: string[], extra?: string[]): ReturnType<typeof runCli>;
  /** `deploy --only nodes` with first-use host keys accepted; fails the test unless it succeeds. */
  deployNodes(): Promise<void>;
}

// Four validators (blocks need 3 online; 4 while a fifth key is in): validator-1 and validator-4
// run in Docker on machine a, validator-2 and the tx node under systemd on b, validator-3 on c;
// the adapter (systemd) on c.
export async function aRotationBed(dockerd: Dockerd): Promise<Bed> {
  const bed = await aMachinesBed({ prefix: 'peruri-rotate-', networkLetter: 'r', dockerd });
  const { a, b, c, systemd, docker, network, installDir, flags } = bed;
  const { node } = bed;
  const spec = {
    name: network,
    chainId: 4343,
    installDir,
    consensus: { blockPeriodSeconds: 1 },
    besu: { image: BESU_THAT_STOPS.ref, binary: bed.fakeBesu },
    organisations: [{ name: 'org-1' }, { name: 'org-2' }],
    nodes: [
      await node('validator-1', 'validator', 'org-1', a, 'docker'),
      await node('validator-2', 'validator', 'org-2', b, 'systemd'),
      await node('validator-3', 'validator', 'org-1', c, 'systemd'),
      await node('validator-4', 'validator', 'org-2', a, 'docker'),
      await node('tx', 'tx', 'org-1', b, 'systemd'),
    ],
    service: { host: '127.0.0.1', ssh: bed.ssh(c), adapterPort: await freePort(), runtime: 'systemd' },
  };
  const { dir, nodes, address } = await bed.init(spec);
  const chain = await aBesuNetwork({
    chainId: 4343,
    validators: nodes.filter((entry) => entry.name.startsWith('validator')).map((entry) => entry.address),
    blockPeriodMs: 200,
  });
  const followed = followRuntimes(
    chain,
    spec.nodes.map((entry) => ({
      name: entry.name,
      nodeDir: join(installDir, 'nodes', entry.name),
      rpcPort: entry.rpcPort,
      runtime:
        entry.runtime === 'docker'
          ? { kind: 'docker' as const, container: `besu-${network}-${entry.name}`, docker }
          : {
              kind: 'systemd' as const,
              unit: `besu-${network}-${entry.name}.service`,
              stateDir: systemd.env.FAKE_SYSTEMD_STATE!,
            },
    })),
  );
  const jwtSecret = randomBytes(24).toString('hex');
  const cli: Bed['cli'] = (args, extra = []) =>
    runCli(
      [
        ...args,
        '--dir',
        dir,
        ...flags,
        ...(args[0] === 'deploy' || args.includes('minter') ? ['--adapter-command', CLI] : []),
        ...extra,
      ],
      { env: { PERURI_CHAIN_ADAPTER_JWT_SECRET: jwtSecret } },
    );
  return {
    dir,
    installDir,
    network,
    chain,
    followed,
    systemd,
    machines: { a, b, c },
    flags,
    address,
    cli,
    deployNodes: async () => {
      const deployed = await cli([
        'deploy',
        '--only',
        'nodes',
        '--accept-new-host-key',
        '--health-timeout',
        '60',
        '--json',
      ]);
      expect(deployed.exitCode, deployed.stdout + deployed.stderr).toBe(0);
    },
  };
}
