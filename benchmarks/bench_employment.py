"""Employment step: ground-truth evidence on synthetic regions through the pipeline, and speed on 100k users.

Usage::

    python benchmarks/bench_employment.py evidence [--region synthetic] [--seeds 20200316 2] [--users 1000] [--out DIR]
    python benchmarks/bench_employment.py checks --run DIR/run-20200316-1000 --region-dir DIR/region-20200316-1000
    python benchmarks/bench_employment.py scores --run RUN --region-dir REGION [--limits] [--separation] [--why]
    python benchmarks/bench_employment.py speed [--users 100000] [--weeks 39]
    python benchmarks/bench_employment.py sweep [--seeds 20200316] [--users 1000] [--out DIR]
    python benchmarks/bench_employment.py intercept --run RUN --region-dir REGION --config TOML [--no-labels] [--out DIR]
    python benchmarks/bench_employment.py oracle --run RUN --region-dir REGION [--sizes 10000 3000] [--gammas 0 0.8]
    python benchmarks/bench_employment.py points --run RUN --region-dir REGION [--sizes 1000 3000] [--draws 10]

``evidence`` runs the whole pipeline (``pipelines/<region>.toml``, 1,000 users) for each seed, the
classifier cross-fitted on the region's true weekly statuses, and reports per method the out-of-fold scores
against the truth (``employment_evaluation/truth.json``): ROC AUC, Brier, calibration error, remote weeks
called unemployed, job losers found within +-1 week, false job losses among people who stay employed, by
kind of person. Then (1) the cost of dropping the event study's outcome metrics from the features: the same
cross-fitting with them added back; (2) transfers: the model saved by the first seed's run applied with
``[employment] model`` and no labels to each other seed and to ``pipelines/synthetic_hard.toml`` (seed of
the first run), scored against their truth.

The first seed's region and ``synthetic_hard`` are also cross-fitted on their own; each run reports
:func:`limits` (what no GPS method can see), :func:`threshold_sweep` and :func:`separation` (remote weeks against
unemployed weeks only, and the population model against the truth; transfers too).

``sweep`` (:func:`sweep`) varies the spread of remote adoption and the hybrid share of the region.

``intercept`` (:func:`intercept`) runs a finished run's employment stage again with ``remote_intercept_max`` 0 and
1 (``--max``), with its labels or without (``--no-labels``), and scores both methods and the area rates.

``oracle`` (:func:`intercept_oracle`) scores b's posterior against the b whose priors best predict the true job
losses, on random user subsamples of a finished run.

``points`` (:func:`intercept_points`) compares the drops' posteriors at b's posterior mode, averaged over its
posterior, and at b = 0, against the truth, on random user subsamples of a finished run.

``checks`` tries to break the classifier on a finished run (:func:`checks`).

``scores`` scores a finished run (e.g. one of ``bench_scale.py``'s) as ``evidence`` scores its own: both methods
against the truth, by kind of person (:func:`run_scores`), reading only the truth tables it needs; ``--limits``
and ``--separation`` add :func:`limits` (recomputes the daytime table from the run's visits) and
:func:`separation`; ``--why`` adds :func:`why_counts`: each true job loser not found, with the first reason
that holds (:func:`why_not_found`), by method and kind of person.

``speed`` simulates a dense weekly attendance panel (teleworkers, job losers, silent weeks, part-timers) with
daytime features and times the stage from the panel on: signal, classifier features, cross-fitted training
(``n_folds`` models and the final one, each with its calibration), prediction and area tables.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

FOLD_SEEDS = (0, 1, 2)  # the ablation repeats the cross-fitting with other fold draws: its own noise
HEADLINE = ("roc_auc", "brier", "calibration_error", "remote_flagged_share", "losers_found_within_1",
            "loss_week_within_1", "job_losers", "job_losers_detected", "false_loss_share", "stayers", "coverage")


def truth_tables(region_dir: Path, *names: str) -> dict[str, pd.DataFrame]:
    """Only the named tables of a region's ``truth/`` (``people``, ``weekly_status``, ...), not
    :func:`mobility.load_truth`'s all: at 100,000 people its true stops alone are 1.6 GB of Parquet."""
    folder = Path(region_dir) / "truth"
    missing = [n for n in names if not (folder / f"{n}.parquet").exists()]
    if missing:
        raise SystemExit(f"{folder / missing[0]}.parquet missing: pass a region made by generate_region")
    return {n: pd.read_parquet(folder / f"{n}.parquet") for n in names}


def _headline(scores: dict) -> dict:
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in scores.items() if k in HEADLINE}


def kinds_of_people(people: pd.DataFrame) -> dict[str, pd.Series]:
    """Breakdowns of workers (user_id -> group): ``role`` (on-site or remote worker, on-site or remote job
    loser; remote: went remote before any loss), and the region's ``schedule``, ``workplace_kind`` and
    ``phone_kind`` where it has them. People without a job at the start are left out.

    A job loser whose remote start (``remote_start_date``, where the region has it) falls on or after the loss
    never went remote: an on-site job loser (until stop 30 ``goes_remote`` alone decided, which put 5-6 on-site
    losers a region among the remote ones).

    Examples
    --------
    >>> people = pd.DataFrame({"user_id": ["a", "b", "c", "d"], "work_cbg": "421010001001",
    ...     "goes_remote": [True, True, True, False],
    ...     "job_loss_date": pd.to_datetime(["2020-04-06", "2020-03-23", None, "2020-03-23"]),
    ...     "remote_start_date": pd.to_datetime(["2020-03-18", "2020-03-25", "2020-03-18", None])})
    >>> kinds_of_people(people)["role"].to_dict()
    {'a': 'remote job loser', 'b': 'on-site job loser', 'c': 'remote worker', 'd': 'on-site job loser'}
    """
    worker = people["work_cbg"].notna().to_numpy() | (
        people["has_job"].to_numpy(bool) if "has_job" in people.columns else False)
    ids = people["user_id"].astype(str).to_numpy()[worker]
    went_remote = people["goes_remote"].to_numpy(bool).copy()
    if "remote_start_date" in people.columns:
        loss = pd.to_datetime(people["job_loss_date"])
        went_remote &= (loss.isna() | (pd.to_datetime(people["remote_start_date"]) < loss)).to_numpy(bool)
    remote = np.where(went_remote, "remote", "on-site").astype(str)
    role = np.char.add(remote, np.where(people["job_loss_date"].notna(), " job loser", " worker"))
    out = {"role": pd.Series(role[worker], index=ids)}
    for col in ("schedule", "workplace_kind", "phone_kind"):
        if col in people.columns:
            out[col] = pd.Series(people[col].astype(str).to_numpy()[worker], index=ids)
    return out


