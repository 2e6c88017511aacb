"""The one place that builds storage keys and secret names from identifiers, so that no input can make two collide.

Every key has a fixed structure: a constant kind word, then the components in a fixed order, joined by a delimiter
(`#` in DynamoDB keys, `/` in secret names). Each component is encoded so that it can never contain a delimiter:
ASCII letters, digits, `_` and `-` stay as they are (so every valid identifier is its own encoding and stored keys
stay readable), every other byte of its UTF-8 form becomes `=XX` (`=` itself included). The encoding is injective,
so different inputs give different keys whatever they contain: `demo-company/client/client-empty` cannot name
client `client-empty` of company `demo-company`, and `a#b` cannot name a sort key below `a`.

The API refuses such identifiers long before they get here (see `domain/identifiers.py`); this is the second wall.
"""

from __future__ import annotations

import re

_KEEP = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_ESCAPED = re.compile(rb"=([0-9A-F]{2})")


def encode_component(value: str) -> str:
    """The component as it appears in a key: delimiter-free, reversible, identical for valid identifiers."""
    if not isinstance(value, str) or value == "":
        raise ValueError("a key component must be a non-empty string")
    return "".join(chr(b) if b in _KEEP else f"={b:02X}" for b in value.encode("utf-8"))


def decode_component(encoded: str) -> str:
    return _ESCAPED.sub(lambda m: bytes.fromhex(m.group(1).decode()), encoded.encode("ascii")).decode("utf-8")


def item_key(kind: str, *components: str) -> str:
    """`KIND#c1#c2…` with each component encoded; `kind` is one of the code's constant words."""
    return "#".join([kind, *(encode_component(c) for c in components)])


def company_pk(company_id: str) -> str:
    return item_key("COMPANY", company_id)


def company_of_pk(pk: str) -> str:
    return decode_component(pk.removeprefix("COMPANY#"))


def secret_name(prefix: str, company_id: str, client_id: str | None = None) -> str:
    """`<prefix>company/<company>` or `<prefix>company/<company>/client/<client>`, components encoded."""
    name = f"{prefix}company/{encode_component(company_id)}"
    return f"{name}/client/{encode_component(client_id)}" if client_id is not None else name
