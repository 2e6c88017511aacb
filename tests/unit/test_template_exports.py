"""Couplings of the invoice export and the daily refresh inside template.yaml that no linter sees."""

from __future__ import annotations

import datetime as dt

from local_stack.template import Template
from smartaccounts_sync.service.invoice_export import LEASE
from smartaccounts_sync.settings import Settings


def test_the_export_worker_knows_the_export_queues_redrive_count() -> None:
    template = Template()
    redrive = template.resources["ExportQueue"]["Properties"]["RedrivePolicy"]["maxReceiveCount"]
    env = template.resources["InvoiceExportFunction"]["Properties"]["Environment"]["Variables"]
    assert int(env["EXPORT_MAX_RECEIVE_COUNT"]) == redrive == Settings().export_max_receive_count


def test_an_export_claim_outlives_the_function_that_holds_it() -> None:
    timeout = Template().functions()["InvoiceExportFunction"].timeout
    assert dt.timedelta(seconds=timeout) < LEASE


def test_the_daily_refresh_schedule_runs_the_daily_refresh_function_in_tallinn_time() -> None:
    schedule = Template().resources["DailyRefreshSchedule"]["Properties"]
    assert schedule["Target"]["Arn"]["Fn::GetAtt"][0] == "DailyRefreshFunction"
    assert schedule["ScheduleExpressionTimezone"] == "Europe/Tallinn"


def test_export_and_daily_functions_read_company_secrets_but_never_a_clients_own_key() -> None:
    resources = Template().resources
    role = resources["TenantCompanyKeyReaderRole"]["Properties"]
    role_name = role["RoleName"]["Fn::Sub"]
    trusted = role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["AWS"]
    statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    denies = [s for s in statements if s["Effect"] == "Deny"]
    variables = Template().document["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["TENANT_COMPANY_KEY_READER_ROLE_ARN"]["Fn::Sub"].endswith(role_name)
    # Given the role the export functions assume, when it is asked for a client's own key, then IAM refuses
    assert any(
        "company/*/client/*" in s["Resource"]["Fn::Sub"] and s["Action"] == "secretsmanager:GetSecretValue"
        for s in denies
    )
    for name in ("InvoiceExportFunction", "DailyRefreshFunction", "InvoiceExportApiFunction"):
        props = resources[name]["Properties"]
        assert {"Fn::GetAtt": [f"{name}Role", "Arn"]} in trusted
        assumed = [
            s["Resource"]["Fn::Sub"]
            for p in props["Policies"]
            if isinstance(p, dict) and "Statement" in p
            for s in p["Statement"]
            if "sts:AssumeRole" in s["Action"]
        ]
        assert assumed and all(r.endswith(role_name) for r in assumed)
        # and their own role reaches no secret at all
        assert "secretsmanager" not in str(props["Policies"])
