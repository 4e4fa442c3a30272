"""Parameters of the longitudinal step (method.md 2.9 and 4), named, defaulted once and range-checked.

:class:`EventStudyParams` is what one event study needs (estimator, comparison group, window, inference,
privacy); :class:`LongitudinalParams` adds what the pipeline's ``[longitudinal]`` table sets: which
metrics and groups, how job losses are dated, where demographic groups come from, matching. Both are
frozen and validate on construction, raising :class:`~mobility.errors.MobilityError` that names the field,
its value and what is allowed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mobility.errors import MobilityError

ESTIMATORS = ("sun_abraham", "twfe")
"""``sun_abraham``: cohort x event-time interactions aggregated with cohort shares (Sun & Abraham 2021), robust
to staggered timing and effects that differ by cohort; ``twfe``: one dummy per event time (biased then)."""
CONTROL_GROUPS = ("never", "not_yet", "later")
"""``never``: never-losers are the comparison (leads and lags against event time ``reference_period``);
``not_yet``: untreated weeks of later losers too (post-loss cells only, the imputation estimator of
Borusyak, Jaravel & Spiess 2024 on balanced panels; leads from their pre-trend test); ``later``: as
``not_yet`` on the job losers alone, each compared with people who lose their job later, in the weeks before
their loss (never-losers left out; the design of Fadlon & Nielsen 2019): the comparison shares the losers'
selection into job loss, so a shock that moved future losers and never-losers differently (remote work in
March 2020) does not pose as a pre-trend; effects are identified only in calendar weeks before the last loss."""
DF_CORRECTIONS = ("dummies", "nested")
PRETREND_TESTS = ("score", "wald", "htz")
"""``score``: the joint test of the leads with their cluster-robust covariance from the residuals of the fit
without lead cells (the null imposed; a Lagrange-multiplier test); ``wald``: from the full fit's residuals,
which over-rejects when few people lose their job in each week (see :class:`EventStudyParams`); ``htz``: the
Wald statistic with the CR2 covariance against Pustejovsky & Tipton's (2018) Hotelling T^2 approximation, whose
denominator degrees of freedom come from the CR2 estimator's own moments (``vcov="cr2"`` only)."""
VCOV_TYPES = ("cr2", "cr1")
"""Cluster-robust covariance of the coefficients (clustered by person): ``cr2`` the Bell-McCaffrey / CR2
adjustment of each person's residuals by their leverage (Pustejovsky & Tipton 2018), with a pooled working
covariance where a person alone in their cells has leverage 1; ``cr1`` the Stata/statsmodels sandwich with the
``G/(G-1) (N-1)/(N-K)`` factor (see :func:`~mobility.longitudinal.cell_ols.cell_ols`)."""
CR2_DF = ("auto", "satterthwaite", "clusters")
"""Degrees of freedom of the t intervals under CR2: ``satterthwaite`` each term's Bell-McCaffrey / Satterthwaite df
(:mod:`mobility.longitudinal.cell_ols`, "Small-sample inference"); ``clusters`` ``G - 1`` for every term (the
intervals before the Satterthwaite df; skips computing them, which at 100k users nearly triples the cost of
the step: ``benchmarks/README.md``); ``auto`` the first for a fit, or a group's own block of it, of at most
:data:`AUTO_SATTERTHWAITE_PERSONS` persons, the second above (:func:`resolve_cr2_df`)."""
AUTO_SATTERTHWAITE_PERSONS = 20_000
"""``cr2_df="auto"``: the largest panel (persons) whose CR2 intervals get the Satterthwaite df. Where the df
matter, a term rests on a few dozen losers (measured: 15 losers, leads covered 91 % with ``G - 1``, 96-97 % with
the df); a panel of more persons than this has hundreds of losers behind a term at the default region's share
(8 %), its df are large and ``G - 1`` gives the same intervals, while the df cost 0.2 CPU-s per fit at 650
persons and 87 of the 132 s of the 100k-user step. The count is per block of a fit: where each group has its own
week effects (the paths by group, the default), each group's persons, so a small group inside a large region
still gets its df."""


