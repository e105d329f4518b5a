"""The package: `python -m build` makes an sdist and a wheel that works without the checkout.

The wheel (built from the sdist, as an installer would) goes into a new virtual environment and
runs the demo from an empty folder: its data, templates, migrations and the vendored browser
files must all be inside it. The third-party dependencies are lent from the test's own
environment (a path file) rather than downloaded again; carbonlink itself must come from the
wheel, which the test checks.
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

import carbonlink

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ("echarts.min.js", "swagger-ui-bundle.js", "swagger-ui.css")


def _run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    assert done.returncode == 0, (
        f"{command[:3]} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    )
    return done  # type: ignore[no-any-return]


def test_the_version_is_declared_once() -> None:
    assert importlib.metadata.version("carbonlink") == carbonlink.__version__
    assert "version =" not in (ROOT / "pyproject.toml").read_text("utf-8").split("[tool")[0]
    assert f"## {carbonlink.__version__}" in (ROOT / "CHANGELOG.md").read_text("utf-8")


@pytest.mark.slow
def test_the_wheel_runs_the_demo_without_the_checkout(tmp_path: Path) -> None:
    if not all((ROOT / "src/carbonlink/api/static/vendor" / name).is_file() for name in VENDOR):
        pytest.fail("the vendored browser files are missing: run `make .venv/.installed`")
    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "build", "--outdir", str(dist), str(ROOT)])
    (wheel,) = dist.glob(f"carbonlink-{carbonlink.__version__}-*.whl")
    (sdist,) = dist.glob(f"carbonlink-{carbonlink.__version__}.tar.gz")
    assert sdist.stat().st_size > 0
    names = zipfile.ZipFile(wheel).namelist()
    for name in VENDOR:
        assert f"carbonlink/api/static/vendor/{name}" in names
    # the CJK font the PDF reports embed, copied from npm at install like the browser files
    assert "carbonlink/reports/fonts/NotoSansSC_400Regular.ttf" in names
    assert any(n.startswith("carbonlink/store/migrations/versions/") for n in names)

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
          "--no-index", "--quiet", str(wheel)])  # fmt: skip
    site = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]
        ).stdout.strip()
    )
    # The dependencies: this environment's site-packages, after the new one's own. The path file
    # adds the folder only; the editable install's own path file in it is not read, so the
    # checkout's src/ stays out of reach.
    (site / "zz_lent_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n", "utf-8")

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CARBONLINK_", "VIRTUAL_ENV"))}
    env["PATH"] = f"{venv / 'bin'}:{env.get('PATH', '')}"
    where = _run(
        [str(python), "-c", "import carbonlink; print(carbonlink.__file__)"], cwd=elsewhere, env=env
    ).stdout.strip()
    assert Path(where).is_relative_to(site), where

    out = elsewhere / "demo-output"
    _run([str(venv / "bin" / "carbonlink"), "demo", "--out", str(out)], cwd=elsewhere, env=env)
    for name in (
        "reports/china-tangshan.pdf",
        "reports/china-jiangsu.pdf",
        "reports/reconcile.pdf",
        "workspace/carbonlink.db",
    ):
        assert (out / name).stat().st_size > 0, name
    for name in VENDOR:
        assert (site / "carbonlink/api/static/vendor" / name).is_file()
