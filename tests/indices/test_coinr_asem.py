"""Regression against COINr's own ASEM example (its published intermediate datasets).

COINr ships the ASEM example coin with every dataset it computed (Imputed → Treated → Normalised
→ Aggregated). Starting from COINr's input of each step, our step must give COINr's output to
1e-9. The data are read from a local clone of the COINr repository (never copied into this
project): set CARBONLINK_COINR_REPO to a git directory of github.com/bluefoxr/COINr.
"""

from __future__ import annotations

import os
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from carbonlink.indices.data import IndicatorData, spec_from_coinr_meta
from carbonlink.indices.pipeline import Framework, aggregate, build, normalise, treat
from carbonlink.indices.spec import TreatStep

REPO = Path(os.environ.get("CARBONLINK_COINR_REPO", "/work/.mirror/bluefoxr+COINr/repo"))

pytestmark = pytest.mark.skipif(
    not (REPO / "HEAD").exists() and not (REPO / ".git").exists(),
    reason="no local clone of COINr (set CARBONLINK_COINR_REPO)",
)


def _rda(name: str, tmp: Path) -> dict:
    rdata = pytest.importorskip("rdata")
    path = tmp / f"{name}.rda"
    git_dir = REPO / ".git" if (REPO / ".git").exists() else REPO
    blob = subprocess.run(
        ["git", "--git-dir", str(git_dir), "show", f"HEAD:data/{name}.rda"],
        check=True,
        capture_output=True,
    ).stdout
    path.write_bytes(blob)
    with warnings.catch_warnings():
        # rdata warns about R classes it has no constructor for (tibble, COIN); harmless.
        warnings.simplefilter("ignore")
        return rdata.read_rda(str(path))


@pytest.fixture(scope="module")
def asem(tmp_path_factory: pytest.TempPathFactory) -> tuple[Framework, dict[str, pd.DataFrame]]:
    tmp = tmp_path_factory.mktemp("asem")
    imeta = pd.DataFrame(_rda("ASEM_iMeta", tmp)["ASEM_iMeta"])
    coin = _rda("ASEM_COIN", tmp)["ASEM_COIN"]
    spec = spec_from_coinr_meta(imeta, "ASEM")
    fw = Framework(spec)
    data = {}
    for name in ("Imputed", "Treated", "Normalised", "Aggregated"):
        frame = pd.DataFrame(coin["Data"][name]).set_index("UnitCode")
        data[name] = frame
    return fw, data


def _max_diff(a: pd.DataFrame, b: pd.DataFrame) -> float:
    return float(np.nanmax(np.abs(a.to_numpy(float) - b.loc[a.index, a.columns].to_numpy(float))))


def test_outlier_treatment_matches_coinr(asem: tuple[Framework, dict[str, pd.DataFrame]]) -> None:
    fw, data = asem
    ours, details = treat(data["Imputed"][fw.indicators], TreatStep())
    assert _max_diff(ours, data["Treated"]) < 1e-9
    assert (details["n_winsorised"] > 0).sum() >= 10


def test_normalisation_matches_coinr(asem: tuple[Framework, dict[str, pd.DataFrame]]) -> None:
    fw, data = asem
    ours = normalise(data["Treated"][fw.indicators], fw.spec.steps.normalise, fw.spec)
    assert _max_diff(ours, data["Normalised"]) < 1e-9


def test_aggregation_matches_coinr(asem: tuple[Framework, dict[str, pd.DataFrame]]) -> None:
    fw, data = asem
    ours = aggregate(fw, data["Normalised"][fw.indicators], fw.spec_weight, fw.spec.steps.aggregate)
    common = [c for c in ours.columns if c in data["Aggregated"].columns]
    assert len(common) == len(ours.columns)
    assert _max_diff(ours[common], data["Aggregated"]) < 1e-9


def test_whole_build_from_coinr_raw_data(
    asem: tuple[Framework, dict[str, pd.DataFrame]], tmp_path: Path
) -> None:
    # COINr's example: Denominate → Impute (group mean by EurAsia group) → Treat → Normalise →
    # Aggregate. The raw values of the two COINr data files differ in the 8th significant digit,
    # so the comparison of the whole chain is to 1e-6.
    _, data = asem
    idata = pd.DataFrame(_rda("ASEM_iData", tmp_path)["ASEM_iData"])
    imeta = pd.DataFrame(_rda("ASEM_iMeta", tmp_path)["ASEM_iMeta"])
    steps = {"impute": {"method": "mean_group", "group": "EurAsia_group"}, "treat": {}}
    spec = spec_from_coinr_meta(imeta, "ASEM", steps=steps)
    res = build(spec, IndicatorData(idata))
    agg = res.datasets["Aggregated"]
    assert _max_diff(agg, data["Aggregated"]) < 1e-6
    assert list(res.ranks["Index"].sort_values().index[:3]) == list(
        data["Aggregated"]["Index"].sort_values(ascending=False).index[:3]
    )
