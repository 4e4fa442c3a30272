"""Every script in benchmarks/ runs at HEAD: each on a tiny input, in its own process, as a user would run it.

Scripts of this package's own benchmarks honour ``--smoke`` (tiny sizes, one repeat). The others are run with
their own smallest arguments. A script that needs ``../shared/data/real`` is skipped where it is absent.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

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
