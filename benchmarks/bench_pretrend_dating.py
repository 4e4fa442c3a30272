"""Where the pre-trends of a pipeline run's event study come from: dating, false losers, the test itself.

For one pipeline run and the synthetic region it ran on (its truth), it prints the joint pre-trend p-value of
every default outcome metric (Sun-Abraham against never-losers, window (-4, 12), binned endpoints; the score
form of the test unless ``--wald`` or ``--htz``) for:

* the run as the pipeline estimates it (its workers, detected stops, the classifier's dates), the signal's
  dates, and the TRUE dates (``truth/weekly_status``) on the same metrics; TRUE stops with true dates;
* the classifier's job losers split against the truth: true losers dated right (+-1 week), dated late or
  early, and false losers (no job loss in the truth; the truth's status in the dated week), each group left
  out in turn, and each alone as the treated (with every worker not dated a loss as control);
* true dates for the detected true losers only, and for the missed ones only (selection against dating);
* two remedies on observable data: treated people must attend their workplace (``time_at_work_h > 0``) in
  one of the ``L`` weeks before their loss; treated people whose mean probability of unemployment over the
  first 4 weeks of their loss is below a threshold are left out (ambiguous dating).

Every fit uses ``--controls`` (the comparison group: the event study's default, never-losers; ``later``: later
losers only) and ``--vcov`` (default: the event study's default, ``"cr2"``). ``--compare`` prints instead, for
the classifier's, the signal's and the true dates, one row per metric: the score test's p under CR1 and CR2, the
Wald test's p under CR2 and CR1, the HTZ test's p and denominator df under CR2, and the mean standard error of
the post-period terms (``k >= 0``, unsuppressed) under CR1 and CR2 with their mean ratio; ``--csv`` writes
those rows.

``--lags`` prints instead the classifier's dates against the true ones (early, exact, late by 1, 2, 3+ weeks; per
kind of loser: commuter, remote or hybrid before the loss, false) and the event study with the pipeline's and the
true dates, per kind, and after the synthetic shock; ``--onset`` both ``EmploymentParams.job_loss_dating`` rules
on the run (its signal recomputed from its visits, its stored probabilities re-dated): scores against the truth,
dates, event study.

Usage::

    python benchmarks/bench_pretrend_dating.py --run RUN_DIR --region REGION_DIR [--wald | --htz] [--vcov cr1]
    python benchmarks/bench_pretrend_dating.py --run RUN_DIR --region REGION_DIR --compare [--csv OUT.csv]
    python benchmarks/bench_pretrend_dating.py --run RUN_DIR --region REGION_DIR --lags | --onset
    python benchmarks/bench_pretrend_dating.py --users 1000 --seed 2   # generate a region and run the pipeline
                                                                       # (its stages up to employment)
"""

from __future__ import annotations

import argparse
import atexit
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import mobility
import mobility.synthetic
from mobility.employment import job_loss_weeks
from mobility.longitudinal import event_study, job_loss_panel
from mobility.errors import MobilityError
from mobility.longitudinal.params import CONTROL_GROUPS, DEFAULT_METRICS, VCOV_TYPES, EventStudyParams
from mobility.metrics import weekly_metrics

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_planted_effects import TIMEZONE, run_pipeline_on, true_labels  # noqa: E402

CONTROLS = EventStudyParams.control_group
"""The event studies' comparison group (``--controls``): never-losers by default, or ``later`` losers."""
SHORT = {"radius_of_gyration_km": "rg", "uncorrelated_entropy_bits": "ent", "new_locations": "new",
         "exploration_rate": "expl", "distinct_locations": "dist", "capacity": "cap", "time_at_home_h": "home"}


def short(metric: str) -> str:
    stem = metric.removesuffix("_nonwork")
    return SHORT[stem] + ("_nw" if stem != metric else "")


def with_dates(panel: pd.DataFrame, loss: pd.Series) -> pd.DataFrame:
    out = panel.drop(columns="job_loss_week").merge(loss.rename("job_loss_week"), left_on="user_id",
                                                    right_index=True, how="left")
    out["job_loss_week"] = pd.to_datetime(out["job_loss_week"]).astype("datetime64[ns]")
    return out


