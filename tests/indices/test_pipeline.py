"""Building an index from a spec: every step's dataset, weights, hashes, loaders and the CLI."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from carbonlink.cli import app
from carbonlink.indices.data import IndicatorData, read_table, spec_from_coinr_meta
from carbonlink.indices.errors import IndexDataError, IndexSpecError, IndexWarning
from carbonlink.indices.examples import build_examples
from carbonlink.indices.pipeline import build
from carbonlink.indices.spec import load_spec, spec_from_dict

SPEC = {
    "name": "toy",
    "framework": [
        {"code": "IDX"},
        {"code": "A", "parent": "IDX", "weight": 2},
        {"code": "B", "parent": "IDX", "weight": 1},
    ],
    "indicators": [
        {"code": "a1", "parent": "A"},
        {"code": "a2", "parent": "A", "direction": -1},
        {"code": "b1", "parent": "B", "denominator": "pop", "denominator_scale": 100},
    ],
    "steps": {"impute": {"method": "mean"}},
}

DATA = pd.DataFrame(
    {
        "uCode": ["U1", "U2", "U3"],
        "uName": ["One", "Two", "Three"],
        "pop": [10.0, 20.0, 40.0],
        "a1": [1.0, 2.0, 3.0],
        "a2": [30.0, np.nan, 10.0],
        "b1": [5.0, 20.0, 20.0],
    }
)


def test_build_by_hand() -> None:
    res = build(spec_from_dict(SPEC), IndicatorData(DATA))
    # b1 per pop × 100: 50, 100, 50; a2 imputed with the mean 20.
    np.testing.assert_allclose(res.datasets["Denominated"]["b1"], [50, 100, 50])
    np.testing.assert_allclose(res.datasets["Imputed"]["a2"], [30, 20, 10])
    norm = res.datasets["Normalised"]
    np.testing.assert_allclose(norm["a1"], [0, 50, 100])
    np.testing.assert_allclose(norm["a2"], [0, 50, 100])  # direction −1
    np.testing.assert_allclose(norm["b1"], [0, 100, 0])
    # A = mean(a1, a2) = 0, 50, 100; B = b1; IDX = (2A + B)/3
    np.testing.assert_allclose(res.scores["IDX"], [0, 200 / 3, 200 / 3])
    np.testing.assert_array_equal(res.ranks["IDX"], [3, 1, 1])
    eff = dict(zip(res.weights["iCode"], res.weights["EffWeight"], strict=True))
    assert eff["a1"] == pytest.approx(1 / 3)
    assert eff["b1"] == pytest.approx(1 / 3)
    assert list(res.index_table()["uName"])[:2] == ["Two", "Three"]


def test_content_hash_tracks_the_method() -> None:
    a = spec_from_dict(SPEC)
    b = spec_from_dict(SPEC)
    assert a.content_hash() == b.content_hash()
    changed = {**SPEC, "steps": {"aggregate": {"method": "gmean"}}}
    assert spec_from_dict(changed).content_hash() != a.content_hash()
    assert build(a, IndicatorData(DATA)).spec_hash == a.content_hash()


def test_spec_errors_name_the_problem() -> None:
    bad = {**SPEC, "indicators": [*SPEC["indicators"], {"code": "x", "parent": "nope"}]}
    with pytest.raises(IndexSpecError, match="nope"):
        spec_from_dict(bad)
    mixed = {
        "name": "m",
        "framework": [{"code": "R"}, {"code": "A", "parent": "R"}],
        "indicators": [{"code": "i", "parent": "A"}, {"code": "j", "parent": "R"}],
    }
    with pytest.raises(IndexSpecError, match="different levels"):
        spec_from_dict(mixed)
    with pytest.raises(IndexDataError, match="a1"):
        build(spec_from_dict(SPEC), IndicatorData(DATA.drop(columns="a1")))


def test_geometric_mean_of_zero_is_refused() -> None:
    spec = spec_from_dict({**SPEC, "steps": {"impute": {}, "aggregate": {"method": "gmean"}}})
    with pytest.raises(Exception, match="geometric mean"):
        build(spec, IndicatorData(DATA))
    ok = {**SPEC, "steps": {"impute": {}, "normalise": {"params": {"l_u": [1, 100]}}}}
    ok["steps"]["aggregate"] = {"method": ["gmean", "amean"]}
    res = build(spec_from_dict(ok), IndicatorData(DATA))
    assert np.all(res.scores["IDX"] >= 1)


def test_ahp_and_objective_weights() -> None:
    spec = spec_from_dict(
        {
            **SPEC,
            "steps": {
                "impute": {},
                "weight": {"method": "ahp", "ahp": {"IDX": [[1, 3], [1 / 3, 1]]}},
            },
        }
    )
    res = build(spec, IndicatorData(DATA))
    w = dict(zip(res.weights["iCode"], res.weights["Weight"], strict=True))
    assert w["A"] == pytest.approx(0.75)
    assert res.ahp.loc[0, "CR"] == 0.0
    four = pd.DataFrame(
        {
            "uCode": ["U1", "U2", "U3", "U4"],
            "pop": [1.0, 2.0, 3.0, 4.0],
            "a1": [1.0, 2.0, 3.0, 4.0],
            "a2": [30.0, 10.0, 20.0, 5.0],
            "b1": [5.0, 20.0, 20.0, 1.0],
        }
    )
    for method in ("entropy", "critic", "cv", "pca", "combined"):
        spec = spec_from_dict({**SPEC, "steps": {"weight": {"method": method}}})
        res = build(spec, IndicatorData(four))
        leaf = res.weights[res.weights["Level"] == 1]["EffWeight"]
        assert leaf.sum() == pytest.approx(1.0)


def test_screening_and_panel_imputation() -> None:
    panel = pd.DataFrame(
        {
            "uCode": ["U1", "U1", "U2", "U2", "U3", "U3"],
            "Time": [2020, 2021] * 3,
            "a1": [1.0, np.nan, 2.0, 4.0, 3.0, 6.0],
            "a2": [1.0, 2.0, 1.0, 2.0, np.nan, np.nan],
            "b1": [1.0, 1.0, 2.0, 3.0, 3.0, 5.0],
            "pop": [1.0] * 6,
        }
    )
    spec = spec_from_dict({**SPEC, "steps": {"impute": {"method": "latest"}}})
    # a2 is 2 for both units that have it in 2021: constant, so it is said to drop out
    with pytest.warns(IndexWarning, match="a2 normalises to no value"):
        res = build(spec, IndicatorData(panel))
    assert res.datasets["Imputed"].loc["U1", "a1"] == 1.0
    assert np.isnan(res.datasets["Imputed"].loc["U3", "a2"])
    screened = spec_from_dict(
        {**SPEC, "steps": {"screen": {"dat_thresh": 0.9}, "impute": {"method": "linear"}}}
    )
    # one unit left: every indicator is constant, and each is said to drop out
    with pytest.warns(IndexWarning, match="normalises to no value"):
        res = build(screened, IndicatorData(panel))
    assert list(res.datasets["Screened"].index) == ["U2"]
    # COINr's example order: impute first, then screen what is still missing.
    order = ["denominate", "impute", "screen", "treat"]
    late = spec_from_dict(
        {
            **SPEC,
            "steps": {
                "order": order,
                "screen": {"dat_thresh": 0.9},
                "impute": {"method": "linear"},
            },
        }
    )
    with pytest.warns(IndexWarning, match="a2 normalises to no value"):
        res = build(late, IndicatorData(panel))
    assert list(res.datasets["Screened"].index) == ["U1", "U2"]


def test_coinr_two_table_layout() -> None:
    imeta = pd.DataFrame(
        {
            "iCode": ["a1", "a2", "A", "Index", "pop"],
            "iName": ["a one", "a two", "Pillar A", "Index", "Population"],
            "Level": [1, 1, 2, 3, np.nan],
            "Parent": ["A", "A", "Index", np.nan, np.nan],
            "Direction": [1, -1, 1, 1, np.nan],
            "Weight": [1, 1, 1, 1, np.nan],
            "Type": ["Indicator", "Indicator", "Aggregate", "Aggregate", "Denominator"],
        }
    )
    spec = spec_from_coinr_meta(imeta, "from iMeta")
    assert spec.levels() == {"a1": 1, "a2": 1, "A": 2, "Index": 3}
    res = build(spec, IndicatorData(DATA))
    np.testing.assert_allclose(res.scores["Index"], [0, 50, 100])


def test_shipped_examples_build_and_cli_writes_every_table(tmp_path: Path) -> None:
    folder = resources.files("carbonlink.data").joinpath("indices", "examples")
    data = Path(str(folder.joinpath("brics_2022.csv")))
    for name in ("brics_iidi.yaml", "digital_manufacturing.yaml"):
        spec = load_spec(Path(str(folder.joinpath(name))))
        res = build(spec, read_table(data))
        assert len(res.scores) == 5
        assert res.scores.iloc[:, -1].notna().all()
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        ["index", "build", str(folder.joinpath("brics_iidi.yaml")), str(data), "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    html = (out / "report.html").read_text(encoding="utf-8")
    for marker in ("Framework", "Ranking", "Profiles", "Correlations", "rank intervals", "<svg"):
        assert marker in html
    assert "No value for any country" not in html
    csvs = {p.stem for p in (out / "csv").glob("*.csv")}
    assert {
        "Index",
        "Data_Raw",
        "Data_Treated",
        "Data_Normalised",
        "Weights",
        "RankIntervals",
    } <= csvs
    with pd.ExcelFile(out / "index.xlsx", engine="openpyxl") as book:
        assert "Data_Aggregated" in book.sheet_names


def test_docs_spec_example_is_valid() -> None:
    doc = Path(__file__).resolve().parents[2] / "docs" / "indices.md"
    text = doc.read_text(encoding="utf-8")
    block = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    spec = spec_from_dict(yaml.safe_load(block))
    assert spec.levels()["IDX"] == 3


def test_xlsx_with_coinr_sheets_through_the_cli(tmp_path: Path) -> None:
    imeta = pd.DataFrame(
        {
            "iCode": ["a1", "a2", "b1", "A", "B", "IDX"],
            "Level": [1, 1, 1, 2, 2, 3],
            "Parent": ["A", "A", "B", "IDX", "IDX", None],
            "Direction": [1, -1, 1, 1, 1, 1],
            "Weight": [1, 1, 1, 2, 1, 1],
            "Type": ["Indicator"] * 3 + ["Aggregate"] * 3,
        }
    )
    book = tmp_path / "coin.xlsx"
    with pd.ExcelWriter(book, engine="openpyxl") as xw:
        DATA.to_excel(xw, sheet_name="iData", index=False)
        imeta.to_excel(xw, sheet_name="iMeta", index=False)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["index", "build", str(book), str(book), "--out", str(out)])
    assert result.exit_code == 0, result.output
    scores = pd.read_csv(out / "csv" / "Scores.csv").set_index("uCode")
    # a2 imputed with its mean 20; A = (0, 50, 100); B = b1 raw min-max (5, 20, 20) = (0, 100, 100)
    np.testing.assert_allclose(scores["IDX"], [0, 200 / 3, 100])


def test_build_examples_helper(tmp_path: Path) -> None:
    reports = build_examples(tmp_path)
    assert set(reports) == {"brics_iidi.yaml", "digital_manufacturing.yaml"}
    assert all(p.exists() for p in reports.values())


def test_imeta_with_steps_file_through_the_cli(tmp_path: Path) -> None:
    imeta = pd.DataFrame(
        {
            "iCode": ["a1", "a2", "A"],
            "Level": [1, 1, 2],
            "Parent": ["A", "A", None],
            "Direction": [1, 1, 1],
            "Weight": [1, 1, 1],
            "Type": ["Indicator", "Indicator", "Aggregate"],
        }
    )
    meta_csv = tmp_path / "iMeta.csv"
    imeta.to_csv(meta_csv, index=False)
    data_csv = tmp_path / "iData.csv"
    DATA.to_csv(data_csv, index=False)
    steps = tmp_path / "steps.yaml"
    steps.write_text("impute: {method: median}\nnormalise: {method: rank}\n", encoding="utf-8")
    out = tmp_path / "out"
    args = [
        "index",
        "build",
        str(meta_csv),
        str(data_csv),
        "--out",
        str(out),
        "--steps",
        str(steps),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    norm = pd.read_csv(out / "csv" / "Data_Normalised.csv").set_index("uCode")
    # a2 = (30, 20 imputed median, 10) ranked ascending: 3, 2, 1
    np.testing.assert_array_equal(norm["a2"], [3, 2, 1])
