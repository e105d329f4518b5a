"""Agreement with COINr 1.1 itself, run in R on its ASEM example (skipped without R + COINr).

`coinr_reference.R` asks COINr for its results (the example coin built step by step, statistics,
Cronbach's alpha, normalisation and aggregation variants, Copeland, a forced `log_CT` fallback,
the sensitivity estimators) and writes them at 17 significant digits; each is rebuilt here from
COINr's input of the step and must agree to 1e-9.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from carbonlink.indices import diagnostics as dg
from carbonlink.indices import methods as m
from carbonlink.indices.data import IndicatorData, spec_from_coinr_meta
from carbonlink.indices.pipeline import (
    Framework,
    IndexResult,
    aggregate,
    build,
    build_panel,
    normalise,
    treat,
)
from carbonlink.indices.spec import AggregateStep, NormaliseStep, TreatStep
from carbonlink.indices.uncertainty import cut_index, sobol_indices

SCRIPT = Path(__file__).with_name("coinr_reference.R")
TOL = 1e-9


def _coinr_available() -> bool:
    if shutil.which("Rscript") is None:
        return False
    probe = subprocess.run(
        ["Rscript", "-e", "suppressMessages(library(COINr))"], capture_output=True, check=False
    )
    return probe.returncode == 0


pytestmark = pytest.mark.skipif(
    not _coinr_available(), reason="R with the COINr package not installed"
)


@pytest.fixture(scope="module")
def ref(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("coinr")
    subprocess.run(["Rscript", str(SCRIPT), str(out)], check=True, capture_output=True)
    return out


def _read(ref: Path, name: str, key: str = "uCode") -> pd.DataFrame:
    return pd.read_csv(ref / f"{name}.csv", na_values=["NA"]).set_index(key)


def _diff(ours: pd.DataFrame, theirs: pd.DataFrame) -> float:
    theirs = theirs.loc[ours.index, ours.columns]
    a, b = ours.to_numpy(float), theirs.to_numpy(float)
    finite = np.isfinite(a)
    # NaN and ±inf (x / max with max 0, as in R) must sit at the same places with the same value
    assert np.array_equal(finite, np.isfinite(b))
    np.testing.assert_array_equal(a[~finite], b[~finite])
    return float(np.max(np.abs(a[finite] - b[finite]), initial=0.0))


@pytest.fixture(scope="module")
def built(ref: Path) -> IndexResult:
    idata = pd.read_csv(ref / "iData.csv", na_values=["NA"])
    imeta = pd.read_csv(ref / "iMeta.csv", na_values=["NA"])
    steps = {
        "order": ["denominate", "impute", "screen", "treat"],
        "impute": {"method": "mean_group", "group": "EurAsia_group"},
        "screen": {"by": "byNA", "dat_thresh": 0.9},
        "treat": {"winmax": 5},
    }
    return build(spec_from_coinr_meta(imeta, "ASEM", steps=steps), IndicatorData(idata))


def test_example_coin_every_dataset(ref: Path, built: IndexResult) -> None:
    for name in (
        "Raw",
        "Denominated",
        "Imputed",
        "Screened",
        "Treated",
        "Normalised",
        "Aggregated",
    ):
        assert _diff(built.datasets[name], _read(ref, name)) < TOL, name
    theirs = m.rank_min(_read(ref, "Aggregated").loc[built.scores.index, "Index"].to_numpy(), True)
    np.testing.assert_array_equal(built.ranks["Index"].to_numpy(), theirs)
    details = _read(ref, "treat_details", "iCode")
    ours = built.treatment.set_index("iCode")
    nwin = details["winsorise.nwin"].dropna()
    np.testing.assert_array_equal(ours.loc[nwin.index, "n_winsorised"], nwin.to_numpy())


def test_statistics_and_reliability(ref: Path, built: IndexResult) -> None:
    theirs = _read(ref, "stats_raw", "iCode")
    ours = dg.indicator_stats(built.datasets["Raw"]).set_index("iCode").loc[theirs.index]
    numeric = ["Min", "Max", "Mean", "Median", "Std", "Skew", "Kurt", "N.Unique", "Frc.NonZero"]
    assert _diff(ours[numeric], theirs[numeric]) < TOL
    flags = ["Flag.Avail", "Flag.NonZero", "Flag.Unique", "Flag.SkewKurt"]
    assert (ours[flags].to_numpy() == theirs[flags].to_numpy()).all()
    fw = built.framework
    p2p = [c for c in fw.indicators if fw.parent[c] == "P2P"]
    alpha = float(pd.read_csv(ref / "cronbach_P2P.csv")["alpha"][0])
    assert abs(dg.cronbach_alpha(built.datasets["Normalised"][p2p]) - alpha) < TOL


def test_normalisation_aggregation_and_treatment_variants(ref: Path, built: IndexResult) -> None:
    fw: Framework = built.framework
    treated = _read(ref, "Treated")[fw.indicators]
    variants = {
        "Z": {"method": "zscore", "params": {"m_sd": [10, 2]}},
        "N1": {"method": "minmax", "params": {"l_u": [1, 100]}},
        "PR": {"method": "prank"},
        "D2M": {"method": "dist2max"},
        "FM": {"method": "fracmax"},
        "RK": {"method": "rank"},
    }
    for name, step in variants.items():
        ours = normalise(treated, NormaliseStep.model_validate(step), fw.spec)
        assert _diff(ours, _read(ref, name)[fw.indicators]) < TOL, name
    n1 = _read(ref, "N1")[fw.indicators]
    for name, step in {
        "AggG": {"method": "gmean"},
        "AggH": {"method": "hmean"},
        "AggP": {"method": "genmean", "p": 2},
    }.items():
        ours = aggregate(fw, n1, fw.spec_weight, AggregateStep.model_validate(step))
        assert _diff(ours, _read(ref, name)[ours.columns]) < TOL, name
    w = pd.read_csv(ref / "copeland_w.csv")
    cop = _read(ref, "copeland_Physical")
    ours = m.copeland(n1[w["iCode"].tolist()].to_numpy(), w["w"].to_numpy(float))
    np.testing.assert_array_equal(ours, cop.loc[n1.index, "cop"].to_numpy())
    t1, details = treat(_read(ref, "Screened")[fw.indicators], TreatStep(winmax=1))
    assert _diff(t1, _read(ref, "T1")[fw.indicators]) < TOL
    assert (details["transform"] == "log_CT").sum() >= 5


def test_sensitivity_estimators(ref: Path) -> None:
    yy = np.array([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3, 8, 4.0])
    theirs = pd.read_csv(ref / "sa_estimate.csv")
    si, sti, _ = sobol_indices(yy, 5, 2)
    np.testing.assert_allclose(si, theirs["Si"], rtol=0, atol=TOL)
    np.testing.assert_allclose(sti, theirs["STi"], rtol=0, atol=TOL)


def test_sampling_rule_of_discrete_inputs(ref: Path) -> None:
    theirs = pd.read_csv(ref / "sample_2_para.csv")
    ours = cut_index(theirs["u"].to_numpy(float), 3)
    np.testing.assert_array_equal(ours, theirs["opt"].to_numpy() - 1)


@pytest.mark.parametrize("method", ["latest", "linear"])
def test_panel_imputation(ref: Path, method: str) -> None:
    panel = pd.read_csv(ref / "iData_p.csv", na_values=["NA"])
    imeta = pd.read_csv(ref / "iMeta.csv", na_values=["NA"])
    theirs = pd.read_csv(ref / f"panel_{method}.csv", na_values=["NA"])
    for year in sorted(panel["Time"].unique())[1:]:
        steps = {"denominate": False, "impute": {"method": method}}
        spec = spec_from_coinr_meta(imeta, "ASEM", steps=steps).model_copy(
            update={"time": int(year)}
        )
        ours = build(spec, IndicatorData(panel)).datasets["Imputed"]
        expected = theirs[theirs["Time"] == year].set_index("uCode")
        assert _diff(ours, expected) < TOL, year


def test_distance_to_target_from_imeta(ref: Path, built: IndexResult) -> None:
    fw = built.framework
    treated = _read(ref, "Treated")[fw.indicators]
    ours = normalise(treated, NormaliseStep(method="dist2targ"), fw.spec)
    assert _diff(ours, _read(ref, "D2T")[fw.indicators]) < TOL


def test_pca_weights_per_group(ref: Path, built: IndexResult) -> None:
    fw = built.framework
    theirs = _read(ref, "pca_weights", "iCode")
    norm = _read(ref, "Normalised")[fw.indicators]
    for parent in fw.codes[2]:
        kids = fw.children[parent]
        if len(kids) < 2:
            continue
        load, _ = m.pca_weights(norm[kids].to_numpy(float), np.ones(len(kids)))
        # a component's sign is arbitrary (LAPACK in both); magnitudes must agree
        expected = np.abs(theirs.loc[kids, "Weight"].to_numpy(float))
        np.testing.assert_allclose(np.abs(load), expected, rtol=0, atol=TOL)


def test_panel_with_normalisation_over_all_years(ref: Path) -> None:
    panel = pd.read_csv(ref / "iData_p.csv", na_values=["NA"])
    imeta = pd.read_csv(ref / "iMeta.csv", na_values=["NA"])
    steps = {
        "denominate": False,
        "screen": {"by": "byNA", "dat_thresh": 0.9},
        "treat": {},
        "normalise": {"panel_global": True},
    }
    spec = spec_from_coinr_meta(imeta, "ASEM", steps=steps)
    results = build_panel(spec, IndicatorData(panel))
    for name in ("Screened", "Treated", "Normalised", "Aggregated"):
        theirs = pd.read_csv(ref / f"purse_{name}.csv", na_values=["NA"])
        for year, res in results.items():
            expected = theirs[theirs["Time"] == year].drop(columns="Time").set_index("uCode")
            ours = res.datasets[name]
            assert sorted(ours.index) == sorted(expected.index), (name, year)
            assert _diff(ours, expected) < TOL, (name, year)
