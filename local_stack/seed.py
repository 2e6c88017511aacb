"""Demo data for `make run`: an Uku company with an owner, clients, topics and custom task fields.

The sandbox brings its own SmartAccounts companies with seeded documents; its firm-level key pair (printed by
`make run`) is what to paste into the integration dialog to try the whole flow.
"""

from __future__ import annotations

from typing import Any

from smartaccounts_sync.domain.uku import UkuClient
from smartaccounts_sync.service.dependencies import Dependencies
from smartaccounts_sync.settings import load_settings

DEMO_COMPANY = "demo-company"
DEMO_OWNER = "user-demo-owner"
DEMO_CLIENTS = (
    UkuClient(id="client-small", name="Väike Raamatupidamine OÜ", registry_code="16000002"),
    UkuClient(id="client-medium", name="Keskmine Kaubandus AS", registry_code="10000003"),
    UkuClient(id="client-large", name="Suur Logistika AS", registry_code="10000004"),
    UkuClient(id="client-empty", name="Tühi Holding OÜ", registry_code="16000001"),
)
DEMO_TOPICS = ("Monthly accounting", "Payroll")
DEMO_FIELDS = (
    ("Sale entries", "number"),
    ("Purchase entries", "number"),
    ("Bank entries", "number"),
    ("Documents", "number"),
    ("Sales total", "currency"),
    ("Notes", "text"),
)


def seed_demo(stack: Any) -> str:
    """Creates the demo Uku company's data through the same store the API uses; safe to run once per start."""
    deps = Dependencies.from_settings(load_settings())
    uku = deps.uku
    for client in DEMO_CLIENTS:
        uku.create_client(DEMO_COMPANY, client)
    for topic in DEMO_TOPICS:
        uku.create_topic(DEMO_COMPANY, topic)
    for name, kind in DEMO_FIELDS:
        uku.create_custom_field(DEMO_COMPANY, name, kind)
    uku.set_company_owner(DEMO_COMPANY, DEMO_OWNER)
    return (
        f"Uku company {DEMO_COMPANY}: {len(DEMO_CLIENTS)} clients, {len(DEMO_TOPICS)} topics, "
        f"{len(DEMO_FIELDS)} custom task fields. SmartAccounts sandbox key pair: demo-firm-key / demo-firm-secret "
        "(the demo accounting firm; it sees the demo client companies)"
    )
