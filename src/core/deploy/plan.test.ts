import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { aNetworkSpec } from '../../../test/support/spec-builders.js';
import { aTempDir } from '../../../test/support/temp-dir.js';
import { ErrorCodes } from '../errors.js';
import type { NetworkSpec } from '../spec/types.js';
import { planDeploy, type PlanInput } from './plan.js';
import type { DeployState } from './state.js';
import { adapterTarget, besuMemoryLimit, FOLDER_HASH_FILE, nodeTargets, type NodeTarget } from './targets.js';

const options = {
  systemdUnitDir: '/etc/systemd/system',
  adapterCommand: '/usr/local/bin/peruri-chain',
  adapterImage: 'peruri-chain/adapter:0.1.0',
};

// A workspace folder with just the node and service folders the targets read.
async function aWorkspaceFor(spec: NetworkSpec): Promise<string> {
  const dir = await aTempDir();
  for (const node of spec.nodes) {
    await mkdir(join(dir, 'nodes', node.name), { recursive: true });
    await writeFile(join(dir, 'nodes', node.name, 'config.toml'), `# ${node.name}\n`);
    await writeFile(join(dir, 'nodes', node.name, 'key'), '0x' + '1'.repeat(64), { mode: 0o600 });
    if (node.runtime === 'systemd') {
      await writeFile(join(dir, 'nodes', node.name, `besu-${spec.name}-${node.name}.service`), '[Unit]\n');
    }
  }
  await mkdir(join(dir, 'service'));
  await writeFile(join(dir, 'service', 'adapter.yaml'), 'network: test-net\n');
  return dir;
}

async function anInput(spec: NetworkSpec, state?: DeployState): Promise<PlanInput> {
  const dir = await aWorkspaceFor(spec);
  const nodes = await nodeTargets(spec, dir, options);
  return {
    scope: 'all',
    nodes,
    adapter: await adapterTarget(spec, dir, options),
    state: state ?? { version: 1, network: spec.name, chainId: spec.chainId, nodes: {} },
    contractsRecorded: false,
    rpcNode: nodes.find((target) => target.node.role === 'tx')!,
  };
}

function recordOf(input: PlanInput): DeployState {
  const folder = (target: NodeTarget) => ({
    machine: target.machine.host,
    dir: target.dir,
    folderHash: target.folderHash,
    runtime: target.runtime.kind,
    runtimeHash: target.runtimeHash,
    changedAt: '2026-11-24T00:00:00Z',
  });
  return {
    ...input.state,
    nodes: Object.fromEntries(input.nodes.map((target) => [target.node.name, folder(target)])),
    adapter: {
      machine: input.adapter!.machine.host,
      dir: input.adapter!.dir,
      folderHash: input.adapter!.folderHash,
      runtime: input.adapter!.runtime.kind,
      runtimeHash: input.adapter!.runtimeHash,
      changedAt: '2026-11-24T00:00:00Z',
      version: '0.1.0',
    },
  };
}

describe('planDeploy', () => {
  it('orders a first deployment: each node (folder, runtime), the health gate, contracts, adapter', async () => {
    const input = await anInput(aNetworkSpec({ validators: 2, txNodes: 1 }));
    const plan = planDeploy(input);
    expect(plan.map((step) => `${step.id} ${step.expected}`)).toEqual([
      'node-folder:validator-1 change',
      'node-runtime:validator-1 change',
      'node-folder:validator-2 change',
      'node-runtime:validator-2 change',
      'node-folder:tx-1 change',
      'node-runtime:tx-1 change',
      'health check',
      'contracts change',
      'adapter-folder change',
      'adapter-runtime change',
    ]);
    expect(plan[1]!.action).toBe('run container besu-test-net-validator-1 (hyperledger/besu:26.2.0)');
    expect(plan[0]!.machine).toBe('10.0.0.11');
  });

  it('expects no change where the record matches the workspace, and a change where it does not', async () => {
    const input = await anInput(aNetworkSpec({ validators: 2, txNodes: 1 }));
    const state = recordOf(input);
    const settled = planDeploy({ ...input, state, contractsRecorded: true });
    expect(settled.filter((step) => step.expected === 'change')).toEqual([]);
    expect(settled.find((step) => step.kind === 'contracts')!.expected).toBe('check');

    // a node folder edited since (another hash), and a runtime never finished
    state.nodes['validator-2']!.folderHash = 'f'.repeat(64);
    delete state.nodes['tx-1']!.runtimeHash;
    const changed = planDeploy({ ...input, state, contractsRecorded: true });
    expect(changed.filter((step) => step.expected === 'change').map((step) => step.id)).toEqual([
      'node-folder:validator-2',
      'node-runtime:validator-2',
      'node-runtime:tx-1',
    ]);
  });

  it('--only keeps its part: nodes with the health gate, contracts alone, adapter alone', async () => {
    const input = await anInput(aNetworkSpec({ validators: 1, txNodes: 1 }));
    const kinds = (scope: PlanInput['scope']) => planDeploy({ ...input, scope }).map((step) => step.kind);
    expect(kinds('nodes')).toEqual(['node-folder', 'node-runtime', 'node-folder', 'node-runtime', 'health']);
    expect(kinds('contracts')).toEqual(['contracts']);
    expect(kinds('adapter')).toEqual(['adapter-folder', 'adapter-runtime']);
  });
});

