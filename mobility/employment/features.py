"""The classifier's weekly features: attendance, observation and daytime behaviour, never mobility outcomes.

Every feature is an ``(n_users, n_weeks)`` float matrix (:func:`weekly_features`), keyed by name:

* attendance at work -- ``attendance`` r_u(t), ``work_time`` rt_u(t) (relative to the baseline),
  ``attendance_raw``, ``work_time_raw`` (the week's shares), their values one and two weeks before and
  after (``_lag1``, ``_lead2``, ...; labels are retrospective, as the signal's events), their week-to-week
  change (``_change``), ``work_time_min3`` (lowest of t-1..t+1), ``attendance_mean5`` (mean over t-2..t+2)
  and the hybrid pattern ``hybrid_share5`` (share of covered weeks t-2..t+2 at work on some but at most
  ``HYBRID_MAX_SHARE`` of the weekdays with data);
* observation -- ``workdays_observed``, ``workhour_observed_h`` and ``workhour_observed_rel`` (over the
  user's baseline mean): a degrading phone shows here;
* the attendance signal -- ``p_signal`` (its p_unemployed), ``p_sector`` (the sector prior), ``event``,
  ``event_q``, ``event_weeks`` (inside a sustained drop, the signal's job-loss probability and weeks since
  its start), ``drop_prior`` (the population posterior q_u(t0) of :mod:`mobility.employment.adoption`),
  ``telework`` (teleworkability of the work CBG);
* the person's evidence in their usual work hours (:mod:`mobility.employment.evidence`, from
  :mod:`mobility.employment.daytime`) -- ``outing_usual``, ``outing_off``, ``home_usual``,
  ``distance_usual``, ``outing_all``, ``outing_all_off`` (outings at any hour: a night worker's usual hours
  are the night, when nobody goes out, remote or not), each for the week, against the user's baseline mean (``_vs_baseline``) and over
  t-2..t+2 (``_mean5``); and inside a drop, the drop's own (retrospective, over all its weeks, calendar
  adjusted): ``drop_outing_usual``, ..., ``drop_hybrid``, ``drop_ended``, ``drop_new_workplace`` and the
  label-free ``drop_posterior``.

No calendar week, no demographic probability and none of :data:`OUTCOME_METRICS`: the job-loss dates this
model gives are the treatment of event studies on those outcomes (method.md section 4), and a calendar
week does not transfer to another region or shock.
"""

from __future__ import annotations

import numpy as np

from mobility.employment.daytime import DAYTIME_COLUMNS
from mobility.employment.evidence import EVIDENCE_COLUMNS, to_cells, weekly_evidence
from mobility.employment.params import EmploymentParams
from mobility.employment.status import SignalResult
from mobility.errors import MobilityError

OUTCOME_METRICS = ("radius_of_gyration_km", "k_radius_of_gyration_km", "random_entropy_bits",
                   "uncorrelated_entropy_bits", "uncorrelated_entropy_norm", "distinct_locations", "new_locations",
                   "exploration_rate", "capacity", "travelled_distance_km", "n_stops", "time_at_home_h")
HYBRID_MAX_SHARE = 0.8


def outcome_features(names) -> list[str]:
    """The names among ``names`` that are, or are derived from, an event-study outcome metric.

    Examples
    --------
    >>> outcome_features(["attendance", "d_radius_of_gyration_km", "n_stops_lag1"])
    ['d_radius_of_gyration_km', 'n_stops_lag1']
    """
    return [n for n in names if any(m in n for m in OUTCOME_METRICS)]


def shift(a: np.ndarray, k: int) -> np.ndarray:
    """Columns shifted by k (k > 0: the value of k weeks before; k < 0: after), NaN-filled.

    Examples
    --------
    >>> shift(np.array([[1.0, 2.0, 3.0]]), 1).tolist(), shift(np.array([[1.0, 2.0, 3.0]]), -1).tolist()
    ([[nan, 1.0, 2.0]], [[2.0, 3.0, nan]])
    """
    out = np.full(a.shape, np.nan, dtype=np.result_type(a.dtype, np.float32))
    if k > 0:
        out[:, k:] = a[:, :-k]
    elif k < 0:
        out[:, :k] = a[:, -k:]
    else:
        out[:] = a
    return out


