import { chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixtureIdentity, fixtureKeySource } from '../../../test/support/fixture-keys.js';
import { aSpecYaml } from '../../../test/support/spec-yaml.js';
import { aTempDir, snapshotTree } from '../../../test/support/temp-dir.js';
import { ErrorCodes, InputError, RefusedError } from '../errors.js';
import { decodeExtraData } from '../genesis/extra-data.js';
import { randomKeySource, type KeySource } from '../keys/key-source.js';
import { decryptAccountKey } from '../keys/keystore.js';
import { publicFile } from '../render/file-set.js';
import { initWorkspace } from './init.js';
import { rerenderWorkspace } from './rerender.js';
import { validateWorkspace } from './validate.js';
import { writeNewWorkspace } from './write.js';

async function aLocalWorkspace(
  specYaml = aSpecYaml({ validators: 3 }),
  keySource: KeySource = fixtureKeySource2(),
) {
  const root = await aTempDir();
  const specFile = join(root, 'network.yaml');
  await writeFile(specFile, specYaml);
  const dir = join(root, 'ws');
  const result = await initWorkspace({
    dir,
    spec: { file: specFile },
    password: undefined,
    force: false,
    keySource,
  });
  return { root, dir, result };
}

/** Fixture keys, plus generated names for nodes the builder calls val1..valN. */
function fixtureKeySource2() {
  const base = fixtureKeySource();
  const aliases: Record<string, string> = {
    val1: 'peruri',
    val2: 'pds',
    val3: 'nota',
    tx: 'tx',
    org1: 'peruri',
    org2: 'pds',
    org3: 'nota',
  };
  return {
    nodeKey: (name: string) => base.nodeKey(aliases[name] ?? name),
    accountKey: (name: string) =>
      base.accountKey(
        name.replace(
          /^admin-org(\d)$/,
          (_, n: string) => `admin-${['peruri', 'pds', 'nota'][Number(n) - 1]}`,
        ),
      ),
  };
}

async function expectRejection<T extends Error>(
  promise: Promise<unknown>,
  type: new (...args: never[]) => T,
): Promise<T> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(type);
  return error as T;
}

