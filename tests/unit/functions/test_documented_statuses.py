"""Every route answers only statuses its operation in docs/openapi.json lists (README: "for every operation, each
status it can answer"), also when SmartAccounts fails, the integration is disabled or not connected.

Each sample request of `events/http_api/` (one per operation, plus `refreshPayment=true` on the export record) is
sent to the resolver with every route, in worlds where each call to SmartAccounts fails with each error kind, where
the company's integration is disabled, and where no credentials are saved; the export record of the sample invoice
is EXPORTED and awaiting payment (so `refreshPayment` calls SmartAccounts) or FAILED (so a retry is accepted). The
answer's status must be one of the operation's documented responses, and never 500 (a 500 is documented
everywhere, so it would hide a failure the service should have explained).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import api_docs
import pytest

from local_stack.front import LambdaContext
from smartaccounts_sync.domain.identifiers import IDENTIFIER_PATTERN
from smartaccounts_sync.domain.integration import CompanyIntegration, Connection, ConnectionStatus, StoredCredentials
from smartaccounts_sync.domain.invoice_export import ExportRecord, ExportStatus, SmartAccountsInvoice
from smartaccounts_sync.domain.invoice_issued import InvoiceIssued
from smartaccounts_sync.service.dependencies import Dependencies
from smartaccounts_sync.smartaccounts.errors import ErrorKind, SmartAccountsError
from smartaccounts_sync.smartaccounts.models import ApiCredentials
from tests.support.events import EVENTS, load_event
from tests.support.fakes import in_memory_dependencies
from tests.support.invoices import invoice_detail

DOCUMENT = json.loads((Path(__file__).resolve().parents[3] / "docs" / "openapi.json").read_text(encoding="utf-8"))
COMPANY = "demo-company"
NOW = dt.datetime(2026, 11, 24, 10, tzinfo=dt.UTC)


class FailingClient:
    """A SmartAccounts client each of whose calls fails with one error kind."""

    calls_made = 0

    def __init__(self, kind: ErrorKind) -> None:
        self.kind = kind

    def __getattr__(self, name: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            raise SmartAccountsError(self.kind, f"fake {self.kind.value}", retry_after=30)

        return call


def _requests() -> list[tuple[str, dict[str, Any]]]:
    samples = []
    for path in sorted((EVENTS / "http_api").glob("*.json")):
        event = load_event("http_api", path.stem)
        if event["rawPath"].startswith("/v1/"):
            samples.append((path.stem, event))
    refresh = load_event("http_api", "invoice-export-get")
    refresh["rawQueryString"] = "refreshPayment=true"
    refresh["queryStringParameters"] = {"refreshPayment": "true"}
    samples.append(("invoice-export-get-refresh-payment", refresh))
    return samples


def _world(kind: ErrorKind, *, enabled: bool, connected: bool, export: ExportStatus) -> Dependencies:
    deps = in_memory_dependencies(smartaccounts=lambda credentials, company=None: FailingClient(kind), now=lambda: NOW)
    credentials = None
    if connected:
        name = deps.secret_name(COMPANY)
        deps.credentials.save(name, ApiCredentials(api_key="key", api_secret="secret"))
        credentials = StoredCredentials(secret_name=name, masked_key="…", saved_at=NOW)
    deps.integrations.save(
        CompanyIntegration(
            company_id=COMPANY,
            enabled=enabled,
            credentials=credentials,
            connection=Connection(status=ConnectionStatus.CONNECTED if connected else ConnectionStatus.NOT_CONNECTED),
        )
    )
    invoice = InvoiceIssued.model_validate(invoice_detail(COMPANY, invoiceId="inv-1"))
    deps.exports.save(
        ExportRecord(
            company_id=COMPANY,
            invoice_id="inv-1",
            number=invoice.number,
            kind=invoice.kind,
            status=export,
            smartaccounts=SmartAccountsInvoice(invoice_id="sa-1") if export is ExportStatus.EXPORTED else None,
            invoice=invoice,
            created_at=NOW,
            updated_at=NOW,
        )
    )
    return deps


EXPORTED, FAILED = ExportStatus.EXPORTED, ExportStatus.FAILED
WORLDS = {
    **{
        f"smartaccounts-{kind.value}": {"kind": kind, "enabled": True, "connected": True, "export": EXPORTED}
        for kind in ErrorKind
    },
    "disabled": {"kind": ErrorKind.UNAVAILABLE, "enabled": False, "connected": True, "export": EXPORTED},
    "not-connected": {"kind": ErrorKind.UNAVAILABLE, "enabled": True, "connected": False, "export": FAILED},
}


@pytest.mark.parametrize("world", list(WORLDS))
def test_every_sample_request_answers_a_documented_status(world: str) -> None:
    undocumented = []
    for name, event in _requests():
        deps = _world(**WORLDS[world])
        operation = DOCUMENT["paths"][event["routeKey"].split(" ", 1)[1]][event["routeKey"].split(" ", 1)[0].lower()]
        answer = api_docs.lambda_handler(event, LambdaContext("ApiDocsFunction", 29), deps=deps)
        status = answer["statusCode"]
        if str(status) not in operation["responses"] or status == 500:
            undocumented.append(f"{name}: {status} {answer.get('body', '')[:200]}")
    assert not undocumented, "\n".join(undocumented)


def test_every_id_in_a_path_is_documented_with_the_identifier_pattern() -> None:
    """docs/security.md: routes annotate path ids with `IdPath`, so OpenAPI publishes the pattern the edge checks."""
    undocumented = [
        f"{method.upper()} {path} {parameter['name']}"
        for path, operations in DOCUMENT["paths"].items()
        for method, operation in operations.items()
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "path"
        and parameter["name"].endswith("Id")
        and parameter["schema"].get("pattern") != IDENTIFIER_PATTERN
    ]
    assert not undocumented
