"""Link each Uku client to its SmartAccounts company (issue 5): company list and search, link, relink, unlink,
per-client credentials, a company that disappears from the credentials' view, and authorization."""

from __future__ import annotations

import json
from uuid import uuid4

import pytest

from tests.e2e.conftest import INTEGRATION, Api, Company, dumps, problem

pytestmark = pytest.mark.e2e

COMPANIES = f"{INTEGRATION}/companies"
SMALL = {"id": "co-small", "name": "Väike Raamatupidamine OÜ", "regCode": "16000002"}
MEDIUM = {"id": "co-medium", "name": "Keskmine Kaubandus AS", "regCode": "10000003"}
LARGE_NAME = "Suur Logistika AS"


def _link_body(company_id: str, **extra: str) -> dict:
    return {"integration": "smartaccounts", "companyId": company_id, **extra}


def _client_row(api: Api, client_id: str) -> dict:
    rows = [c for c in api.ok("GET", "/v1/clients")["clients"] if c["id"] == client_id]
    assert len(rows) == 1
    return rows[0]


# ---------------------------------------------------------------------------------------------- company list
def test_company_list_shows_what_the_saved_credentials_see_and_is_searchable(
    connected_company: Company, sandbox
) -> None:
    api, key = connected_company.api, connected_company.key["apiKey"]
    # When the dropdown opens, Then it lists the companies the saved key sees, with id, name and registry code
    assert sorted(api.ok("GET", COMPANIES)["companies"], key=lambda c: c["id"]) == [MEDIUM, SMALL]
    calls = sandbox.request_count(key)
    # When searching by part of a name (any case) or by registry code
    assert api.ok("GET", COMPANIES, params={"search": "väike"})["companies"] == [SMALL]
    assert api.ok("GET", COMPANIES, params={"search": "KAUBANDUS"})["companies"] == [MEDIUM]
    assert api.ok("GET", COMPANIES, params={"search": "10000003"})["companies"] == [MEDIUM]
    assert api.ok("GET", COMPANIES, params={"search": "1600"})["companies"] == [SMALL]
    assert api.ok("GET", COMPANIES, params={"search": "no such company"})["companies"] == []
    # And opening the list again within minutes spends no SmartAccounts request
    assert len(api.ok("GET", COMPANIES)["companies"]) == 2
    assert sandbox.request_count(key) == calls


def test_company_list_needs_saved_credentials(enabled: Api) -> None:
    problem(enabled.get(COMPANIES), 409, "NOT_CONNECTED")


# ---------------------------------------------------------------------------------------------- link / relink / unlink
def test_link_relink_and_unlink(connected_company: Company) -> None:
    company, api = connected_company, connected_company.api
    client_id = company.client("Acme", "16000002")

    # When the client is linked to co-small
    linked = company.link(client_id, "co-small")
    # Then the answer and the client list show the company, status OK, company credentials
    assert linked["status"] == "OK" and linked["integration"] == "smartaccounts"
    assert (linked["companyId"], linked["companyName"], linked["companyRegCode"]) == (
        SMALL["id"],
        SMALL["name"],
        SMALL["regCode"],
    )
    assert linked["ownCredentials"] is False and linked["maskedKey"] is None and linked["notice"] is None
    row = _client_row(api, client_id)["integration"]
    assert row["companyName"] == SMALL["name"] and row["status"] == "OK" and row["ownCredentials"] is False
    assert api.state()["linkedClients"] == 1

    # When it is saved again with the same company, Then nothing points to reload
    assert company.link(client_id, "co-small")["notice"] is None

    # When it is relinked to another company (the "wrong company connected" fix)
    relinked = company.link(client_id, "co-medium")
    # Then the company is replaced and the answer points to reload for that client
    assert relinked["companyId"] == "co-medium" and relinked["companyName"] == MEDIUM["name"]
    assert relinked["notice"] and "Reload data" in relinked["notice"]
    assert api.ok("GET", f"/v1/clients/{client_id}/integration")["companyId"] == "co-medium"
    assert api.state()["linkedClients"] == 1

    # When it is unlinked
    response = api.delete(f"/v1/clients/{client_id}/integration")
    # Then it shows NOT_LINKED, the client itself stays, and the integration counts no linked client
    assert response.status_code == 204
    assert api.ok("GET", f"/v1/clients/{client_id}/integration") == {
        **api.ok("GET", f"/v1/clients/{client_id}/integration"),
        "status": "NOT_LINKED",
        "integration": None,
        "companyId": None,
    }
    assert _client_row(api, client_id)["integration"]["status"] == "NOT_LINKED"
    assert api.state()["linkedClients"] == 0
    # And unlinking again says it is not linked
    problem(api.delete(f"/v1/clients/{client_id}/integration"), 404, "NOT_FOUND")


