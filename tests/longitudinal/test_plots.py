import numpy as np
import pandas as pd
import pytest

from mobility.errors import MobilityError
from mobility.io.figures import save_figure
from mobility.longitudinal.plots import plot_comparisons, plot_event_study


def _table():
    rows = []
    for g in ["female", "male"]:
        for k in range(-2, 3):
            rows.append({"metric": "rg_km", "group": g, "event_time": k, "estimate": 0.0 if k == -1 else -0.5 * k,
                         "ci_low": np.nan if k == -1 else -0.5 * k - 0.2, "ci_high": np.nan if k == -1 else -0.5 * k + 0.2,
                         "suppressed": g == "male" and k == 2, "reference": k == -1, "estimator": "sun_abraham",
                         "control_group": "never"})
    return pd.DataFrame(rows)


def test_returns_a_figure_that_saves_as_png_and_svg(tmp_path):
    fig = plot_event_study(_table())
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["female", "male"]
    # the suppressed male k=2 point is not drawn: male's line has 4 points, female's 5
    points = [len(c.lines[0].get_xdata()) for c in ax.containers]
    assert points == [5, 4]
    paths = save_figure(fig, tmp_path / "figs" / "es_rg")
    assert [p.name for p in paths] == ["es_rg.png", "es_rg.svg"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = paths[1].read_text()
    assert "<svg" in svg and "Suppressed" in svg and "Sun-Abraham" in svg
    assert not list((tmp_path / "figs").glob(".tmp-*"))


def test_a_group_suppressed_beyond_its_reference_week_is_said_not_drawn():
    """A group whose every estimate is suppressed (fewer than k losers) would show only its reference dot at 0:
    it gets no line and no legend entry, and the caption still lists its suppressed weeks."""
    table = _table()
    table.loc[(table["group"] == "male") & ~table["reference"], "suppressed"] = True
    ax = plot_event_study(table).axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["female"]
    assert [len(c.lines[0].get_xdata()) for c in ax.containers] == [5]
    caption = ax.figure.texts[-1].get_text().replace("\n", " ")
    assert "male: k=-2,0,1,2" in caption


def test_draws_on_a_given_axes_and_leaves_the_backend_alone():
    import matplotlib
    from matplotlib.figure import Figure

    backend = matplotlib.get_backend()
    fig = Figure()
    ax = fig.add_subplot()
    assert plot_event_study(_table(), ax=ax) is fig
    assert matplotlib.get_backend() == backend


def test_rejects_bad_inputs(tmp_path):
    with pytest.raises(MobilityError, match="missing column"):
        plot_event_study(_table().drop(columns="ci_low"))
    with pytest.raises(MobilityError, match="formats"):
        save_figure(plot_event_study(_table()), tmp_path / "x", formats=("jpg",))
    two = pd.concat([_table(), _table().assign(metric="other")])
    with pytest.raises(MobilityError, match="one metric"):
        plot_event_study(two)


@pytest.mark.parametrize("control,words", [("never", "controls: never-losers"),
                                           ("not_yet", "never- and not-yet-losers"),
                                           ("later", "later losers only")])
def test_the_caption_names_the_comparison_group(control, words):
    fig = plot_event_study(_table().assign(control_group=control))
    assert words in " ".join(t.get_text() for t in fig.texts)


def test_comparisons_draw_one_panel_per_metric_and_say_what_is_missing():
    table = pd.DataFrame({"metric": ["rg_km", "rg_km", "home_h", "home_h"],
                          "control_group": ["never", "later"] * 2, "estimate": [-1.7, -1.5, 24.0, np.nan],
                          "ci_low": [-1.8, -1.7, 23.0, np.nan], "ci_high": [-1.6, -1.3, 25.0, np.nan],
                          "pretrend_p_value": [1e-6, 0.3, 0.04, np.nan], "suppressed": [False, False, False, True]})
    fig = plot_comparisons(table)
    assert [a.get_title() for a in fig.axes] == ["rg_km", "home_h"]
    assert [len(a.containers) for a in fig.axes] == [2, 1]  # the suppressed later row of home_h is not drawn
    assert [t.get_text() for t in fig.axes[1].get_yticklabels()] == ["never (pre-trend p 0.04)",
                                                                    "later (no pre-trend test)"]
    x = fig.axes[0].containers[1].lines[0].get_xdata()
    assert x.tolist() == [-1.5]
    assert "home_h / later" in " ".join(t.get_text() for t in fig.texts)