describe('deploy targets', () => {
  it("hash the folder's files (content and mode) and mark the folder with the hash", async () => {
    const spec = aNetworkSpec({ validators: 1, txNodes: 1 });
    const dir = await aWorkspaceFor(spec);
    const [first] = await nodeTargets(spec, dir, options);
    expect(first!.files.get(FOLDER_HASH_FILE)!.content.toString()).toBe(`${first!.folderHash}\n`);
    expect(first!.files.get('key')!.mode).toBe(0o600);
    expect((await nodeTargets(spec, dir, options))[0]!.folderHash).toBe(first!.folderHash);
    await writeFile(join(dir, 'nodes/validator-1/config.toml'), '# edited\n');
    expect((await nodeTargets(spec, dir, options))[0]!.folderHash).not.toBe(first!.folderHash);
  });

  it('run Besu in docker as uid 1000 with the folder mounted at its own path and the folder hash as a label', async () => {
    const spec = aNetworkSpec({ validators: 1, txNodes: 1 });
    const [target] = await nodeTargets(spec, await aWorkspaceFor(spec), options);
    expect(target!.owner).toBe('1000:1000');
    expect(target!.runtime).toMatchObject({
      kind: 'docker',
      container: {
        image: 'hyperledger/besu:26.2.0',
        cmd: ['--config-file=/opt/peruri-chain/nodes/validator-1/config.toml'],
        binds: ['/opt/peruri-chain/nodes/validator-1:/opt/peruri-chain/nodes/validator-1'],
        restartPolicy: 'unless-stopped',
        memoryLimit: 4 * 1024 ** 3,
        user: '1000:1000',
        labels: { 'io.peruri-chain.folder-hash': target!.folderHash },
      },
    });
  });

  it('install a systemd node unit with the folder hash, so a new folder means a new unit (restart)', async () => {
    const spec = aNetworkSpec({ validators: 1, txNodes: 1 });
    spec.nodes[0]!.runtime = 'systemd';
    const [target] = await nodeTargets(spec, await aWorkspaceFor(spec), options);
    expect(target!.runtime).toEqual({
      kind: 'systemd',
      unitName: 'besu-test-net-validator-1.service',
      unitPath: '/etc/systemd/system/besu-test-net-validator-1.service',
      unitContent: `[Unit]\n# peruri-chain folder ${target!.folderHash}\n`,
    });
  });

  it('refuse a one-machine workspace with a relative installDir', async () => {
    const spec = aNetworkSpec({ validators: 1, txNodes: 1 });
    spec.installDir = '.';
    await expect(nodeTargets(spec, await aWorkspaceFor(spec), options)).rejects.toMatchObject({
      code: ErrorCodes.WORKSPACE_INVALID,
    });
  });

  it('size the container memory at twice the JVM heap', () => {
    expect(besuMemoryLimit('-Xmx2g')).toBe(4 * 1024 ** 3);
    expect(besuMemoryLimit('-Xms512m -Xmx1536m')).toBe(3072 * 1024 ** 2);
    expect(besuMemoryLimit('-XX:+UseG1GC')).toBeUndefined();
  });
});
