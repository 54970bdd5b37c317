"""Every write of the wallets app, one module per sub-domain (import from the module):

* ``chains``: load chain files, a chain's effective configuration (env applied);
* ``wallets``: add, change, remove a wallet; start a sync;
* ``sync``: the sync itself (read -> records -> reconciliation);
* ``reaping``: syncs whose worker died.
"""
