"""Identifiers: one strict pattern at every entry, and keys and secret names that no input can make collide."""

from __future__ import annotations

import itertools

import pytest

from smartaccounts_sync.adapters.keys import company_of_pk, company_pk, decode_component, item_key, secret_name
from smartaccounts_sync.api.auth import Caller
from smartaccounts_sync.domain.identifiers import is_identifier
from smartaccounts_sync.errors import TokenClaimsInvalid
from tests.unit.security.conftest import COMPANY, Call

PREFIX = "uku-smartaccounts/dev/"

#: every delimiter and path trick found by the security run, and a few more
TRICKS = [
    "demo-company/client/client-empty",
    "demo-company#client-empty",
    "demo-company/",
    "/demo-company",
    "demo company",
    " demo-company",
    "demo-company ",
    "*",
    "demo-*",
    "..",
    "../demo-company",
    "demo-company/..",
    ".",
    "demo\x00company",
    "demo-company\n",
    "demo\ncompany",
    "demo\tcompany",
    "demo%2Fcompany",
    "demo=2Fcompany",
    "démo-company",
    "-demo",
    "_demo",
    "",
    "x" * 65,
    "demo-company\u2028",
    "\uff44\uff45\uff4d\uff4f",  # fullwidth "demo"
]

VALID = ["demo-company", "client-empty", "co-large", "topic-1a2b3c4d5e6f", "reload-0123456789abcdef", "A", "x" * 64,
         "3f1c2b1e-8a7d-4a4e-9c9e-2b7c1d0e5f6a", "user_42"]


@pytest.mark.parametrize("value", TRICKS)
def test_no_trick_is_an_identifier(value: str) -> None:
    assert not is_identifier(value)


@pytest.mark.parametrize("value", VALID)
def test_the_ids_in_use_are_identifiers(value: str) -> None:
    assert is_identifier(value)


def test_no_two_inputs_share_a_secret_name() -> None:
    # Given every trick and every valid id, as company and as client
    ids = TRICKS[:-4] + VALID + ["demo-company", "client"]  # without "" (refused) and duplicates of shape
    ids = [i for i in ids if i]
    names: dict[str, tuple[str, str | None]] = {}
    for company, client in itertools.chain(
        ((c, None) for c in ids), itertools.product(ids, [None, "client-empty", "client/x", "client#x", ".."])
    ):
        # When the secret's name is built
        name = secret_name(PREFIX, company, client)
        # Then it is a new name for every new pair: nothing can name another company's or client's secret
        assert names.setdefault(name, (company, client)) == (company, client)
        assert name.startswith(PREFIX + "company/")
        assert name.count("/") == PREFIX.count("/") + (1 if client is None else 3)


def test_the_reported_collision_is_gone() -> None:
    # Given company demo-company's client secret, and a token whose company id was crafted to name it
    victim = secret_name(PREFIX, "demo-company", "client-empty")
    attacker = secret_name(PREFIX, "demo-company/client/client-empty")
    # Then the two names differ
    assert victim == PREFIX + "company/demo-company/client/client-empty"
    assert attacker != victim and attacker == PREFIX + "company/demo-company=2Fclient=2Fclient-empty"


@pytest.mark.parametrize("value", [t for t in TRICKS if t])
def test_key_components_hold_no_delimiter_and_decode_back(value: str) -> None:
    key = item_key("LINK", value)
    assert key.count("#") == 1 and "/" not in key and "\x00" not in key and " " not in key
    assert decode_component(key.removeprefix("LINK#")) == value
    assert company_of_pk(company_pk(value)) == value


def test_valid_identifiers_are_stored_as_they_are() -> None:
    # existing keys and secret names keep their form: no migration for ids that follow the pattern
    assert company_pk("demo-company") == "COMPANY#demo-company"
    assert item_key("TASK", "client-empty", "2026-10") == "TASK#client-empty#2026-10"
    assert secret_name(PREFIX, "demo-company") == PREFIX + "company/demo-company"


@pytest.mark.parametrize("value", TRICKS)
def test_a_token_with_a_crafted_company_id_is_refused(value: str) -> None:
    with pytest.raises(TokenClaimsInvalid) as refused:
        Caller.from_claims({"sub": "u", "uku:companyId": value, "uku:role": "owner", "uku:plan": "team"})
    assert [p.field for p in refused.value.problems] == ["uku:companyId"]


@pytest.mark.parametrize("value", TRICKS)
def test_the_api_refuses_a_crafted_company_id_and_stores_nothing(call: Call, deps, value: str) -> None:
    # When a token whose company id is a trick saves credentials
    status, headers, body = call(
        "PUT", "/v1/integrations/smartaccounts/credentials", '{"apiKey": "k", "apiSecret": "s"}', company=value
    )
    # Then it is refused as a bad token, and nothing is stored for anyone
    assert status == 403 and headers["Content-Type"] == "application/problem+json"
    assert body["code"] == "TOKEN_CLAIMS_INVALID" and (len(value) < 3 or value not in body["detail"])
    assert deps.credentials.secrets == {} and deps.integrations.get(COMPANY).credentials is None


PATH_TRICKS = [t for t in TRICKS if t and "/" not in t and t not in {".", ".."}]


@pytest.mark.parametrize("value", PATH_TRICKS)
@pytest.mark.parametrize(
    "method,template",
    [
        ("GET", "/v1/clients/{}/integration"),
        ("PUT", "/v1/clients/{}/integration"),
        ("DELETE", "/v1/clients/{}/integration"),
        ("POST", "/v1/clients/{}/integration/reload"),
        ("GET", "/v1/clients/{}/summary-tasks"),
        ("GET", "/v1/clients/{}/sync-history"),
        ("GET", "/v1/reload-jobs/{}"),
        ("POST", "/v1/notifications/{}/read"),
        ("GET", "/v1/invoices/{}/export"),
    ],
)
def test_every_path_id_is_checked(call: Call, method: str, template: str, value: str) -> None:
    body = '{"integration": "smartaccounts", "companyId": "co-large"}' if method == "PUT" else None
    status, headers, problem = call(method, template.format(value), body)
    # refused as invalid, or (for characters no route's path matches) as no such route: never reaching a service
    assert (status, problem["code"]) in {(400, "VALIDATION_FAILED"), (404, "NOT_FOUND")}, problem
    assert headers["Content-Type"] == "application/problem+json"
    # (a trailing newline is cut off by the route match itself: the service then sees the valid id before it)
    assert value not in problem["detail"]


@pytest.mark.parametrize("value", ["co/large", "co#large", "..", "co large", "co\x00", "*"])
def test_a_smartaccounts_company_id_in_a_body_is_checked(call: Call, deps, value: str) -> None:
    import json

    status, _, problem = call(
        "PUT", "/v1/clients/client-empty/integration", json.dumps({"integration": "smartaccounts", "companyId": value})
    )
    assert status == 400 and problem["errors"][0]["field"] == "companyId"
    assert deps.links.list(COMPANY) == []
