"""Portfolios models, as a package.

``core.py`` holds portfolios, positions, transactions and legs, amount
overrides and daily snapshots. Tax models (reports and their cache) go in
``tax.py``; it is imported here when it exists.
"""

from .core import *  # noqa: F403

try:  # tax models go in tax.py (added by the tax-report work)
    from .tax import *  # noqa: F403
except ModuleNotFoundError as exc:  # pragma: no cover - until tax.py exists
    if exc.name != f"{__name__}.tax":
        raise
