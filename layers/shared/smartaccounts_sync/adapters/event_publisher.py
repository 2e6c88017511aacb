"""Publishes the service's events on its EventBridge bus (source `uku.smartaccounts`). Never a secret in a detail."""

from __future__ import annotations

import json
from typing import Any, Protocol

from smartaccounts_sync.errors import ServiceError

EVENT_SOURCE = "uku.smartaccounts"


class EventNotPublished(ServiceError):
    code = "INTERNAL"
    status = 500
    title = "An event could not be published"


class EventPublisher(Protocol):
    def publish(self, detail_type: str, detail: dict[str, Any]) -> None: ...


class EventBridgePublisher:
    def __init__(self, client: Any, bus_name: str) -> None:
        self._events = client
        self._bus = bus_name

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        answer = self._events.put_events(
            Entries=[
                {
                    "Source": EVENT_SOURCE,
                    "DetailType": detail_type,
                    "Detail": json.dumps(detail, default=str),
                    "EventBusName": self._bus,
                }
            ]
        )
        if answer.get("FailedEntryCount"):
            raise EventNotPublished(f"{detail_type} was refused by EventBridge.")


class InMemoryEventPublisher:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        self.events.append((detail_type, json.loads(json.dumps(detail, default=str))))

    def of_type(self, detail_type: str) -> list[dict[str, Any]]:
        return [d for t, d in self.events if t == detail_type]
