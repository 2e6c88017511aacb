"""Publishes the service's events on its EventBridge bus (source `uku.smartaccounts`). Never a secret in a detail."""

from __future__ import annotations

import json
from typing import Any, Protocol

from smartaccounts_sync.errors import ServiceError

EVENT_SOURCE = "uku.smartaccounts"
#: The most entries one `PutEvents` call takes.
MAX_ENTRIES_PER_CALL = 10


class EventNotPublished(ServiceError):
    code = "INTERNAL"
    status = 500
    title = "An event could not be published"


class EventPublisher(Protocol):
    def publish(self, detail_type: str, detail: dict[str, Any]) -> None: ...
    def publish_all(self, detail_type: str, details: list[dict[str, Any]]) -> int: ...


class EventBridgePublisher:
    def __init__(self, client: Any, bus_name: str) -> None:
        self._events = client
        self._bus = bus_name

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        answer = self._events.put_events(Entries=[self._entry(detail_type, detail)])
        if answer.get("FailedEntryCount"):
            raise EventNotPublished(f"{detail_type} was refused by EventBridge.")

    def publish_all(self, detail_type: str, details: list[dict[str, Any]]) -> int:
        """Publishes up to ten events of one type in one `PutEvents` call, in their order. Returns how many of them
        EventBridge refused."""
        if len(details) > MAX_ENTRIES_PER_CALL:
            raise ValueError(f"at most {MAX_ENTRIES_PER_CALL} events a call")
        if not details:
            return 0
        answer = self._events.put_events(Entries=[self._entry(detail_type, d) for d in details])
        return int(answer.get("FailedEntryCount") or 0)

    def _entry(self, detail_type: str, detail: dict[str, Any]) -> dict[str, Any]:
        return {
            "Source": EVENT_SOURCE,
            "DetailType": detail_type,
            "Detail": json.dumps(detail, default=str),
            "EventBusName": self._bus,
        }


class InMemoryEventPublisher:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        self.events.append((detail_type, json.loads(json.dumps(detail, default=str))))

    def publish_all(self, detail_type: str, details: list[dict[str, Any]]) -> int:
        if len(details) > MAX_ENTRIES_PER_CALL:
            raise ValueError(f"at most {MAX_ENTRIES_PER_CALL} events a call")
        for detail in details:
            self.publish(detail_type, detail)
        return 0

    def of_type(self, detail_type: str) -> list[dict[str, Any]]:
        return [d for t, d in self.events if t == detail_type]
