// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// A small stETH-like token for the wallet-sync tests. Holders own shares;
/// balanceOf = shares * totalPooled / totalShares, so `rebase` changes every
/// balance without a Transfer event: the growth a wallet sync must find.
contract RebasingToken {
    string public constant name = "Rebasing Test Ether";
    string public constant symbol = "rTST";
    uint8 public constant decimals = 18;

    address public immutable owner;
    uint256 public totalShares;
    uint256 public totalPooled;
    mapping(address => uint256) public sharesOf;
    mapping(address => mapping(address => uint256)) public allowance;

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    constructor() {
        owner = msg.sender;
    }

    modifier onlyOwner() {
        require(msg.sender == owner, "not owner");
        _;
    }

    function totalSupply() external view returns (uint256) {
        return totalPooled;
    }

    function balanceOf(address account) public view returns (uint256) {
        return totalShares == 0 ? 0 : (sharesOf[account] * totalPooled) / totalShares;
    }

    function sharesFor(uint256 amount) public view returns (uint256) {
        return totalPooled == 0 ? amount : (amount * totalShares) / totalPooled;
    }

    function mint(address to, uint256 amount) external onlyOwner {
        uint256 shares = sharesFor(amount);
        totalShares += shares;
        totalPooled += amount;
        sharesOf[to] += shares;
        emit Transfer(address(0), to, amount);
    }

    /// Staking rewards (or a slashing) arrive: every balance scales, no event per holder.
    function rebase(uint256 newTotalPooled) external onlyOwner {
        totalPooled = newTotalPooled;
    }

    function approve(address spender, uint256 amount) external returns (bool) {
        allowance[msg.sender][spender] = amount;
        emit Approval(msg.sender, spender, amount);
        return true;
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        _transfer(msg.sender, to, amount);
        return true;
    }

    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        uint256 allowed = allowance[from][msg.sender];
        require(allowed >= amount, "allowance");
        if (allowed != type(uint256).max) allowance[from][msg.sender] = allowed - amount;
        _transfer(from, to, amount);
        return true;
    }

    function _transfer(address from, address to, uint256 amount) internal {
        uint256 shares = sharesFor(amount);
        require(sharesOf[from] >= shares, "balance");
        sharesOf[from] -= shares;
        sharesOf[to] += shares;
        emit Transfer(from, to, amount);
    }
}
