import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { ErrorCodes, InputError } from '../errors.js';
import { besuUnitName } from '../render/render-workspace.js';
import { nodeDirOnMachine, serviceDirOnMachine } from '../render/paths.js';
import { renderTemplate } from '../render/templates.js';
import { isLoopback } from '../spec/rules.js';
import type { NetworkSpec, NodeSpec, SshTarget } from '../spec/types.js';
import type { ContainerSpec } from '../../io/docker.js';
import { DEPLOYMENTS_FILE } from '../contracts/deploy-workspace.js';
import { ADAPTER_NODE_OPTIONS } from '../adapter-node-options.js';
import { packageVersion } from '../package-paths.js';

/** Where a machine is reached over SSH. */
export interface MachineAddress {
  host: string;
  port: number;
  user: string;
}

/** A file to put on a machine, as read from the workspace. */
export interface TargetFile {
  content: Buffer;
  mode: number;
}

/** How a process (a Besu node, the adapter) runs on its machine. */
export type RuntimeTarget =
  | { kind: 'docker'; container: ContainerSpec }
  | { kind: 'systemd'; unitName: string; unitPath: string; unitContent: string };

/** Everything deploy puts on one machine for one node or the adapter, derived from the workspace. */
export interface FolderTarget {
  /** `node <name>` or `adapter`. */
  label: string;
  machine: MachineAddress;
  /** The folder on the machine. */
  dir: string;
  /** Relative path → file, including the folder-hash marker. */
  files: Map<string, TargetFile>;
  /** SHA-256 over every file's path, mode and content: what the machine holds once uploaded. */
  folderHash: string;
  runtime: RuntimeTarget;
  /** SHA-256 of the runtime definition (container spec or unit text). */
  runtimeHash: string;
  /** Sub-folders and files that live beside the generated ones and move over on an upload. */
  carried: string[];
  /** Owner given to the folder after an upload (`uid:gid`), when the process runs as another user. */
  owner: string | undefined;
}

/** A node's deploy target plus what the health gate needs. */
export interface NodeTarget extends FolderTarget {
  node: NodeSpec;
  /** The JSON-RPC address as seen from the node's own machine. */
  rpc: { host: string; port: number };
}

/** The adapter's deploy target. */
export interface AdapterTarget extends FolderTarget {
  /** The adapter's HTTP address as seen from the service machine. */
  http: { host: string; port: number };
  envFile: string;
  /** The signer adapter.yaml names (lowercase): the adapter reloads it on SIGHUP, without a restart. */
  signerAddress: string;
}

/** Options of {@link nodeTargets} and {@link adapterTarget} that do not come from the spec. */
export interface TargetOptions {
  /** Where unit files are installed on systemd machines (default /etc/systemd/system). */
  systemdUnitDir: string;
  /** The peruri-chain launcher on the service machine, for the systemd runtime. */
  adapterCommand: string;
  /** The adapter image for the docker runtime. */
  adapterImage: string;
}

/**
 * Target options with the defaults filled in: unit files in /etc/systemd/system, the adapter
 * launched as /usr/local/bin/peruri-chain, and the adapter image of this package's version.
 * @param given - what the caller chose
 */
export function withTargetDefaults(given: Partial<TargetOptions> = {}): TargetOptions {
  return {
    systemdUnitDir: given.systemdUnitDir ?? '/etc/systemd/system',
    adapterCommand: given.adapterCommand ?? '/usr/local/bin/peruri-chain',
    adapterImage: given.adapterImage ?? `peruri-chain/adapter:${packageVersion()}`,
  };
}

/** The marker file in every deployed folder: its content is the folder hash. */
export const FOLDER_HASH_FILE = '.peruri-folder-hash';
/** The adapter's environment file on the service machine (mode 0600): the secrets, never in the unit. */
export const ADAPTER_ENV_FILE = 'adapter.env';
/** Besu's Docker image runs as uid 1000 (user besu): the node folder must belong to it. */
export const BESU_IMAGE_OWNER = '1000:1000';
const FOLDER_HASH_LABEL = 'io.peruri-chain.folder-hash';
const STARTUP_HASH_LABEL = 'io.peruri-chain.startup-hash';

