"""Weekly employment status by the attendance signal (method 1 of method.md 2.7), without labels.

For each baseline worker and covered week:

* inside a **sustained drop** (near-zero attendance at the workplace for k covered weeks,
  :func:`mobility.employment.events.confirmed_runs`): ``p_unemployed`` = the drop's posterior that it is a job
  loss -- the population posterior q_u(t0) from the drop's week and the person's teleworkability
  (:mod:`mobility.employment.adoption`, remote adoption estimated without assuming one wave), updated by the
  person's own evidence (hybrid days, a new workplace, the shape of their work days:
  :mod:`mobility.employment.evidence`). A remote worker who loses the job later shows nothing attendance can
  see: p stays at the drop's posterior (adding the population's job-loss hazard since the drop began was
  tried: the hazard of unexplained drops is several times the true job-loss rate, and it pushed 36-43 % of
  remote weeks over the threshold on the default synthetic region);
* elsewhere: ``p_unemployed = p_u(t) * clip(1 - r_u(t), 0, 1)`` with ``p_u(t) = sum_s w_us P_s(t) /
  sum_s w_us`` -- the sector's job-loss share, scaled by how far attendance fell.

``status`` is ``unemployed`` inside a sustained drop while ``p_unemployed >= unemployed_probability_min``, else
``employed``: where the evidence cannot tell remote work from job loss, p stays near the population's base
rate and the threshold decides (most such drops are then ``employed``). ``unknown`` (and ``p_unemployed`` NaN)
for uncovered weeks and for users without a baseline job -- never a guess. ``weeks_since_job_loss`` counts
weeks from the start of the user's latest job-loss drop (kept after a return to work, as in the ground truth),
missing before any; :func:`job_loss_weeks` dates each user's first job loss from it.

Schema ``employment_weekly``: ``user_id`` (str), ``week`` (datetime64[ns], naive local Monday), ``status``
(``employed``/``unemployed``/``unknown``), ``p_unemployed`` (float64), ``method`` (``signal`` or
``classifier``), ``weeks_since_job_loss`` (Int64). Sorted by ``user_id``, ``week``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mobility.checks import require_columns
from mobility.employment.adoption import estimate_adoption, remote_stock
from mobility.employment.daytime import DAYTIME_COLUMNS
from mobility.employment.events import confirmed_runs, near_zero
from mobility.employment.evidence import (
    InterceptDraws,
    drop_evidence,
    evidence_posterior,
    remote_intercept_posterior,
    weekly_evidence,
)
from mobility.employment.params import EmploymentParams
from mobility.employment.sector import (
    check_telework,
    sector_sums,
    sector_table,
    sector_weekly,
    user_sector_weights,
    user_shares,
)
from mobility.errors import MobilityError

log = logging.getLogger(__name__)

STATUSES = ("employed", "unemployed", "unknown")
PANEL_MATRICES = ("workdays_observed", "workdays_at_work", "usual_workdays", "workhour_observed_h", "attendance_raw",
                  "work_time_raw", "baseline_attendance")
OUTPUT_COLUMNS = ("user_id", "week", "status", "p_unemployed", "method", "weeks_since_job_loss")


@dataclass
class SignalResult:
    """The signal method's matrices (users x weeks) and tables."""

    users: np.ndarray
    weeks: pd.DatetimeIndex
    matrices: dict[str, np.ndarray]
    telework: np.ndarray
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    intercept: InterceptDraws | None = None  # the drops' posteriors per value of b (None where b is not averaged)


def to_matrix(panel: pd.DataFrame, column: str, n_users: int, n_weeks: int) -> np.ndarray:
    """A column of a dense panel sorted by user then week, as an (n_users, n_weeks) array.

    Examples
    --------
    >>> to_matrix(pd.DataFrame({"v": [1, 2, 3, 4]}), "v", 2, 2).tolist()
    [[1, 2], [3, 4]]
    """
    return panel[column].to_numpy().reshape(n_users, n_weeks)


