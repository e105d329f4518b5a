"""What every router under /api/v1 shares: prefix, role names, input model, problem lists."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator

from carbonlink.api.problems import NotFoundError, problem_responses
from carbonlink.store.accounts_schema import ROLES

PREFIX = "/api/v1"
READ = problem_responses(401, 403, 422)
READ_ONE = problem_responses(401, 403, 404, 422)
WRITE = problem_responses(401, 403, 404, 422)

Role = Literal["admin", "editor", "viewer", "auditor", "supplier", "lender"]
assert set(ROLES) == set(Role.__args__)  # type: ignore[attr-defined]


NO_NUL = r"^[^\x00]*$"


class ApiModel(BaseModel):
    """Input model: text never carries NUL characters (PostgreSQL text cannot hold them)."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("text must not contain NUL characters")
        return value


def not_found(kind: str, ident: str) -> NotFoundError:
    return NotFoundError(
        f"{kind} '{ident}' not found in your organization",
        record=ident,
        hint=f"list them with GET /api/v1/{kind}s",
    )
