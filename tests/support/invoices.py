"""`InvoiceIssued` details for tests, and a firm on the local stack whose own SmartAccounts company is fresh and
empty (so every invoice in it was booked by the test)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import boto3

from local_stack.net import REGION
from smartaccounts_sync.domain.months import tallinn_today
from tests.support.local_company import INTEGRATION, Admin, Company


def issue_invoice(moto_url: str, detail: dict[str, Any], times: int = 1) -> None:
    """Uku's billing publishes InvoiceIssued on its bus (boto3 put_events against the moto server)."""
    events = boto3.client("events", endpoint_url=moto_url, region_name=REGION)
    for _ in range(times):
        answer = events.put_events(
            Entries=[
                {
                    "Source": "uku.billing",
                    "DetailType": "InvoiceIssued",
                    "Detail": json.dumps(detail),
                    "EventBusName": "default",
                }
            ]
        )
        assert answer["FailedEntryCount"] == 0


def invoice_detail(company_id: str, **overrides: Any) -> dict[str, Any]:
    """A valid invoice of two lines (one with its own article, one for the default article), 477.40 EUR."""
    today = tallinn_today().isoformat()
    tag = uuid4().hex[:8]
    detail: dict[str, Any] = {
        "companyId": company_id,
        "clientId": f"cl-{tag}",
        "invoiceId": f"inv-{tag}",
        "number": f"T-{tag}",
        "kind": "invoice",
        "originalInvoiceId": None,
        "buyer": {
            "name": f"Kask ja Kuusk {tag} OÜ",
            "registryCode": f"9{int(tag, 16) % 10**7:07d}",
            "vatNumber": None,
            "address": {"country": "EE", "city": "Tallinn", "address1": "Pärnu mnt 10", "postalCode": "10148"},
            "email": "arved@example.ee",
        },
        "issueDate": today,
        "dueDate": today,
        "currency": "EUR",
        "lines": [
            {
                "description": "Monthly bookkeeping",
                "quantity": 1,
                "unit": "month",
                "unitPrice": "250.00",
                "vatTypeCode": "VAT24",
                "articleCode": "SERVICE",
            },
            {
                "description": "Consultation",
                "quantity": "2.5",
                "unit": "h",
                "unitPrice": "60.00",
                "discountPercent": "10",
                "vatTypeCode": "VAT24",
            },
        ],
        "totals": {"net": "385.00", "vat": "92.40", "gross": "477.40"},
    }
    detail.update(overrides)
    return detail


def credit_detail(original: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    tag = uuid4().hex[:8]
    detail = {
        **original,
        "invoiceId": f"cre-{tag}",
        "number": f"C-{tag}",
        "kind": "credit",
        "originalInvoiceId": original["invoiceId"],
        "lines": [
            {"description": "Consultation not used", "quantity": 1, "unitPrice": "54.00", "vatTypeCode": "VAT24"}
        ],
        "totals": {"net": "54.00", "vat": "12.96", "gross": "66.96"},
    }
    detail.update(overrides)
    return detail


@dataclass
class Firm:
    """An Uku company (the accounting firm) exporting into its own fresh SmartAccounts company."""

    company: Company
    admin: Admin
    sa_company: str

    @property
    def id(self) -> str:
        return self.company.id

    def issue(self, detail: dict[str, Any], times: int = 1) -> None:
        """Uku's billing publishes InvoiceIssued on its bus, as in AWS (boto3 put_events)."""
        issue_invoice(self.company.stack.moto_url, detail, times)

    def export(self, invoice_id: str, expect: int = 200, **params: Any) -> dict:
        return self.company.call("GET", f"/v1/invoices/{invoice_id}/export", expect=expect, params=params)

    def booked(self) -> list[dict]:
        """Every invoice in the firm's SmartAccounts company, read from the sandbox over HTTP."""
        return self.admin.get(f"companies/{self.sa_company}/created-invoices")["invoices"]

    def created_buyers(self) -> list[dict]:
        return self.admin.get(f"companies/{self.sa_company}/created-clients")["clients"]

    def calls(self) -> dict[str, int]:
        return self.admin.calls_by_endpoint(self.company.api_key)


def firm_factory(stack, admin: Admin):
    def make(locked_until: str | None = None, default_article: str | None = "SERVICE") -> Firm:
        tag = uuid4().hex[:8]
        sa = admin.post(
            "companies",
            {
                "id": f"co-firm-{tag}",
                "name": f"Firm {tag} OÜ",
                "volume": "none",
                **({"lockedUntil": locked_until} if locked_until else {}),
            },
        )
        company_id = f"co-{tag}"
        api_key, api_secret = admin.new_key(sa["id"])
        company = Company(stack, company_id, stack.token(company_id, "owner", "team"), api_key, api_secret)
        company.call("POST", f"{INTEGRATION}/enable")
        company.call("PUT", f"{INTEGRATION}/credentials", json={"apiKey": api_key, "apiSecret": api_secret})
        topic = company.call("POST", "/v1/topics", expect=201, json={"name": "Bookkeeping"})
        company.call(
            "PUT",
            f"{INTEGRATION}/settings",
            json={
                "taskTitle": "{client}: bookkeeping {monthName} {year}",
                "topicId": topic["id"],
                "recurrence": "MONTHLY",
                "importDay": {"rule": "LAST_WORK_DAY"},
                "fieldMapping": {},
                "defaultArticleCode": default_article,
            },
        )
        return Firm(company, admin, sa["id"])

    return make