def compare(datings: dict[str, pd.DataFrame], metrics: list[str]) -> pd.DataFrame:
    """Pre-trend p-values (score and Wald) and post-period standard errors under CR1 and CR2, per dating.

    Parameters
    ----------
    datings : dict of str to DataFrame
        Name of the dating -> the job-loss panel with its dates.
    metrics : list of str
        Outcome columns.

    Returns
    -------
    DataFrame
        One row per dating and metric: ``score_p_cr1``, ``score_p_cr2``, ``wald_p_cr2``, ``wald_p_cr1``,
        ``htz_p_cr2`` and ``htz_df_den`` (the HTZ form under CR2 and its denominator df),
        ``post_se_cr1``, ``post_se_cr2`` (mean standard error of the unsuppressed terms with ``k >= 0``) and
        ``post_se_ratio`` (mean over those terms of CR2's standard error over CR1's), ``n_post_terms``,
        ``post_df_cr2`` (their mean Satterthwaite df).
    """
    rows = []
    for name, panel in datings.items():
        t0 = time.process_time()
        try:
            fits = {(vcov, test): event_study(panel, metrics, vcov=vcov, pretrend_test=test, control_group=CONTROLS)
                    for vcov in ("cr1", "cr2") for test in ("score", "wald", "htz") if (vcov, test) != ("cr1", "htz")}
        except MobilityError as exc:  # a tiny run (the smoke test) may have no loser or control in a panel
            print(f"{name} dates: not estimable: {exc}")
            continue
        n_treated = int(panel.drop_duplicates("user_id")["job_loss_week"].notna().sum())
        print(f"{name} dates: {n_treated} losers of {panel['user_id'].nunique()} (5 fits, "
              f"{time.process_time() - t0:.1f} CPU s)")
        print(f"{'metric':36s} {'score p cr1':>11s} {'score p cr2':>11s} {'wald p cr2':>10s} {'wald p cr1':>10s} "
              f"{'htz p cr2':>9s} {'htz df':>6s} {'post SE cr1':>11s} {'post SE cr2':>11s} {'ratio':>6s} "
              f"{'post df':>7s}")
        se = {}
        for vcov in ("cr1", "cr2"):
            c = fits[(vcov, "score")].coefficients
            post = c[(c["event_time"] >= 0) & ~c["suppressed"] & ~c["reference"]]
            se[vcov] = {m: post.loc[post["metric"] == m].set_index("event_time")["std_error"] for m in metrics}
        pt = {key: fit.pretrend.set_index("metric")["p_value"] for key, fit in fits.items()}
        htz_df = fits[("cr2", "htz")].pretrend.set_index("metric")["df_den"]
        c2 = fits[("cr2", "score")].coefficients
        post_df = c2[(c2["event_time"] >= 0) & ~c2["suppressed"] & ~c2["reference"]].groupby("metric")["df"].mean()
        moved = (fits[("cr2", "score")].coefficients["estimate"] - fits[("cr1", "score")].coefficients["estimate"])
        print(f"  estimates CR2 - CR1: largest |difference| {moved.abs().max():.1e} (the covariance only moves SEs)")
        for m in metrics:
            ratio = (se["cr2"][m] / se["cr1"][m]).dropna()  # empty where every post term is suppressed
            row = {"dating": name, "metric": m, "n_losers": n_treated,
                   "score_p_cr1": pt[("cr1", "score")][m], "score_p_cr2": pt[("cr2", "score")][m],
                   "wald_p_cr2": pt[("cr2", "wald")][m], "wald_p_cr1": pt[("cr1", "wald")][m],
                   "post_se_cr1": se["cr1"][m].mean(), "post_se_cr2": se["cr2"][m].mean(),
                   "post_se_ratio": ratio.mean(), "n_post_terms": int(ratio.size),
                   "htz_p_cr2": pt[("cr2", "htz")][m], "htz_df_den": htz_df[m], "post_df_cr2": post_df.get(m, np.nan)}
            rows.append(row)
            print(f"{m:36s} {row['score_p_cr1']:11.2g} {row['score_p_cr2']:11.2g} {row['wald_p_cr2']:10.2g} "
                  f"{row['wald_p_cr1']:10.2g} {row['htz_p_cr2']:9.2g} {row['htz_df_den']:6.1f} "
                  f"{row['post_se_cr1']:11.4g} {row['post_se_cr2']:11.4g} {row['post_se_ratio']:6.3f} "
                  f"{row['post_df_cr2']:7.1f}", flush=True)
        out = pd.DataFrame([r for r in rows if r["dating"] == name])
        print(f"  at p < 0.01: score cr2 {int((out['score_p_cr2'] < 0.01).sum())}, wald cr2 "
              f"{int((out['wald_p_cr2'] < 0.01).sum())}, wald cr1 {int((out['wald_p_cr1'] < 0.01).sum())}, htz cr2 "
              f"{int((out['htz_p_cr2'] < 0.01).sum())}; smallest score cr2 {out['score_p_cr2'].min():.2g}, "
              f"wald cr2 {out['wald_p_cr2'].min():.2g}, htz cr2 {out['htz_p_cr2'].min():.2g}")
    return pd.DataFrame(rows)