def _window_mean(a: np.ndarray, half: int) -> np.ndarray:
    stack = np.stack([shift(a, k) for k in range(-half, half + 1)])
    n = np.isfinite(stack).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, np.nansum(stack, axis=0) / np.maximum(n, 1), np.nan)


def _baseline_mean(a: np.ndarray, cols: np.ndarray) -> np.ndarray:
    sub = a[:, cols]
    n = np.isfinite(sub).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, np.nansum(sub, axis=1) / np.maximum(n, 1), np.nan)[:, None]


def weekly_features(signal: SignalResult, *, params: EmploymentParams | None = None) -> dict[str, np.ndarray]:
    """All classifier features as ``(n_users, n_weeks)`` float32 matrices, keyed by name (module notes).

    Parameters
    ----------
    signal : SignalResult
        From :func:`mobility.employment.status.signal_status` (its matrices, drops and teleworkability); the
        daytime features need it run with ``daytime`` (NaN otherwise).
    params : EmploymentParams, optional
        ``baseline_start``/``baseline_end`` set the baseline of the relative features.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> n = np.array([[1.0, 1.0, 0.0]])
    >>> nan = np.full((1, 3), np.nan)
    >>> sig = SignalResult(users=np.array(["a"]), weeks=pd.date_range("2020-02-17", periods=3, freq="7D"),
    ...     telework=np.array([0.2]), matrices={"attendance": n, "work_time": n, "attendance_raw": n * 0.8,
    ...     "work_time_raw": n * 0.6, "workdays_observed": np.full((1, 3), 5.0), "workdays_at_work": n * 4,
    ...     "workhour_observed_h": np.array([[40.0, 40.0, 20.0]]), "p": n * 0.0, "p_sector": n * 0.1,
    ...     "q": nan, "prior": nan, "run_start": np.full((1, 3), -1), "drop": np.full((1, 3), -1),
    ...     **{c: nan for c in DAYTIME_COLUMNS}}, tables={"drop_evidence": pd.DataFrame(
    ...     {c: [] for c in ("hybrid", "posterior", "ended", "new_workplace", *EVIDENCE_COLUMNS)})})
    >>> f = weekly_features(sig)
    >>> f["attendance_change"].tolist(), f["workhour_observed_rel"].tolist()
    ([[nan, 0.0, -1.0]], [[1.0, 1.0, 0.5]])
    """
    params = params or EmploymentParams()
    m = {k: np.asarray(v, dtype=np.float32) for k, v in signal.matrices.items()
         if k in ("attendance", "work_time", "attendance_raw", "work_time_raw", "workdays_observed",
                  "workdays_at_work", "workhour_observed_h", "p", "p_sector", "q", "prior", *DAYTIME_COLUMNS)}
    run_start = signal.matrices["run_start"]
    n_u, n_w = m["attendance"].shape
    start, end = params.baseline
    base_cols = np.flatnonzero((signal.weeks >= start) & (signal.weeks <= end))
    col = np.arange(n_w, dtype=np.float32)[None, :]
    inside = run_start >= 0
    nan = np.float32(np.nan)
    out: dict[str, np.ndarray] = {
        "p_signal": m["p"], "p_sector": m["p_sector"], "event": inside.astype(np.float32), "event_q": m["q"],
        "drop_prior": m["prior"], "event_weeks": np.where(inside, col - run_start, nan),
        "telework": np.broadcast_to(signal.telework[:, None].astype(np.float32), (n_u, n_w)),
        "workdays_observed": m["workdays_observed"], "workhour_observed_h": m["workhour_observed_h"],
    }
    with np.errstate(invalid="ignore", divide="ignore"):
        out["workhour_observed_rel"] = m["workhour_observed_h"] / _baseline_mean(m["workhour_observed_h"], base_cols)
    for name in ("attendance", "work_time", "attendance_raw", "work_time_raw"):
        a = m[name]
        out[name] = a
        out[f"{name}_change"] = a - shift(a, 1)
        for k in (1, 2, -1, -2):
            out[f"{name}_{'lag' if k > 0 else 'lead'}{abs(k)}"] = shift(a, k)
    stack = np.stack([shift(m["work_time"], 1), m["work_time"], shift(m["work_time"], -1)])
    out["work_time_min3"] = np.where(np.isfinite(stack).any(axis=0), np.fmin.reduce(stack, axis=0), np.nan)
    out["attendance_mean5"] = _window_mean(m["attendance"], 2)
    raw = m["attendance_raw"]
    with np.errstate(invalid="ignore"):
        hybrid = np.where(np.isfinite(raw), ((raw > 0) & (raw <= HYBRID_MAX_SHARE)).astype(np.float32), np.nan)
    out["hybrid_share5"] = _window_mean(hybrid, 2)
    with_daytime = all(c in m for c in DAYTIME_COLUMNS)
    if with_daytime:
        out["usual_clock_h"] = m["usual_clock_h"]  # which clock hours the evidence below was read in
        evidence = weekly_evidence(m)
        for name in EVIDENCE_COLUMNS:
            rate = evidence[name].astype(np.float32)
            out[name] = rate
            out[f"{name}_vs_baseline"] = rate - _baseline_mean(rate, base_cols)
            out[f"{name}_mean5"] = _window_mean(rate, 2)
    drops = signal.tables["drop_evidence"]
    cell = signal.matrices["drop"]
    for name in ("hybrid", "posterior", "ended", "new_workplace", *(EVIDENCE_COLUMNS if with_daytime else ())):
        out[f"drop_{name}"] = to_cells(drops[name].to_numpy(dtype=float), cell)
    leaked = outcome_features(out)
    if leaked:  # a guard for whoever adds a feature: the dates this model gives are an event study's treatment
        raise MobilityError(f"weekly_features: {leaked} are event-study outcomes and may not be features")
    return {name: np.asarray(a, dtype=np.float32) for name, a in out.items()}  # the model reads float32


