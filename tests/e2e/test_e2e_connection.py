"""Overview and Connect tabs (issue 4): enable/disable, save credentials, test connection and every error kind the
sandbox can produce, where the secret lives, and that it never leaves the service."""

from __future__ import annotations

import json
import os
from uuid import uuid4

import pytest

from local_stack.net import free_port
from tests.e2e.conftest import INTEGRATION, Api, Company, dumps, problem

pytestmark = pytest.mark.e2e

SECRET_PREFIX = "uku-smartaccounts/local/"
SMALL = "Väike Raamatupidamine OÜ"
MEDIUM = "Keskmine Kaubandus AS"


def _masked(key: str) -> str:
    return f"{key[:4]}…{key[-4:]}"


def _secret_for(stack, company_id: str) -> dict:
    """The company's secret in Secrets Manager (moto), found by prefix and company id."""
    sm = stack.boto3_client("secretsmanager")
    listed = sm.list_secrets(Filters=[{"Key": "name", "Values": [SECRET_PREFIX]}])["SecretList"]
    mine = [s for s in listed if s["Name"].startswith(SECRET_PREFIX) and s["Name"].endswith(f"company/{company_id}")]
    assert len(mine) == 1, [s["Name"] for s in listed if company_id in s["Name"]]
    name = mine[0]["Name"]
    versions = sorted(v["VersionId"] for v in sm.list_secret_version_ids(SecretId=name)["Versions"])
    return {"name": name, "value": json.loads(sm.get_secret_value(SecretId=name)["SecretString"]), "versions": versions}


def _without_version(settings: dict) -> dict:
    return {k: v for k, v in settings.items() if k != "version"}


def _config_table_dump(stack) -> str:
    ddb = stack.boto3_client("dynamodb")
    items, kwargs = [], {"TableName": os.environ["CONFIG_TABLE_NAME"]}
    while True:
        page = ddb.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return json.dumps(items, ensure_ascii=False)
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


# ---------------------------------------------------------------------------------------------- enable / disable
def test_a_fresh_company_is_disabled_and_not_connected(api: Api) -> None:
    # When a fresh company reads its state
    state = api.state()
    # Then nothing is enabled, connected or scheduled
    assert state["enabled"] is False
    assert state["connection"]["status"] == "NOT_CONNECTED"
    assert state["maskedKey"] is None and state["settings"] is None and state["nextImport"] is None
    assert state["linkedClients"] == 0


def test_disable_keeps_configuration_and_links_and_enable_resumes(configured_company: Company) -> None:
    # Given a configured company with a linked client
    api, client_id = configured_company.api, configured_company.extra["client_id"]
    before = api.state()
    assert before["enabled"] and before["nextImport"] is not None

    # When it is disabled
    disabled = api.ok("POST", f"{INTEGRATION}/disable")

    # Then credentials, settings and links are kept, but no import is scheduled
    assert disabled["enabled"] is False
    assert disabled["maskedKey"] == before["maskedKey"]
    assert _without_version(disabled["settings"]) == _without_version(before["settings"])
    assert disabled["linkedClients"] == 1 and disabled["nextImport"] is None
    assert api.ok("GET", f"/v1/clients/{client_id}/integration")["companyId"] == "co-small"

    # And enabling resumes with the same configuration and the next import scheduled again
    enabled = api.ok("POST", f"{INTEGRATION}/enable")
    assert enabled["enabled"] is True
    assert _without_version(enabled["settings"]) == _without_version(before["settings"])
    assert enabled["maskedKey"] == before["maskedKey"]
    assert enabled["nextImport"] == before["nextImport"]


def test_management_routes_answer_integration_disabled_while_disabled(configured_company: Company) -> None:
    # Given a configured company that is disabled
    company = configured_company
    api, client_id = company.api, company.extra["client_id"]
    api.ok("POST", f"{INTEGRATION}/disable")
    other_client = company.client("Unlinked")
    key = {"apiKey": company.key["apiKey"], "apiSecret": company.key["apiSecret"]}
    calls = [
        ("PUT", f"{INTEGRATION}/credentials", key),
        ("POST", f"{INTEGRATION}/test-connection", None),
        ("POST", f"{INTEGRATION}/test-connection", key),
        ("PUT", f"{INTEGRATION}/settings", company.settings(taskTitle="Changed {month}")),
        ("GET", f"{INTEGRATION}/companies", None),
        ("PUT", f"/v1/clients/{other_client}/integration", {"integration": "smartaccounts", "companyId": "co-small"}),
        ("DELETE", f"/v1/clients/{client_id}/integration", None),
    ]
    before = api.state()
    for method, path, body in calls:
        # When a management route is called, Then it answers 409 INTEGRATION_DISABLED
        response = api.request(method, path, json=body) if body is not None else api.request(method, path)
        problem(response, 409, "INTEGRATION_DISABLED")
    # And reading still works, and nothing changed
    assert api.state() == before
    assert api.ok("GET", f"/v1/clients/{client_id}/integration")["status"] == "OK"
    for path in (f"{INTEGRATION}/settings", f"{INTEGRATION}/fields", f"{INTEGRATION}/diagnostics"):
        assert api.get(path).status_code == 200


