"""How well probabilities of unemployment are calibrated and ranked: reliability curve, Brier score, ROC AUC.

* :func:`reliability` -- person-weeks sorted by predicted probability and cut into ``n_bins`` groups of
  equal size (deciles by default; ties are split in a fixed order), each with its mean predicted
  probability and its observed share unemployed;
* :func:`calibration_error` -- mean over the bins of ``|observed - predicted|`` (each bin weighs the same:
  with equal-size bins, the expected calibration error);
* :func:`brier_score` -- mean of ``(p - y)^2``;
* :func:`probability_scores` -- all of these and ROC AUC for one method; :func:`plot_reliability` draws the
  curves of several methods on one :class:`matplotlib.figure.Figure`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mobility.errors import MobilityError


def _arrays(y, p) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    if y.shape != p.shape:
        raise MobilityError(f"calibration: {len(y)} labels but {len(p)} probabilities; pass aligned arrays")
    if not (np.isin(y, (0.0, 1.0)).all() and np.isfinite(p).all() and ((p >= 0) & (p <= 1)).all()):
        raise MobilityError("calibration: labels must be 0/1 and probabilities finite in [0, 1]; drop unknown weeks")
    return y, p


def reliability(y, p, *, n_bins: int = 10) -> pd.DataFrame:
    """The reliability curve: ``bin``, ``n``, ``p_min``, ``p_max``, ``predicted`` (mean p), ``observed`` (mean y).

    Examples
    --------
    >>> reliability([0, 0, 1, 0, 1, 1], [0.1, 0.2, 0.3, 0.6, 0.7, 0.8], n_bins=2).round(3).values.tolist()
    [[0.0, 3.0, 0.1, 0.3, 0.2, 0.333], [1.0, 3.0, 0.6, 0.8, 0.7, 0.667]]
    """
    y, p = _arrays(y, p)
    if len(y) == 0:
        return pd.DataFrame(columns=["bin", "n", "p_min", "p_max", "predicted", "observed"])
    order = np.argsort(p, kind="stable")
    groups = [g for g in np.array_split(order, min(n_bins, len(order))) if len(g)]
    return pd.DataFrame({
        "bin": np.arange(len(groups)),
        "n": [len(g) for g in groups],
        "p_min": [float(p[g].min()) for g in groups],
        "p_max": [float(p[g].max()) for g in groups],
        "predicted": [float(p[g].mean()) for g in groups],
        "observed": [float(y[g].mean()) for g in groups],
    })


def calibration_error(curve: pd.DataFrame) -> float:
    """Mean over the bins of ``|observed - predicted|``.

    Examples
    --------
    >>> round(calibration_error(reliability([0, 0, 1, 0, 1, 1], [0.1, 0.2, 0.3, 0.6, 0.7, 0.8], n_bins=2)), 4)
    0.0833
    """
    return float(np.mean(np.abs(curve["observed"] - curve["predicted"]))) if len(curve) else float("nan")


def brier_score(y, p) -> float:
    """Mean squared difference between the probability and the 0/1 outcome.

    Examples
    --------
    >>> round(brier_score([0, 1], [0.2, 0.6]), 6)
    0.1
    """
    y, p = _arrays(y, p)
    return float(np.mean((p - y) ** 2)) if len(y) else float("nan")


def probability_scores(y, p, *, n_bins: int = 10) -> dict:
    """``n``, ``positives``, ``roc_auc`` (when both classes occur), ``brier``, ``calibration_error`` and the
    ``reliability`` curve (a list of dicts) of probabilities ``p`` against 0/1 outcomes ``y``.

    Examples
    --------
    >>> s = probability_scores([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], n_bins=2)
    >>> s["roc_auc"], round(s["brier"], 4), round(s["calibration_error"], 4)
    (0.75, 0.1581, 0.1875)
    """
    from sklearn.metrics import roc_auc_score

    y, p = _arrays(y, p)
    curve = reliability(y, p, n_bins=n_bins)
    out = {"n": int(len(y)), "positives": int(y.sum())}
    if 0 < y.sum() < len(y):
        out["roc_auc"] = float(roc_auc_score(y, p))
    out["brier"] = brier_score(y, p)
    out["calibration_error"] = calibration_error(curve)
    out["reliability"] = curve.to_dict("records")
    return out


def plot_reliability(curves: dict, *, ax=None):
    """Reliability curves of several methods (``{method: probability_scores(...) or reliability(...)}``).

    Returns
    -------
    matplotlib.figure.Figure
        Observed share unemployed against mean predicted probability per bin, the diagonal for reference
        (drawn on ``ax`` when given, else on a new Figure; no pyplot state).

    Examples
    --------
    >>> fig = plot_reliability({"signal": reliability([0, 1, 1, 0], [0.1, 0.9, 0.6, 0.3], n_bins=2)})
    >>> fig.axes[0].get_xlabel()
    'mean predicted p_unemployed (bin)'
    """
    from matplotlib.figure import Figure

    if ax is None:
        fig = Figure(figsize=(4.8, 4.2))
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--")
    for method, curve in sorted(curves.items()):
        table = pd.DataFrame(curve["reliability"] if isinstance(curve, dict) else curve)
        if len(table):
            label = method if not isinstance(curve, dict) else (
                f"{method} (Brier {curve.get('brier', float('nan')):.3f}, "
                f"cal. error {curve.get('calibration_error', float('nan')):.3f})")
            ax.plot(table["predicted"], table["observed"], marker="o", ms=3, label=label)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("mean predicted p_unemployed (bin)")
    ax.set_ylabel("observed share unemployed")
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig
