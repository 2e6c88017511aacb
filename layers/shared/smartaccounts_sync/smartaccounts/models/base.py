"""The base of the SmartAccounts wire models: their config and the tolerant types they read (see the package)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict, PlainSerializer
from pydantic.alias_generators import to_camel

from smartaccounts_sync.domain.model import DeferredModel
from smartaccounts_sync.smartaccounts.protocol import format_date, parse_date

# --- Reusable tolerant types ------------------------------------------------------------------------------------


def _to_str(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral_value() else str(value)
    return value


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _to_decimal(value: Any) -> Any:
    value = _blank_to_none(value)
    if value is None or isinstance(value, (Decimal, bool)):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        text = value.strip().replace("\u00a0", "").replace(" ", "")
        if "," in text and "." not in text:
            text = text.replace(",", ".")
        try:
            return Decimal(text)
        except InvalidOperation:
            return value  # let pydantic report it
    return value


def _to_date(value: Any) -> Any:
    value = _blank_to_none(value)
    if isinstance(value, str):
        return parse_date(value)
    return value


def _decimal_to_json(value: Decimal) -> float | int:
    """Amounts go out as JSON numbers."""
    return int(value) if value == value.to_integral_value() and value.as_tuple().exponent >= 0 else float(value)


IdStr = Annotated[str, BeforeValidator(_to_str)]
"""An id or document number: SmartAccounts may send ``1001`` or ``"1001"``; kept as ``str``."""

Amount = Annotated[
    Decimal,
    BeforeValidator(_to_decimal),
    PlainSerializer(_decimal_to_json, return_type=int | float, when_used="json"),
]
"""A money amount, quantity or rate: ``"123.40"``, ``123.4`` and ``"123,40"`` all read as ``Decimal``."""

SaDate = Annotated[date, BeforeValidator(_to_date), PlainSerializer(format_date, return_type=str, when_used="json")]
"""A date: read from ``dd.MM.yyyy`` (or ISO), written as ``dd.MM.yyyy``."""

OptAmount = Annotated[
    Decimal | None,
    BeforeValidator(_to_decimal),
    PlainSerializer(_decimal_to_json, return_type=int | float, when_used="json-unless-none"),
]
"""An optional amount: an empty string reads as missing."""

OptDate = Annotated[
    date | None, BeforeValidator(_to_date), PlainSerializer(format_date, return_type=str, when_used="json-unless-none")
]
"""An optional date: an empty string reads as missing."""

OptStr = Annotated[str | None, BeforeValidator(_to_str)]


class WireModel(DeferredModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True, defer_build=True
    )  # schemas built at first use: a cold start builds only those its invocation reads

    def to_wire(self) -> dict[str, Any]:
        """The JSON-ready body: camelCase keys, dates as ``dd.MM.yyyy``, amounts as numbers, no ``None`` values."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)
