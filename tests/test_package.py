"""The package: `python -m build` makes an sdist and a wheel that works without the checkout.

The wheel (built from the sdist, as an installer would) goes into a new virtual environment with
the dependencies it declares, and nothing else, installed by pip from the package index (pinned
by constraints.txt), and runs the demo there from an empty folder: its data, templates,
migrations and the vendored browser files must all be inside the wheel, and every library the
demo imports must be declared in pyproject.toml. The new environment sees no other
site-packages (not this one's, not the user's), which the test checks.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import carbonlink

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ("echarts.min.js", "swagger-ui-bundle.js", "swagger-ui.css")
PATHS = """
import json, sys, sysconfig
import carbonlink
print(json.dumps({"carbonlink": carbonlink.__file__, "path": sys.path,
                  "purelib": sysconfig.get_path("purelib")}))
"""


def _run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    assert done.returncode == 0, (
        f"{command[:3]} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    )
    return done  # type: ignore[no-any-return]


def _borrowed(entry: str, venv: Path) -> bool:
    """Whether a ``sys.path`` entry of ``venv`` lies outside it and the standard library."""
    if not entry:
        return False  # the current folder, empty here
    path = Path(entry).resolve()
    if path.is_relative_to(venv.resolve()):
        return False
    return "site-packages" in path.parts or not path.is_relative_to(Path(sys.base_prefix).resolve())


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
    # This environment's pip installs into the new one; --no-compile: the demo compiles what it
    # imports, and byte-compiling every installed file would double the time.
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
          "--no-compile", "--constraint", str(ROOT / "constraints.txt"), str(wheel)])  # fmt: skip

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CARBONLINK_", "VIRTUAL_ENV", "PYTHON"))
    }
    env["PATH"] = f"{venv / 'bin'}:{env.get('PATH', '')}"
    env["PYTHONNOUSERSITE"] = "1"
    where = json.loads(
        _run([str(python), "-c", PATHS], cwd=elsewhere, env=env).stdout.strip().splitlines()[-1]
    )
    site = Path(where["purelib"])
    assert Path(where["carbonlink"]).is_relative_to(site), where
    # Only the new environment and the interpreter's standard library are on the path: no
    # site-packages lent by this environment, the interpreter's, the user's, nor the checkout.
    assert [entry for entry in where["path"] if _borrowed(entry, venv)] == [], where["path"]

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
