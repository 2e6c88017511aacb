"""Loads the sample events under `events/` (the same files `sam local invoke -e` takes)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).resolve().parents[2] / "events"


def load_event(function: str, name: str) -> dict[str, Any]:
    return json.loads((EVENTS / function / f"{name}.json").read_text(encoding="utf-8"))


def shape(value: Any) -> Any:
    """The structure of a JSON value without its data: dict keys with the shapes of their values, types of leaves."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__
