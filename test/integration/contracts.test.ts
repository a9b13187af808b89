import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import {
  Contract,
  ContractFactory,
  ZeroAddress,
  ZeroHash,
  Wallet,
  id,
  type ErrorDescription,
  type TransactionReceipt,
} from 'ethers';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  ACTIVITY_LEAF_ENCODING,
  activityLeafValues,
  type ActivityLeaf,
} from '../../src/core/contracts/activity-leaf.js';
import { loadArtifact, type ContractName } from '../../src/core/contracts/artifacts.js';
import { deployContracts } from '../../src/core/contracts/deploy.js';
import { connectRpc } from '../../src/io/rpc.js';
import { startAnvil } from '../support/anvil.js';

const ZERO_GAS = { gasPrice: 0n, type: 0 } as const;
const MINTER_ROLE = id('MINTER_ROLE');
const ANCHOR_ROLE = id('ANCHOR_ROLE');
const ADMIN_ROLE = ZeroHash;

// A fresh chain per test with the three contracts deployed: one admin, one minter (who is also
// the anchorer), users without any role, and `mallory`, who tries what she must not.
async function aNetwork() {
  const node = await startAnvil({ chainId: 31337 });
  onTestFinished(() => node.stop());
  const provider = await connectRpc(node.url);
  onTestFinished(() => provider.destroy());
  const [deployer, admin, minter, alice, bob, carol, mallory] = node.accounts.map(
    (a) => new Wallet(a.privateKey, provider),
  ) as [Wallet, Wallet, Wallet, Wallet, Wallet, Wallet, Wallet];
  const { record } = await deployContracts({
    signer: deployer,
    params: {
      token: { name: 'Peruri Points', symbol: 'PPT', decimals: 2 },
      badges: { uri: 'ipfs://base/{id}' },
    },
    admins: [admin.address],
    minter: minter.address,
    previous: undefined,
    onRecord: async () => {},
  });
  const at = (name: ContractName): Contract =>
    new Contract(record.contracts[name]!.address, loadArtifact(name).abi, provider);
  return {
    provider,
    deployer,
    admin,
    minter,
    alice,
    bob,
    carol,
    mallory,
    token: at('PointsToken'),
    badges: at('Badges'),
    log: at('ActivityLog'),
  };
}

// Sends a zero-gas legacy transaction (as on the Besu network) and waits for its receipt.
async function send(
  contract: Contract,
  from: Wallet,
  method: string,
  ...args: unknown[]
): Promise<TransactionReceipt> {
  const response = await contract.connect(from).getFunction(method)(...args, ZERO_GAS);
  const receipt = await response.wait();
  if (!receipt) throw new Error(`no receipt for ${method}`);
  return receipt;
}

// The custom error a call reverts with, decoded with the contract's ABI; fails if it does not revert.
async function revertOf(
  contract: Contract,
  from: Wallet,
  method: string,
  ...args: unknown[]
): Promise<ErrorDescription> {
  try {
    await send(contract, from, method, ...args);
  } catch (error) {
    const data = (error as { data?: unknown }).data;
    const parsed = typeof data === 'string' && data !== '0x' ? contract.interface.parseError(data) : null;
    if (parsed) return parsed;
    throw error;
  }
  throw new Error(`expected ${method} to revert, but it succeeded`);
}

function eventsOf(receipt: TransactionReceipt, contract: Contract, name: string): unknown[][] {
  return receipt.logs
    .map((log) => contract.interface.parseLog(log))
    .filter((parsed) => parsed?.name === name)
    .map((parsed) => [...parsed!.args]);
}

function aRef(label: string): string {
  return id(`ref:${label}`);
}

function anActivity(overrides: Partial<ActivityLeaf> & { wallet: string }): ActivityLeaf {
  return { activityRef: aRef('activity'), points: 10n, detailHash: id('detail'), ...overrides };
}

