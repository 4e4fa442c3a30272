"""Every script in benchmarks/ runs at HEAD: each on a tiny input, in its own process, as a user would run it.

Scripts of this package's own benchmarks honour ``--smoke`` (tiny sizes, one repeat). The others are run with
their own smallest arguments. A script that needs ``../shared/data/real`` is skipped where it is absent.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mobility.longitudinal.outputs import COMPARISON_NOTE, OUTCOME_NOTE
from mobility.pipeline import read_table
from mobility.report.methods import CAVEATS, TRANSFER_AREA, UNCALIBRATED_SIGNAL, uncalibrated_signal

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT / ".." / "shared" / "data" / "real"

# script -> (arguments for a tiny run, needs ../shared/data/real, slow: runs the whole pipeline)
SMOKE = {
    "bench_census.py": (["--smoke"], True, True),
    "bench_load_validate.py": (["--smoke"], False, False),
    "bench_metrics.py": (["--smoke"], False, False),
    "bench_scale.py": (["--smoke", "--data", "{tmp}"], False, False),
    "bench_stops.py": (["--smoke"], False, False),
    "bench_synthetic.py": (["--one", "1M pings (1,000 users x 4 weeks)"], False, False),
    "bench_longitudinal.py": (["2000", "16"], False, False),
    "bench_employment.py": (["speed", "--users", "2000", "--weeks", "26"], False, False),
    "bench_area.py": (["speed", "--users", "2000", "--weeks", "12", "--replicates", "10"], False, False),
    "bench_home_work.py": (["--users", "50"], False, False),
    "bench_report.py": (["--smoke", "--workdir", "{tmp}"], False, True),
    "bench_planted_effects.py": (["--users", "40"], False, True),
    "bench_pipeline.py": (["--users", "40", "--seeds", "1", "--out", "{tmp}"], False, True),
    "bench_merge_visits.py": (["--smoke", "--out", "{tmp}"], False, True),
    "bench_event_study_coverage.py": (["--seeds", "2", "--users", "200", "--weeks", "20"], False, False),
    "bench_pretrend_dating.py": (["--users", "40", "--seed", "3"], False, True),
    "bench_group_agreement.py": (["--smoke"], False, True),
    "bench_job_loss_slope.py": (["--smoke"], True, False),
    "bench_groups.py": (["--config", "synthetic", "--users", "40", "--seeds", "1", "--out", "{tmp}",
                         "--until", "employment"], False, True),
}


def test_every_script_has_a_smoke_run():
    assert sorted(SMOKE) == sorted(p.name for p in (ROOT / "benchmarks").glob("bench_*.py"))


@pytest.mark.parametrize("script", [pytest.param(name, marks=[pytest.mark.slow] if slow else [])
                                    for name, (_, _, slow) in SMOKE.items()])
def test_benchmark_script_runs(script, tmp_path):
    args, needs_real, _ = SMOKE[script]
    if needs_real and not REAL.is_dir():
        pytest.skip(f"{script} reads ../shared/data/real, absent here")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "benchmarks")]), "MPLBACKEND": "Agg"}
    command = [sys.executable, str(ROOT / "benchmarks" / script), *(a.format(tmp=tmp_path) for a in args)]
    proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"{script} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    assert proc.stdout.strip(), f"{script} printed nothing"


def test_employment_scores_of_a_finished_run_without_the_true_stops(tmp_path):
    """``bench_employment.py scores`` scores any finished run of a synthetic region from its ``people`` and
    ``weekly_status`` truth alone (at 100,000 people the true stops are 1.6 GB of Parquet): a run whose statuses
    are the truth finds every job loser in its week, flags no remote week and no stayer."""
    import json
    import shutil

    import numpy as np
    import pandas as pd

    from mobility.io.atomic import write_parquet
    from mobility.synthetic import SyntheticParams, generate_region

    region = generate_region(tmp_path / "region", SyntheticParams(
        n_users=60, start="2020-03-02", end="2020-04-26", shock_date="2020-03-16", hazard_peak_date="2020-03-16",
        peak_job_loss_hazard_per_week=0.1, rehire_start_date="2020-06-01"), seed=3)
    ws = pd.read_parquet(region / "truth" / "weekly_status.parquet")
    (region / "truth" / "stops.parquet").unlink()
    shutil.rmtree(region / "pings")
    lost = (ws["status"] == "unemployed").to_numpy()
    labour = ws["status"].isin(["employed", "remote", "unemployed"]).to_numpy()
    status = np.where(lost, "unemployed", np.where(labour, "employed", "unknown"))
    emp = pd.concat([pd.DataFrame({"user_id": ws["user_id"], "week": ws["week"], "status": status, "method": m,
                                   "p_unemployed": np.where(lost, 0.9, np.where(labour, 0.1, np.nan)),
                                   "weeks_since_job_loss": ws["weeks_since_job_loss"].astype("Int64")})
                     for m in ("classifier", "signal")], ignore_index=True)
    write_parquet(emp, tmp_path / "run" / "employment_weekly" / "part-00000.parquet")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "benchmarks")])}
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_employment.py"), "scores", "--run",
                           str(tmp_path / "run"), "--region-dir", str(region)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout[:proc.stdout.rindex("}") + 1])
    losers = ws.loc[lost, "user_id"].nunique()
    assert losers >= 3 and (ws["status"] == "remote").any()
    for method in ("classifier", "signal"):
        s = out["scores"][method]
        assert s["job_losers"] == losers and s["losers_found_within_1"] == 1.0 and s["roc_auc"] == 1.0
        assert s["remote_flagged_share"] == 0.0 and s["false_loss_share"] == 0.0
        by_role = s["by_group"]
        assert sum(g["job_losers"] for g in by_role.values()) == losers
        assert "by_schedule" in s and "by_phone_kind" in s


def test_employment_scores_why_give_each_lost_loser_its_reason(tmp_path):
    """``bench_employment.py scores --why`` on a hand-made region of ten weeks: each true job loser gets the first
    reason that holds (``why_not_found``), the same for both methods where their statuses agree; its ``found``
    are the scores' losers found +-1 week; a planned remote start after the loss is an on-site job loser, one
    before it a remote job loser (``kinds_of_people``); a loser without a week of known status is not scored."""
    import json

    import numpy as np
    import pandas as pd

    from mobility.io.atomic import write_parquet

    wk = pd.date_range("2020-03-02", periods=10, freq="7D")
    # user: (true status per week, true loss week, remote start week, signal's statuses, classifier's statuses)
    E, R, U, N = "employed", "remote", "unemployed", "unknown"
    lost = lambda at, until=10: [E] * at + [U] * (until - at) + [E] * (10 - until)
    flag = lambda at: [E] * at + [U] * (10 - at)
    people = {
        "a": (lost(2), 2, None, flag(2), flag(5)),        # found; the classifier 3 weeks late, week 2 known
        "b": (lost(2, 4), 2, None, [E] * 10, [E] * 10),   # re-hired after 2 weeks: short spell
        "c": (lost(2), 2, None, [E] * 2 + [N] * 6 + [E] * 2, [E] * 2 + [N] * 6 + [E] * 2),  # silent
        "d": ([E] + [R] * 3 + [U] * 6, 4, 1, [E] * 10, [E] * 10),  # remote first: remote before the loss
        "e": (lost(5), 5, None, flag(2), flag(2)),        # an earlier drop called a loss: dated early
        "f": (lost(2), 2, None, [E] * 10, [E] * 10),      # no drop
        "g": (lost(2), 2, None, [E] * 10, [E] * 10),      # a drop of posterior 0.3: called remote
        "h": (lost(3), 3, None, [E] * 3 + [N] * 2 + [U] * 5, [E] * 3 + [N] * 2 + [U] * 5),  # late, week 3 unknown
        "i": ([E] * 10, None, None, [E] * 10, [E] * 10),  # a stayer
        "j": (lost(2), 2, None, [N] * 10, [N] * 10),      # never seen: not scored
        "k": (lost(2), 2, 4, flag(3), flag(3)),           # remote planned after the loss: on-site, found
    }
    ids = sorted(people)
    status = np.array([people[u][0] for u in ids])
    loss = {u: people[u][1] for u in ids}
    since = pd.array([c - loss[u] if loss[u] is not None and c >= loss[u] else None for u in ids for c in range(10)],
                     dtype="Int64")
    truth = tmp_path / "region" / "truth"
    write_parquet(pd.DataFrame({"user_id": np.repeat(ids, 10), "week": np.tile(wk, len(ids)),
                                "status": status.ravel(), "weeks_since_job_loss": since}), truth / "weekly_status.parquet")
    at = lambda i: None if i is None else wk[i]
    write_parquet(pd.DataFrame({"user_id": ids, "work_cbg": "421010001001", "goes_remote": [people[u][2] is not None
                                                                                              for u in ids],
                                "job_loss_date": pd.to_datetime([at(loss[u]) for u in ids]),
                                "remote_start_date": pd.to_datetime([at(people[u][2]) for u in ids]),
                                "schedule": ["part_time" if u == "a" else "day" for u in ids]}),
                  truth / "people.parquet")
    frames = []
    for method, col in (("signal", 3), ("classifier", 4)):
        st = np.array([people[u][col] for u in ids])
        first = [int(np.argmax(row == U)) if (row == U).any() else None for row in st]
        frames.append(pd.DataFrame({
            "user_id": np.repeat(ids, 10), "week": np.tile(wk, len(ids)), "method": method, "status": st.ravel(),
            "p_unemployed": np.where(st == U, 0.9, np.where(st == E, 0.1, np.nan)).ravel(),
            "weeks_since_job_loss": pd.array([c - f if f is not None and c >= f else None for f in first
                                              for c in range(10)], dtype="Int64")}))
    run = tmp_path / "run"
    write_parquet(pd.concat(frames, ignore_index=True), run / "employment_weekly" / "part-00000.parquet")
    write_parquet(pd.DataFrame({"user_id": ["g", "a"], "start_week": [wk[2], wk[2]], "covered_weeks": [8, 8],
                                "posterior": [0.3, 0.9]}), run / "drop_evidence" / "part-00000.parquet")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "benchmarks")])}
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_employment.py"), "scores", "--why",
                           "--run", str(run), "--region-dir", str(tmp_path / "region")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout[:proc.stdout.rindex("}") + 1])
    why = out["why"]
    assert why["signal"]["all"] == {"found": 2, "short spell": 1, "silent": 1, "remote before the loss": 1,
                                    "dated early": 1, "no drop": 1, "called remote": 1,
                                    "dated late, loss week unknown": 1}
    assert why["classifier"]["all"] == {**why["signal"]["all"], "found": 1, "dated late, loss week known": 1}
    assert why["signal"]["remote job loser"] == {"remote before the loss": 1}
    assert sum(why["signal"]["on-site job loser"].values()) == 8 and why["not_scored"] == {"on-site job loser": 1}
    assert why["signal"]["by_schedule"]["part_time"] == {"found": 1}
    assert why["classifier"]["by_schedule"]["part_time"] == {"dated late, loss week known": 1}
    assert sum(why["classifier"]["by_schedule"]["day"].values()) == 8
    for method in ("signal", "classifier"):
        s = out["scores"][method]
        assert s["job_losers"] == 9 and round(s["losers_found_within_1"] * 9) == why[method]["all"]["found"]
        assert s["by_group"]["remote job loser"]["job_losers"] == 1


def test_employment_checks_read_a_run_partition_by_partition(tmp_path, load_script):
    """``bench_employment``'s signal and features of a finished run, computed one partition of visits at a time
    as the pipeline does (the 100,000-user run's visits do not fit in memory at once with the rest), equal those
    of all visits and labels at once."""
    import numpy as np
    import pandas as pd

    from mobility.census import aggregate_lodes, read_lodes, read_teleworkability, work_features
    from mobility.employment.attendance import (
        baseline_work_cbg,
        baseline_workplace,
        relative_attendance,
        weekly_attendance,
        work_days,
    )
    from mobility.employment.daytime import daytime_weekly
    from mobility.employment.features import weekly_features
    from mobility.employment.status import signal_status
    from mobility.io.atomic import write_parquet
    from mobility.pings import partition_of
    from mobility.synthetic import SyntheticParams, generate_region, load_truth

    region = generate_region(tmp_path / "region", SyntheticParams(n_users=120, start="2020-01-01", end="2020-04-30"),
                             seed=5)
    truth = load_truth(region)
    visits = truth["stops"].rename(columns={"place_id": "location_id"})[
        ["user_id", "start", "end", "lat", "lon", "location_id"]]
    d = truth["daily"]
    labels = pd.DataFrame({"user_id": d["user_id"], "date": d["date"], "home_cbg": d["home_cbg"],
                           "work_cbg": d["work_cbg"], "home_location_id": d["home_place_id"].astype("Int64"),
                           "work_location_id": d["work_place_id"].astype("Int64"),
                           "work_status": np.where(d["work_place_id"].notna(), "fixed", "none")})
    part_v, part_l = partition_of(visits["user_id"], 3), partition_of(labels["user_id"], 3)
    for k in range(3):
        write_parquet(visits[part_v == k], tmp_path / "run" / "visits" / f"part-{k:05d}.parquet")
        write_parquet(labels[part_l == k], tmp_path / "run" / "home_work_daily" / f"part-{k:05d}.parquet")
    bench = load_script("benchmarks/bench_employment.py")
    signal, mats = bench._signal_and_features(tmp_path / "run", region, "America/New_York")
    # all at once, as the harness did before
    wac = read_lodes(next((region / "census" / "lodes").glob("*wac*")))
    tau = read_teleworkability(region / "census" / "telework" / "NAICS_workfromhome.csv")
    features = work_features(baseline_work_cbg(labels), aggregate_lodes(wac, "cbg"), tau)
    days = work_days(visits, labels, timezone="America/New_York")
    panel = relative_attendance(weekly_attendance(visits, labels, days=days), baseline_workplace(labels))
    whole = signal_status(panel, features, tau, daytime=daytime_weekly(visits, labels, days=days))
    assert len(signal.users) > 40 and list(signal.users) == list(whole.users)
    pd.testing.assert_frame_equal(signal.tables["employment_weekly"], whole.tables["employment_weekly"])
    expected = weekly_features(whole)
    assert sorted(mats) == sorted(expected)
    for name in expected:
        np.testing.assert_array_equal(mats[name], expected[name], err_msg=name)


@pytest.mark.slow
def test_area_runs_scores_a_finished_run_under_each_setting(tmp_path):
    """``bench_area.py runs`` (how the 10,000- and 100,000-user runs were scored) recomputes a finished run's area
    table under each setting and prints the observed and filled weeks' calibration."""
    import re

    sys.path.insert(0, str(ROOT / "tests" / "report"))
    from runs import make_run

    config, out = make_run(tmp_path, n_users=60, seed=60)
    region = Path(re.search(r'(?m)^dir = "([^"]*)"', config.read_text()).group(1))
    region = region if region.is_absolute() else config.parent / region
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "benchmarks")])}
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_area.py"), "runs", "--run", str(out),
                           "--region", str(region)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for setting in ("before", "filled", "filled+week", "default"):
        assert f"| {setting} " in proc.stdout
    assert "observed and filled weeks, before" in proc.stdout and re.search(r"\| signal +\| filled", proc.stdout)