# ---------------------------------------------------------------------------------------------- credentials
def test_save_credentials_trims_tests_masks_and_stores_the_secret_in_secrets_manager(
    stack, enabled: Api, sandbox_key
) -> None:
    # Given a fresh key pair pasted with spaces and a line break around both values
    key = sandbox_key(["co-small"])
    pasted = {"apiKey": f"  {key['apiKey']} ", "apiSecret": f"{key['apiSecret']}\n"}

    # When it is saved
    answer = enabled.ok("PUT", f"{INTEGRATION}/credentials", json=pasted)

    # Then the answer names the company, says both values were trimmed, and neither value comes back
    assert answer["companyName"] == SMALL and answer["saved"] is True
    assert sorted(answer["trimmed"]) == ["apiKey", "apiSecret"]
    assert "removed" in answer["message"]
    assert key["apiSecret"] not in dumps(answer)
    # And the state shows the connection and the masked key (first and last four characters)
    state = enabled.state()
    assert state["connection"]["status"] == "CONNECTED" and state["companyName"] == SMALL
    assert state["maskedKey"] == _masked(key["apiKey"]) and key["apiKey"] not in dumps(state)
    # And the trimmed pair is in Secrets Manager under the service's prefix, and only its name in DynamoDB
    secret = _secret_for(stack, enabled.company_id)
    assert secret["value"] == {"apiKey": key["apiKey"], "apiSecret": key["apiSecret"]}
    table = _config_table_dump(stack)
    assert secret["name"] in table
    assert key["apiSecret"] not in table

    # When a second pair is saved
    second = sandbox_key(["co-medium"])
    assert (
        enabled.ok(
            "PUT", f"{INTEGRATION}/credentials", json={"apiKey": second["apiKey"], "apiSecret": second["apiSecret"]}
        )["trimmed"]
        == []
    )
    # Then the same secret holds it as a new version, and neither secret is in DynamoDB
    updated = _secret_for(stack, enabled.company_id)
    assert updated["name"] == secret["name"] and len(updated["versions"]) == len(secret["versions"]) + 1
    assert updated["value"]["apiKey"] == second["apiKey"]
    assert enabled.state()["companyName"] == MEDIUM
    table = _config_table_dump(stack)
    assert key["apiSecret"] not in table and second["apiSecret"] not in table


def test_save_credentials_refuses_a_pair_smartaccounts_rejects_and_keeps_the_saved_one(
    stack, connected_company: Company, sandbox_key
) -> None:
    # Given a company connected with a working pair
    api = connected_company.api
    before, secret_before = api.state(), _secret_for(stack, connected_company.company_id)
    other = sandbox_key(["co-medium"])

    # When a pair with a wrong secret is saved
    response = api.put(f"{INTEGRATION}/credentials", json={"apiKey": other["apiKey"], "apiSecret": "not-the-secret"})

    # Then it is refused with the error kind, and nothing was stored
    body = problem(response, 422, "SA_SIGNATURE_REJECTED")
    assert body["errorKind"] == "SIGNATURE_REJECTED"
    assert api.state() == before
    assert _secret_for(stack, connected_company.company_id) == secret_before


def test_blank_credentials_are_refused_field_by_field(enabled: Api) -> None:
    # When only whitespace is pasted, Then both fields are named and nothing is saved
    body = problem(
        enabled.put(f"{INTEGRATION}/credentials", json={"apiKey": " ", "apiSecret": "\t"}), 400, "VALIDATION_FAILED"
    )
    assert {e["field"] for e in body["errors"]} == {"apiKey", "apiSecret"}
    assert enabled.state()["maskedKey"] is None


# ---------------------------------------------------------------------------------------------- test connection
def test_test_connection_with_saved_credentials_names_the_company(connected_company: Company) -> None:
    # When the saved pair is tested
    answer = connected_company.api.ok("POST", f"{INTEGRATION}/test-connection")
    # Then SmartAccounts' company name comes back, nothing trimmed, and the connection is marked connected
    assert answer == {
        "companyName": SMALL, "companyId": "co-small", "companyRegCode": answer["companyRegCode"], "trimmed": [],
        "message": answer["message"], "saved": False,
    }
    assert SMALL in answer["message"]
    assert connected_company.api.state()["connection"]["status"] == "CONNECTED"


