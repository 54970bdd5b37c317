"""Wallet-sync tests. Pure decoder tests need nothing; ``chain`` tests use the
anvil rig in :mod:`tests.portfolios.wallets.rig` through the fixtures below."""

import pytest


@pytest.fixture(autouse=True)
def _clear_cache():
    """Overrides the project-wide autouse cache fixture: these tests touch no Django cache."""
    yield