READER_NOTES = {"report caveats": " ".join(CAVEATS), "uncalibrated signal": UNCALIBRATED_SIGNAL,
                "uncalibrated signal, b known": uncalibrated_signal(False),
                "uncalibrated signal, no job-loss slope": uncalibrated_signal(True, 0),
                "transferred model": TRANSFER_AREA, "comparisons": COMPARISON_NOTE, "outcomes": OUTCOME_NOTE}
"""Texts readers see (the report's caveats and warnings, the longitudinal README's notes) that cite benchmarks."""


@pytest.mark.parametrize("name", sorted(READER_NOTES))
def test_reader_notes_cite_benchmark_sections_without_copying_their_numbers(name):
    """A measured number copied by hand into a note goes stale when benchmarks/README.md is measured again: a note
    names the section that holds the numbers (a heading of benchmarks/README.md) and says what they mean in words.
    Percentages other than the intervals' 95 %, points and decimals are numbers copied from a measurement."""
    text = READER_NOTES[name]
    copied = [m for m in re.findall(r"\d+(?:\.\d+)?(?:-\d+(?:\.\d+)?)? ?(?:%|points?\b)|\d+\.\d+", text)
              if m.replace(" ", "") != "95%"]
    assert copied == [], f"{name}: numbers copied from benchmarks/README.md: {copied}"
    headings = [line for line in (ROOT / "benchmarks" / "README.md").read_text().splitlines() if line.startswith("#")]
    cited = re.findall(r"benchmarks/README\.md, [\"']([^\"']+)[\"']", text)
    assert len(cited) == text.count("benchmarks/README.md"), f"{name}: cite benchmarks/README.md with a section"
    for section in cited:
        assert any(section in h for h in headings), f"{name}: no section {section!r} in benchmarks/README.md"


