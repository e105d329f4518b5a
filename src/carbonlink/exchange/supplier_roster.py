"""A list of suppliers to invite, read from CSV: one supplier per row, every row accounted for.

Columns (header row required, in any order, English or Chinese): ``name`` (名称), ``email``
(邮箱), ``organization`` (组织) and, optionally, ``company_id`` (企业标识, a URN). A row that
cannot be invited is returned with its line number and the reason; the good rows are returned
to be invited. Nothing is dropped silently: blank lines are the only rows skipped.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

__all__ = ["REASONS", "RosterError", "RosterRow", "read_roster"]

HEADERS = {
    "name": "name",
    "名称": "name",
    "email": "email",
    "e-mail": "email",
    "邮箱": "email",
    "organization": "organization",
    "organisation": "organization",
    "组织": "organization",
    "company_id": "company_id",
    "企业标识": "company_id",
}
REQUIRED = ("name", "email", "organization")
EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")

# The reasons a row is refused; the page shows them translated, the API as written here.
NO_HEADER = "the header row must name the columns name, email and organization"
WRONG_COLUMNS = "the row does not have as many columns as the header"
NO_NAME = "the name is empty"
BAD_EMAIL = "the e-mail address is not valid"
NO_ORGANIZATION = "the organization is empty"
BAD_COMPANY_ID = "the company id is not a URN (urn:…)"
TWICE = "this e-mail address is already on an earlier row"
INVITED = "a supplier with this e-mail address has been invited already"
REASONS = (
    NO_HEADER,
    WRONG_COLUMNS,
    NO_NAME,
    BAD_EMAIL,
    NO_ORGANIZATION,
    BAD_COMPANY_ID,
    TWICE,
    INVITED,
)


@dataclass(frozen=True, slots=True)
class RosterRow:
    """A supplier to invite, with the line of the file it came from."""

    line: int
    name: str
    email: str
    organization: str
    company_id: str | None = None


@dataclass(frozen=True, slots=True)
class RosterError:
    """A row that is not invited: its line, the reason (one of ``REASONS``) and the value."""

    line: int
    reason: str
    value: str = ""


def read_roster(
    text: str, *, known_emails: frozenset[str] = frozenset()
) -> tuple[list[RosterRow], list[RosterError]]:
    """The rows to invite and the refused rows of a supplier CSV.

    ``known_emails`` (lower case) are the addresses invited already; a row with one of them is
    refused rather than invited twice.
    """
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header: list[str] | None = None
    rows: list[RosterRow] = []
    errors: list[RosterError] = []
    seen: set[str] = set(known_emails)
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if header is None:
            header = [HEADERS.get(cell.strip().lower(), cell.strip().lower()) for cell in cells]
            if not all(column in header for column in REQUIRED):
                return [], [RosterError(line, NO_HEADER, ",".join(cells))]
            continue
        if len(cells) != len(header):
            errors.append(RosterError(line, WRONG_COLUMNS, ",".join(cells)))
            continue
        values = {column: cell.strip() for column, cell in zip(header, cells, strict=True)}
        email = values["email"].lower()
        company_id = values.get("company_id") or None
        if not values["name"]:
            errors.append(RosterError(line, NO_NAME))
        elif not EMAIL.match(email):
            errors.append(RosterError(line, BAD_EMAIL, values["email"]))
        elif not values["organization"]:
            errors.append(RosterError(line, NO_ORGANIZATION))
        elif company_id is not None and not company_id.lower().startswith("urn:"):
            errors.append(RosterError(line, BAD_COMPANY_ID, company_id))
        elif email in seen:
            reason = INVITED if email in known_emails else TWICE
            errors.append(RosterError(line, reason, email))
        else:
            seen.add(email)
            rows.append(RosterRow(line, values["name"], email, values["organization"], company_id))
    if header is None:
        errors.append(RosterError(1, NO_HEADER))
    return rows, errors