describe('init', () => {
  it('creates a complete workspace with keys 0600 and everything else 0644', async () => {
    // Given a one-machine spec
    // When init runs without a password
    const { dir, result } = await aLocalWorkspace();
    // Then every file is there, key material is private and the rest readable
    const tree = await snapshotTree(dir);
    expect(Object.keys(tree).sort()).toEqual(result.files);
    for (const [path, file] of Object.entries(tree)) {
      const secret =
        /(^|\/)key$|\.json$/.test(path) &&
        (path.startsWith('accounts/') ||
          path === 'service/minter.json' ||
          path === 'service/wallet-master.json' ||
          path.endsWith('/key'));
      const expected = secret || path.startsWith('secrets/') ? 0o600 : 0o644;
      expect({ path, mode: file.mode.toString(8) }).toEqual({ path, mode: expected.toString(8) });
    }
    // And the node key is in Besu's own format
    expect(tree['nodes/val1/key']!.content).toMatch(/^0x[0-9a-f]{64}$/);
    // And the development password is said to be there, and works
    expect(result.devPasswordFile).toBe('secrets/dev-keystore-password');
    const password = tree['secrets/dev-keystore-password']!.content.trim();
    const minter = await decryptAccountKey(tree['service/minter.json']!.content, password, 'minter');
    expect(minter.address).toBe(result.accounts.minter);
    // And the summary holds no secret
    const summary = JSON.stringify(result);
    expect(summary).not.toContain(password);
    expect(summary).not.toContain(tree['nodes/val1/key']!.content.slice(2));
  });

  it('leaves no staging folder behind and writes nothing when a step fails', async () => {
    // Given a key source that fails halfway through
    const root = await aTempDir();
    await writeFile(join(root, 'network.yaml'), aSpecYaml());
    let calls = 0;
    const failing = {
      nodeKey: () => {
        calls += 1;
        if (calls === 3) throw new Error('entropy source failed');
        return fixtureKeySource().nodeKey('peruri');
      },
      accountKey: () => fixtureKeySource().accountKey('minter'),
    };
    // When init runs
    await expect(
      initWorkspace({
        dir: join(root, 'ws'),
        spec: { file: join(root, 'network.yaml') },
        password: undefined,
        force: false,
        keySource: failing,
      }),
    ).rejects.toThrow('entropy source failed');
    // Then the workspace does not exist and nothing else was left
    expect((await readdir(root)).sort()).toEqual(['network.yaml']);
  });

  it('writes atomically: a failure while writing leaves neither the target nor a staging folder', async () => {
    // Given a file set that cannot be written (a path used as both a file and a folder)
    const root = await aTempDir();
    const files = new Map([
      ['a', publicFile('file')],
      ['a/b', publicFile('child')],
    ]);
    // When it is written as a new workspace
    await expect(writeNewWorkspace(join(root, 'ws'), files, { force: false })).rejects.toThrow();
    // Then nothing is there
    expect(await readdir(root)).toEqual([]);
  });

  it('refuses an existing workspace and leaves it untouched', async () => {
    // Given a workspace
    const { dir, root } = await aLocalWorkspace();
    const before = await snapshotTree(dir);
    // When init runs again into it without force
    const error = await expectRejection(
      initWorkspace({ dir, spec: { file: join(root, 'network.yaml') }, password: undefined, force: false }),
      RefusedError,
    );
    // Then it is refused with a hint and nothing changed
    expect(error.code).toBe(ErrorCodes.WORKSPACE_EXISTS);
    expect(error.hint).toContain('--force');
    expect(await snapshotTree(dir)).toEqual(before);
  });

  it('with force, archives the old workspace, keys included, inside the new one', async () => {
    // Given a workspace
    const { dir, root } = await aLocalWorkspace();
    const oldKey = await readFile(join(dir, 'nodes/val1/key'), 'utf8');
    // When init runs again with force (fresh random keys)
    const result = await initWorkspace({
      dir,
      spec: { file: join(root, 'network.yaml') },
      password: undefined,
      force: true,
    });
    // Then the old key is archived with its mode, and the new key differs
    expect(result.archivedTo).toMatch(/^\.archive\/\d{4}-\d\d-\d\dT/);
    const archivedKey = join(dir, result.archivedTo!, 'nodes/val1/key');
    expect(await readFile(archivedKey, 'utf8')).toBe(oldKey);
    expect((await stat(archivedKey)).mode & 0o777).toBe(0o600);
    expect(await readFile(join(dir, 'nodes/val1/key'), 'utf8')).not.toBe(oldKey);
  });

  it('refuses a multi-machine network without a keystore password, before writing anything', async () => {
    const root = await aTempDir();
    await writeFile(join(root, 'network.yaml'), aSpecYaml({ loopback: false }));
    const error = await expectRejection(
      initWorkspace({
        dir: join(root, 'ws'),
        spec: { file: join(root, 'network.yaml') },
        password: undefined,
        force: false,
      }),
      InputError,
    );
    expect(error.code).toBe(ErrorCodes.SECRET_MISSING);
    expect(error.hint).toContain('PERURI_CHAIN_KEYSTORE_PASSWORD');
    expect(await readdir(root)).toEqual(['network.yaml']);
  });

  it('refuses a short password without echoing it', async () => {
    const root = await aTempDir();
    await writeFile(join(root, 'network.yaml'), aSpecYaml({ loopback: false }));
    const error = await expectRejection(
      initWorkspace({
        dir: join(root, 'ws'),
        spec: { file: join(root, 'network.yaml') },
        password: { value: 'hunter2', source: '$PW' },
        force: false,
      }),
      InputError,
    );
    expect(error.message).toContain('$PW');
    expect(error.message).not.toContain('hunter2');
  });

  it('encrypts with the operator password and derives nothing from it into the files', async () => {
    const root = await aTempDir();
    await writeFile(join(root, 'network.yaml'), aSpecYaml({ loopback: false, validators: 1 }));
    const password = 'a long operator password 42';
    const result = await initWorkspace({
      dir: join(root, 'ws'),
      spec: { file: join(root, 'network.yaml') },
      password: { value: password, source: 'test' },
      force: false,
    });
    expect(result.devPasswordFile).toBeUndefined();
    const tree = await snapshotTree(join(root, 'ws'));
    expect(Object.keys(tree).some((path) => path.startsWith('secrets/'))).toBe(false);
    const deployer = await decryptAccountKey(tree['accounts/deployer.json']!.content, password, 'deployer');
    expect(deployer.address).toBe(result.accounts.deployer);
  });

  it('takes an imported validator identity: no key file, everything else derived', async () => {
    // Given a validator whose key is held elsewhere, given by its public key
    const imported = fixtureIdentity('nota');
    const yaml = aSpecYaml({ validators: 3 }).replace(
      /(- name: val3\n(?:\s+.+\n)*?\s+role: validator\n)/,
      `$1    publicKey: "0x${imported.publicKey}"\n`,
    );
    expect(yaml).toContain(imported.publicKey);
    // When init runs
    const { dir, result } = await aLocalWorkspace(yaml);
    // Then that node has no key file but its public key, and the genesis has its address
    const tree = await snapshotTree(dir);
    expect(tree['nodes/val3/key']).toBeUndefined();
    expect(tree['nodes/val3/key.pub']!.content.trim()).toBe(`0x${imported.publicKey}`);
    expect(result.nodes.find((node) => node.name === 'val3')!.identity).toBe('imported');
    const genesis = JSON.parse(tree['genesis.json']!.content) as { extraData: string };
    expect(decodeExtraData(genesis.extraData).validators).toContain(imported.address);
    // And the workspace validates
    await expect(validateWorkspace({ dir })).resolves.toMatchObject({ nodes: 4 });
  });
});