describe('PointsToken', () => {
  it('pays many users in one mintBatch and emits each payment with its activity ref', async () => {
    // Given three users and one payment each
    const { token, minter, alice, bob, carol } = await aNetwork();
    const recipients = [alice.address, bob.address, carol.address];
    const refs = recipients.map((_, i) => aRef(`pay-${i}`));

    // When the minter pays them in one transaction
    const receipt = await send(token, minter, 'mintBatch', recipients, [100n, 250n, 1n], refs);

    // Then every balance is credited and each payment appears as Minted (with ref) and Transfer
    expect(await token.getFunction('balanceOf')(alice.address)).toBe(100n);
    expect(await token.getFunction('balanceOf')(bob.address)).toBe(250n);
    expect(await token.getFunction('balanceOf')(carol.address)).toBe(1n);
    expect(await token.getFunction('totalSupply')()).toBe(351n);
    expect(eventsOf(receipt, token, 'Minted')).toEqual([
      [alice.address, 100n, refs[0]],
      [bob.address, 250n, refs[1]],
      [carol.address, 1n, refs[2]],
    ]);
    expect(eventsOf(receipt, token, 'Transfer')).toEqual([
      [ZeroAddress, alice.address, 100n],
      [ZeroAddress, bob.address, 250n],
      [ZeroAddress, carol.address, 1n],
    ]);
  });

  it('mints one payment with its ref and takes decimals, name and symbol from the constructor', async () => {
    // Given a token deployed with 2 decimals
    const { token, minter, alice } = await aNetwork();

    // When the minter pays one activity
    const receipt = await send(token, minter, 'mint', alice.address, 5n, aRef('one'));

    // Then the event carries the ref and the metadata is the deployed one
    expect(eventsOf(receipt, token, 'Minted')).toEqual([[alice.address, 5n, aRef('one')]]);
    expect(await token.getFunction('decimals')()).toBe(2n);
    expect(await token.getFunction('name')()).toBe('Peruri Points');
    expect(await token.getFunction('symbol')()).toBe('PPT');
  });

  it('rejects a mintBatch whose arrays differ in length', async () => {
    // Given two recipients
    const { token, minter, alice, bob } = await aNetwork();
    const recipients = [alice.address, bob.address];

    // When amounts or refs are one short
    const shortAmounts = await revertOf(token, minter, 'mintBatch', recipients, [1n], [aRef('a'), aRef('b')]);
    const shortRefs = await revertOf(token, minter, 'mintBatch', recipients, [1n, 2n], [aRef('a')]);

    // Then both revert with LengthMismatch carrying the three lengths
    expect([shortAmounts.name, [...shortAmounts.args]]).toEqual(['LengthMismatch', [2n, 1n, 2n]]);
    expect([shortRefs.name, [...shortRefs.args]]).toEqual(['LengthMismatch', [2n, 2n, 1n]]);
  });

  it('refuses mints from anyone without the minter role, the admin included', async () => {
    // Given an outsider and the admin, neither holding MINTER_ROLE
    const { token, admin, mallory, alice } = await aNetwork();

    for (const caller of [mallory, admin]) {
      // When they mint, singly or in a batch
      const single = await revertOf(token, caller, 'mint', alice.address, 1n, aRef('x'));
      const batch = await revertOf(token, caller, 'mintBatch', [alice.address], [1n], [aRef('x')]);

      // Then both revert with AccessControlUnauthorizedAccount naming the caller and the role
      for (const error of [single, batch]) {
        expect([error.name, [...error.args]]).toEqual([
          'AccessControlUnauthorizedAccount',
          [caller.address, MINTER_ROLE],
        ]);
      }
    }
    expect(await token.getFunction('totalSupply')()).toBe(0n);
  });

  it('blocks mints and transfers while paused and restores them on unpause', async () => {
    // Given alice holding points
    const { token, admin, minter, alice, bob } = await aNetwork();
    await send(token, minter, 'mint', alice.address, 10n, aRef('before'));

    // When someone other than the admin tries to pause
    const notAdmin = await revertOf(token, minter, 'pause');

    // Then that is refused
    expect([notAdmin.name, [...notAdmin.args]]).toEqual([
      'AccessControlUnauthorizedAccount',
      [minter.address, ADMIN_ROLE],
    ]);

    // When the admin pauses
    await send(token, admin, 'pause');

    // Then mints, batch mints and transfers revert with EnforcedPause
    expect((await revertOf(token, minter, 'mint', alice.address, 1n, aRef('p'))).name).toBe('EnforcedPause');
    expect((await revertOf(token, minter, 'mintBatch', [bob.address], [1n], [aRef('p')])).name).toBe(
      'EnforcedPause',
    );
    expect((await revertOf(token, alice, 'transfer', bob.address, 1n)).name).toBe('EnforcedPause');
    expect(await token.getFunction('paused')()).toBe(true);

    // When the admin unpauses
    await send(token, admin, 'unpause');

    // Then transfers and mints work again
    await send(token, alice, 'transfer', bob.address, 4n);
    await send(token, minter, 'mint', bob.address, 1n, aRef('after'));
    expect(await token.getFunction('balanceOf')(alice.address)).toBe(6n);
    expect(await token.getFunction('balanceOf')(bob.address)).toBe(5n);
  });
});

