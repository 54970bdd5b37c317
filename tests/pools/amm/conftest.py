"""Pure math: no database and no Django settings are needed."""

from __future__ import annotations

from decimal import localcontext

import pytest


@pytest.fixture(autouse=True)
def _clear_cache():
    """Overrides the project-wide autouse cache fixture: these tests touch no Django cache."""
    yield


@pytest.fixture(autouse=True)
def _precise_expectations():
    """Expected values in the tests are computed at 80 digits (the library uses its own context)."""
    with localcontext() as ctx:
        ctx.prec = 80
        yield
