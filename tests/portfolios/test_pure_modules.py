"""The pure domain modules import no framework, directly or through another project module
(DESIGN "Layers": math and rules on plain values; the tax engine and pools may import them)."""

import ast
import importlib.util
from pathlib import Path

import pytest

PURE = [
    "portfolios.ledger",
    "portfolios.records",
    "portfolios.csvformats.common",
    "portfolios.tax.engine",
    "portfolios.explain",
    "portfolios.analytics",
    "portfolios.analytics.inputs",
    "portfolios.analytics.tranches",
    "portfolios.analytics.position",
    "portfolios.analytics.portfolio",
    "portfolios.analytics.results",
    "config.formatting",
    "portfolios.validation",
    "portfolios.csvformats.common",
    "portfolios.tax.naming",
    "portfolios.tax.fxconvert",
    "portfolios.range_preview",
    "portfolios.csvformats.detect",
    "pools.calculators.links",
    "accounts.timezones",
]
FRAMEWORKS = ("django", "rest_framework", "celery", "drf_spectacular")
PROJECT = ("portfolios", "config", "pools", "accounts", "education")


def _imports(module: str) -> set[str]:
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None, module
    tree = ast.parse(Path(spec.origin).read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(
                f"{node.module}.{a.name}"
                for a in node.names
                if importlib.util.find_spec(node.module) and _is_module(f"{node.module}.{a.name}")
            )
    return names


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


@pytest.mark.parametrize("module", PURE)
def test_a_pure_module_imports_no_framework(module):
    seen, todo = set(), [module]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        for name in _imports(current):
            assert not name.startswith(FRAMEWORKS), f"{module} imports {name} (through {current})"
            if name.startswith(PROJECT) and _is_module(name):
                todo.append(name)
    assert len(seen) >= 1