def outcome_ablation(run_dir: Path, region_dir: Path, timezone: str) -> dict:
    """Out-of-fold AUC of the cross-fitted classifier with and without the event study's outcome metrics (and
    their change against the user's baseline mean), over three draws of the folds."""
    import mobility
    from mobility.employment.classifier import cross_fit, label_matrix
    from mobility.employment.features import OUTCOME_METRICS
    from mobility.employment.status import weekly_matrices
    from mobility.employment.params import ClassifierParams, EmploymentParams

    params = EmploymentParams()
    signal, mats = _signal_and_features(run_dir, region_dir, timezone)
    metrics = mobility.read_table(run_dir, "metrics_weekly")
    metrics = metrics.assign(week=metrics["period_start"].dt.tz_convert(timezone).dt.tz_localize(None).dt.normalize())
    cols = [c for c in metrics.columns if c in OUTCOME_METRICS]
    outcome = weekly_matrices(metrics, signal.users, signal.weeks, cols)
    start, end = params.baseline
    in_base = np.flatnonzero((signal.weeks >= start) & (signal.weeks <= end))
    for c in cols:
        outcome["d_" + c] = outcome[c] - np.nanmean(outcome[c][:, in_base], axis=1, keepdims=True)
    y = label_matrix(truth_tables(region_dir, "weekly_status")["weekly_status"], signal.users, signal.weeks)
    out = {"fold_seeds": list(FOLD_SEEDS), "outcome_features_added": sorted(outcome)}
    for name, feats in (("without_outcomes", mats), ("with_outcomes", {**mats, **outcome})):
        runs = [cross_fit(feats, signal.matrices["usable"], y, params=ClassifierParams(seed=seed)).evaluation[
            "out_of_fold"]["classifier"] for seed in FOLD_SEEDS]
        out[name] = {"features": len(feats), "roc_auc": [round(r["roc_auc"], 4) for r in runs],
                     "roc_auc_mean": round(float(np.mean([r["roc_auc"] for r in runs])), 4),
                     "brier_mean": round(float(np.mean([r["brier"] for r in runs])), 4)}
    return out


def checks(run_dir: Path, region_dir: Path, timezone: str = "America/New_York") -> dict:
    """Try to break the classifier on a finished run: (1) the final model scoring the users it was trained on
    against the out-of-fold scores (the leak cross-fitting removes); (2) the k-week confirmation swept over
    k = 1..4 on the run's out-of-fold probabilities (k = 1 is the old one-week rule)."""
    import mobility
    from sklearn.metrics import roc_auc_score

    from mobility.employment.classifier import classifier_status, cross_fit, label_matrix
    from mobility.employment.features import feature_rows
    from mobility.employment.params import ClassifierParams, EmploymentParams
    from mobility.employment.status import SignalResult
    from mobility.employment.validation import evaluate_against_truth

    truth = truth_tables(region_dir, "weekly_status")
    out = {}
    signal, mats = _signal_and_features(run_dir, region_dir, timezone)
    y = label_matrix(truth["weekly_status"], signal.users, signal.weeks)
    fit = cross_fit(mats, signal.matrices["usable"], y, params=ClassifierParams())
    cells = np.flatnonzero(signal.matrices["usable"].ravel())
    lab = cells[np.isfinite(y.ravel()[cells])]
    in_sample = fit.model.predict(feature_rows(mats, fit.model.features, lab))
    out["final_model_in_sample_auc"] = round(float(roc_auc_score(y.ravel()[lab], in_sample)), 4)
    out["out_of_fold_auc"] = round(fit.evaluation["out_of_fold"]["classifier"]["roc_auc"], 4)
    emp = mobility.read_table(run_dir, "employment_weekly")
    clf = emp[emp["method"] == "classifier"].sort_values(["user_id", "week"])
    users, weeks = clf["user_id"].astype(str).unique(), pd.DatetimeIndex(sorted(clf["week"].unique()))
    p = clf["p_unemployed"].to_numpy(float).reshape(len(users), len(weeks))
    sig = SignalResult(users, weeks, {"usable": np.isfinite(p)}, np.zeros(len(users)))
    out["confirmation_k"] = {}
    for k in (1, 2, 3, 4):
        s = evaluate_against_truth(classifier_status(sig, p, params=EmploymentParams(min_event_weeks=k)),
                                   truth["weekly_status"])["classifier"]
        out["confirmation_k"][k] = _headline(s)
    return out


def _signal_and_features(run_dir: Path, region_dir: Path, timezone: str):
    """The attendance signal and the classifier's features of a finished run (:func:`run_signal`)."""
    from mobility.employment.features import weekly_features

    signal = run_signal(run_dir, region_dir, timezone)
    return signal, weekly_features(signal)


def run_signal(run_dir: Path, region_dir: Path, timezone: str):
    """The attendance signal of a finished run, from its visits and labels (:func:`run_signal_inputs`)."""
    from mobility.employment.status import signal_from_inputs

    return signal_from_inputs(*run_signal_inputs(run_dir, region_dir, timezone))


def run_signal_inputs(run_dir: Path, region_dir: Path, timezone: str):
    """The signal's matrices of a finished run (:func:`mobility.employment.status.signal_inputs`), its workers'
    census features and the teleworkability table: what :func:`mobility.employment.status.signal_from_inputs` takes.

    As the pipeline's employment stage does: the per-user tables partition by partition (part ``k`` of
    ``visits`` and of ``home_work_daily`` hold the same users), stacked, then the users x weeks steps; one
    partition's visits in memory at a time (the 100,000-user run's visits are 1.4 GB of Parquet)."""
    from mobility.census import aggregate_lodes, read_lodes, read_teleworkability
    from mobility.census.features import work_features
    from mobility.employment.attendance import relative_attendance
    from mobility.employment.estimate import stack_user_tables, user_tables
    from mobility.employment.status import signal_inputs
    from mobility.pipeline.stages import VISIT_COLUMNS

    parts = []
    for path in sorted((run_dir / "visits").glob("*.parquet")):
        visits = pd.read_parquet(path, columns=VISIT_COLUMNS)
        if len(visits):
            labels = pd.read_parquet(run_dir / "home_work_daily" / path.name)
            parts.append(user_tables(visits, labels, timezone=timezone))
    users = stack_user_tables(parts)
    del parts
    wac = read_lodes(next((region_dir / "census" / "lodes").glob("*wac*")))
    tau = read_teleworkability(region_dir / "census" / "telework" / "NAICS_workfromhome.csv")
    features = work_features(users["baseline_work_cbg"], aggregate_lodes(wac, "cbg"), tau)
    panel = relative_attendance(users["weekly_attendance"], users["baseline_workplace"])
    return signal_inputs(panel, daytime=users["daytime_weekly"]), features, tau


def _user_rows(inputs, rows: np.ndarray):
    """The signal's matrices of some users only (rows of :func:`run_signal_inputs`'s matrices)."""
    from mobility.employment.status import SignalInputs

    return SignalInputs(inputs.users[rows], inputs.weeks, inputs.attendance[rows], inputs.work_time[rows],
                        inputs.usable[rows], {k: v[rows] for k, v in inputs.matrices.items()}, inputs.daytime)