def test_test_connection_with_given_credentials_does_not_save_them(
    stack, connected_company: Company, sandbox_key
) -> None:
    # Given a company connected to co-small, and another pair that sees co-medium
    api = connected_company.api
    before, secret_before = api.state(), _secret_for(stack, connected_company.company_id)
    other = sandbox_key(["co-medium"])
    # When the other pair is tested
    answer = api.ok(
        "POST", f"{INTEGRATION}/test-connection", json={"apiKey": other["apiKey"], "apiSecret": other["apiSecret"]}
    )
    # Then it answers with that pair's company (its id: what a client linked with this pair is linked to), but the
    # saved pair, the state and the secret are unchanged
    assert answer["companyName"] == MEDIUM and answer["companyId"] == "co-medium" and answer["saved"] is False
    assert api.state() == before
    assert _secret_for(stack, connected_company.company_id) == secret_before


def test_test_connection_without_saved_credentials_is_not_connected(enabled: Api) -> None:
    problem(enabled.post(f"{INTEGRATION}/test-connection"), 409, "NOT_CONNECTED")


def _given(api: Api, key: str, secret: str):
    return api.post(f"{INTEGRATION}/test-connection", json={"apiKey": key, "apiSecret": secret})


def test_wrong_secret_is_signature_rejected_and_names_the_lost_secret_cause(enabled: Api, sandbox_key) -> None:
    key = sandbox_key()
    # When a known key is tested with a wrong secret
    body = problem(_given(enabled, key["apiKey"], "wrong-secret"), 422, "SA_SIGNATURE_REJECTED")
    # Then the message names the help page's cause: the secret is shown once and was lost; regenerate the pair
    assert "only once" in body["detail"] and "Regenerate the pair" in body["detail"]


def test_rotated_secret_is_signature_rejected(enabled: Api, sandbox, sandbox_key) -> None:
    # Given a pair whose secret was regenerated in SmartAccounts
    key = sandbox_key()
    sandbox.rotate(key["apiKey"])
    # When the old pair is tested, Then the secret is rejected
    problem(_given(enabled, key["apiKey"], key["apiSecret"]), 422, "SA_SIGNATURE_REJECTED")


def test_unknown_key_is_invalid_credentials_and_names_the_recopy_cause(enabled: Api) -> None:
    body = problem(_given(enabled, f"unknown-{uuid4().hex}", "whatever"), 422, "SA_INVALID_CREDENTIALS")
    assert "does not recognise this API key" in body["detail"]
    assert "directly from the SmartAccounts API panel" in body["detail"]


def test_revoked_key_is_credentials_revoked_and_names_the_revoked_cause(enabled: Api, sandbox, sandbox_key) -> None:
    key = sandbox_key()
    sandbox.revoke(key["apiKey"])
    body = problem(_given(enabled, key["apiKey"], key["apiSecret"]), 422, "SA_CREDENTIALS_REVOKED")
    assert "revoked" in body["detail"] and "Generate a fresh pair" in body["detail"]


def test_saved_pair_revoked_later_marks_the_connection_failing(connected_company: Company, sandbox) -> None:
    # Given a connected company whose pair is then revoked in SmartAccounts
    api = connected_company.api
    sandbox.revoke(connected_company.key["apiKey"])
    # When the saved pair is tested
    problem(api.post(f"{INTEGRATION}/test-connection"), 422, "SA_CREDENTIALS_REVOKED")
    # Then the state shows the connection failing with that reason and since when
    connection = api.state()["connection"]
    assert connection["status"] == "FAILING" and connection["reason"] == "CREDENTIALS_REVOKED"
    assert connection["since"] and "revoked" in connection["message"]


def test_whitespace_padded_values_connect_and_say_they_were_trimmed(enabled: Api, sandbox_key) -> None:
    key = sandbox_key(["co-small"])
    answer = enabled.ok(
        "POST",
        f"{INTEGRATION}/test-connection",
        json={"apiKey": f"\t{key['apiKey']}  ", "apiSecret": f" {key['apiSecret']}\r\n"},
    )
    assert answer["companyName"] == SMALL and sorted(answer["trimmed"]) == ["apiKey", "apiSecret"]
    assert "removed" in answer["message"]


def test_padded_and_wrong_secret_says_the_spaces_were_removed_and_are_not_the_cause(enabled: Api, sandbox_key) -> None:
    key = sandbox_key()
    body = problem(_given(enabled, f" {key['apiKey']} ", " wrong-secret "), 422, "SA_SIGNATURE_REJECTED")
    assert "Spaces or line breaks around the pasted values were removed" in body["detail"]
    assert "not the spaces" in body["detail"]


