"""A conditional `put_item` that knows its own write when botocore sent it again.

botocore retries a write whose answer was lost (a read timeout, a dropped connection, a 500 after the write) by
sending the same request again. When the first attempt was applied, the retry's condition (`version = :read`,
`attribute_not_exists(pk)`) fails on the item that attempt wrote, and the caller would take its own write for
another writer's. So the put asks DynamoDB for the item that failed the condition
(`ReturnValuesOnConditionCheckFailure="ALL_OLD"`, in the same answer, no extra read): when it is exactly the item
this call puts (its version and data, numbers compared as numbers), the write is this call's own. An item another
writer put (another version or other data) is still refused.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    # imported here, on a refused write only: boto3 is not loaded at a cold start (`tests/unit/test_cold_import.py`)
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    return {name: deserializer.deserialize(value) for name, value in item.items()}


def put_conditionally(client: Any, **put: Any) -> bool:
    """`put_item(**put)` under its `ConditionExpression`. True when the item is stored as given: written now, or
    found exactly so when the condition failed (this call's own attempt, applied with its answer lost). False when
    the condition refused it on another writer's item (or on none)."""
    try:
        client.put_item(**put, ReturnValuesOnConditionCheckFailure="ALL_OLD")
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
        found = error.response.get("Item")
        return found is not None and _plain(found) == _plain(put["Item"])
    return True


def version_condition(read: int) -> dict[str, Any]:
    """The condition of a put over a record read at version ``read`` (0: a record that must not exist yet)."""
    if read == 0:
        return {"ConditionExpression": "attribute_not_exists(pk)"}
    return {"ConditionExpression": "version = :read", "ExpressionAttributeValues": {":read": {"N": str(read)}}}