def _drops_truth(sig, lost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each drop's true job-loss share (its covered weeks with the true status ``unemployed``; ``lost``: the
    signal's users x weeks) and which drops are scored (in the evidence mixture)."""
    drops, m = sig.tables["drop_evidence"], sig.matrices
    cells = (m["drop"] >= 0) & m["usable"]
    covered = np.bincount(m["drop"][cells], minlength=len(drops))
    y = np.bincount(m["drop"][cells], weights=lost[cells], minlength=len(drops)) / np.maximum(covered, 1)
    return y, drops["category"].to_numpy() > 0


def _subsamples(run_dir: Path, region_dir: Path, sizes, draws: int, timezone: str, seed: int):
    """The signal's inputs of a finished run (:func:`run_signal_inputs`) and its true job losses (users x weeks),
    then per subsample ``(draw, rows)``: ``draws`` random draws of each size in ``sizes`` below the run's users,
    one of all users for None or a size at least that."""
    from mobility.employment.classifier import label_matrix

    inputs, features, tau = run_signal_inputs(run_dir, region_dir, timezone)
    truth = truth_tables(region_dir, "weekly_status")["weekly_status"]
    lost = label_matrix(truth.assign(user_id=truth["user_id"].astype(str)), inputs.users, inputs.weeks) == 1
    n = len(inputs.users)
    rng = np.random.default_rng(seed)
    draws_of = [(draw, np.sort(rng.choice(n, size, replace=False))) if size is not None and size < n
                else (draw, np.arange(n))
                for size in sizes for draw in range(draws if size is not None and size < n else 1)]
    return (inputs, features, tau, lost), draws_of


def intercept_points(run_dir: Path, region_dir: Path, *, sizes=(1000, 3000), draws: int = 10,
                     timezone: str = "America/New_York", seed: int = 0) -> pd.DataFrame:
    """What b's point does on small panels (benchmarks/README.md, "Why the rates of small panels were low"): on ``draws``
    random user subsamples of each size (and the whole run), the signal with ``remote_intercept_point`` "mean"
    and "mode" and with ``remote_intercept_max = 0`` (b = 0); per subsample, the scored drops' mean posterior
    under each against their true job-loss share, b's posterior mean and its mode (the likelihood's argmax: the flat
    prior's mode; every setting uses EmploymentParams' other defaults, not the run's config)."""
    from mobility.employment.params import EmploymentParams
    from mobility.employment.status import signal_from_inputs

    (inputs, features, tau, lost), subsamples = _subsamples(run_dir, region_dir, [*sizes, None], draws, timezone,
                                                            seed)
    settings = {"mean": EmploymentParams(remote_intercept_point="mean"),
                "mode": EmploymentParams(remote_intercept_point="mode"),
                "b0": EmploymentParams(remote_intercept_max=0.0)}
    out = []
    for draw, rows in subsamples:
        row = {"users": len(rows), "draw": draw}
        for name, params in settings.items():
            sig = signal_from_inputs(_user_rows(inputs, rows), features, tau, params=params)
            y, scored = _drops_truth(sig, lost[rows])
            row[f"posterior_{name}"] = float(sig.tables["drop_evidence"]["posterior"].to_numpy()[scored].mean())
            if name == "mean":
                w = sig.tables["remote_intercept"]
                row |= {"truth": float(y[scored].mean()), "drops": int(scored.sum()),
                        "b_mean": float(w["weight"] @ w["remote_intercept"]),
                        "b_mode": float(w["remote_intercept"].to_numpy()[np.argmax(w["loglik"].to_numpy())])}
        out.append(row)
    return pd.DataFrame(out)


def intercept_oracle(run_dir: Path, region_dir: Path, *, sizes=(None,), draws: int = 3, gammas=None,
                     timezone: str = "America/New_York", seed: int = 0) -> pd.DataFrame:
    """b's posterior against an **oracle** on random user subsamples of a finished run (benchmarks/README.md,
    "Block groups as varied as real ones").

    For each subsample (``sizes``: numbers of users, None all of them; ``draws`` draws of each smaller size) and
    each ``job_loss_telework_slope`` of ``gammas`` (None: the default's), the signal runs on those users alone;
    then, over its scored drops (those in the evidence mixture), each drop's true job-loss share (its covered
    weeks with the true status ``unemployed``, from ``truth/weekly_status``) scores the drops' priors at every b of the grid (Bernoulli
    log-likelihood): the oracle b is the best. Returned per subsample: b at the point (``b_mean``, the point
    weights' mean: b's posterior mean, or its mode with ``remote_intercept_point = "mode"``) and its likelihood's
    argmax, the oracle b, the drops' mean prior at b = 0 and mean posterior, the true job-loss share.
    """

    from mobility.employment.adoption import estimate_adoption
    from mobility.employment.params import EmploymentParams
    from mobility.employment.status import signal_from_inputs

    gammas = (EmploymentParams().job_loss_telework_slope,) if gammas is None else gammas
    (inputs, features, tau, lost), subsamples = _subsamples(run_dir, region_dir, sizes, draws, timezone, seed)
    rows_out = []
    for draw, rows in subsamples:
        for gamma in gammas:
            params = EmploymentParams(job_loss_telework_slope=gamma)
            sig = signal_from_inputs(_user_rows(inputs, rows), features, tau, params=params)
            drops, weights = sig.tables["drop_evidence"], sig.tables["remote_intercept"]
            m = sig.matrices
            x = np.where(np.isfinite(sig.telework), sig.telework, np.nanmean(sig.telework))
            adoption = estimate_adoption(m["run_start"], m["usable"], x, sig.weeks, params=params)
            user = pd.Index(sig.users).get_indexer(drops["user_id"].astype(str))
            start = sig.weeks.get_indexer(pd.DatetimeIndex(drops["start_week"]))
            grid = weights["remote_intercept"].to_numpy()
            priors = adoption.drop_priors(start, x[user], grid)
            y, scored = _drops_truth(sig, lost[rows])
            p = np.clip(priors[:, scored], 1e-6, 1 - 1e-6)
            oracle = (y[scored] * np.log(p) + (1 - y[scored]) * np.log(1 - p)).sum(axis=1)
            rows_out.append({"users": len(rows), "draw": draw, "gamma": gamma, "scored_drops": int(scored.sum()),
                             "b_mean": float(weights["weight"] @ grid),
                             "b_argmax": float(grid[np.argmax(weights["loglik"].to_numpy())]),
                             "b_oracle": float(grid[np.argmax(oracle)]),
                             "prior_at_b0": float(priors[0, scored].mean()),
                             "posterior": float(drops["posterior"].to_numpy()[scored].mean()),
                             "true_job_loss_share": float(y[scored].mean())})
    return pd.DataFrame(rows_out)


def _run(config: Path, run_dir: Path, *, reuse: Path | None = None) -> dict:
    """Run the pipeline up to the employment stage, which always runs again (the code may have changed);
    ``reuse`` copies a finished run of the same region first, so that the stages before it are skipped."""
    import mobility

    if reuse is not None and not run_dir.exists():
        shutil.copytree(reuse, run_dir, ignore=shutil.ignore_patterns("run.json"))
    t0 = time.perf_counter()
    again = "employment" if (run_dir / "_state" / "employment.json").exists() else None
    manifest = mobility.run_pipeline(str(config), str(run_dir), progress=False, from_stage=again, until="employment")
    return {"wall_s": round(time.perf_counter() - t0, 1),
            "employment_s": manifest["stages"]["employment"]["duration_s"],
            "employment": manifest["stages"]["employment"]}


def _scores(run_dir: Path, region_dir: Path) -> dict:
    """The run's model.json and both methods' scores against the truth, by role of person (``by_group``)
    and by schedule, workplace and phone (``by_schedule``, ...) where the region has them."""
    import mobility
    from mobility.employment.validation import evaluate_against_truth

    model_json = run_dir / "employment_evaluation" / "model.json"
    truth = truth_tables(region_dir, "people", "weekly_status")
    employment = mobility.read_table(run_dir, "employment_weekly")
    kinds = kinds_of_people(truth["people"])
    scores = evaluate_against_truth(employment, truth["weekly_status"], groups=kinds.pop("role"))
    for name, groups in kinds.items():
        by = evaluate_against_truth(employment, truth["weekly_status"], groups=groups)
        for method in scores:
            scores[method][f"by_{name}"] = by[method]["by_group"]
    return {"model": json.loads(model_json.read_text()) if model_json.exists() else None, "scores": scores}


def run_scores(run_dir: Path, region_dir: Path, *, with_limits: bool = False, with_separation: bool = False,
               with_why: bool = False) -> dict:
    """The scores ``evidence`` reports of its own runs (:func:`_scores`: model card, both methods' out-of-fold
    scores by kind of person), for any finished run of a synthetic region; :func:`limits`, :func:`separation`
    and :func:`why_counts` (why job losers are not found) on request."""
    entry = _scores(Path(run_dir), Path(region_dir))
    if with_why:
        entry["why"] = why_counts(Path(run_dir), Path(region_dir))
    if with_limits:
        entry["limits"] = limits(Path(run_dir), Path(region_dir))
    if with_separation:
        entry["separation"] = separation(Path(run_dir), Path(region_dir))
    return entry


WHY_REASONS = ("found", "short spell", "silent", "remote before the loss", "dated early", "no drop",
               "called remote", "dated late, loss week unknown", "dated late, loss week known", "other")
"""The reasons of :func:`why_not_found`, in the order they are tested (the first that holds is the loser's)."""


def _drop_weeks(drops: pd.DataFrame, known: pd.DataFrame) -> pd.DataFrame:
    """The weeks of known status each of the signal's drops holds (``drop_evidence``: ``start_week``,
    ``covered_weeks`` of known status from it on), as ``user_id, week, posterior`` rows."""
    rows = []
    weeks_of = {u: g["week"].to_numpy() for u, g in known.groupby("user_id", sort=False)}
    for u, start, n, post in zip(drops["user_id"].astype(str), pd.to_datetime(drops["start_week"]),
                                 drops["covered_weeks"].to_numpy(int), drops["posterior"].to_numpy(float)):
        wk = weeks_of.get(u, np.array([], dtype="datetime64[ns]"))
        for w in wk[wk >= np.datetime64(start)][:max(n, 1)]:
            rows.append((u, pd.Timestamp(w), post))
    return pd.DataFrame(rows, columns=["user_id", "week", "posterior"])


def why_not_found(employment: pd.DataFrame, truth_status: pd.DataFrame, drops: pd.DataFrame | None = None, *,
                  k: int = 3) -> pd.DataFrame:
    """Each true job loser of the scores (:func:`mobility.employment.validation.evaluate_against_truth`: users
    with a known estimated status in some week of a job) and method, with the first reason of
    :data:`WHY_REASONS` that holds for the first true job loss at week L (Monday):

    * ``found``: the method's first job-loss week within +-1 week of L (what ``losers_found_within_1`` counts);
    * ``short spell``: the first spell of unemployment in the window is shorter than ``k`` weeks (re-hired, or
      the window ends): no k-week rule confirms it;
    * ``silent``: fewer than ``k`` weeks of the spell have a known status (phone silent, degraded, uncovered);
    * ``remote before the loss``: a remote week before L: attendance was near zero already, the loss leaves no
      trace in it;
    * ``dated early``: the first job-loss week before L - 1 (an earlier drop or run called a job loss);
    * ``no drop`` / ``called remote``: no week of the spell called unemployed, and no sustained drop of the
      signal (``drops``, the run's ``drop_evidence``) holds a known week of the spell / one does (the signal:
      its posterior under the threshold; the classifier: no confirmed run of ``p_unemployed`` over it);
    * ``dated late, loss week unknown`` / ``known``: a week of the spell is called unemployed, but the first
      job-loss week is after L + 1, the method's status in week L unknown (the drop can only start at the next
      week seen: interval censoring) or known;
    * ``other``.

    Returns one row per (method, loser): ``method``, ``user_id``, ``loss_week``, ``detected_week``,
    ``lag_weeks``, ``spell_weeks``, ``spell_known_weeks``, ``drop_posterior`` (the highest posterior of a
    signal drop holding a known week of the spell, NaN without one), ``reason``.

    Examples
    --------
    Four losers in week 2 of six: found, silent after the loss, dated two weeks late, and a drop called
    remote (posterior 0.2):

    >>> wk = pd.date_range("2020-03-02", periods=6, freq="7D")
    >>> truth = pd.DataFrame({"user_id": np.repeat(list("abcd"), 6), "week": np.tile(wk, 4),
    ...     "status": np.tile(["employed"] * 2 + ["unemployed"] * 4, 4),
    ...     "weeks_since_job_loss": pd.array(np.tile([None, None, 0, 1, 2, 3], 4), dtype="Int64")})
    >>> st = np.array([["employed"] * 2 + ["unemployed"] * 4, ["employed"] * 3 + ["unknown"] * 3,
    ...                ["employed"] * 4 + ["unemployed"] * 2, ["employed"] * 6]).ravel()
    >>> since = pd.array([None, None, 0, 1, 2, 3] + [None] * 10 + [0, 1] + [None] * 6, dtype="Int64")
    >>> emp = pd.DataFrame({"user_id": np.repeat(list("abcd"), 6), "week": np.tile(wk, 4), "method": "signal",
    ...                     "status": st, "weeks_since_job_loss": since})
    >>> drops = pd.DataFrame({"user_id": ["d"], "start_week": [wk[2]], "covered_weeks": [4], "posterior": [0.2]})
    >>> why_not_found(emp, truth, drops)[["user_id", "lag_weeks", "reason"]].values.tolist()
    [['a', 0.0, 'found'], ['b', nan, 'silent'], ['c', 2.0, 'dated late, loss week known'], ['d', nan, 'called remote']]
    """
    from mobility.employment.status import job_loss_weeks

    tru = truth_status.assign(user_id=truth_status["user_id"].astype(str), week=pd.to_datetime(truth_status["week"]),
                              status=truth_status["status"].astype(str))
    tru = tru[tru["status"].isin(["employed", "remote", "unemployed"])].sort_values(["user_id", "week"])
    loss_week = job_loss_weeks(tru.loc[tru["status"] == "unemployed", ["user_id", "week", "weeks_since_job_loss"]])
    tru = tru[tru["user_id"].isin(loss_week.index)]  # the losers' weeks only (100,000 people: 3.9 million rows)
    by_user = {u: g for u, g in tru.groupby("user_id", sort=False)}
    if drops is not None:
        drops = drops[drops["user_id"].astype(str).isin(loss_week.index)]
    rows = []
    for method, e in employment.groupby("method", sort=True):
        e = e[e["user_id"].astype(str).isin(loss_week.index)]
        e = e.assign(user_id=e["user_id"].astype(str), week=pd.to_datetime(e["week"]),
                     status=e["status"].astype(str))
        detected = job_loss_weeks(e, str(method)) if len(e) else pd.Series(dtype="datetime64[ns]")
        known = e[e["status"].isin(["employed", "unemployed"])]
        scored = set(tru.merge(known[["user_id", "week"]], on=["user_id", "week"])["user_id"])
        status_of = e.set_index(["user_id", "week"])["status"]
        in_drop = (_drop_weeks(drops, known).groupby(["user_id", "week"])["posterior"].max()
                   if drops is not None and len(drops) else pd.Series(dtype=float))
        for u, lw in loss_week.items():
            if u not in scored:
                continue
            t = by_user[u]
            after = t[t["week"] >= lw]
            spell = after["week"].to_numpy()[np.cumprod((after["status"] == "unemployed").to_numpy()).astype(bool)]
            st = np.array([status_of.get((u, pd.Timestamp(w)), "unknown") for w in spell])
            spell_known = spell[st != "unknown"]
            post = [in_drop.get((u, pd.Timestamp(w)), np.nan) for w in spell_known]
            post = float(np.nanmax(post)) if np.isfinite(post).any() else np.nan
            d = detected.get(u, pd.NaT)
            lag = (d - lw).days / 7.0 if pd.notna(d) else np.nan
            if pd.notna(d) and abs(lag) <= 1:
                reason = "found"
            elif len(spell) < k:
                reason = "short spell"
            elif len(spell_known) < k:
                reason = "silent"
            elif (t.loc[t["week"] < lw, "status"] == "remote").any():
                reason = "remote before the loss"
            elif pd.notna(d) and lag < -1:
                reason = "dated early"
            elif not (st == "unemployed").any():
                reason = "no drop" if np.isnan(post) else "called remote"
            elif pd.notna(d) and lag > 1:
                reason = "dated late, loss week " + ("unknown" if status_of.get((u, lw), "unknown") == "unknown"
                                                     else "known")
            else:
                reason = "other"
            rows.append({"method": str(method), "user_id": u, "loss_week": lw, "detected_week": d, "lag_weeks": lag,
                         "spell_weeks": len(spell), "spell_known_weeks": len(spell_known), "drop_posterior": post,
                         "reason": reason})
    return pd.DataFrame(rows, columns=["method", "user_id", "loss_week", "detected_week", "lag_weeks", "spell_weeks",
                                       "spell_known_weeks", "drop_posterior", "reason"])


def why_counts(run_dir: Path, region_dir: Path) -> dict:
    """:func:`why_not_found` of a finished run, counted: ``{method: {group: {reason: n}}}`` for ``all`` and each
    role of :func:`kinds_of_people`, and ``{method: {"by_schedule": {schedule: {reason: n}}}}`` for its other
    breakdowns (``by_workplace_kind``, ``by_phone_kind``) where the region has them; ``not_scored``: true job
    losers left out of the scores (no week of a known status: no baseline workplace found, or no data), by
    role."""
    import mobility
    from mobility.employment.params import EmploymentParams

    truth = truth_tables(region_dir, "people", "weekly_status")
    employment = mobility.read_table(run_dir, "employment_weekly")
    drops = mobility.read_table(run_dir, "drop_evidence") if (Path(run_dir) / "drop_evidence").exists() else None
    table = why_not_found(employment, truth["weekly_status"], drops, k=EmploymentParams().min_event_weeks)
    kinds = kinds_of_people(truth["people"])
    role = kinds.pop("role")
    table["role"] = table["user_id"].map(role).fillna("no job at the start").to_numpy()
    count = lambda h: {reason: int(n) for reason, n in h["reason"].value_counts().reindex(
        list(WHY_REASONS)).dropna().items()}
    out = {}
    for method, g in table.groupby("method"):
        out[method] = {r: count(h) for r, h in [("all", g), *g.groupby("role")]}
        for name, groups in kinds.items():
            label = g["user_id"].map(groups).fillna("unknown")
            out[method][f"by_{name}"] = {str(k): count(h) for k, h in g.groupby(label.to_numpy())}
    ws = truth["weekly_status"]
    losers = set(ws.loc[ws["status"].astype(str) == "unemployed", "user_id"].astype(str))
    scored = set(table["user_id"])
    out["not_scored"] = pd.Series([role.get(u, "no job at the start") for u in sorted(losers - scored)],
                                  dtype=object).value_counts().astype(int).to_dict()
    return out


def with_model(config: Path, model_dir: Path) -> Path:
    """The config with ``[employment] model = model_dir`` instead of its labels."""
    text = config.read_text()
    text, n = re.subn(r'(?m)^labels = "[^"]*".*$', f'model = "{model_dir}"', text, count=1)
    if n != 1:
        raise SystemExit(f"{config}: no [employment] labels line to replace")
    path = config.with_name(config.stem + "-applied.toml")
    path.write_text(text)
    return path


def limits(run_dir: Path, region_dir: Path) -> dict:
    """What no method on these tables can do (person-weeks of workers with a known estimated status):

    * ``losers_findable``: true job losers whose unemployment shows as at least ``min_event_weeks`` covered
      weeks with a known status (the rest: phones silent or degraded while unemployed, spells shorter than k
      weeks) -- the ceiling of "job losers found";
    * ``remote_home_only_weeks``: remote (and hybrid) workers' weeks in which the phone saw the usual work hours
      only at home (>= 95 % of them, no outing in them, no on-site day): a job loser who stays home looks the
      same; ``unemployed_home_only_weeks`` the same share among job losers' weeks.
    """
    import mobility
    from mobility.employment.params import EmploymentParams

    k = EmploymentParams().min_event_weeks
    truth = truth_tables(region_dir, "weekly_status")["weekly_status"]
    truth = truth.assign(user_id=truth["user_id"].astype(str))
    emp = mobility.read_table(run_dir, "employment_weekly")
    sig = emp[emp["method"] == "signal"].assign(user_id=lambda d: d["user_id"].astype(str))
    m = truth.merge(sig[["user_id", "week", "status"]], on=["user_id", "week"], suffixes=("_true", ""))
    known = m[m["status"] != "unknown"]
    scored = set(known.loc[known["status_true"].isin(["employed", "remote", "unemployed"]), "user_id"])
    losers = set(truth.loc[truth["status"] == "unemployed", "user_id"]) & scored
    weeks_seen = known[known["status_true"] == "unemployed"].groupby("user_id").size()
    findable = int((weeks_seen.reindex(sorted(losers)).fillna(0) >= k).sum())
    daytime = _daytime_table(run_dir)
    w = known.merge(daytime, on=["user_id", "week"], how="left")
    with np.errstate(invalid="ignore", divide="ignore"):
        home_only = ((w["usual_home_h"] >= 0.95 * w["usual_seen_h"]) & (w["usual_seen_h"] > 0)
                     & (w["usual_days_out"] == 0) & (w["workdays_at_work"] == 0))
    rem = w["status_true"] == "remote"
    une = w["status_true"] == "unemployed"
    return {"job_losers": len(losers), "losers_findable": findable,
            "losers_findable_share": round(findable / max(len(losers), 1), 3),
            "remote_weeks": int(rem.sum()), "remote_home_only_weeks": int((home_only & rem).sum()),
            "remote_home_only_share": round(float(home_only[rem].mean()), 3),
            "unemployed_home_only_share": round(float(home_only[une].mean()), 3)}


def separation(run_dir: Path, region_dir: Path) -> dict:
    """Where the difficulty is: per method, the ROC AUC of ``p_unemployed`` over true remote and true unemployed
    weeks only (known estimated status; the employed weeks, easy for both methods, left out); and the population
    model of :mod:`mobility.employment.adoption` against the truth: drops starting from the shock week on, the
    job-loss drops it expects (``sum_t l(t) x at_risk(t)``), the mean prior and posterior of those drops, and
    the true first events of workers over the same weeks (job losses not preceded by remote work, remote starts)."""
    import mobility
    from sklearn.metrics import roc_auc_score

    truth = truth_tables(region_dir, "people", "weekly_status")
    ws = truth["weekly_status"].assign(user_id=lambda d: d["user_id"].astype(str),
                                       week=lambda d: pd.to_datetime(d["week"]))
    emp = mobility.read_table(run_dir, "employment_weekly")
    emp = emp.assign(user_id=emp["user_id"].astype(str), week=pd.to_datetime(emp["week"]))
    m = ws.merge(emp, on=["user_id", "week"], suffixes=("_true", ""))
    m = m[m["status"].isin(["employed", "unemployed"]) & m["status_true"].isin(["remote", "unemployed"])]
    out = {}
    for method, g in m.groupby("method"):
        y = (g["status_true"] == "unemployed").to_numpy()
        out[f"{method}_remote_vs_unemployed_auc"] = round(float(roc_auc_score(y, g["p_unemployed"])), 4)
    shock = pd.Timestamp("2020-03-09")
    ad = mobility.read_table(run_dir, "remote_adoption")
    post = ad[ad["week"] >= shock]
    drops = mobility.read_table(run_dir, "drop_evidence")
    drops = drops[drops["start_week"] >= shock]
    people = truth["people"]
    workers = people[people["has_job"].astype(bool)]
    first_loss = workers["job_loss_date"].where(workers["remote_start_date"].isna()
                                                | (workers["job_loss_date"] < workers["remote_start_date"]))
    out.update({"drops_from_shock": len(drops),
                "expected_job_loss_drops": round(float((post["job_loss_rate"] * post["at_risk"]).sum()), 1),
                "mean_prior": round(float(drops["prior"].mean()), 3),
                "mean_posterior": round(float(drops["posterior"].mean()), 3),
                "true_job_losses_from_shock": int((first_loss >= shock).sum()),
                "true_remote_starts_from_shock": int((workers["remote_start_date"] >= shock).sum())})
    return out


def _daytime_table(run_dir: Path) -> pd.DataFrame:
    """The run's weekly attendance and daytime table, recomputed from its visits and labels."""
    import mobility
    from mobility.employment.attendance import weekly_attendance, work_days
    from mobility.employment.daytime import daytime_weekly

    labels = mobility.read_table(run_dir, "home_work_daily")
    visits = mobility.read_table(run_dir, "visits", columns=["user_id", "start", "end", "lat", "lon", "location_id"])
    days = work_days(visits, labels, timezone="America/New_York")
    weekly = weekly_attendance(visits, labels, days=days)[["user_id", "week", "workdays_at_work"]]
    return weekly.merge(daytime_weekly(visits, labels, days=days), on=["user_id", "week"]).assign(
        user_id=lambda d: d["user_id"].astype(str))


def evidence(seeds: list[int], users: int, out: Path, region: str = "synthetic") -> dict:
    from bench_pipeline import _prefix, region_config

    results = {}
    first_model = None
    for seed in seeds:
        config = region_config(seed, users, out, region)
        run_dir = out / f"{_prefix(region)}run-{seed}-{users}"
        region_dir = out / f"{_prefix(region)}region-{seed}-{users}"
        run = _run(config, run_dir)
        entry = {"employment_s": run["employment_s"], "wall_s": run["wall_s"], **_scores(run_dir, region_dir),
                 "limits": limits(run_dir, region_dir), "threshold": threshold_sweep(run_dir, region_dir),
                 "separation": separation(run_dir, region_dir)}
        entry["ablation"] = outcome_ablation(run_dir, region_dir, "America/New_York")
        results[f"{region} {seed}"] = entry
        if first_model is None:
            first_model = run_dir / "employment_model"
        else:
            applied = out / f"{_prefix(region)}run-{seed}-{users}-applied"
            _run(with_model(config, first_model), applied, reuse=run_dir)
            results[f"{region} {seeds[0]} model -> {region} {seed}"] = {**_scores(applied, region_dir),
                                                                         "separation": separation(applied, region_dir)}
    hard_config = region_config(seeds[0], users, out, "synthetic_hard")
    hard_run, hard_region = (out / f"synthetic_hard-run-{seeds[0]}-{users}",
                             out / f"synthetic_hard-region-{seeds[0]}-{users}")
    run = _run(hard_config, hard_run)
    results[f"synthetic_hard {seeds[0]}"] = {"employment_s": run["employment_s"], **_scores(hard_run, hard_region),
                                            "limits": limits(hard_run, hard_region),
                                            "threshold": threshold_sweep(hard_run, hard_region),
                                            "separation": separation(hard_run, hard_region)}
    applied = out / f"synthetic_hard-run-{seeds[0]}-{users}-applied"
    _run(with_model(hard_config, first_model), applied, reuse=hard_run)
    results[f"{region} {seeds[0]} model -> synthetic_hard {seeds[0]}"] = {**_scores(applied, hard_region),
                                                                      "separation": separation(applied, hard_region)}
    return results


def with_employment(config: Path, *, remote_intercept_max: float, labels: bool = True,
                    evidence_drops: int | None = None) -> Path:
    """The config (beside it, so that its relative paths hold) with ``[employment] remote_intercept_max`` (and
    ``intercept_evidence_drops``, unless None) set and, with ``labels=False``, its labelled panel left out (what a
    real run without labels reports)."""
    text = config.read_text()
    if not labels:
        text = re.sub(r'(?m)^labels = "[^"]*".*$', "", text, count=1)
    line = f"remote_intercept_max = {remote_intercept_max}\n"
    if evidence_drops is not None:
        line += f"intercept_evidence_drops = {evidence_drops}\n"
    text = text.replace("[employment]\n", "[employment]\n" + line, 1) if "[employment]\n" in text \
        else text + "\n[employment]\n" + line
    path = config.with_name(f"{config.stem}-b{remote_intercept_max:g}{_drops_tag(evidence_drops)}"
                            f"{'' if labels else '-nolabels'}.toml")
    path.write_text(text)
    return path


ALL_DROPS = 10_000_000
"""``intercept_evidence_drops`` that counts every drop in full (the largest the parameter takes)."""


def _b_moments(weights: pd.DataFrame, column: str) -> tuple[float, float]:
    """Mean and sd of b under the ``remote_intercept`` table's ``column`` (``weight``: the point's posterior,
    ``draw_weight``: the one the intervals draw from)."""
    w, b = weights[column], weights["remote_intercept"]
    mean = float(w @ b)
    return mean, float(np.sqrt(w @ (b - mean) ** 2))


def _drops_value(text: str) -> int | None:
    """``--drops``: ``default`` (None: the config's), ``all`` (:data:`ALL_DROPS`) or a number."""
    return {"default": None, "all": ALL_DROPS}[text] if text in ("default", "all") else int(text)


def _drops_tag(evidence_drops: int | None) -> str:
    return "" if evidence_drops is None else f"-d{evidence_drops}"


def intercept(run_dir: Path, region_dir: Path, config: Path, out: Path, maxima=(0.0, 1.0), *,
              labels: bool = True, drops=(None,)) -> pd.DataFrame:
    """The employment stage of a finished run again, on hard-link copies under ``out``, once per value of
    ``[employment] remote_intercept_max`` (0: remote work in proportion to teleworkability; the default 1: the
    signal averages over the part of it teleworkability does not explain), with the run's labels or without
    (``labels=False``): each method's scores against the truth (:func:`run_scores`), the county-week area rates
    of the individual route, ``expected`` estimator, from the shock on (``bench_area.score``), and b's posterior
    mean (``remote_intercept``). How benchmarks/README.md's "The part of remote adoption that teleworkability does
    not explain" was measured. ``drops``: values of ``[employment] intercept_evidence_drops`` (None: the
    config's, or the default) tried for every maximum ("How sure b can be")."""
    import subprocess

    import mobility
    from bench_area import score as area_score

    rows = []
    for b_max, n_drops in [(b, d) for b in maxima for d in drops]:
        copy = out / f"{run_dir.name}-b{b_max:g}{_drops_tag(n_drops)}{'' if labels else '-nolabels'}"
        if copy.exists():
            shutil.rmtree(copy)
        copy.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["cp", "-al", str(run_dir), str(copy)], check=True)
        t0 = time.perf_counter()
        cfg = with_employment(config, remote_intercept_max=b_max, labels=labels, evidence_drops=n_drops)
        manifest = mobility.run_pipeline(str(cfg), str(copy), progress=False, from_stage="employment", until="employment")
        stage_s = manifest["stages"]["employment"].get("duration_s", round(time.perf_counter() - t0, 1))
        weights = mobility.read_table(copy, "remote_intercept")
        area = area_score(mobility.read_table(copy, "area_unemployment"),
                          pd.read_parquet(region_dir / "truth" / "area_weekly.parquet"))
        sector = area[area["route"] == "sector"].set_index("method")
        area = area[(area["route"] == "individual") & (area["estimator"] == "expected")].set_index("method")
        (b_mean, b_sd), (_, b_draw_sd) = _b_moments(weights, "weight"), _b_moments(weights, "draw_weight")
        for method, s in run_scores(copy, region_dir)["scores"].items():
            rows.append({"remote_intercept_max": b_max, "intercept_evidence_drops": n_drops, "labels": labels,
                         "method": method, **_headline(s),
                         "area_mae_pts": area["mae_pts"].get(method), "area_mean_error_pts":
                         area["mean_error_pts"].get(method), "area_coverage": area["coverage"].get(method),
                         "area_width_pts": area["width_pts"].get(method),
                         "sector_mae_pts": sector["mae_pts"].get(method),
                         "sector_mean_error_pts": sector["mean_error_pts"].get(method),
                         "sector_coverage": sector["coverage"].get(method),
                         "b_mean": b_mean, "b_sd": b_sd, "b_draw_sd": b_draw_sd, "stage_s": stage_s})
    return pd.DataFrame(rows)


