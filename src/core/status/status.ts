import { join, resolve } from 'node:path';
import { CONTRACT_NAMES } from '../contracts/artifacts.js';
import { DEPLOYMENTS_FILE } from '../contracts/deploy-workspace.js';
import { parseDeploymentsRecord, type DeploymentsRecord } from '../contracts/record.js';
import { MachinePool, workspaceConnector, type MachineConnector } from '../deploy/machines.js';
import { runtimeStatus, type RuntimeAccess } from '../deploy/runtime.js';
import { reportedSigner } from '../deploy/adapter-signer.js';
import {
  adapterTarget,
  type AdapterTarget,
  machineName,
  nodeTargets,
  type FolderTarget,
  type NodeTarget,
  withTargetDefaults,
} from '../deploy/targets.js';
import { isPeruriError } from '../errors.js';
import { probeNode } from '../nodes/probe.js';
import type { SuppliedSecret } from '../workspace/password.js';
import { readOptional, readWorkspace } from '../workspace/read.js';
import type { SshAuth } from '../../io/ssh.js';

/** Options of {@link networkStatus}. */
export interface StatusOptions {
  dir: string;
  auth: SshAuth;
  acceptNewHostKey: boolean;
  systemdUnitDir?: string;
  adapterCommand?: string;
  adapterImage?: string;
  dockerSocket?: string;
  /** Limit for each probe (default 5 s). */
  timeoutMs?: number;
  connector?: MachineConnector;
  /** The adapter's JWT secret: with it, readiness is GET /ready (database and chain); without, GET /health. */
  jwtSecret?: SuppliedSecret | undefined;
  signal?: AbortSignal;
}

/** One node as status sees it. */
export interface NodeStatus {
  name: string;
  role: 'validator' | 'tx';
  machine: string;
  reachable: boolean;
  runtime: 'docker' | 'systemd';
  /** Container status or unit state; null when the machine was not reached. */
  state: string | null;
  blockNumber: number | null;
  peers: number | null;
  /** Validators only. */
  validators: string[] | null;
  validatorsMatch: boolean | null;
  /** Blocks behind the highest node; null without a height. */
  lag: number | null;
  healthy: boolean;
  problems: string[];
}

/** One contract as status sees it. */
export interface ContractStatus {
  name: string;
  address: string | null;
  /** Code at the address with the recorded hash. */
  deployed: boolean;
  healthy: boolean;
  problems: string[];
}

/** The adapter as status sees it. */
export interface AdapterStatus {
  machine: string;
  reachable: boolean;
  state: string | null;
  /** GET /ready answered 200 (with the JWT secret), or GET /health did (without it). */
  ready: boolean;
  /** Which endpoint `ready` comes from. */
  readyCheck: '/ready' | '/health';
  /** peruri_adapter_queue_depth from GET /metrics. */
  queueDepth: number | null;
  /** Block of the last batch the mirror worker confirmed (peruri_adapter_last_confirmed_block); null before any. */
  lastConfirmedBlock: number | null;
  /** The RabbitMQ intake consuming (peruri_adapter_amqp_connected); null when none is configured. */
  amqpConnected: boolean | null;
  /** The address signing the adapter's transactions (peruri_adapter_signer_info); null when not reported. */
  signer: string | null;
  healthy: boolean;
  problems: string[];
}

/** What {@link networkStatus} found. */
export interface StatusResult {
  dir: string;
  network: string;
  chainId: number;
  healthy: boolean;
  nodes: NodeStatus[];
  contracts: ContractStatus[];
  adapter: AdapterStatus;
  /** Every problem, one line each, naming what it concerns. */
  problems: string[];
}

/**
 * Looks at every machine of the network: per node SSH reachability, container or unit state,
 * height, peers, validator set and lag; the contracts at their recorded addresses; the adapter's
 * health and queue depth. Read-only; unreachable parts are reported, not thrown.
 * @param options - workspace, SSH login, limits
 * @returns the findings; `healthy` is false when anything is wrong
 * @throws RefusedError when a machine's host key is unknown or changed (never bypassed);
 *   InputError for a workspace that cannot be read
 * @example
 * const status = await networkStatus({ dir: './pilot', auth, acceptNewHostKey: false });
 * if (!status.healthy) console.error(status.problems.join('\n'));
 */
