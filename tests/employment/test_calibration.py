import numpy as np
import pytest
from matplotlib.figure import Figure

from mobility.employment.calibration import (
    brier_score,
    calibration_error,
    plot_reliability,
    probability_scores,
    reliability,
)
from mobility.errors import MobilityError

# ten person-weeks, by hand: sorted by p they fall in five bins of two
Y = [0, 0, 0, 1, 1, 1, 0, 1, 1, 1]
P = [0.10, 0.20, 0.15, 0.30, 0.40, 0.90, 0.05, 0.80, 0.70, 0.60]


def test_reliability_deciles_by_hand():
    curve = reliability(Y, P, n_bins=5)
    # bins (sorted p): {0.05, 0.10} {0.15, 0.20} {0.30, 0.40} {0.60, 0.70} {0.80, 0.90}
    assert curve["n"].tolist() == [2] * 5
    assert curve["predicted"].tolist() == pytest.approx([0.075, 0.175, 0.35, 0.65, 0.85])
    assert curve["observed"].tolist() == [0.0, 0.0, 1.0, 1.0, 1.0]
    # |observed - predicted|: 0.075, 0.175, 0.65, 0.35, 0.15 -> mean 0.28
    assert calibration_error(curve) == pytest.approx(0.28)


def test_brier_by_hand():
    # squared errors: .01 .04 .0225 .49 .36 .01 .0025 .04 .09 .16 -> 1.225 / 10
    assert brier_score(Y, P) == pytest.approx(0.1225)


def test_probability_scores_and_deciles_on_many_rows():
    rng = np.random.default_rng(0)
    p = rng.random(10_000)
    y = (rng.random(10_000) < p).astype(float)  # calibrated by construction
    s = probability_scores(y, p)
    assert len(s["reliability"]) == 10 and {r["n"] for r in s["reliability"]} == {1000}
    assert s["calibration_error"] < 0.02
    assert probability_scores(y, p ** 3)["calibration_error"] > 0.1  # miscalibrated, same ranking
    assert probability_scores(y, p ** 3)["roc_auc"] == pytest.approx(s["roc_auc"])


def test_bad_inputs():
    with pytest.raises(MobilityError, match="labels must be 0/1"):
        reliability([0, 2], [0.1, 0.2])
    with pytest.raises(MobilityError, match="2 labels but 1 probabilities"):
        brier_score([0, 1], [0.1])


def test_uniform_bins_by_hand():
    curve = reliability(Y, P, n_bins=2, bins="uniform")
    # [0, 0.5): p .10 .20 .15 .30 .40 .05 (y 0 0 0 1 1 0); [0.5, 1]: .90 .80 .70 .60 (y all 1)
    assert curve["n"].tolist() == [6, 4]
    assert curve["predicted"].tolist() == pytest.approx([0.2, 0.75])
    assert curve["observed"].tolist() == pytest.approx([1 / 3, 1.0])


def test_plot_returns_a_figure_without_pyplot():
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    fig = plot_reliability({"signal": probability_scores(Y, P, n_bins=5), "classifier": probability_scores(Y, P)})
    assert isinstance(fig, Figure) and plt.get_fignums() == before
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels[1] == "signal (Brier 0.123, cal. error 0.280)"