describe('Badges', () => {
  it('reverts every transfer and approval path with Soulbound, whoever calls', async () => {
    // Given alice holding two kinds of badges
    const { badges, admin, minter, alice, bob } = await aNetwork();
    await send(
      badges,
      minter,
      'mintBatch',
      [alice.address, alice.address],
      [1n, 2n],
      [1n, 1n],
      [aRef('a'), aRef('b')],
    );

    // When the holder, the minter or the admin tries to move them, and the holder tries to approve
    const attempts = [
      await revertOf(badges, alice, 'safeTransferFrom', alice.address, bob.address, 1n, 1n, '0x'),
      await revertOf(
        badges,
        alice,
        'safeBatchTransferFrom',
        alice.address,
        bob.address,
        [1n, 2n],
        [1n, 1n],
        '0x',
      ),
      await revertOf(badges, minter, 'safeTransferFrom', alice.address, bob.address, 1n, 1n, '0x'),
      await revertOf(badges, admin, 'safeBatchTransferFrom', alice.address, bob.address, [1n], [1n], '0x'),
      await revertOf(badges, alice, 'setApprovalForAll', bob.address, true),
      await revertOf(badges, alice, 'setApprovalForAll', bob.address, false),
    ];

    // Then each reverts with Soulbound and nothing moved or got approved
    expect(attempts.map((e) => e.name)).toEqual(Array(6).fill('Soulbound'));
    expect(await badges.getFunction('balanceOf')(alice.address, 1n)).toBe(1n);
    expect(await badges.getFunction('balanceOf')(bob.address, 1n)).toBe(0n);
    expect(await badges.getFunction('isApprovedForAll')(alice.address, bob.address)).toBe(false);
  });

  it('mints and burns, singly and in batches, emitting the ref of each badge and Locked on mint', async () => {
    // Given two users
    const { badges, minter, alice, bob } = await aNetwork();

    // When the minter gives one badge, then a batch, then burns one and a batch
    const one = await send(badges, minter, 'mint', alice.address, 7n, 1n, aRef('m1'));
    const many = await send(
      badges,
      minter,
      'mintBatch',
      [alice.address, bob.address],
      [8n, 7n],
      [1n, 3n],
      [aRef('m2'), aRef('m3')],
    );
    const burnOne = await send(badges, minter, 'burn', bob.address, 7n, 1n, aRef('b1'));
    const burnMany = await send(
      badges,
      minter,
      'burnBatch',
      [bob.address, alice.address],
      [7n, 8n],
      [2n, 1n],
      [aRef('b2'), aRef('b3')],
    );

    // Then every mint and burn carries its ref, and each mint signals Locked for its kind
    expect(eventsOf(one, badges, 'BadgeMinted')).toEqual([[alice.address, 7n, 1n, aRef('m1')]]);
    expect(eventsOf(one, badges, 'Locked')).toEqual([[7n]]);
    expect(eventsOf(many, badges, 'BadgeMinted')).toEqual([
      [alice.address, 8n, 1n, aRef('m2')],
      [bob.address, 7n, 3n, aRef('m3')],
    ]);
    expect(eventsOf(many, badges, 'Locked')).toEqual([[8n], [7n]]);
    expect(eventsOf(burnOne, badges, 'BadgeBurned')).toEqual([[bob.address, 7n, 1n, aRef('b1')]]);
    expect(eventsOf(burnMany, badges, 'BadgeBurned')).toEqual([
      [bob.address, 7n, 2n, aRef('b2')],
      [alice.address, 8n, 1n, aRef('b3')],
    ]);
    // And the standard ERC-1155 events are there for indexers
    expect(eventsOf(one, badges, 'TransferSingle')).toEqual([
      [minter.address, ZeroAddress, alice.address, 7n, 1n],
    ]);
    expect(await badges.getFunction('balanceOf')(alice.address, 7n)).toBe(1n);
    expect(await badges.getFunction('balanceOf')(bob.address, 7n)).toBe(0n);
    expect(await badges.getFunction('totalSupply(uint256)')(8n)).toBe(0n);
  });

  it('reports existing kinds as locked and refuses to answer for unknown ones', async () => {
    // Given badge kind 3 minted and kind 4 never minted
    const { badges, minter, alice } = await aNetwork();
    await send(badges, minter, 'mint', alice.address, 3n, 1n, aRef('x'));

    // When asked whether they are locked
    const locked = await badges.getFunction('locked')(3n);
    const unknown = await badges
      .getFunction('locked')(4n)
      .then(
        () => null,
        (error: { data?: string }) => badges.interface.parseError(error.data!),
      );

    // Then kind 3 is locked and kind 4 reverts with UnknownBadge
    expect(locked).toBe(true);
    expect([unknown?.name, [...(unknown?.args ?? [])]]).toEqual(['UnknownBadge', [4n]]);
  });

  it('refuses mints and burns without the minter role and batches of mismatched lengths', async () => {
    // Given alice with a badge, an outsider and the admin
    const { badges, admin, minter, mallory, alice } = await aNetwork();
    await send(badges, minter, 'mint', alice.address, 1n, 1n, aRef('x'));

    // When anyone but the minter mints or burns
    const denied = [];
    for (const caller of [mallory, admin]) {
      denied.push(await revertOf(badges, caller, 'mint', caller.address, 1n, 1n, aRef('y')));
      denied.push(await revertOf(badges, caller, 'mintBatch', [caller.address], [1n], [1n], [aRef('y')]));
      denied.push(await revertOf(badges, caller, 'burn', alice.address, 1n, 1n, aRef('y')));
      denied.push(await revertOf(badges, caller, 'burnBatch', [alice.address], [1n], [1n], [aRef('y')]));
    }
    // And the minter sends arrays of different lengths
    const mismatch = await revertOf(
      badges,
      minter,
      'mintBatch',
      [alice.address],
      [1n, 2n],
      [1n],
      [aRef('z')],
    );

    // Then every attempt reverts with the matching custom error and alice keeps her badge
    expect(denied.map((e) => [e.name, e.args[1]])).toEqual(
      Array(8).fill(['AccessControlUnauthorizedAccount', MINTER_ROLE]),
    );
    expect([mismatch.name, [...mismatch.args]]).toEqual(['LengthMismatch', [1n, 2n, 1n, 1n]]);
    expect(await badges.getFunction('balanceOf')(alice.address, 1n)).toBe(1n);
  });

  it('serves a per-badge URI set by the admin and falls back to the base URI', async () => {
    // Given deployed badges with base URI ipfs://base/{id}
    const { badges, admin, minter } = await aNetwork();

    // When the admin sets the URI of kind 5, and the minter tries to set kind 6
    const receipt = await send(badges, admin, 'setBadgeURI', 5n, 'ipfs://five.json');
    const denied = await revertOf(badges, minter, 'setBadgeURI', 6n, 'ipfs://six.json');

    // Then kind 5 has its own URI (announced by the URI event) and kind 6 still the base one
    expect(await badges.getFunction('uri')(5n)).toBe('ipfs://five.json');
    expect(await badges.getFunction('uri')(6n)).toBe('ipfs://base/{id}');
    expect(eventsOf(receipt, badges, 'URI')).toEqual([['ipfs://five.json', 5n]]);
    expect(denied.name).toBe('AccessControlUnauthorizedAccount');
  });

  it('declares ERC-165 support for ERC-1155, its metadata, AccessControl and ERC-5192', async () => {
    // Given the deployed badges
    const { badges } = await aNetwork();
    const supports = (interfaceId: string): Promise<boolean> =>
      badges.getFunction('supportsInterface')(interfaceId);

    // When asked about each interface; Then only the implemented ones answer true
    expect(id('locked(uint256)').slice(0, 10)).toBe('0xb45a3c0e');
    expect(await supports('0xb45a3c0e')).toBe(true); // ERC-5192
    expect(await supports('0xd9b67a26')).toBe(true); // ERC-1155
    expect(await supports('0x0e89341c')).toBe(true); // ERC-1155 metadata URI
    expect(await supports('0x7965db0b')).toBe(true); // AccessControl
    expect(await supports('0x01ffc9a7')).toBe(true); // ERC-165
    expect(await supports('0x80ac58cd')).toBe(false); // ERC-721
    expect(await supports('0xffffffff')).toBe(false);
  });
});

