"""What an identifier may contain: one strict definition for every id the service keys data or secrets by.

Uku company, client, topic, custom task field, notification and reload job ids, invoice ids and SmartAccounts
company ids all follow :data:`IDENTIFIER_PATTERN`: 1 to 64 characters, ASCII letters, digits, `_` and `-`,
starting with a letter or digit. No delimiter (`#`, `/`), no path trick (`..`), no whitespace, no wildcard and no
control character can pass, so an id can never be read as two ids or as a different kind of key. The same
pattern is checked where a token's claims are read, on every path parameter and on ids in request bodies, on the ids
of Uku's `InvoiceIssued` event (`domain/invoice_issued.py`), and is published in the OpenAPI document.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import StringConstraints

IDENTIFIER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
IDENTIFIER_MAX_LENGTH = 64
IDENTIFIER_DESCRIPTION = (
    "An identifier: 1-64 characters, ASCII letters, digits, '_' and '-', starting with a letter or digit."
)
_IDENTIFIER_RE = re.compile(IDENTIFIER_PATTERN)

#: An identifier as a pydantic field type (no trimming: an id with surrounding spaces is a different, invalid id).
Identifier = Annotated[str, StringConstraints(pattern=IDENTIFIER_PATTERN, max_length=IDENTIFIER_MAX_LENGTH)]


def is_identifier(value: object) -> bool:
    # fullmatch, not match: `$` would accept a trailing newline
    return isinstance(value, str) and _IDENTIFIER_RE.fullmatch(value) is not None


def require_identifier(value: str, what: str = "identifier") -> str:
    """`value` if it is a valid identifier, else ValueError naming `what` (never echoing the value itself)."""
    if not is_identifier(value):
        raise ValueError(f"{what} must be 1-64 characters: ASCII letters, digits, '_' or '-'")
    return value