@pytest.mark.slow
def test_employment_intercept_runs_a_finished_run_again_per_setting(tmp_path):
    """``bench_employment.py intercept`` (how "The part of remote adoption that teleworkability does not explain"
    was measured) runs a finished run's employment stage again with ``remote_intercept_max`` 0 and 1 without
    labels, on copies: the run itself is left as it was, and b = 0 is the one-row table of the model before."""
    import re

    sys.path.insert(0, str(ROOT / "tests" / "report"))
    from runs import make_run

    config, out = make_run(tmp_path, n_users=60, seed=60)
    before = sorted(p.name for p in out.iterdir())
    region = Path(re.search(r'(?m)^dir = "([^"]*)"', config.read_text()).group(1))
    region = region if region.is_absolute() else config.parent / region
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "benchmarks")])}
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_employment.py"), "intercept", "--run",
                           str(out), "--region-dir", str(region), "--config", str(config), "--no-labels", "--out",
                           str(tmp_path / "copies")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [line.split() for line in proc.stdout.splitlines()
             if re.match(r"\s*[01]\.0\s+None\s+False\s+signal", line)]  # intercept_evidence_drops: the default
    assert [line[0] for line in lines] == ["0.0", "1.0"]
    header = proc.stdout.splitlines()[[i for i, line in enumerate(proc.stdout.splitlines())
                                       if "remote_intercept_max" in line][-1]].split()
    assert float(lines[0][header.index("b_mean")]) == 0.0 and 0.0 <= float(lines[1][header.index("b_mean")]) <= 1.0
    assert sorted(p.name for p in out.iterdir()) == before and (tmp_path / "copies" / "out-b0-nolabels").is_dir()