describe('ActivityLog', () => {
  it('anchors a batch once and records its root, size, block and time', async () => {
    // Given a batch root
    const { log, minter, provider } = await aNetwork();
    const [root, batchId] = [aRef('root'), aRef('batch-1')];

    // When the anchorer anchors it
    const receipt = await send(log, minter, 'anchor', root, 42, batchId);

    // Then the event and the stored record describe it
    const block = await provider.getBlock(receipt.blockNumber);
    expect(eventsOf(receipt, log, 'Anchored')).toEqual([[batchId, root, 42n]]);
    expect([...(await log.getFunction('batches')(batchId))]).toEqual([
      root,
      42n,
      BigInt(receipt.blockNumber),
      BigInt(block!.timestamp),
    ]);
    expect([...(await log.getFunction('anchorOf')(root))]).toEqual([
      42n,
      BigInt(receipt.blockNumber),
      BigInt(block!.timestamp),
    ]);
    expect([...(await log.getFunction('batches')(aRef('never')))]).toEqual([ZeroHash, 0n, 0n, 0n]);
  });

  it('refuses a second anchor of a batch id or of a root, a zero root or batch id, and an empty batch', async () => {
    // Given one anchored batch
    const { log, minter } = await aNetwork();
    await send(log, minter, 'anchor', aRef('root'), 3, aRef('batch'));

    // When anchoring again or with unusable values
    const errors = [
      await revertOf(log, minter, 'anchor', aRef('other-root'), 3, aRef('batch')),
      await revertOf(log, minter, 'anchor', aRef('root'), 3, aRef('other-batch')),
      await revertOf(log, minter, 'anchor', ZeroHash, 3, aRef('b2')),
      await revertOf(log, minter, 'anchor', aRef('r2'), 3, ZeroHash),
      await revertOf(log, minter, 'anchor', aRef('r3'), 0, aRef('b3')),
    ];

    // Then each reverts with its own custom error
    expect(errors.map((e) => [e.name, [...e.args]])).toEqual([
      ['BatchAlreadyAnchored', [aRef('batch')]],
      ['RootAlreadyAnchored', [aRef('root')]],
      ['ZeroRoot', []],
      ['ZeroBatchId', []],
      ['EmptyBatch', []],
    ]);
  });

  it('refuses anchors from anyone without the anchor role', async () => {
    // Given an outsider and the admin
    const { log, admin, mallory } = await aNetwork();

    // When they anchor
    const errors = [
      await revertOf(log, mallory, 'anchor', aRef('root'), 1, aRef('batch')),
      await revertOf(log, admin, 'anchor', aRef('root'), 1, aRef('batch')),
    ];

    // Then both are refused for lack of ANCHOR_ROLE
    expect(errors.map((e) => [e.name, [...e.args]])).toEqual([
      ['AccessControlUnauthorizedAccount', [mallory.address, ANCHOR_ROLE]],
      ['AccessControlUnauthorizedAccount', [admin.address, ANCHOR_ROLE]],
    ]);
  });

  it('verifies StandardMerkleTree proofs of members of anchored roots only', async () => {
    // Given a batch of five activities, anchored, and a second tree that is never anchored
    const { log, minter, alice, bob } = await aNetwork();
    const activities = [0, 1, 2, 3, 4].map((i) =>
      anActivity({
        activityRef: aRef(`act-${i}`),
        wallet: i % 2 ? alice.address : bob.address,
        points: BigInt(i),
      }),
    );
    const tree = StandardMerkleTree.of(activities.map(activityLeafValues), [...ACTIVITY_LEAF_ENCODING]);
    await send(log, minter, 'anchor', tree.root, activities.length, aRef('batch'));
    const unanchored = StandardMerkleTree.of(
      [...activities, anActivity({ activityRef: aRef('act-5'), wallet: alice.address })].map(
        activityLeafValues,
      ),
      [...ACTIVITY_LEAF_ENCODING],
    );
    const verify = (root: string, leaf: string, proof: string[]): Promise<boolean> =>
      log.getFunction('verify')(root, leaf, proof);

    // When each member is verified with its proof
    const members = await Promise.all(
      activities.map((a, i) => verify(tree.root, tree.leafHash(activityLeafValues(a)), tree.getProof(i))),
    );

    // Then all are members
    expect(members).toEqual([true, true, true, true, true]);

    // And a non-member, a tampered proof and a valid proof of an unanchored root are all false
    const stranger = tree.leafHash(
      activityLeafValues(anActivity({ activityRef: aRef('act-9'), wallet: alice.address })),
    );
    const firstProof = tree.getProof(0);
    expect(await verify(tree.root, stranger, firstProof)).toBe(false);
    expect(
      await verify(tree.root, tree.leafHash(activityLeafValues(activities[0]!)), [
        aRef('x'),
        ...firstProof.slice(1),
      ]),
    ).toBe(false);
    expect(unanchored.verify(0, unanchored.getProof(0))).toBe(true);
    expect(
      await verify(
        unanchored.root,
        unanchored.leafHash(activityLeafValues(activities[0]!)),
        unanchored.getProof(0),
      ),
    ).toBe(false);
  });

  it('verifies the single activity of a one-leaf batch with an empty proof', async () => {
    // Given a batch of one, anchored
    const { log, minter, alice } = await aNetwork();
    const only = anActivity({ wallet: alice.address });
    const tree = StandardMerkleTree.of([activityLeafValues(only)], [...ACTIVITY_LEAF_ENCODING]);
    await send(log, minter, 'anchor', tree.root, 1, aRef('single'));

    // When it is verified; Then the root is the leaf itself and the empty proof holds
    expect(tree.root).toBe(tree.leafHash(activityLeafValues(only)));
    expect(await log.getFunction('verify')(tree.root, tree.root, [])).toBe(true);
  });
});

