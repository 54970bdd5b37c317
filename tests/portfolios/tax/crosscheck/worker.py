"""The subprocess side of the cross-check: ``python -m tests.portfolios.tax.crosscheck.worker KIND IN OUT``.

Runs rp2 or BittyTax as a library on the JSON payload in IN and writes the
result to OUT.  The parent (``compare._run_worker``) starts it in a fresh
temporary working directory with HOME pointing there: rp2 writes logs to
./log, BittyTax reads ~/.bittytax/bittytax.conf, and both change the
process-wide decimal context, which the subprocess keeps away from us.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .to_bittytax import bittytax_worker
from .to_rp2 import rp2_worker


def main(argv: list[str]) -> int:
    kind, src, dst = argv
    payload = json.loads(Path(src).read_text())
    result = rp2_worker(payload) if kind == "rp2" else bittytax_worker(payload)
    Path(dst).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