/**
 * The deploy target of every node: the workspace's node folder and how its runtime starts Besu.
 * @param spec - the network spec
 * @param dir - the workspace (absolute)
 * @param options - unit folder and adapter launcher
 * @returns one target per node, in spec order
 * @throws InputError when installDir is relative (one-machine networks run with `up`) or a node
 *   folder is missing
 */
export async function nodeTargets(
  spec: NetworkSpec,
  dir: string,
  options: TargetOptions,
): Promise<NodeTarget[]> {
  requireAbsoluteInstallDir(spec);
  const targets: NodeTarget[] = [];
  for (const node of spec.nodes) {
    const remoteDir = nodeDirOnMachine(spec, dir, node.name);
    const files = await readFolder(join(dir, 'nodes', node.name), `nodes/${node.name}`);
    const folderHash = hashFolder(files);
    files.set(FOLDER_HASH_FILE, { content: Buffer.from(`${folderHash}\n`), mode: 0o644 });
    const runtime: RuntimeTarget =
      node.runtime === 'docker'
        ? { kind: 'docker', container: besuContainer(spec, node, remoteDir, folderHash) }
        : systemdRuntime(
            besuUnitName(spec, node),
            options.systemdUnitDir,
            `${(files.get(besuUnitName(spec, node))?.content ?? missingUnit(node)).toString('utf8')}# peruri-chain folder ${folderHash}\n`,
          );
    targets.push({
      label: `node ${node.name}`,
      node,
      machine: machineOf(node.host, node.ssh),
      dir: remoteDir,
      files,
      folderHash,
      runtime,
      runtimeHash: hashRuntime(runtime),
      // A node given by publicKey has no key file in the workspace: the key its operator put on
      // the machine (or none, for an HSM) stays there across uploads.
      carried: files.has('key') ? ['data'] : ['data', 'key'],
      owner: node.runtime === 'docker' ? BESU_IMAGE_OWNER : undefined,
      // Validators answer JSON-RPC on loopback only; the tx node on its own address.
      rpc: { host: node.role === 'validator' ? '127.0.0.1' : node.host, port: node.rpcPort },
    });
  }
  return targets;
}

/**
 * The adapter's deploy target: the workspace's service folder with the contract record, and the
 * unit or container that runs `peruri-chain adapter start`. The environment file with the secrets
 * is not part of it (it is written on its own, never hashed).
 * @param spec - the network spec
 * @param dir - the workspace (absolute)
 * @param options - unit folder, launcher and image
 * @throws InputError when installDir is relative or the service folder is missing
 */