SPREAD_WEEKS = (1, 3, 6, 12)
HYBRID_SHARES = (0.0, 0.28, 0.6)


def sweep(seed: int, users: int, out: Path, spreads=SPREAD_WEEKS, hybrid_shares=HYBRID_SHARES) -> pd.DataFrame:
    """Both methods on regions whose remote adoption is spread over ``spreads`` weeks (90 % of the remote
    workers start within that many weeks of the shock: the exponential delay of the generator has mean
    ``7 x weeks / ln 10`` days) and whose remote workers are hybrid in ``hybrid_shares``: AUC, remote weeks called
    unemployed, job losers found, false job losses, calibration error, out of fold."""
    from bench_pipeline import region_config

    rows = []
    for spread in spreads:
        for hybrid in hybrid_shares:
            name = f"sweep-{spread}w-h{int(round(hybrid * 100))}"
            (out / name).mkdir(parents=True, exist_ok=True)
            config = region_config(seed, users, out / name)
            text = re.sub(r"(?m)^\[synthetic\]$", "[synthetic]\nremote_delay_mean_days = "
                          f"{7 * spread / np.log(10):.3f}\nhybrid_share = {hybrid}", config.read_text(), count=1)
            config.write_text(text)
            run_dir = out / name / f"run-{seed}-{users}"
            _run(config, run_dir)
            region_dir = out / name / f"region-{seed}-{users}"
            scores = _scores(run_dir, region_dir)["scores"]
            for method, s in scores.items():
                rows.append({"spread_weeks": spread, "hybrid_share": hybrid, "method": method, **_headline(s)})
            print(pd.DataFrame(rows).tail(2).to_string(index=False), flush=True)
    return pd.DataFrame(rows)


