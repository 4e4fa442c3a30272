"""Unemployment by area with honest uncertainty: county and state, week and month (method.md 2.7-2.8, 3, 4).

**What is counted** (LAUS concepts, and where a phone panel cannot match them). LAUS counts, by place of
residence, people aged 16 or more who are employed or unemployed (without a job, available, and looking for
work in the last four weeks: CPS concepts); the rate is unemployed / labour force. Here:

* the *labour force* of an area and week is the panel's users who live there (modal home CBG) and held a job
  at baseline (a regular workplace in the baseline weeks, :mod:`mobility.employment.attendance`), with an
  estimated status that week -- observed, or filled from the user's own nearest observed weeks (at most
  ``max_fill_weeks`` away; a silent phone is not an absence from work);
* *unemployed* is a person who lost that job (``p_unemployed``): a phone cannot see whether someone looks for
  work, so discouraged job losers who stop looking (out of the LAUS labour force) count as unemployed here;
* people *without a job at baseline* are in neither count: the already unemployed, new entrants and
  re-entrants looking for work (in LAUS's unemployed) are missed, and so are people whose work has no fixed
  place (gig work: in LAUS's employed); people seen commuting to a non-job place at baseline (a student to a
  campus) count as workers;
* ages are not known (everyone with a phone is counted; LAUS starts at 16), nor are second jobs.

The synthetic region's truth (``truth/area_weekly``) counts the same population (everyone with a job at the
start, by home county), so the yardstick measures estimation error, not this difference of concepts.

**Estimators** (column ``estimator``):

* ``expected`` -- expected counts from calibrated probabilities: ``rate = sum_i w_i p_it / sum_i w_i`` over
  the cell's users. Where a labelled panel is given, ``p`` is recalibrated out of fold (users dealt into
  ``calibration_folds``; each user's probabilities are shifted by the gap between observed and predicted
  shares in their probability bin among the *other* folds' users, the filled weeks in bins of their own
  (``AreaParams.calibrate_filled``: a week next to a silence is not like an observed one); with ``AreaParams.recalibrate = "auto"``
  the shifts are shrunk toward none by an empirical-Bayes weight, for labelled panels too small to tell the
  method's calibration error from their own sampling error, :class:`_Calibration`; not the default: measured,
  it helps the classifier with 5-20 % of users labelled and hurts the signal, ``benchmarks/README.md``); else
  the probabilities are used as the employment step gives them (a transferred model's calibration is its
  training region's). The weights, per method and month, are in the table's ``attrs["calibration"]`` (the
  pipeline records them in the employment stage's summary in ``run.json``);
* ``status_corrected`` (only with a labelled panel) -- the share of hard ``unemployed`` statuses corrected for
  misclassification by Rogan-Gladen, ``(s + Sp - 1) / (Se + Sp - 1)``, sensitivity and specificity measured
  on the labelled users' observed weeks (out of fold, per week); its labour force is weighted like the
  ``expected`` estimator's (the labels' share without a job, per probability bin).

**Weights** ``w_i``: the :class:`PanelWeights` given (raking to census margins,
:mod:`mobility.employment.weights`); else 1.

**Intervals** (``rate_low``, ``rate_high``, 95 % by default): a bootstrap over users, ``replicates`` Poisson(1)
weights per user (seeded), vectorised: each replicate re-rakes the weights, re-estimates the calibration
(and, for ``status_corrected``, sensitivity and specificity) from its own users, and draws each user's
latent status from the calibrated probability (one uniform number per user and replicate, so a user's weeks
move together): the interval covers the uncertainty of the sample, of the weighting, of the calibration, and
of each person's status given the evidence. Percentile intervals, widened where needed to hold the point
estimate (where every person's probability is near 0, the latent draws give [0, 0] while the expected rate
is a little above 0). What is *not* re-run per replicate: the
classifier's trees (its out-of-fold fits are reused) and the signal's attendance model (its probabilities are
taken as given, then recalibrated per replicate when labels exist), with one exception. Without labels, the
signal's probabilities average each drop's posterior over the part of remote adoption that teleworkability does
not explain (the intercept b, :func:`mobility.employment.evidence.remote_intercept_posterior`), which a panel of
a thousand people pins down poorly; given ``intercept`` (:class:`~mobility.employment.evidence.InterceptDraws`),
each replicate draws b from its posterior (seeded) and adds the change of the point rate at that b, its drops'
cells at their posterior for that b and silent weeks filled again (:func:`intercept_rates`): the interval then
holds most of the doubt about b as well (law of total variance: within b as before, plus between values of b).
The posterior drawn from is coarsened on large panels (``EmploymentParams.intercept_evidence_drops``): the
points keep every drop's evidence, the intervals never take b as better known than that many drops could.
Outside drops the probabilities follow b too, through the sector shares (:mod:`mobility.employment.sector`):
they are redrawn with it where the draws carry them (the signal's do). With labels the recalibration learns
the individual route's error, b's included, so b is not drawn there; the sector route, which no label
recalibrates, draws b for its remote stock in every run (:func:`sector_replicates`). What no
interval holds: an error of the model at the true b (the one-wave regions' rates, too low at every b; a bias
that no b in ``0 .. remote_intercept_max`` removes), ``benchmarks/README.md``.

Every cell behind fewer than ``min_cell_users`` users is suppressed, and where that hides one county alone in a
state whose cell is shown, the next smallest county too (:func:`complementary_suppression`: else the state
minus the shown counties gives it back). Schema ``area_unemployment``:
``method``, ``route``, ``estimator``, ``level`` (county/state), ``area`` (5- or 2-digit FIPS), ``period``
(week/month), ``period_start`` (datetime64[ns], naive), ``n_users`` (distinct users behind the cell),
``labour_force``, ``unemployed`` (weighted; user-weeks in a month), ``rate``, ``rate_low``, ``rate_high``
(fractions), ``design_effect`` (Kish, of the cell's weights), ``suppressed`` (bool). A week belongs to the
month holding its Thursday (ISO rule); a month cell pools its user-weeks.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse
from threadpoolctl import threadpool_limits

from mobility.checks import require_columns
from mobility.employment.evidence import InterceptDraws
from mobility.employment.params import AreaParams, EmploymentParams
from mobility.employment.sector import SECTORS
from mobility.employment.weights import Margin, rake
from mobility.errors import MobilityError
from mobility.obfuscate import modal_cbg

LEVEL_DIGITS = {"county": 5, "state": 2}
LEVELS = tuple(LEVEL_DIGITS)
AREA_COLUMNS = ("method", "route", "estimator", "level", "area", "period", "period_start", "n_users",
                "labour_force", "unemployed", "rate", "rate_low", "rate_high", "design_effect", "suppressed")
COUNTS = ("n_users", "labour_force", "unemployed", "rate", "rate_low", "rate_high", "design_effect")


def week_thursday(weeks):
    """The Thursday of each week given by its Monday (Monday + 3 days): the day that decides the week's month
    (ISO rule, :func:`week_months`). ``weeks`` is anything that adds a Timedelta (DatetimeIndex, Series,
    Timestamp); a timezone-aware Monday moves by 72 hours.

    Examples
    --------
    >>> week_thursday(pd.Timestamp("2020-03-30"))
    Timestamp('2020-04-02 00:00:00')
    """
    return weeks + pd.Timedelta(days=3)


def week_months(weeks: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
    """Each week's month, the month holding its Thursday (:func:`week_thursday`), as codes into the sorted
    distinct months (``pd.factorize(..., sort=True)``).

    Returns
    -------
    codes : ndarray of int
        Per week, the index of its month in ``month_starts``.
    month_starts : ndarray of datetime64[ns]
        The first day of each month, ascending.

    Examples
    --------
    >>> codes, starts = week_months(pd.to_datetime(["2020-03-30", "2020-04-27", "2020-02-24"]))
    >>> codes.tolist(), [str(s)[:10] for s in starts]   # Thursdays 2 April, 30 April, 27 February
    ([1, 1, 0], ['2020-02-01', '2020-04-01'])
    """
    return pd.factorize(week_thursday(weeks).to_period("M").to_timestamp().values, sort=True)


def home_cbg(labels: pd.DataFrame) -> pd.DataFrame:
    """Each user's most frequent home CBG over all labelled days (ties: smallest GEOID).

    Examples
    --------
    >>> lab = pd.DataFrame({"user_id": ["a", "a", "a"], "home_cbg": ["421010001002", "421010001001", None]})
    >>> home_cbg(lab).to_dict("list")
    {'user_id': ['a'], 'home_cbg': ['421010001001']}
    """
    require_columns(labels, ["user_id", "home_cbg"], "labels", "pass the home_work_daily table")
    return modal_cbg(labels.assign(user_id=labels["user_id"].astype(str)), "home_cbg")


@dataclass
class PanelWeights:
    """How to weight a set of users: starting weights, each user's area code and the margins to rake to
    (:func:`mobility.employment.weights.rake`); :meth:`weights` rakes (rows: replicates)."""

    users: np.ndarray
    area: np.ndarray
    design: np.ndarray
    margins: list[Margin]
    max_weight_ratio: float = 5.0
    trim_rounds: int = 3
    areas: np.ndarray | None = None
    _cache: dict = field(default_factory=dict, repr=False, compare=False)  # the last users' rows (bootstrap)

    def population(self, areas) -> np.ndarray:
        """The population total of each of ``areas`` (county FIPS) from the first margin (NaN without; the
        margins of :func:`panel_weights` start with the county's jobs)."""
        if not self.margins or self.areas is None:
            return np.full(len(areas), np.nan)
        total = pd.Series(self.margins[0].totals.sum(axis=1), index=pd.Index(self.areas, dtype=object))
        return total.reindex(pd.Index(areas, dtype=object)).to_numpy(float)

    def weights(self, users: np.ndarray, factors: np.ndarray | None = None,
                point: np.ndarray | None = None) -> np.ndarray:
        """Raked weights of ``users`` (in that order), optionally for replicate ``factors`` (R x n): the
        replicates are raked from the point weights (``point``, computed when not given) times the factors (the same raking solution as from the
        design weights, since the point weights already meet the margins; at most 5 sweeps, then the
        trimming bounds)."""
        if self._cache.get("users") is not users:  # the bootstrap asks for the same users chunk after chunk
            pos = pd.Index(self.users).get_indexer(pd.Index(users))
            if (pos < 0).any():
                raise MobilityError(f"PanelWeights: {(pos < 0).sum()} users have no weights (first "
                                    f"{users[pos < 0][0]!r}); build the weights from the same users")
            self._cache.clear()
            self._cache.update(users=users, pos=pos, area=self.area[pos],
                               margins=[Margin(m.name, m.members[pos], m.totals) for m in self.margins])
        pos, area, margins = self._cache["pos"], self._cache["area"], self._cache["margins"]
        args = dict(max_weight_ratio=self.max_weight_ratio, trim_rounds=self.trim_rounds)
        if point is None:
            point = rake(self.design[pos], area, margins, **args)
        if factors is None:
            return point
        return rake(point[None, :] * factors, area, margins, max_weight_ratio=self.max_weight_ratio,
                    trim_rounds=0, max_iter=5)


def fill_gaps(p: np.ndarray, max_weeks: int) -> np.ndarray:
    """Fill NaN weeks of each row from the row's nearest observed weeks at most ``max_weeks`` away: linear
    between two, the one value near an edge or a long gap's side.

    Examples
    --------
    >>> fill_gaps(np.array([[0.0, np.nan, 1.0, np.nan, np.nan, np.nan]]), 1).tolist()
    [[0.0, 0.5, 1.0, 1.0, nan, nan]]
    """
    n_u, n_w = p.shape
    known = np.isfinite(p)
    col = np.broadcast_to(np.arange(n_w), p.shape)
    prev = np.maximum.accumulate(np.where(known, col, -1), axis=1)
    nxt = np.flip(np.minimum.accumulate(np.flip(np.where(known, col, n_w), axis=1), axis=1), axis=1)
    rows = np.arange(n_u)[:, None]
    p_prev = np.where(prev >= 0, p[rows, np.maximum(prev, 0)], np.nan)
    p_next = np.where(nxt < n_w, p[rows, np.minimum(nxt, n_w - 1)], np.nan)
    near_prev = (prev >= 0) & (col - prev <= max_weeks)
    near_next = (nxt < n_w) & (nxt - col <= max_weeks)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = (col - prev) / np.maximum(nxt - prev, 1)
        both = p_prev + frac * (p_next - p_prev)
    out = np.where(near_prev & near_next, both, np.where(near_prev, p_prev, np.where(near_next, p_next, np.nan)))
    return np.where(known, p, out)


@dataclass
class _Panel:
    """One method's users x weeks matrices for the area cells."""

    users: np.ndarray
    weeks: pd.DatetimeIndex
    p: np.ndarray  # probability, NaN outside the labour force
    status: np.ndarray  # 1 unemployed, 0 employed, NaN
    observed: np.ndarray  # bool, status observed (not filled)
    area: np.ndarray  # county codes per user
    areas: np.ndarray
    y: np.ndarray | None  # labels 1 unemployed, 0 employed or remote or without a job, NaN
    out: np.ndarray | None  # labels 1 without a job (out of the labour force), 0 in it, NaN
    cache: dict = field(default_factory=dict, repr=False)  # float32 copies the bootstrap sums chunk after chunk


@dataclass
class _Users:
    """The rows of ``employment_weekly`` (every method) and of the labels as integer user codes, made once for
    all methods: ``code`` per employment row, ``names`` the distinct user ids sorted (code order is the order
    of the ids as text, so every method's panel orders its users as before), each user's home CBG and
    whether they have one (``housed``), and per label row its user's code (-1: not in ``names``, or not the first label of its user
    and week) and the 1 / 0 / NaN values of the ``y`` and ``out`` matrices (:class:`_Panel`)."""

    code: np.ndarray
    names: np.ndarray
    home: np.ndarray
    housed: np.ndarray
    label_code: np.ndarray | None = None
    label_week: np.ndarray | None = None
    label_y: np.ndarray | None = None
    label_out: np.ndarray | None = None

    @classmethod
    def of(cls, employment: pd.DataFrame, homes: pd.Series, labels: pd.DataFrame | None) -> "_Users":
        code, names = pd.factorize(employment["user_id"].astype(str), sort=True)
        names = np.asarray(names, dtype=object)
        index = pd.Index(names, dtype=object)
        users = cls(code.astype(np.int64), names, homes.reindex(index).to_numpy(dtype=object),
                    index.isin(homes.index))
        if labels is not None:
            from mobility.employment.classifier import NEGATIVE, POSITIVE

            status = labels["status"].astype(str)
            weeks = pd.DatetimeIndex(pd.to_datetime(labels["week"]).to_numpy()).as_unit("ns")
            lcode, lnames = pd.factorize(labels["user_id"].astype(str))
            wcode, wnames = pd.factorize(weeks.asi8)
            pair = lcode.astype(np.int64) * (len(wnames) + 1) + wcode  # (user, week), a missing one apart
            first = ~pd.Series(pair).duplicated().to_numpy()  # the first
            label_code = index.get_indexer(lnames)[lcode] if len(lnames) else np.zeros(0, dtype=np.int64)
            users.label_code = np.where(first, label_code, -1)  # label of a user-week counts (label_matrix)
            users.label_week = weeks.values
            scode, snames = pd.factorize(status)  # each distinct status compared once; a missing one: code -1
            snames = pd.Index(snames, dtype=object).append(pd.Index([None], dtype=object))
            y = np.where(snames == POSITIVE, 1.0, np.where(snames.isin(NEGATIVE), 0.0, np.nan))
            users.label_y = y[scode]  # code -1 takes the appended missing status: NaN
            users.label_out = (snames == "no_job").astype(float)[scode]
        return users


def _panel(codes: np.ndarray, week_values: np.ndarray, p_unemployed: np.ndarray, status: np.ndarray,
           users_all: _Users, params: AreaParams) -> _Panel:
    """One method's panel from its rows of ``employment_weekly``: their integer user ``codes``
    (:class:`_Users`), weeks (datetime64[ns]), probabilities and statuses (1 unemployed, 0 employed, -1
    another status); users with an employed/unemployed week and a home, sorted by county (then id)."""
    sel = (status >= 0) & users_all.housed[codes]
    users = np.unique(codes[sel])
    weeks = pd.DatetimeIndex(np.unique(week_values))
    n_u, n_w = len(users), len(weeks)
    ui = np.searchsorted(users, codes[sel])
    wi = weeks.get_indexer(week_values[sel])
    p = np.full((n_u, n_w), np.nan)
    s = np.full((n_u, n_w), np.nan)
    p[ui, wi] = np.clip(p_unemployed[sel], 0.0, 1.0)
    s[ui, wi] = (status[sel] == 1).astype(float)
    observed = np.isfinite(p)
    p = fill_gaps(p, params.max_fill_weeks)
    s = np.where(observed, s, np.round(fill_gaps(s, params.max_fill_weeks)))
    county = pd.Series(users_all.home[users], dtype=object).str.slice(0, 5).to_numpy()
    area_code, areas = pd.factorize(county, sort=True)
    order = np.argsort(area_code, kind="stable")  # each area's users side by side
    users, p, s, observed, area_code = users[order], p[order], s[order], observed[order], area_code[order]
    y = out = None
    if users_all.label_code is not None:
        row_of = np.full(len(users_all.names), -1)
        row_of[users] = np.arange(n_u)
        row = np.where(users_all.label_code >= 0, row_of[np.maximum(users_all.label_code, 0)], -1)
        col = weeks.get_indexer(users_all.label_week)
        ok = (row >= 0) & (col >= 0)
        y, out = np.full((n_u, n_w), np.nan), np.full((n_u, n_w), np.nan)
        y[row[ok], col[ok]] = users_all.label_y[ok]
        out[row[ok], col[ok]] = users_all.label_out[ok]
        out = np.where(np.isfinite(y) | (out == 1), out, np.nan)
        y = np.where(out == 1, 0.0, y)
    return _Panel(users_all.names[users], weeks, p, s, observed, area_code, np.asarray(areas, dtype=object), y, out)


@dataclass
class _Calibration:
    """Out-of-fold binned recalibration, re-estimable from replicate weights of users: each probability is
    shifted by the gap between observed and predicted shares among the other folds' labelled user-weeks of
    its probability bin and calendar week (``calibration_by_week``; or of its bin in the week's month where the
    week has fewer than ``calibration_min_weeks`` of them, or over all months where the month has fewer too:
    calibration can drift as the shock unfolds). With ``calibrate_filled``
    the filled weeks (the panel's silent weeks given their neighbours' probability) have bins of their own,
    after the observed weeks' bins in each month, learnt from the labelled filled weeks (the edges stay the
    observed weeks' quantiles): the weeks next to a silence carry a probability the observed weeks' shifts do
    not correct (measured: ``AreaParams``). The same user-weeks give
    the share of each bin that the labels put out of the labour force (no job at the start: someone seen
    commuting to a campus); each user-week then counts in the labour force with the complement.

    The shifts are estimated from a labelled *sample*: with few labelled users, their own gap between
    observed and predicted shares is mostly sampling error, and it would move every cell of the month. So
    each month's shifts are shrunk toward none (the method's own probabilities) by the empirical-Bayes weight
    ``lambda = max(0, 1 - se^2 / gap^2)`` (positive-part James-Stein), where ``gap`` is the month's mean gap
    between labels and probabilities over the labelled user-weeks and ``se`` its standard error over users
    (a ratio of sums, linearised): the month's calibration error is taken as a draw from a prior of mean
    0 whose variance is estimated by ``gap^2 - se^2``. Estimated like the shifts: out of fold, per
    replicate, pooled over months where a month has fewer than ``calibration_min_weeks``.
    ``recalibrate = "always"`` / ``"never"`` (:class:`AreaParams`) fix lambda at 1 / 0.

    With ``calibration_strata = "county"`` each user's probabilities then move by their home county's own
    remaining gap (:meth:`stratum_offsets`): per county (stratum s) and month m, among the other folds'
    labelled user-weeks of the county, ``gap_sm = sum (y - p - shift) / n`` (the pooled shift of each
    user-week's bin), shrunk toward none by ``tau^2 / (tau^2 + se_sm^2)``, ``se_sm`` its standard error over
    users (linearised ratio, as above, of ``y - p``) and ``tau^2 = max(0, mean over s, m of gap_sm^2 -
    se_sm^2)`` the spread of the counties' true gaps, pooled over counties and months (a county-month with
    fewer than ``calibration_min_weeks`` labelled user-weeks, or one labelled user, gets no offset and does
    not count in ``tau^2``). Pooled calibration is right on average over places; where a county's people
    differ in a way the probabilities do not see (a county with fewer job losers per remote worker than the
    pool, when remote work and job loss look alike on the phone), it is off there by the county's own gap.
    With ``recalibrate = "never"`` there is no offset either."""

    edges: np.ndarray
    period: np.ndarray  # period code of each week: the week itself (calibration_by_week), else its month
    fold: np.ndarray  # per user, -1 for users without labels
    counts: sparse.csr_matrix | None  # n_users x (4 x n_months * n_bins): labelled weeks, sums of y, of p, of
    n_folds: int  # out of the labour force; None once :meth:`compact` kept only each fold's rows of it
    min_weeks: float
    mode: str = "always"  # AreaParams.recalibrate: "auto" shrinks the shifts, "always" / "never" lambda 1 / 0
    _cache: dict = field(default_factory=dict, repr=False)
    shape: tuple = ()  # of ``counts``
    labelled_weeks: float = 0.0
    stratum: np.ndarray | None = None  # per user, the stratum's code (calibration_strata); None: pooled only
    strata: np.ndarray | None = None  # the strata's names (county FIPS)
    filled: np.ndarray | None = None  # users x weeks, True for a filled week (calibrate_filled); None: one kind
    period_month: np.ndarray | None = None  # the month of each period (a week with calibration_by_week)

    @property
    def n_months(self) -> int:
        return int(self.period_month.max()) + 1

    @property
    def month_one_hot(self) -> np.ndarray:
        """(n_periods, n_months): 1 where the period falls in the month, the one form of ``period_month`` that
        sums periods into months (:meth:`to_months`, :meth:`compact`); built once."""
        if "month_one_hot" not in self._cache:  # called per fold and stratum
            self._cache["month_one_hot"] = np.eye(self.n_months)[self.period_month]
        return self._cache["month_one_hot"]

    def to_months(self, x: np.ndarray) -> np.ndarray:
        """Sums over the periods (axis -2 of ``x``, (..., n_periods, n_bins)) into their months."""
        return np.einsum("...pb,pm->...mb", x, self.month_one_hot)

    @property
    def n_bins(self) -> int:
        """Bins per month: the probability bins, twice over with ``calibrate_filled`` (observed, then filled)."""
        return (len(self.edges) + 1) * (1 if self.filled is None else 2)

    @property
    def n_strata(self) -> int:
        return 1 if self.stratum is None else len(self.strata)

    @classmethod
    def fit(cls, panel: _Panel, params: AreaParams) -> "_Calibration | None":
        if panel.y is None:
            return None
        seen = panel.observed & np.isfinite(panel.y)
        if not seen.any():
            return None
        filled = ~panel.observed & np.isfinite(panel.p) if params.calibrate_filled else None
        lab = seen | (filled & np.isfinite(panel.y)) if filled is not None else seen
        out = np.nan_to_num(panel.out)
        edges = np.unique(np.quantile(panel.p[seen], np.linspace(0, 1, params.calibration_bins + 1)[1:-1]))
        month = (week_months(panel.weeks)[0] if params.calibration_by_month
                 else np.zeros(len(panel.weeks), int))
        period = np.arange(len(panel.weeks)) if params.calibration_by_week else month
        period_month = month if params.calibration_by_week else np.arange(int(month.max()) + 1)
        kinds = 1 if filled is None else 2
        n_bins = (len(edges) + 1) * kinds
        user, week = np.nonzero(lab)
        b = np.searchsorted(edges, panel.p[lab], side="right") + n_bins * period[week]
        if filled is not None:  # a filled week's bins after the observed weeks' bins, in every month
            b = b + (len(edges) + 1) * filled[lab]
        n_cells = n_bins * (int(period.max()) + 1)
        values = (np.ones(lab.sum()), panel.y[lab], panel.p[lab], out[lab])
        counts = sparse.csr_matrix(  # user x (4 sums x cells); a user's labelled weeks fill at most 4 x weeks of it
            (np.concatenate(values), (np.tile(user, 4), np.concatenate([k * n_cells + b for k in range(4)]))),
            shape=(len(panel.users), 4 * n_cells))
        counts.sum_duplicates()
        labelled = np.unique(user)
        fold = np.full(len(panel.users), -1)
        rng = np.random.default_rng([params.seed, 1])
        fold[rng.permutation(labelled)] = np.arange(len(labelled)) % params.calibration_folds
        stratum, strata = ((panel.area, panel.areas) if params.calibration_strata == "county" else (None, None))
        return cls(edges, period, fold, counts, params.calibration_folds, params.calibration_min_weeks,
                   params.recalibrate, stratum=stratum, strata=strata, filled=filled,
                   period_month=period_month).compact()

    def compact(self) -> "_Calibration":
        """Keep, of ``counts``, only what the replicates use: each fold's users' rows (:meth:`shifts`) and
        their monthly sums (:meth:`shrinkage`); ``counts`` itself (the same rows again, and a row of zeros
        for every user without labels) is let go."""
        if self.counts is None:
            return self
        n_users, size = self.counts.shape
        n_cells = size // 4
        self.shape = (4, n_users, n_cells)
        self.labelled_weeks = float(self.counts[:, :n_cells].sum())
        self._cache["folds"] = [(m, self.counts[np.flatnonzero(m)])  # each fold's users' rows; a fold can be empty
                                for m in (self.fold == f for f in range(self.n_folds))]
        n_months = self.n_months  # per labelled user: 5 sums (months, then all months)
        # column k * n_cells + period * n_bins + bin -> k * n_months + month: the periods' months, per sum
        month_of = sparse.kron(sparse.identity(4), sparse.kron(self.month_one_hot, np.ones((self.n_bins, 1))),
                               format="csr")
        c = (self.counts @ month_of).toarray().reshape(n_users, 4, n_months).transpose(1, 0, 2)
        res, n = c[1] - c[2], c[0]
        res, n = np.c_[res, res.sum(axis=1)], np.c_[n, n.sum(axis=1)]  # (users, months + 1)
        parts = np.stack([res, n, res * res, res * n, n * n], axis=1)  # (users, 5, months + 1)
        self._cache["users"] = [(m, parts[m].reshape(m.sum(), parts[0].size))  # a fold can be empty
                                for m in (self.fold == f for f in range(self.n_folds))]
        if self.stratum is not None:  # per fold and stratum: the counts and the per-user sums
            self._cache["strata"] = [
                [(m, self.counts[np.flatnonzero(m)], parts[m].reshape(m.sum(), parts[0].size))
                 for m in ((self.fold == f) & (self.stratum == k) for k in range(self.n_strata))]
                for f in range(self.n_folds)]
        self.counts = None
        return self

    def shifts(self, factors: np.ndarray, *, by_stratum: bool = True) -> np.ndarray:
        """(2, R, n_folds + 1, n_cells): the shift of p and the share out of the labour force of each cell
        (n_periods * n_bins, times n_strata with ``calibration_strata`` and ``by_stratum``: cells stratum by
        stratum), per fold from the other folds' users; the last fold row from all users. A period's bin with
        fewer than ``min_weeks`` labelled weeks takes its month's, a month's with fewer its bin over all months."""
        n_bins = self.n_bins
        self.compact()
        r = factors.shape[0]
        mine = [(factors[:, m] @ c).reshape(r, 4, -1) for m, c in self._cache["folds"]]  # (R, 4, months * bins)
        tot = sum(mine)  # users without labels count nowhere
        out = np.zeros((2, r, self.n_folds + 1, self.shape[2]))
        for f in range(self.n_folds + 1):
            part = (tot - mine[f] if f < self.n_folds else tot).reshape(r, 4, -1, n_bins)  # (R, 4, periods, bins)
            months = self.to_months(part)
            pooled = months.sum(axis=2, keepdims=True)  # (R, 4, 1, bins) over all months
            months = np.where(months[:, :1] >= self.min_weeks, months, pooled)[:, :, self.period_month]
            part = np.where(part[:, :1] >= self.min_weeks, part, months).reshape(r, 4, -1)  # period, month, all
            with np.errstate(invalid="ignore", divide="ignore"):
                out[0, :, f] = np.where(part[:, 0] > 0, (part[:, 1] - part[:, 2]) / part[:, 0], 0.0)
                out[1, :, f] = np.where(part[:, 0] > 0, part[:, 3] / part[:, 0], 0.0)
        if self.mode != "always":  # lambda per (R, fold, month), to every bin of the month's periods
            out[0] *= np.repeat(self.shrinkage(factors)[0][..., self.period_month], n_bins, axis=-1)
        if self.stratum is None or not by_stratum:
            return out
        offset = self.stratum_offsets(factors, out[0])[0]  # (R, folds + 1, strata, months)
        shift_p = out[0][:, :, None, :] + np.repeat(offset[..., self.period_month], n_bins, axis=-1)
        shift_out = np.broadcast_to(out[1][:, :, None, :], shift_p.shape)
        return np.stack([shift_p, shift_out]).reshape(2, r, self.n_folds + 1, -1)  # cells (stratum, period, bin)

    def stratum_offsets(self, factors: np.ndarray, shift_p: np.ndarray):
        """Each stratum's offset after the pooled shifts ``shift_p`` (R, n_folds + 1, n_periods * n_bins), its
        gap, standard error and weight, each (R, n_folds + 1, n_strata, n_months), and tau^2 (R, n_folds + 1):
        per fold from the other folds' users, the last row from all users (class notes)."""
        n_bins, n_months, n_periods = self.n_bins, self.n_months, len(self.period_month)
        r, n_s = factors.shape[0], self.n_strata
        self.compact()
        counts = [[(factors[:, m] @ c).reshape(r, 4, n_periods, n_bins) for m, c, _ in row]
                  for row in self._cache["strata"]]
        parts = [[(factors[:, m] @ q).reshape(r, 5, n_months + 1)[..., :-1] for m, _, q in row]
                 for row in self._cache["strata"]]
        users = [[(factors[:, m].sum(axis=1), (factors[:, m] > 0).sum(axis=1)) for m, _, _ in row]
                 for row in self._cache["strata"]]
        shape = (r, self.n_folds + 1, n_s, n_months)
        gap, se, weight = np.zeros(shape), np.full(shape, np.inf), np.zeros(shape)
        tau2 = np.zeros((r, self.n_folds + 1))
        if self.mode == "never":
            return weight, gap, se, weight, tau2
        for f in range(self.n_folds + 1):
            others = [g for g in range(self.n_folds) if g != f]
            delta = shift_p[:, f].reshape(r, 1, n_periods, n_bins)
            for k in range(n_s):
                c = sum(counts[g][k] for g in others)
                q = sum(parts[g][k] for g in others)
                k_users = sum(users[g][k][0] for g in others)
                distinct = sum(users[g][k][1] for g in others)
                n = self.to_months(c[:, 0]).sum(axis=-1)
                res = self.to_months(c[:, 1] - c[:, 2] - c[:, 0] * delta[:, 0]).sum(axis=-1)
                s_r, s_n, q_rr, q_rn, q_nn = (q[:, j] for j in range(5))
                with np.errstate(invalid="ignore", divide="ignore"):
                    gap[:, f, k] = np.where(n > 0, res / n, 0.0)
                    d = s_r / s_n
                    v = ((q_rr - 2 * d * q_rn + d * d * q_nn) / s_n**2
                         * (k_users / np.maximum(k_users - 1, 1))[:, None])
                ok = (n >= max(self.min_weeks, 1e-12)) & (distinct >= 2)[:, None] & np.isfinite(v)
                se[:, f, k] = np.where(ok, np.sqrt(np.maximum(np.where(ok, v, 0.0), 0.0)), np.inf)
            ok = np.isfinite(se[:, f])
            excess = np.where(ok, gap[:, f] ** 2 - np.where(ok, se[:, f], 0.0) ** 2, 0.0).sum(axis=(1, 2))
            tau2[:, f] = np.maximum(0.0, excess / np.maximum(ok.sum(axis=(1, 2)), 1))
            t = tau2[:, f][:, None, None]
            with np.errstate(invalid="ignore", divide="ignore"):
                weight[:, f] = np.where(ok & (t > 0), t / (t + np.where(ok, se[:, f], 0.0) ** 2), 0.0)
        return weight * gap, gap, se, weight, tau2

    def shrinkage(self, factors: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The weight lambda of each month's shifts, the month's gap (labels minus probabilities, per labelled
        user-week) and its standard error over users, each (R, n_folds + 1, n_months): per fold from the other
        folds' users, the last row from all users (class notes)."""
        n_months = self.n_months
        self.compact()
        r = factors.shape[0]
        mine = [(factors[:, m] @ c).reshape(r, 5, -1) for m, c in self._cache["users"]]
        tot = sum(mine)
        k = [factors[:, m].sum(axis=1) for m, _ in self._cache["users"]]  # (weighted) users per fold
        drawn = [(factors[:, m] > 0).sum(axis=1) for m, _ in self._cache["users"]]  # distinct users per fold
        lam, gap, se = (np.zeros((r, self.n_folds + 1, n_months)) for _ in range(3))
        for f in range(self.n_folds + 1):
            part = tot - mine[f] if f < self.n_folds else tot
            users = sum(k) - (k[f] if f < self.n_folds else 0.0)
            distinct = sum(drawn) - (drawn[f] if f < self.n_folds else 0)
            s_r, s_n, q_rr, q_rn, q_nn = (part[:, j] for j in range(5))
            with np.errstate(invalid="ignore", divide="ignore"):
                d = s_r / s_n
                v = (q_rr - 2 * d * q_rn + d * d * q_nn) / s_n**2 * (users / np.maximum(users - 1, 1))[:, None]
            v = np.where((distinct >= 2)[:, None], v, np.inf)  # one user: no spread to tell the gap from noise
            few = s_n[:, :-1] < self.min_weeks  # such a month takes the figures over all months
            d, v = np.where(few, d[:, -1:], d[:, :-1]), np.where(few, v[:, -1:], v[:, :-1])
            with np.errstate(invalid="ignore", divide="ignore"):
                w = np.where(d * d > 0, np.maximum(0.0, 1.0 - v / (d * d)), 0.0)
            lam[:, f] = {"always": 1.0, "never": 0.0}.get(self.mode, np.nan_to_num(w))
            gap[:, f], se[:, f] = d, np.sqrt(v)
        return lam, gap, se

    def summary(self, weeks: pd.DatetimeIndex) -> dict:
        """What the run records: per month, the weight of the labels' shifts, the gap and its standard error
        (points), from all labelled users."""
        lam, gap, se = (x[0, -1] for x in self.shrinkage(np.ones((1, self.shape[1]))))
        months = week_months(weeks)[1]
        label = [str(pd.Timestamp(m).date())[:7] for m in months] if len(months) == len(lam) else ["all"]

        def by_month(x: np.ndarray, digits: int) -> dict:  # None where not estimable (JSON has no NaN)
            return {k: (round(float(v), digits) if np.isfinite(v) else None) for k, v in zip(label, x)}

        out = {"recalibrate": self.mode, "labelled_users": int((self.fold >= 0).sum()),
               "labelled_weeks": int(self.labelled_weeks), "weight_by_month": by_month(lam, 3),
               "gap_pts_by_month": by_month(100 * gap, 2), "gap_se_pts_by_month": by_month(100 * se, 2)}
        if self.stratum is not None:  # each county's offset (points) and its weight per month, from all users
            one = np.ones((1, self.shape[1]))
            offset, _, _, weight, tau2 = self.stratum_offsets(one, self.shifts(one, by_stratum=False)[0])
            out["strata"] = {"by": "county", "prior_sd_pts": round(100 * float(np.sqrt(tau2[0, -1])), 2),
                             "offset_pts_by_month": {str(a): by_month(100 * offset[0, -1, k], 2)
                                                     for k, a in enumerate(self.strata)},
                             "weight_by_month": {str(a): by_month(weight[0, -1, k], 3)
                                                 for k, a in enumerate(self.strata)}}
        return out

    def apply(self, p: np.ndarray, shifts: np.ndarray, u: np.ndarray | None = None, out=None):
        """Recalibrated p and the labour-force weight of each user-week, each (R, n_users, n_weeks), for the
        replicates' :meth:`shifts` (0 outside the panel's labour force); with ``u`` (R, n_users: one uniform
        number per replicate and user) also each user-week's latent status, 1 where ``u < p`` (float32, one
        pass: :func:`mobility.kernels.employment.calibrated_draws`, filling the arrays ``out`` if given)."""
        from mobility.kernels.employment import calibrated_draws

        if self._cache.get("p") is not p:  # each user-week's (fold, period, bin) cell, the same in every replicate
            b = (np.searchsorted(self.edges, np.nan_to_num(p), side="right")
                 + self.n_bins * self.period[None, :])
            if self.filled is not None:
                b = b + (len(self.edges) + 1) * self.filled
            if self.stratum is not None:
                b = b + self.shape[2] * self.stratum[:, None]
            row = np.where(self.fold >= 0, self.fold, self.n_folds)
            self._cache.update(p=p, cell=row[:, None] * (self.shape[2] * self.n_strata) + b, inside=np.isfinite(p),
                               p0=np.nan_to_num(p).astype(np.float32))
        r = shifts.shape[1]
        return calibrated_draws(self._cache["p0"], self._cache["cell"], self._cache["inside"],
                                shifts[0].reshape(r, -1).astype(np.float32), shifts[1].reshape(r, -1).astype(np.float32),
                                u, out=out)


class _Misclassification:
    """Sensitivity and specificity of the hard statuses per replicate, fold and week, ``(R, n_folds + 1, T)``,
    on labelled observed weeks: row k from the users of the *other* folds, the last row from all users. A
    week with fewer than ``min_positives`` (weighted) unemployed labels takes the figures pooled over weeks.
    The per-user counts behind them (and each fold's) are the same in every replicate: made once here."""

    def __init__(self, panel: _Panel, fold: np.ndarray, n_folds: int, min_positives: float):
        lab = panel.observed & np.isfinite(panel.y)
        y = np.where(lab, panel.y, 0.0)
        s = np.where(lab, panel.status, 0.0)
        self.parts = np.stack([y * s, y, (1 - y) * (1 - s) * lab, (1 - y) * lab])  # (4, n, T)
        self.folds = [(m, self.parts[:, m]) for m in (fold == f for f in range(n_folds))]
        self.n_folds, self.min_positives = n_folds, min_positives

    def __call__(self, factors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        total = np.einsum("ru,kut->rkt", factors, self.parts)
        out = np.empty((2, factors.shape[0], self.n_folds + 1, self.parts.shape[2]))
        for f in range(self.n_folds + 1):
            part = total
            if f < self.n_folds:
                mine, parts = self.folds[f]
                part = total - np.einsum("ru,kut->rkt", factors[:, mine], parts)
            pooled = part.sum(axis=2, keepdims=True)
            part = np.where(part[:, 1:2] >= self.min_positives, part, pooled)
            with np.errstate(invalid="ignore", divide="ignore"):
                out[0, :, f] = part[:, 0] / part[:, 1]
                out[1, :, f] = part[:, 2] / part[:, 3]
        return out[0], out[1]


def _corrected_sums(panel: _Panel, weight: np.ndarray, fold: np.ndarray, se: np.ndarray, sp: np.ndarray,
                    min_youden: float, den: np.ndarray):
    """Rogan-Gladen-corrected unemployed and labour force per (R, area, week): each fold's share corrected
    with its out-of-fold sensitivity and specificity of that week, then summed (NaN where the Youden index
    se + sp - 1 falls below ``min_youden``). The labels count people without a job as not unemployed, so the
    corrected share is of all the panel's user-weeks; the labour force ``den`` (R, area, week) is the
    ``expected`` estimator's, with the same weights (user-weeks weighted by :meth:`_Calibration.apply`'s
    labour-force share)."""
    if "corrected" not in panel.cache:  # the same in every replicate: made once
        panel.cache["corrected"] = (np.isfinite(panel.p).astype(np.float32),
                                    np.nan_to_num(panel.status).astype(np.float32))
    member, status = panel.cache["corrected"]
    n_a = len(panel.areas)
    num = np.zeros((weight.shape[0], n_a, panel.p.shape[1]))
    n_folds = se.shape[1] - 1
    for f in range(n_folds + 1):
        mine = (fold == f) if f < n_folds else (fold < 0)
        if not mine.any():
            continue
        k_num, k_den = _cell_sums(status, weight * mine[None], member, panel.area, n_a)
        j = (se[:, f] + sp[:, f] - 1)[:, None, :]
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.clip((k_num / k_den + sp[:, f][:, None, :] - 1) / j, 0.0, 1.0)
        share = np.where(j >= min_youden, share, np.nan)
        num += np.where(k_den > 0, share * k_den, 0.0)
    return num, den


def _cell_sums(value: np.ndarray, weight: np.ndarray, member: np.ndarray, area: np.ndarray, n_areas: int):
    """Weighted sums per (replicate, area, week). ``value`` (numerator) and ``member`` (denominator: 0/1 or a
    labour-force weight) are each (n, T) (the same in every replicate) or (R, n, T), 0 outside the panel;
    ``weight`` (R, n); users sorted by ``area``. Returns the numerator and the denominator, each (R, A, T)."""
    return _weighted_sums(value, weight, area, n_areas), _weighted_sums(member, weight, area, n_areas)


def _weighted_sums(x: np.ndarray, weight: np.ndarray, area: np.ndarray, n_areas: int) -> np.ndarray:
    """``sum_u weight[r, u] x[(r,) u, t]`` per (replicate, area, week), (R, A, T), in float32 products."""
    bounds = np.searchsorted(area, np.arange(n_areas + 1))
    weight = np.ascontiguousarray(weight, dtype=np.float32)
    out = np.zeros((weight.shape[0], n_areas, np.shape(x)[-1]))
    x = np.asarray(x, dtype=np.float32)
    for g in range(n_areas):
        a, b = bounds[g], bounds[g + 1]
        out[:, g] = weight[:, a:b] @ x[a:b] if x.ndim == 2 else np.matmul(weight[:, None, a:b], x[:, a:b])[:, 0]
    return out


def _aggregate(num: np.ndarray, den: np.ndarray, panel: _Panel, level: str, period: str):
    """Sum (..., A, T) county-week sums to the level and period: arrays (..., n_areas, n_periods), labels."""
    codes = np.array([str(a)[:LEVEL_DIGITS[level]] for a in panel.areas])
    a_code, a_lab = pd.factorize(codes, sort=True)
    if period == "week":
        p_code, p_lab = np.arange(len(panel.weeks)), panel.weeks.values
    else:
        p_code, p_lab = week_months(panel.weeks)
    A = np.zeros((len(a_lab), len(panel.areas)))
    A[a_code, np.arange(len(panel.areas))] = 1.0
    P = np.zeros((len(panel.weeks), len(p_lab)))
    P[np.arange(len(panel.weeks)), p_code] = 1.0
    def agg(x):  # a NaN (a week whose statuses cannot be corrected) makes its own cells NaN, no others
        total = np.einsum("ga,...at,tp->...gp", A, np.nan_to_num(x), P)
        return np.where(np.einsum("ga,...at,tp->...gp", A, np.isnan(x).astype(float), P) > 0, np.nan, total)

    return agg(num), agg(den), np.asarray(a_lab, dtype=object), np.asarray(p_lab)


def area_unemployment(employment: pd.DataFrame, homes: pd.DataFrame, *, weights: PanelWeights | None = None,
                      labels: pd.DataFrame | None = None, params: EmploymentParams | None = None,
                      area_params: AreaParams | None = None, levels: tuple[str, ...] = ("county", "state"),
                      periods: tuple[str, ...] = ("week", "month"), mapper=None,
                      intercept: InterceptDraws | None = None) -> pd.DataFrame:
    """Rates with bootstrap intervals per area and period from ``employment_weekly`` (individual route).

    Parameters
    ----------
    employment : DataFrame
        ``employment_weekly`` (one or both methods).
    homes : DataFrame
        ``user_id``, ``home_cbg`` (:func:`home_cbg`).
    weights : PanelWeights, optional
        Raking of the users to census margins (:func:`panel_weights`); default: every user weighs 1.
    labels : DataFrame, optional
        A labelled panel (``user_id``, ``week``, ``status``): recalibration and the ``status_corrected``
        estimator, both out of fold (module notes).
    params : EmploymentParams, optional
        ``min_cell_users`` sets the suppression.
    area_params : AreaParams, optional
        Replicates, seed, confidence, trimming, gap filling, calibration bins and folds.
    levels, periods : tuples
        Subsets of ``("county", "state")`` and ``("week", "month")``.
    mapper : callable, optional
        ``mapper(fn, items) -> list`` of ``fn(item)`` in the order of ``items``: how the chunks of bootstrap
        replicates run (default: here, one after the other). The pipeline passes its local engine's map over
        forked worker processes; the numbers do not depend on it (each chunk starts from its own noted state
        of the generator).
    intercept : InterceptDraws, optional
        The signal's drop posteriors per value of the remote-adoption intercept b
        (:attr:`mobility.employment.status.SignalResult.intercept`): without labels, each replicate of the
        ``signal`` rows also draws b from its posterior (module notes). Without it the signal's intervals take
        b as known.

    Examples
    --------
    Twelve users of county 42101, three with p = 0.9 and nine with p = 0.1, one week:

    >>> emp = pd.DataFrame({"user_id": [f"u{i}" for i in range(12)], "week": pd.Timestamp("2020-04-06"),
    ...     "status": ["unemployed"] * 3 + ["employed"] * 9, "p_unemployed": [0.9] * 3 + [0.1] * 9,
    ...     "method": "signal"})
    >>> homes = pd.DataFrame({"user_id": [f"u{i}" for i in range(12)], "home_cbg": ["421010001001"] * 12})
    >>> a = area_unemployment(emp, homes, levels=("county",), periods=("week",))
    >>> r = a.iloc[0]
    >>> r["area"], int(r["n_users"]), round(float(r["rate"]), 3), bool(r["rate_low"] < 0.3 < r["rate_high"])
    ('42101', 12, 0.3, True)
    >>> bool(area_unemployment(emp.head(5), homes, levels=("county",), periods=("week",))["suppressed"][0])
    True
    """
    params = params or EmploymentParams()
    area_params = area_params or AreaParams()
    require_columns(employment, ["user_id", "week", "status", "p_unemployed", "method"], "employment",
                    "pass the employment_weekly table")
    require_columns(homes, ["user_id", "home_cbg"], "homes", "build it with home_cbg(labels)")
    frames, calibration = [], {}
    for method, panel in method_panels(employment, homes, labels, area_params):
        with threadpool_limits(1, "blas"):  # many small products: threads only contend (measured)
            cells, calibration[method] = _method_cells(panel, method, weights, params, area_params,
                                                       levels, periods, mapper,
                                                       intercept if method == "signal" else None)
        frames += cells
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(AREA_COLUMNS))
    out = _finish(out, params.min_cell_users)
    out.attrs["calibration"] = calibration
    return out


def method_panels(employment: pd.DataFrame, homes: pd.DataFrame, labels: pd.DataFrame | None,
                  area_params: AreaParams):
    """Each method's users x weeks panel of :func:`area_unemployment` (``(method, _Panel)``, methods in name
    order, those without a user in the labour force left out): probabilities and statuses filled over silent
    weeks, home counties, and the labels' matrices where ``labels`` are given."""
    home = pd.Series(homes["home_cbg"].astype(str).to_numpy(), index=homes["user_id"].astype(str).to_numpy())
    home = home[~home.index.duplicated()]
    users = _Users.of(employment, home, labels)  # integer user codes: no text column of every row below
    status = employment["status"]
    is_unemployed, is_employed = (status.eq(s).to_numpy(dtype=bool, na_value=False) for s in ("unemployed", "employed"))
    status = np.where(is_unemployed, 1, np.where(is_employed, 0, -1)).astype(np.int8)
    week_values = pd.to_datetime(employment["week"]).to_numpy().astype("datetime64[ns]")
    p_unemployed = employment["p_unemployed"].to_numpy(float)
    codes, methods = pd.factorize(employment["method"], sort=True)
    for i in sorted(range(len(methods)), key=lambda j: str(methods[j])):
        rows = codes == i
        panel = _panel(users.code[rows], week_values[rows], p_unemployed[rows], status[rows], users, area_params)
        if len(panel.users):
            yield str(methods[i]), panel


def _finish(out: pd.DataFrame, k: int) -> pd.DataFrame:
    out["suppressed"] = complementary_suppression(out, out["n_users"].astype(float).to_numpy() < k)
    for c in COUNTS:
        out[c] = out[c].astype(float).where(~out["suppressed"])
    out["period_start"] = pd.to_datetime(out["period_start"]).astype("datetime64[ns]")
    return out[list(AREA_COLUMNS)].reset_index(drop=True)


def complementary_suppression(cells: pd.DataFrame, suppressed: np.ndarray,
                              by: tuple[str, ...] = ("method", "route", "estimator", "period", "period_start")
                              ) -> np.ndarray:
    """``suppressed`` with, in every state and table (the columns ``by`` that ``cells`` has) where exactly one
    county cell is suppressed and the state's cell is shown, the shown county with the fewest users suppressed
    too. ``cells`` has ``level`` (``state``, ``county``), ``area`` (FIPS) and ``n_users``.

    Counties partition their state's users, so the state's counts minus those of its shown counties would give
    back a lone suppressed county's (differencing); with two counties hidden their difference is the sum of
    both. Differences between weeks and months are not covered (a month's users are not its weeks' sum).

    Examples
    --------
    Counties of 3, 40 and 50 users in a state of 93, k = 10: the 40-user county is hidden with the 3-user one.

    >>> cells = pd.DataFrame({"level": ["state", "county", "county", "county"],
    ...                       "area": ["42", "42001", "42003", "42005"], "n_users": [93, 3, 40, 50]})
    >>> complementary_suppression(cells, cells["n_users"].to_numpy() < 10).tolist()
    [False, True, True, False]
    """
    suppressed = np.asarray(suppressed, dtype=bool).copy()
    keys = [c for c in by if c in cells.columns] + ["state"]
    level = cells["level"].astype(str).to_numpy()
    frame = cells[keys[:-1]].assign(state=cells["area"].astype(str).str[:LEVEL_DIGITS["state"]].to_numpy(),
                                    n=cells["n_users"].astype(float).to_numpy(), area=cells["area"].astype(str),
                                    hidden=suppressed, pos=np.arange(len(cells)))
    shown_states = frame[(level == "state") & ~suppressed][keys].drop_duplicates()
    county = frame[level == "county"].merge(shown_states, on=keys)  # tables whose state cell is shown
    lone = county.groupby(keys, sort=False)["hidden"].transform("sum") == 1
    complement = county[lone & ~county["hidden"]].sort_values(["n", "area"]).drop_duplicates(keys)
    suppressed[complement["pos"].to_numpy()] = True
    return suppressed


def _method_cells(panel: _Panel, method: str, weights: PanelWeights | None, params: EmploymentParams,
                  ap: AreaParams, levels, periods, mapper=None,
                  intercept: InterceptDraws | None = None) -> tuple[list[pd.DataFrame], dict]:
    """Point estimates and replicate rates of one method (module notes; ``_replicate_rates``), and how much of
    the labels' recalibration the ``expected`` estimator used (:meth:`_Calibration.summary`)."""
    n_u, n_w = panel.p.shape
    n_a = len(panel.areas)
    member = np.isfinite(panel.p)
    w0 = weights.weights(panel.users) if weights is not None else np.ones(n_u)
    population = weights.population(panel.areas) if weights is not None else np.full(n_a, np.nan)
    cal = _Calibration.fit(panel, ap)
    one = np.ones((1, n_u))
    p0, lf0 = (cal.apply(panel.p, cal.shifts(one)) if cal is not None else
               (np.nan_to_num(panel.p)[None].astype(np.float32), member[None].astype(np.float32)))
    chosen = cal.summary(panel.weeks) if cal is not None else {"recalibrate": "no labels"}
    estimators = {"expected": (p0, None)}
    base = {"expected": _cell_sums(p0[0], w0[None], lf0[0], panel.area, n_a)}
    if cal is not None:
        misclassification = _Misclassification(panel, cal.fold, cal.n_folds, ap.min_positives)
        se, sp = misclassification(one)
        estimators["status_corrected"] = (misclassification, cal.fold)
        base["status_corrected"] = _corrected_sums(panel, w0[None], cal.fold, se, sp, ap.min_youden,
                                                   base["expected"][1])
    draws = _replicate_rates(panel, weights, cal, estimators, base, w0, member, ap, levels, periods, population,
                             mapper)
    if cal is None and intercept is not None:  # with labels the recalibration learns b's error (module notes)
        chosen["remote_intercept"] = _draw_intercept(draws["expected"], panel, intercept, w0, member, ap)
    frames = []
    alpha = (1 - ap.confidence) / 2
    for est in estimators:
        num, den = base[est]
        for level in levels:
            for period in periods:
                s_num, s_den, a_lab, p_lab = _aggregate(num, den, panel, level, period)
                rate = _rate(s_num, s_den)[0]
                reps = draws[est][(level, period)]
                with np.errstate(invalid="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)  # cells NaN in every replicate stay NaN
                    lo, hi = (np.nanquantile(reps, [alpha, 1 - alpha], axis=0) if len(reps) else
                              (np.full(rate.shape, np.nan),) * 2)
                lo, hi = np.minimum(lo, rate), np.maximum(hi, rate)  # an interval holds its own estimate
                users, deff = _users_and_deff(panel, w0, level, period)
                g, t = np.meshgrid(np.arange(len(a_lab)), np.arange(len(p_lab)), indexing="ij")
                keep = (s_den[0] > 0).ravel()
                frames.append(pd.DataFrame({
                    "method": method, "route": "individual", "estimator": est, "level": level,
                    "area": a_lab[g.ravel()][keep], "period": period, "period_start": p_lab[t.ravel()][keep],
                    "n_users": users.ravel()[keep], "labour_force": s_den[0].ravel()[keep],
                    "unemployed": (rate * s_den[0]).ravel()[keep], "rate": rate.ravel()[keep],
                    "rate_low": lo.ravel()[keep], "rate_high": hi.ravel()[keep],
                    "design_effect": deff.ravel()[keep]}))
    return frames, chosen


def intercept_rates(panel: _Panel, intercept: InterceptDraws, w0: np.ndarray, member: np.ndarray,
                    ap: AreaParams, keys) -> tuple[np.ndarray, np.ndarray, dict]:
    """The ``expected`` point rates of each (level, period) in ``keys`` at each value of b whose weight counts in
    the point's posterior or in the one the intervals draw from: the drops' cells take their
    posterior at that b, the observed cells outside drops their probability at that b where the draws carry it
    (:meth:`~mobility.employment.evidence.InterceptDraws.outside`), and silent weeks are filled again from them
    (:func:`fill_gaps`). Returns those b's indices in the grid (:meth:`~mobility.employment.evidence.InterceptDraws.
    support`: where either the point's or the draws' posterior counts), the point's weights over them (summing to
    1) and per key the rates, ``(n_b, n_areas, n_periods)``."""
    keep = intercept.support()
    weight = intercept.weights_on(keep)
    rows, cols, drop = intercept.cells_in(panel.users, panel.weeks)
    if len(rows) == 0 and len(intercept.drop):
        warnings.warn("area_unemployment: none of the signal's drops is in the panel (other users or weeks, e.g. "
                      "weeks in another time zone): the intervals take the remote-adoption intercept b as known",
                      RuntimeWarning, stacklevel=3)
    seen = panel.observed[rows, cols]
    rows, cols, drop = rows[seen], cols[seen], drop[seen]
    raw = np.where(panel.observed, panel.p, np.nan)
    outside = None
    if intercept.share is not None:
        srow, scol = intercept.index_in(panel.users, panel.weeks)
        outside = panel.observed & (srow >= 0)[:, None] & (scol >= 0)[None, :]
    lf = member.astype(np.float32)
    rates = {key: [] for key in keys}
    for b in keep:
        p_b = raw.copy()
        if outside is not None:
            p_b = np.where(outside, intercept.outside(b, np.maximum(srow, 0), np.maximum(scol, 0)), p_b)
        p_b[rows, cols] = intercept.posterior[b, drop]  # the drops' cells, over what the line above wrote there
        p_b = np.nan_to_num(fill_gaps(p_b, ap.max_fill_weeks)).astype(np.float32)
        num, den = _cell_sums(p_b, w0[None], lf, panel.area, len(panel.areas))
        for key in keys:
            rates[key].append(_rate(*_aggregate(num, den, panel, *key)[:2])[0])
    return keep, weight, {key: np.stack(v) for key, v in rates.items()}


def _draw_intercept(draws: dict, panel: _Panel, intercept: InterceptDraws, w0: np.ndarray, member: np.ndarray,
                    ap: AreaParams) -> dict:
    """Add to each replicate's rates (``draws``, per (level, period), (R, areas, periods), changed in place)
    the change of the point rate when b is drawn from its posterior (the coarsened one, ``draw_weight``, where
    the signal has it) instead of averaged over (module notes): the shift is measured from the rates averaged
    with the point's weights, so the replicates stay around the point. Returns what the run records: how many
    values of b were drawn from, the drawn posterior's mean and sd, and the point's b (``point_mean``: the mean of
    the point's weights, the posterior's mean, or its mode with ``remote_intercept_point = "mode"``, whose
    replicates then centre on the rates averaged over b, not on the point)."""
    keys = list(draws)
    keep, weight, rates = intercept_rates(panel, intercept, w0, member, ap, keys)
    n_r = len(next(iter(draws.values()))) if keys else 0
    drawn = intercept.weights_on(keep, draw=True)
    pick = np.random.default_rng([ap.seed, 4]).choice(len(keep), size=n_r, p=drawn)  # its own stream (3: sectors)
    for key in keys:
        with np.errstate(invalid="ignore"):
            shift = rates[key] - np.tensordot(weight, rates[key], axes=1)[None]
        draws[key] = np.clip(draws[key] + shift[pick], 0.0, 1.0)  # a rate, whatever the sum of its changes
    b = intercept.b[keep]
    mean = float(drawn @ b)
    return {"values": int(len(intercept.kept(draw=True)[0])), "mean": round(mean, 4),
            "sd": round(float(np.sqrt(drawn @ (b - mean) ** 2)), 4), "point_mean": round(float(weight @ b), 4)}


def _panel_share(panel: _Panel, population: np.ndarray, ap: AreaParams, level: str, period: str) -> np.ndarray:
    """The share f of each aggregated cell's population that the panel holds, (n_areas, n_periods)."""
    users = _users_and_deff(panel, np.ones(len(panel.users)), level, period)[0]
    if ap.panel_share is not None:
        return np.full(users.shape, float(ap.panel_share))
    codes = np.array([str(a)[:LEVEL_DIGITS[level]] for a in panel.areas])
    a_code, a_lab = pd.factorize(codes, sort=True)
    pop = np.bincount(a_code, weights=np.nan_to_num(population), minlength=len(a_lab))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.clip(np.where(pop[:, None] > 0, users / pop[:, None], 0.0), 0.0, 1.0)


def _replicate_rates(panel, weights, cal, estimators, base, w0, member, ap, levels, periods, population,
                     mapper=None) -> dict:
    """Replicate rates per estimator and (level, period), each (R, n_areas, n_periods).

    ``expected``: ``rate_b = rate + D_cal + sqrt(1 - f) D_sample + sqrt(f) D_status`` with, for the same
    replicate, ``D_cal`` the change of the rate when the calibration is re-estimated from the resampled
    users, ``D_sample`` the change when the cell's users are resampled (weights re-raked), ``D_status`` the
    change when each user's status is drawn from its probability, and ``f`` the share of the cell's
    population the panel holds (:class:`AreaParams` ``panel_share``). With f = 0 (a sample from a large
    population) the status draw does not matter; with f = 1 (the panel is the population) resampling does
    not. ``status_corrected``: users resampled, sensitivity and specificity re-estimated.

    The replicates are computed :func:`replicate_chunk` at a time, each chunk from its own draws: the
    generator's state at the start of each chunk is noted first (drawing as the chunks will), so the chunks
    can run in any order and in other processes (``mapper``, like the builtin ``map`` but returning a list)
    and give the draws, and the numbers, of one loop over the chunks in order.
    """
    n_u, n_w = panel.p.shape
    n_a = len(panel.areas)
    keys = [(lv, pe) for lv in levels for pe in periods]
    share = {key: _panel_share(panel, population, ap, *key) for key in keys}
    chunk = replicate_chunk(ap, n_u, n_w)
    rng = np.random.default_rng([ap.seed, 2])
    chunks, buffers = [], {}
    for start in range(0, ap.replicates, chunk):
        r = min(chunk, ap.replicates - start)
        chunks.append((r, rng.bit_generator.state))  # a new dict each time
        rng.poisson(1.0, size=(r, n_u))
        rng.random((r, n_u))

    def one(item) -> dict:
        r, state = item
        rng = np.random.default_rng()
        rng.bit_generator.state = state
        f = rng.poisson(1.0, size=(r, n_u)).astype(float)
        u = rng.random((r, n_u)).astype(np.float32)
        w = weights.weights(panel.users, f, point=w0) if weights is not None else f
        w_fixed = np.broadcast_to(w0, (r, n_u))
        drawn = None
        if cal is None:
            pb, lf = estimators["expected"][0][0], member
        else:  # the calibrated probabilities (and the statuses drawn from them) in one pass, into this
            if "draws" not in buffers:  # process's arrays: no new pages to fault in chunk after chunk
                buffers["draws"] = tuple(np.empty(chunk * n_u * n_w, np.float32) for _ in range(3))
            applied = cal.apply(panel.p, cal.shifts(f), u if ap.latent_status else None, out=buffers["draws"])
            pb, lf, drawn = applied if ap.latent_status else (*applied, None)
        out = {}
        for est in estimators:
            if est == "expected":
                sums = {"sample": _cell_sums(pb, w, lf, panel.area, n_a),
                        "fixed": _cell_sums(pb, w_fixed, lf, panel.area, n_a)}
                lf_sample = sums["sample"][1]  # the resampled labour force, status_corrected's too
                if ap.latent_status:  # the labour force is the fixed one: only the unemployed are summed
                    if drawn is None:
                        drawn = (u[:, :, None] < pb).astype(np.float32) * member
                    sums["status"] = (_weighted_sums(drawn, w_fixed, panel.area, n_a), sums["fixed"][1])
                    del drawn
            else:
                se, sp = estimators["status_corrected"][0](f)
                sums = {"sample": _corrected_sums(panel, w, cal.fold, se, sp, ap.min_youden, lf_sample)}
            out[est] = {}
            for key in keys:
                if est != "expected":
                    out[est][key] = _rate(*_aggregate(*sums["sample"], panel, *key)[:2])
                    continue
                fr = share[key][None]
                rates = {k: _rate(*_aggregate(*v, panel, *key)[:2]) for k, v in sums.items()}
                rate = rates["fixed"] + np.sqrt(1 - fr) * (rates["sample"] - rates["fixed"])
                if "status" in rates:
                    rate = rate + np.sqrt(fr) * (rates["status"] - rates["fixed"])
                out[est][key] = rate
        return out

    done = (mapper or _serial)(one, chunks)
    return {e: {k: np.concatenate([d[e][k] for d in done], axis=0) if done else np.empty((0,)) for k in keys}
            for e in estimators}


def _serial(fn, items) -> list:
    return [fn(item) for item in items]


def replicate_chunk(ap: AreaParams, n_users: int, n_weeks: int) -> int:
    """Replicates computed at once: ``ap.replicate_chunk``, fewer where their users x weeks arrays (about 16
    bytes a cell and replicate) would pass ``ap.replicate_memory_mb``; one at least.

    Examples
    --------
    >>> replicate_chunk(AreaParams(), 1_000, 39), replicate_chunk(AreaParams(), 100_000, 39)
    (10, 4)
    >>> replicate_chunk(AreaParams(replicate_memory_mb=1), 100_000, 39)
    1
    """
    per_replicate_mb = 16 * n_users * n_weeks / 1e6
    return int(max(1, min(ap.replicate_chunk, ap.replicate_memory_mb // max(per_replicate_mb, 1e-9))))


def _rate(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return num / den


def _users_and_deff(panel: _Panel, w: np.ndarray, level: str, period: str):
    """Distinct users and Kish's design effect (over distinct users) per cell, each (n_areas, n_periods)."""
    codes = np.array([str(a)[:LEVEL_DIGITS[level]] for a in panel.areas])
    a_code = pd.factorize(codes, sort=True)[0][panel.area]
    if period == "week":
        p_code = np.arange(len(panel.weeks))
    else:
        p_code = week_months(panel.weeks)[0]
    starts = np.flatnonzero(np.r_[True, p_code[1:] != p_code[:-1]])
    inside = (np.add.reduceat(np.isfinite(panel.p).astype(np.int32), starts, axis=1) > 0).astype(float)
    onehot = np.zeros((int(a_code.max()) + 1 if len(a_code) else 0, len(a_code)))
    onehot[a_code, np.arange(len(a_code))] = 1.0
    users = onehot @ inside
    s1 = (onehot * w[None]) @ inside
    s2 = (onehot * w[None] ** 2) @ inside
    with np.errstate(invalid="ignore", divide="ignore"):
        return users, np.where(users > 0, users * s2 / s1**2, np.nan)


def sector_area_unemployment(sector_weekly: pd.DataFrame, wac_county: pd.DataFrame, *,
                             params: EmploymentParams | None = None, n_users: pd.DataFrame | None = None,
                             replicates: np.ndarray | None = None, area_params: AreaParams | None = None,
                             periods: tuple[str, ...] = ("week", "month")) -> pd.DataFrame:
    """The sector route: ``sum_s P_s(t) E_gs`` per workplace county (and state) and period.

    Parameters
    ----------
    sector_weekly : DataFrame
        ``sector``, ``week``, ``p_unemployed`` (:func:`mobility.employment.sector.sector_weekly`).
    wac_county : DataFrame
        LODES WAC aggregated to county: ``GEOID`` (5 digits) and ``CNS01..CNS20``.
    n_users : DataFrame, optional
        ``area`` (5-digit county of the baseline workplace), ``week``, ``n_users``: the panel's own workers of
        that county with a covered week (:func:`workplace_users`). Without it every cell is suppressed:
        a cell with no count of its own users cannot be published.
    replicates : ndarray, optional
        ``(R, 20, n_weeks)`` bootstrap replicates of ``P_s(t)`` (weeks in the order of ``sector_weekly``'s
        sorted weeks) for the intervals; without them ``rate_low``/``rate_high`` are NaN.

    Examples
    --------
    >>> sw = pd.DataFrame({"sector": list(SECTORS), "week": pd.Timestamp("2020-04-06"),
    ...                    "p_unemployed": [0.5] + [0.0] * 19, "weight": [10.0] + [1.0] * 19})
    >>> wac = pd.DataFrame({"GEOID": ["42101"], **{s: [0] for s in SECTORS}}); wac["CNS01"], wac["CNS02"] = 100, 300
    >>> users = pd.DataFrame({"area": ["42101"], "week": [pd.Timestamp("2020-04-06")], "n_users": [25]})
    >>> a = sector_area_unemployment(sw, wac, n_users=users, periods=("week",))
    >>> r = a.iloc[0]
    >>> r["level"], r["area"], float(r["unemployed"]), float(r["rate"]), int(r["n_users"])
    ('county', '42101', 50.0, 0.125, 25)
    """
    params = params or EmploymentParams()
    area_params = area_params or AreaParams()
    require_columns(sector_weekly, ["sector", "week", "p_unemployed"], "sector_weekly", "pass signal tables")
    require_columns(wac_county, ["GEOID", *SECTORS], "wac_county",
                    "aggregate WAC to county with aggregate_lodes(..., 'county')")
    p = sector_weekly.pivot(index="week", columns="sector", values="p_unemployed").reindex(columns=list(SECTORS))
    p = p.sort_index()
    weeks = pd.DatetimeIndex(p.index)
    wac = wac_county.assign(GEOID=wac_county["GEOID"].astype(str).str.slice(0, 5))
    counts = None
    if n_users is not None:
        require_columns(n_users, ["area", "week", "n_users"], "n_users", "build it with workplace_users")
        counts = n_users.assign(area=n_users["area"].astype(str), week=pd.to_datetime(n_users["week"]))
    frames = []
    alpha = (1 - area_params.confidence) / 2
    for level in ("county", "state"):
        digits = LEVEL_DIGITS[level]
        e = wac.groupby(wac["GEOID"].str.slice(0, digits))[list(SECTORS)].sum().astype(float)
        unemp = p.fillna(0.0).to_numpy() @ e.to_numpy().T  # (weeks, areas)
        total = e.sum(axis=1).to_numpy()
        reps = None
        if replicates is not None:
            reps = np.einsum("rst,as->rta", np.nan_to_num(replicates), e.to_numpy())  # (R, weeks, areas)
        users = np.zeros((len(weeks), len(e)))
        if counts is not None:
            c = counts.assign(area=counts["area"].str.slice(0, digits)).groupby(["week", "area"])["n_users"].sum()
            users = c.reindex(pd.MultiIndex.from_product([weeks, e.index])).fillna(0.0).to_numpy().reshape(
                len(weeks), len(e))
        for period in periods:
            if period == "week":
                code, starts = np.arange(len(weeks)), weeks.values
            else:
                code, starts = week_months(weeks)
            P = np.zeros((len(weeks), len(starts)))
            P[np.arange(len(weeks)), code] = 1.0 / np.bincount(code)[code]  # month = mean of its weeks
            rate = (P.T @ unemp) / total[None, :]
            lo = hi = np.full(rate.shape, np.nan)
            if reps is not None:
                rr = np.einsum("tp,rta->rpa", P, reps) / total[None, None, :]
                lo, hi = np.nanquantile(rr, [alpha, 1 - alpha], axis=0)
                lo, hi = np.minimum(lo, rate), np.maximum(hi, rate)  # an interval holds its own estimate
            n = np.stack([users[code == k].min(axis=0) for k in range(len(starts))]) if len(starts) else users
            frames.append(pd.DataFrame({
                "method": "signal", "route": "sector", "estimator": "expected", "level": level,
                "area": np.tile(e.index.values, len(starts)), "period": period,
                "period_start": np.repeat(np.asarray(starts), len(e)), "n_users": n.ravel(),
                "labour_force": np.tile(total, len(starts)), "unemployed": (rate * total[None, :]).ravel(),
                "rate": rate.ravel(), "rate_low": lo.ravel(), "rate_high": hi.ravel(), "design_effect": np.nan}))
    return _finish(pd.concat(frames, ignore_index=True), params.min_cell_users)


def panel_weights(homes: pd.DataFrame, features: pd.DataFrame, *, rac: pd.DataFrame | None = None,
                  acs: pd.DataFrame | None = None, area_params: AreaParams | None = None) -> PanelWeights:
    """Weights that make the panel's workers stand for their home county's workers (module notes).

    Two stages, each raking within home counties (:func:`mobility.employment.weights.rake`):

    1. with ``acs`` (B01001 sex by age, :func:`mobility.census.acs.read_acs`): every user with a home CBG to
       the county's population 16+ by sex and age group, memberships the home CBG's mix
       (:func:`mobility.census.margins.acs_sex_age`);
    2. with ``rac`` (LODES RAC, jobs by residence): the workers (users in ``features``) from their stage-1
       weights to the county's jobs by supersector, age, earnings and sex
       (:data:`mobility.census.margins.LODES_MARGINS`), memberships the job mix of their baseline *work* CBG
       (the ``w_CNS..`` and ``p_<dim>_..`` columns of :func:`mobility.census.features.work_features`); a
       worker whose work CBG has no LODES row gets the county's mix.

    A margin is left out in a county with fewer than ``min_users_per_category`` users (workers in stage 2)
    per category: a few dozen users cannot carry a margin of many soft categories (the weights then chase
    noise; ``benchmarks/README.md``).

    Without either, every user weighs 1 (a :class:`PanelWeights` with no margins).

    Examples
    --------
    Two workers in one county: the population works in sector CNS01 and CNS12 half and half (two
    supersectors), the panel's first worker is surely CNS01, the second half-half; raking would give the first
    no weight, trimming (``max_weight_ratio`` 5) keeps it at a fifth of the mean:

    >>> from mobility.employment.sector import WEIGHT_COLUMNS
    >>> f = pd.DataFrame({"user_id": ["a", "b"], **{c: [0.0, 0.0] for c in WEIGHT_COLUMNS}})
    >>> f.loc[0, "w_CNS01"] = 1.0; f.loc[1, ["w_CNS01", "w_CNS12"]] = 0.5
    >>> rac = pd.DataFrame({"GEOID": ["421010001001"], "C000": [100], **{s: [0] for s in SECTORS}})
    >>> rac["CNS01"], rac["CNS12"] = 50, 50
    >>> for c in ("CA01", "CA02", "CA03", "CE01", "CE02", "CE03", "CS01", "CS02"): rac[c] = 0
    >>> rac["CA01"], rac["CE01"], rac["CS01"] = 100, 100, 100
    >>> homes = pd.DataFrame({"user_id": ["a", "b"], "home_cbg": ["421010001001", "421010001002"]})
    >>> pw = panel_weights(homes, f, rac=rac, area_params=AreaParams(min_users_per_category=0))
    >>> pw.weights(np.array(["a", "b"])).round(1).tolist()
    [10.8, 97.4]
    """
    from mobility.census.features import feature_columns
    from mobility.census.lodes import WAC_RAC_GROUPS
    from mobility.census.margins import (
        LODES_MARGINS,
        SUPERSECTORS,
        acs_sex_age,
        area_totals,
        lodes_margins,
        member_shares,
        supersectors,
    )

    area_params = area_params or AreaParams()
    require_columns(homes, ["user_id", "home_cbg"], "homes", "build it with home_cbg(labels)")
    h = homes.assign(user_id=homes["user_id"].astype(str), home_cbg=homes["home_cbg"].astype(str))
    h = h.drop_duplicates("user_id")
    users = h["user_id"].to_numpy()
    county = h["home_cbg"].str.slice(0, 5).to_numpy()
    area_code, areas = pd.factorize(county, sort=True)
    design = np.ones(len(users))
    rake_args = dict(max_weight_ratio=area_params.max_weight_ratio, trim_rounds=area_params.trim_rounds)

    def margin(name, members, totals_table, counted=None):
        totals = totals_table.reindex(pd.Index(areas, dtype=object)).fillna(0.0).to_numpy(float).copy()
        share = totals / np.maximum(totals.sum(axis=1, keepdims=True), 1e-300)
        members = np.where(np.isfinite(members).all(axis=1, keepdims=True), members, share[area_code])
        counted = np.ones(len(users), bool) if counted is None else counted
        n = np.bincount(area_code[counted], minlength=len(areas))
        thin = n < area_params.min_users_per_category * members.shape[1]
        totals[thin] = np.nan  # too few users to rake to this margin here: left out in that area
        return Margin(name, members, totals)

    if acs is not None:
        table = acs_sex_age(acs)
        m = margin("acs_sex_age", member_shares(table, h["home_cbg"]), area_totals(table))
        design = rake(design, area_code, [m], **rake_args)
    margins = []
    if rac is not None:
        f = features.assign(user_id=features["user_id"].astype(str)).drop_duplicates("user_id").set_index("user_id")
        rac_table = lodes_margins(rac)
        totals = area_totals(rac_table)
        workers = pd.Index(users).isin(f.index)
        mine = f.reindex(users)
        total = totals[list(WAC_RAC_GROUPS["sex"])].sum(axis=1).rename("jobs").to_frame()
        margins.append(margin("jobs", np.ones((len(users), 1)), total, workers))  # each county's size, always
        for group in LODES_MARGINS:
            if group == "supersector":
                if not {f"w_{c}" for c in WAC_RAC_GROUPS["sector"]} <= set(f.columns):
                    continue
                members, cols = supersectors(mine, "w_").to_numpy(float), list(SUPERSECTORS)
            else:
                columns = feature_columns(group)
                if not set(columns) <= set(f.columns):
                    continue
                members, cols = mine[columns].to_numpy(float), list(WAC_RAC_GROUPS[group])
            margins.append(margin(group, members, totals[cols], workers))
        design = np.where(workers, design, 0.0)  # stage 2 is about workers only
    return PanelWeights(users, area_code, design, margins, area_params.max_weight_ratio, area_params.trim_rounds,
                        np.asarray(areas, dtype=object))


def workplace_users(signal, features: pd.DataFrame) -> pd.DataFrame:
    """Users behind the sector route: per county of the baseline work CBG and week, the workers with a
    covered week (``area``, ``week``, ``n_users``).

    Examples
    --------
    >>> from mobility.employment.status import SignalResult
    >>> sig = SignalResult(np.array(["a", "b"]), pd.DatetimeIndex(["2020-04-06"]),
    ...                    {"usable": np.array([[True], [True]])}, np.array([0.5, 0.5]))
    >>> f = pd.DataFrame({"user_id": ["a", "b"], "work_cbg": ["421010001001", "420450001001"]})
    >>> workplace_users(sig, f)["n_users"].tolist()
    [1, 1]
    """
    require_columns(features, ["user_id", "work_cbg"], "features", "pass work_features of the baseline work CBG")
    work = pd.Series(features["work_cbg"].to_numpy(), index=features["user_id"].astype(str).to_numpy())
    work = work[~work.index.duplicated()].reindex(signal.users)
    usable = np.asarray(signal.matrices["usable"], dtype=bool)
    ok = work.notna().to_numpy()
    county = work[ok].astype(str).str.slice(0, 5).to_numpy()
    code, areas = pd.factorize(county, sort=True)
    n = np.zeros((len(areas), usable.shape[1]), dtype=np.int64)
    np.add.at(n, code, usable[ok].astype(np.int64))
    return pd.DataFrame({"area": np.repeat(np.asarray(areas, dtype=object), usable.shape[1]),
                         "week": np.tile(signal.weeks.values, len(areas)), "n_users": n.ravel()})


def sector_replicates(signal, telework: pd.Series, area_params: AreaParams | None = None, *,
                      chunk_users: int = 20_000) -> np.ndarray:
    """Bootstrap replicates of the sector job-loss shares ``P_s(t)``, ``(R, 20, n_weeks)``: the signal's
    sector attendance re-estimated from Poisson(1)-resampled users, and where the signal averaged over the
    remote-adoption intercept b (``signal.intercept`` with its stocks), each replicate's remote stock that of a
    b drawn from its posterior (its own random stream; the coarsened posterior where the signal has one, the
    replicates then moved back around the point's: :func:`_draw_centre_shift`); else the remote adoption as
    estimated once.

    The weighted sums behind every replicate's attendance are one matrix product, ``(R, users) @ (users,
    20 x weeks)``, over chunks of ``chunk_users`` users; each replicate's shares then go through
    :func:`mobility.employment.sector.sector_weekly` (one unit-weight row per sector), so the formula is the
    signal's own.

    Examples
    --------
    See ``tests/employment/test_area.py``.
    """
    from mobility.employment.sector import check_telework, sector_weekly

    area_params = area_params or AreaParams()
    tau = check_telework(telework)
    m = signal.matrices
    ok = np.asarray(m["usable"], dtype=bool) & np.isfinite(m["attendance"])
    att = np.where(ok, m["attendance"], 0.0)
    w = np.nan_to_num(np.asarray(m["weights"], dtype=float), nan=0.0)
    table = signal.tables["sector_weekly"]
    n_w, n_s = len(signal.weeks), w.shape[1]
    adoption = table["remote_adoption"].to_numpy(float)[:n_w]
    untied = table["remote_untied"].to_numpy(float)[:n_w]
    f = _poisson_counts(np.random.default_rng([area_params.seed, 3]), area_params.replicates, len(signal.users))
    num = np.zeros((area_params.replicates, n_s * n_w))
    den = np.zeros_like(num)
    for lo in range(0, len(signal.users), chunk_users):
        sl = slice(lo, lo + chunk_users)
        f_sl = f[:, sl].astype(float)
        num += f_sl @ (w[sl, :, None] * att[sl, None, :]).reshape(-1, n_s * n_w)
        den += f_sl @ (w[sl, :, None] * ok[sl, None, :]).reshape(-1, n_s * n_w)
    with np.errstate(invalid="ignore", divide="ignore"):
        r_s = (num / den).reshape(-1, n_s, n_w)
    one = np.eye(n_s)
    out = np.empty((area_params.replicates, n_s, n_w))
    draws = signal.intercept
    pick = None
    if draws is not None and draws.stock is not None:
        keep, weight = draws.kept(draw=True)
        pick = keep[np.random.default_rng([area_params.seed, 5]).choice(len(keep), size=area_params.replicates,
                                                                         p=weight)]
    for b in range(area_params.replicates):
        if pick is None:
            a_b, c_b = adoption, untied
        else:
            a_b, c_b = draws.stock[pick[b]], draws.b[pick[b]] * draws.stock[pick[b]]
        out[b] = sector_weekly(r_s[b], one, tau, a_b, signal.weeks, c_b)["p_unemployed"].to_numpy().reshape(n_s, n_w)
    if pick is not None and draws.draw_weight is not None and not np.array_equal(draws.draw_weight, draws.weight):
        out -= _draw_centre_shift(draws, w, att, ok, tau, signal.weeks)
    return out


def _draw_centre_shift(draws: InterceptDraws, w: np.ndarray, att: np.ndarray, ok: np.ndarray, tau: np.ndarray,
                       weeks: pd.DatetimeIndex) -> np.ndarray:
    """``(20, n_weeks)``: how far the sector shares averaged over the coarsened posterior of b (what the
    replicates draw from) lie from those averaged over the point's posterior, at the panel's own sector
    attendance; :func:`sector_replicates` takes it off every replicate, so that they stay around the point as the
    individual route's do (:func:`_draw_intercept`). NaN shares count as 0."""
    from mobility.employment.sector import sector_sums, sector_table

    n_s, n_w = w.shape[1], len(weeks)
    sums = sector_sums(np.where(ok, att, np.nan), w)
    keep = draws.support()
    shares = np.stack([np.nan_to_num(sector_table(sums, tau, draws.stock[k], weeks, draws.b[k] * draws.stock[k])
                                     ["p_unemployed"].to_numpy().reshape(n_s, n_w)) for k in keep])
    return np.tensordot(draws.weights_on(keep, draw=True) - draws.weights_on(keep), shares, axes=1)


def _poisson_counts(rng: np.random.Generator, n_replicates: int, n_users: int, *, rows: int = 16) -> np.ndarray:
    """``rng.poisson(1.0, size=(n_replicates, n_users))``, the same draws, as uint8 (a byte a draw, not 8: 20 MB
    rather than 160 MB, and no int64 copy of it, for 200 replicates of 100,000 users): drawn ``rows``
    replicates at a time, which takes the generator's values in the same order. (A Poisson(1) count above 255
    has a probability below 1e-500.)

    Examples
    --------
    >>> a = _poisson_counts(np.random.default_rng(5), 7, 1000, rows=3)
    >>> bool((a == np.random.default_rng(5).poisson(1.0, size=(7, 1000))).all()), a.dtype.name
    (True, 'uint8')
    """
    out = np.empty((n_replicates, n_users), dtype=np.uint8)
    for lo in range(0, n_replicates, rows):
        block = rng.poisson(1.0, size=(min(rows, n_replicates - lo), n_users))
        out[lo:lo + len(block)] = block
    return out
