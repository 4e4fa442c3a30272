"""Sector attendance R_s(t), remote-work adoption a(t) and the sector job-loss share P_s(t) (method.md 2.7).

* ``R_s(t) = sum_u w_us r_u(t) / sum_u w_us`` over baseline workers with a covered week t, ``w_us`` the
  probability that u works in sector s (LODES WAC at u's work CBG, :func:`mobility.census.features.work_features`).
* ``r~_s(t) = 1 - tau_s a(t) - c(t)``: the attendance expected if only the remote workers stayed home, ``a(t)``
  per teleworkable job, ``c(t)`` per worker whatever the sector (0 in the paper).
* ``P_s(t) = 1 - min(R_s(t) / r~_s(t), 1)`` (the paper's formula); the remote share ``tau_s a + c`` is capped at 1,
  and where it reaches 1 (``r~_s = 0``) ``P_s`` is NaN: nothing is left to tell a job loss by.

Remote-work adoption a(t) **(ours)**: given as ``EmploymentParams.remote_adoption`` (from the end of the
baseline; c = 0), or the remote stock of :mod:`mobility.employment.adoption` (remote workers per teleworkable
job and per worker, from the drops weighed by their job-loss prior, averaged over the part of remote work that
teleworkability does not explain; no single wave assumed).

Schema ``sector_weekly``: ``sector`` (CNS01..CNS20), ``week``, ``attendance`` (R_s), ``weight``
(``sum_u w_us`` behind it), ``remote_adoption`` (a), ``remote_untied`` (c), ``reference`` (r~_s),
``p_unemployed`` (P_s).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mobility.checks import require_columns
from mobility.errors import MobilityError

SECTORS = tuple(f"CNS{i:02d}" for i in range(1, 21))
WEIGHT_COLUMNS = tuple(f"w_{s}" for s in SECTORS)


def user_sector_weights(features: pd.DataFrame, users: np.ndarray, telework: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Sector weights ``w_us`` (n_users x 20, NaN rows for unknown users) and teleworkability per user.

    Parameters
    ----------
    features : DataFrame
        ``user_id`` and ``w_CNS01..w_CNS20`` (:func:`mobility.census.features.work_features`), one row per user.
    users : ndarray of str
        The panel's users, in order.
    telework : Series
        tau_s indexed ``CNS01..CNS20`` (:func:`mobility.census.telework.read_teleworkability`).

    Examples
    --------
    >>> f = pd.DataFrame({"user_id": ["a"], **{c: [0.0] for c in WEIGHT_COLUMNS}})
    >>> f["w_CNS12"], f["w_CNS18"] = 0.75, 0.25
    >>> tau = pd.Series(0.0, index=list(SECTORS)); tau["CNS12"] = 0.8
    >>> w, x = user_sector_weights(f, np.array(["a", "b"]), tau)
    >>> w.shape, x.round(3).tolist()
    ((2, 20), [0.6, nan])
    """
    require_columns(features, ["user_id", *WEIGHT_COLUMNS], "features", "pass work_features(...) of each user's work CBG")
    ids = features["user_id"].astype(str)
    if ids.duplicated().any():
        raise MobilityError(f"features: user_id {ids[ids.duplicated()].iloc[0]!r} appears twice; pass one row per "
                            "user (the features of the baseline work CBG)")
    tau = check_telework(telework)
    table = features.set_index(ids)[list(WEIGHT_COLUMNS)].astype(float)
    w = table.reindex(pd.Index(users, dtype=object)).to_numpy()
    return w, w @ tau


