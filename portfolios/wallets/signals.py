"""Signals the wallets app sends so that other apps can react without wallets importing them.

``wallet_synced``: after a wallet sync finished (done or failed: a failed run may still have
written the chains that succeeded). ``portfolio_id``: the wallet's portfolio; ``pool_ids``:
the pools of that portfolio's positions (a range or a stablecoin may have moved with the
positions the sync wrote). Receivers run in the sync's process and should only enqueue work.
"""

from django.dispatch import Signal

wallet_synced = Signal()
