"""The rate guard's table as `template.yaml` declares it (`RateLimitTable`: partition key `pk`, TTL `expiresAt`), for
tests that make it on an in-process moto."""

from __future__ import annotations

from typing import Any


def create_rate_limit_table(client: Any, name: str) -> None:
    client.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiresAt"})
