"""The API against its own OpenAPI document: generated requests, no 5xx, responses as declared."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from pydantic import BaseModel
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from carbonlink.domain import inventory as inventory_module

if TYPE_CHECKING:
    from conftest import Service

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.mark.slow
def test_api_conforms_to_its_schema(service: Service) -> None:
    """Each operation with a few generated requests (fixed seed) as an admin of the demo plant."""
    key = service.app.state.ctx.accounts.create_api_key("org-demo-steel", "schema test", "admin")
    headers = {"Authorization": f"Bearer {key}"}
    schema = schemathesis.openapi.from_asgi("/openapi.json", service.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=6,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case) -> None:  # type: ignore[no-untyped-def]
            case.call_and_validate(headers=headers, checks=CHECKS)

        check()


def test_every_operation_is_documented_with_an_example(service: Service) -> None:
    document = service.client().get("/openapi.json").json()
    missing = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if not operation.get("description") and not operation.get("summary"):
                missing.append(f"{method} {path}: description")
            if "requestBody" in operation:
                content = operation["requestBody"]["content"]
                body = next(iter(content.values()))
                ref = body.get("schema", {}).get("$ref", "")
                has_example = "examples" in body or "example" in body or ref
                if not has_example:
                    missing.append(f"{method} {path}: request example")
    assert missing == []
    # every property of the API's own schemas carries an example; the inventory document
    # (the domain's model) is documented by the full example of its request body instead
    domain = {
        name
        for name, obj in vars(inventory_module).items()
        if isinstance(obj, type) and issubclass(obj, BaseModel)
    }
    compute = document["paths"]["/api/v1/inventories/compute"]["post"]
    assert compute["requestBody"]["content"]["application/json"]["examples"]
    bare = [
        f"{name}.{prop}"
        for name, spec in document["components"]["schemas"].items()
        if name not in {"HTTPValidationError", "ValidationError", *domain}
        and not name.startswith("Body_")
        for prop, field in spec.get("properties", {}).items()
        if "examples" not in field
        and "$ref" not in field
        and "anyOf" not in field
        and field.get("type") != "array"
        and "const" not in field
    ]
    assert bare == []