BLOCK_USERS = 2048  # users whose feature matrices are held at once (about 21 MB of float32 at 39 weeks)


def signal_block(signal: SignalResult, lo: int, hi: int) -> SignalResult:
    """Users ``lo:hi`` of a signal: every ``(n_users, n_weeks)`` matrix and the teleworkability sliced, the
    tables (the drops, indexed by the matrices' global drop numbers) kept whole.

    Examples
    --------
    >>> import pandas as pd
    >>> sig = SignalResult(np.array(["a", "b"]), pd.date_range("2020-03-02", periods=2, freq="7D"),
    ...                    {"usable": np.array([[True, False], [True, True]])}, np.array([0.1, 0.2]))
    >>> b = signal_block(sig, 1, 2)
    >>> b.users.tolist(), b.matrices["usable"].tolist(), b.telework.tolist()
    (['b'], [[True, True]], [0.2])
    """
    n_u = len(signal.users)
    mats = {k: (v[lo:hi] if getattr(v, "ndim", 0) == 2 and v.shape[0] == n_u else v)
            for k, v in signal.matrices.items()}
    return SignalResult(signal.users[lo:hi], signal.weeks, mats, signal.telework[lo:hi], signal.tables)


def feature_rows(mats: dict[str, np.ndarray], names, cells: np.ndarray) -> np.ndarray:
    """Rows of features (float32) for the flat cell indices ``cells`` of whole feature matrices, columns in the
    order of ``names`` (:class:`FeatureBlocks` reads its blocks' matrices with it).

    Examples
    --------
    >>> mats = {"a": np.array([[1.0, 2.0]]), "b": np.array([[3.0, 4.0]])}
    >>> feature_rows(mats, ["b", "a"], np.array([1])).tolist()
    [[4.0, 2.0]]
    """
    out = np.empty((len(cells), len(names)), dtype=np.float32)
    for j, name in enumerate(names):
        out[:, j] = np.asarray(mats[name], dtype=np.float32).reshape(-1)[cells]
    return out


