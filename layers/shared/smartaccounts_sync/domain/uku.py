"""What the service needs to know of Uku's own data: topics, custom task fields and clients.

These belong to Uku; the service reads them through a port (`UkuStore`) so that Uku's own API can replace the
embedded default store.
"""

from typing import Annotated, Literal

from pydantic import ConfigDict, StringConstraints

from smartaccounts_sync.domain.model import DeferredModel

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
CustomFieldType = Literal["number", "currency", "text", "date", "checkbox"]
NUMERIC_FIELD_TYPES: frozenset[str] = frozenset({"number", "currency"})


class Topic(DeferredModel):
    model_config = ConfigDict(frozen=True)

    id: str
    name: Name


class CustomTaskField(DeferredModel):
    model_config = ConfigDict(frozen=True)

    id: str
    name: Name
    type: CustomFieldType

    @property
    def numeric(self) -> bool:
        return self.type in NUMERIC_FIELD_TYPES


class UkuClient(DeferredModel):
    model_config = ConfigDict(frozen=True)

    id: str
    name: Name
    registry_code: str | None = None
    vat_number: str | None = None
    default_user_id: str | None = None