export async function networkStatus(options: StatusOptions): Promise<StatusResult> {
  const dir = resolve(options.dir);
  const { spec, nodes: identities } = await readWorkspace(dir);
  const targetOptions = withTargetDefaults(options);
  const nodes = await nodeTargets(spec, dir, targetOptions);
  const adapter = await adapterTarget(spec, dir, targetOptions);
  const expected = spec.nodes
    .filter((node) => node.role === 'validator')
    .map((node) => identities[node.name]?.identity?.address ?? '')
    .sort();
  const pool = new MachinePool(workspaceConnector(dir, options, 10_000), options.dockerSocket);
  const timeoutMs = options.timeoutMs ?? 5_000;
  try {
    const barrier = meetingPoint(nodes.length);
    const nodeStatuses = await Promise.all(
      nodes.map((target) => nodeStatus(pool, target, expected, timeoutMs, barrier)),
    );
    const top = Math.max(...nodeStatuses.map((node) => node.blockNumber ?? -1));
    for (const node of nodeStatuses) {
      if (node.blockNumber === null) continue;
      node.lag = top - node.blockNumber;
      // Two blocks behind is normal in flight; more means it does not keep up.
      if (node.lag > 2) {
        node.problems.push(`${node.lag} blocks behind`);
        node.healthy = false;
      }
    }
    const rpcName = spec.service.rpcNode ?? spec.nodes.find((node) => node.role === 'tx')!.name;
    const rpcTarget = nodes.find((target) => target.node.name === rpcName)!;
    const contracts = await contractStatuses(pool, rpcTarget, dir, spec.chainId, timeoutMs);
    const jwt = options.jwtSecret
      ? { secret: options.jwtSecret.value, audience: `${spec.name}-adapter` }
      : undefined;
    const adapterStatus = await adapterHealth(jwt, pool, adapter, timeoutMs);
    const problems = [
      ...nodeStatuses.flatMap((node) => node.problems.map((problem) => `node ${node.name}: ${problem}`)),
      ...contracts.flatMap((contract) => contract.problems.map((problem) => `${contract.name}: ${problem}`)),
      ...adapterStatus.problems.map((problem) => `adapter: ${problem}`),
    ];
    return {
      dir,
      network: spec.name,
      chainId: spec.chainId,
      healthy: problems.length === 0,
      nodes: nodeStatuses,
      contracts,
      adapter: adapterStatus,
      problems,
    };
  } finally {
    await pool.closeAll();
  }
}

async function nodeStatus(
  pool: MachinePool,
  target: NodeTarget,
  expected: string[],
  timeoutMs: number,
  connected: () => Promise<void>,
): Promise<NodeStatus> {
  const validator = target.node.role === 'validator';
  const status: NodeStatus = {
    name: target.node.name,
    role: target.node.role,
    machine: machineName(target.machine),
    reachable: false,
    runtime: target.runtime.kind,
    state: null,
    blockNumber: null,
    peers: null,
    validators: null,
    validatorsMatch: null,
    lag: null,
    healthy: false,
    problems: [],
  };
  const access = await reach(pool, target, status.problems);
  if (!access) {
    await connected();
    return status;
  }
  status.reachable = true;
  status.state = await runtimeState(access, target.runtime, status.problems);
  let forward: Awaited<ReturnType<typeof access.machine.forwardTcp>>;
  try {
    forward = await access.machine.forwardTcp(target.rpc.host, target.rpc.port);
  } catch (error) {
    await connected();
    status.problems.push(describe(error));
    return status;
  }
  // Heights are compared across nodes: every node is probed at the same moment, once all are connected.
  await connected();
  const probe = await probeNode(forward.url, { validators: validator, timeoutMs });
  status.blockNumber = probe.blockNumber;
  status.peers = probe.peers;
  status.validators = probe.validators;
  if (probe.blockNumber === null)
    status.problems.push(`no answer over JSON-RPC (${probe.error ?? 'no block number'})`);
  if (probe.peers !== null && probe.peers === 0) status.problems.push('no peers');
  if (validator && probe.validators !== null) {
    status.validatorsMatch = probe.validators.join() === expected.join();
    if (!status.validatorsMatch)
      status.problems.push(`validator set [${probe.validators.join(', ')}] differs from the spec`);
  }
  status.healthy = status.problems.length === 0;
  return status;
}

async function contractStatuses(
  pool: MachinePool,
  rpcTarget: NodeTarget,
  dir: string,
  chainId: number,
  timeoutMs: number,
): Promise<ContractStatus[]> {
  const text = await readOptional(join(dir, DEPLOYMENTS_FILE));
  let record: DeploymentsRecord | undefined;
  try {
    record = text === undefined ? undefined : parseDeploymentsRecord(JSON.parse(text), DEPLOYMENTS_FILE);
  } catch (error) {
    return CONTRACT_NAMES.map((name) => ({
      name,
      address: null,
      deployed: false,
      healthy: false,
      problems: [describe(error)],
    }));
  }
  const problems: string[] = [];
  const access = await reach(pool, rpcTarget, problems);
  const forward = access
    ? await access.machine.forwardTcp(rpcTarget.rpc.host, rpcTarget.rpc.port)
    : undefined;
  const { rpcRequest } = await import('../../io/rpc.js');
  const { keccak256 } = await import('ethers');
  return Promise.all(
    CONTRACT_NAMES.map(async (name): Promise<ContractStatus> => {
      const entry = record && record.chainId === chainId ? record.contracts[name] : undefined;
      if (!entry) {
        return {
          name,
          address: null,
          deployed: false,
          healthy: false,
          problems: [`not deployed (no record in ${DEPLOYMENTS_FILE})`],
        };
      }
      if (!forward)
        return { name, address: entry.address, deployed: false, healthy: false, problems: [...problems] };
      try {
        const code = await rpcRequest<string>(forward.url, 'eth_getCode', [entry.address, 'latest'], {
          timeoutMs,
        });
        const found =
          code === '0x'
            ? 'no contract at its address'
            : keccak256(code) !== entry.bytecodeHash.toLowerCase()
              ? 'the code at its address differs from the record'
              : undefined;
        return {
          name,
          address: entry.address,
          deployed: found === undefined,
          healthy: found === undefined,
          problems: found ? [found] : [],
        };
      } catch (error) {
        return { name, address: entry.address, deployed: false, healthy: false, problems: [describe(error)] };
      }
    }),
  );
}