def resolve_cr2_df(cr2_df: str, n_persons: int) -> str:
    """The ``cr2_df`` a fit (or a block of one) of ``n_persons`` uses: ``auto`` made ``satterthwaite`` or ``clusters``.

    Examples
    --------
    >>> resolve_cr2_df("auto", 650), resolve_cr2_df("auto", 65_448), resolve_cr2_df("satterthwaite", 65_448)
    ('satterthwaite', 'clusters', 'satterthwaite')
    """
    if cr2_df != "auto":
        return cr2_df
    return "satterthwaite" if n_persons <= AUTO_SATTERTHWAITE_PERSONS else "clusters"
DATING_METHODS = ("auto", "signal", "classifier")
GROUP_SOURCES = ("work", "home")
GROUP_METHODS = ("modal", "draws")
MATCHING = ("none", "nearest", "cem")
DEFAULT_METRICS = (
    "radius_of_gyration_km", "radius_of_gyration_km_nonwork", "uncorrelated_entropy_bits",
    "uncorrelated_entropy_bits_nonwork", "new_locations", "new_locations_nonwork", "exploration_rate",
    "exploration_rate_nonwork", "distinct_locations", "distinct_locations_nonwork", "capacity", "time_at_home_h",
)
DEFAULT_GROUPS = ("sex", "age", "earnings", "race", "education")


def _bad(owner: str, name: str, value: Any, rule: str) -> MobilityError:
    return MobilityError(f"{owner}: {name}={value!r} {rule}")


def _choice(owner: str, name: str, value: Any, options: tuple) -> None:
    if value not in options:
        raise _bad(owner, name, value, f"must be one of {list(options)}")