def threshold_sweep(run_dir: Path, region_dir: Path, thresholds=(0.3, 0.4, 0.5, 0.6, 0.7)) -> dict:
    """Status of both methods re-derived at other thresholds on the run's probabilities: job losers found, remote
    weeks flagged, false job losses (the signal's drops re-read as runs of weeks above the threshold)."""
    import mobility
    from mobility.employment.classifier import classifier_status
    from mobility.employment.params import EmploymentParams
    from mobility.employment.status import SignalResult
    from mobility.employment.validation import evaluate_against_truth

    truth = truth_tables(region_dir, "weekly_status")["weekly_status"]
    emp = mobility.read_table(run_dir, "employment_weekly")
    out = {}
    for method, e in emp.groupby("method"):
        e = e.sort_values(["user_id", "week"])
        users, weeks = e["user_id"].astype(str).unique(), pd.DatetimeIndex(sorted(e["week"].unique()))
        p = e["p_unemployed"].to_numpy(float).reshape(len(users), len(weeks))
        sig = SignalResult(users, weeks, {"usable": np.isfinite(p)}, np.zeros(len(users)))
        for thr in thresholds:
            s = evaluate_against_truth(classifier_status(sig, p, params=EmploymentParams(
                unemployed_probability_min=thr)), truth)["classifier"]
            out[f"{method} {thr}"] = {k: round(s[k], 3) for k in ("losers_found_within_1", "remote_flagged_share",
                                                                 "false_loss_share")}
    return out


