"""Items of different repositories read in one call: a consistent `BatchGetItem` (tables of one account and region
may be mixed), and for the in-memory repositories each value as their `get` gives it.

A repository offers a `Read` next to its `get` (`ClientLinkRepository.get_read`, ...); `read_all` makes them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: BatchGetItem hands back what it could not read now (`UnprocessedKeys`): asked again this often, then one by one.
_BATCH_ATTEMPTS = 5


@dataclass(frozen=True)
class Read:
    """One item to read: in DynamoDB (`client`, `table`, `key`, and `parse` of the item or None), or in memory
    (`value`)."""

    parse: Callable[[dict[str, Any] | None], Any] | None = None
    client: Any = None
    table: str = ""
    key: dict[str, Any] | None = None
    value: Callable[[], Any] | None = None


def _key_of(key: dict[str, Any]) -> tuple:
    return tuple(sorted((name, next(iter(v.values()))) for name, v in key.items()))


def read_all(*reads: Read) -> list[Any]:
    """The values of the reads, in order; those of one DynamoDB client in one consistent BatchGetItem."""
    values: list[Any] = [None] * len(reads)
    by_client: dict[int, list[int]] = {}
    for i, read in enumerate(reads):
        if read.value is not None:
            values[i] = read.value()
        else:
            by_client.setdefault(id(read.client), []).append(i)
    for indexes in by_client.values():
        client = reads[indexes[0]].client
        found: dict[tuple[str, tuple], dict[str, Any]] = {}
        wanted: dict[str, list[dict[str, Any]]] = {}
        for i in indexes:
            keys = wanted.setdefault(reads[i].table, [])
            if reads[i].key not in keys:
                keys.append(reads[i].key)  # type: ignore[arg-type]
        for _attempt in range(_BATCH_ATTEMPTS):
            answer = client.batch_get_item(
                RequestItems={table: {"Keys": keys, "ConsistentRead": True} for table, keys in wanted.items()}
            )
            for table, items in answer.get("Responses", {}).items():
                for item in items:
                    found[(table, _item_key(item, reads, indexes, table))] = item
            wanted = {t: r["Keys"] for t, r in (answer.get("UnprocessedKeys") or {}).items() if r.get("Keys")}
            if not wanted:
                break
        for table, keys in wanted.items():  # still held back: one by one
            for key in keys:
                item = client.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
                if item:
                    found[(table, _key_of(key))] = item
        for i in indexes:
            read = reads[i]
            values[i] = read.parse(found.get((read.table, _key_of(read.key or {}))))  # type: ignore[misc]
    return values


def _item_key(item: dict[str, Any], reads: tuple[Read, ...], indexes: list[int], table: str) -> tuple:
    """The key of a returned item, in the shape of the keys asked for (the same attribute names)."""
    for i in indexes:
        read = reads[i]
        if read.table == table and read.key is not None and all(item.get(n) == v for n, v in read.key.items()):
            return _key_of(read.key)
    return ()
