"""Invoice export against the sandbox over HTTP: SmartAccounts requests per exported invoice (first invoice of a
buyer, later ones), wall time per invoice, and the paid-status run's requests for all of them.

Storage is in memory (the DynamoDB calls are not what is measured); SmartAccounts is the sandbox.
"""

from __future__ import annotations

import datetime as dt
import time
from uuid import uuid4

import requests

from sa_sandbox.server import SandboxServer
from smartaccounts_sync.domain.integration import (
    CompanyIntegration,
    Connection,
    ConnectionStatus,
    ImportDay,
    StoredCredentials,
    SummaryTaskSettings,
)
from smartaccounts_sync.domain.invoice_issued import parse_invoice_issued
from smartaccounts_sync.observability import logger
from smartaccounts_sync.service import invoice_export, payment_status
from smartaccounts_sync.smartaccounts.client import SmartAccountsClient
from smartaccounts_sync.smartaccounts.models import ApiCredentials
from tests.support.fakes import in_memory_dependencies

CLIENTS, INVOICES_PER_CLIENT = 10, 5
COMPANY = "bench-firm"


def main() -> None:
    logger.setLevel("WARNING")  # one line per SmartAccounts call is noise here
    sandbox = SandboxServer(host="127.0.0.1", port=0, seed=42).start()
    try:
        admin = sandbox.admin_url
        requests.put(f"{admin}/quota", json={"perMinute": 100_000, "perDay": 100_000}, timeout=5)
        requests.post(f"{admin}/companies", json={"id": "co-bench", "name": "Bench OÜ", "volume": "none"}, timeout=5)
        pair = requests.post(f"{admin}/keys", json={"companyIds": ["co-bench"]}, timeout=5).json()
        credentials = ApiCredentials(api_key=pair["apiKey"], api_secret=pair["apiSecret"])
        clients: list[SmartAccountsClient] = []

        def factory(creds: ApiCredentials, company: str | None = None) -> SmartAccountsClient:
            client = SmartAccountsClient(creds, base_url=sandbox.api_url, connect_timeout=3, read_timeout=30)
            clients.append(client)
            return client

        deps = in_memory_dependencies(smartaccounts=factory)
        secret_name = deps.secret_name(COMPANY)
        deps.credentials.save(secret_name, credentials)
        now = dt.datetime.now(dt.UTC)
        deps.integrations.save(
            CompanyIntegration(
                company_id=COMPANY,
                enabled=True,
                credentials=StoredCredentials(secret_name=secret_name, masked_key="…", saved_at=now),
                connection=Connection(status=ConnectionStatus.CONNECTED),
                settings=SummaryTaskSettings(
                    task_title="t", topic_id="t", import_day=ImportDay.last_work_day(), default_article_code="SERVICE"
                ),
            )
        )
        first_calls, later_calls, seconds = [], [], []
        for c in range(CLIENTS):
            for n in range(INVOICES_PER_CLIENT):
                detail = _invoice(f"cl-{c}", f"Buyer {c} OÜ", f"8{c:07d}")
                before = sum(x.calls_made for x in clients)
                started = time.perf_counter()
                record = invoice_export.export_invoice(deps, parse_invoice_issued(detail))
                seconds.append(time.perf_counter() - started)
                assert record.status.value == "EXPORTED", record
                (first_calls if n == 0 else later_calls).append(sum(x.calls_made for x in clients) - before)
        total = CLIENTS * INVOICES_PER_CLIENT
        before = sum(x.calls_made for x in clients)
        run = payment_status.refresh_company(deps, COMPANY)
        status_calls = sum(x.calls_made for x in clients) - before
        print(f"invoice export: {total} invoices, {CLIENTS} buyers, against the sandbox over HTTP")
        print(
            f"  requests per invoice: first of a buyer {sum(first_calls) / len(first_calls):.1f}, "
            f"later {sum(later_calls) / len(later_calls):.1f} (the first export also imports the VAT register)"
        )
        print(f"  wall time per invoice: mean {sum(seconds) / total * 1000:.0f} ms, max {max(seconds) * 1000:.0f} ms")
        print(f"  paid-status run: {run.checked} invoices checked in {status_calls} request(s)")
    finally:
        sandbox.stop()


def _invoice(client_id: str, name: str, reg: str) -> dict:
    today = dt.date.today().isoformat()
    tag = uuid4().hex[:8]
    return {
        "companyId": COMPANY,
        "clientId": client_id,
        "invoiceId": f"inv-{tag}",
        "number": f"B-{tag}",
        "kind": "invoice",
        "buyer": {"name": name, "registryCode": reg},
        "issueDate": today,
        "dueDate": today,
        "lines": [{"description": "Bookkeeping", "quantity": 1, "unitPrice": "100", "vatTypeCode": "VAT24"}],
        "totals": {"net": "100.00", "vat": "24.00", "gross": "124.00"},
    }


if __name__ == "__main__":
    main()
