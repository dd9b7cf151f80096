"""`smb-pipeline demo` from a pip-installed wheel, run from a directory outside the repository.

The wheel is built and installed into a fresh virtual environment; the heavy dependencies
(PySpark, Delta, pyarrow) are borrowed from the test interpreter's site-packages through a
.pth line instead of being installed again, so the test costs one build and one small run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

pytestmark = pytest.mark.system

REPO = Path(__file__).resolve().parents[1]


def _run(*args: str, cwd: Path, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    result = subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result


def test_demo_runs_from_an_installed_wheel_in_another_directory(tmp_path):
    dist = tmp_path / "dist"
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist),
         str(REPO), cwd=tmp_path)
    (wheel,) = dist.glob("smb_pipeline-*.whl")

    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", str(venv), cwd=tmp_path)
    python = venv / "bin" / "python"
    site = Path(_run(str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                     cwd=tmp_path).stdout.strip())
    # The test interpreter's packages, after the venv's own: the wheel's smb_pipeline comes first,
    # and the editable install's finder (a .pth in that directory) is not activated by a plain path.
    (site / "borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run(sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel),
         cwd=tmp_path)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    where = _run(str(python), "-c", "import smb_pipeline; print(smb_pipeline.__file__)", cwd=elsewhere, env=env)
    assert where.stdout.startswith(str(venv))
    result = _run(str(venv / "bin" / "smb-pipeline"), "demo", "--days", "1", "--rows-per-day", "200",
                  cwd=elsewhere, env=env)
    assert "top pairs" in result.stdout and "pairs written" in result.stdout
    assert (elsewhere / "demo" / "lake" / "smb_allowed_daily" / "_delta_log").is_dir()
    assert (elsewhere / "smb-pipeline.log").is_file()
    # The demo saves its configuration, so the analysts' commands can be pointed at its lake.
    from smb_pipeline.config import load_config

    saved = load_config(elsewhere / "demo" / "demo.yaml")
    assert saved.output.path == str(elsewhere / "demo" / "lake")
    assert [s.path for s in saved.sources] == [str(elsewhere / "demo" / "archive" / s.name) for s in saved.sources]
