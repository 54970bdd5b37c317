"""Every write of the pools app, one module per sub-domain (import from the module):

- ``ingest``: bulk upsert of a source's pool list and of daily histories;
- ``stats``: our own 30-day APY mean and sigma from the snapshots;
- ``risk``: risk scores stored on pools; staff edits of protocol facts;
- ``refresh``: the hourly pool refresh and the per-pool history backfill (run by ``pools.tasks``);
- ``history_requests``: history backfills asked for by a page view or the admin (enqueue tasks);
- ``tokens``: tokens created on first mention, flagged as in use;
- ``prices``: daily token prices, the scheduled price refresh, history on demand;
- ``runs``: RefreshRun bookkeeping and the configured data source.

Settings (all optional): ``POOL_SOURCE`` ("bundled"), ``POOL_INACTIVE_AFTER_MISSES`` (3),
``POOL_SPIKE_RATIO`` (5), ``POOL_SPIKE_WINDOW_HOURS`` (5), ``POOL_PRICE_MIN_TVL_USD``
(10,000,000; see ``selectors.tokens_in_use``).
"""
