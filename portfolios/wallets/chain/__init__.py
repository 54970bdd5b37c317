"""Reading EVM chains for wallet sync. No Django anywhere in this package.

Pure decoders (stdlib only, raw integers in, typed records out):
``abi`` (word codec, topics, selectors), ``logs`` (``RawLog``), ``erc20``
(transfers, net flows, reconciliation), ``uniswap_v2`` (LP deposits and
withdrawals), ``uniswap_v3`` (positions, fees actually collected), ``growth``
(rebasing and ERC-4626 income), ``config`` (chains JSON files).

Adapters (I/O through httpx): ``rpc`` (JSON-RPC with batching, paging and
retries), ``explorer`` (Etherscan v2 ``txlist``/``txlistinternal``), ``reader``
(one wallet on one chain: logs -> typed records).
"""