def test_the_client_list_carries_each_clients_latest_import(configured_company: Company, stack) -> None:
    company, api = configured_company, configured_company.api
    client_id = company.extra["client_id"]
    # Given a client linked and not imported yet: no latest import, and the field is there
    assert _client_row(api, client_id)["integration"]["latestImport"] is None

    # When Reload data runs for it
    job = api.ok("POST", f"/v1/clients/{client_id}/integration/reload", 202)
    stack.wait_until_idle()
    assert api.ok("GET", f"/v1/reload-jobs/{job['jobId']}")["status"] == "COMPLETED"

    # Then the client list's row and the client's integration say how it ended, as its newest history entry does
    newest = api.ok("GET", f"/v1/clients/{client_id}/sync-history")["entries"][0]
    latest = _client_row(api, client_id)["integration"]["latestImport"]
    assert latest == {
        "at": newest["at"],
        "outcome": "SUCCEEDED",
        "months": newest["months"],
        "errorKind": None,
        "message": None,
    }
    assert len(latest["months"]) == 12
    assert api.ok("GET", f"/v1/clients/{client_id}/integration")["latestImport"] == latest


def test_linking_a_company_the_credentials_cannot_see_is_not_found(connected_company: Company) -> None:
    client_id = connected_company.client()
    body = problem(
        connected_company.api.put(f"/v1/clients/{client_id}/integration", json=_link_body("co-large")), 404, "NOT_FOUND"
    )
    assert "co-large" in body["detail"] and "not visible" in body["detail"]
    assert connected_company.api.ok("GET", f"/v1/clients/{client_id}/integration")["status"] == "NOT_LINKED"


def test_linking_an_unknown_client_is_not_found(connected_company: Company) -> None:
    problem(
        connected_company.api.put("/v1/clients/client-nope/integration", json=_link_body("co-small")), 404, "NOT_FOUND"
    )
    problem(connected_company.api.get("/v1/clients/client-nope/integration"), 404, "NOT_FOUND")


def test_linking_is_refused_while_disabled_or_without_credentials(api: Api, sandbox_key) -> None:
    # Given an enabled company without credentials
    api.ok("POST", f"{INTEGRATION}/enable")
    client_id = api.ok("POST", "/v1/clients", 201, json={"name": "Early client"})["id"]
    # When linking, Then it is refused as not connected
    body = problem(api.put(f"/v1/clients/{client_id}/integration", json=_link_body("co-small")), 409, "NOT_CONNECTED")
    assert "API key" in body["detail"]
    # Given the integration disabled
    api.ok("POST", f"{INTEGRATION}/disable")
    # When linking (even with the client's own working pair), Then it is refused as disabled
    key = sandbox_key(["co-small"])
    problem(
        api.put(
            f"/v1/clients/{client_id}/integration",
            json=_link_body("co-small", apiKey=key["apiKey"], apiSecret=key["apiSecret"]),
        ),
        409,
        "INTEGRATION_DISABLED",
    )
    assert api.ok("GET", f"/v1/clients/{client_id}/integration")["status"] == "NOT_LINKED"


def test_link_body_is_validated(connected_company: Company) -> None:
    client_id = connected_company.client()
    body = problem(
        connected_company.api.put(
            f"/v1/clients/{client_id}/integration", json={"integration": "merit", "companyId": ""}
        ),
        400,
        "VALIDATION_FAILED",
    )
    assert {"integration", "companyId"} <= {e["field"] for e in body["errors"]}


