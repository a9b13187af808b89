import { readFileSync } from 'node:fs';
import { parse as parseToml } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { fixtureIdentity } from '../../../test/support/fixture-keys.js';
import { decodeExtraData } from '../genesis/extra-data.js';
import { packagePath } from '../package-paths.js';
import { parseSpec } from '../spec/load.js';
import { renderWorkspace } from './render-workspace.js';

const WORKSPACE_DIR = '/srv/peruri-workspace';

function renderExample(example: string) {
  const { spec } = parseSpec(readFileSync(packagePath('examples', example, 'network.yaml'), 'utf8'), example);
  const nodeIdentities = Object.fromEntries(
    spec.nodes.map((node) => [node.name, fixtureIdentity(node.name)]),
  );
  const accounts = {
    deployer: fixtureIdentity('deployer').address,
    minter: fixtureIdentity('minter').address,
    admins: Object.fromEntries(
      spec.organisations.map((organisation) => [
        organisation.name,
        fixtureIdentity(`admin-${organisation.name}`).address,
      ]),
    ),
  };
  return { spec, files: renderWorkspace({ spec, workspaceDir: WORKSPACE_DIR, nodeIdentities, accounts }) };
}

function besuOptionNames(): Set<string> {
  const text = readFileSync(
    new URL('../../../../shared/reference/besu/besu-cli-options.txt', import.meta.url),
    'utf8',
  );
  return new Set(
    text
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#')),
  );
}

describe.each(['pilot', 'local'])('rendering the %s example with fixture keys', (example) => {
  it('matches the golden files, file by file', async () => {
    // Given the example spec and the committed fixture keys
    // When the workspace is rendered
    const { files } = renderExample(example);
    // Then every generated file equals its reviewed golden copy
    for (const [path, entry] of files) {
      await expect(entry.content).toMatchFileSnapshot(`../../../test/golden/${example}/${path}`);
    }
  });

  it('writes config.toml files that current Besu accepts', () => {
    // Given Besu's option names at its current head (shared reference)
    const options = besuOptionNames();
    const { spec, files } = renderExample(example);
    for (const node of spec.nodes) {
      // When a node's config.toml is parsed as TOML
      const config = parseToml(files.get(`nodes/${node.name}/config.toml`)!.content) as Record<
        string,
        unknown
      >;
      // Then every key is a Besu option, booleans are booleans and lists are arrays
      expect(Object.keys(config).filter((key) => !options.has(key))).toEqual([]);
      expect(config['host-whitelist']).toBeUndefined();
      expect(config['rpc-http-enabled']).toBe(true);
      expect(config['discovery-enabled']).toBe(false);
      expect(config['permissions-nodes-config-file-enabled']).toBe(true);
      expect(Array.isArray(config['rpc-http-api'])).toBe(true);
      expect(Array.isArray(config['host-allowlist'])).toBe(true);
      expect(config['min-gas-price']).toBe(0);
      expect(config['p2p-host']).toBe(node.host);
      // And a validator's RPC is on loopback with IBFT, the tx node's on its own address without it
      if (node.role === 'validator') {
        expect(config['rpc-http-host']).toBe('127.0.0.1');
        expect(config['rpc-http-api']).toContain('IBFT');
      } else {
        expect(config['rpc-http-host']).toBe(node.host);
        expect(config['rpc-http-api']).not.toContain('IBFT');
        expect(config['host-allowlist']).toContain(node.host);
      }
      // And every path it names is inside the node's own folder
      for (const key of [
        'genesis-file',
        'node-private-key-file',
        'static-nodes-file',
        'permissions-nodes-config-file',
        'data-path',
      ]) {
        expect(
          String(config[key]).startsWith(
            `${example === 'local' ? WORKSPACE_DIR : '/opt/peruri-chain'}/nodes/${node.name}/`,
          ),
        ).toBe(true);
      }
    }
  });

  it('lists every node in every allowlist and the other nodes as static peers', () => {
    const { spec, files } = renderExample(example);
    const enodes = spec.nodes.map(
      (node) => `enode://${fixtureIdentity(node.name).publicKey}@${node.host}:${node.p2pPort}`,
    );
    for (const node of spec.nodes) {
      const permissions = parseToml(files.get(`nodes/${node.name}/permissions_config.toml`)!.content) as {
        'nodes-allowlist': string[];
      };
      expect(permissions['nodes-allowlist']).toEqual(enodes);
      const staticNodes = JSON.parse(files.get(`nodes/${node.name}/static-nodes.json`)!.content) as string[];
      expect(staticNodes.sort()).toEqual(
        enodes.filter((enode) => !enode.includes(fixtureIdentity(node.name).publicKey)).sort(),
      );
    }
  });

  it('puts the validators in the genesis extraData in ascending order', () => {
    const { spec, files } = renderExample(example);
    const genesis = JSON.parse(files.get('genesis.json')!.content) as { extraData: string };
    const expected = spec.nodes
      .filter((node) => node.role === 'validator')
      .map((node) => fixtureIdentity(node.name).address)
      .sort();
    expect(decodeExtraData(genesis.extraData).validators).toEqual(expected);
    for (const node of spec.nodes)
      expect(files.get(`nodes/${node.name}/genesis.json`)!.content).toBe(files.get('genesis.json')!.content);
  });
});

