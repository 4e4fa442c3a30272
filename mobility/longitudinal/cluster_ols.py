"""Least squares with cluster-robust (CR1) standard errors, and Wald tests (kernel layer).

The small-sample correction is the one of Stata's ``regress, vce(cluster)`` and of statsmodels'
``cov_type="cluster"`` (``use_correction=True``)::

    V = G/(G-1) * (N-1)/(N-K) * B^-1 (sum_g s_g s_g') B^-1,   B = X' Omega X,  s_g = sum_{i in g} w_i x_i e_i

where ``N`` is the number of observations, ``G`` the number of clusters and ``K`` the number of
parameters *including* absorbed fixed effects (``absorbed_df``), exactly as a dummy-variable regression
would count them. Inference uses Student's t with ``G - 1`` degrees of freedom (and F(q, G-1) for joint
tests), the usual convention with few clusters relative to parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy import stats

from mobility.errors import MobilityError


@dataclass(frozen=True)
class ClusterFit:
    """Estimates of a cluster-robust least-squares fit (see :func:`cluster_ols`)."""

    params: np.ndarray
    cov: np.ndarray
    resid: np.ndarray
    n_obs: int
    n_clusters: int
    n_params_total: int

    @property
    def std_errors(self) -> np.ndarray:
        return np.sqrt(np.clip(np.diag(self.cov), 0.0, None))

    @property
    def df_inference(self) -> int:
        """Degrees of freedom of the t and F reference distributions: ``G - 1``."""
        return self.n_clusters - 1


def cluster_ols(
    x: np.ndarray,
    y: np.ndarray,
    clusters: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    absorbed_df: int = 0,
) -> ClusterFit:
    """Weighted least squares of ``y`` on ``x`` with CR1 cluster-robust covariance.

    Parameters
    ----------
    x : ndarray, shape (n, k)
        Regressors (already within-transformed when fixed effects are absorbed).
    y : ndarray, shape (n,)
        Outcome (transformed the same way).
    clusters : ndarray of int, shape (n,)
        Dense cluster codes ``0..G-1``.
    weights : ndarray, shape (n,), optional
        Positive regression weights; ``None`` means ordinary least squares.
    absorbed_df : int
        Parameters absorbed before the fit (fixed effects), added to ``k`` in the ``(N-1)/(N-K)`` factor.

    Returns
    -------
    ClusterFit

    Examples
    --------
    >>> x = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0], [1.0, 3.0]])
    >>> fit = cluster_ols(x, np.array([1.0, 3.0, 5.0, 7.0]), np.array([0, 0, 1, 1]))
    >>> np.round(fit.params, 6).tolist()
    [1.0, 2.0]
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n, k = x.shape
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    clusters = np.asarray(clusters, dtype=np.int64)
    n_clusters = int(clusters.max()) + 1 if n else 0
    n_total = k + int(absorbed_df)
    check_sizes(n, n_clusters, n_total)
    sw = np.sqrt(w)
    xw = x * sw[:, None]
    bread = xw.T @ xw
    rank = np.linalg.matrix_rank(bread)
    if rank < k:
        raise MobilityError(
            f"regressors are collinear after absorbing fixed effects (rank {rank} < {k}); an event-time "
            "or group cell has no variation: narrow the window or merge small groups"
        )
    bread_inv = np.linalg.inv(bread)
    params = bread_inv @ (xw.T @ (y * sw))
    resid = y - x @ params
    scores = x * (w * resid)[:, None]
    indicator = sp.csr_matrix((np.ones(n), (clusters, np.arange(n))), shape=(n_clusters, n))
    cluster_scores = indicator @ scores
    meat = cluster_scores.T @ cluster_scores
    cov = cr1_factor(n, n_clusters, n_total) * bread_inv @ meat @ bread_inv
    cov = (cov + cov.T) / 2.0
    return ClusterFit(params, cov, resid, n, n_clusters, n_total)


def cr1_factor(n_obs: int, n_clusters: int, n_params_total: int) -> float:
    """``G/(G-1) * (N-1)/(N-K)``, the CR1 small-sample factor (:mod:`mobility.longitudinal.cluster_ols`)."""
    return n_clusters / (n_clusters - 1.0) * (n_obs - 1.0) / (n_obs - n_params_total)


def check_sizes(n_obs: int, n_clusters: int, n_params_total: int) -> None:
    """Raise unless there are 2 clusters or more and more observations than parameters."""
    if n_clusters < 2:
        raise MobilityError("cluster-robust errors need at least 2 clusters (users); the panel has fewer")
    if n_obs <= n_params_total:
        raise MobilityError(
            f"the regression has {n_obs} observations for {n_params_total} parameters (incl. fixed effects); "
            "use more users or weeks, or a narrower event window"
        )


def t_inference(
    estimate: np.ndarray, std_error: np.ndarray, df: float | np.ndarray, *, alpha: float = 0.05
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two-sided p-values and ``1 - alpha`` confidence limits from Student's t with ``df`` degrees of freedom.

    Examples
    --------
    >>> p, lo, hi = t_inference(np.array([2.0]), np.array([1.0]), 10)
    >>> round(float(p[0]), 4), round(float(lo[0]), 4), round(float(hi[0]), 4)
    (0.0734, -0.2281, 4.2281)
    """
    estimate = np.asarray(estimate, dtype=np.float64)
    std_error = np.asarray(std_error, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = estimate / std_error
    p_value = 2.0 * stats.t.sf(np.abs(stat), df)
    half = stats.t.ppf(1.0 - alpha / 2.0, df) * std_error
    return p_value, estimate - half, estimate + half


def wald_test(params: np.ndarray, cov: np.ndarray, df_denominator: float) -> dict[str, float]:
    """Joint test that all ``params`` are zero: ``F = b' V^-1 b / q`` against F(q, df_denominator).

    Examples
    --------
    >>> out = wald_test(np.array([1.0, 1.0]), np.eye(2), 50)
    >>> out["f_stat"], out["df_num"]
    (1.0, 2.0)
    """
    params = np.asarray(params, dtype=np.float64)
    q = params.shape[0]
    if q == 0:
        return {"f_stat": float("nan"), "df_num": 0.0, "df_den": float(df_denominator), "p_value": float("nan")}
    f_stat = float(params @ np.linalg.solve(cov, params)) / q
    return {
        "f_stat": f_stat,
        "df_num": float(q),
        "df_den": float(df_denominator),
        "p_value": float(stats.f.sf(f_stat, q, df_denominator)),
    }
