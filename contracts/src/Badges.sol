// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ERC1155} from "@openzeppelin/contracts/token/ERC1155/ERC1155.sol";
import {ERC1155Supply} from "@openzeppelin/contracts/token/ERC1155/extensions/ERC1155Supply.sol";
import {ERC1155URIStorage} from "@openzeppelin/contracts/token/ERC1155/extensions/ERC1155URIStorage.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @title Soulbound achievement badges of the peruri-chain network
/// @notice Each token id is one kind of badge. Badges cannot be transferred or approved: only the
///         minter role creates and removes them, and every mint or burn names the activity behind
///         it by a 32-byte reference. Signals the lock in the style of ERC-5192.
contract Badges is ERC1155Supply, ERC1155URIStorage, AccessControl {
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");

    // ERC-5192 interface id: the selector of locked(uint256).
    bytes4 private constant _ERC5192_INTERFACE_ID = 0xb45a3c0e;

    /// @notice ERC-5192: the badge kind `tokenId` is locked to its holders.
    event Locked(uint256 tokenId);
    /// @notice `amount` of badge `id` given to `to` for the activity `ref`.
    event BadgeMinted(address indexed to, uint256 indexed id, uint256 amount, bytes32 indexed ref);
    /// @notice `amount` of badge `id` taken from `from` because of the activity `ref`.
    event BadgeBurned(address indexed from, uint256 indexed id, uint256 amount, bytes32 indexed ref);

    /// @notice Badges are bound to their holder: transfers and approvals are not possible.
    error Soulbound();
    /// @notice No badge of kind `id` exists.
    error UnknownBadge(uint256 id);
    /// @notice The arrays of a batch do not have the same length.
    error LengthMismatch(uint256 accounts, uint256 ids, uint256 amounts, uint256 refs);
    /// @notice The constructor was given no admin, so nobody could ever manage the roles.
    error NoAdmins();
    /// @notice The zero address was given where an account is needed.
    error ZeroAddress();

    constructor(string memory uri_, address[] memory admins, address minter) ERC1155(uri_) {
        if (admins.length == 0) revert NoAdmins();
        if (minter == address(0)) revert ZeroAddress();
        for (uint256 i = 0; i < admins.length; ++i) {
            if (admins[i] == address(0)) revert ZeroAddress();
            _grantRole(DEFAULT_ADMIN_ROLE, admins[i]);
        }
        _grantRole(MINTER_ROLE, minter);
    }

    /// @notice Gives `amount` of badge `id` to `to` for the activity `ref`.
    function mint(address to, uint256 id, uint256 amount, bytes32 ref) external onlyRole(MINTER_ROLE) {
        _mintOne(to, id, amount, ref);
    }

    /// @notice Gives badges to many users in one transaction; entry `i` of each array is one mint.
    function mintBatch(
        address[] calldata accounts,
        uint256[] calldata ids,
        uint256[] calldata amounts,
        bytes32[] calldata refs
    ) external onlyRole(MINTER_ROLE) {
        uint256 n = _checkLengths(accounts, ids, amounts, refs);
        for (uint256 i = 0; i < n; ++i) {
            _mintOne(accounts[i], ids[i], amounts[i], refs[i]);
        }
    }

    /// @notice Takes `amount` of badge `id` from `from` because of the activity `ref`.
    function burn(address from, uint256 id, uint256 amount, bytes32 ref) external onlyRole(MINTER_ROLE) {
        _burn(from, id, amount);
        emit BadgeBurned(from, id, amount, ref);
    }

    /// @notice Takes badges from many users in one transaction; entry `i` of each array is one burn.
    function burnBatch(
        address[] calldata accounts,
        uint256[] calldata ids,
        uint256[] calldata amounts,
        bytes32[] calldata refs
    ) external onlyRole(MINTER_ROLE) {
        uint256 n = _checkLengths(accounts, ids, amounts, refs);
        for (uint256 i = 0; i < n; ++i) {
            _burn(accounts[i], ids[i], amounts[i]);
            emit BadgeBurned(accounts[i], ids[i], amounts[i], refs[i]);
        }
    }

    /// @notice Sets the metadata URI of one badge kind; kinds without one use the base URI.
    function setBadgeURI(uint256 id, string calldata tokenURI) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setURI(id, tokenURI);
    }

    /// @notice ERC-5192: true for every existing badge kind, since all badges are soulbound.
    /// @dev Reverts for a kind that has no badge, as ERC-5192 asks for tokens that do not exist.
    function locked(uint256 tokenId) external view returns (bool) {
        if (!exists(tokenId)) revert UnknownBadge(tokenId);
        return true;
    }

    /// @notice Always reverts: badges cannot be transferred.
    function safeTransferFrom(address, address, uint256, uint256, bytes memory) public pure override {
        revert Soulbound();
    }

    /// @notice Always reverts: badges cannot be transferred.
    function safeBatchTransferFrom(
        address,
        address,
        uint256[] memory,
        uint256[] memory,
        bytes memory
    ) public pure override {
        revert Soulbound();
    }

    /// @notice Always reverts: there is nothing an operator could be allowed to do with a badge.
    function setApprovalForAll(address, bool) public pure override {
        revert Soulbound();
    }

    /// @inheritdoc ERC1155URIStorage
    function uri(uint256 id) public view override(ERC1155, ERC1155URIStorage) returns (string memory) {
        return super.uri(id);
    }

    /// @inheritdoc ERC1155
    function supportsInterface(bytes4 interfaceId) public view override(ERC1155, AccessControl) returns (bool) {
        return interfaceId == _ERC5192_INTERFACE_ID || super.supportsInterface(interfaceId);
    }

    // The one place balances change: besides the public overrides above, this refuses any
    // movement between two holders, so no future internal path can make a badge transferable.
    function _update(
        address from,
        address to,
        uint256[] memory ids,
        uint256[] memory values
    ) internal override(ERC1155, ERC1155Supply) {
        if (from != address(0) && to != address(0)) revert Soulbound();
        super._update(from, to, ids, values);
    }

    function _mintOne(address to, uint256 id, uint256 amount, bytes32 ref) private {
        _mint(to, id, amount, "");
        emit Locked(id);
        emit BadgeMinted(to, id, amount, ref);
    }

    function _checkLengths(
        address[] calldata accounts,
        uint256[] calldata ids,
        uint256[] calldata amounts,
        bytes32[] calldata refs
    ) private pure returns (uint256 n) {
        n = accounts.length;
        if (ids.length != n || amounts.length != n || refs.length != n) {
            revert LengthMismatch(n, ids.length, amounts.length, refs.length);
        }
    }
}
