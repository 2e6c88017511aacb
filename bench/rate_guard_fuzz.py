"""The rate guard's adversarial fuzzer over many seeds (the engine: ``tests/support/rate_guard_fuzz.py``).

PYTHONPATH=.:layers/shared .venv/bin/python -m bench.rate_guard_fuzz --seeds 2000
... --ambiguous    # DynamoDB writes may also apply and then lose their answer
... --check-fake 6 # replays 6 seeds on moto too and compares every DynamoDB answer with the fake's
"""

from __future__ import annotations

import sys

from tests.support.rate_guard_fuzz import main

if __name__ == "__main__":
    sys.exit(main())