async function adapterHealth(
  jwt: { secret: string; audience: string } | undefined,
  pool: MachinePool,
  target: AdapterTarget,
  timeoutMs: number,
): Promise<AdapterStatus> {
  const status: AdapterStatus = {
    machine: machineName(target.machine),
    reachable: false,
    state: null,
    ready: false,
    readyCheck: jwt ? '/ready' : '/health',
    queueDepth: null,
    lastConfirmedBlock: null,
    amqpConnected: null,
    signer: null,
    healthy: false,
    problems: [],
  };
  const access = await reach(pool, target, status.problems);
  if (!access) return status;
  status.reachable = true;
  status.state = await runtimeState(access, target.runtime, status.problems);
  try {
    const forward = await access.machine.forwardTcp(target.http.host, target.http.port);
    const headers: Record<string, string> = jwt ? { authorization: `Bearer ${await statusToken(jwt)}` } : {};
    const health = await fetch(`${forward.url}${status.readyCheck}`, {
      headers,
      signal: AbortSignal.timeout(timeoutMs),
    });
    status.ready = health.ok;
    if (!health.ok)
      status.problems.push(
        `GET ${status.readyCheck} answered ${health.status}: ${(await health.text()).slice(0, 300)}`,
      );
    const metrics = await fetch(`${forward.url}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
    const text = await metrics.text();
    const depth = /^peruri_adapter_queue_depth\s+(\d+)/m.exec(text);
    status.queueDepth = depth ? Number(depth[1]) : null;
    const confirmed = /^peruri_adapter_last_confirmed_block\s+(\d+)/m.exec(text);
    status.lastConfirmedBlock = confirmed && Number(confirmed[1]) > 0 ? Number(confirmed[1]) : null;
    const amqp = /^peruri_adapter_amqp_connected\s+(\d+)/m.exec(text);
    status.amqpConnected = amqp ? amqp[1] === '1' : null;
    if (status.amqpConnected === false) {
      status.problems.push('the RabbitMQ intake is not connected (see the adapter log; it keeps retrying)');
    }
    status.signer = reportedSigner(text) ?? null;
    if (status.signer !== null && status.signer !== target.signerAddress) {
      status.problems.push(
        `signs with ${status.signer}, but the workspace's minter is ${target.signerAddress}: re-run the minter rotation or \`peruri-chain deploy --only adapter\` (the adapter reloads its signer)`,
      );
    }
  } catch (error) {
    status.problems.push(`no answer on ${target.http.host}:${target.http.port} (${describe(error)})`);
  }
  status.healthy = status.problems.length === 0;
  return status;
}

// The container's or unit's state, or null with the reason among the problems.
async function runtimeState(
  access: RuntimeAccess,
  runtime: FolderTarget['runtime'],
  problems: string[],
): Promise<string | null> {
  try {
    const found = await runtimeStatus(access, runtime);
    if (!found.running)
      problems.push(`${runtime.kind === 'docker' ? 'container' : 'unit'} is ${found.state}`);
    return found.state;
  } catch (error) {
    problems.push(describe(error));
    return null;
  }
}

// A one-minute HS256 token for the adapter audience that init writes in adapter.yaml; never printed.
async function statusToken(jwt: { secret: string; audience: string }): Promise<string> {
  const { SignJWT } = await import('jose');
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('peruri-chain-status')
    .setAudience(jwt.audience)
    .setIssuedAt()
    .setExpirationTime('1m')
    .sign(new TextEncoder().encode(jwt.secret));
}

// Connects, or records why not; a host key refusal is never turned into a status line.
async function reach(
  pool: MachinePool,
  target: FolderTarget,
  problems: string[],
): Promise<RuntimeAccess | undefined> {
  try {
    const machine = await pool.get(target.machine);
    return { machine, docker: () => pool.docker(target.machine) };
  } catch (error) {
    if (isPeruriError(error) && error.kind === 'refused') throw error;
    problems.push(`SSH: ${describe(error)}`);
    return undefined;
  }
}

// Resolves for everyone once `count` callers have arrived.
function meetingPoint(count: number): () => Promise<void> {
  let arrived = 0;
  let release: () => void = () => undefined;
  const all = new Promise<void>((resolve) => (release = resolve));
  return () => {
    arrived += 1;
    if (arrived >= count) release();
    return all;
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
