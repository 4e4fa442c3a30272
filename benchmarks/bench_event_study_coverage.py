"""Coverage and pre-trend tests of the event-study estimators over many simulated panels.

Two worlds, each over ``--seeds`` panels of ``--users`` people x ``--weeks`` weeks (tests/longitudinal/panels.py:
person and week effects, AR(1) errors, 40% lose their job in staggered weeks, 5% of rows missing):

* ``cohort``: effects that grow with weeks since the loss and differ by cohort (the earliest cohort 1.8x the
  planted path, the latest 0.2x), larger for a "vulnerable" half; nobody anticipates a loss;
* ``placebo``: every effect 0.

For each estimator (``twfe``; ``sun_abraham`` with never-losers or not-yet-losers as controls) it prints the share
of 95% intervals covering the true effect of their term (the mean planted effect over the term's person-weeks;
0 for leads), the share of pre-trend tests rejecting at 5% and 1% (and a Kolmogorov-Smirnov p-value of their
p-values against the uniform), the mean error of the first (binned) lead and of the lags, the DiD summary's
coverage and error, and the ratio of mean standard error to the spread of the estimates (1: honest).

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
     [--htz] [--only sun_abraham/never,sun_abraham/never/cr1]
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
              "sun_abraham/not_yet/cr1": {"control_group": "not_yet", "vcov": "cr1"}}
WALD = {"sun_abraham/never/wald": {"pretrend_test": "wald"}}
HTZ = {"sun_abraham/never/htz": {"pretrend_test": "htz"}}
WINDOW = (-4, 8)


def one(panel: pd.DataFrame, kwargs: dict) -> dict:
    res = event_study(panel, "y", window=WINDOW, min_users=1, **kwargs)
    c = res.coefficients[~res.coefficients.reference]
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
            "did_se": did.std_error, "cov_leads": cov_all[is_lead].mean(), "cov_post": cov_all[is_post].mean(),
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
    args = parser.parse_args()
    estimators = {**ESTIMATORS, **(WALD if args.wald else {}), **(HTZ if args.htz else {})}
    if args.only:
        estimators = {k: v for k, v in estimators.items() if k in args.only.split(",")}
    rows = []
    t0, c0 = time.perf_counter(), time.process_time()
    for world, options in {"cohort": {"cohort_slope": 0.8}, "placebo": {"effect": False}}.items():
        for seed in range(args.seeds):
            panel = simulate_panel(1000 + seed, n_users=args.users, n_weeks=args.weeks, share_losers=args.share,
                                   **options)
            for name, kwargs in estimators.items():
                rows.append({"world": world, "estimator": name, "seed": seed, **one(panel, kwargs)})
    d = pd.DataFrame(rows)
    out = d.groupby(["world", "estimator"], sort=False).agg(
        coverage=("coverage", "mean"), pretrend_reject_5=("pre_p", lambda p: (p < 0.05).mean()),
        pretrend_reject_1=("pre_p", lambda p: (p < 0.01).mean()), first_lead_error=("lead_error", "mean"),
        lag_error=("lag_error", "mean"), did_coverage=("did_covered", "mean"), did_error=("did_error", "mean"),
        cov_leads=("cov_leads", "mean"), cov_post=("cov_post", "mean"), cov_leads_tG1=("cov_leads_tG1", "mean"),
        cov_post_tG1=("cov_post_tG1", "mean"), df_leads=("df_leads", "mean"), df_post=("df_post", "mean"),
        pre_df_den=("pre_df_den", "mean"))
    spread = d.groupby(["world", "estimator"], sort=False)
    out["lead_se/sd"] = spread["lead_se"].mean() / spread["lead_error"].std()
    out["did_se/sd"] = spread["did_se"].mean() / spread["did_error"].std()
    out["pretrend_p_ks"] = spread["pre_p"].apply(lambda p: stats.kstest(p, "uniform").pvalue)
    pd.set_option("display.width", 200)
    print(f"{args.seeds} seeds x 2 worlds, {args.users} users x {args.weeks} weeks, {args.share:.0%} losers, window {WINDOW}, "
          f"{time.perf_counter() - t0:.0f} s wall, {time.process_time() - c0:.0f} s CPU")
    print(out.round(3).to_string())
    if args.csv:
        d.to_csv(args.csv, index=False)


if __name__ == "__main__":
    main()