@pytest.mark.slow
def test_employment_oracle_reruns_the_signal_of_a_finished_run_on_its_users(tmp_path):
    """``bench_employment.py oracle`` ("Block groups as varied as real ones"): on all users it reruns the very signal
    the pipeline ran (b's posterior mean and the scored drops of the run's own tables), its oracle b is a value of
    the grid, the true job-loss share is a share; a subsample has that many users."""
    import re

    sys.path.insert(0, str(ROOT / "tests" / "report"))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_employment import intercept_oracle
    from runs import make_run

    config, out = make_run(tmp_path, n_users=60, seed=60)
    region = Path(re.search(r'(?m)^dir = "([^"]*)"', config.read_text()).group(1))
    region = region if region.is_absolute() else config.parent / region
    from mobility.employment.params import EmploymentParams

    # the pipeline's own gamma, the default
    table = intercept_oracle(out, region, sizes=(None, 40), draws=1,
                             gammas=(EmploymentParams().job_loss_telework_slope,))
    weights = read_table(out, "remote_intercept")
    drops = read_table(out, "drop_evidence")
    whole = table.iloc[0]
    assert whole["scored_drops"] > 0 and 0 <= whole["b_mean"] <= 1  # drops to weigh b with: not a vacuous match
    assert whole["b_mean"] == pytest.approx(float(weights["weight"] @ weights["remote_intercept"]))
    assert whole["scored_drops"] == (drops["category"] > 0).sum()
    assert min(abs(whole["b_oracle"] - weights["remote_intercept"])) < 1e-12
    assert table["true_job_loss_share"].between(0, 1).all() or table["scored_drops"].eq(0).any()
    assert table["users"].tolist()[1] == 40


