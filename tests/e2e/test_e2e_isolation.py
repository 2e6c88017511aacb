"""Tenant isolation on the local stack, as far as moto goes.

What moto shows: every secret the API creates is tagged with its company and created with the template's KMS key,
and a token whose company id is crafted to name another company's secret is refused before anything is stored.
What moto does not do: evaluate IAM conditions (`aws:PrincipalTag`, `secretsmanager:ResourceTag`), so the refusal of
a cross-company read by AWS itself is covered by the policy-document tests in tests/unit/security, not here.
"""

from __future__ import annotations

from tests.e2e.conftest import INTEGRATION, Api, problem

SECRET_PREFIX = "uku-smartaccounts/local/"


def _secrets(stack) -> dict[str, dict]:
    sm = stack.boto3_client("secretsmanager")
    listed = sm.list_secrets(Filters=[{"Key": "name", "Values": [SECRET_PREFIX]}])["SecretList"]
    return {s["Name"]: s for s in listed}


def test_saved_secrets_carry_their_company_and_the_customer_managed_key(stack, api: Api, sandbox_key) -> None:
    # Given a company that saves its key pair and links a client with the client's own pair
    api.ok("POST", f"{INTEGRATION}/enable")
    firm = sandbox_key(["co-small", "co-medium"])
    api.ok("PUT", f"{INTEGRATION}/credentials", json={"apiKey": firm["apiKey"], "apiSecret": firm["apiSecret"]})
    client = api.ok("POST", "/v1/clients", 201, json={"name": "Isolated Client OÜ"})
    own = sandbox_key(["co-medium"])
    api.ok(
        "PUT",
        f"/v1/clients/{client['id']}/integration",
        json={
            "integration": "smartaccounts",
            "companyId": "co-medium",
            "apiKey": own["apiKey"],
            "apiSecret": own["apiSecret"],
        },
    )
    # Then both secrets are tagged with the company (what the tenant role's conditions compare with)
    mine = {n: s for n, s in _secrets(stack).items() if n.startswith(f"{SECRET_PREFIX}company/{api.company_id}")}
    assert set(mine) == {
        f"{SECRET_PREFIX}company/{api.company_id}",
        f"{SECRET_PREFIX}company/{api.company_id}/client/{client['id']}",
    }
    for secret in mine.values():
        assert {"Key": "companyId", "Value": api.company_id} in secret["Tags"]
        assert secret.get("KmsKeyId"), "created with the template's customer-managed key"


def test_a_crafted_company_id_saves_nothing_over_another_companys_secret(stack, api_as, sandbox_key) -> None:
    # Given company A with a client linked with its own key pair
    victim = api_as()
    victim.ok("POST", f"{INTEGRATION}/enable")
    firm = sandbox_key(["co-small", "co-medium"])
    victim.ok("PUT", f"{INTEGRATION}/credentials", json={"apiKey": firm["apiKey"], "apiSecret": firm["apiSecret"]})
    before = _secrets(stack)
    # When a token whose company id spells A's client secret path saves credentials
    for crafted in (f"{victim.company_id}/client/client-empty", f"{victim.company_id}#x", f"{victim.company_id}\n"):
        attacker = api_as(company_id=crafted)
        response = attacker.put(f"{INTEGRATION}/credentials", json={"apiKey": "evil-key", "apiSecret": "evil"})
        # Then it is refused, and no secret is created or changed
        problem(response, 403, "TOKEN_CLAIMS_INVALID")
    after = _secrets(stack)
    assert set(after) == set(before)
    assert all(after[n].get("LastChangedDate") == s.get("LastChangedDate") for n, s in before.items())
