"""Cross-check the tax engine's totals against rp2 (US) and BittyTax (UK), to the cent.

    .venv/bin/python -m benchmarks.tax_crosscheck [--transactions 600] [--seed 7]

The comparison itself (ledger generator, the mapping to each tool, the
by-design differences) lives with the tests that run it, in
tests/portfolios/tax/crosscheck/; this is its command-line entry point.
"""

from __future__ import annotations

from tests.portfolios.tax.crosscheck.compare import main

if __name__ == "__main__":
    raise SystemExit(main())
