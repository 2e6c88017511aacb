"""Client links in DynamoDB (the moto server): background updates never undo a user's unlink or relink."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from local_stack.provision import Provisioner
from local_stack.template import Template
from smartaccounts_sync.adapters.client_link_repository import DynamoDbClientLinkRepository
from smartaccounts_sync.domain.client_link import ClientLink, LinkStatus

pytestmark = pytest.mark.integration
T0 = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def links(moto_url: str, aws) -> DynamoDbClientLinkRepository:
    prefix = f"cl{uuid.uuid4().hex[:8]}"
    out = Provisioner(
        Template(),
        endpoint_url=moto_url,
        region="eu-north-1",
        prefix=prefix,
        parameters={"Stage": prefix, "JwtIssuer": "https://issuer", "JwtAudience": "aud"},
    ).provision()
    return DynamoDbClientLinkRepository(aws("dynamodb"), out.names["ConfigTable"])


def _link(company: str, at: dt.datetime) -> ClientLink:
    return ClientLink(client_id="client-1", company_id=company, company_name=company, linked_at=at)


def test_update_applies_to_the_same_link_only(links: DynamoDbClientLinkRepository) -> None:
    company = f"uku-{uuid.uuid4().hex[:6]}"
    first = _link("co-a", T0)
    links.put(company, first)

    # A background update of the same link is written
    assert links.update(company, first.model_copy(update={"status": LinkStatus.FAILING, "reason": "NOT_FOUND"}))
    assert links.get(company, "client-1").reason == "NOT_FOUND"

    # After a relink, an update computed from the old link is refused and the relink stays
    links.put(company, _link("co-b", T0 + dt.timedelta(hours=1)))
    assert not links.update(company, first.model_copy(update={"status": LinkStatus.OK}))
    assert links.get(company, "client-1").company_id == "co-b"

    # After an unlink, it does not bring the link back
    links.delete(company, "client-1")
    assert not links.update(company, first)
    assert links.get(company, "client-1") is None