export async function adapterTarget(
  spec: NetworkSpec,
  dir: string,
  options: TargetOptions,
): Promise<AdapterTarget> {
  requireAbsoluteInstallDir(spec);
  const remoteDir = serviceDirOnMachine(spec, dir);
  const files = await readFolder(join(dir, 'service'), 'service');
  const record = await readFile(join(dir, DEPLOYMENTS_FILE)).catch(() => undefined);
  if (record) files.set(DEPLOYMENTS_FILE, { content: record, mode: 0o644 });
  const folderHash = hashFolder(files);
  const { startupHash, signerAddress } = adapterStartup(files, remoteDir);
  files.set(FOLDER_HASH_FILE, { content: Buffer.from(`${folderHash}\n`), mode: 0o644 });
  const envFile = posix.join(remoteDir, ADAPTER_ENV_FILE);
  const configFile = posix.join(remoteDir, 'adapter.yaml');
  const unitName = `peruri-chain-${spec.name}-adapter.service`;
  const runtime: RuntimeTarget =
    spec.service.runtime === 'docker'
      ? {
          kind: 'docker',
          container: {
            name: `peruri-chain-${spec.name}-adapter`,
            image: options.adapterImage,
            // The secrets are read from the 0600 file inside the container, so they never enter
            // the container's configuration (docker inspect shows Env).
            entrypoint: [
              '/bin/sh',
              '-c',
              'set -a && . "$0" && set +a && exec peruri-chain adapter start --config "$1"',
            ],
            cmd: [envFile, configFile],
            env: { NODE_OPTIONS: ADAPTER_NODE_OPTIONS },
            binds: [`${remoteDir}:${remoteDir}`],
            networkMode: 'host',
            restartPolicy: 'unless-stopped',
            stopTimeoutSeconds: 60,
            labels: { 'io.peruri-chain.network': spec.name, [STARTUP_HASH_LABEL]: startupHash },
          },
        }
      : systemdRuntime(
          unitName,
          options.systemdUnitDir,
          renderTemplate('systemd/peruri-chain-adapter.service.hbs', {
            networkName: spec.name,
            user: spec.service.ssh.user,
            serviceDir: remoteDir,
            envFile,
            command: options.adapterCommand,
            nodeOptions: ADAPTER_NODE_OPTIONS,
            configFile,
            startupHash,
          }),
        );
  const listenHost = isLoopback(spec.service.host) ? spec.service.host : '127.0.0.1';
  return {
    label: 'adapter',
    machine: machineOf(spec.service.host, spec.service.ssh),
    dir: remoteDir,
    files,
    folderHash,
    runtime,
    runtimeHash: hashRuntime(runtime),
    // The SQLite database and its journal files are the adapter's data, not generated files.
    carried: ['adapter.db', 'adapter.db-wal', 'adapter.db-shm', ADAPTER_ENV_FILE],
    owner: undefined,
    http: { host: listenHost, port: spec.service.adapterPort },
    envFile,
    signerAddress,
  };
}

/**
 * What the adapter reads only when it starts, as one hash: its folder without the signer (the
 * keystore adapter.yaml's signer section names, and that section), which it reloads on SIGHUP.
 * The container or unit carries this hash, so a new signer alone does not restart the adapter.
 */
function adapterStartup(
  files: Map<string, TargetFile>,
  remoteDir: string,
): { startupHash: string; signerAddress: string } {
  const config = files.get('adapter.yaml');
  if (!config) {
    throw new InputError(ErrorCodes.WORKSPACE_INVALID, 'The service folder has no adapter.yaml', {
      hint: 'Run `peruri-chain render` to bring the workspace up to date.',
    });
  }
  const parsed = parseYaml(config.content.toString('utf8')) as {
    signer?: { address?: string; keystoreFile?: string };
  };
  const startup = new Map(files);
  const keystore = parsed.signer?.keystoreFile;
  if (keystore) startup.delete(posix.relative(remoteDir, posix.resolve(remoteDir, keystore)));
  const { signer, ...rest } = parsed;
  startup.set('adapter.yaml', { content: Buffer.from(stringifyYaml(rest)), mode: config.mode });
  return { startupHash: hashFolder(startup), signerAddress: String(signer?.address ?? '').toLowerCase() };
}

/**
 * The memory limit of a Besu container: twice the JVM heap (-Xmx), since RocksDB and the JVM
 * itself live outside the heap; no limit when the heap is not set.
 * @param javaOpts - BESU_OPTS from the spec
 * @returns bytes, or undefined
 */