describe('roles', () => {
  it('lets the admin grant and revoke the minter role, with RoleGranted and RoleRevoked events', async () => {
    // Given carol without any role
    const { token, admin, carol, mallory, alice } = await aNetwork();

    // When an outsider tries to grant her the minter role
    const denied = await revertOf(token, mallory, 'grantRole', MINTER_ROLE, carol.address);

    // Then it is refused for lack of the admin role
    expect([denied.name, [...denied.args]]).toEqual([
      'AccessControlUnauthorizedAccount',
      [mallory.address, ADMIN_ROLE],
    ]);

    // When the admin grants it
    const granted = await send(token, admin, 'grantRole', MINTER_ROLE, carol.address);

    // Then RoleGranted is emitted and carol can mint
    expect(eventsOf(granted, token, 'RoleGranted')).toEqual([[MINTER_ROLE, carol.address, admin.address]]);
    await send(token, carol, 'mint', alice.address, 1n, aRef('by-carol'));

    // When the admin revokes it
    const revoked = await send(token, admin, 'revokeRole', MINTER_ROLE, carol.address);

    // Then RoleRevoked is emitted and carol can no longer mint
    expect(eventsOf(revoked, token, 'RoleRevoked')).toEqual([[MINTER_ROLE, carol.address, admin.address]]);
    expect((await revertOf(token, carol, 'mint', alice.address, 1n, aRef('late'))).name).toBe(
      'AccessControlUnauthorizedAccount',
    );
  });

  it('refuses to deploy any contract without an admin or with a zero minter', async () => {
    // Given the deployer
    const { deployer, minter } = await aNetwork();
    const attempt = async (name: ContractName, ...args: unknown[]): Promise<string | undefined> => {
      const artifact = loadArtifact(name);
      const factory = new ContractFactory(artifact.abi, artifact.bytecode, deployer);
      try {
        await factory.deploy(...args, ZERO_GAS);
      } catch (error) {
        return factory.interface.parseError((error as { data: string }).data)?.name;
      }
      return undefined;
    };

    // When each contract is deployed with no admins or with the zero address as minter
    const results = [
      await attempt('PointsToken', 'P', 'P', 0, [], minter.address),
      await attempt('PointsToken', 'P', 'P', 0, [deployer.address], ZeroAddress),
      await attempt('Badges', 'u', [], minter.address),
      await attempt('Badges', 'u', [ZeroAddress], minter.address),
      await attempt('ActivityLog', [], minter.address),
      await attempt('ActivityLog', [deployer.address], ZeroAddress),
    ];

    // Then every constructor refuses
    expect(results).toEqual([
      'NoAdmins',
      'ZeroAddress',
      'NoAdmins',
      'ZeroAddress',
      'NoAdmins',
      'ZeroAddress',
    ]);
  });
});
