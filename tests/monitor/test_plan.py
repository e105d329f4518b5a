import pytest

from carbonlink.errors import UnknownFactorError
from carbonlink.monitor.plan import TEMPLATE_IDS, completeness, load_template, plan_from_template


@pytest.mark.parametrize("template_id", TEMPLATE_IDS)
def test_every_template_loads_with_sources_and_citations(template_id: str) -> None:
    template = load_template(template_id)
    assert template.sources_of_template
    assert any(s.required for s in template.sources)
    assert all(s.name.zh and s.name.en for s in template.sources)


def test_unknown_template_names_the_choices() -> None:
    with pytest.raises(UnknownFactorError, match="iron_steel"):
        load_template("steel")


def test_steel_plan_completeness_finds_what_is_missing() -> None:
    template = load_template("iron_steel")
    plan = plan_from_template(
        "plant-1",
        template,
        {
            "boiler-1": "fuel_combustion",
            "flux": "flux",
            "power": "purchased_electricity",
            "bf": "blast_furnace",
        },
        meters={"power": ["main-incomer", "mill-feeder"]},
        methods={"bf": None},
    )
    findings = completeness(plan, template, meters_with_data=["main-incomer"])
    missing = {f.subject for f in findings if f.kind == "missing_source"}
    assert missing == {"electrodes", "purchased_pig_iron", "purchased_heat", "fixed_carbon"}
    assert [f.subject for f in findings if f.kind == "meter_without_data"] == ["mill-feeder"]
    assert [f.subject for f in findings if f.kind == "source_without_method"] == ["bf"]
    assert all(f.message_zh for f in findings)


def test_revision_is_a_new_version_pointing_at_the_old() -> None:
    template = load_template("cement")
    plan = plan_from_template("kiln", template, {"k": "kiln_fuels"})
    revised = plan.revise(e.model_copy(update={"tier": "3"}) for e in plan.entries)
    assert revised.version == 2
    assert revised.replaces == plan.content_hash
    assert revised.content_hash != plan.content_hash