def weekly_matrices(table: pd.DataFrame, users: np.ndarray, weeks: pd.DatetimeIndex,
                    columns) -> dict[str, np.ndarray]:
    """Columns of a ``user_id``, ``week`` table as ``(n_users, n_weeks)`` float matrices (NaN where absent).

    Examples
    --------
    >>> t = pd.DataFrame({"user_id": ["b"], "week": pd.to_datetime(["2020-01-13"]), "x": [2]})
    >>> weekly_matrices(t, np.array(["a", "b"]), pd.DatetimeIndex(["2020-01-06", "2020-01-13"]), ["x"])["x"].tolist()
    [[nan, nan], [nan, 2.0]]
    """
    code, names = pd.factorize(table["user_id"].astype(str))  # each row's user looked up once per user
    u = pd.Index(users).get_indexer(pd.Index(names, dtype=object))[code] if len(names) else np.zeros(0, int)
    wk = pd.to_datetime(table["week"]).to_numpy().astype("datetime64[ns]")
    w = np.searchsorted(weeks.values, wk).clip(0, max(len(weeks) - 1, 0))
    ok = (u >= 0) & (len(weeks) > 0) & (weeks.values[w] == wk)
    cell = (u * len(weeks) + w)[ok][::-1]  # reversed: the first row of a duplicated (user, week) wins
    out = {}
    for c in columns:
        m = np.full(len(users) * len(weeks), np.nan)
        m[cell] = pd.to_numeric(table[c], errors="coerce").to_numpy(dtype=float)[ok][::-1]
        out[c] = m.reshape(len(users), len(weeks))
    return out


def weeks_since(event_start: np.ndarray, is_loss: np.ndarray) -> np.ndarray:
    """Weeks since the start of the latest job-loss event at or before each week (-1 before any).

    Examples
    --------
    >>> s = np.array([[-1, 1, 1, -1, -1]])
    >>> weeks_since(s, s >= 0).tolist()
    [[-1, 0, 1, 2, 3]]
    """
    started = np.where(is_loss & (event_start >= 0), event_start, -1)
    latest = np.maximum.accumulate(started, axis=1)
    col = np.arange(event_start.shape[1])[None, :]
    return np.where(latest >= 0, col - latest, -1)


def status_table(users: np.ndarray, weeks: pd.DatetimeIndex, p: np.ndarray, usable: np.ndarray,
                 run_start: np.ndarray, is_loss: np.ndarray, method: str) -> pd.DataFrame:
    """Assemble ``employment_weekly`` rows from matrices (schema in the module notes).

    A covered week is ``unemployed`` when it lies in a confirmed run (``run_start >= 0``, from
    :func:`mobility.employment.events.confirmed_runs`) that counts as a job loss (``is_loss``), else
    ``employed``; ``weeks_since_job_loss`` counts from the start of the latest such run.

    Examples
    --------
    >>> t = status_table(np.array(["a"]), pd.DatetimeIndex(["2020-03-02", "2020-03-09", "2020-03-16"]),
    ...                  np.array([[0.9, 0.1, 0.9]]), np.array([[True, False, True]]), np.array([[-1, 1, 1]]),
    ...                  np.array([[False, True, True]]), "signal")
    >>> t["status"].tolist(), t["weeks_since_job_loss"].tolist()
    (['employed', 'unknown', 'unemployed'], [<NA>, 0, 1])
    """
    n_u, n_w = p.shape
    p = np.where(usable, p, np.nan)
    loss = (run_start >= 0) & is_loss
    since = weeks_since(run_start, loss).ravel()
    status = np.where(~usable, 0, np.where(loss, 2, 1)).ravel()
    return pd.DataFrame({
        "user_id": _repeat_text(pd.array(users, dtype="string"), np.repeat(np.arange(n_u), n_w)),
        "week": np.tile(weeks.values, n_u).astype("datetime64[ns]"),
        "status": _repeat_text(pd.array(["unknown", "employed", "unemployed"], dtype="string"), status),
        "p_unemployed": p.ravel().astype(np.float64),
        "method": _repeat_text(pd.array([method], dtype="string"), np.zeros(n_u * n_w, dtype=np.int64)),
        "weeks_since_job_loss": pd.arrays.IntegerArray(np.maximum(since, 0).astype(np.int64), since < 0),
    })


