"""Buyer links in DynamoDB (the moto server, tables from the template): the claim that lets one export create a new
buyer while the others of the same Uku client wait, and the link that ends it."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from smartaccounts_sync.adapters.export_record_repository import DynamoDbBuyerLinkRepository

pytestmark = pytest.mark.integration
T0 = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)
LEASE = dt.timedelta(minutes=3)


@pytest.fixture
def links(tables: dict[str, str], aws) -> DynamoDbBuyerLinkRepository:
    return DynamoDbBuyerLinkRepository(aws("dynamodb"), tables["ConfigTable"])


def test_one_export_at_a_time_may_create_a_new_buyer(links: DynamoDbBuyerLinkRepository) -> None:
    company = f"uku-{uuid.uuid4().hex[:6]}"
    assert links.claim_creation(company, "client-1", "inv-1", T0 + LEASE, T0).granted
    assert links.get(company, "client-1") is None  # a claim is not a link

    other = links.claim_creation(company, "client-1", "inv-2", T0 + LEASE, T0 + dt.timedelta(seconds=5))
    assert not other.granted and other.holder == "inv-1" and other.linked is None
    assert links.claim_creation(company, "client-1", "inv-1", T0 + LEASE, T0).granted  # its own, again
    assert links.claim_creation(company, "client-2", "inv-2", T0 + LEASE, T0).granted  # another Uku client


def test_a_claim_left_by_a_crashed_export_ends_with_its_lease(links: DynamoDbBuyerLinkRepository) -> None:
    company = f"uku-{uuid.uuid4().hex[:6]}"
    assert links.claim_creation(company, "client-1", "inv-1", T0 + LEASE, T0).granted
    later = T0 + LEASE + dt.timedelta(seconds=2)
    assert links.claim_creation(company, "client-1", "inv-2", later + LEASE, later).granted


def test_once_linked_nobody_creates_and_the_link_is_returned(links: DynamoDbBuyerLinkRepository) -> None:
    company = f"uku-{uuid.uuid4().hex[:6]}"
    assert links.claim_creation(company, "client-1", "inv-1", T0 + LEASE, T0).granted
    links.put(company, "client-1", "sa-client-7")
    assert links.get(company, "client-1") == "sa-client-7"
    claim = links.claim_creation(company, "client-1", "inv-2", T0 + LEASE, T0)
    assert not claim.granted and claim.linked == "sa-client-7"
