"""Portfolios models, as a package.

``core.py`` holds portfolios, positions, transactions and legs, amount
overrides and daily snapshots. Tax reports are models of the ``tax`` app
(``portfolios/tax/models.py``).
"""

from .core import *  # noqa: F403
