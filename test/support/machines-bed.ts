import { randomBytes } from 'node:crypto';
import { appendFile, chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Docker from 'dockerode';
import { expect, onTestFinished } from 'vitest';
import { stringify } from 'yaml';
import { runCli } from './cli.js';
import type { Dockerd } from './dockerd.js';
import { aFakeSystemd, type FakeSystemd } from './fake-systemd.js';
import { freePort } from './net.js';
import { aRunningSshd, type Sshd } from './sshd.js';
import { aTempDir } from './temp-dir.js';

/** A node as `init --json` reports it. */
export interface InitNode {
  name: string;
  address: string;
}

/**
 * Three "machines" for the remote-command tests (deploy, rotate-key, restore --push): real
 * OpenSSH servers on loopback, each with its own host key, that all take one deploy key, with one
 * fake systemd first on their sessions' PATH; a real Docker engine reached through them. Every
 * container labelled with the bed's network is removed when the test finishes (containers
 * outlive a stopped dockerd: their shims keep running).
 */
export interface MachinesBed {
  a: Sshd;
  b: Sshd;
  c: Sshd;
  systemd: FakeSystemd;
  docker: Docker;
  /** A network name of its own, so containers of parallel tests never meet. */
  network: string;
  root: string;
  /** The spec's installDir: where the machines hold their folders. */
  installDir: string;
  /** The Besu binary systemd nodes run: a script that prints its arguments and sleeps. */
  fakeBesu: string;
  /** The SSH, Docker and systemd flags every remote command of the bed gets. */
  flags: string[];
  /** A spec's node on one of the machines (loopback), with free P2P, RPC and metrics ports. */
  node(
    name: string,
    role: string,
    organisation: string,
    machine: Sshd,
    runtime: string,
  ): Promise<{
    name: string;
    organisation: string;
    role: string;
    host: string;
    ssh: { user: string; port: number };
    runtime: string;
    p2pPort: number;
    rpcPort: number;
    metricsPort: number;
  }>;
  /** A spec's `ssh` entry for a machine. */
  ssh(machine: Sshd): { user: string; port: number };
  /** Writes the spec as network.yaml and runs `init` on it into `root/ws`. */
  init(spec: object): Promise<{ dir: string; nodes: InitNode[]; address(name: string): string }>;
}

/**
 * Starts the three machines and prepares the bed's folder.
 * @param options - the temp folder's prefix, the network name's first letter, the Docker engine
 */
export async function aMachinesBed(options: {
  prefix: string;
  networkLetter: string;
  dockerd: Dockerd;
}): Promise<MachinesBed> {
  const systemd = await aFakeSystemd();
  const [a, b, c] = [
    await aRunningSshd({ env: systemd.env }),
    await aRunningSshd({ env: systemd.env }),
    await aRunningSshd({ env: systemd.env }),
  ];
  // One deploy key for every machine, as an operator has.
  const deployKey = await readFile(`${a.clientKeyFile}.pub`);
  await appendFile(join(b.dir, 'authorized_keys'), deployKey);
  await appendFile(join(c.dir, 'authorized_keys'), deployKey);
  const root = await aTempDir(options.prefix);
  const fakeBesu = join(root, 'fake-besu');
  await writeFile(fakeBesu, '#!/bin/sh\necho "besu stand-in $*"\nexec sleep 86400\n');
  await chmod(fakeBesu, 0o755);
  const ssh = (machine: Sshd) => ({ user: machine.username, port: machine.port });
  const network = `${options.networkLetter}${randomBytes(3).toString('hex')}`;
  const docker = new Docker({ socketPath: options.dockerd.socketPath });
  onTestFinished(async () => {
    const containers = await docker.listContainers({
      all: true,
      filters: { label: [`io.peruri-chain.network=${network}`] },
    });
    await Promise.all(
      containers.map((container) => docker.getContainer(container.Id).remove({ force: true })),
    );
  });
  return {
    a,
    b,
    c,
    systemd,
    docker,
    network,
    root,
    installDir: join(root, 'machines'),
    fakeBesu,
    flags: [
      '--ssh-key-file',
      a.clientKeyFile,
      '--docker-socket',
      options.dockerd.socketPath,
      '--systemd-unit-dir',
      systemd.unitDir,
    ],
    node: async (name, role, organisation, machine, runtime) => ({
      name,
      organisation,
      role,
      host: '127.0.0.1',
      ssh: ssh(machine),
      runtime,
      p2pPort: await freePort(),
      rpcPort: await freePort(),
      metricsPort: await freePort(),
    }),
    ssh,
    init: async (spec) => {
      await writeFile(join(root, 'network.yaml'), stringify(spec));
      const dir = join(root, 'ws');
      const init = await runCli(['init', '--spec', join(root, 'network.yaml'), '--dir', dir, '--json']);
      expect(init.exitCode, init.stderr).toBe(0);
      const nodes = (JSON.parse(init.stdout) as { result: { nodes: InitNode[] } }).result.nodes;
      return { dir, nodes, address: (name) => nodes.find((node) => node.name === name)!.address };
    },
  };
}
