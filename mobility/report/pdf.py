"""PDF copy of the report, printed by headless Chromium (the same engine the browser test uses)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from mobility.errors import MobilityError
from mobility.io.atomic import atomic_path

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
HEADLESS_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync")


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome executable on ``PATH`` (or ``$MOBILITY_CHROMIUM``), None if there is none.

    Examples
    --------
    >>> find_chromium() is None or isinstance(find_chromium(), str)
    True
    """
    override = os.environ.get("MOBILITY_CHROMIUM")
    if override:
        return override
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def html_to_pdf(html_path: str | os.PathLike, pdf_path: str | os.PathLike, *, timeout_s: float = 120.0) -> Path:
    """Print ``html_path`` to ``pdf_path`` (atomically) with headless Chromium.

    Raises
    ------
    MobilityError
        No Chromium installed (with the install command), or printing failed or timed out.

    Examples
    --------
    >>> html_to_pdf("report.html", "report.pdf")   # doctest: +SKIP
    """
    if not timeout_s > 0:
        raise MobilityError(f"timeout_s must be > 0, got {timeout_s!r}")
    browser = find_chromium()
    if browser is None:
        raise MobilityError("--pdf needs Chromium: install it (Debian: apt-get install -y chromium) or set "
                            "MOBILITY_CHROMIUM to a Chrome executable; the HTML report is complete without it")
    source = Path(html_path).resolve()
    with tempfile.TemporaryDirectory(prefix="mobility-chromium-") as profile, atomic_path(pdf_path) as tmp:
        cmd = [browser, *HEADLESS_FLAGS, f"--user-data-dir={profile}", "--no-pdf-header-footer",
               f"--print-to-pdf={tmp}", source.as_uri()]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired as exc:
            raise MobilityError(f"Chromium did not print {source} within {timeout_s:g} s; retry or skip --pdf") from exc
        if proc.returncode != 0 or tmp.stat().st_size == 0:
            raise MobilityError(f"Chromium failed to print {source} (exit {proc.returncode}): "
                                f"{proc.stderr.strip()[-400:]}")
    return Path(pdf_path)