def group_tests(run: Path, met: pd.DataFrame, emp: pd.DataFrame, wf: pd.DataFrame) -> None:
    """Print how many of the pipeline's pre-trend tests (pooled and per group: ``longitudinal_study`` with every
    default but ``vcov`` and ``pretrend_test``) have p < 0.01 and p < 0.05, for three settings."""
    import matplotlib.pyplot as plt

    from mobility.longitudinal import LongitudinalParams, longitudinal_study
    from mobility.pipeline.stages import classifier_features

    features = classifier_features(run)
    for vcov, test in (("cr2", "score"), ("cr2", "wald"), ("cr2", "htz"), ("cr1", "wald")):
        t0 = time.process_time()
        res = longitudinal_study(met, emp, wf, params=LongitudinalParams(vcov=vcov, pretrend_test=test,
                                                                         control_group=CONTROLS),
                                 timezone=TIMEZONE, classifier_features=features)
        plt.close("all")
        if "skipped" in res.manifest:  # a tiny run (the smoke test): too few losers for any event study
            print(f"longitudinal_study {vcov} / {test}: skipped ({res.manifest['skipped']})")
            continue
        pre = res.tables["pretrend"].dropna(subset=["p_value"])
        groups = pre[pre["dimension"] != "all"]
        print(f"longitudinal_study {vcov} / {test} ({res.manifest['dating']['method']} dates, "
              f"{time.process_time() - t0:.0f} CPU s): pooled {int((pre['dimension'] == 'all').sum())} tests, "
              f"{int((pre.loc[pre['dimension'] == 'all', 'p_value'] < 0.01).sum())} at p < 0.01; groups "
              f"{len(groups)} tests, {int((groups['p_value'] < 0.01).sum())} at p < 0.01, "
              f"{int((groups['p_value'] < 0.05).sum())} at p < 0.05, smallest {groups['p_value'].min():.2g}",
              flush=True)


SHOCK_WEEK, LATE_LOSS_WEEK = pd.Timestamp("2020-03-16"), pd.Timestamp("2020-04-13")
LEADS_SHOWN = ("radius_of_gyration_km", "time_at_home_h")


def post_shock(panel: pd.DataFrame) -> pd.DataFrame:
    """The panel's weeks from the synthetic shock (2020-03-16) on, treated losing from 2020-04-13 (so that event
    weeks -4..-1 all follow the shock); the other treated are left out. A diagnosis, not a method."""
    panel = panel[panel["week"] >= SHOCK_WEEK]
    return panel[panel["job_loss_week"].isna() | (panel["job_loss_week"] >= LATE_LOSS_WEEK)]


