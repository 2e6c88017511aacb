"""Writes of different repositories made all or nothing: one `TransactWriteItems` (tables of one account and
region may be mixed), and for the in-memory repositories the same change checked and applied together.

A repository offers a `Write` for a change that may go with others (`ClientLinkRepository.update_write`,
`ImportProgressRepository.counts_write`, ...); the repository that makes the group's own write takes the others
along (`SyncHistoryRepository.add(entry, also=...)`) and says whether a condition of theirs refused the group.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError


def _always() -> bool:
    return True


def _nothing() -> None:
    return None


@dataclass(frozen=True)
class Write:
    """One write of an all-or-nothing group: its `TransactWriteItems` part (`{"Put": ...}`, `{"Update": ...}`,
    `{"Delete": ...}`), and for an in-memory repository the same change (`holds`: its condition, `apply`)."""

    part: dict[str, Any] | None = None
    holds: Callable[[], bool] = field(default=_always)
    apply: Callable[[], None] = field(default=_nothing)


def transact(client: Any, parts: Sequence[dict[str, Any]]) -> bool:
    """Writes the parts in one transaction. False when a condition refused it (nothing was written)."""
    try:
        client.transact_write_items(TransactItems=list(parts))
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
            raise
        reasons = error.response.get("CancellationReasons") or []
        message = error.response.get("Error", {}).get("Message", "")
        if any(r.get("Code") == "ConditionalCheckFailed" for r in reasons) or (
            not reasons and "ConditionalCheckFailed" in message  # moto names them in the message only
        ):
            return False
        raise
    return True


def apply_in_memory(writes: Sequence[Write]) -> bool:
    """The in-memory repositories' transaction: every condition holds, then every change is made; else none."""
    if not all(w.holds() for w in writes):
        return False
    for w in writes:
        w.apply()
    return True
