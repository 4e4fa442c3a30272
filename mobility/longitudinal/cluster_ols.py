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


def independent_terms(cov: np.ndarray) -> np.ndarray:
    """Indices of the terms a joint test can use: all where ``cov`` has full rank, else a largest set whose
    covariance does, taken in order (each term kept unless a linear combination of those kept before it).

    A cluster-robust covariance has rank at most the number of clusters behind its terms: more leads than
    job losers in a group make it singular, and ``b' V^-1 b`` undefined. As Stata's ``test`` drops
    constraints that are linearly dependent in the covariance, the test then runs on the terms kept, with
    their number as its numerator degrees of freedom. Rank uses NumPy's default tolerance on the whole matrix
    (largest singular value x size x machine epsilon).

    Examples
    --------
    >>> independent_terms(np.eye(3)).tolist()
    [0, 1, 2]
    >>> independent_terms(np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 2.0]])).tolist()
    [0, 2]
    """
    cov = np.asarray(cov, dtype=np.float64)
    q = cov.shape[0]
    if q == 0 or not np.isfinite(cov).all():  # nothing to tell apart, or no rank to read (NaN passes through)
        return np.arange(q)
    sv = np.linalg.svd(cov, compute_uv=False)
    tol = sv.max() * q * np.finfo(np.float64).eps
    if sv.min() > tol:
        return np.arange(q)
    kept: list[int] = []
    for t in range(q):
        trial = kept + [t]
        if np.linalg.matrix_rank(cov[np.ix_(trial, trial)], tol=tol) == len(trial):
            kept = trial
    return np.asarray(kept, dtype=np.int64)


def wald_test(params: np.ndarray, cov: np.ndarray, df_denominator: float) -> dict[str, float]:
    """Joint test that all ``params`` are zero: ``F = b' V^-1 b / q`` against F(q, df_denominator).

    Examples
    --------
    >>> out = wald_test(np.array([1.0, 1.0]), np.eye(2), 50)
    >>> out["f_stat"], out["df_num"]
    (1.0, 2.0)

    A singular ``cov`` (fewer clusters behind the terms than terms) tests the terms it can tell apart
    (:func:`independent_terms`), ``df_num`` their number:

    >>> out = wald_test(np.array([1.0, 2.0]), np.ones((2, 2)), 50)
    >>> out["f_stat"], out["df_num"]
    (1.0, 1.0)
    """
    params = np.asarray(params, dtype=np.float64)
    keep = independent_terms(cov)
    params, cov = params[keep], np.asarray(cov, dtype=np.float64)[np.ix_(keep, keep)]
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


def satterthwaite_df(mean: np.ndarray, square: np.ndarray) -> np.ndarray:
    """Bell & McCaffrey's (2002) Satterthwaite degrees of freedom ``2 E[V]^2 / Var[V] = mean**2 / square`` of a
    variance estimator ``V = sum_g (p_g' eps)^2`` with ``mean = sum_g p_g'p_g`` and ``square = sum_{g,h} (p_g'p_h)^2``
    (:class:`~mobility.longitudinal.cell_ols.SmallSampleMoments`); NaN where ``square`` is 0.

    Examples
    --------
    Ten equal independent clusters: ``V`` is a chi-square with 10 degrees of freedom over 10.

    >>> satterthwaite_df(np.array([1.0]), np.array([0.1])).tolist()
    [10.0]
    """
    mean = np.asarray(mean, dtype=np.float64)
    square = np.asarray(square, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(square > 0, mean**2 / np.where(square > 0, square, 1.0), np.nan)


def htz_test(params: np.ndarray, cov: np.ndarray, mean: np.ndarray, moments4: np.ndarray) -> dict[str, float]:
    """Joint test that all ``params`` are zero with Pustejovsky & Tipton's (2018) HTZ approximation.

    Hotelling's ``T^2 = b' V^-1 b`` with ``V`` the CR2 covariance; ``eta V`` is approximated by a Wishart whose
    degrees of freedom ``nu = q (q + 1) / sum_{s,t} Var(V~_st)`` match the total variance of ``V~ = mean^{-1/2} V
    mean^{-1/2}`` under the working model, so ``F = (nu - q + 1) / (nu q) T^2`` against ``F(q, nu - q + 1)``.
    ``mean`` (q, q) is ``E[V] = sum_g P_gg`` and ``moments4[a, b, c, d] = sum_{g,h} P^ab_gh P^cd_gh`` with
    ``P^ab_gh = p_g^a' p_h^b`` (:class:`~mobility.longitudinal.cell_ols.SmallSampleMoments`): then
    ``Var(V~_st) = C~[s, t, t, s] + C~[s, s, t, t]``, ``C~`` the array transformed by ``mean^{-1/2}`` on every index,
    as clubSandwich's ``Wald_test(test = "HTZ")`` computes it (``total_variance_mat``, ``Hotelling_Tsq``).
    Returns ``f_stat``, ``df_num = q``, ``df_den = nu - q + 1`` and ``p_value`` (NaN if ``df_den <= 0``). A
    singular ``cov`` tests the terms it can tell apart (:func:`independent_terms`), ``q`` their number.

    References: Pustejovsky, J. E. & Tipton, E. (2018), "Small-sample methods for cluster-robust variance
    estimation and hypothesis testing in fixed effects models", JBES 36(4), section 3.3; Tipton & Pustejovsky
    (2015), JEBS 40(6).

    Examples
    --------
    With the moments of ``nu = 25`` equal independent clusters the test is Hotelling's T^2 test:

    >>> out = htz_test(np.array([0.3, -0.2]), 0.04 * np.eye(2), np.eye(2),
    ...                np.einsum("ab,cd->abcd", np.eye(2), np.eye(2)) / 25)
    >>> round(out["df_den"], 6), round(out["f_stat"], 4)
    (24.0, 1.56)
    """
    params = np.asarray(params, dtype=np.float64)
    keep = independent_terms(cov)
    params, cov = params[keep], np.asarray(cov, dtype=np.float64)[np.ix_(keep, keep)]
    mean, moments4 = np.asarray(mean)[np.ix_(keep, keep)], np.asarray(moments4)[np.ix_(keep, keep, keep, keep)]
    q = params.shape[0]
    if q == 0:
        return {"f_stat": float("nan"), "df_num": 0.0, "df_den": float("nan"), "p_value": float("nan")}
    t_sq = float(params @ np.linalg.solve(cov, params))
    lam, vec = np.linalg.eigh((np.asarray(mean) + np.asarray(mean).T) / 2.0)
    root = np.where(lam > 1e-12 * max(lam.max(), 0.0), 1.0 / np.sqrt(np.maximum(lam, 1e-300)), 0.0)
    w = (vec * root) @ vec.T
    c = np.einsum("sa,bt,uc,dv,abcd->stuv", w, w, w, w, moments4, optimize=True)
    i = np.arange(q)
    total = (c[i[:, None], i[None, :], i[None, :], i[:, None]] + c[i[:, None], i[:, None], i[None, :], i[None, :]]).sum()
    nu = q * (q + 1) / total
    df_den = nu - q + 1
    f_stat = max(df_den / nu, 0.0) * t_sq / q
    p_value = float(stats.f.sf(f_stat, q, df_den)) if df_den > 0 else float("nan")
    return {"f_stat": float(f_stat), "df_num": float(q), "df_den": float(df_den), "p_value": p_value}