# ---------------------------------------------------------------------------------------------- own credentials
def _secrets(stack, company_id: str) -> dict[str, dict]:
    sm = stack.boto3_client("secretsmanager")
    names = [
        s["Name"]
        for s in sm.list_secrets(Filters=[{"Key": "name", "Values": ["uku-smartaccounts/local/"]}])["SecretList"]
        if f"company/{company_id}" in s["Name"]
    ]
    return {
        n: {
            "value": json.loads(sm.get_secret_value(SecretId=n)["SecretString"]),
            "versions": sorted(v["VersionId"] for v in sm.list_secret_version_ids(SecretId=n)["Versions"]),
        }
        for n in names
    }


def test_client_with_its_own_credentials_is_isolated_from_the_company_credentials(
    stack, connected_company: Company, sandbox_key
) -> None:
    # Given a company connected with a pair that sees co-small and co-medium, and the client's own pair for co-large
    company, api = connected_company, connected_company.api
    state_before = api.state()
    secrets_before = _secrets(stack, company.company_id)
    assert len(secrets_before) == 1
    own = sandbox_key(["co-large"])
    client_id = company.client("Large client")

    # When the client is linked to co-large with its own pair (pasted with spaces)
    linked = company.link(client_id, "co-large", apiKey=f" {own['apiKey']}", apiSecret=f"{own['apiSecret']} ")

    # Then the answer names the company the pair belongs to, marks own credentials and shows only the masked key
    assert linked["companyName"] == LARGE_NAME and linked["companyId"] == "co-large"
    assert linked["ownCredentials"] is True
    assert linked["maskedKey"] == f"{own['apiKey'][:4]}…{own['apiKey'][-4:]}"
    assert own["apiSecret"] not in dumps(linked) and own["apiKey"] not in dumps(linked)
    row = _client_row(api, client_id)["integration"]
    assert row["ownCredentials"] is True and row["maskedKey"] == linked["maskedKey"]
    # And the company credentials are unchanged
    state_after = api.state()
    assert state_after["maskedKey"] == state_before["maskedKey"] and state_after["companyName"] == SMALL["name"]
    # And the client's trimmed pair is stored under its own secret name, the company's secret untouched
    secrets_after = _secrets(stack, company.company_id)
    (company_secret,) = secrets_before
    assert secrets_after[company_secret] == secrets_before[company_secret]
    (client_secret,) = set(secrets_after) - {company_secret}
    assert client_id in client_secret
    assert secrets_after[client_secret]["value"] == {"apiKey": own["apiKey"], "apiSecret": own["apiSecret"]}
    # And the company's own credentials still cannot see co-large (the client's pair did not leak into them)
    assert "co-large" not in {c["id"] for c in api.ok("GET", COMPANIES)["companies"]}


def test_client_own_credentials_with_a_wrong_secret_are_signature_rejected(
    connected_company: Company, sandbox_key
) -> None:
    own = sandbox_key(["co-large"])
    client_id = connected_company.client()
    body = problem(
        connected_company.api.put(
            f"/v1/clients/{client_id}/integration",
            json=_link_body("co-large", apiKey=own["apiKey"], apiSecret="not-it"),
        ),
        422,
        "SA_SIGNATURE_REJECTED",
    )
    assert "only once" in body["detail"]
    assert connected_company.api.ok("GET", f"/v1/clients/{client_id}/integration")["status"] == "NOT_LINKED"


def test_client_own_credentials_revoked_are_refused(connected_company: Company, sandbox, sandbox_key) -> None:
    own = sandbox_key(["co-large"])
    sandbox.revoke(own["apiKey"])
    client_id = connected_company.client()
    problem(
        connected_company.api.put(
            f"/v1/clients/{client_id}/integration",
            json=_link_body("co-large", apiKey=own["apiKey"], apiSecret=own["apiSecret"]),
        ),
        422,
        "SA_CREDENTIALS_REVOKED",
    )
    assert connected_company.api.ok("GET", f"/v1/clients/{client_id}/integration")["status"] == "NOT_LINKED"


