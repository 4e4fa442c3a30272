"""Every threshold of the employment step (method.md 2.7-2.8), named with units, defaulted and range-checked.

:class:`EmploymentParams` drives the attendance signal, the job-loss events, the statuses and the area
cells; :class:`ClassifierParams` drives the LightGBM method. Both validate on construction and raise
:class:`~mobility.errors.MobilityError` naming the field, its value and the allowed range.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mobility.errors import MobilityError

JOB_LOSS_DATINGS = ("threshold", "drop_onset")  # EmploymentParams.job_loss_dating
INTERCEPT_POINTS = ("mean", "mode")  # EmploymentParams.remote_intercept_point


def _bad(owner: str, name: str, value: Any, rule: str) -> MobilityError:
    return MobilityError(f"{owner}: {name}={value!r} {rule}")


def _check_range(owner: str, obj: Any, name: str, lo: float, hi: float, *, lo_open: bool = False) -> None:
    v = getattr(obj, name)
    ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
    ok = ok and (v > lo if lo_open else v >= lo) and v <= hi
    if not ok:
        left = "(" if lo_open else "["
        raise _bad(owner, name, v, f"must be a number in {left}{lo}, {hi}]")


def _check_int(owner: str, obj: Any, name: str, lo: int, hi: int) -> None:
    v = getattr(obj, name)
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise _bad(owner, name, v, f"must be an integer in [{lo}, {hi}]")


def _check_date(owner: str, obj: Any, name: str) -> pd.Timestamp:
    v = getattr(obj, name)
    try:
        ts = pd.Timestamp(v)
    except (ValueError, TypeError) as exc:
        raise _bad(owner, name, v, "is not a date like '2020-01-06'") from exc
    if ts is pd.NaT or ts.tzinfo is not None or ts != ts.normalize():
        raise _bad(owner, name, v, "must be a plain local calendar date like '2020-01-06'")
    return ts


@dataclass(frozen=True)
class EmploymentParams:
    """Parameters of the attendance signal, job-loss events, statuses and area cells.

    Attributes
    ----------
    baseline_start, baseline_end : str
        Local calendar days (inclusive) of the baseline B before the shock; a week belongs to the baseline
        when its Monday lies in ``[baseline_start, baseline_end]``.
    work_start_h, work_end_h : float
        Local work hours ``[work_start_h, work_end_h)`` on Monday-Friday assumed for a person without a
        baseline workplace; everyone else is measured in their own usual hours
        (:mod:`mobility.employment.attendance`).
    min_day_observed_h, min_day_observed_share : float
        A day counts as observed when the phone saw at least ``min_day_observed_h`` of its usual work hours
        (all of them on a day with fewer) and at least ``min_day_observed_share`` of them.
    min_weekdays_with_data : int
        Observed usual work days a week needs (at most half the person's usual work days a week, if that is
        fewer, but at least one); a week with fewer has status ``unknown`` (a silent or degraded phone is
        never read as absence from work).
    min_baseline_weeks : int
        Covered baseline weeks a user needs for a baseline attendance.
    min_baseline_attendance : float
        Smallest baseline share of weekdays at W_u for a user to count as a worker with a baseline job.
    zero_attendance_max : float
        Relative attendance ``r_u(t)`` at or below which a covered week counts as "near zero".
    min_event_weeks : int
        Covered weeks in a row needed to confirm a job-loss (or remote-work) event (k): near-zero attendance
        for the signal, ``p_unemployed >= unemployed_probability_min`` for the classifier.
    adoption_window_weeks : int
        Weeks on each side whose weekly estimates are averaged into the smooth curve that each week's job-loss
        rate and remote adoption are shrunk towards (:mod:`mobility.employment.adoption`); 0 takes every week on
        its own.
    remote_intercept_max : float
        Largest value of the part of remote adoption that does not depend on teleworkability (b of
        :mod:`mobility.employment.adoption`: remote starts ``a(t) (x_u + b)``), per teleworkable job. b's posterior
        over ``0 .. remote_intercept_max`` (``remote_intercept_steps`` values, a flat prior) weighs each value by
        how well it explains the drops' evidence (:func:`mobility.employment.evidence.remote_intercept_posterior`);
        the drops' posteriors are averaged over it (or taken at its mode: ``remote_intercept_point``), the
        intervals draw from it; 0 assumes remote work in proportion to teleworkability alone.
    remote_intercept_prior_mean, remote_intercept_prior_sd : float
        A normal prior on b (truncated to ``0 .. remote_intercept_max``), or with ``remote_intercept_prior_sd`` 0
        a flat one. Outside evidence puts b near 0.24 (sd about 0.1): in May 2020, 35.2 % of US workers worked
        entirely from home and 71.7 % of those who could did so (Bick, Blandin and Mertens 2020), with 37 % of
        jobs teleworkable (Dingel and Neiman 2020), so those who could not worked from home at a rate r = 0.138
        and b = r / (0.717 - r); a teleworkable share of 0.30 to 0.45 gives b from 0.38 to 0.08.
        benchmarks/README.md, "Outside evidence for gamma and b", measures what each prior does.
    remote_intercept_point : {"mean", "mode"}
        What the point estimates take of b's posterior: ``"mean"`` (default) the drops' posteriors averaged over
        it; ``"mode"`` those at its mode (with the flat prior, the b that explains the drops' evidence best,
        type-II maximum likelihood, the smallest b on a tie; with a normal prior, the maximum a posteriori). The
        area intervals draw b from the (coarsened) posterior either way; with ``"mode"`` they are not centred on
        the point (the individual route's replicates centre on the rates averaged over b). Where the likelihood
        is sharp (large panels) the two agree. Where it is weak (small panels) the choice decides the rates, and
        the data cannot make it: the likelihood rules out values of b above the truth but barely those below it,
        so the mode falls towards 0 and the average towards the flat prior's mean (half of
        ``remote_intercept_max``). On subsamples of a 30,000-user region whose drops' b is near 0, the drops'
        mean job-loss posterior at 1,000 users came out 0.108 under the truth averaged and 0.065 under it at the
        mode; on hand-made drops whose b is 0.3, 0.04 under it averaged and 0.24 over it at the mode
        (benchmarks/README.md, "Why the rates of small panels were low").
    remote_intercept_steps : int
        Values of b on that grid (:attr:`remote_intercept_grid`: evenly spaced in the square root of b, so dense
        near 0, and averaged by the trapezoid rule). Where a week's job-loss rate is small against its remote
        adoption, a drop's prior falls steeply in b near 0 and an even grid gives b = 0 too much weight; 26 values
        spaced so give the default region's scores of 101 evenly spaced ones (benchmarks/README.md). Without any
        drop with evidence on its work days (no daytime table) the average is not taken: b = 0.
    intercept_evidence_drops : int or None
        The most drops whose evidence counts in full in the posterior of b that the area intervals draw from: with
        more scored drops ``n``, the mixture's log-likelihood is multiplied by ``intercept_evidence_drops / n``
        there (a coarsened posterior, Miller and Dunson 2019, JASA 114: 1113-1125), so the intervals never take b
        as better known than ``intercept_evidence_drops`` drops could know it; the point estimates keep every
        drop's evidence. The population model is an approximation, and with tens of thousands of drops its
        likelihood pins b to the value that fits the approximation best, with intervals too narrow to hold the
        model's own error (benchmarks/README.md, "How sure b can be": at 100,000 users the intervals without labels
        covered 1 % of county-weeks, 98 % with this cap; on two regions of another seed, 30,000 and 100,000 users,
        where the likelihood's b is itself off, the cap widens them without covering more). The default, 2,000, is
        the most scored drops at which the full likelihood's intervals were seen to cover (a 10,000-person panel
        has about 2,200), rounded down. None counts every drop in full.
    job_loss_telework_slope : float
        gamma of :mod:`mobility.employment.adoption`: job losses per worker at risk fall with the teleworkability x
        of the work block group as ``1 - gamma x`` (0: job loss does not depend on it; 1: none at x = 1). Not
        identified by the data (the drops fit every gamma, and the evidence mixture's likelihood barely moves with
        it): an assumption the analyst states, from outside evidence on who lost jobs in the period. The default,
        0.83, is that evidence for Pennsylvania: the rise in unemployment of its 67 counties from February to April
        2020 (BLS LAUS) against the teleworkability of their jobs (LODES WAC with Dingel and Neiman's shares),
        :func:`mobility.census.job_loss_slope.job_loss_slope`, 95 % interval -0.03 to 1.38 (the states: 1.05);
        measure it for another state or period the same way. Only the label-free signal's priors read it (and the
        classifier through the signal's features). benchmarks/README.md, "Outside evidence for gamma and b" and
        "Block groups as varied as real ones", measures what it does.
    job_loss_telework_slope_low, job_loss_telework_slope_high : float
        The range of gamma the outside evidence allows (default 0 to 1: the Pennsylvania counties' 95 % interval,
        -0.03 to 1.38, within the parameter's 0..1), with ``low <= job_loss_telework_slope <= high``. In a run
        without a labelled panel (whose signal rates nothing recalibrates), the employment step runs the signal
        again at each end and gives the area table's point rates there
        (``rate_if_slope_low``, ``rate_if_slope_high``): the doubt about gamma, which no interval carries. Equal to
        ``job_loss_telework_slope``, an end is not run.
    hybrid_min_week_share : float
        Share of a drop's covered weeks with an on-site day that makes it a hybrid pattern
        (:mod:`mobility.employment.evidence`).
    evidence_bins : int
        Quantile bins of a drop's evidence score in the label-free mixture (:mod:`mobility.employment.evidence`).
    unemployed_probability_min : float
        ``p_unemployed`` at or above which a covered week inside a confirmed event is ``unemployed``.
    job_loss_dating : {"threshold", "drop_onset"}
        Which week dates a classifier job loss (its ``weeks_since_job_loss``, so
        :func:`mobility.employment.job_loss_weeks`): ``"threshold"`` (default) the first week of the confirmed
        run above ``unemployed_probability_min``; ``"drop_onset"`` the first week of the attendance drop (the
        signal's confirmed near-zero run) that holds that week, where there is one and it began earlier
        (:func:`mobility.employment.events.drop_onsets`). The statuses are the same under both.
    remote_adoption : float or None
        Remote workers per teleworkable job after the baseline, for the sector route's reference, when known;
        None takes the remote stock estimated from the drops (:mod:`mobility.employment.adoption`).
    min_cell_users : int
        Area cells with fewer users are suppressed (k-anonymity, method.md section 3).

    Examples
    --------
    >>> EmploymentParams().min_event_weeks
    3
    >>> EmploymentParams(zero_attendance_max=1.5)
    Traceback (most recent call last):
    ...
    mobility.errors.MobilityError: EmploymentParams: zero_attendance_max=1.5 must be a number in [0.0, 1.0]
    """

    baseline_start: str = "2020-01-06"
    baseline_end: str = "2020-02-29"
    work_start_h: float = 9.0
    work_end_h: float = 18.0
    min_day_observed_h: float = 1.0
    min_day_observed_share: float = 0.3
    min_weekdays_with_data: int = 2
    min_baseline_weeks: int = 2
    min_baseline_attendance: float = 0.3
    zero_attendance_max: float = 0.2
    min_event_weeks: int = 3
    adoption_window_weeks: int = 2
    remote_intercept_max: float = 1.0
    remote_intercept_prior_mean: float = 0.0
    remote_intercept_prior_sd: float = 0.0
    remote_intercept_point: str = "mean"
    remote_intercept_steps: int = 26
    intercept_evidence_drops: int | None = 2000
    job_loss_telework_slope: float = 0.83
    job_loss_telework_slope_low: float = 0.0
    job_loss_telework_slope_high: float = 1.0
    hybrid_min_week_share: float = 0.25
    evidence_bins: int = 5
    unemployed_probability_min: float = 0.5
    job_loss_dating: str = "threshold"
    remote_adoption: float | None = None
    min_cell_users: int = 10

    def __post_init__(self) -> None:
        own = "EmploymentParams"
        start = _check_date(own, self, "baseline_start")
        end = _check_date(own, self, "baseline_end")
        if end < start + pd.Timedelta(days=6):
            raise _bad(own, "baseline_end", self.baseline_end, "must be at least 6 days after baseline_start")
        _check_range(own, self, "work_start_h", 0.0, 23.0)
        _check_range(own, self, "work_end_h", 1.0, 24.0)
        if self.work_end_h <= self.work_start_h:
            raise _bad(own, "work_end_h", self.work_end_h, "must be after work_start_h")
        _check_range(own, self, "min_day_observed_h", 0.0, 24.0, lo_open=True)
        _check_range(own, self, "min_day_observed_share", 0.0, 1.0)
        _check_int(own, self, "min_weekdays_with_data", 1, 5)
        _check_int(own, self, "min_baseline_weeks", 1, 52)
        _check_range(own, self, "min_baseline_attendance", 0.0, 1.0, lo_open=True)
        _check_range(own, self, "zero_attendance_max", 0.0, 1.0)
        _check_int(own, self, "min_event_weeks", 1, 52)
        _check_int(own, self, "adoption_window_weeks", 0, 26)
        _check_range(own, self, "remote_intercept_max", 0.0, 5.0)
        _check_range(own, self, "remote_intercept_prior_mean", 0.0, 5.0)
        _check_range(own, self, "remote_intercept_prior_sd", 0.0, 5.0)
        _check_int(own, self, "remote_intercept_steps", 2, 101)
        _check_range(own, self, "job_loss_telework_slope", 0.0, 1.0)
        for end, lo, hi in (("job_loss_telework_slope_low", 0.0, self.job_loss_telework_slope),
                            ("job_loss_telework_slope_high", self.job_loss_telework_slope, 1.0)):
            value = getattr(self, end)
            if isinstance(value, bool) or not (isinstance(value, (int, float)) and lo <= value <= hi):
                raise _bad(own, end, value, f"must lie in [{lo:g}, {hi:g}]: job_loss_telework_slope_low <= "
                           f"job_loss_telework_slope ({self.job_loss_telework_slope:g}) <= "
                           "job_loss_telework_slope_high, within 0..1")
        if self.intercept_evidence_drops is not None:
            _check_int(own, self, "intercept_evidence_drops", 1, 10_000_000)
        _check_range(own, self, "hybrid_min_week_share", 0.0, 1.0, lo_open=True)
        _check_int(own, self, "evidence_bins", 1, 50)
        _check_range(own, self, "unemployed_probability_min", 0.0, 1.0, lo_open=True)
        if self.remote_intercept_point not in INTERCEPT_POINTS:
            raise _bad(own, "remote_intercept_point", self.remote_intercept_point,
                       f"must be one of {list(INTERCEPT_POINTS)}")
        if self.job_loss_dating not in JOB_LOSS_DATINGS:
            raise _bad(own, "job_loss_dating", self.job_loss_dating, f"must be one of {list(JOB_LOSS_DATINGS)}")
        if self.remote_adoption is not None:
            _check_range(own, self, "remote_adoption", 0.0, 1.0)
        _check_int(own, self, "min_cell_users", 1, 10_000)

    @property
    def remote_intercept_grid(self) -> np.ndarray:
        """The values of b the signal averages over: ``remote_intercept_max x (k / (steps - 1))**2``.

        Examples
        --------
        >>> EmploymentParams(remote_intercept_steps=3).remote_intercept_grid.tolist()
        [0.0, 0.25, 1.0]
        """
        return self.remote_intercept_max * np.linspace(0.0, 1.0, self.remote_intercept_steps) ** 2

    @property
    def baseline(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """``(baseline_start, baseline_end)`` as naive Timestamps."""
        return pd.Timestamp(self.baseline_start), pd.Timestamp(self.baseline_end)

    def to_dict(self) -> dict[str, Any]:
        """Plain values for manifests and ``attrs``."""
        return dataclasses.asdict(self)


CALIBRATIONS = ("isotonic", "sigmoid")


@dataclass(frozen=True)
class ClassifierParams:
    """Parameters of the LightGBM method (cross-fitting by user, calibration, LightGBM settings).

    Attributes
    ----------
    n_estimators, learning_rate, num_leaves, min_child_samples : LightGBM settings (small trees: a panel of
        ~1,000 workers holds ~100 job losers).
    seed : int
        Seeds the fold assignment, the calibration split, the subsampling and LightGBM (deterministic with
        ``num_threads`` fixed).
    num_threads : int
        LightGBM threads (fixed for reproducibility).
    n_folds : int
        K: labelled users are split into K folds; each fold is predicted by a model trained on the other
        K - 1 (cross-fitting by user), so no user's weeks are ever scored by a model that saw them.
    calibration_user_share : float
        Share of each model's training users held out of the trees to fit its probability calibration
        (never users of the fold it predicts).
    calibration : {"isotonic", "sigmoid"}
        Platt scaling (default) or isotonic regression of the raw LightGBM scores. Isotonic steps tie many
        scores on the few thousand calibration rows of a 1,000-user panel and cost up to 0.04 of out-of-fold
        AUC on the default synthetic region; Platt scaling keeps the ranking (calibration error 0.009-0.016
        either way).
    max_train_rows : int
        Each model's tree-training user-weeks are subsampled (seeded) to at most this many.
    max_calibration_rows : int
        Each model's calibration user-weeks are subsampled (seeded) to at most this many.

    Examples
    --------
    >>> ClassifierParams().n_folds
    5
    >>> ClassifierParams(n_folds=1)
    Traceback (most recent call last):
    ...
    mobility.errors.MobilityError: ClassifierParams: n_folds=1 must be an integer in [2, 50]
    """

    n_estimators: int = 100
    learning_rate: float = 0.1
    num_leaves: int = 7
    min_child_samples: int = 100
    seed: int = 0
    num_threads: int = 1
    n_folds: int = 5
    calibration_user_share: float = 0.25
    calibration: str = "sigmoid"
    max_train_rows: int = 100_000
    max_calibration_rows: int = 100_000

    def __post_init__(self) -> None:
        own = "ClassifierParams"
        _check_int(own, self, "n_estimators", 1, 10_000)
        _check_range(own, self, "learning_rate", 0.0, 1.0, lo_open=True)
        _check_int(own, self, "num_leaves", 2, 4096)
        _check_int(own, self, "min_child_samples", 1, 1_000_000)
        _check_int(own, self, "seed", 0, 2**31 - 1)
        _check_int(own, self, "num_threads", 1, 256)
        _check_int(own, self, "n_folds", 2, 50)
        _check_range(own, self, "calibration_user_share", 0.05, 0.5)
        if self.calibration not in CALIBRATIONS:
            raise _bad(own, "calibration", self.calibration, f"must be one of {CALIBRATIONS}")
        _check_int(own, self, "max_train_rows", 1_000, 100_000_000)
        _check_int(own, self, "max_calibration_rows", 1_000, 100_000_000)

    def to_dict(self) -> dict[str, Any]:
        """Plain values for manifests and ``attrs``."""
        return dataclasses.asdict(self)


RECALIBRATE = ("auto", "always", "never")
"""How much of the labels' recalibration of a method's probabilities the area step uses (:class:`AreaParams`)."""
CALIBRATION_STRATA = ("county", "pooled", None)
"""Where the area step's recalibration is also estimated apart: nowhere (pooled), or per home county."""


@dataclass(frozen=True)
class AreaParams:
    """Parameters of the area estimates (:mod:`mobility.employment.area`) and their bootstrap.

    Attributes
    ----------
    replicates : int
        Bootstrap replicates (Poisson(1) weights per user).
    seed : int
        Seeds the replicate weights, the latent statuses and the calibration folds.
    confidence : float
        Coverage of the percentile interval ``rate_low``..``rate_high``.
    replicate_chunk : int
        Most replicates computed at once (memory: about ``replicate_chunk x users x weeks x 16`` bytes);
        fewer where that passes ``replicate_memory_mb``.
    replicate_memory_mb : float
        Memory for the replicates computed at once: the chunk shrinks (to one replicate at least) where
        ``replicate_chunk x users x weeks x 16`` bytes would pass it (at 100,000 users x 39 weeks: 4 at a
        time instead of 10). The replicate draws then come in other chunks, so intervals differ by bootstrap
        noise from a run with larger chunks; below about 40,000 users x 39 weeks nothing changes. Per
        process: the pipeline runs the chunks in its worker processes, each holding one chunk at a time.
    max_fill_weeks : int
        An unobserved week of a worker takes the status of observed weeks at most this far away.
    calibration_bins, calibration_folds : int
        Probability bins and user folds of the out-of-fold recalibration (with a labelled panel).
    calibration_by_month : bool
        Recalibrate each calendar month on its own labelled weeks (calibration drifts as a shock unfolds).
    calibration_by_week : bool
        Recalibrate each week on its own labelled weeks where a week's bin has at least
        ``calibration_min_weeks`` of them (the other folds'), else the bin's shift in the week's month, else over
        all months: in the weeks of a shock, when remote starts and job losses begin together, calibration
        drifts inside a month. The shrinkage (``recalibrate = "auto"``) and the county offsets
        (``calibration_strata``) stay monthly. Measured (``benchmarks/README.md``): nothing moves at 1,000 users
        (a week's bin rarely has the labelled weeks: the month's shift), county-week coverage at 100,000 users
        0.83 -> 0.91 (classifier), 0.64 -> 0.91 (signal).
    calibrate_filled : bool
        Recalibrate the filled weeks (a silent week given its neighbours' probability, ``max_fill_weeks``) on
        their own bins, learnt from the labelled filled weeks, instead of with the observed weeks' shifts. The
        weeks next to a silence are not like the others: on the 10,000-user synthetic run a filled week's
        recalibrated probability was 13.4 % (signal) and 10.8 % (classifier) where the labels said 8.7 %, the
        observed weeks' 9.6 % / 9.4 % against 9.4 % (``benchmarks/README.md``). A filled bin with fewer than
        ``calibration_min_weeks`` labelled weeks in a month takes the filled weeks' shift over all months.
    calibration_min_weeks : float
        A month's bin with fewer labelled user-weeks (of the other folds) takes the bin's shift over all months.
    recalibrate : str
        ``"always"`` (default): the labels' recalibration shifts in full; ``"auto"``: each month's shifts
        shrunk toward none by an empirical-Bayes weight from the labelled users (a small labelled panel's
        gap is mostly its own sampling error; measured on the default region it helps the classifier with
        5-20 % of users labelled and hurts the signal and full panels, ``benchmarks/README.md``); ``"never"``: the method's own probabilities (the labels still give
        the labour-force share and ``status_corrected``).
    calibration_strata : str or None
        ``"county"`` (default): after the pooled recalibration, each home county's labelled user-weeks give the
        county's own remaining gap per month (out of fold), shrunk toward none by an empirical-Bayes weight
        whose prior variance is pooled over counties and months: for a county whose people differ from the
        pooled calibration in a way the probabilities do not see (:class:`mobility.employment.area._Calibration`).
        ``"pooled"`` (or None): pooled over places only. Measured with the filled weeks recalibrated and by week
        (``benchmarks/README.md``, "County strata as the default"): county-week MAE 1.40 -> 1.23 (default
        region), 2.32 -> 2.04 (hard), unchanged on seed 2, at 10,000 and 100,000 users and with labels for part
        of the users (one cell better), no region worse; before those two changes it made a county worse.
    latent_status : bool
        Draw each user's status from its probability in every replicate (the uncertainty of the person's
        status given the evidence); False resamples users only.
    max_weight_ratio : float
        Raking weights are trimmed to ``[mean / r, mean * r]`` within each county.
    trim_rounds : int
        Rake-and-trim rounds.
    min_users_per_category : float
        A census margin is raked to in a county only with at least this many users per category.
    panel_share : float or None
        The share f of an area's labour force the panel holds, which sets how much of the interval is
        sampling and how much each person's uncertain status (:mod:`mobility.employment.area`). None: the
        panel's users over the census total of the weights' margins (about 0 for a real panel; 0 without
        margins); 1: the panel is the population (a synthetic region whose truth counts the panel's people).
    min_youden : float
        The ``status_corrected`` estimator is given only where sensitivity + specificity - 1 reaches this
        (Rogan-Gladen divides by it).
    min_positives : float
        A week with fewer unemployed labels takes sensitivity and specificity pooled over the weeks.

    Examples
    --------
    >>> AreaParams().replicates
    200
    >>> AreaParams(confidence=1.5)
    Traceback (most recent call last):
    ...
    mobility.errors.MobilityError: AreaParams: confidence=1.5 must be a number in (0.5, 0.999]
    """

    replicates: int = 200
    seed: int = 0
    confidence: float = 0.95
    replicate_chunk: int = 10
    replicate_memory_mb: float = 256.0
    max_fill_weeks: int = 4
    calibration_bins: int = 20
    calibration_folds: int = 5
    calibration_by_month: bool = True
    calibration_by_week: bool = True
    calibrate_filled: bool = True
    calibration_min_weeks: float = 50.0
    recalibrate: str = "always"
    calibration_strata: str | None = "county"
    latent_status: bool = True
    max_weight_ratio: float = 5.0
    trim_rounds: int = 3
    min_users_per_category: float = 20.0
    panel_share: float | None = None
    min_youden: float = 0.5
    min_positives: float = 20.0

    def __post_init__(self) -> None:
        own = "AreaParams"
        _check_int(own, self, "replicates", 0, 100_000)
        _check_int(own, self, "seed", 0, 2**31 - 1)
        _check_range(own, self, "confidence", 0.5, 0.999, lo_open=True)
        _check_int(own, self, "replicate_chunk", 1, 10_000)
        _check_int(own, self, "max_fill_weeks", 0, 52)
        _check_int(own, self, "calibration_bins", 1, 1000)
        _check_int(own, self, "calibration_folds", 2, 50)
        if not isinstance(self.calibration_by_month, bool):
            raise _bad(own, "calibration_by_month", self.calibration_by_month, "must be true or false")
        if not isinstance(self.calibration_by_week, bool):
            raise _bad(own, "calibration_by_week", self.calibration_by_week, "must be true or false")
        if not isinstance(self.calibrate_filled, bool):
            raise _bad(own, "calibrate_filled", self.calibrate_filled, "must be true or false")
        _check_range(own, self, "calibration_min_weeks", 0.0, 1e9)
        _check_range(own, self, "replicate_memory_mb", 1.0, 1e7)
        if self.recalibrate not in RECALIBRATE:
            raise _bad(own, "recalibrate", self.recalibrate, f"must be one of {RECALIBRATE}")
        if self.calibration_strata not in CALIBRATION_STRATA:
            raise _bad(own, "calibration_strata", self.calibration_strata, f"must be one of {CALIBRATION_STRATA}")
        if not isinstance(self.latent_status, bool):
            raise _bad(own, "latent_status", self.latent_status, "must be true or false")
        _check_range(own, self, "max_weight_ratio", 1.0, 1000.0)
        _check_int(own, self, "trim_rounds", 0, 100)
        _check_range(own, self, "min_users_per_category", 0.0, 1e6)
        if self.panel_share is not None:
            _check_range(own, self, "panel_share", 0.0, 1.0)
        _check_range(own, self, "min_youden", 0.0, 1.0)
        _check_range(own, self, "min_positives", 0.0, 1e9)

    def to_dict(self) -> dict[str, Any]:
        """Plain values for manifests and ``attrs``."""
        return dataclasses.asdict(self)
