import numpy as np
import pandas as pd
import pytest

from mobility.errors import MobilityError
from mobility.longitudinal.plots import plot_event_study


def _table():
    rows = []
    for g in ["female", "male"]:
        for k in range(-2, 3):
            rows.append({"metric": "rg_km", "group": g, "event_time": k, "estimate": 0.0 if k == -1 else -0.5 * k,
                         "ci_low": np.nan if k == -1 else -0.5 * k - 0.2, "ci_high": np.nan if k == -1 else -0.5 * k + 0.2,
                         "suppressed": g == "male" and k == 2, "reference": k == -1})
    return pd.DataFrame(rows)


def test_writes_png_and_svg(tmp_path):
    paths = plot_event_study(_table(), tmp_path / "figs" / "es_rg")
    assert [p.name for p in paths] == ["es_rg.png", "es_rg.svg"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = paths[1].read_text()
    assert "<svg" in svg and "Suppressed" in svg  # caption lists the suppressed cell
    assert not list((tmp_path / "figs").glob(".tmp-*"))


def test_rejects_bad_inputs(tmp_path):
    with pytest.raises(MobilityError, match="missing column"):
        plot_event_study(_table().drop(columns="ci_low"), tmp_path / "x")
    with pytest.raises(MobilityError, match="formats"):
        plot_event_study(_table(), tmp_path / "x", formats=("jpg",))
    two = pd.concat([_table(), _table().assign(metric="other")])
    with pytest.raises(MobilityError, match="one metric"):
        plot_event_study(two, tmp_path / "x")