describe('validate', () => {
  it('accepts a fresh workspace and reports the sorted validators', async () => {
    const { dir, result } = await aLocalWorkspace();
    const validated = await validateWorkspace({ dir });
    const expected = result.nodes
      .filter((node) => node.role === 'validator')
      .map((node) => node.address)
      .sort();
    expect(validated.validators).toEqual(expected);
    expect(validated.filesChecked).toBeGreaterThan(10);
  });

  it('lists every problem at once: swapped key, open mode, lost enode, stale config', async () => {
    // Given a workspace with four independent faults
    const { dir } = await aLocalWorkspace();
    await writeFile(join(dir, 'nodes/val1/key'), `0x${'11'.repeat(32)}`);
    await chmod(join(dir, 'nodes/val2/key'), 0o644);
    const permissions = join(dir, 'nodes/tx/permissions_config.toml');
    const text = await readFile(permissions, 'utf8');
    await writeFile(permissions, text.replace(/"enode:\/\/[0-9a-f]+@127\.0\.0\.1:30304",?/, ''));
    const spec = join(dir, 'network.yaml');
    await writeFile(spec, (await readFile(spec, 'utf8')).replace('chainId: 4242', 'chainId: 4343'));
    // When it is validated
    const error = await expectRejection(validateWorkspace({ dir }), InputError);
    // Then one error lists each fault with its file
    expect(error.code).toBe(ErrorCodes.WORKSPACE_INVALID);
    const details = error.details.join('\n');
    expect(details).toContain('nodes/val2/key: mode 0644, expected 0600');
    expect(details).toContain('genesis.json: chainId 4242, but network.yaml says 4343');
    expect(details).toMatch(/genesis\.json: extraData validators .* are not the validator nodes/);
    expect(details).toContain('nodes/val1/key.pub: does not match');
    expect(details).toMatch(
      /nodes\/tx\/permissions_config\.toml: the allowlist lacks the enode of val1, val2\n/,
    );
    expect(details).toContain('service/adapter.yaml: out of date with network.yaml');
  });

  it('says when there is no workspace', async () => {
    const dir = await aTempDir();
    const error = await expectRejection(validateWorkspace({ dir }), InputError);
    expect(error.message).toContain('has no network.yaml');
    expect(error.hint).toContain('init');
  });
});