@pytest.mark.slow
def test_employment_points_rerun_the_signal_at_b_s_mode_its_mean_and_zero(tmp_path):
    """``bench_employment.py points`` ("Why the rates of small panels were low"): on all users its "mean" column is
    the pipeline's own signal (the default point), the scored drops' mean posterior of the run's ``drop_evidence``;
    b's mode is a value of the grid, the mean within its range; a subsample has that many users."""
    import re

    sys.path.insert(0, str(ROOT / "tests" / "report"))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_employment import intercept_points
    from runs import make_run

    config, out = make_run(tmp_path, n_users=60, seed=60)
    region = Path(re.search(r'(?m)^dir = "([^"]*)"', config.read_text()).group(1))
    region = region if region.is_absolute() else config.parent / region
    table = intercept_points(out, region, sizes=(40,), draws=1)
    drops = read_table(out, "drop_evidence")
    grid = read_table(out, "remote_intercept")["remote_intercept"]
    whole = table[table["users"] > 40].iloc[0]
    assert whole["drops"] == (drops["category"] > 0).sum() > 0
    assert whole["posterior_mean"] == pytest.approx(drops.loc[drops["category"] > 0, "posterior"].mean())
    assert min(abs(whole["b_mode"] - grid)) < 1e-12 and 0 <= whole["b_mean"] <= 1
    assert table["users"].tolist()[0] == 40 and table[["posterior_mode", "posterior_b0"]].stack().between(0, 1).all()
