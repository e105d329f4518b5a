"""The shipped BRICS examples: every value is cited (year, series, file, commit); both build."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pytest

from carbonlink.indices.data import read_table
from carbonlink.indices.examples import EXAMPLE_SPECS, example_path
from carbonlink.indices.pipeline import build
from carbonlink.indices.spec import load_spec

KEYS = ("uCode", "uName", "Time")
COMMIT = re.compile(r"^[0-9a-f]{40}$")
CITATION_FIELDS = ("unit", "dataset", "series", "licence", "repository", "path", "commit")


def citation_problems(data_csv: Path, sources_csv: Path) -> list[str]:
    """Every problem with the citation of a data table: one row per (indicator, unit) value."""
    data = pd.read_csv(data_csv, comment="#", dtype=str).set_index("uCode")
    sources = pd.read_csv(sources_csv, dtype=str, keep_default_na=False)
    problems: list[str] = []
    dupes = sources[sources.duplicated(["indicator", "uCode"], keep=False)]
    problems += [f"{r.indicator}/{r.uCode}: cited twice" for r in dupes.itertuples()]
    cited = sources.drop_duplicates(["indicator", "uCode"]).set_index(["indicator", "uCode"])
    indicators = [c for c in data.columns if c not in KEYS]
    for col in indicators:
        for unit, raw in data[col].items():
            key = (col, unit)
            if pd.isna(raw):
                if key in cited.index:
                    problems.append(f"{col}/{unit}: source row for an empty value")
                continue
            if key not in cited.index:
                problems.append(f"{col}/{unit}: value {raw} has no source row")
                continue
            row = cited.loc[key]
            if float(row["value"]) != float(raw):
                problems.append(f"{col}/{unit}: data {raw} but source row says {row['value']}")
            if not row["year"].isdigit() or int(row["year"]) > int(data.loc[unit, "Time"]):
                problems.append(f"{col}/{unit}: year {row['year']!r} is after the reference year")
            problems += [f"{col}/{unit}: no {f}" for f in CITATION_FIELDS if not row[f].strip()]
            if not COMMIT.match(row["commit"]):
                problems.append(f"{col}/{unit}: commit {row['commit']!r} is not a git hash")
    unknown = set(cited.index.get_level_values("indicator")) - set(indicators)
    problems += [f"{c}: cited but not a column of the data" for c in sorted(unknown)]
    return problems


def test_every_shipped_value_has_exactly_one_source_row() -> None:
    problems = citation_problems(
        example_path("brics_2022.csv"), example_path("brics_2022_sources.csv")
    )
    assert problems == []


def test_citation_check_finds_uncited_and_mismatched_values(tmp_path: Path) -> None:
    data = example_path("brics_2022.csv").read_text(encoding="utf-8")
    sources = pd.read_csv(example_path("brics_2022_sources.csv"), dtype=str, keep_default_na=False)
    sources = sources[~((sources.indicator == "PATENTS") & (sources.uCode == "IND"))]
    sources.loc[(sources.indicator == "RD_GDP") & (sources.uCode == "CHN"), "value"] = "9.99"
    sources.loc[(sources.indicator == "GDP") & (sources.uCode == "BRA"), "commit"] = "main"
    (tmp_path / "d.csv").write_text(data, encoding="utf-8")
    sources.to_csv(tmp_path / "s.csv", index=False)
    problems = citation_problems(tmp_path / "d.csv", tmp_path / "s.csv")
    assert len(problems) == 3
    assert any(p.startswith("PATENTS/IND: value") and "no source row" in p for p in problems)
    assert any(p.startswith("RD_GDP/CHN: data") for p in problems)
    assert any(p.startswith("GDP/BRA: commit 'main'") for p in problems)


@pytest.mark.parametrize("name", EXAMPLE_SPECS)
def test_spec_sources_name_the_cited_series_and_every_earlier_year(name: str) -> None:
    spec = load_spec(example_path(name))
    sources = pd.read_csv(example_path("brics_2022_sources.csv"), dtype=str)
    for ind in spec.indicators:
        rows = sources[sources.indicator == ind.code]
        assert len(rows) == 5, ind.code
        series = set(rows.series)
        assert len(series) == 1 and series.pop() in ind.source, ind.code
        for year in sorted(set(rows.year) - {str(spec.time)}):
            assert year in ind.source, f"{ind.code}: values from {year} not stated in the spec"


@pytest.mark.parametrize("name", EXAMPLE_SPECS)
def test_examples_build_with_a_value_for_every_indicator(name: str) -> None:
    spec = load_spec(example_path(name))
    data = read_table(example_path("brics_2022.csv"))
    assert data.frame[[i.code for i in spec.indicators]].notna().all().all()
    result = build(spec, data)
    top = spec.framework[0].code
    scores = result.scores[top]
    assert len(scores) == 5
    assert all(math.isfinite(s) for s in scores)
    assert scores.nunique() == 5