def summary_rows(results: dict) -> pd.DataFrame:
    rows = []
    for name, entry in results.items():
        for method, s in entry["scores"].items():
            rows.append({"run": name, "method": method, **_headline(s)})
    return pd.DataFrame(rows)


def simulated_panel(n_users: int, n_weeks: int, seed: int = 0):
    """A dense weekly attendance panel with planted teleworkers, job losers, silences and part-timers, and the
    daytime table of the same weeks."""
    from mobility.employment.sector import SECTORS

    rng = np.random.default_rng(seed)
    weeks = pd.date_range("2019-12-30", periods=n_weeks, freq="7D")
    shock = int(np.searchsorted(weeks, pd.Timestamp("2020-03-16")))
    tau = pd.Series(rng.uniform(0.05, 0.85, 20), index=list(SECTORS))
    w = rng.dirichlet(np.full(20, 0.3), n_users)
    x = w @ tau.to_numpy()
    remote = rng.random(n_users) < x
    loss = np.where(rng.random(n_users) < 0.15, rng.integers(shock, n_weeks, n_users), n_weeks + 1)
    days = np.where(rng.random(n_users) < 0.1, 2, 5)  # part-timers attend 2 weekdays
    col = np.arange(n_weeks)[None, :]
    at = np.where((col >= shock) & remote[:, None], 0, days[:, None]) * (col < loss[:, None])
    at = np.minimum(at, rng.binomial(5, 0.96, (n_users, n_weeks)))
    with_data = np.where(rng.random((n_users, n_weeks)) < 0.05, 0, 5)  # silent weeks
    at = np.minimum(at, with_data)
    users = np.array([f"u{i:07d}" for i in range(n_users)])
    weekly = pd.DataFrame({"user_id": np.repeat(users, n_weeks), "week": np.tile(weeks.values, n_users),
                           "usual_workdays": 5.0, "workdays_observed": with_data.ravel() * 1.0,
                           "workdays_at_work": at.ravel() * 1.0, "workhour_observed_h": with_data.ravel() * 9.0,
                           "workhour_at_work_h": at.ravel() * 8.0, "work_status": "fixed"})
    status = np.where(col >= loss[:, None], "unemployed", np.where((col >= shock) & remote[:, None], "remote",
                                                                    "employed"))
    truth = pd.DataFrame({"user_id": np.repeat(users, n_weeks), "week": np.tile(weeks.values, n_users),
                          "status": status.ravel()})
    features = pd.DataFrame(w, columns=[f"w_{s}" for s in SECTORS])
    features.insert(0, "user_id", users)
    homes = pd.DataFrame({"user_id": users, "home_cbg": rng.choice(["421010001001", "420450001001", "420910001001"],
                                                                   n_users)})
    base = pd.DataFrame({"user_id": users, "work_cbg": "421010001002"})
    # the week in the usual hours: work days away at the commute distance, other days at home with some outings
    # (job losers go out a little more on work days than remote workers, as both change from their commute)
    commute_km = rng.lognormal(1.8, 0.6, n_users)[:, None]
    lost = col >= loss[:, None]
    errands = rng.binomial(np.maximum(with_data - at, 0), np.where(lost, 0.35, 0.25))
    off_out = rng.binomial(2, 0.3, (n_users, n_weeks))
    seen_h = with_data * 8.0
    daytime = pd.DataFrame({
        "user_id": np.repeat(users, n_weeks), "week": np.tile(weeks.values, n_users),
        "usual_days_seen": with_data.ravel() * 1.0, "usual_days_out": errands.ravel() * 1.0,
        "off_days_seen": np.full(n_users * n_weeks, 2.0), "off_days_out": off_out.ravel() * 1.0,
        "usual_days_seen_all": with_data.ravel() * 1.0, "usual_days_out_all": errands.ravel() * 1.0,
        "off_days_seen_all": np.full(n_users * n_weeks, 2.0), "off_days_out_all": off_out.ravel() * 1.0,
        "usual_seen_h": seen_h.ravel(), "usual_home_h": np.maximum(seen_h - at * 8.0 - errands * 1.5, 0).ravel(),
        "usual_other_h": (errands * 1.5).ravel(), "off_seen_h": np.full(n_users * n_weeks, 16.0),
        "off_home_h": (16.0 - off_out * 2.0).ravel(),
        "daytime_distance_km": np.where(seen_h > 0, (at * 8.0 * commute_km + errands * 1.5 * 1.2)
                                        / np.maximum(seen_h, 1), np.nan).ravel(),
        "daytime_max_km": np.where(at > 0, commute_km, np.where(errands > 0, 2.0, 0.0)).ravel(),
        "workplace_id": np.ones(n_users * n_weeks), "usual_clock_h": np.full(n_users * n_weeks, 13.0)})
    return weekly, base, features, tau, truth, homes, daytime


