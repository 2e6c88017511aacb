"""Demo data for `make run`: an Uku company with clients, topics and custom task fields.

The sandbox brings its own SmartAccounts companies with seeded documents; the demo key pair of the sandbox is
printed so that it can be pasted into the integration dialog.
"""

from __future__ import annotations

from typing import Any

DEMO_COMPANY = "demo-company"


def seed_demo(stack: Any) -> str:
    return "Uku company demo-company (no Uku data store yet)"
