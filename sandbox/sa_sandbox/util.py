"""Small shared helpers: Tallinn time, the scaled clock, dates, money, errors."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
import threading
import time
import uuid
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

TALLINN = ZoneInfo("Europe/Tallinn")
CENT = Decimal("0.01")
FIRST_MONTH = (2020, 1)
LAST_MONTH = (2030, 12)

_SA_DATE = re.compile(r"^(\d{2})\.(\d{2})\.(\d{4})$")


class ApiError(Exception):
    """An error answered as ``{"errors":[{"message": ...}]}``."""

    def __init__(self, status: int, messages: str | list[str], headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        self.headers = headers or {}
        super().__init__(f"{status}: {'; '.join(self.messages)}")

    def body(self) -> dict:
        return {"errors": [{"message": m} for m in self.messages]}


INVALID_DATE = "Invalid date format, expected dd.MM.yyyy"


def parse_sa_date(value: str) -> dt.date:
    """Parse ``dd.MM.yyyy`` strictly; raises ValueError."""
    m = _SA_DATE.match(value or "")
    if not m:
        raise ValueError(INVALID_DATE)
    return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))


def fmt_sa_date(value: dt.date) -> str:
    return value.strftime("%d.%m.%Y")


def parse_iso_date(value: str) -> dt.date:
    return dt.date.fromisoformat(value)


def month_end(year: int, month: int) -> dt.date:
    if month == 12:
        return dt.date(year, 12, 31)
    return dt.date(year, month + 1, 1) - dt.timedelta(days=1)


def add_months(year: int, month: int, delta: int) -> tuple[int, int]:
    idx = year * 12 + (month - 1) + delta
    return idx // 12, idx % 12 + 1


def iter_months(start: tuple[int, int], end: tuple[int, int]):
    """Months from start to end inclusive, clamped to the generated range 2020-01..2030-12."""
    start = max(start, FIRST_MONTH)
    end = min(end, LAST_MONTH)
    y, m = start
    while (y, m) <= end:
        yield y, m
        y, m = add_months(y, m, 1)


def money(value) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def num(value: Decimal) -> float | int:
    """A Decimal as a JSON number (float with at most 2 decimals)."""
    return float(value)


def mstr(value: Decimal) -> str:
    """A Decimal as a JSON string ``"123.40"``."""
    return f"{value.quantize(CENT, rounding=ROUND_HALF_UP):.2f}"


def stable_uuid(*parts: object) -> str:
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def short_hash(*parts: object, length: int = 12) -> str:
    return hashlib.sha256(":".join(str(p) for p in parts).encode()).hexdigest()[:length]


def reference_number(base: int) -> str:
    """Estonian reference number: base digits plus a 7-3-1 check digit."""
    digits = str(base)
    weights = (7, 3, 1)
    total = sum(int(d) * weights[i % 3] for i, d in enumerate(reversed(digits)))
    check = (10 - total % 10) % 10
    return digits + str(check)


def tallinn_now() -> dt.datetime:
    return dt.datetime.now(TALLINN)


def tallinn_today() -> dt.date:
    return tallinn_now().date()


class ScaledClock:
    """Virtual time used for quotas: runs ``scale`` times faster than real time.

    ``now()`` returns virtual epoch seconds. With scale 1 it equals ``time.time()``. Changing the scale re-anchors, so
    virtual time stays continuous.
    """

    def __init__(self, scale: float = 1.0) -> None:
        if scale <= 0:
            raise ValueError("time scale must be positive")
        self._lock = threading.Lock()
        self._anchor_real = time.time()
        self._anchor_virtual = self._anchor_real
        self._scale = float(scale)

    @property
    def scale(self) -> float:
        return self._scale

    def now(self) -> float:
        with self._lock:
            return self._anchor_virtual + (time.time() - self._anchor_real) * self._scale

    def set_scale(self, scale: float) -> None:
        if scale <= 0:
            raise ValueError("time scale must be positive")
        with self._lock:
            real = time.time()
            self._anchor_virtual = self._anchor_virtual + (real - self._anchor_real) * self._scale
            self._anchor_real = real
            self._scale = float(scale)

    def real_seconds(self, virtual_seconds: float) -> int:
        """Virtual seconds as real seconds for Retry-After: ceil, at least 1."""
        return max(1, math.ceil(virtual_seconds / self._scale - 1e-9))


def next_tallinn_midnight(virtual_epoch: float) -> float:
    now = dt.datetime.fromtimestamp(virtual_epoch, TALLINN)
    nxt = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(0, 0), tzinfo=TALLINN)
    return nxt.timestamp()


def tallinn_date_of(virtual_epoch: float) -> dt.date:
    return dt.datetime.fromtimestamp(virtual_epoch, TALLINN).date()
