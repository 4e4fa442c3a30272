"""How well probabilities of unemployment are calibrated and ranked: reliability curve, Brier score, ROC AUC.

* :func:`reliability` -- person-weeks sorted by predicted probability and cut into ``n_bins`` groups of
  equal size (deciles by default; ties are split in a fixed order), each with its mean predicted
  probability and its observed share unemployed; or (``bins="uniform"``) into equal-width probability bins
  [0, 0.1), ..., [0.9, 1], which show the high probabilities that deciles lump together when few
  person-weeks are unemployed;
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


def reliability(y, p, *, n_bins: int = 10, bins: str = "deciles") -> pd.DataFrame:
    """The reliability curve: ``bin``, ``n``, ``p_min``, ``p_max``, ``predicted`` (mean p), ``observed`` (mean y).

    ``bins="deciles"``: ``n_bins`` groups of equal size by rank of p; ``"uniform"``: equal-width bins of p
    (empty ones left out).

    Examples
    --------
    >>> reliability([0, 0, 1, 0, 1, 1], [0.1, 0.2, 0.3, 0.6, 0.7, 0.8], n_bins=2).round(3).values.tolist()
    [[0.0, 3.0, 0.1, 0.3, 0.2, 0.333], [1.0, 3.0, 0.6, 0.8, 0.7, 0.667]]
    >>> reliability([0, 0, 1, 0, 1, 1], [0.1, 0.2, 0.3, 0.6, 0.7, 0.8], n_bins=4, bins="uniform")["n"].tolist()
    [2, 1, 2, 1]
    """
    y, p = _arrays(y, p)
    if bins not in ("deciles", "uniform"):
        raise MobilityError(f"reliability: bins={bins!r}; use 'deciles' or 'uniform'")
    if len(y) == 0:
        return pd.DataFrame(columns=["bin", "n", "p_min", "p_max", "predicted", "observed"])
    if bins == "deciles":
        order = np.argsort(p, kind="stable")
        groups = [g for g in np.array_split(order, min(n_bins, len(order))) if len(g)]
    else:
        which = np.minimum((p * n_bins).astype(np.int64), n_bins - 1)
        groups = [np.flatnonzero(which == b) for b in range(n_bins)]
        groups = [g for g in groups if len(g)]
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
    """``n``, ``positives``, ``roc_auc`` (when both classes occur), ``brier``, ``calibration_error`` (over
    deciles), and the ``reliability`` (deciles) and ``reliability_uniform`` (equal-width bins) curves, lists of
    dicts, of probabilities ``p`` against 0/1 outcomes ``y``.

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
    out["reliability_uniform"] = reliability(y, p, n_bins=n_bins, bins="uniform").to_dict("records")
    return out


def headline(scores: dict | None) -> dict | None:
    """The numbers of a scores dict without its curves and groups (for manifests and cards).

    Examples
    --------
    >>> headline({"roc_auc": 0.9, "reliability": [], "reliability_uniform": [], "by_group": {}})
    {'roc_auc': 0.9}
    """
    if scores is None:
        return None
    return {k: v for k, v in scores.items() if k not in ("reliability", "reliability_uniform", "by_group")}


def plot_reliability(curves: dict):
    """Reliability curves of several methods (``{method: probability_scores(...)}``): deciles and equal-width bins.

    Returns
    -------
    matplotlib.figure.Figure
        Two panels, observed share unemployed against mean predicted probability per bin: equal-size bins
        (deciles, the calibration error's bins) and equal-width bins (marker area by person-weeks); the
        diagonal for reference. No pyplot state.

    Examples
    --------
    >>> fig = plot_reliability({"signal": probability_scores([0, 1, 1, 0], [0.1, 0.9, 0.6, 0.3], n_bins=2)})
    >>> [ax.get_title() for ax in fig.axes]
    ['deciles of p', 'equal-width bins of p']
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9.0, 4.2))
    axes = fig.subplots(1, 2)
    for ax, key, title in ((axes[0], "reliability", "deciles of p"), (axes[1], "reliability_uniform",
                                                                        "equal-width bins of p")):
        ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--")
        for method, scores in sorted(curves.items()):
            table = pd.DataFrame(scores.get(key, []))
            if not len(table):
                continue
            label = (f"{method} (Brier {scores.get('brier', float('nan')):.3f}, "
                     f"cal. error {scores.get('calibration_error', float('nan')):.3f})")
            line = ax.plot(table["predicted"], table["observed"], label=label)[0]
            size = 8 if key == "reliability" else 4 + 60 * np.sqrt(table["n"] / table["n"].max())
            ax.scatter(table["predicted"], table["observed"], s=size, color=line.get_color())
        ax.set(xlim=(0, 1), ylim=(0, 1), title=title, xlabel="mean predicted p_unemployed (bin)",
               ylabel="observed share unemployed")
        ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig
