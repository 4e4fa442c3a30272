"""The report in a real browser: headless Chromium loads it with no console error, every figure decoded,
no network request beyond the file itself, a non-blank full-page screenshot, and the text a reader sees:
the headline sentence first, counties by name, rates in percent.

Skips where Chromium or websocket-client is absent (CI installs Debian ``chromium``). Set
``MOBILITY_SCREENSHOT_DIR`` to keep the screenshot for a look.
"""

import io
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from mobility.report import report_for_region
from mobility.report.pdf import find_chromium

from .runs import make_run

pytest.importorskip("websocket", reason="websocket-client is needed to drive Chromium over DevTools")


@pytest.fixture(scope="module")
def report_page(tmp_path_factory):
    if find_chromium() is None:
        pytest.skip("Chromium not installed (Debian: apt-get install -y chromium); CI installs it")
    folder = tmp_path_factory.mktemp("browser")
    config, out = make_run(folder, n_users=100, seed=9)
    info = report_for_region(str(config), "2020-04", out=str(out))
    return Path(info["report_dir"]) / "report.html"


@pytest.mark.slow
def test_report_renders_in_chromium(report_page, tmp_path):
    from PIL import Image

    from .browser import check_page

    result = check_page(find_chromium(), report_page)
    assert result.console_errors == []
    assert len(result.images) == 6
    for image in result.images:
        assert image["complete"] and image["width"] > 100 and image["height"] > 50, image
    external = [u for u in result.requests if not u.startswith(("data:", report_page.resolve().as_uri()))]
    assert external == []
    # what a reader sees: the headline first, a county by name, rates in percent (never as fractions)
    text = result.text
    headline = re.search(r"Estimated unemployment in Pennsylvania (rose to|fell to|held at|was) (\d+\.\d)% in "
                         r"April 2020 \(95% interval (\d+\.\d)-(\d+\.\d)%\)", text)
    assert headline and text.index(headline.group(0)) < text.index("Summary\n")
    low, rate, high = float(headline.group(3)), float(headline.group(2)), float(headline.group(4))
    assert 0 <= low <= rate <= high <= 100
    assert "Philadelphia County, PA" in text
    assert "rate (%)" in text and not re.search(r"Pennsylvania\tstate\t42\t\d+\t0\.\d{3}", text)
    shot = Image.open(io.BytesIO(result.screenshot_png)).convert("L")
    assert shot.width >= 1000 and shot.height > 3000          # the whole page, not the first screen
    pixels = np.asarray(shot, dtype=float)
    assert pixels.std() > 10                                  # not a blank page
    keep = os.environ.get("MOBILITY_SCREENSHOT_DIR")
    target = Path(keep) if keep else tmp_path
    target.mkdir(parents=True, exist_ok=True)
    (target / "report.png").write_bytes(result.screenshot_png)
    shutil.copy(report_page, target / "report.html")
