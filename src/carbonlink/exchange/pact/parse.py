"""Reading PACT documents: JSON in, validated models out, or one error listing every problem."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from carbonlink.errors import ExchangeError
from carbonlink.exchange.pact.events import EVENT_TYPES, PactEvent
from carbonlink.exchange.pact.models import ProductFootprint

M = TypeVar("M", bound=BaseModel)

_EVENTS: TypeAdapter[PactEvent] = TypeAdapter(PactEvent)


class InvalidPactDocumentError(ExchangeError, ValueError):
    """A PACT document does not conform to the v3 schema; ``problems`` lists (path, message)."""

    def __init__(self, kind: str, problems: list[tuple[str, str]], *, record: str | None = None):
        self.kind = kind
        self.problems = problems
        listed = "; ".join(f"{path or '(document)'}: {message}" for path, message in problems[:10])
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        super().__init__(
            f"invalid PACT {kind}: {listed}{more}",
            record=record,
            hint='see the PACT v3.0.3 data model; decimals are JSON strings such as "1.5"',
        )


def parse_model(model: type[M], document: Mapping[str, Any] | str | bytes) -> M:
    """``document`` (a dict or JSON text) validated as ``model``."""
    data = _load(document, model.__name__)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidPactDocumentError(
            model.__name__, _problems(exc), record=_record(data)
        ) from exc


def parse_product_footprint(document: Mapping[str, Any] | str | bytes) -> ProductFootprint:
    """A `ProductFootprint` from a dict or JSON text."""
    return parse_model(ProductFootprint, document)


def parse_event(document: Mapping[str, Any] | str | bytes) -> PactEvent:
    """One of the four PACT v3 events from a dict or JSON text (chosen by its ``type``)."""
    data = _load(document, "event")
    kind = data.get("type") if isinstance(data, dict) else None
    if kind not in EVENT_TYPES:
        raise InvalidPactDocumentError(
            "event",
            [("type", f"{kind!r} is not a PACT v3 event type; use {' or '.join(EVENT_TYPES)}")],
            record=_record(data),
        )
    try:
        return _EVENTS.validate_python(data)
    except ValidationError as exc:
        raise InvalidPactDocumentError("event", _problems(exc), record=_record(data)) from exc


def _load(document: Mapping[str, Any] | str | bytes, kind: str) -> Any:
    if isinstance(document, str | bytes):
        try:
            return json.loads(document)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InvalidPactDocumentError(kind, [("", f"not JSON in UTF-8: {exc}")]) from exc
        except RecursionError as exc:
            raise InvalidPactDocumentError(kind, [("", "JSON nested too deeply")]) from exc
    return dict(document)


def _problems(exc: ValidationError) -> list[tuple[str, str]]:
    problems = []
    for error in exc.errors(include_url=False):
        path = ".".join(str(part) for part in error["loc"] if not _is_tag(part))
        message = error["msg"].removeprefix("Value error, ")
        problems.append((path, message))
    return problems


def _is_tag(part: object) -> bool:
    return isinstance(part, str) and part.startswith("org.wbcsd.pact.")


def _record(data: Any) -> str | None:
    if isinstance(data, dict) and isinstance(data.get("id"), str):
        return str(data["id"])
    return None