export function besuMemoryLimit(javaOpts: string): number | undefined {
  const match = /-Xmx(\d+)([kKmMgG]?)\b/.exec(javaOpts);
  if (!match) return undefined;
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[
    match[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'
  ];
  return Number(match[1]) * unit * 2;
}

/** The SSH address of a machine. */
export function machineOf(host: string, ssh: SshTarget): MachineAddress {
  return { host, port: ssh.port, user: ssh.user };
}

/** How a machine is named in messages: host, with the port unless 22. */
export function machineName(machine: MachineAddress): string {
  return machine.port === 22 ? machine.host : `${machine.host}:${machine.port}`;
}

function besuContainer(
  spec: NetworkSpec,
  node: NodeSpec,
  remoteDir: string,
  folderHash: string,
): ContainerSpec {
  const memoryLimit = besuMemoryLimit(spec.besu.javaOpts);
  return {
    name: `besu-${spec.name}-${node.name}`,
    image: spec.besu.image,
    cmd: [`--config-file=${posix.join(remoteDir, 'config.toml')}`],
    // Mounted at the same path, so config.toml's absolute paths hold inside and outside.
    binds: [`${remoteDir}:${remoteDir}`],
    networkMode: 'host',
    restartPolicy: 'unless-stopped',
    ...(memoryLimit !== undefined ? { memoryLimit } : {}),
    env: { BESU_OPTS: spec.besu.javaOpts },
    user: BESU_IMAGE_OWNER,
    // Besu flushes its database on SIGTERM; the same two minutes as the compose file.
    stopTimeoutSeconds: 120,
    labels: {
      'io.peruri-chain.network': spec.name,
      'io.peruri-chain.node': node.name,
      // A new folder (config, genesis, allowlist) means a new container, so Besu restarts with it.
      [FOLDER_HASH_LABEL]: folderHash,
    },
  };
}

function systemdRuntime(unitName: string, unitDir: string, unitContent: string): RuntimeTarget {
  return { kind: 'systemd', unitName, unitPath: posix.join(unitDir, unitName), unitContent };
}

function missingUnit(node: NodeSpec): never {
  throw new InputError(ErrorCodes.WORKSPACE_INVALID, `nodes/${node.name} has no systemd unit file`, {
    hint: 'Run `peruri-chain render` to bring the workspace up to date.',
  });
}

function requireAbsoluteInstallDir(spec: NetworkSpec): void {
  if (!spec.installDir.startsWith('/')) {
    throw new InputError(
      ErrorCodes.WORKSPACE_INVALID,
      `installDir "${spec.installDir}" is relative: this network runs on this machine, not on remote ones`,
      {
        hint: 'Give network.yaml an absolute installDir (a folder on the machines) and run `peruri-chain render`.',
      },
    );
  }
}

// Regular files only: Besu's data folder of a one-machine workspace is not part of a deployment.
async function readFolder(folder: string, shown: string): Promise<Map<string, TargetFile>> {
  let names: string[];
  try {
    names = (await readdir(folder, { withFileTypes: true }))
      .filter((entry) => entry.isFile())
      .map((entry) => entry.name)
      .sort();
  } catch {
    throw new InputError(ErrorCodes.WORKSPACE_INVALID, `The workspace has no ${shown} folder`, {
      hint: 'Run `peruri-chain render` to bring the workspace up to date.',
    });
  }
  const files = new Map<string, TargetFile>();
  for (const name of names) {
    if (name === FOLDER_HASH_FILE) continue;
    const path = join(folder, name);
    files.set(name, { content: await readFile(path), mode: (await stat(path)).mode & 0o777 });
  }
  return files;
}

function hashFolder(files: Map<string, TargetFile>): string {
  const hash = createHash('sha256');
  for (const [path, file] of [...files].sort(([a], [b]) => (a < b ? -1 : 1))) {
    hash.update(`${path}\0${file.mode.toString(8)}\0`);
    hash.update(createHash('sha256').update(file.content).digest());
  }
  return hash.digest('hex');
}

function hashRuntime(runtime: RuntimeTarget): string {
  const text = runtime.kind === 'docker' ? JSON.stringify(runtime.container) : runtime.unitContent;
  return createHash('sha256').update(text).digest('hex');
}