class FeatureBlocks:
    """The classifier's features, computed :data:`BLOCK_USERS` users at a time.

    The same values as :func:`weekly_features` (every feature of a user depends on that user's rows of the
    signal only, and on the drop table), but all users' matrices never exist at once: the caller asks for
    the rows of the cells it needs (:meth:`rows`). At 100,000 users x 39 weeks the matrices of every feature
    are about 1 GB (66 features); a block of 2,048 users is about 21 MB.

    Parameters
    ----------
    signal : SignalResult
        As :func:`weekly_features` takes it.
    params : EmploymentParams, optional
        As :func:`weekly_features` takes it.
    block_users : int
        Users a block.

    Examples
    --------
    >>> import pandas as pd
    >>> n = np.array([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    >>> nan = np.full((2, 3), np.nan)
    >>> sig = SignalResult(users=np.array(["a", "b"]), weeks=pd.date_range("2020-02-17", periods=3, freq="7D"),
    ...     telework=np.array([0.2, 0.4]), matrices={"attendance": n, "work_time": n, "attendance_raw": n,
    ...     "work_time_raw": n, "workdays_observed": n * 5, "workdays_at_work": n * 4, "workhour_observed_h": n * 40,
    ...     "p": n * 0.0, "p_sector": n * 0.1, "q": nan, "prior": nan, "run_start": np.full((2, 3), -1),
    ...     "drop": np.full((2, 3), -1), **{c: nan for c in DAYTIME_COLUMNS}}, tables={"drop_evidence": pd.DataFrame(
    ...     {c: [] for c in ("hybrid", "posterior", "ended", "new_workplace", *EVIDENCE_COLUMNS)})})
    >>> blocks = FeatureBlocks(sig, block_users=1)
    >>> blocks.rows(np.array([4, 1]), ["attendance_change", "telework"]).tolist()
    [[-1.0, 0.4000000059604645], [0.0, 0.20000000298023224]]
    """

    def __init__(self, signal: SignalResult, *, params: EmploymentParams | None = None,
                 block_users: int = BLOCK_USERS):
        self.signal, self.params, self.block_users = signal, params, max(int(block_users), 1)
        self.n_weeks = len(signal.weeks)
        self.names = sorted(weekly_features(signal_block(signal, 0, min(1, len(signal.users))), params=params))

    def rows(self, cells: np.ndarray, names=None) -> np.ndarray:
        """float32 rows of features for the flat cell indices ``cells`` (``user * n_weeks + week``), columns in
        the order of ``names`` (default :attr:`names`), computed block by block of users."""
        names = self.names if names is None else list(names)
        missing = [n for n in names if n not in self.names]
        if missing:
            raise MobilityError(f"FeatureBlocks: no features {missing}; there are {self.names}")
        cells = np.asarray(cells, dtype=np.int64)
        out = np.empty((len(cells), len(names)), dtype=np.float32)
        block = cells // (self.n_weeks * self.block_users)
        order = np.argsort(block, kind="stable")
        edges = np.flatnonzero(np.diff(block[order])) + 1
        for idx in np.split(order, edges) if len(order) else []:
            lo = int(block[idx[0]]) * self.block_users
            hi = min(lo + self.block_users, len(self.signal.users))
            mats = weekly_features(signal_block(self.signal, lo, hi), params=self.params)
            out[idx] = feature_rows(mats, names, cells[idx] - lo * self.n_weeks)
        return out
