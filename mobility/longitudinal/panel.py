"""Validation of the user-week panel and event-time coding (frame layer).

Panel contract (one row per user and calendar week)
---------------------------------------------------
``user_id``
    Any hashable id (string or integer); never written to outputs.
``week``
    Monday of the ISO week, datetime64 (naive or tz-aware; tz-aware values are compared in UTC).
metric columns
    Numeric; missing values drop that user-week from the regression of that metric only.
``job_loss_week``
    datetime64, constant within a user; ``NaT`` for users who never lose their job (controls). Any day
    of the week is accepted and floored to its Monday.
group columns
    One category per user (constant within a user), e.g. ``sex``, ``age_group``.

Event time is ``k = (week - Monday of job_loss_week) / 7 days``: ``k = 0`` is the week of the job loss,
``k = -1`` the last week before it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from mobility.checks import require_columns
from mobility.employment.status import job_loss_weeks
from mobility.errors import MobilityError

NO_EVENT = np.iinfo(np.int32).min  # event time (and cohort) of control rows


def code_dtype(n: int) -> np.dtype:
    """The integer type of codes ``-1..n``: int32 where they fit (half the bytes of every rows-long code array of
    a panel and of a fit), int64 beyond.

    Examples
    --------
    >>> code_dtype(65_000).name, code_dtype(2**31).name
    ('int32', 'int64')
    """
    return np.dtype(np.int32) if n < np.iinfo(np.int32).max else np.dtype(np.int64)


def recode(codes: np.ndarray) -> np.ndarray:
    """Non-negative integer codes made dense ``0..k-1``, keeping their order (a table lookup, no hashing), in
    :func:`code_dtype`.

    Examples
    --------
    >>> recode(np.array([7, 2, 7, 5])).tolist()
    [2, 0, 2, 1]
    """
    if codes.size == 0:
        return codes.astype(np.int32)
    present = np.zeros(int(codes.max()) + 1, dtype=code_dtype(codes.size))
    present[codes] = 1
    return (np.cumsum(present, dtype=present.dtype) - 1)[codes]


def _as_naive_utc(values: pd.Series, column: str) -> pd.Series:
    if not (pd.api.types.is_datetime64_any_dtype(values) or values.isna().all()):
        raise MobilityError(
            f"panel column {column!r} must be datetime64 (got {values.dtype}); convert it with pd.to_datetime"
        )
    values = pd.to_datetime(values)
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    return values.astype("datetime64[ns]")


@dataclass
class EventPanel:
    """Arrays of a validated panel, ready for estimation (rows with a missing outcome removed).

    ``y_source`` holds the outcomes, (rows, metrics), ``metrics`` naming its columns; or, in a panel cut from
    another one (:meth:`subset`, :meth:`fit_rows`, :meth:`columns`), that panel's array, shared, not copied: row
    ``i`` of this panel is row ``y_rows[i]`` of ``y_source`` and metric ``j`` its column ``y_columns[j]``
    (:meth:`outcome` reads them; a fit gathers them a block at a time, :func:`~mobility.longitudinal.cell_ols.
    cell_ols`). :attr:`y` is this panel's own (rows, metrics), gathered (a copy) where the panel is a cut.

    ``event_time`` is the raw weeks since the job loss (not binned, nothing dropped for the window) and
    ``cohort`` the job-loss week as days since 1970-01-05 (a Monday) divided by 7; both are
    :data:`NO_EVENT` for controls. Estimators bin or drop rows for their window. The codes (users, weeks, event
    times, cohorts, strata) are int32 (:func:`code_dtype`; int64 only where a panel has more than 2**31 rows).
    """

    y_source: np.ndarray
    user_codes: np.ndarray
    week_codes: np.ndarray
    event_time: np.ndarray
    cohort: np.ndarray
    group_codes: np.ndarray  # -1 where no group column was given; the smallest integer type that holds them
    group_labels: list = field(default_factory=list)
    weights: np.ndarray | None = None
    n_dropped_missing: int = 0
    metrics: list = field(default_factory=list)
    strata: np.ndarray | None = None  # codes of the column whose categories get their own week effects
    by_group: dict = field(default_factory=dict)  # dimension -> (codes, labels), from prepare_panel(groups=...)
    strata_column: str | None = None  # the columns ``strata`` and ``weights`` were read from
    weight_column: str | None = None
    y_rows: np.ndarray | None = None  # this panel's rows of ``y`` (None: all, in order)
    y_columns: list | None = None  # its metrics' columns of ``y`` (None: all, in order)

    @property
    def treated(self) -> np.ndarray:
        return self.event_time != NO_EVENT

    @property
    def n_rows(self) -> int:
        """Number of rows of the panel (of ``y`` only where ``y_rows`` is None)."""
        return self.user_codes.shape[0]

    @property
    def y(self) -> np.ndarray:
        """The outcomes of this panel's rows and metrics, (rows, metrics): ``y_source`` itself, or gathered from it
        (a copy) where the panel is a cut of another; estimators read :meth:`outcome` or pass ``y_rows`` and
        ``y_columns`` on instead."""
        if self.y_rows is None and self.y_columns is None:
            return self.y_source
        rows = slice(None) if self.y_rows is None else self.y_rows
        return self.y_source[rows][:, slice(None) if self.y_columns is None else self.y_columns]

    def outcome(self, j: int) -> np.ndarray:
        """Metric ``j``'s values on this panel's rows (a view where ``y_source`` holds exactly them, else gathered)."""
        return self.y_source[slice(None) if self.y_rows is None else self.y_rows,
                             j if self.y_columns is None else self.y_columns[j]]

    def _rows_of_y(self, mask: np.ndarray) -> np.ndarray:
        """The rows of ``y`` of this panel's rows where ``mask`` holds (int32 where ``y``'s rows fit)."""
        rows = np.flatnonzero(mask) if self.y_rows is None else self.y_rows[mask]
        return rows.astype(code_dtype(self.y_source.shape[0]), copy=False)

    def subset(self, mask: np.ndarray, columns: list[int] | None = None) -> "EventPanel":
        """The rows where ``mask`` holds (and the metrics ``columns``, default all), with user and week codes
        made dense again; the panel itself (no copy) where that is every row and metric. The dimensions of
        ``by_group`` are not carried (choose one first: :meth:`grouped`)."""
        if mask.all() and (columns is None or list(columns) == list(range(len(self.metrics)))):
            return replace(self, by_group={})
        panel = self if columns is None else self.columns([self.metrics[j] for j in columns])
        return EventPanel(
            self.y_source, recode(self.user_codes[mask]), recode(self.week_codes[mask]), self.event_time[mask],
            self.cohort[mask],
            self.group_codes[mask], self.group_labels, None if self.weights is None else self.weights[mask],
            self.n_dropped_missing, panel.metrics, None if self.strata is None else self.strata[mask], {},
            self.strata_column, self.weight_column, self._rows_of_y(mask), panel.y_columns,
        )

    def fit_rows(self, mask: np.ndarray) -> "EventPanel":
        """The rows where ``mask`` holds with only what a fit of the cells reads (:func:`~mobility.longitudinal.
        estimators.fit_terms`): the rows of ``y``, the user codes made dense again and the weights; the other row
        arrays are empty. :meth:`subset` would copy every row array (at 100,000 users each is 10-20 MB, and a fit
        holds its panel and this subset at once).

        Examples
        --------
        >>> ep = EventPanel(np.array([[1.0], [2.0], [3.0]]), np.array([0, 1, 1]), np.array([0, 0, 1]),
        ...                 np.array([NO_EVENT] * 3), np.array([NO_EVENT] * 3), np.array([-1, -1, -1]))
        >>> sub = ep.fit_rows(np.array([False, True, True]))
        >>> sub.outcome(0).tolist(), sub.y_rows.tolist(), sub.user_codes.tolist(), sub.n_users, sub.week_codes.size
        ([2.0, 3.0], [1, 2], [0, 0], 1, 0)
        """
        empty = np.zeros(0, dtype=np.int32)
        whole = bool(mask.all())  # as subset: the arrays themselves (views), no copy
        rows = slice(None) if whole else mask
        return replace(self, y_rows=self.y_rows if whole else self._rows_of_y(mask),
                       user_codes=self.user_codes if whole else recode(self.user_codes[mask]),
                       week_codes=empty, event_time=empty, cohort=empty, group_codes=empty, strata=None, by_group={},
                       weights=None if self.weights is None else self.weights[rows])

    def grouped(self, dimension: str | None) -> "EventPanel":
        """The panel with ``dimension``'s groups as its groups (one of ``by_group``), or none (``None``).

        Examples
        --------
        >>> p = pd.DataFrame({"user_id": ["a", "a", "b", "b"], "week": pd.to_datetime(["2020-03-02", "2020-03-09"] * 2),
        ...                   "rg": [1.0, 2.0, 3.0, 4.0], "sex": ["f", "f", "m", "m"],
        ...                   "job_loss_week": pd.to_datetime(["2020-03-11", "2020-03-11", None, None])})
        >>> ep = prepare_panel(p, "rg", groups=["sex"])
        >>> ep.grouped("sex").group_codes.tolist(), ep.grouped("sex").group_labels, ep.grouped(None).group_codes.tolist()
        ([0, 0, 1, 1], ['f', 'm'], [-1, -1, -1, -1])
        """
        if dimension is None:
            return replace(self, group_codes=np.full(self.n_rows, -1, dtype=np.int8), group_labels=[])
        if dimension not in self.by_group:
            raise MobilityError(f"the panel was prepared without the group column {dimension!r}; prepare it with "
                                f"prepare_panel(..., groups=[{dimension!r}]) (it has {sorted(self.by_group)})")
        codes, labels = self.by_group[dimension]
        return replace(self, group_codes=codes, group_labels=labels)

    def columns(self, metrics: list[str]) -> "EventPanel":
        """The panel restricted to ``metrics`` (columns of ``y``, in that order, not copied); itself where they are
        all."""
        missing = [m for m in metrics if m not in self.metrics]
        if missing:
            raise MobilityError(f"metrics {missing} were not prepared in this panel (it has {self.metrics})")
        if list(metrics) == list(self.metrics):
            return self
        own = [self.metrics.index(m) for m in metrics]
        return replace(self, metrics=list(metrics),
                       y_columns=own if self.y_columns is None else [self.y_columns[j] for j in own])

    @property
    def n_users(self) -> int:
        return int(self.user_codes.max()) + 1 if self.user_codes.size else 0


def prepare_panel(
    panel: pd.DataFrame,
    metric: str | list[str],
    *,
    event_col: str = "job_loss_week",
    user_col: str = "user_id",
    week_col: str = "week",
    group: str | None = None,
    weight_col: str | None = None,
    strata: str | None = None,
    any_metric: bool = False,
    groups: list[str] | tuple = (),
) -> EventPanel:
    """Validate ``panel`` and code users, weeks, event time, cohorts and groups as integer arrays.

    ``metric`` is one outcome column or several; rows where any of them is missing are dropped (where all of
    them are, with ``any_metric=True``: ``y`` then keeps NaN for the others). ``strata``
    names a column constant within each user whose categories get their own calendar-week effects (a
    missing value is a category of its own). ``groups`` codes more group columns (``by_group``): a panel
    prepared once serves the pooled study and every dimension (:meth:`EventPanel.grouped`; the estimators
    take it in place of the frame), the same arrays as preparing it again with ``group=`` each time.

    Examples
    --------
    >>> p = pd.DataFrame({"user_id": ["a", "a", "b", "b"],
    ...                   "week": pd.to_datetime(["2020-03-02", "2020-03-09"] * 2),
    ...                   "rg": [1.0, 2.0, 3.0, 4.0],
    ...                   "job_loss_week": pd.to_datetime(["2020-03-11", "2020-03-11", None, None])})
    >>> ep = prepare_panel(p, "rg")
    >>> ep.event_time[:2].tolist(), bool(ep.treated[2]), ep.y.shape
    ([-1, 0], False, (4, 1))
    """
    metrics = [metric] if isinstance(metric, str) else list(metric)
    needed = [user_col, week_col, *metrics, event_col] + [c for c in (group, weight_col, strata) if c] + list(groups)
    require_columns(panel, needed, "panel", "name the right columns with metric=..., event_col=..., user_col=..., "
                    "week_col=... or group=...")
    for m in metrics:
        if not pd.api.types.is_numeric_dtype(panel[m]) or pd.api.types.is_bool_dtype(panel[m]):
            raise MobilityError(f"panel column {m!r} must be numeric to be used as a metric (got {panel[m].dtype})")
    week = _as_naive_utc(panel[week_col], week_col)
    if week.isna().any():
        raise MobilityError(f"panel column {week_col!r} has {int(week.isna().sum())} missing weeks; drop those rows")
    if (week.dt.day_of_week != 0).any() or (week != week.dt.normalize()).any():
        bad = int(((week.dt.day_of_week != 0) | (week != week.dt.normalize())).to_numpy().argmax())
        raise MobilityError(
            f"panel column {week_col!r} must hold Mondays at 00:00 (week starts); row {bad} is {week.iloc[bad]}. "
            "Use week = date.dt.to_period('W-SUN').dt.start_time"
        )
    loss = _as_naive_utc(panel[event_col], event_col)
    loss = loss.dt.normalize() - pd.to_timedelta(loss.dt.day_of_week, unit="D")
    users = panel[user_col]
    if users.isna().any():
        raise MobilityError(f"panel column {user_col!r} has missing ids; drop those rows")
    user_of_row, user_ids = pd.factorize(users)  # for the checks of what must be constant within a user
    inconsistent = _varies_within(loss, user_of_row, len(user_ids))
    if inconsistent.any():
        raise MobilityError(
            f"{int(inconsistent.sum())} user(s) have more than one {event_col!r} value (e.g. "
            f"{user_ids[int(np.argmax(inconsistent))]!r}); it must be constant within a user (the first job loss), NaT "
            "for controls"
        )
    if panel.duplicated([user_col, week_col]).any():
        raise MobilityError(f"panel has duplicate ({user_col}, {week_col}) rows; keep one row per user-week")

    def column(m: str) -> np.ndarray:
        return panel[m].to_numpy(dtype=np.float64, na_value=np.nan)

    # the rows kept from each metric's finite values, then y filled a column at a time on those rows only: never
    # every row's metrics twice (at 100,000 users each copy of 2.49M rows x 12 metrics is 0.24 GB)
    finite = [np.isfinite(column(m)) for m in metrics]
    keep = np.logical_or.reduce(finite) if any_metric else np.logical_and.reduce(finite)
    del finite
    n_missing = int((~keep).sum())
    treated = loss.notna().to_numpy()
    # weeks (event time, weeks since 1970) fit int32 by far; NO_EVENT is int32's minimum
    event_time = np.full(len(panel), NO_EVENT, dtype=np.int32)
    et = ((week - loss).dt.days // 7).to_numpy(dtype=np.float64, na_value=np.nan)
    event_time[treated] = et[treated].astype(np.int32)
    cohort = np.full(len(panel), NO_EVENT, dtype=np.int32)
    days = ((loss - pd.Timestamp("1970-01-05")).dt.days // 7).to_numpy(dtype=np.float64, na_value=np.nan)
    cohort[treated] = days[treated].astype(np.int32)

    weights = None
    if weight_col:
        wv = panel[weight_col].to_numpy(dtype=np.float64, na_value=np.nan)
        if not np.all(np.isfinite(wv[keep])) or np.any(wv[keep] < 0):
            raise MobilityError(f"weight column {weight_col!r} must be finite and >= 0")
        keep &= wv > 0
        weights = wv[keep]

    group_codes = np.full(int(keep.sum()), -1, dtype=np.int8)
    labels: list = []
    if group:
        group_codes, labels = _group_codes(panel[group], group, user_of_row, len(user_ids), treated, keep)
    by_group = {dim: _group_codes(panel[dim], dim, user_of_row, len(user_ids), treated, keep) for dim in groups}

    strata_codes = None
    if strata:
        if _varies_within(panel[strata], user_of_row, len(user_ids)).any():
            raise MobilityError(f"strata column {strata!r} must be constant within a user (e.g. a baseline trait)")
        strata_codes = pd.factorize(panel[strata].astype("string").fillna("<NA>"))[0][keep].astype(code_dtype(len(panel)))

    user_codes, _ = pd.factorize(user_of_row[keep], sort=False)  # the users of the kept rows, in order of appearance
    del user_of_row
    week_codes, _ = pd.factorize(week[keep], sort=True)
    return EventPanel(
        y_source=_kept_columns(column, metrics, keep),
        user_codes=np.asarray(user_codes, dtype=code_dtype(len(panel))),
        week_codes=np.asarray(week_codes, dtype=code_dtype(len(panel))),
        event_time=event_time[keep],
        cohort=cohort[keep],
        group_codes=group_codes,
        group_labels=labels,
        weights=weights,
        n_dropped_missing=n_missing,
        metrics=metrics,
        strata=strata_codes,
        by_group=by_group,
        strata_column=strata,
        weight_column=weight_col,
    )


def _kept_columns(column, metrics: list[str], keep: np.ndarray) -> np.ndarray:
    """The (kept rows, metrics) array of ``column(m)[keep]``, filled a column at a time."""
    y = np.empty((int(keep.sum()), len(metrics)))
    for j, m in enumerate(metrics):
        y[:, j] = column(m)[keep]
    return y


def _varies_within(values, user_of_row: np.ndarray, n_users: int) -> np.ndarray:
    """Per user (codes ``0..n_users-1`` of the rows): whether ``values`` take more than one value on the user's rows,
    a missing value counting as one (``groupby(user)[values].nunique(dropna=False) > 1``), from the values' integer
    codes: no group-by of the rows' ids for each column checked.

    Examples
    --------
    >>> _varies_within(pd.Series(["f", "f", None, "m", None]), np.array([0, 0, 1, 1, 2]), 3).tolist()
    [False, True, False]
    """
    codes = pd.factorize(values, use_na_sentinel=False)[0]
    low = np.full(n_users, codes.size, dtype=codes.dtype)
    high = np.full(n_users, -1, dtype=codes.dtype)
    np.minimum.at(low, user_of_row, codes)
    np.maximum.at(high, user_of_row, codes)
    return low != high


def _group_codes(g: pd.Series, group: str, user_of_row: np.ndarray, n_users: int, treated: np.ndarray,
                 keep: np.ndarray) -> tuple[np.ndarray, list]:
    """Codes (rows ``keep``) and labels of a group column, checked: constant within a user, known for losers."""
    if _varies_within(g, user_of_row, n_users).any():
        raise MobilityError(
            f"group column {group!r} must be constant within a user; for probabilistic groups pass draws "
            "(see mobility.longitudinal.heterogeneity)"
        )
    missing_group = treated & g.isna().to_numpy()
    if missing_group.any():
        n_bad = np.unique(user_of_row[missing_group]).size
        raise MobilityError(
            f"{n_bad} job loser(s) have no {group!r} value; assign a group (e.g. modal assignment) or drop them"
        )
    cat = pd.Categorical(g)
    # the smallest signed type holding the codes and -1 (int8 for up to 127 groups: a column of rows shared by
    # every fit, 8 times smaller than int64); estimators widen them (to int32) when they compute with them
    small = np.promote_types(np.min_scalar_type(-max(len(cat.categories), 1)), np.int8)
    return np.asarray(cat.codes)[keep].astype(small), list(cat.categories)


def outcome_features(outcomes, features) -> list[str]:
    """The ``features`` (names) built from any of the ``outcomes``: those containing an outcome's name, or
    the name of its total when the outcome is a ``*_nonwork`` metric.

    Examples
    --------
    >>> outcome_features(["radius_of_gyration_km_nonwork", "capacity"], ["d_radius_of_gyration_km", "attendance"])
    ['d_radius_of_gyration_km']
    """
    stems = {o for o in outcomes} | {o.removesuffix("_nonwork") for o in outcomes}
    return [f for f in features if any(stem in f for stem in stems)]


def dating_method(
    employment: pd.DataFrame, requested: str, *, outcomes, classifier_features=None
) -> tuple[str, str]:
    """Which employment method dates job losses for an event study of ``outcomes``, and why.

    method.md 4: never date treatment with a model that uses the outcomes. ``"signal"`` (attendance at
    the work place) never does. ``"classifier"`` is allowed only when its recorded feature list
    ``classifier_features`` is known and disjoint from the outcomes (:func:`outcome_features`); asked for
    explicitly otherwise, it raises. ``"auto"`` takes the classifier when it is present and allowed, the
    signal otherwise.

    Examples
    --------
    >>> e = pd.DataFrame({"method": ["signal", "classifier"]})
    >>> dating_method(e, "auto", outcomes=["new_locations"], classifier_features=["attendance", "new_locations"])[0]
    'signal'
    >>> dating_method(e, "auto", outcomes=["new_locations"], classifier_features=["attendance"])[0]
    'classifier'
    """
    available = set(employment["method"].astype(str).unique())
    if requested not in ("auto", "signal", "classifier"):
        raise MobilityError(f"dating method {requested!r} is not one of ['auto', 'signal', 'classifier']")
    if requested != "auto" and requested not in available:
        raise MobilityError(f"[longitudinal] method = '{requested}': employment_weekly has no rows of that method; "
                            f"available: {sorted(available)}")
    if requested == "signal":
        return "signal", "asked for: the attendance signal uses no mobility metric"
    if "classifier" not in available:
        return "signal", "auto: no classifier in this run; the attendance signal uses no mobility metric"
    if classifier_features is None:
        reason = "the classifier's feature list is not recorded, so it cannot be checked against the outcomes"
    else:
        shared = outcome_features(outcomes, classifier_features)
        if not shared:
            return "classifier", "the classifier's recorded features share nothing with the outcome metrics"
        reason = f"the classifier uses outcome metrics as features ({', '.join(sorted(shared)[:6])})"
    if requested == "classifier":
        raise MobilityError(f"[longitudinal] method = 'classifier': {reason}; date job losses with 'signal' "
                            "(method.md 4: never date treatment with a model that uses the outcomes)")
    return "signal", f"auto: {reason}; dated with the attendance signal instead"


def job_loss_panel(
    metrics, employment: pd.DataFrame, workers, *, method: str, timezone: str
) -> pd.DataFrame:
    """User-week panel of ``workers``: their weekly metrics, ``week`` (local Monday), ``job_loss_week`` (NaT
    for never-losers) from :func:`mobility.employment.job_loss_weeks` of ``method``.

    ``metrics`` is the metrics step's weekly table, or its parts in order (an iterable of frames, e.g. read one
    Parquet part at a time): each part is cut to the workers' rows before the next is read, so the whole
    table is never held, and the panel is the one of the whole table (rows in order, labelled by their
    position in it).

    Examples
    --------
    >>> m = pd.DataFrame({"user_id": ["a", "a"], "period_start": pd.to_datetime(["2020-01-06 05:00",
    ...                   "2020-01-13 05:00"], utc=True), "radius_of_gyration_km": [3.0, 1.0]})
    >>> e = pd.DataFrame({"user_id": ["a"], "week": pd.to_datetime(["2020-01-13"]), "method": ["signal"],
    ...                   "weeks_since_job_loss": pd.array([0], dtype="Int64")})
    >>> job_loss_panel(m, e, ["a"], method="signal", timezone="America/New_York")[
    ...     ["week", "job_loss_week"]].astype(str).values.tolist()
    [['2020-01-06', '2020-01-13'], ['2020-01-13', '2020-01-13']]

    The same panel from the table's parts:

    >>> parts = (m.iloc[:1], m.iloc[1:].reset_index(drop=True))
    >>> job_loss_panel(parts, e, ["a"], method="signal", timezone="America/New_York").equals(
    ...     job_loss_panel(m, e, ["a"], method="signal", timezone="America/New_York"))
    True
    """
    loss = job_loss_weeks(employment, method)
    keep = pd.Index(pd.unique(np.asarray(workers, dtype=object)))  # its hash table built once, for every part
    whole = isinstance(metrics, pd.DataFrame)
    pieces, offset = [], 0
    for part in [metrics] if whole else metrics:
        require_columns(part, ("user_id", "period_start"), "metrics_weekly", "pass the metrics step's weekly table")
        rows = keep.get_indexer(part["user_id"]) >= 0  # a worker's row
        piece = part[rows].copy()
        if not whole:  # labelled as in the whole table (the parts read as one frame: default index)
            piece.index = pd.RangeIndex(offset, offset + len(part))[rows]
            offset += len(part)
        del part
        piece["week"] = piece["period_start"].dt.tz_convert(timezone).dt.tz_localize(None).dt.normalize()
        pieces.append(piece.drop(columns=["period_start", "period_end"], errors="ignore"))
    if not pieces:
        raise MobilityError("metrics_weekly has no parts; pass the metrics step's weekly table")
    pieces = [piece for piece in pieces if len(piece)] or pieces[:1]  # as the parts read as one frame
    panel = pieces[0] if len(pieces) == 1 else pd.concat(pieces)
    del pieces
    return panel.merge(loss, left_on="user_id", right_index=True, how="left")


def since_week(panel: pd.DataFrame, start, *, leads: int, event_col: str = "job_loss_week",
               week_col: str = "week", user_col: str = "user_id") -> tuple[pd.DataFrame, int]:
    """The panel from the week of ``start`` on, without the job losers whose ``leads`` weeks before the loss
    would reach before it: a comparison that begins after a shock which moved the controls and the future
    losers differently (remote work for some controls, commuting as before for the future losers), so that
    every lead week compares them after it.

    Returns the panel and the number of job losers left out (they are not made controls: they lost a job).

    Examples
    --------
    >>> p = pd.DataFrame({"user_id": ["a", "a", "b", "b", "c", "c"],
    ...                   "week": pd.to_datetime(["2020-03-09", "2020-03-16"] * 3),
    ...                   "job_loss_week": pd.to_datetime(["2020-04-13"] * 2 + ["2020-03-23"] * 2 + [None] * 2)})
    >>> kept, left_out = since_week(p, "2020-03-18", leads=4)
    >>> kept["user_id"].tolist(), kept["week"].dt.strftime("%m-%d").tolist(), left_out
    (['a', 'c'], ['03-16', '03-16'], 1)
    """
    require_columns(panel, [user_col, week_col, event_col], "panel", "name them with user_col=, week_col=, event_col=")
    start = pd.Timestamp(start)
    monday = start.normalize() - pd.Timedelta(days=start.day_of_week)
    week = _as_naive_utc(panel[week_col], week_col)
    loss = _as_naive_utc(panel[event_col], event_col)
    early = loss.notna() & (loss < monday + pd.Timedelta(weeks=leads))
    left_out = int(panel.loc[early.to_numpy(), user_col].nunique())
    return panel[(week >= monday).to_numpy() & ~early.to_numpy()], left_out