def _repeat_text(values: pd.api.extensions.ExtensionArray, index: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """``values[index]`` for a text array (dtype ``string``): taken in Arrow, no Python string per row.

    Examples
    --------
    >>> _repeat_text(pd.array(["a", "b"], dtype="string"), np.array([1, 1, 0])).tolist()
    ['b', 'b', 'a']
    """
    return values.take(np.asarray(index, dtype=np.int64))


REPORTED_METHODS = ("auto", "signal", "classifier")
"""``[employment] method``: whose estimates the report and the area consumers read by default. ``auto`` (the
default) takes the classifier wherever it ran -- trained on ``labels`` or applied as ``model`` -- since it ranks
weeks better (its out-of-fold ROC AUC is higher) and its probabilities are calibrated out of fold on the labels;
the label-free signal otherwise, whose probabilities are averaged over the part of remote adoption
teleworkability does not explain (:mod:`~mobility.employment.adoption`). Both methods' scores side by side:
benchmarks/README.md, employment."""


def reported_method(requested: str, methods) -> str:
    """The employment method whose estimates a run reports: ``requested`` (one of :data:`REPORTED_METHODS`), with
    ``"auto"`` resolved to the classifier where it is among ``methods`` (the methods of ``employment_weekly`` or
    ``area_unemployment``), else the signal. The one decision the pipeline and the report share.

    Examples
    --------
    >>> reported_method("auto", ["signal", "classifier"]), reported_method("auto", ["signal"])
    ('classifier', 'signal')
    >>> reported_method("signal", ["signal", "classifier"])
    'signal'
    """
    if requested not in REPORTED_METHODS:
        raise MobilityError(f"[employment] method = {requested!r}; use one of {list(REPORTED_METHODS)}")
    if requested != "auto":
        return requested
    return "classifier" if "classifier" in set(map(str, methods)) else "signal"


def job_loss_weeks(employment: pd.DataFrame, method: str | None = None) -> pd.Series:
    """Each user's first job-loss week (Monday): the earliest ``week - weeks_since_job_loss``.

    The one definition of treatment timing: the event study, the pipeline and the scores against the truth
    date job losses with it. ``employment`` is ``employment_weekly`` (``user_id, week, method,
    weeks_since_job_loss``) or a truth table of the same shape without ``method``; ``method`` picks one
    method's rows (needed when the table holds several). Users never dated a loss are absent.

    Returns
    -------
    Series ``job_loss_week`` (datetime64[ns], naive) indexed by ``user_id`` (str).

    Examples
    --------
    >>> e = pd.DataFrame({"user_id": ["a", "a", "b"], "method": "signal",
    ...                   "week": pd.to_datetime(["2020-03-16", "2020-03-23", "2020-03-16"]),
    ...                   "weeks_since_job_loss": pd.array([1, 2, None], dtype="Int64")})
    >>> job_loss_weeks(e, "signal").astype(str).to_dict()
    {'a': '2020-03-09'}
    """
    require_columns(employment, ["user_id", "week", "weeks_since_job_loss"], "employment_weekly",
                    "pass the employment step's table (or the truth's weekly_status)")
    if method is not None:
        if "method" not in employment.columns:
            raise MobilityError(f"employment_weekly has no 'method' column; call job_loss_weeks(table) without "
                                f"method={method!r}")
        chosen = employment[employment["method"].astype(str) == method]
        if chosen.empty:
            raise MobilityError(f"employment_weekly has no rows of method {method!r}; "
                                f"available: {sorted(employment['method'].astype(str).unique())}")
    else:
        chosen = employment
        if "method" in employment.columns and employment["method"].nunique() > 1:
            raise MobilityError("employment_weekly holds several methods "
                                f"{sorted(employment['method'].astype(str).unique())}; pass method=")
    lost = chosen[chosen["weeks_since_job_loss"].notna()]
    week = pd.to_datetime(lost["week"])
    if getattr(week.dt, "tz", None) is not None:
        week = week.dt.tz_convert("UTC").dt.tz_localize(None)
    since = pd.to_numeric(lost["weeks_since_job_loss"]).astype("int64").to_numpy()
    loss_week = week.dt.normalize().astype("datetime64[ns]") - pd.to_timedelta(since * 7, unit="D")
    out = loss_week.groupby(lost["user_id"].astype(str).to_numpy()).min().rename("job_loss_week")
    out.index.name = "user_id"
    return out


@dataclass
class SignalInputs:
    """What the signal reads of its two tables, as ``(n_users, n_weeks)`` matrices (:func:`signal_inputs`)."""

    users: np.ndarray
    weeks: pd.DatetimeIndex
    attendance: np.ndarray
    work_time: np.ndarray
    usable: np.ndarray
    matrices: dict[str, np.ndarray]
    daytime: bool


def signal_inputs(panel: pd.DataFrame, *, daytime: pd.DataFrame | None = None) -> SignalInputs:
    """The attendance panel (and the daytime table) as the matrices the signal runs on
    (:func:`signal_from_inputs`): a caller that lets the tables go after this holds only the matrices.

    Examples
    --------
    >>> panel = pd.DataFrame({"user_id": ["a", "a"], "week": pd.to_datetime(["2020-03-02", "2020-03-09"]),
    ...     "covered": [True, False], "attendance": [1.0, 0.0], "work_time": [1.0, 0.0], "baseline_job": True,
    ...     **{c: 1.0 for c in PANEL_MATRICES}})
    >>> i = signal_inputs(panel)
    >>> i.users.tolist(), i.usable.tolist(), i.attendance.tolist(), sorted(i.matrices) == sorted(PANEL_MATRICES)
    (['a'], [[True, False]], [[1.0, 0.0]], True)
    """
    require_columns(panel, ["user_id", "week", "covered", "attendance", "work_time", "baseline_job"], "panel",
                    "build it with relative_attendance")
    users = panel["user_id"].astype(str).unique()
    weeks = pd.DatetimeIndex(panel["week"].unique())
    n_u, n_w = len(users), len(weeks)
    if n_u * n_w != len(panel):
        raise MobilityError("panel is not dense (one row per user and week); build it with relative_attendance")
    r = to_matrix(panel, "attendance", n_u, n_w).astype(float)
    rt = to_matrix(panel, "work_time", n_u, n_w).astype(float)
    usable = to_matrix(panel, "covered", n_u, n_w).astype(bool) & to_matrix(panel, "baseline_job", n_u, n_w)
    usable &= np.isfinite(r)
    mats = {c: to_matrix(panel, c, n_u, n_w).astype(float) for c in PANEL_MATRICES}
    if daytime is not None:
        require_columns(daytime, ["user_id", "week", *DAYTIME_COLUMNS], "daytime", "build it with daytime_weekly")
        mats.update(weekly_matrices(daytime, users, weeks, DAYTIME_COLUMNS))
    return SignalInputs(users, weeks, r, rt, usable, mats, daytime is not None)


def signal_status(panel: pd.DataFrame, features: pd.DataFrame, telework: pd.Series, *,
                  daytime: pd.DataFrame | None = None, params: EmploymentParams | None = None) -> SignalResult:
    """Run the attendance signal over a panel from :func:`~mobility.employment.attendance.relative_attendance`.

    Parameters
    ----------
    panel : DataFrame
        The dense attendance panel (sorted by user then week).
    features : DataFrame
        ``user_id``, ``w_CNS01..20`` per user (:func:`mobility.census.features.work_features` of W_u).
    telework : Series
        tau_s by sector (:func:`mobility.census.telework.read_teleworkability`).
    daytime : DataFrame, optional
        :func:`mobility.employment.daytime.daytime_weekly` of the same visits: the evidence on the shape of
        the work days. Without it a drop's own evidence is only its hybrid days.
    params : EmploymentParams, optional

    Returns
    -------
    SignalResult
        ``tables`` holds ``employment_weekly`` (method ``signal``), ``sector_weekly``, ``remote_adoption`` and
        ``remote_intercept`` (:mod:`~mobility.employment.adoption`) and ``drop_evidence``
        (:mod:`~mobility.employment.evidence`).

    Examples
    --------
    See ``tests/employment/test_status.py`` for the hand-made panels (staggered remote workers, a hybrid worker,
    job losers, a silent phone, a part-timer).
    """
    return signal_from_inputs(signal_inputs(panel, daytime=daytime), features, telework, params=params)


def _shares(sectors: pd.DataFrame, n_sectors: int, n_weeks: int) -> tuple[np.ndarray, np.ndarray]:
    """The sector job-loss shares of a ``sector_weekly`` table, ``(n_sectors, n_weeks)``, and their mean over
    the sectors weighted by their workers (the share of a user without sector weights)."""
    p_s = sectors["p_unemployed"].to_numpy().reshape(n_sectors, n_weeks)
    weight = sectors["weight"].to_numpy().reshape(n_sectors, n_weeks)
    with np.errstate(invalid="ignore", divide="ignore"):
        return p_s, np.nansum(p_s * weight, axis=0) / weight.sum(axis=0)


def signal_from_inputs(inputs: SignalInputs, features: pd.DataFrame, telework: pd.Series, *,
                       params: EmploymentParams | None = None) -> SignalResult:
    """:func:`signal_status` on the matrices of :func:`signal_inputs` (the matrices are taken into the result,
    some of them in float32; do not reuse ``inputs``)."""
    params = params or EmploymentParams()
    users, weeks, r, rt, usable, mats = (inputs.users, inputs.weeks, inputs.attendance, inputs.work_time,
                                         inputs.usable, inputs.matrices)
    n_u, n_w = len(users), len(weeks)
    tau = check_telework(telework)
    w, x = user_sector_weights(features, users, telework)
    nothing = np.full((n_u, n_w), np.nan)
    evidence = weekly_evidence({c: nothing for c in DAYTIME_COLUMNS} | mats)
    if inputs.daytime:
        evidence["workplace_id"] = mats["workplace_id"]
        evidence["usual_clock_h"] = mats["usual_clock_h"]
    for c in [c for c in mats if c not in ("workplace_id", "usual_clock_h")]:  # from here on only the classifier's
        mats[c] = mats[c].astype(np.float32)  # features read them, in float32: kept so (half the memory)
    xx = np.where(np.isfinite(x), x, np.nanmean(x) if np.isfinite(x).any() else 0.0)
    run_start = confirmed_runs(near_zero(r, rt, params.zero_attendance_max), usable, params=params)
    adoption = estimate_adoption(run_start, usable, xx, weeks, params=params)
    prior = adoption.prior(run_start, xx)
    start, end = params.baseline
    base_cols = np.flatnonzero((weeks >= start) & (weeks <= end))
    drops, where = drop_evidence(run_start, usable, prior, evidence, base_cols, params=params)
    drops = evidence_posterior(drops, params=params)
    intercept = pd.DataFrame({"remote_intercept": [0.0], "loglik": [np.nan], "weight": [1.0], "draw_weight": [1.0],
                              "likelihood_power": [1.0]})
    draws = None
    if params.remote_intercept_max > 0 and len(drops):
        if (drops["category"] > 0).any():
            grid = params.remote_intercept_grid
            priors = adoption.drop_priors(drops["start"].to_numpy(), xx[drops["user"].to_numpy()], grid)
            drops, intercept, by_b = remote_intercept_posterior(drops, priors, grid, params=params)
            draws = InterceptDraws.of(where, users, weeks, grid, intercept["weight"].to_numpy(), by_b,
                                      intercept["draw_weight"].to_numpy())
            prior = where.to_cells(drops["prior"])
        else:
            log.warning("employment: no sustained drop has evidence on the work days (no daytime table, or too few "
                        "drops to score): the signal keeps remote adoption in proportion to teleworkability (b = 0) "
                        "instead of averaging over remote_intercept_max")
    q = where.to_cells(drops["posterior"])
    attendance = np.where(usable, r, np.nan)
    if draws is not None:  # the sector route's remote stock averaged over b like the drops' priors
        kept, b_weight = draws.kept()
        support = draws.support()  # every b either posterior counts: the point averages over kept, the area draws
        by_b = {k: remote_stock(where.to_cells(priors[k]), run_start, usable, xx, grid[k]) for k in support}
        stocks = np.array([by_b[k] for k in kept])
        adoption.table["remote_stock"] = b_weight @ stocks
        adoption.table["remote_untied"] = b_weight @ (grid[kept, None] * stocks)
    stock = (np.where(weeks > end, params.remote_adoption, 0.0) if params.remote_adoption is not None
             else adoption.table["remote_stock"].to_numpy(float))
    untied = None if params.remote_adoption is not None else adoption.table["remote_untied"].to_numpy(float)
    sectors = sector_weekly(attendance, w, tau, stock, weeks, untied)
    p_s, overall = _shares(sectors, len(tau), n_w)
    wz = np.nan_to_num(w, nan=0.0)
    wsum = wz.sum(axis=1, keepdims=True)
    p_u = user_shares(wz, wsum, p_s, overall)
    drop = np.clip(1.0 - np.nan_to_num(r, nan=1.0), 0.0, 1.0)
    if draws is not None and params.remote_adoption is None:  # the cells outside drops at each b, for the area
        sums = sector_sums(attendance, w)  # one pass over the users for every b
        shares = [_shares(sector_table(sums, tau, by_b[k], weeks, grid[k] * by_b[k]), len(tau), n_w)
                  for k in support]
        draws.with_outside(support, np.array([by_b[k] for k in support]), shares, wz, wsum, drop)
    p = np.where(run_start >= 0, q, np.nan_to_num(p_u) * drop)
    p = np.where(usable, p, np.nan)
    with np.errstate(invalid="ignore"):
        table = status_table(users, weeks, p, usable, run_start, q >= params.unemployed_probability_min, "signal")
    table.attrs["params"] = params.to_dict()
    drop_table = drops.assign(user_id=pd.array(users[drops["user"].to_numpy()], dtype="string"),
                              start_week=weeks.values[drops["start"].to_numpy()]).drop(columns=["user", "start"])
    drop_table = drop_table[["user_id", "start_week", *[c for c in drop_table.columns
                                                         if c not in ("user_id", "start_week")]]]
    return SignalResult(
        users=users, weeks=weeks, telework=x,
        matrices={"attendance": r, "work_time": rt, "usable": usable, "run_start": run_start, "q": q,
                  "prior": prior, "drop": where.cell_drop, "p_sector": p_u, "p": p, "weights": w, **mats},
        tables={"employment_weekly": table, "sector_weekly": sectors, "remote_adoption": adoption.table,
                "drop_evidence": drop_table, "remote_intercept": intercept},
        intercept=draws,
    )