def test_sandbox_down_is_unavailable_and_names_the_network_cause(
    enabled: Api, sandbox_key, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given SmartAccounts cannot be reached (nothing listens on the port) and one retry at most
    key = sandbox_key()
    monkeypatch.setenv("SMARTACCOUNTS_API_URL", f"http://127.0.0.1:{free_port()}/api/")
    monkeypatch.setenv("SMARTACCOUNTS_MAX_RETRIES", "1")
    # When a pair is tested
    body = problem(_given(enabled, key["apiKey"], key["apiSecret"]), 502, "SA_UNAVAILABLE")
    # Then the message names the network cause and says the settings are fine
    assert "could not be reached" in body["detail"] and "Nothing is wrong with your settings" in body["detail"]


def test_rate_limited_answers_retry_after_and_names_the_rate_limit_cause(
    enabled: Api, sandbox, sandbox_key, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given SmartAccounts answers "Too many requests" for longer than the route's deadline, for this key only
    # (rate-limited answers are waited out as SmartAccounts asks while the deadline allows)
    key = sandbox_key()
    monkeypatch.setenv("SMARTACCOUNTS_ROUTE_DEADLINE_SECONDS", "2")
    sandbox.rate_limit_burst(key["apiKey"], 10)
    # When the pair is tested
    response = _given(enabled, key["apiKey"], key["apiSecret"])
    # Then the answer is SA_RATE_LIMITED with a Retry-After header and the help page's rate-limit cause
    body = problem(response, 429, "SA_RATE_LIMITED")
    assert int(response.headers["Retry-After"]) >= 1
    assert body["retryAfterSeconds"] == int(response.headers["Retry-After"])
    seconds = int(response.headers["Retry-After"])
    assert "limiting requests" in body["detail"]
    assert body["detail"].endswith(f"Try again in {seconds} second{'s' if seconds != 1 else ''}.")  # when, once


# ---------------------------------------------------------------------------------------------- secrets
def test_the_secret_is_in_no_response_log_line_or_stored_record(
    stack, api_as, sandbox, sandbox_key, captured_output
) -> None:
    # Given key pairs with distinctive secrets (company's, a client's own, and a wrong one)
    secret = f"Sec-{uuid4().hex}-ret"
    client_secret = f"Cli-{uuid4().hex}-ret"
    wrong = f"Wro-{uuid4().hex}-ng"
    key = sandbox_key(["co-small", "co-medium"], apiSecret=secret)
    client_key = sandbox_key(["co-large"], apiSecret=client_secret)
    api = api_as()
    responses = [api.post(f"{INTEGRATION}/enable")]

    # When the whole dialog is used with them: save (padded), test saved, test given (good and wrong), link a client
    # with its own pair, and every read
    responses.append(api.put(f"{INTEGRATION}/credentials", json={"apiKey": key["apiKey"], "apiSecret": f" {secret} "}))
    responses.append(api.post(f"{INTEGRATION}/test-connection"))
    responses.append(_given(api, key["apiKey"], secret))
    responses.append(_given(api, key["apiKey"], wrong))
    client = api.ok("POST", "/v1/clients", 201, json={"name": "Own key client"})["id"]
    responses.append(
        api.put(
            f"/v1/clients/{client}/integration",
            json={
                "integration": "smartaccounts",
                "companyId": "co-large",
                "apiKey": client_key["apiKey"],
                "apiSecret": client_secret,
            },
        )
    )
    responses.append(
        api.put(
            f"/v1/clients/{client}/integration",
            json={
                "integration": "smartaccounts",
                "companyId": "co-large",
                "apiKey": client_key["apiKey"],
                "apiSecret": wrong,
            },
        )
    )
    for path in (INTEGRATION, f"{INTEGRATION}/diagnostics", "/v1/clients", f"/v1/clients/{client}/integration"):
        responses.append(api.get(path))
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 422, 200, 422, 200, 200, 200, 200]

    # Then no response body or header holds a secret
    for response in responses:
        text = response.text + dumps(dict(response.headers))
        for value in (secret, client_secret, wrong):
            assert value not in text, response.request.url
    # And no captured output or log line does, although the handlers did log (the capture works)
    output = captured_output()
    assert "credentials saved" in output and "connection test failed" in output
    for value in (secret, client_secret, wrong):
        assert value not in output
    # And neither secret is in the configuration table
    table = _config_table_dump(stack)
    assert secret not in table and client_secret not in table
