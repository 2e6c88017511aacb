"""Buyers (SmartAccounts "clients"): read and created by the export."""

from typing import Literal

from pydantic import Field

from smartaccounts_sync.smartaccounts.models.base import IdStr, OptStr, WireModel


class Address(WireModel):
    country: str | None = None
    county: str | None = None
    city: str | None = None
    address1: str | None = None
    address2: str | None = None
    postal_code: OptStr = None


ContactType = Literal["EMAIL", "PHONE", "FAX", "WWW", "SKYPE", "OTHER", "PERSON", "POST_ADDRESS"]


class Contact(WireModel):
    type: str
    value: OptStr = None
    description: str | None = None


class Buyer(WireModel):
    """A SmartAccounts *client*, i.e. the buyer on a sales invoice (not a client of the accounting firm)."""

    id: IdStr
    name: str
    reg_code: OptStr = None
    vat_number: OptStr = None
    bank_account: OptStr = None
    reference_number: OptStr = None
    invoice_due_date: int | None = None
    address: Address | None = None
    contacts: list[Contact] = Field(default_factory=list)


class NewBuyer(WireModel):
    name: str = Field(min_length=1)
    address: Address | None = None
    contacts: list[Contact] | None = None
    vat_number: str | None = None
    reg_code: str | None = None
    invoice_due_date: int | None = None
    vat_pc: str | None = None
    bank_account: str | None = None


class CreatedBuyer(WireModel):
    client_id: IdStr
    reference_number: OptStr = None