def lead_line(panel: pd.DataFrame, label: str, metrics: list[str]) -> pd.Series:
    """Print the score test's p per metric (CR2) and the leads of the radius and time at home; return the p."""
    t0 = time.process_time()
    res = event_study(panel, metrics, control_group=CONTROLS)
    pt = res.pretrend.set_index("metric")["p_value"]
    c = res.coefficients
    n_treated = int(panel.drop_duplicates("user_id")["job_loss_week"].notna().sum())
    print(f"{label:60s} T={n_treated:5d} n={panel['user_id'].nunique():6d} #p<.01={int((pt < 0.01).sum()):2d} "
          f"min {pt.min():.0e} | " + " ".join(f"{short(m)} {pt[m]:.0e}" for m in metrics)
          + f" ({time.process_time() - t0:.0f} CPU s)")
    for m in LEADS_SHOWN:
        e = c[c["metric"] == m].set_index("event_time")["estimate"]
        print(f"    {short(m):4s} k<=-4, -3, -2: {e.get(-4, np.nan):+.3f} {e.get(-3, np.nan):+.3f} "
              f"{e.get(-2, np.nan):+.3f}; k=0 {e.get(0, np.nan):+.3f}", flush=True)
    return pt


def lag_counts(lag: pd.Series) -> str:
    """``(pipeline - true)`` in weeks: counts early, exact, late by 1, 2, 3+."""
    lag = lag.dropna().astype(int)
    return (f"n {len(lag)}: early {int((lag < 0).sum())}, exact {int((lag == 0).sum())}, late 1 {int((lag == 1).sum())}, "
            f"late 2 {int((lag == 2).sum())}, late 3+ {int((lag >= 3).sum())}; within +-1 {np.mean(lag.abs() <= 1):.3f}")


def kinds_of_losers(det: pd.Series, true_loss: pd.Series, status: pd.DataFrame) -> pd.DataFrame:
    """Each dated loser's true date, lag and kind: ``false`` (no true loss), ``remote_before`` / ``hybrid_before``
    (a remote week, with or without a day on site, in the 4 weeks before the true loss), ``commuter``."""
    d = pd.DataFrame({"det": det}).join(true_loss.rename("true"))
    d["lag"] = (d["det"] - d["true"]).dt.days // 7
    s = status.merge(true_loss.rename("loss"), left_on="user_id", right_index=True)
    k = (s["week"] - s["loss"]).dt.days // 7
    pre = s[k.between(-4, -1)]
    remote = set(pre.loc[pre["status"] == "remote", "user_id"])
    hybrid = set(pre.loc[pre["hybrid"], "user_id"]) if "hybrid" in pre else set()
    d["kind"] = np.where(d["true"].isna(), "false", np.where(d.index.isin(hybrid), "hybrid_before",
                         np.where(d.index.isin(remote), "remote_before", "commuter")))
    return d


def lags(run: Path, region: Path, metrics: list[str]) -> None:
    """Diagnosis with the truth: the classifier's dates against the true ones, and the event study with both."""
    truth_status = pd.read_parquet(region / "truth" / "weekly_status.parquet")
    met = mobility.read_table(run, "metrics_weekly")
    emp = mobility.read_table(run, "employment_weekly")
    wf = mobility.read_table(run, "worker_features")
    workers = set(wf.loc[wf["work_cbg"].notna(), "user_id"])
    base = job_loss_panel(met, emp, workers, method="classifier", timezone=TIMEZONE)
    del met
    true_loss = job_loss_weeks(truth_status)
    true_workers = true_loss[true_loss.index.isin(workers)]
    det = job_loss_weeks(emp, "classifier")
    d = kinds_of_losers(det[det.index.isin(workers)], true_loss, truth_status)
    print(f"workers {len(workers)}, dated losers {len(d)} ({d['kind'].value_counts().to_dict()}); true losers "
          f"among workers {len(true_workers)}")
    print(f"classifier date - true date, found true losers: {lag_counts(d['lag'])}")
    for kind, g in d[d["kind"] != "false"].groupby("kind"):
        print(f"  {kind}: {lag_counts(g['lag'])}")
    false = set(d.index[d["kind"] == "false"])
    found = d["true"].dropna()
    rows = [("(a) classifier dates (the pipeline)", base),
            ("(a') classifier dates, its false losers left out", base[~base["user_id"].isin(false)]),
            ("(b) true dates, the same treated (false losers left out)",
             with_dates(base[~base["user_id"].isin(false)], found)),
            ("(c) true dates, all true losers", with_dates(base, true_workers))]
    for kind in ("commuter", "remote_before", "hybrid_before", "false"):
        alone = base[~base["user_id"].isin(d.index[d["kind"] != kind])]
        if (d["kind"] == kind).sum() >= 20:
            rows.append((f"only {kind} treated, classifier dates", alone))
            if kind != "false":
                rows.append((f"only {kind} treated, true dates", with_dates(alone, found)))
    ever_remote = set(truth_status.loc[truth_status["status"] == "remote", "user_id"])
    commuters = with_dates(base[~base["user_id"].isin(d.index[d["kind"] != "commuter"])], found)
    rows.append(("only commuter treated, true dates, controls never remote",
                 commuters[commuters["job_loss_week"].notna() | ~commuters["user_id"].isin(ever_remote)]))
    for label, panel in list(rows[:4]) + [rows[-1]]:
        rows.append((f"{label[:44]}, post-shock", post_shock(panel)))
    for label, panel in rows:
        lead_line(panel, label, metrics)


