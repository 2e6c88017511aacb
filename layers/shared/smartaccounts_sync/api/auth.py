"""Who is calling: the Uku company, user, role and plan, taken from the JWT claims only.

API Gateway's JWT authorizer has verified the token before the function runs; the claims arrive as strings in
`requestContext.authorizer.jwt.claims`. The company is never taken from a path or a body.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from smartaccounts_sync.errors import FieldProblem, PlanNotAllowed, RoleNotAllowed, TokenClaimsMissing

Role = Literal["owner", "admin", "member"]
Plan = Literal["free", "team", "elite"]

MANAGING_ROLES: frozenset[str] = frozenset({"owner", "admin"})
MANAGING_PLANS: frozenset[str] = frozenset({"team", "elite"})


class Caller(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    user_id: str = Field(alias="sub", min_length=1)
    company_id: str = Field(alias="uku:companyId", min_length=1, max_length=128)
    role: Role = Field(alias="uku:role")
    plan: Plan = Field(alias="uku:plan")

    @classmethod
    def from_claims(cls, claims: dict[str, str] | None) -> Caller:
        try:
            return cls.model_validate(claims or {})
        except ValidationError as error:
            problems = [FieldProblem(".".join(str(p) for p in e["loc"]), e["msg"]) for e in error.errors()]
            raise TokenClaimsMissing(problems) from None

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
