"""Signals the pools app sends so that other apps can react without pools importing them.

``pools_refreshed``: after a pool refresh succeeded. ``pool_ids``: the pools whose
metrics or statistics changed; ``rescored_all``: the daily full risk pass ran (any
pool's grade may have moved).
``prices_refreshed``: after a price refresh succeeded. ``token_ids``: tokens with a
new price row or value.
Receivers run in the refresh's process; they should only enqueue work (on commit).
"""

from django.dispatch import Signal

pools_refreshed = Signal()
prices_refreshed = Signal()