def onset(run: Path, region: Path, metrics: list[str]) -> None:
    """Both ``job_loss_dating`` rules on a finished run: the run's signal recomputed from its visits and its
    stored out-of-fold probabilities re-dated; scores against the truth, dates, and the event study."""
    from bench_employment import run_signal

    from mobility.employment.classifier import classifier_status
    from mobility.employment.params import EmploymentParams
    from mobility.employment.status import weekly_matrices
    from mobility.employment.validation import evaluate_against_truth
    from mobility.longitudinal.panel import dating_method, outcome_features
    from mobility.pipeline.stages import classifier_features

    t0, c0 = time.perf_counter(), time.process_time()
    signal = run_signal(run, region, TIMEZONE)
    print(f"signal recomputed: {time.perf_counter() - t0:.0f} s wall, {time.process_time() - c0:.0f} CPU s", flush=True)
    emp = mobility.read_table(run, "employment_weekly")
    stored = emp[emp["method"] == "classifier"]
    p = weekly_matrices(stored, signal.users, signal.weeks, ["p_unemployed"])["p_unemployed"]
    features = classifier_features(run)
    print(f"dating: {dating_method(emp, 'auto', outcomes=metrics, classifier_features=features)}; "
          f"outcome metrics used by the classifier: {outcome_features(metrics, features or [])}")
    truth_status = pd.read_parquet(region / "truth" / "weekly_status.parquet")
    true_loss = job_loss_weeks(truth_status)
    met = mobility.read_table(run, "metrics_weekly")
    wf = mobility.read_table(run, "worker_features")
    workers = set(wf.loc[wf["work_cbg"].notna(), "user_id"])
    key = ["user_id", "week"]
    for rule in ("threshold", "drop_onset"):
        table = classifier_status(signal, p, params=EmploymentParams(job_loss_dating=rule))
        if rule == "threshold":
            same = stored[key + ["status", "weeks_since_job_loss"]].merge(
                table[key + ["status", "weeks_since_job_loss"]], on=key, how="outer", suffixes=("", "_new"))
            agree = ((same["status"].astype(str) == same["status_new"].astype(str))
                     & (same["weeks_since_job_loss"].fillna(-1) == same["weeks_since_job_loss_new"].fillna(-1)))
            print(f"threshold rule reproduces the run's classifier table: {bool(agree.all())} "
                  f"({int((~agree).sum())} of {len(same)} rows differ)")
        new = pd.concat([emp[emp["method"] == "signal"], table], ignore_index=True)
        score = evaluate_against_truth(new, truth_status)["classifier"]
        det = job_loss_weeks(new, "classifier")
        det = det[det.index.isin(workers)]
        d = kinds_of_losers(det, true_loss, truth_status)
        print(f"\n{rule}: losers found +-1 week {score['losers_found_within_1']:.4f}, dated +-1 (of detected) "
              f"{score['loss_week_within_1']:.4f}, detected {score['job_losers_detected']} of {score['job_losers']}, "
              f"false loss share {score['false_loss_share']:.4f}; workers' losers {len(d)} "
              f"({d['kind'].value_counts().to_dict()})")
        print(f"  date - true date: {lag_counts(d['lag'])}")
        panel = job_loss_panel(met, new, workers, method="classifier", timezone=TIMEZONE)
        lead_line(panel, f"{rule} dates", metrics)
        lead_line(post_shock(panel), f"{rule} dates, post-shock", metrics)


