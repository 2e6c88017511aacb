"""The template's IAM, read as documents: each function may do only what its concern uses, and secrets are reachable
only through the tenant roles, only for the company in the session tag."""

from __future__ import annotations

import importlib
import re
from typing import Any

import pytest

from local_stack.template import Template
from smartaccounts_sync.api.app import build_app

TEMPLATE = Template()
FUNCTIONS = TEMPLATE.of_type("AWS::Serverless::Function")
HTTP_FUNCTIONS = sorted({route.function for route in TEMPLATE.http_routes()})
SAME_COMPANY = "${aws:PrincipalTag/companyId}"


def _policies(function: str) -> list[Any]:
    return FUNCTIONS[function]["Properties"].get("Policies") or []


def _statements(function: str) -> list[dict[str, Any]]:
    return [s for p in _policies(function) if isinstance(p, dict) and "Statement" in p for s in p["Statement"]]


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return action if isinstance(action, list) else [action]


def _templates(function: str) -> set[str]:
    """The SAM policy templates a function uses, with the resource each names (e.g. DynamoDBReadPolicy:JobsTable)."""
    out = set()
    for policy in _policies(function):
        for name, args in policy.items():
            if name == "Statement":
                continue
            target = next(iter(args.values()))
            ref = target.get("Ref") or target.get("Fn::GetAtt", [None])[0]
            out.add(f"{name}:{ref}")
    return out


def test_the_http_routes_are_split_by_concern() -> None:
    routes = {route.route_key: route.function for route in TEMPLATE.http_routes()}
    assert routes["PUT /v1/integrations/smartaccounts/credentials"] == "ConnectionApiFunction"
    assert routes["GET /v1/integrations/smartaccounts/diagnostics"] == "ConnectionApiFunction"
    assert routes["GET /v1/integrations/smartaccounts/vat-types"] == "ConnectionApiFunction"
    assert routes["PUT /v1/clients/{clientId}/integration"] == "ClientLinkApiFunction"
    assert routes["GET /v1/integrations/smartaccounts/companies"] == "ClientLinkApiFunction"
    assert routes["POST /v1/integrations/smartaccounts/reload"] == "ReloadApiFunction"
    assert routes["GET /v1/reload-jobs/{jobId}"] == "ReloadApiFunction"
    assert routes["GET /v1/clients/{clientId}/summary-tasks"] == "ReadApiFunction"
    assert routes["GET /v1/topics"] == "ReadApiFunction"
    assert routes["POST /v1/invoices/{invoiceId}/export/retry"] == "InvoiceExportApiFunction"
    assert routes["GET /openapi.json"] == "ApiDocsFunction"


@pytest.mark.parametrize("route", TEMPLATE.http_routes(), ids=lambda r: r.route_key)
def test_each_function_resolves_every_route_the_template_sends_it(route) -> None:
    module, attribute = FUNCTIONS[route.function]["Properties"]["Handler"].split(".")
    app = build_app(getattr(importlib.import_module(module), attribute).concern)
    path = re.sub(r"\{[^}]+\}", "x-1", route.path)
    routes = app._static_routes + app._dynamic_routes
    resolvable = [r for r in routes if r.method == route.method and r.rule.match(path)]
    assert resolvable, f"{route.function} cannot answer {route.route_key}"


@pytest.mark.parametrize("function", list(FUNCTIONS))
def test_no_function_touches_a_secret_with_its_own_role(function: str) -> None:
    for statement in _statements(function):
        assert not any(a.startswith("secretsmanager:") for a in _actions(statement)), statement
    assert not any(name.startswith("AWSSecretsManager") for name in _templates(function))


def test_only_the_functions_that_use_secrets_may_assume_a_tenant_role() -> None:
    assumers = {}
    for function in FUNCTIONS:
        for statement in _statements(function):
            if "sts:AssumeRole" in _actions(statement):
                assert set(_actions(statement)) == {"sts:AssumeRole", "sts:TagSession"}
                assumers[function] = statement["Resource"]["Fn::Sub"].split("-tenant-", 1)[-1]
    assert assumers == {
        "ConnectionApiFunction": "secrets-writer",
        "ClientLinkApiFunction": "secrets-writer",
        "ImportWorkerFunction": "secrets-reader",
        "InvoiceExportFunction": "company-key-reader",  # the firm's company key, to export invoices
        "InvoiceExportApiFunction": "company-key-reader",  # the paid status fetched on demand
        "DailyRefreshFunction": "company-key-reader",  # VAT types and paid status every morning
    }


