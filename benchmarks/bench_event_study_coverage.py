"""Coverage and pre-trend tests of the event-study estimators over many simulated panels.

Worlds (``--worlds``), each over ``--seeds`` panels of ``--users`` people x ``--weeks`` weeks
(tests/longitudinal/panels.py: person and week effects, AR(1) errors, 40% lose their job in staggered weeks, 5% of
rows missing):

* ``cohort``: effects that grow with weeks since the loss and differ by cohort (the earliest cohort 1.8x the
  planted path, the latest 0.2x), larger for a "vulnerable" half; nobody anticipates a loss;
* ``placebo``: every effect 0;
* ``shock``: the ``cohort`` panels (same seeds, same planted effects) where, from calendar week ``--shock-week``
  (default 8, 2020-03-02: after the first two loss weeks, before most losses) on, a random half of the
  never-losers drop by ``--shock`` times the planted base effect (default 2.0 x 0.5 = 1.0 outcome units; a
  remote-work shock) while every job loser's untreated path keeps the common trend: parallel trends fail
  against never-losers and hold against later losers;
* ``anticipation`` (not in the default ``--worlds``): the ``cohort`` panels where every job loser's outcome drops by
  ``--anticipation`` times the planted base effect (default 1.0 x 0.5) in the ``--anticipation-weeks`` (default 2)
  weeks before the loss: a pre-trend of the losers themselves, which each comparison's pre-trend test should
  find (its rejection rate is the test's power; coverage there is against the planted post effects and 0 leads,
  which this world violates on purpose).

For each estimator (``twfe``; ``sun_abraham`` with never-losers, not-yet-losers or, ``later``, only later losers
as controls) it prints the share of 95% intervals covering the true effect of their term (the mean planted effect
over the term's person-weeks that the fit uses, :func:`fitted_rows`; 0 for leads), the share of pre-trend tests
rejecting at 5% and 1% (and a Kolmogorov-Smirnov p-value of their p-values against the uniform), the mean error of
the first (binned) lead and of the lags, the DiD summary's coverage and error, the ratio of mean standard error
to the spread of the estimates (1: honest) and the post terms' mean standard error and interval width.

With ``later`` controls the losers' treated weeks in calendar weeks after the last loss have no comparison and
the fit drops them (as it drops any unidentified cell row), so a term's truth is averaged over the rows the fit
keeps: for Sun-Abraham :func:`fitted_rows` repeats the estimator's row rules (cohorts without an anchor week
dropped, cell rows in a week without an untreated row dropped) and checks its count against the fit's
``info["n_obs"]``; TWFE's truth stays over every loser's person-week, as before.

Each estimator runs with the default covariance (``vcov="cr2"``, leverage-adjusted) and, as ``.../cr1``, with
the plain CR1 sandwich; ``sun_abraham/never/wald`` (with ``--wald``) is the default estimator with the pre-trend
test's covariance from the full fit's residuals (``pretrend_test="wald"``) instead of the residuals with the null
imposed (the default ``"score"``); ``sun_abraham/never/htz`` (with ``--htz``) the HTZ form (``pretrend_test="htz"``:
the CR2 Wald statistic against Pustejovsky & Tipton's Hotelling T^2 approximation). ``--share 0.08 --users 650
--weeks 39`` is the default synthetic region's regime (50 losers over 30 weeks); ``--share 0.023`` and ``0.046``
with 650 users give about 15 and 30 losers (the per-group tests of the default region).

Coverage is also split into the leads (``k < 0``, reference excluded) and the post terms (``k >= 0``), with the
reported intervals (under CR2: t with each term's Satterthwaite df) and, as ``*_tG1``, with t(G - 1) on the same
standard errors (the intervals before the Satterthwaite df); ``df_leads`` / ``df_post`` are the mean df of those
terms and ``pre_df_den`` the mean denominator df of the pre-trend test. The DiD summary is the one of the event study's own fit (``did`` of the result,
what :func:`~mobility.longitudinal.did.did_summary` returns).

Run: python benchmarks/bench_event_study_coverage.py [--seeds 30] [--users 600] [--weeks 26] [--share 0.4] [--wald]
     [--htz] [--only sun_abraham/never,sun_abraham/never/cr1] [--worlds cohort,placebo,shock] [--shock 2.0]
     [--shock-week 8] [--anticipation 1.0] [--anticipation-weeks 2]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from longitudinal.panels import simulate_panel, term_truth  # noqa: E402

from mobility.longitudinal import event_study  # noqa: E402

ESTIMATORS = {"twfe": {"estimator": "twfe"}, "twfe/cr1": {"estimator": "twfe", "vcov": "cr1"},
              "sun_abraham/never": {}, "sun_abraham/never/cr1": {"vcov": "cr1"},
              "sun_abraham/not_yet": {"control_group": "not_yet"},
              "sun_abraham/not_yet/cr1": {"control_group": "not_yet", "vcov": "cr1"},
              "sun_abraham/later": {"control_group": "later"},
              "sun_abraham/later/cr1": {"control_group": "later", "vcov": "cr1"}}
WALD = {"sun_abraham/never/wald": {"pretrend_test": "wald"}}
HTZ = {"sun_abraham/never/htz": {"pretrend_test": "htz"}}
WINDOW = (-4, 8)
REFERENCE = -1
PLANTED_BASE = 0.5  # |true_effect(0, vulnerable=False)| in tests/longitudinal/panels.py: the shock's unit


def add_shock(panel: pd.DataFrame, seed: int, *, size: float, week: int) -> pd.DataFrame:
    """``panel`` with a random half of its never-losers (drawn from ``seed``) lowered by ``size`` x the planted
    base effect from the panel's ``week``-th calendar week (0-based) on; losers and ``true_effect`` unchanged."""
    rng = np.random.default_rng([seed, 7])
    never = np.sort(panel.loc[panel.job_loss_week.isna(), "user_id"].unique())
    hit = never[rng.random(never.size) < 0.5]
    start = panel.week.min() + pd.Timedelta(weeks=week)
    moved = panel.user_id.isin(hit) & (panel.week >= start)
    return panel.assign(y=panel.y - np.where(moved, size * PLANTED_BASE, 0.0))


