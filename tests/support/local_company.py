"""A configured Uku company on the local stack (fresh company and sandbox key per test, set up over HTTP), and the
oracle: every catalogue field computed from the sandbox's raw documents, independently of the product's code."""

from __future__ import annotations

import calendar
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from uuid import uuid4

import requests

TIMEOUT = 60
INTEGRATION = "/v1/integrations/smartaccounts"
ALL_FIELDS = (
    "saleEntries",
    "purchaseEntries",
    "bankEntries",
    "documents",
    "creditInvoices",
    "cashEntries",
    "salesTotal",
    "purchasesTotal",
    "manualEntries",
    "salesVatTotal",
    "bankTurnover",
)


@dataclass
class Company:
    stack: Any
    id: str
    token: str
    api_key: str
    api_secret: str
    fields: dict[str, str] = field(default_factory=dict)  # SmartAccounts key -> custom task field id
    clients: dict[str, str] = field(default_factory=dict)  # SmartAccounts company id -> Uku client id

    def call(self, method: str, path: str, expect: int | None = 200, **kwargs: Any) -> Any:
        response = requests.request(
            method,
            self.stack.api_url + path,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=TIMEOUT,
            **kwargs,
        )
        if expect is not None:
            assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else None

    def tasks(self, sa_company: str, first: str, last: str) -> dict[str, dict]:
        body = self.call(
            "GET", f"/v1/clients/{self.clients[sa_company]}/summary-tasks", params={"from": first, "to": last}
        )
        return {task["month"]: task for task in body["tasks"]}

    def history(self, sa_company: str) -> list[dict]:
        return self.call("GET", f"/v1/clients/{self.clients[sa_company]}/sync-history")["entries"]

    def state(self) -> dict:
        return self.call("GET", INTEGRATION)


class Admin:
    def __init__(self, url: str) -> None:
        self.url = url

    def get(self, path: str, **params: Any) -> Any:
        response = requests.get(f"{self.url}/{path}", params=params, timeout=TIMEOUT)
        response.raise_for_status()
        return response.json()

    def post(self, path: str, body: Any = None) -> Any:
        response = requests.post(f"{self.url}/{path}", json=body if body is not None else {}, timeout=TIMEOUT)
        response.raise_for_status()
        return response.json()

    def new_key(self, *companies: str) -> tuple[str, str]:
        created = self.post("keys", {"companyIds": list(companies)})
        return created["apiKey"], created["apiSecret"]

    def calls_by_endpoint(self, api_key: str) -> dict[str, int]:
        return self.get("requests/counts")["byKeyAndEndpoint"].get(api_key, {})


def company_factory(stack, admin: Admin) -> Callable[..., Company]:
    """Enable, save a fresh key, topic, one custom field per mapped key, settings, one linked client per SA company."""

    def make(sa_companies: list[str], mapped: tuple[str, ...] = ALL_FIELDS, rule: str = "LAST_WORK_DAY") -> Company:
        company_id = f"co-{uuid4().hex[:8]}"
        api_key, api_secret = admin.new_key(*sa_companies)
        company = Company(stack, company_id, stack.token(company_id, "owner", "team"), api_key, api_secret)
        company.call("POST", f"{INTEGRATION}/enable")
        company.call("PUT", f"{INTEGRATION}/credentials", json={"apiKey": api_key, "apiSecret": api_secret})
        topic = company.call("POST", "/v1/topics", expect=201, json={"name": "Bookkeeping"})
        kinds = {f["key"]: f["kind"] for f in company.call("GET", f"{INTEGRATION}/fields")["fields"]}
        for key in mapped:
            kind = "number" if kinds[key] == "count" else "currency"
            created = company.call("POST", "/v1/custom-task-fields", expect=201, json={"name": key, "type": kind})
            company.fields[key] = created["id"]
        company.call(
            "PUT",
            f"{INTEGRATION}/settings",
            json={
                "taskTitle": "{client}: bookkeeping {monthName} {year}",
                "topicId": topic["id"],
                "recurrence": "MONTHLY",
                "importDay": {"rule": rule},
                "fieldMapping": {key: company.fields.get(key) for key in kinds},
            },
        )
        for sa_company in sa_companies:
            client = company.call("POST", "/v1/clients", expect=201, json={"name": f"Client of {sa_company}"})
            company.call(
                "PUT",
                f"/v1/clients/{client['id']}/integration",
                json={"integration": "smartaccounts", "companyId": sa_company},
            )
            company.clients[sa_company] = client["id"]
        # The owner made the changes above: the service keeps them as the assignee of default-less clients.
        assert company.call("GET", "/v1/notifications")["notifications"] == []
        return company

    return make


# ---------------------------------------------------------------- the oracle: raw documents, computed here
def _d(value: Any) -> Decimal:
    return Decimal(str(value))


def expected_month(admin: Admin, sa_company: str, month: str) -> dict[str, Decimal]:
    """Every catalogue field of one month, from the sandbox's raw documents (independent of the product's code)."""
    year, mon = (int(p) for p in month.split("-"))
    first = f"{month}-01"
    last_day = calendar.monthrange(year, mon)[1]
    last = f"{month}-{last_day:02d}"

    def docs(kind: str) -> list[dict]:
        return admin.get(
            f"companies/{sa_company}/documents", kind=kind, dateFrom=first, dateTo=last, fetchRows="false"
        )["documents"]

    sales, purchases, payments, entries = (
        docs("clientinvoices"),
        docs("vendorinvoices"),
        docs("payments"),
        docs("entries"),
    )
    credit = [s for s in sales if s["type"] == "CRE"]
    invoices = [s for s in sales if s["type"] != "CRE"]
    bank = [p for p in payments if p["accountType"] == "BANK"]
    cash = [p for p in payments if p["accountType"] == "CASH"]
    from_documents = {"CLIENT_INVOICE", "VENDOR_INVOICE", "PAYMENT"}
    return {
        "saleEntries": Decimal(len(sales)),
        "creditInvoices": Decimal(len(credit)),
        "salesTotal": sum((_d(s["amount"]) for s in invoices), Decimal(0))
        - sum((abs(_d(s["amount"])) for s in credit), Decimal(0)),
        "salesVatTotal": sum((_d(s["vatAmount"]) for s in invoices), Decimal(0))
        - sum((abs(_d(s["vatAmount"])) for s in credit), Decimal(0)),
        "purchaseEntries": Decimal(len(purchases)),
        "purchasesTotal": sum(
            (-abs(_d(p["amount"])) if p["type"] == "CRE" else _d(p["amount"]) for p in purchases), Decimal(0)
        ),
        "bankEntries": Decimal(len(bank)),
        "cashEntries": Decimal(len(cash)),
        "bankTurnover": sum((abs(_d(p["amount"])) for p in bank), Decimal(0)),
        "documents": Decimal(sum(1 for e in entries if e["docType"] not in from_documents)),
        "manualEntries": Decimal(sum(1 for e in entries if e["docType"] == "LEDGER_ENTRY")),
    }


def assert_task_matches(company: Company, task: dict, expected: dict[str, Decimal], mapped: tuple[str, ...]) -> None:
    for key in mapped:
        got = Decimal(json.dumps(task["fieldValues"][company.fields[key]]))
        assert got == expected[key].quantize(Decimal("0.01")), f"{task['month']} {key}: {got} != {expected[key]}"
        assert Decimal(json.dumps(task["values"][key])) == got