def main() -> None:
    global CONTROLS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, help="a pipeline run (default: generate a region and run it)")
    parser.add_argument("--region", type=Path, help="the synthetic region the run used (its truth)")
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=20200316)
    parser.add_argument("--controls", choices=CONTROL_GROUPS, default=CONTROLS,
                        help="the event studies' control_group (default: the event study's default)")
    parser.add_argument("--wald", action="store_true", help="the Wald form of the pre-trend test")
    parser.add_argument("--htz", action="store_true", help="the HTZ form of the pre-trend test (CR2)")
    parser.add_argument("--vcov", choices=VCOV_TYPES, default=EventStudyParams.vcov,
                        help="covariance of the coefficients (default %(default)s)")
    parser.add_argument("--compare", action="store_true",
                        help="score and Wald p, post-period standard errors, CR1 against CR2, per dating and metric")
    parser.add_argument("--csv", type=Path, help="with --compare: write its rows here")
    parser.add_argument("--groups", action="store_true",
                        help="with --compare: also the pipeline's per-group pre-trend tests (longitudinal_study, "
                             "every default) under CR2 / score, CR2 / Wald, CR2 / HTZ and CR1 / Wald")
    parser.add_argument("--lags", action="store_true",
                        help="diagnosis with the truth: classifier dates against true dates, event study with both")
    parser.add_argument("--onset", action="store_true",
                        help="both job_loss_dating rules on the run (its signal recomputed from its visits)")
    args = parser.parse_args()
    CONTROLS = args.controls
    if args.run is None or args.region is None:
        scratch = Path(tempfile.mkdtemp(prefix="pretrend-"))
        atexit.register(shutil.rmtree, scratch, ignore_errors=True)  # a scratch folder: gone at exit
        args.region = scratch / "region"
        t0 = time.perf_counter()
        mobility.synthetic.generate_region(args.region, mobility.synthetic.SyntheticParams(n_users=args.users),
                                           seed=args.seed)
        print(f"generated {args.region} in {time.perf_counter() - t0:.0f} s")
        args.run = run_pipeline_on(args.region, args.users, args.seed, placebo=False, until="employment")
    test = "htz" if args.htz else "wald" if args.wald else "score"
    metrics = list(DEFAULT_METRICS)
    if args.lags or args.onset:
        (lags if args.lags else onset)(args.run, args.region, metrics)
        return
    truth = mobility.synthetic.load_truth(args.region)
    people = truth["people"].set_index("user_id")
    met = mobility.read_table(args.run, "metrics_weekly")
    emp = mobility.read_table(args.run, "employment_weekly")
    wf = mobility.read_table(args.run, "worker_features")
    workers = wf.loc[wf["work_cbg"].notna(), "user_id"]
    true_loss = job_loss_weeks(truth["weekly_status"])
    base = job_loss_panel(met, emp, workers, method="classifier", timezone=TIMEZONE)
    if args.compare:
        datings = {"classifier": base, "signal": with_dates(base, job_loss_weeks(emp, "signal")),
                   "true": with_dates(base, true_loss)}
        rows = compare(datings, metrics)
        if args.csv is not None:
            rows.to_csv(args.csv, index=False)
        if args.groups:
            group_tests(args.run, met, emp, wf)
        return
    print(f"pre-trend p-values ({test} test, {args.vcov}), metrics: {' '.join(short(m) for m in metrics)}")

    def line(panel: pd.DataFrame, label: str, used=metrics) -> None:
        try:
            pt = event_study(panel, used, pretrend_test=test, vcov=args.vcov,
                             control_group=CONTROLS).pretrend.set_index("metric")["p_value"]
        except MobilityError as exc:  # a tiny run (the smoke test) may have no loser or control in a panel
            print(f"{label:58s} not estimable: {exc}")
            return
        n_treated = int(panel.drop_duplicates("user_id")["job_loss_week"].notna().sum())
        print(f"{label:58s} T={n_treated:3d} n={panel['user_id'].nunique():4d} #p<.01={int((pt < 0.01).sum()):2d} "
              f"min={pt.min():.1e} | " + " ".join(f"{pt.get(m, np.nan):.0e}" for m in metrics), flush=True)

    line(base, "classifier dates (the pipeline)")
    line(with_dates(base, job_loss_weeks(emp, "signal")), "signal dates")
    true_dated = with_dates(base, true_loss)
    line(true_dated, "true dates")
    stops = truth["stops"]
    tm = weekly_metrics(stops, home_work=true_labels(stops), columns={"location_id": "place_id"}, timezone=TIMEZONE)
    tp = with_dates(job_loss_panel(tm, emp, people.index[people["work_cbg"].notna()], method="classifier",
                                   timezone=TIMEZONE), true_loss)
    line(tp[tp["week"] >= "2020-01-06"], "TRUE stops, true dates, true workers", [m for m in metrics if m in tp])

    det = job_loss_weeks(emp, "classifier")
    d = pd.DataFrame({"det": det}).join(true_loss.rename("true"))
    lag = (d["det"] - d["true"]).dt.days // 7
    d["cat"] = np.where(d["true"].isna(), "false", np.where(lag.abs() <= 1, "right", np.where(lag > 1, "late", "early")))
    status = truth["weekly_status"].set_index(["user_id", "week"])["status"]
    false = d[d["cat"] == "false"]
    at_det = pd.Series([status.get((u, w), "none") for u, w in zip(false.index, false["det"])]).value_counts()
    missed = (set(true_loss.index) & set(workers)) - set(det.index)
    print(f"classifier losers: {d['cat'].value_counts().to_dict()}; false ones' true status in the dated week: "
          f"{at_det.to_dict()}; true losers among workers {len(set(true_loss.index) & set(workers))}, missed (so "
          f"controls) {len(missed)}")
    for cat in ("false", "late", "right"):
        line(base[~base["user_id"].isin(d.index[d["cat"] == cat])], f"classifier dates, {cat} losers left out")
        line(base[~base["user_id"].isin(d.index[d["cat"] != cat])], f"classifier dates, only {cat} losers treated")
    detected_true = d.index[d["cat"] != "false"]
    line(true_dated[~true_dated["user_id"].isin(missed)], "true dates, detected true losers only")
    line(true_dated[~true_dated["user_id"].isin(detected_true)], "true dates, missed true losers only")

    panel = base.assign(on_site=base["time_at_work_h"].fillna(0) > 0)
    k = (panel["week"] - panel["job_loss_week"]).dt.days // 7
    treated = set(panel.loc[panel["job_loss_week"].notna(), "user_id"])
    for weeks in (1, 2, 4):
        attended = set(panel.loc[k.between(-weeks, -1) & panel["on_site"], "user_id"])
        dropped = treated - attended
        kept = {c: f"{(~d.index[d['cat'] == c].isin(dropped)).sum()}/{(d['cat'] == c).sum()}" for c in
                ("right", "late", "false")}
        line(panel[~panel["user_id"].isin(dropped)], f"attended in weeks -{weeks}..-1, kept {kept}")
    e = emp[emp["method"] == "classifier"].merge(det.rename("loss"), left_on="user_id", right_index=True)
    since = (e["week"] - e["loss"]).dt.days // 7
    margin = e[since.between(0, 3)].groupby("user_id")["p_unemployed"].mean()
    for threshold in (0.6, 0.65, 0.7):
        dropped = set(margin.index[margin < threshold])
        kept = {c: f"{(~d.index[d['cat'] == c].isin(dropped)).sum()}/{(d['cat'] == c).sum()}" for c in
                ("right", "late", "false")}
        line(base[~base["user_id"].isin(dropped)], f"mean p over weeks 0..3 >= {threshold}, kept {kept}")


if __name__ == "__main__":
    main()
