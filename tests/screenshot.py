"""Render a local HTML file in headless Chromium (Debian's `chromium`) and look at the pixels."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def screenshot(page: Path, workdir: Path, size: str = "1200,2400") -> Path:
    """A PNG of `page`; skips nothing: Chromium missing is a failure (`make test` installs it)."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.fail("chromium is not on PATH: run `make test` (it installs Debian's chromium) or apt-get it")
    out = workdir / "page.png"
    subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--no-first-run", "--disable-extensions", f"--user-data-dir={workdir / 'profile'}",
         f"--window-size={size}", f"--screenshot={out}", page.resolve().as_uri()],
        check=True, capture_output=True, timeout=90,
    )
    return out


def distinct_colours(png: Path) -> int:
    """How many different colours the picture has (a blank page has one or two)."""
    import matplotlib.image

    pixels = matplotlib.image.imread(str(png))
    flat = (pixels[..., :3] * 255).astype("uint8").reshape(-1, 3)
    return len({tuple(p) for p in flat[:: max(1, len(flat) // 200_000)]})
