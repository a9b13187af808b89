// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/// @title Activity log of the peruri-chain network
/// @notice Anchors the Merkle root of each batch of app activities so that anyone can later prove
///         that an activity belongs to an anchored batch. Trees follow OpenZeppelin's
///         StandardMerkleTree: a leaf is keccak256(keccak256(abi.encode(values))), pairs are
///         hashed sorted. peruri-chain's activity leaf is
///         (bytes32 activityRef, address wallet, uint256 points, bytes32 detailHash), all of them
///         pseudonymous: salted hashes and a custodial wallet address, never personal data.
contract ActivityLog is AccessControl {
    bytes32 public constant ANCHOR_ROLE = keccak256("ANCHOR_ROLE");

    // Everything but the root fits one storage slot, so an anchor writes exactly two new slots
    // whatever the batch size: batchId -> root, and root -> this record.
    struct Anchor {
        uint32 count;
        uint64 blockNumber;
        uint64 timestamp;
    }

    mapping(bytes32 batchId => bytes32 root) private _rootOf;
    mapping(bytes32 root => Anchor) private _anchors;

    /// @notice The batch `batchId` of `count` activities was anchored with Merkle root `root`.
    event Anchored(bytes32 indexed batchId, bytes32 indexed root, uint32 count);

    /// @notice This batch id was anchored before; a batch is anchored once.
    error BatchAlreadyAnchored(bytes32 batchId);
    /// @notice This root was anchored before, under another batch id.
    error RootAlreadyAnchored(bytes32 root);
    /// @notice The zero value was given as a Merkle root.
    error ZeroRoot();
    /// @notice The zero value was given as a batch id.
    error ZeroBatchId();
    /// @notice A batch needs at least one activity.
    error EmptyBatch();
    /// @notice The constructor was given no admin, so nobody could ever manage the roles.
    error NoAdmins();
    /// @notice The zero address was given where an account is needed.
    error ZeroAddress();

    constructor(address[] memory admins, address anchorer) {
        if (admins.length == 0) revert NoAdmins();
        if (anchorer == address(0)) revert ZeroAddress();
        for (uint256 i = 0; i < admins.length; ++i) {
            if (admins[i] == address(0)) revert ZeroAddress();
            _grantRole(DEFAULT_ADMIN_ROLE, admins[i]);
        }
        _grantRole(ANCHOR_ROLE, anchorer);
    }

    /// @notice Records that batch `batchId` holds `count` activities whose Merkle root is `root`.
    function anchor(bytes32 root, uint32 count, bytes32 batchId) external onlyRole(ANCHOR_ROLE) {
        if (root == bytes32(0)) revert ZeroRoot();
        if (batchId == bytes32(0)) revert ZeroBatchId();
        if (count == 0) revert EmptyBatch();
        if (_rootOf[batchId] != bytes32(0)) revert BatchAlreadyAnchored(batchId);
        // The block number of an anchor is never zero (no transaction runs in the genesis block),
        // so it doubles as the "root is anchored" flag.
        if (_anchors[root].blockNumber != 0) revert RootAlreadyAnchored(root);
        _rootOf[batchId] = root;
        _anchors[root] = Anchor(count, uint64(block.number), uint64(block.timestamp));
        emit Anchored(batchId, root, count);
    }

    /// @notice The anchor of batch `batchId`; all zero when it was never anchored.
    function batches(
        bytes32 batchId
    ) external view returns (bytes32 root, uint32 count, uint64 blockNumber, uint64 timestamp) {
        root = _rootOf[batchId];
        // The zero root is never anchored, so an unknown batch reads an all-zero record.
        Anchor memory a = _anchors[root];
        (count, blockNumber, timestamp) = (a.count, a.blockNumber, a.timestamp);
    }

    /// @notice The anchor of Merkle root `root`; all zero when it was never anchored.
    function anchorOf(bytes32 root) external view returns (uint32 count, uint64 blockNumber, uint64 timestamp) {
        Anchor memory a = _anchors[root];
        return (a.count, a.blockNumber, a.timestamp);
    }

    /// @notice True when `root` is anchored and `proof` shows that `leaf` is one of its leaves.
    /// @param leaf The leaf hash as StandardMerkleTree computes it (double keccak of the values).
    function verify(bytes32 root, bytes32 leaf, bytes32[] calldata proof) external view returns (bool) {
        return _anchors[root].blockNumber != 0 && MerkleProof.verifyCalldata(proof, root, leaf);
    }
}