describe('rendering during and after a validator key rotation', () => {
  const { spec } = parseSpec(readFileSync(packagePath('examples', 'pilot', 'network.yaml'), 'utf8'), 'pilot');
  const identities = Object.fromEntries(spec.nodes.map((node) => [node.name, fixtureIdentity(node.name)]));
  const accounts = {
    deployer: fixtureIdentity('deployer').address,
    minter: fixtureIdentity('minter').address,
    admins: Object.fromEntries(
      spec.organisations.map((organisation) => [
        organisation.name,
        fixtureIdentity(`admin-${organisation.name}`).address,
      ]),
    ),
  };
  const render = (extra: Partial<Parameters<typeof renderWorkspace>[0]>) =>
    renderWorkspace({ spec, workspaceDir: WORKSPACE_DIR, nodeIdentities: identities, accounts, ...extra });

  it('keeps the genesis it was made with once a validator has a new key', () => {
    // Given pds on a new key (the deployer's fixture key stands in for it)
    const before = render({}).get('genesis.json')!.content;
    const rotated = { ...identities, pds: fixtureIdentity('deployer') };
    const genesisValidators = decodeExtraData(
      (JSON.parse(before) as { extraData: string }).extraData,
    ).validators;
    // When the workspace is rendered with the recorded genesis validators
    const files = render({ nodeIdentities: rotated, genesisValidators });
    // Then genesis is byte for byte what it was, while key.pub follows the new key
    expect(files.get('genesis.json')!.content).toBe(before);
    expect(files.get('nodes/pds/genesis.json')!.content).toBe(before);
    expect(files.get('nodes/pds/key.pub')!.content).toBe(`0x${fixtureIdentity('deployer').publicKey}\n`);
    // And without them genesis would follow the keys (what render does before any rotation)
    expect(render({ nodeIdentities: rotated }).get('genesis.json')!.content).not.toBe(before);
  });

  it('allowlists both enodes of a node that is moving to a new key', () => {
    const incoming = fixtureIdentity('deployer');
    const files = render({ transitionalIdentities: { pds: incoming } });
    const allowlist = files.get('nodes/peruri/permissions_config.toml')!.content;
    expect(allowlist).toContain(`enode://${identities.pds!.publicKey}@`);
    expect(allowlist).toContain(`enode://${incoming.publicKey}@`);
    const staticNodes = JSON.parse(files.get('nodes/peruri/static-nodes.json')!.content) as string[];
    expect(staticNodes.filter((enode) => enode.includes(incoming.publicKey))).toHaveLength(1);
    // And pds itself does not list its own enodes as static peers
    const own = JSON.parse(files.get('nodes/pds/static-nodes.json')!.content) as string[];
    expect(own.some((enode) => enode.includes(incoming.publicKey))).toBe(false);
  });
});