#: The functions whose invocations publish events (docs/events.md), with what they publish: each may put events on the
#: service bus, and no other may. moto does not enforce IAM, so the local stack and the integration tests would not
#: notice a publisher without the permission: on AWS its `PutEvents` is denied, the event lost and
#: `EventsNotPublished` raised.
PUBLISHERS = {
    # saving credentials and the connection test: ConnectionRestored, ConnectionFailing (service/connection.py)
    "ConnectionApiFunction",
    # SummaryTaskUpdated, ReloadCompleted, ConnectionFailing/Restored (monthly_import, summary_tasks, reload)
    "ImportWorkerFunction",
    # InvoiceExported, InvoiceExportFailed, ConnectionFailing (service/invoice_export.py)
    "InvoiceExportFunction",
    # an export retried (InvoiceExported/Failed) and a paid status fetched (InvoicePaymentStatusChanged)
    "InvoiceExportApiFunction",
    # paid statuses refreshed every morning: InvoicePaymentStatusChanged (service/payment_status.py)
    "DailyRefreshFunction",
}


def test_exactly_the_functions_that_publish_events_may_put_them_on_the_service_bus() -> None:
    may_publish = {f for f in FUNCTIONS if "EventBridgePutEventsPolicy:ServiceBus" in _templates(f)}
    assert may_publish == PUBLISHERS
    for function in FUNCTIONS:
        for statement in _statements(function):
            assert not any(a.startswith("events:") for a in _actions(statement)), (function, statement)


@pytest.mark.parametrize("role", ["TenantSecretsReaderRole", "TenantSecretsWriterRole"])
def test_a_tenant_role_reaches_only_secrets_tagged_with_the_session_company(role: str) -> None:
    props = TEMPLATE.resources[role]["Properties"]
    # assumed only with a company session tag
    for trust in props["AssumeRolePolicyDocument"]["Statement"]:
        assert set(trust["Action"]) == {"sts:AssumeRole", "sts:TagSession"}
        assert trust["Condition"]["StringLike"]["aws:RequestTag/companyId"] == "?*"
    statements = [s for p in props["Policies"] for s in p["PolicyDocument"]["Statement"]]
    for statement in statements:
        assert statement["Effect"] == "Allow"
        actions = _actions(statement)
        if not any(a.startswith("secretsmanager:") for a in actions):
            assert actions and all(a.startswith("kms:") for a in actions)
            assert "kms:ViaService" in statement["Condition"]["StringEquals"]
            continue
        assert "uku-smartaccounts/${Stage}/*" in statement["Resource"]["Fn::Sub"]
        condition = statement["Condition"]
        if actions == ["secretsmanager:CreateSecret"]:
            assert condition["StringEquals"] == {"aws:RequestTag/companyId": SAME_COMPANY}
            assert condition["ForAllValues:StringEquals"]["aws:TagKeys"] == ["service", "companyId"]
        elif actions == ["secretsmanager:TagResource"]:
            # neither re-tag another company's secret nor tag one with another company
            assert condition["StringEquals"] == {"aws:RequestTag/companyId": SAME_COMPANY}
            assert condition["StringEqualsIfExists"] == {"secretsmanager:ResourceTag/companyId": SAME_COMPANY}
        else:
            assert condition == {"StringEquals": {"secretsmanager:ResourceTag/companyId": SAME_COMPANY}}
        assert "secretsmanager:UntagResource" not in actions and "secretsmanager:*" not in actions
    granted = {a for s in statements for a in _actions(s) if a.startswith("secretsmanager:")}
    if role == "TenantSecretsReaderRole":
        assert granted == {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}


def test_queues_are_written_only_by_the_functions_that_queue() -> None:
    senders = {
        f: {t.split(":")[1] for t in _templates(f) if t.startswith("SQSSendMessagePolicy")} for f in FUNCTIONS
    }
    # the API queues retries; the export worker puts back a credit invoice still waiting for its original
    exporters = {"InvoiceExportApiFunction", "InvoiceExportFunction"}
    assert {f for f, q in senders.items() if "ExportQueue" in q} == exporters
    assert {f for f, q in senders.items() if "ImportQueue" in q} == {
        "ReloadApiFunction",
        "ScheduledImportFunction",
        "ImportWorkerFunction",
    }


def test_reads_only_read_summary_tasks_and_history_and_docs_need_nothing() -> None:
    assert _templates("ReadApiFunction") == {
        "DynamoDBCrudPolicy:ConfigTable",
        "DynamoDBReadPolicy:SummaryTasksTable",
        "DynamoDBReadPolicy:SyncHistoryTable",
    }
    assert _policies("ApiDocsFunction") == []
    for function in HTTP_FUNCTIONS:
        assert "DynamoDBCrudPolicy:SummaryTasksTable" not in _templates(function)
        assert "DynamoDBCrudPolicy:SyncHistoryTable" not in _templates(function)


def test_secrets_are_encrypted_with_a_customer_managed_key_that_rotates() -> None:
    key = TEMPLATE.resources["SecretsKey"]["Properties"]
    assert key["EnableKeyRotation"] is True
    env = TEMPLATE.document["Globals"]["Function"]["Environment"]["Variables"]
    assert env["SECRETS_KMS_KEY_ID"] == {"Ref": "SecretsKey"}