def _integer(owner: str, name: str, value: Any, lo: int, hi: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not lo <= value <= hi:
        raise _bad(owner, name, value, f"must be an integer in [{lo}, {hi}]")


def check_window(window: tuple[int, int], reference_period: int) -> tuple[int, int]:
    """Validate an event window ``(first, last)`` in weeks and the omitted reference period.

    Examples
    --------
    >>> check_window((-4, 12), -1)
    (-4, 12)
    """
    try:
        lo, hi = (int(window[0]), int(window[1]))
    except (TypeError, ValueError, IndexError) as exc:
        raise MobilityError(f"window must be a pair of integers of weeks, e.g. (-4, 12); got {window!r}") from exc
    if len(window) != 2 or (lo, hi) != tuple(window):
        raise MobilityError(f"window must hold two integer weeks, got {window!r}")
    if not lo <= int(reference_period) <= -1:
        raise MobilityError(
            f"reference_period={reference_period} must lie in the window's pre-period [{lo}, -1]; "
            "the usual choice is -1 with a window such as (-4, 12)"
        )
    if hi < 0:
        raise MobilityError(f"window={window!r} must reach event time 0 or later (the job-loss week)")
    return lo, hi


def check_min_users(min_users: int) -> int:
    """Validate the privacy threshold k (users per published cell)."""
    if isinstance(min_users, bool) or not isinstance(min_users, (int, np.integer)) or min_users < 1:
        raise MobilityError(f"min_users must be an integer >= 1 (privacy threshold k), got {min_users!r}")
    return int(min_users)


def check_alpha(alpha: float) -> float:
    """Validate a significance level in (0, 1)."""
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0.0 < float(alpha) < 1.0:
        raise MobilityError(f"alpha must lie in (0, 1), e.g. 0.05 for 95% intervals; got {alpha!r}")
    return float(alpha)


@dataclass(frozen=True)
class EventStudyParams:
    """What one event study of a metric around job loss needs.

    Attributes
    ----------
    estimator : {"sun_abraham", "twfe"}
        See :data:`ESTIMATORS`; default ``"sun_abraham"``.
    control_group : {"never", "not_yet", "later"}
        See :data:`CONTROL_GROUPS`; default ``"never"`` (``twfe`` compares with every row and takes only
        ``"never"``, its default).
    window : (int, int)
        First and last event week reported, default ``(-4, 12)``.
    reference_period : int
        The omitted event week, default -1 (``control_group="not_yet"`` or ``"later"`` has none: effects are
        against the imputed untreated outcome).
    bin_endpoints : bool
        Pool event weeks beyond the window into its endpoints (True, default) or drop those rows.
    group_time_effects : bool
        With a group column, calendar-week effects per group (True, default): each group's losers are
        compared with the same group's controls. False shares the week effects across groups.
    time_effects_by : str, optional
        A panel column, constant within each person, whose categories get their own calendar-week effects
        in every estimate (e.g. a baseline teleworkability tercile): losers are compared with never-losers
        of their own category, so a trend that only some categories follow (remote work) is not mistaken
        for an effect of job loss.
    df_correction : {"dummies", "nested"}
        CR1 count of absorbed effects (see :mod:`mobility.longitudinal.cluster_ols`); unused by ``vcov="cr2"``.
    vcov : {"cr2", "cr1"}
        Covariance of the coefficients, clustered by person (see :data:`VCOV_TYPES`). ``"cr2"`` (default):
        each person's residuals scaled up by the inverse square root of one minus their leverage, which the
        saturated cohort x event-week cells make large where a cohort holds one or two job losers (their cells
        fit those people's own errors); a person alone in a cell gets the pooled residual covariance of the
        weeks they are seen in. ``"cr1"``: the plain sandwich, whose intervals cover 84-87% instead of 95% in
        simulated panels of 650 people with 8% losers (``benchmarks/README.md``, "Longitudinal event study").
        The pre-trend test's score form keeps CR1 on its restricted residuals either way.
    cr2_df : {"auto", "satterthwaite", "clusters"}
        Under ``vcov="cr2"``, the degrees of freedom of every term's t interval and p-value (column ``df``), see
        :data:`CR2_DF`; default ``"auto"`` (Satterthwaite up to :data:`AUTO_SATTERTHWAITE_PERSONS` persons,
        ``G - 1`` above, decided per group where groups have their own week effects; the fit's
        ``info["cr2_df_used"]`` says which). Unused by ``vcov="cr1"`` (always ``G - 1``).
    pretrend_test : {"score", "wald", "htz"}
        How the joint pre-trend test (``pretrend`` table) gets the covariance of the leads (the leads' own
        estimates and intervals are unchanged). ``"score"`` (default): CR1 from the residuals of the fit with
        the lead cells left out, i.e. with the null of no pre-trend imposed (a cluster-robust Lagrange
        multiplier test), whatever ``vcov`` says. ``"wald"``: the coefficients' own covariance (``vcov``) from
        the full fit. Each saturated cohort x event-week cell fits its own persons' errors, so where a cohort
        holds one or two job losers (a region with 50 losers over 30 weeks) those residuals are shrunk: with
        ``vcov="cr1"`` the Wald test rejects far above its level (31% at 5% in simulated placebo panels of
        650 people with 8% losers; share 0.4: 5%), with ``"cr2"`` it holds it there (4-5%) but rejects 3-9%
        of the synthetic default region's per-group tests at 1% (the score test: none); the score test
        keeps its level in both (1-2% at 5%; ``benchmarks/README.md``, "Longitudinal event study"). The
        pre-trend test of groups drawn per person (``group_method="draws"``, Rubin's rules) combines the draws'
        coefficient covariances, i.e. the Wald form, whatever this says. ``"htz"`` (``vcov="cr2"`` only): the
        Wald statistic of ``"wald"`` under CR2 referred to Pustejovsky & Tipton's (2018) HTZ approximation
        (Hotelling's T^2 with degrees of freedom from the moments of the CR2 estimator under a working model of
        independent errors; :func:`~mobility.longitudinal.cluster_ols.htz_test`): where the leads rest on few
        losers its ``df_den`` is small and the test accordingly cautious. Whatever the test, under CR2 every
        coefficient's interval and p-value use its Satterthwaite degrees of freedom (column ``df``; see ``cr2_df``).
    min_users : int
        Privacy threshold k: cells with fewer distinct job losers are suppressed (default 10).
    alpha : float
        1 - confidence level (default 0.05).

    Examples
    --------
    >>> EventStudyParams(window=(-4, 8)).window
    (-4, 8)
    >>> EventStudyParams(estimator="did")
    Traceback (most recent call last):
    ...
    mobility.errors.MobilityError: EventStudyParams: estimator='did' must be one of ['sun_abraham', 'twfe']
    """

    estimator: str = "sun_abraham"
    control_group: str = "never"
    window: tuple[int, int] = (-4, 12)
    reference_period: int = -1
    bin_endpoints: bool = True
    group_time_effects: bool = True
    time_effects_by: str | None = None
    df_correction: str = "dummies"
    vcov: str = "cr2"
    cr2_df: str = "auto"
    pretrend_test: str = "score"
    min_users: int = 10
    alpha: float = 0.05

    def __post_init__(self) -> None:
        own = type(self).__name__
        _choice(own, "estimator", self.estimator, ESTIMATORS)
        _choice(own, "control_group", self.control_group, CONTROL_GROUPS)
        if self.estimator == "twfe" and self.control_group != "never":
            raise _bad(own, "control_group", self.control_group, "applies to estimator='sun_abraham'; two-way fixed "
                       "effects compare with every other row (never, not yet and already treated)")
        object.__setattr__(self, "window", check_window(self.window, self.reference_period))
        for name in ("bin_endpoints", "group_time_effects"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise _bad(own, name, getattr(self, name), "must be true or false")
        if self.time_effects_by is not None and not isinstance(self.time_effects_by, str):
            raise _bad(own, "time_effects_by", self.time_effects_by, "must be a column name or None")
        _choice(own, "df_correction", self.df_correction, DF_CORRECTIONS)
        _choice(own, "vcov", self.vcov, VCOV_TYPES)
        _choice(own, "cr2_df", self.cr2_df, CR2_DF)
        _choice(own, "pretrend_test", self.pretrend_test, PRETREND_TESTS)
        if self.pretrend_test == "htz" and self.vcov != "cr2":
            raise _bad(own, "pretrend_test", self.pretrend_test, "needs vcov='cr2' (the HTZ test approximates the "
                       "CR2 estimator's distribution); use 'score' or 'wald' with vcov='cr1'")
        check_min_users(self.min_users)
        check_alpha(self.alpha)

    def to_dict(self) -> dict[str, Any]:
        """Plain values for manifests."""
        out = dataclasses.asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}

    def event_study_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of :func:`~mobility.longitudinal.event_study.event_study` these fields set."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(EventStudyParams)}


@dataclass(frozen=True)
class LongitudinalParams(EventStudyParams):
    """Every setting of the pipeline's longitudinal step (the ``[longitudinal]`` table of a region config).

    Attributes (beyond :class:`EventStudyParams`)
    ---------------------------------------------
    method : {"auto", "signal", "classifier"}
        Which employment method dates job losses. ``"auto"`` takes the classifier only where its recorded
        features are disjoint from the outcome metrics (method.md 4: never date treatment with a model that
        uses the outcomes), else the attendance signal, and says why.
    metrics : tuple of str
        Outcome columns of ``metrics_weekly``; ``*_nonwork`` ones exclude the person's workplaces.
    groups : tuple of str
        Demographic dimensions (``sex, age, earnings, race, ethnicity, education``).
    group_source : {"work", "home"}
        Census shares of the baseline work CBG (LODES WAC: jobs there) or home CBG (LODES RAC: jobs of its
        residents). Both are ecological (the people around a person, not the person).
    group_method : {"modal", "draws"}
        Most probable category per person, or ``n_draws`` draws combined with Rubin's rules.
    n_draws, seed : int
        Draws per person and their seed (``group_method="draws"``).
    matching : {"none", "nearest", "cem"}
        All never-losers as controls, or matched ones (:func:`~mobility.longitudinal.matching.match_controls`).
    time_effects_by : str, optional
        Here ``"telework"`` (terciles of the work CBG's teleworkable share) or one of ``groups``: each of its
        categories gets its own calendar-week effects in every estimate.
    study_start : str, optional
        First calendar week of the event studies (a date; its Monday): earlier weeks are left out, and so are
        the job losers whose lead weeks (``-window[0]``) would reach before it. For a period that opens with a
        shock that moved controls and future losers differently: in the synthetic regions (shock 2020-03-16)
        the pre-trend tests of the whole window reject at 10,000 and 100,000 users even with the true loss
        dates, and pass from the shock on with them (``benchmarks/README.md``). Default: every week.
    compare_controls : str, optional
        A second comparison group (one of :data:`CONTROL_GROUPS`, default ``"later"``) for the pooled event
        study, fitted again with it: table ``comparisons`` puts each metric's DiD and pre-trend test under both
        side by side (a robustness check; skipped where it equals ``control_group``, with ``estimator="twfe"`` or
        with ``matching``; None or ``"none"``: not fitted). Against never-losers a shock that moved them apart
        from future losers poses as a pre-trend; against later losers it does not, at the cost of wider
        intervals.
    figure_formats : tuple of str
        Formats the pipeline writes figures in (``png``, ``svg``, ``pdf``); default PNG only (the report embeds
        PNG; each extra format costs about as much again: 73 figures by default).

    Examples
    --------
    >>> LongitudinalParams(method="auto", group_source="home").group_source
    'home'
    >>> LongitudinalParams(n_draws=0)
    Traceback (most recent call last):
    ...
    mobility.errors.MobilityError: LongitudinalParams: n_draws=0 must be an integer in [1, 1000]
    """

    method: str = "auto"
    metrics: tuple[str, ...] = DEFAULT_METRICS
    groups: tuple[str, ...] = DEFAULT_GROUPS
    group_source: str = "work"
    group_method: str = "modal"
    n_draws: int = 10
    seed: int = 0
    matching: str = "none"
    study_start: str | None = None
    compare_controls: str | None = "later"
    figure_formats: tuple[str, ...] = ("png",)

    def __post_init__(self) -> None:
        super().__post_init__()
        own = type(self).__name__
        _choice(own, "method", self.method, DATING_METHODS)
        _choice(own, "group_source", self.group_source, GROUP_SOURCES)
        _choice(own, "group_method", self.group_method, GROUP_METHODS)
        _choice(own, "matching", self.matching, MATCHING)
        if self.matching != "none" and self.control_group == "later":
            raise _bad(own, "matching", self.matching, "matches never-losers to the losers, and control_group='later' "
                       "leaves never-losers out: set matching = \"none\" or another control_group")
        if self.compare_controls == "none":  # a config file's way to say None
            object.__setattr__(self, "compare_controls", None)
        if self.compare_controls is not None:
            _choice(own, "compare_controls", self.compare_controls, (*CONTROL_GROUPS, "none"))
        _integer(own, "n_draws", self.n_draws, 1, 1000)
        _integer(own, "seed", self.seed, 0, 2**32 - 1)
        for name in ("metrics", "groups"):
            value = getattr(self, name)
            if isinstance(value, str) or not all(isinstance(v, str) for v in value):
                raise _bad(own, name, value, "must be a list of column names")
            object.__setattr__(self, name, tuple(value))
        if not self.metrics:
            raise _bad(own, "metrics", self.metrics, "must name at least one metric")
        from mobility.census.features import DEMOGRAPHICS

        unknown = [g for g in self.groups if g not in DEMOGRAPHICS]
        if unknown:
            raise _bad(own, "groups", list(self.groups), f"has unknown dimension(s) {unknown}; use {list(DEMOGRAPHICS)}")
        strata = ("telework", *self.groups) if self.group_method == "modal" else ("telework",)
        if self.time_effects_by is not None and self.time_effects_by not in strata:
            raise _bad(own, "time_effects_by", self.time_effects_by, f"must be one of {list(strata)} or absent")
        if self.study_start is not None:
            try:
                pd.Timestamp(self.study_start)
            except (TypeError, ValueError):
                raise _bad(own, "study_start", self.study_start, "must be a date such as \"2020-03-16\" or absent")
        from mobility.io.figures import FIGURE_FORMATS

        object.__setattr__(self, "figure_formats", tuple(self.figure_formats))
        if not self.figure_formats or any(f not in FIGURE_FORMATS for f in self.figure_formats):
            raise _bad(own, "figure_formats", list(self.figure_formats), f"must be a non-empty subset of {list(FIGURE_FORMATS)}")

    @classmethod
    def from_config(cls, table: dict, source: str = "[longitudinal]") -> "LongitudinalParams":
        """Build from a config table; unknown keys raise naming the allowed ones.

        Examples
        --------
        >>> LongitudinalParams.from_config({"window": [-3, 6], "estimator": "twfe"}).window
        (-3, 6)
        """
        allowed = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(table) - allowed)
        if unknown:
            raise MobilityError(f"{source} has unknown key(s) {unknown}; allowed: {sorted(allowed)}")
        given = {k: tuple(v) if isinstance(v, list) else v for k, v in table.items()}
        return cls(**given)