def _peak_gb() -> float:
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)


def speed(n_users: int, n_weeks: int) -> dict:
    from mobility.employment.area import area_unemployment
    from mobility.employment.attendance import relative_attendance
    from mobility.employment.classifier import train_classifier
    from mobility.employment.features import weekly_features
    from mobility.employment.status import signal_status

    weekly, base, features, tau, truth, homes, daytime = simulated_panel(n_users, n_weeks)
    times, peak = {}, {"simulated_inputs": _peak_gb()}
    t = time.perf_counter()
    panel = relative_attendance(weekly, base)
    times["panel_s"], peak["panel"] = time.perf_counter() - t, _peak_gb()
    t1 = time.perf_counter()
    signal = signal_status(panel, features, tau, daytime=daytime)
    times["signal_s"], peak["signal"] = time.perf_counter() - t1, _peak_gb()
    t1 = time.perf_counter()
    mats = weekly_features(signal)
    times["features_s"], peak["features"] = time.perf_counter() - t1, _peak_gb()
    t1 = time.perf_counter()
    clf, evaluation, _, model = train_classifier(signal, mats, truth)
    times["cross_fitted_classifier_s"], peak["classifier"] = time.perf_counter() - t1, _peak_gb()
    t1 = time.perf_counter()
    emp = pd.concat([signal.tables["employment_weekly"], clf], ignore_index=True)
    area_unemployment(emp, homes)
    times["area_s"], peak["area"] = time.perf_counter() - t1, _peak_gb()
    times["total_s"] = time.perf_counter() - t
    times = {k: round(v, 1) for k, v in times.items()}
    times["user_weeks"] = n_users * n_weeks
    times["features"] = len(model.features)
    times["peak_rss_gb_after"] = peak
    times["cpu_s"] = round(time.process_time(), 1)
    times["out_of_fold_auc"] = {m: round(v["roc_auc"], 4) for m, v in evaluation["out_of_fold"].items()}
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["evidence", "checks", "scores", "speed", "sweep", "intercept", "oracle",
                                     "points"])
    ap.add_argument("--sizes", type=int, nargs="+", help="oracle, points: subsample sizes (users; all users always)")
    ap.add_argument("--draws", type=int, default=10, help="points: subsamples of each size")
    ap.add_argument("--gammas", type=float, nargs="+", default=None,
                    help="oracle: job_loss_telework_slope values (default: EmploymentParams' own)")
    ap.add_argument("--config", type=Path, help="intercept: the run's region config")
    ap.add_argument("--max", type=float, nargs="+", default=[0.0, 1.0], help="intercept: remote_intercept_max values")
    ap.add_argument("--drops", type=_drops_value, nargs="+", default=[None],
                    help="intercept: intercept_evidence_drops values ('default': the config's; 'all': every drop "
                         "counts in full)")
    ap.add_argument("--no-labels", action="store_true", help="intercept: leave the labelled panel out")
    ap.add_argument("--run", type=Path, help="checks, scores: a finished run folder")
    ap.add_argument("--region-dir", type=Path, help="checks, scores: its synthetic region folder")
    ap.add_argument("--limits", action="store_true", help="scores: add limits() (reads the run's visits)")
    ap.add_argument("--separation", action="store_true", help="scores: add separation()")
    ap.add_argument("--why", action="store_true", help="scores: add why_counts(), why job losers are not found")
    ap.add_argument("--users", type=int)
    ap.add_argument("--weeks", type=int, default=39)
    ap.add_argument("--seeds", type=int, nargs="+", default=[20200316, 2])
    ap.add_argument("--out", type=Path)
    ap.add_argument("--region", default="synthetic", help="synthetic config of the seeds (a name under pipelines/)")
    a = ap.parse_args()
    if a.what == "evidence":
        out = a.out or Path(tempfile.mkdtemp(prefix="bench_employment_"))
        out.mkdir(parents=True, exist_ok=True)
        results = evidence(a.seeds, a.users or 1000, out, a.region)
        print(json.dumps(results, indent=1, default=str))
        print(summary_rows(results).to_string(index=False))
    elif a.what == "sweep":
        out = a.out or Path(tempfile.mkdtemp(prefix="bench_employment_sweep_"))
        print(sweep(a.seeds[0], a.users or 1000, out).to_string(index=False))
    elif a.what == "intercept":
        out = a.out or Path(tempfile.mkdtemp(prefix="bench_employment_intercept_"))
        table = intercept(a.run, a.region_dir, a.config, out, a.max, labels=not a.no_labels, drops=a.drops)
        print(table.to_string(index=False))
    elif a.what == "oracle":
        sizes = [None, *sorted(set(a.sizes or []), reverse=True)]
        print(intercept_oracle(a.run, a.region_dir, sizes=sizes, gammas=a.gammas).round(3).to_string(index=False))
    elif a.what == "points":
        table = intercept_points(a.run, a.region_dir, sizes=a.sizes or (1000, 3000), draws=a.draws)
        print(table.round(4).to_string(index=False))
        err = table.assign(**{f"error_{k}": table[f"posterior_{k}"] - table["truth"] for k in ("mean", "mode", "b0")})
        print(err.groupby("users")[["error_mean", "error_mode", "error_b0", "b_mean", "b_mode"]]
              .agg(["mean", "std"]).round(3).to_string())
    elif a.what == "checks":
        print(json.dumps(checks(a.run, a.region_dir), indent=1, default=str))
    elif a.what == "scores":
        t0 = time.perf_counter()
        entry = run_scores(a.run, a.region_dir, with_limits=a.limits, with_separation=a.separation, with_why=a.why)
        entry["scores_s"] = round(time.perf_counter() - t0, 1)
        print(json.dumps(entry, indent=1, default=str))
        print(summary_rows({str(a.run): entry}).to_string(index=False))
    else:
        print(json.dumps(speed(a.users or 100_000, a.weeks), indent=1, default=str))


if __name__ == "__main__":
    main()
