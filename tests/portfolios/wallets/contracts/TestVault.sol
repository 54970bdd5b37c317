// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20, ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";

/// OpenZeppelin's ERC-4626 with nothing added: a vault whose shares grow in
/// value when assets are sent to it (a strategy's yield, in the tests a donation).
contract TestVault is ERC4626 {
    constructor(IERC20 asset_) ERC20("Test Vault Share", "tvTKN") ERC4626(asset_) {}
}
