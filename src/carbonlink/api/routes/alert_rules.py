"""Alert rules under /api/v1: the thresholds every posted reading is checked against."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Path, Response
from pydantic import Field

from carbonlink.api.deps import Context, Reader, ServiceContext, Writer
from carbonlink.api.routes.v1 import PREFIX, READ, WRITE, ApiModel, not_found
from carbonlink.errors import InputError
from carbonlink.monitor.rules import AlertRule, validate_rules
from carbonlink.store import results

router = APIRouter(prefix=PREFIX)


class AlertRuleIn(ApiModel):
    """An alert rule checked on every reading posted (see `carbonlink.monitor.rules`)."""

    id: str = Field(min_length=1, max_length=64, examples=["gas-above-500"])
    kind: Literal["threshold", "rate_of_change", "above_baseline", "meter_offline"] = Field(
        examples=["threshold"]
    )
    meter_id: str = Field(
        min_length=1, max_length=64, examples=["mtr-0a1b2c3d4e5f"], description="'*' = every meter"
    )
    above: float | None = Field(default=None, allow_inf_nan=False, examples=[500.0])
    below: float | None = Field(default=None, allow_inf_nan=False, examples=[None])
    max_change_per_hour: float | None = Field(default=None, allow_inf_nan=False, examples=[None])
    baseline_ratio: float | None = Field(
        default=None,
        allow_inf_nan=False,
        examples=[None],
        description="above_baseline: alert when a reading exceeds this × the meter's seasonal "
        "median for its hour of the week (e.g. 1.5)",
    )
    offline_after_s: int | None = Field(
        default=None,
        ge=1,
        le=366 * 86400,
        examples=[None],
        description="meter_offline: seconds without a reading (at most a year)",
    )
    severity: Literal["info", "warning", "critical"] = Field(
        default="warning", examples=["warning"]
    )


def _rule_out(rule: AlertRule) -> AlertRuleIn:
    return AlertRuleIn(
        id=rule.id,
        kind=rule.kind,
        meter_id=rule.meter_id,
        above=rule.above,
        below=rule.below,
        max_change_per_hour=rule.max_change_per_hour,
        baseline_ratio=rule.baseline_ratio,
        offline_after_s=int(rule.offline_after.total_seconds()) if rule.offline_after else None,
        severity=rule.severity,
    )


@router.get("/alert-rules", response_model=list[AlertRuleIn], responses=READ, tags=["monitoring"])
def list_alert_rules(caller: Reader, ctx: Context) -> list[AlertRuleIn]:
    """The alert rules readings posted by the caller's organization are checked against."""
    return [_rule_out(r) for r in results.alert_rules_of(ctx.engine, caller.organization_id)]


@router.put("/alert-rules", response_model=list[AlertRuleIn], responses=WRITE, tags=["monitoring"])
def replace_alert_rules(
    rules: Annotated[
        list[AlertRuleIn],
        Body(
            max_length=500,
            openapi_examples={
                "gas above 500": {
                    "value": [
                        {
                            "id": "gas-above-500",
                            "kind": "threshold",
                            "meter_id": "mtr-0a1b2c3d4e5f",
                            "above": 500,
                        }
                    ]
                }
            },
        ),
    ],
    caller: Writer,
    ctx: Context,
) -> list[AlertRuleIn]:
    """Replace the organization's alert rules; each names one of its meters, or '*' for all.

    A threshold, rate-of-change or meter-offline rule is checked on every later batch of
    `POST /api/v1/readings`; an empty list removes them all.
    """
    return _save(ctx, caller.organization_id, rules)


def _save(ctx: ServiceContext, organization_id: str, rules: list[AlertRuleIn]) -> list[AlertRuleIn]:
    raw = []
    for rule in rules:
        fields = rule.model_dump(exclude_none=True, exclude={"offline_after_s"})
        if rule.offline_after_s is not None:
            fields["offline_after"] = timedelta(seconds=rule.offline_after_s)
        raw.append(fields)
    meters = [m.id for m in ctx.data.meters(organization_id)]
    checked = validate_rules(raw, known_meters=meters)
    results.save_alert_rules(ctx.engine, organization_id, checked)
    return [_rule_out(r) for r in checked]


RuleId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[^\x00/]+$")]


@router.put(
    "/alert-rules/{rule_id}", response_model=AlertRuleIn, responses=WRITE, tags=["monitoring"]
)
def put_alert_rule(rule_id: RuleId, rule: AlertRuleIn, caller: Writer, ctx: Context) -> AlertRuleIn:
    """Create or replace one alert rule (its ``id`` must be the one in the path).

    The other rules are kept as they are; the rule is checked like those of the whole list.
    """
    if rule.id != rule_id:
        raise InputError(
            f"the rule's id {rule.id!r} differs from {rule_id!r} in the path",
            record=rule_id,
            hint="send the rule to /api/v1/alert-rules/<its id>",
        )
    current = [_rule_out(r) for r in results.alert_rules_of(ctx.engine, caller.organization_id)]
    kept = [r if r.id != rule_id else rule for r in current]
    if rule_id not in {r.id for r in current}:
        kept.append(rule)
    saved = _save(ctx, caller.organization_id, kept)
    return next(r for r in saved if r.id == rule_id)


@router.delete("/alert-rules/{rule_id}", status_code=204, responses=WRITE, tags=["monitoring"])
def delete_alert_rule(rule_id: RuleId, caller: Writer, ctx: Context) -> Response:
    """Remove one alert rule; its open alerts stay until someone acknowledges them."""
    current = results.alert_rules_of(ctx.engine, caller.organization_id)
    if rule_id not in {r.id for r in current}:
        raise not_found("alert-rule", rule_id)
    results.save_alert_rules(
        ctx.engine, caller.organization_id, [r for r in current if r.id != rule_id]
    )
    return Response(status_code=204)
