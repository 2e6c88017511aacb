"""Who is calling: the Uku company, user, role and plan, taken from the JWT claims only.

API Gateway's JWT authorizer has verified the token before the function runs; the claims arrive as strings in
`requestContext.authorizer.jwt.claims`. The company is never taken from a path or a body. `uku:companyId` must be
an identifier (`domain/identifiers.py`): a token whose company id holds a delimiter, a path trick or a control
character is refused with 403 TOKEN_CLAIMS_INVALID before anything is read or written.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from smartaccounts_sync.domain.identifiers import Identifier
from smartaccounts_sync.errors import (
    FieldProblem,
    PlanNotAllowed,
    RoleNotAllowed,
    TokenClaimsInvalid,
    TokenClaimsMissing,
)

Role = Literal["owner", "admin", "member"]
Plan = Literal["free", "team", "elite"]

MANAGING_ROLES: frozenset[str] = frozenset({"owner", "admin"})
MANAGING_PLANS: frozenset[str] = frozenset({"team", "elite"})


def _claim(loc: tuple) -> str:
    return ".".join(str(p) for p in loc)


class Caller(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    user_id: str = Field(alias="sub", min_length=1)
    company_id: Identifier = Field(alias="uku:companyId")
    role: Role = Field(alias="uku:role")
    plan: Plan = Field(alias="uku:plan")

    @classmethod
    def from_claims(cls, claims: dict[str, str] | None) -> Caller:
        try:
            return cls.model_validate(claims or {})
        except ValidationError as error:
            missing = [FieldProblem(_claim(e["loc"]), "missing") for e in error.errors() if e["type"] == "missing"]
            if missing:
                raise TokenClaimsMissing(missing) from None
            # the claim's value is not echoed: it is whatever the token carried
            raise TokenClaimsInvalid([FieldProblem(_claim(e["loc"]), "not valid") for e in error.errors()]) from None

    @property
    def may_manage(self) -> bool:
        return self.role in MANAGING_ROLES and self.plan in MANAGING_PLANS

    def require_manager(self) -> None:
        """Management needs role owner or admin and plan team or elite; says which rule failed."""
        if self.role not in MANAGING_ROLES:
            raise RoleNotAllowed(
                f"Only a Company Owner or Company Admin can change the SmartAccounts integration; your role is "
                f"{self.role}."
            )
        if self.plan not in MANAGING_PLANS:
            raise PlanNotAllowed(
                f"The SmartAccounts integration needs a Team or Elite Uku subscription; this company is on "
                f"{self.plan}."
            )