def user_shares(wz: np.ndarray, wsum: np.ndarray, p_s: np.ndarray, overall: np.ndarray) -> np.ndarray:
    """Each user's job-loss share per week, ``(n_users, n_weeks)``: the mean of the sector shares ``p_s`` (20,
    n_weeks; NaN read as 0) over the user's sector weights ``wz`` (NaN read as 0) divided by their sum ``wsum``
    (n_users, 1); ``overall`` (the sectors' mean, n_weeks) for a user without sector weights.

    Examples
    --------
    >>> wz = np.zeros((2, 20)); wz[0, :2] = [3.0, 1.0]
    >>> p_s = np.zeros((20, 1)); p_s[:2, 0] = [0.2, 0.6]
    >>> user_shares(wz, wz.sum(axis=1, keepdims=True), p_s, np.array([0.1])).round(3).tolist()
    [[0.3], [0.1]]
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(wsum > 0, (wz @ np.nan_to_num(p_s)) / wsum, overall[None, :])


def check_telework(telework: pd.Series) -> np.ndarray:
    """tau_s as an array in CNS01..CNS20 order; raises :class:`MobilityError` if a sector is missing.

    Examples
    --------
    >>> check_telework(pd.Series(0.5, index=list(SECTORS)))[:2].tolist()
    [0.5, 0.5]
    """
    if not isinstance(telework, pd.Series):
        raise MobilityError("telework must be a Series of tau_s indexed CNS01..CNS20 (read_teleworkability)")
    missing = [s for s in SECTORS if s not in telework.index]
    if missing:
        raise MobilityError(f"telework: sectors {missing} missing; read it with read_teleworkability")
    tau = telework.reindex(list(SECTORS)).to_numpy(dtype=float)
    if not np.all((tau >= 0) & (tau <= 1)):
        raise MobilityError("telework: shares must lie in [0, 1]")
    return tau


def sector_weekly(attendance: np.ndarray, w: np.ndarray, tau: np.ndarray, adoption: np.ndarray,
                  weeks: pd.DatetimeIndex, untied: np.ndarray | None = None) -> pd.DataFrame:
    """R_s(t), r~_s(t) and P_s(t) for every sector and week (schema in the module notes).

    Parameters
    ----------
    attendance : ndarray, shape (n_users, n_weeks)
        r_u(t), NaN where not usable.
    w : ndarray, shape (n_users, 20)
        Sector weights (NaN rows are skipped).
    tau : ndarray, shape (20,)
    adoption : ndarray, shape (n_weeks,)
        a(t), remote workers per teleworkable job.
    weeks : DatetimeIndex
    untied : ndarray, shape (n_weeks,), optional
        c(t), remote workers per worker whatever the sector (default 0).

    Examples
    --------
    Sector 1 (tau 0.5) attends at 0.3 with half of its jobs remote: P = 1 - 0.3 / 0.5 = 0.4.

    >>> w = np.zeros((1, 20)); w[0, 0] = 1.0
    >>> tau = np.zeros(20); tau[0] = 0.5
    >>> t = sector_weekly(np.array([[0.3]]), w, tau, np.array([1.0]), pd.DatetimeIndex(["2020-04-06"]))
    >>> t.loc[0, ["attendance", "reference", "p_unemployed"]].round(3).tolist()
    [0.3, 0.5, 0.4]

    With a tenth of every sector's workers remote besides: 1 - 0.3 / 0.4 = 0.25.

    >>> t = sector_weekly(np.array([[0.3]]), w, tau, np.array([1.0]), pd.DatetimeIndex(["2020-04-06"]), np.array([0.1]))
    >>> t.loc[0, ["reference", "remote_untied", "p_unemployed"]].round(3).tolist()
    [0.4, 0.1, 0.25]

    Where the remote work reaches every job (here 0.5 x 1.4 + 0.6 > 1), nothing is left to tell a job loss by:
    the reference is 0 and the share NaN (read as 0 by the signal and the sector route).

    >>> t = sector_weekly(np.array([[0.3]]), w, tau, np.array([1.4]), pd.DatetimeIndex(["2020-04-06"]), np.array([0.6]))
    >>> t.loc[0, ["reference", "p_unemployed"]].tolist()
    [0.0, nan]
    """
    return sector_table(sector_sums(attendance, w), tau, adoption, weeks, untied)


def sector_sums(attendance: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The weighted sums behind each sector's attendance, ``(20, n_weeks)`` each: of ``w x r_u(t)`` over the
    usable cells, and of ``w`` (what :func:`sector_weekly` computes first; :func:`sector_table` the rest, so that
    the shares at many remote stocks cost one pass over the users).

    Examples
    --------
    >>> w = np.zeros((2, 20)); w[:, 0] = [1.0, 3.0]
    >>> num, den = sector_sums(np.array([[0.2], [np.nan]]), w)
    >>> float(num[0, 0]), float(den[0, 0])
    (0.2, 1.0)
    """
    ok = np.isfinite(attendance)
    wz = np.nan_to_num(w, nan=0.0)
    return wz.T @ np.where(ok, attendance, 0.0), wz.T @ ok.astype(float)


def sector_table(sums: tuple[np.ndarray, np.ndarray], tau: np.ndarray, adoption: np.ndarray,
                 weeks: pd.DatetimeIndex, untied: np.ndarray | None = None) -> pd.DataFrame:
    """:func:`sector_weekly` from the sums of :func:`sector_sums`."""
    num, den = sums
    untied = np.zeros(len(weeks)) if untied is None else np.asarray(untied, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        r_s = num / den
        ref = 1.0 - np.minimum(tau[:, None] * adoption[None, :] + untied[None, :], 1.0)  # remote: a share
        p_s = np.where(ref > 0, 1.0 - np.minimum(r_s / ref, 1.0), np.nan)  # all remote: job loss not told
    n_s, n_w = r_s.shape
    return pd.DataFrame({
        "sector": np.repeat(np.array(SECTORS), n_w),
        "week": np.tile(weeks.values, n_s),
        "attendance": r_s.ravel(),
        "weight": den.ravel(),
        "remote_adoption": np.tile(adoption, n_s),
        "remote_untied": np.tile(untied, n_s),
        "reference": ref.ravel(),
        "p_unemployed": np.clip(p_s.ravel(), 0.0, 1.0),
    })