def add_anticipation(panel: pd.DataFrame, *, size: float, weeks: int) -> pd.DataFrame:
    """``panel`` with every job loser's outcome lowered by ``size`` x the planted base effect in the ``weeks``
    weeks before their loss (event weeks ``-weeks .. -1``); ``true_effect`` (the post-loss truth) unchanged."""
    k = (panel.week - panel.job_loss_week).dt.days // 7
    before = k.between(-weeks, -1).to_numpy()
    return panel.assign(y=panel.y - np.where(before, size * PLANTED_BASE, 0.0))


def fitted_rows(panel: pd.DataFrame, kwargs: dict) -> np.ndarray:
    """The rows of ``panel`` that the Sun-Abraham fit of ``kwargs`` keeps (no groups, binned endpoints).

    The estimator's rules, written out (``estimators.SunAbraham.cells`` and ``_identified``): with ``later`` only
    losers; a cell row is a loser's week other than the reference (``never``) or at or after the loss
    (``not_yet``, ``later``); a cohort without an anchor row (its reference week, or any week before the loss)
    is dropped; a cell row in a calendar week where no kept row is untreated is dropped (with ``later``: the
    weeks from the last loss on).
    """
    control = kwargs.get("control_group", "never")
    loser = panel.job_loss_week.notna().to_numpy()
    k = ((panel.week - panel.job_loss_week).dt.days // 7).to_numpy()
    keep = loser | (control != "later")
    if control == "never":
        cell, anchor = loser & (k != REFERENCE), loser & (k == REFERENCE)
    else:
        cell, anchor = loser & (k >= 0), loser & (k < 0)
    anchored = panel.job_loss_week[keep & anchor].unique()
    keep &= ~loser | panel.job_loss_week.isin(anchored).to_numpy()
    untreated_weeks = panel.week[keep & ~cell].unique()
    keep &= ~cell | panel.week.isin(untreated_weeks).to_numpy()
    return keep


def one(panel: pd.DataFrame, kwargs: dict) -> dict:
    res = event_study(panel, "y", window=WINDOW, min_users=1, **kwargs)
    c = res.coefficients[~res.coefficients.reference]
    if kwargs.get("estimator", "sun_abraham") == "sun_abraham":  # the truth over the rows the fit uses
        rows = fitted_rows(panel, kwargs)
        if rows.sum() != res.info["n_obs"]:
            raise AssertionError(f"fitted_rows keeps {rows.sum()} rows, the fit {res.info['n_obs']} ({kwargs})")
        panel = panel[rows]
    truth = np.where(c.event_time < 0, 0.0, term_truth(panel, c, window=WINDOW))
    covered = (c.ci_low <= truth) & (truth <= c.ci_high)
    half = stats.t.ppf(0.975, panel.user_id.nunique() - 1) * c.std_error  # t(G - 1) on the same standard errors
    covered_g1 = ((c.estimate - half <= truth) & (truth <= c.estimate + half)).to_numpy()
    is_lead, is_post = (c.event_time < 0).to_numpy(), (c.event_time >= 0).to_numpy()
    cov_all = covered.to_numpy()
    k = (panel.week - panel.job_loss_week).dt.days // 7
    post = panel[k.between(0, WINDOW[1])]
    did = res.did.iloc[0]  # from the same fit: what did_summary returns
    did_truth = post.true_effect.mean()
    return {"coverage": covered.mean(), "n_terms": len(c), "pre_p": res.pretrend.p_value.iloc[0],
            "lead_error": c.estimate.iloc[0] - truth[0], "lead_se": c.std_error.iloc[0],
            "lag_error": (c.estimate - truth)[c.event_time >= 0].mean(),
            "did_covered": did.ci_low <= did_truth <= did.ci_high, "did_error": did.estimate - did_truth,
            "did_se": did.std_error, "post_se": c.std_error[c.event_time >= 0].mean(),
            "post_ci_width": (c.ci_high - c.ci_low)[c.event_time >= 0].mean(),
            "cov_leads": cov_all[is_lead].mean(), "cov_post": cov_all[is_post].mean(),
            "cov_leads_tG1": covered_g1[is_lead].mean(), "cov_post_tG1": covered_g1[is_post].mean(),
            "df_leads": c.df.to_numpy()[is_lead].mean(), "df_post": c.df.to_numpy()[is_post].mean(), "pre_df_den": res.pretrend.df_den.iloc[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--users", type=int, default=600)
    parser.add_argument("--weeks", type=int, default=26)
    parser.add_argument("--share", type=float, default=0.4, help="share of people who lose their job")
    parser.add_argument("--wald", action="store_true", help="also the Wald form of the pre-trend test")
    parser.add_argument("--csv", default=None, help="write the per-seed rows here")
    parser.add_argument("--htz", action="store_true", help="also the HTZ form of the pre-trend test (CR2)")
    parser.add_argument("--only", default=None, help="comma-separated estimator names to run (default: all)")
    parser.add_argument("--worlds", default="cohort,placebo,shock", help="comma-separated worlds to simulate")
    parser.add_argument("--shock", type=float, default=2.0,
                        help="world shock: the hit never-losers' drop, in planted base effects (0.5 outcome units)")
    parser.add_argument("--shock-week", type=int, default=8, help="world shock: the 0-based calendar week it starts")
    parser.add_argument("--anticipation", type=float, default=1.0,
                        help="world anticipation: the losers' drop before their loss, in planted base effects")
    parser.add_argument("--anticipation-weeks", type=int, default=2,
                        help="world anticipation: how many weeks before the loss the drop starts")
    args = parser.parse_args()
    estimators = {**ESTIMATORS, **(WALD if args.wald else {}), **(HTZ if args.htz else {})}
    if args.only:
        estimators = {k: v for k, v in estimators.items() if k in args.only.split(",")}
    rows = []
    t0, c0 = time.perf_counter(), time.process_time()
    worlds = {"cohort": {"cohort_slope": 0.8}, "placebo": {"effect": False}, "shock": {"cohort_slope": 0.8},
              "anticipation": {"cohort_slope": 0.8}}
    worlds = {w: worlds[w] for w in args.worlds.split(",")}
    for world, options in worlds.items():
        for seed in range(args.seeds):
            panel = simulate_panel(1000 + seed, n_users=args.users, n_weeks=args.weeks, share_losers=args.share,
                                   **options)
            if world == "shock":
                panel = add_shock(panel, 1000 + seed, size=args.shock, week=args.shock_week)
            if world == "anticipation":
                panel = add_anticipation(panel, size=args.anticipation, weeks=args.anticipation_weeks)
            for name, kwargs in estimators.items():
                rows.append({"world": world, "estimator": name, "seed": seed, **one(panel, kwargs)})
    d = pd.DataFrame(rows)
    out = d.groupby(["world", "estimator"], sort=False).agg(
        coverage=("coverage", "mean"), pretrend_reject_5=("pre_p", lambda p: (p < 0.05).mean()),
        pretrend_reject_1=("pre_p", lambda p: (p < 0.01).mean()), first_lead_error=("lead_error", "mean"),
        lag_error=("lag_error", "mean"), did_coverage=("did_covered", "mean"), did_error=("did_error", "mean"),
        cov_leads=("cov_leads", "mean"), cov_post=("cov_post", "mean"), cov_leads_tG1=("cov_leads_tG1", "mean"),
        cov_post_tG1=("cov_post_tG1", "mean"), df_leads=("df_leads", "mean"), df_post=("df_post", "mean"),
        pre_df_den=("pre_df_den", "mean"), post_se=("post_se", "mean"), post_ci_width=("post_ci_width", "mean"))
    spread = d.groupby(["world", "estimator"], sort=False)
    out["lead_se/sd"] = spread["lead_se"].mean() / spread["lead_error"].std()
    out["did_se/sd"] = spread["did_se"].mean() / spread["did_error"].std()
    out["pretrend_p_ks"] = spread["pre_p"].apply(lambda p: stats.kstest(p, "uniform").pvalue)
    pd.set_option("display.width", 200)
    print(f"{args.seeds} seeds x {len(worlds)} worlds ({args.worlds}; shock {args.shock:g} x {PLANTED_BASE} from week "
          f"{args.shock_week}), {args.users} users x {args.weeks} weeks, {args.share:.0%} losers, window {WINDOW}, "
          f"{time.perf_counter() - t0:.0f} s wall, {time.process_time() - c0:.0f} s CPU")
    print(out.round(3).to_string())
    if args.csv:
        d.to_csv(args.csv, index=False)


if __name__ == "__main__":
    main()
