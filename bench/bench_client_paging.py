"""The SmartAccounts client paging through a large company's month against the sandbox over HTTP.

Prints requests, pages, documents, wall time and peak memory for one month of `co-large` client invoices and
journal entries (thousands of documents, 100 per page) - the shape of one client's import.
"""

from __future__ import annotations

import datetime as dt

import requests

from bench._util import measure
from sa_sandbox.server import SandboxServer
from smartaccounts_sync.smartaccounts.client import SmartAccountsClient
from smartaccounts_sync.smartaccounts.models import ApiCredentials

MONTH_FROM, MONTH_TO = dt.date(2026, 9, 1), dt.date(2026, 9, 30)


def main() -> None:
    sandbox = SandboxServer(host="127.0.0.1", port=0, seed=42).start()
    try:
        requests.put(f"{sandbox.admin_url}/quota", json={"perMinute": 100_000, "perDay": 100_000}, timeout=5)
        pair = requests.post(f"{sandbox.admin_url}/keys", json={"companyIds": ["co-large"]}, timeout=5).json()
        credentials = ApiCredentials(api_key=pair["apiKey"], api_secret=pair["apiSecret"])
        client = SmartAccountsClient(credentials, base_url=sandbox.api_url, connect_timeout=3, read_timeout=60)
        client.client_invoices(MONTH_FROM, MONTH_TO)  # warm the sandbox's generator cache
        client.journal_entries(MONTH_FROM, MONTH_TO)
        before = client.calls_made

        def one_import() -> int:
            return len(client.client_invoices(MONTH_FROM, MONTH_TO)) + len(client.journal_entries(MONTH_FROM, MONTH_TO))

        documents, seconds, peak = measure(one_import, repeat=3)
        calls = (client.calls_made - before) // 3
        print(f"client paging: co-large, {MONTH_FROM:%Y-%m}, client invoices + journal entries")
        print(f"  {documents} documents in {calls} requests (100 a page)")
        rate = f"{calls / seconds:.0f} requests/s, {documents / seconds:,.0f} documents/s"
        print(f"  best of 3: {seconds:.2f} s  ({rate})")
        print(f"  peak memory allocated per import: {peak / 1024:.1f} MiB")
    finally:
        sandbox.stop()


if __name__ == "__main__":
    main()
