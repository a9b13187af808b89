// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Pausable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Pausable.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @title Points token of the peruri-chain network
/// @notice Fungible points paid to app users' wallets for their activities. Only the minter role
///         creates points, and every payment names the activity it pays for by a 32-byte reference
///         (a salted hash computed by the adapter, never personal data).
contract PointsToken is ERC20Pausable, AccessControl {
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");

    // Kept in storage rather than as an immutable so the runtime code does not depend on the
    // constructor arguments and a deployment can be checked byte for byte against the build.
    uint8 private _decimals;

    /// @notice One payment of `amount` points to `to` for the activity identified by `ref`.
    event Minted(address indexed to, uint256 amount, bytes32 indexed ref);

    /// @notice The arrays of a batch do not have the same length.
    error LengthMismatch(uint256 recipients, uint256 amounts, uint256 refs);
    /// @notice The constructor was given no admin, so nobody could ever manage the roles.
    error NoAdmins();
    /// @notice The zero address was given where an account is needed.
    error ZeroAddress();

    constructor(
        string memory name_,
        string memory symbol_,
        uint8 decimals_,
        address[] memory admins,
        address minter
    ) ERC20(name_, symbol_) {
        if (admins.length == 0) revert NoAdmins();
        if (minter == address(0)) revert ZeroAddress();
        for (uint256 i = 0; i < admins.length; ++i) {
            if (admins[i] == address(0)) revert ZeroAddress();
            _grantRole(DEFAULT_ADMIN_ROLE, admins[i]);
        }
        _grantRole(MINTER_ROLE, minter);
        _decimals = decimals_;
    }

    /// @inheritdoc ERC20
    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    /// @notice Pays `amount` points to `to` for the activity `ref`.
    function mint(address to, uint256 amount, bytes32 ref) external onlyRole(MINTER_ROLE) {
        _mint(to, amount);
        emit Minted(to, amount, ref);
    }

    /// @notice Pays many users in one transaction; entry `i` of each array is one payment.
    /// @dev The role is checked once for the whole batch and the arrays stay in calldata, so each
    ///      further recipient costs little more than its balance write and its two events.
    function mintBatch(
        address[] calldata recipients,
        uint256[] calldata amounts,
        bytes32[] calldata refs
    ) external onlyRole(MINTER_ROLE) {
        uint256 n = recipients.length;
        if (amounts.length != n || refs.length != n) {
            revert LengthMismatch(n, amounts.length, refs.length);
        }
        for (uint256 i = 0; i < n; ++i) {
            address to = recipients[i];
            uint256 amount = amounts[i];
            _mint(to, amount);
            emit Minted(to, amount, refs[i]);
        }
    }

    /// @notice Stops all mints and transfers, for example while an incident is investigated.
    function pause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _pause();
    }

    /// @notice Lets mints and transfers run again after {pause}.
    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unpause();
    }
}