def test_client_own_credentials_that_do_not_see_the_company_are_not_found(
    connected_company: Company, sandbox_key
) -> None:
    own = sandbox_key(["co-large"])
    client_id = connected_company.client()
    body = problem(
        connected_company.api.put(
            f"/v1/clients/{client_id}/integration",
            json=_link_body("co-small", apiKey=own["apiKey"], apiSecret=own["apiSecret"]),
        ),
        404,
        "NOT_FOUND",
    )
    assert "this client's API key" in body["detail"]


# ---------------------------------------------------------------------------------------------- disappearing company
def test_a_company_that_disappears_from_the_credentials_view_shows_failing_and_in_diagnostics(
    configured_company: Company, sandbox
) -> None:
    # Given a client linked to co-small, and a second client linked to co-medium
    company, api = configured_company, configured_company.api
    gone_client = company.extra["client_id"]
    kept_client = company.client("Kept")
    company.link(kept_client, "co-medium")
    gone_name = _client_row(api, gone_client)["name"]

    # When SmartAccounts stops showing co-small to the saved key
    sandbox.set_companies(company.key["apiKey"], ["co-medium"])

    # Then diagnostics' visibility check fails and lists that client and company, with the fix
    answer = api.ok("GET", f"{INTEGRATION}/diagnostics")
    check = next(c for c in answer["checks"] if c["id"] == "linkedCompaniesVisible")
    assert answer["passed"] is False
    assert check["status"] == "FAIL" and check["errorKind"] == "NOT_FOUND" and check["fix"]
    assert gone_name in check["detail"] and "co-small" in check["detail"]
    assert "Kept" not in check["detail"]
    # And the client list shows that client failing with reason NOT_FOUND, the other still OK
    gone = _client_row(api, gone_client)["integration"]
    assert gone["status"] == "FAILING" and gone["reason"] == "NOT_FOUND" and gone["since"] and gone["message"]
    assert _client_row(api, kept_client)["integration"]["status"] == "OK"

    # When the company is visible again, Then the next diagnostics pass and the client is OK again
    sandbox.set_companies(company.key["apiKey"], ["co-small", "co-medium"])
    again = api.ok("GET", f"{INTEGRATION}/diagnostics")
    assert next(c for c in again["checks"] if c["id"] == "linkedCompaniesVisible")["status"] == "PASS"
    assert _client_row(api, gone_client)["integration"]["status"] == "OK"


# ---------------------------------------------------------------------------------------------- authorization
def test_another_company_cannot_read_or_change_a_client_whatever_its_id(
    configured_company: Company, api_as, sandbox_key
) -> None:
    # Given company A with a linked client, and company B enabled and connected (so only ownership can stop it)
    a = configured_company
    client_id = a.extra["client_id"]
    link_before = a.api.ok("GET", f"/v1/clients/{client_id}/integration")
    b = api_as()
    b.ok("POST", f"{INTEGRATION}/enable")
    key = sandbox_key(["co-small", "co-medium"])
    b.ok("PUT", f"{INTEGRATION}/credentials", json={"apiKey": key["apiKey"], "apiSecret": key["apiSecret"]})

    # (an id outside the identifier pattern is refused before any lookup)
    problem(b.get(f"/v1/clients/{client_id}%20/integration"), 400, "VALIDATION_FAILED")
    problem(b.delete(f"/v1/clients/{client_id}%20/integration"), 400, "VALIDATION_FAILED")
    for target in (client_id, client_id.upper(), f"client-{uuid4().hex[:12]}"):
        path = f"/v1/clients/{target}/integration"
        # When B reads, links, relinks with its own pair or unlinks A's client
        problem(b.get(path), 404, "NOT_FOUND")
        problem(b.put(path, json=_link_body("co-medium")), 404, "NOT_FOUND")
        problem(
            b.put(path, json=_link_body("co-medium", apiKey=key["apiKey"], apiSecret=key["apiSecret"])),
            404,
            "NOT_FOUND",
        )
        problem(b.delete(path), 404, "NOT_FOUND")
    # Then A's link is unchanged and B's client list does not show A's client
    assert a.api.ok("GET", f"/v1/clients/{client_id}/integration") == link_before
    assert b.ok("GET", "/v1/clients")["clients"] == []
    assert a.api.state()["linkedClients"] == 1