describe('render', () => {
  it('does nothing on an up-to-date workspace', async () => {
    const { dir } = await aLocalWorkspace();
    const before = await snapshotTree(dir);
    const result = await rerenderWorkspace({ dir, dryRun: false, force: false, password: undefined });
    expect(result.created.length + result.updated.length + result.removed.length).toBe(0);
    expect(await snapshotTree(dir)).toEqual(before);
  });

  it('adds a node: new key, allowlists updated everywhere, existing keys kept byte for byte', async () => {
    // Given a workspace and a fourth validator added to its spec
    const { dir } = await aLocalWorkspace();
    const before = await snapshotTree(dir);
    const spec = join(dir, 'network.yaml');
    await writeFile(
      spec,
      (await readFile(spec, 'utf8'))
        .replace('service:', 'service:')
        .replace(
          /nodes:\n/,
          'nodes:\n  - name: val4\n    organisation: org1\n    role: validator\n    host: 127.0.0.1\n    p2pPort: 31000\n    rpcPort: 9000\n    metricsPort: 9900\n',
        ),
    );
    // When a dry run is asked first, nothing changes
    const plan = await rerenderWorkspace({ dir, dryRun: true, force: false, password: undefined });
    expect(plan.generatedKeys).toEqual(['nodes/val4/key']);
    expect(await snapshotTree(dir)).toEqual({
      ...before,
      'network.yaml': (await snapshotTree(dir))['network.yaml']!,
    });
    // When render runs
    const result = await rerenderWorkspace({ dir, dryRun: false, force: false, password: undefined });
    // Then the new node has a key, every allowlist names it, old keys are unchanged
    expect(result.created).toContain('nodes/val4/key');
    expect(result.updated).toEqual(
      expect.arrayContaining(['nodes/val1/permissions_config.toml', 'genesis.json']),
    );
    expect(result.warnings.join()).toContain('genesis.json changed');
    const after = await snapshotTree(dir);
    for (const path of Object.keys(before).filter(
      (path) => path.endsWith('/key') || (path.endsWith('.json') && path.startsWith('accounts/')),
    )) {
      expect(after[path]).toEqual(before[path]);
    }
    expect(after['nodes/val4/key']!.mode).toBe(0o600);
    await expect(validateWorkspace({ dir })).resolves.toMatchObject({ nodes: 5 });
  });

  it("refuses to drop a removed node's key unless forced, then archives it", async () => {
    // Given a workspace whose spec no longer has val3
    const { dir } = await aLocalWorkspace(aSpecYaml({ validators: 4 }), randomKeySource);
    const spec = join(dir, 'network.yaml');
    const text = await readFile(spec, 'utf8');
    await writeFile(spec, text.replace(/ {2}- name: val4\n( {4}.+\n)+/, ''));
    const key = await readFile(join(dir, 'nodes/val4/key'), 'utf8');
    // When render runs without force, it refuses and changes nothing
    const before = await snapshotTree(dir);
    const error = await expectRejection(
      rerenderWorkspace({ dir, dryRun: false, force: false, password: undefined }),
      RefusedError,
    );
    expect(error.code).toBe(ErrorCodes.WOULD_DESTROY_KEYS);
    expect(error.details).toEqual(['nodes/val4/key']);
    expect(await snapshotTree(dir)).toEqual(before);
    // When forced, the key is archived and the node's generated files are gone
    const result = await rerenderWorkspace({ dir, dryRun: false, force: true, password: undefined });
    expect(result.archivedKeys).toHaveLength(1);
    expect(await readFile(join(dir, result.archivedKeys[0]!), 'utf8')).toBe(key);
    expect(result.removed).toContain('nodes/val4/config.toml');
    await expect(validateWorkspace({ dir })).resolves.toMatchObject({ nodes: 4 });
  });

  it('gives a workspace made before the wallet master secret existed one, and validate asks for it', async () => {
    // Given a workspace without service/wallet-master.json
    const { dir } = await aLocalWorkspace();
    const { rm } = await import('node:fs/promises');
    await rm(join(dir, 'service/wallet-master.json'));
    const error = await expectRejection(validateWorkspace({ dir }), InputError);
    expect(error.details).toContain('service/wallet-master.json: missing keystore (render generates one)');
    // When render runs, it makes one (0600) with the workspace's password
    const result = await rerenderWorkspace({ dir, dryRun: false, force: false, password: undefined });
    expect(result.generatedKeys).toEqual(['service/wallet-master.json']);
    expect((await stat(join(dir, 'service/wallet-master.json'))).mode & 0o777).toBe(0o600);
    await expect(validateWorkspace({ dir })).resolves.toBeTruthy();
  });

  it('switches a node from docker to systemd: the compose file goes, the unit comes', async () => {
    const { dir } = await aLocalWorkspace();
    const spec = join(dir, 'network.yaml');
    await writeFile(
      spec,
      (await readFile(spec, 'utf8')).replace(/(- name: val1\n)/, '$1    runtime: systemd\n'),
    );
    const result = await rerenderWorkspace({ dir, dryRun: false, force: false, password: undefined });
    expect(result.removed).toEqual(['nodes/val1/docker-compose.yml']);
    expect(result.created).toEqual(['nodes/val1/besu-test-net-val1.service']);
    await mkdir(join(dir, 'unused'), { recursive: true });
    await expect(validateWorkspace({ dir })).resolves.toBeTruthy();
  });
});
