"""The whole report on finished runs of two synthetic regions: files, contents, privacy scan, CLI, errors."""

import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import mobility
from mobility.errors import MobilityError
from mobility.census import feature_columns
from mobility.employment.params import EmploymentParams
from mobility.pipeline import read_table
from mobility.report import build_report, report_for_region
from mobility.report.coverage import coverage_table
from mobility.report.inputs import RunOutputs, load_run
from mobility.report.mobility_gap import mobility_by_status

from .runs import make_run

MONTH = "2020-04"


@pytest.fixture(scope="module", params=[40, 150], ids=["users40", "users150"])
def run(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"report{request.param}")
    config, out = make_run(folder, n_users=request.param, seed=request.param)
    info = report_for_region(str(config), MONTH, out=str(out))
    return config, out, info


def output_files(info):
    folder = info["report_dir"]
    from pathlib import Path

    return sorted(p for p in Path(folder).rglob("*") if p.is_file())


@pytest.mark.slow
def test_report_files_and_sections(run):
    _, out, info = run
    names = {p.name for p in output_files(info)}
    assert {"report.html", "report.json", "unemployment_trend.csv", "unemployment_month.csv",
            "official_comparison.csv", "mobility_by_status.csv", "coverage.csv", "parameters.csv",
            "run_summary.csv"} <= names
    assert info["sections_missing"] == []
    page = (out / "report" / MONTH / "report.html").read_text()
    for title in ("Unemployment by county and state", "Map of county estimates", "Comparison with official series",
                  "Mobility of job losers and the employed", "Data coverage", "Methods and caveats"):
        assert title in page
    # every figure is embedded, nothing is fetched
    assert len(re.findall(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]{100,}"', page)) == 6
    assert "<script" not in page and not re.search(r'(src|href)="(https?:|file:|/)', page)
    # methods come from the manifest: a stage parameter and a package version
    manifest = json.loads((out / "run.json").read_text())
    params = pd.read_csv(out / "report" / MONTH / "tables" / "parameters.csv")
    radius = params[(params["stage"] == "stops") & (params["parameter"] == "radius_m")]["value"].iloc[0]
    assert float(radius) == manifest["stages"]["stops"]["params"]["radius_m"]
    assert "version: pandas" in page and manifest["versions"]["pandas"] in page


@pytest.mark.slow
def test_report_numbers_match_the_area_table(run):
    _, out, info = run
    area = mobility.read_table(out, "area_unemployment")  # the table the report read
    month = area[(area["method"] == "signal") & (area["route"] == "individual") & (area["period"] == "month")
                 & (area["period_start"] == pd.Timestamp(f"{MONTH}-01"))]
    table = pd.read_csv(out / "report" / MONTH / "tables" / "unemployment_month.csv", dtype={"fips": str})
    assert len(table) == len(month)
    names = {"42": "Pennsylvania", "42101": "Philadelphia County, PA", "42045": "Delaware County, PA",
             "42091": "Montgomery County, PA"}
    for r in month.itertuples():
        row = table[(table["level"] == r.level) & (table["fips"] == r.area)].iloc[0]
        assert row["place"] == names[r.area]
        if r.suppressed:
            assert row["suppressed"] and np.isnan(row["rate_pct"]) and np.isnan(row["n_users"])
        else:
            assert row["n_users"] == r.n_users
            # in percent; the CSV rounds to 3 decimals
            assert row["rate_pct"] == pytest.approx(100 * r.unemployed / r.labour_force, abs=6e-4)
            assert row["rate_low_pct"] <= row["rate_pct"] <= row["rate_high_pct"]


def _one_part_copy(out, folder, row_group_size=37):
    """A copy of a finished run whose partitioned tables are each one part (every user in part-00000), and
    whose employment_weekly has row groups of ``row_group_size`` rows, so most users' rows span two."""
    import shutil

    import pyarrow as pa
    import pyarrow.parquet as pq

    shutil.copytree(out, folder, ignore=shutil.ignore_patterns("report", "pings", "stops", "visits"))
    for name in ("metrics_weekly", "metrics_monthly", "home_work_daily", "user_features"):
        whole = read_table(out, name)
        shutil.rmtree(folder / name)
        (folder / name).mkdir()
        whole.to_parquet(folder / name / "part-00000.parquet")
    table = pa.Table.from_pandas(read_table(out, "employment_weekly"), preserve_index=False)
    pq.write_table(table, folder / "employment_weekly" / "part-00000.parquet", row_group_size=row_group_size)
    return folder


def test_a_run_in_several_parts_gives_the_report_of_the_run_in_one_part(run, tmp_path, monkeypatch):
    """The report reduces every table of user-days, -weeks and -months a part (a batch of rows of
    employment_weekly) at a time; the run's two partitions give the tables of the same run in one part, its
    employment_weekly read 29 rows at a time from row groups of 37 (users cut across both), and the tables
    hold the numbers counted here on the whole tables."""
    from mobility.report import inputs

    monkeypatch.setattr(inputs, "BATCH_ROWS", 29)
    _, out, _ = run
    r = load_run(out)
    for name in ("metrics_weekly", "metrics_monthly", "home_work_daily", "user_features"):
        parts = list(r.parts(name, columns=("user_id",)))
        assert len(parts) == 2 and all(len(p) for p in parts)   # n_partitions = 2, both non-empty
        assert not set(parts[0]["user_id"]) & set(parts[1]["user_id"])
    assert set(r.tables) <= {"area_unemployment"}   # nothing of users is read whole
    one = load_run(_one_part_copy(out, tmp_path / "one"))
    assert pq_row_groups(one.out_dir / "employment_weekly" / "part-00000.parquet") > 5
    reports = {}
    for how, folder in (("parts", out), ("one", one.out_dir)):
        info = build_report(folder, MONTH, report_dir=tmp_path / f"report-{how}", k_min_users=2, baseline_months=1,
                            method="signal")
        reports[how] = {name: pd.read_csv(tmp_path / f"report-{how}" / path) for name, path in info["files"].items()
                        if path.endswith(".csv") and name not in ("run_summary", "parameters")}
    assert reports["parts"].keys() == reports["one"].keys() >= {"coverage", "mobility_by_status"}
    for name in reports["parts"]:
        pd.testing.assert_frame_equal(reports["parts"][name], reports["one"][name], check_exact=False, rtol=1e-12)
    coverage = reports["parts"]["coverage"]
    by_week = {measure: rows.set_index("period_start")["n_users"]
               for measure, rows in coverage[coverage["period"] == "week"].groupby("measure")}
    # counted here on the whole tables
    weekly = read_table(out, "metrics_weekly")
    weekly = weekly[weekly["coverage_h"] > 0]
    week = weekly["period_start"].dt.tz_convert(r.timezone).dt.strftime("%Y-%m-%d")
    n_data = weekly.groupby(week)["user_id"].nunique()
    pd.testing.assert_series_equal(by_week["with data"].loc[n_data.index], n_data.astype(float), check_names=False)
    median = weekly.groupby(week)["coverage_h"].median()
    got = coverage[(coverage["period"] == "week") & (coverage["measure"] == "with data")].set_index("period_start")
    pd.testing.assert_series_equal(got["median_hours"].loc[median.index], median, check_names=False)
    emp = read_table(out, "employment_weekly")
    emp = emp[emp["method"] == "signal"]
    emp_month = (emp["week"] + pd.Timedelta(days=3)).dt.strftime("%Y-%m")
    month_rows = coverage[(coverage["period"] == "month")].set_index("measure")["n_users"]
    assert month_rows["status known"] == emp[(emp_month == MONTH) & emp["status"].isin(["employed", "unemployed"])][
        "user_id"].nunique()
    losers = set(emp[(emp_month == MONTH) & (emp["status"] == "unemployed")]["user_id"])
    assert losers  # and the cell shows them, or is suppressed (fewer than k = 2 users)
    assert month_rows["job losers"] == len(losers) if len(losers) >= 2 else np.isnan(month_rows["job losers"])
    monthly = read_table(out, "metrics_monthly")
    month_of = monthly["period_start"].dt.tz_convert(r.timezone).dt.strftime("%Y-%m")
    radius = monthly[(month_of == MONTH) & monthly["user_id"].isin(losers)]["radius_of_gyration_km"]
    gap = reports["parts"]["mobility_by_status"]
    row = gap[(gap["dimension"] == "all") & (gap["status"] == "lost their job")
              & (gap["metric_code"] == "radius_of_gyration_km")].iloc[0]
    if radius.notna().sum() < 2:  # one job loser (the 40-person region): the cell is suppressed, k = 2
        assert np.isnan(row["n_users"]) and np.isnan(row["mean"])
        return
    assert row["n_users"] == radius.notna().sum()
    assert row["mean"] == pytest.approx(radius.mean(), abs=6e-4)   # the CSV rounds to 3 decimals
    half = 1.959963984540054 * radius.std(ddof=1) / np.sqrt(radius.notna().sum())
    assert row["mean_high"] == pytest.approx(radius.mean() + half, abs=6e-4)


def pq_row_groups(path):
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).num_row_groups


def test_employment_is_read_in_batches_of_whole_users_with_categories(run, tmp_path, monkeypatch):
    """user_batches gives each method's rows, every user in one batch, statuses as categories, whatever the
    batches and row groups; the coverage and mobility tables of the batches are those of the whole table read
    as text; rows out of user order are an error, not a silent miscount."""
    from mobility.report import inputs

    monkeypatch.setattr(inputs, "BATCH_ROWS", 29)
    _, out, _ = run
    one = load_run(_one_part_copy(out, tmp_path / "one"))
    text = read_table(out, "employment_weekly", columns=["user_id", "week", "method", "status"])
    assert not isinstance(text["status"].dtype, pd.CategoricalDtype)
    methods = set(text["method"])
    assert "signal" in methods
    for method in ("signal", "classifier"):
        batches = list(one.user_batches("employment_weekly", method))
        if method not in methods:   # the tiny regions have no labels to train a classifier on
            assert batches == []
            continue
        assert len(batches) > 5
        assert all(isinstance(b["status"].dtype, pd.CategoricalDtype) for b in batches)
        users = [set(b["user_id"]) for b in batches]
        assert sum(map(len, users)) == len(set().union(*users))   # no user in two batches
        stacked = pd.concat(batches, ignore_index=True).astype({"method": object, "status": object})
        expected = text[text["method"] == method].reset_index(drop=True).astype({"method": object, "status": object})
        pd.testing.assert_frame_equal(stacked, expected, check_dtype=False)
        weekly = read_table(out, "metrics_weekly")
        cov = [coverage_table(weekly, MONTH, employment=e, method=method, timezone=one.timezone, k_min_users=2)
               for e in (one.user_batches("employment_weekly", method), text)]
        pd.testing.assert_frame_equal(cov[0], cov[1])
        losers = text[(text["method"] == method) & (text["status"] == "unemployed")]
        if losers.groupby("week")["user_id"].nunique().max() >= 2:  # cells of job losers that are not suppressed:
            assert cov[0].query("measure == 'job losers'")["n_users"].sum() > 0  # the tables are not empty
        monthly = read_table(out, "metrics_monthly")
        gap = [mobility_by_status(monthly, e, None, MONTH, timezone=one.timezone, baseline_months=1, method=method,
                                  k_min_users=2) for e in (one.user_batches("employment_weekly", method), text)]
        pd.testing.assert_frame_equal(gap[0], gap[1])
    shuffled = text.sample(frac=1, random_state=0)
    shuffled.to_parquet(one.out_dir / "employment_weekly" / "part-00000.parquet")
    with pytest.raises(MobilityError, match="not sorted by user_id"):
        list(one.user_batches("employment_weekly", "signal"))


@pytest.mark.slow
def test_privacy_scan_of_every_output(run, request):
    """No user id, coordinate or small cell anywhere, checked against the run's own pings and visits."""
    _, out, info = run
    pings = mobility.read_table(out, "pings")
    visits = mobility.read_table(out, "visits", columns=["lat", "lon"])
    ids = set(pings["user_id"].astype(str))
    coords = set()
    for frame in (pings[["lat", "lon"]], visits):
        for col in ("lat", "lon"):
            coords.update(f"{v:.4f}" for v in frame[col].to_numpy()[:: max(1, len(frame) // 5000)])
    id_pattern = re.compile(r"\bu\d{6}\b")
    n_small_seen = 0
    for path in output_files(info):
        text = path.read_text(errors="replace")
        hits = [m for m in id_pattern.findall(text) if m in ids]
        assert not hits, f"{path.name} contains user ids {hits[:3]}"
        numbers = set(re.findall(r"-?\d+\.\d{4}", text))
        assert not numbers & coords, f"{path.name} contains coordinates {sorted(numbers & coords)[:3]}"
        if path.suffix == ".csv":
            t = pd.read_csv(path)
            assert not {"user_id", "lat", "lon", "latitude", "longitude"} & set(t.columns)
            if "n_users" in t.columns:
                assert not (t["n_users"] < 10).any(), f"{path.name} publishes a cell below k"
                if "suppressed" in t.columns:
                    public = ["fips", "official_pct"]   # labels, and official series (public data)
                    values = t.select_dtypes(include="number").drop(columns=public, errors="ignore")
                    assert values[t["suppressed"].astype(bool)].isna().all().all()
                    n_small_seen += int(t["suppressed"].sum())
    if info["report_dir"].endswith(MONTH) and request.node.callspec.params["run"] == 40:
        assert n_small_seen > 0   # the small region has cells to suppress


@pytest.mark.slow
def test_cli_writes_report_and_pdf(run, tmp_path, request):
    config, out, _ = run
    if request.node.callspec.params["run"] != 150:
        pytest.skip("the CLI is exercised once, on the larger region")
    from mobility.report.pdf import find_chromium

    args = [sys.executable, "-m", "mobility.report", "--region", str(config), "--month", "2020-03",
            "--out", str(out), "--k", "12"]
    if find_chromium():
        args.append("--pdf")
    proc = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    folder = out / "report" / "2020-03"
    info = json.loads((folder / "report.json").read_text())
    assert info["k_min_users"] == 12 and info["month"] == "2020-03"
    assert not (pd.read_csv(folder / "tables" / "coverage.csv")["n_users"] < 12).any()
    if find_chromium():
        assert (folder / "report.pdf").read_bytes()[:5] == b"%PDF-"
    bad = subprocess.run([sys.executable, "-m", "mobility.report", "--region", str(config), "--month", "2020-4",
                          "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "YYYY-MM" in bad.stderr


def _hand_made_run(folder, region="x"):
    users = [f"u{i:06d}" for i in range(12)]
    metrics = pd.DataFrame({"user_id": users, "period_start": pd.Timestamp("2020-04-06 04:00", tz="UTC"),
                            "coverage_h": 50.0, "radius_of_gyration_km": 3.0, "exploration_rate": 0.1,
                            "distinct_locations": 4})
    for name in ("metrics_weekly", "metrics_monthly"):
        (folder / name).mkdir()
        metrics.to_parquet(folder / name / "part-00000.parquet")
    (folder / "run.json").write_text(json.dumps({"region": region, "stages": {}}))


def test_missing_run_and_missing_employment(tmp_path):
    with pytest.raises(MobilityError, match="no run.json"):
        build_report(tmp_path, MONTH)
    (tmp_path / "run.json").write_text(json.dumps({"region": "x", "stages": {}}))
    with pytest.raises(MobilityError, match="metrics_weekly"):
        build_report(tmp_path, MONTH)
    _hand_made_run(tmp_path)
    info = build_report(tmp_path, MONTH)
    assert set(info["sections_missing"]) == {"unemployment", "mobility"}
    page = (tmp_path / "report" / MONTH / "report.html").read_text()
    assert "run the employment stage" in page and "u000001" not in page


def test_report_withheld_when_a_user_id_would_leak(tmp_path):
    _hand_made_run(tmp_path, region="u000003")
    with pytest.raises(MobilityError, match="report withheld.*u000003"):
        build_report(tmp_path, MONTH)
    assert not (tmp_path / "report" / MONTH).exists()


@pytest.mark.slow
def test_report_speaks_in_place_names_plain_labels_and_percent(run):
    _, out, info = run
    folder = out / "report" / MONTH
    page = (folder / "report.html").read_text()
    sentence = (r"Estimated unemployment in Pennsylvania (rose to|fell to|held at|was) \d+\.\d% in April 2020 "
                r"\(95% interval \d+\.\d-\d+\.\d%\)")
    assert re.search(sentence, info["headline"]) and info["headline"] in page
    assert page.index(info["headline"]) < page.index('id="summary"')          # at the top, before the detail
    assert "Philadelphia County, PA" in page and "<th class=\"text\">rate (%)</th>" in page
    gap = pd.read_csv(folder / "tables" / "mobility_by_status.csv")
    assert not set(gap["group"]) & {"le29", "30_54", "ge55", "le1250", "1251_3333", "gt3333", "male", "female"}
    assert {"radius of gyration (km)", "exploration (% of visits)"} <= set(gap["metric"])
    assert "radius of gyration: how far" in page
    coverage = pd.read_csv(folder / "tables" / "coverage.csv")
    weeks = pd.to_datetime(coverage.loc[coverage["period"] == "week", "period_start"])
    assert (weeks + pd.Timedelta(days=3)).dt.strftime("%Y-%m").max() == MONTH   # nothing after the month


def test_the_coverage_csv_counts_users_in_whole_numbers(run):
    # the text of the file, not what pandas makes of it: a count is digits only ("976", never "976.0"), and
    # blank exactly where the cell is suppressed
    import csv

    _, out, _ = run
    k = json.loads((out / "report" / MONTH / "report.json").read_text())["k_min_users"]
    with open(out / "report" / MONTH / "tables" / "coverage.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    shown = [r["n_users"] for r in rows if r["suppressed"] == "False"]
    assert shown and all(re.fullmatch(r"[0-9]+", n) and int(n) >= k for n in shown), shown
    assert all(r["n_users"] == "" for r in rows if r["suppressed"] == "True")
    # and so does every other table CSV with a count of users (unemployment, comparison, mobility by status)
    counted = 0
    for path in sorted((out / "report" / MONTH / "tables").glob("*.csv")):
        with open(path, newline="") as f:
            table = list(csv.DictReader(f))
        for column in [c for c in (table[0] if table else {}) if c == "n_users" or c.endswith("_users")]:
            values = [r[column] for r in table if r[column] != ""]
            assert all(re.fullmatch(r"[0-9]+", v) for v in values), (path.name, column, values[:5])
            counted += bool(values)
    assert counted >= 3


def test_a_month_without_data_is_an_error_listing_the_months(tmp_path):
    _hand_made_run(tmp_path)
    with pytest.raises(MobilityError, match=r"no data for 2031-01 .*the run has 2020-04"):
        build_report(tmp_path, "2031-01")
    assert not (tmp_path / "report" / "2031-01").exists()


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o027, 0o640)])
def test_report_files_follow_the_umask(tmp_path, umask, mode):
    import os
    import stat

    _hand_made_run(tmp_path)
    old = os.umask(umask)
    try:
        info = build_report(tmp_path, MONTH)
    finally:
        os.umask(old)
    files = output_files(info)
    assert files and all(stat.S_IMODE(p.stat().st_mode) == mode for p in files), \
        {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in files}


def test_months_built_together_equal_each_month_built_alone(run):
    # the stage builds its months with one SharedInputs; each month's files must be those of a report made
    # on its own (no state carried from one month into the next)
    from pathlib import Path

    from mobility.report import reports_for_region

    config, out, _ = run
    months = ["2020-03", MONTH]

    def files(info):
        return {p.relative_to(info["report_dir"]): p.read_bytes() for p in Path(info["report_dir"]).rglob("*")
                if p.is_file()}

    alone = {m: files(report_for_region(str(config), m, out=str(out))) for m in months}
    together = {m: files(info) for m, info in reports_for_region(str(config), months, out=str(out)).items()}
    assert set(together) == set(months)
    for m in months:
        assert together[m].keys() == alone[m].keys()
        differing = [name for name in alone[m] if together[m][name] != alone[m][name]]
        assert not differing, f"{m}: {differing}"


def test_months_built_together_read_the_user_month_tables_once(run, monkeypatch):
    # metrics_monthly: once for the run's months (by_month) and once for every month's mobility by status;
    # the user ids of metrics_monthly and employment_weekly: once for every month's privacy scan
    from collections import Counter

    from mobility.report import reports_for_region

    config, out, _ = run
    reads = Counter()
    parts, id_batches = RunOutputs.parts, RunOutputs.user_id_batches

    def counted_parts(self, name, *args, **kwargs):
        reads["parts", name] += 1
        return parts(self, name, *args, **kwargs)

    def counted_ids(self, name):
        reads["user_id", name] += 1
        return id_batches(self, name)

    monkeypatch.setattr(RunOutputs, "parts", counted_parts)
    monkeypatch.setattr(RunOutputs, "user_id_batches", counted_ids)
    infos = reports_for_region(str(config), ["2020-02", "2020-03", MONTH], out=str(out))
    assert set(infos) == {"2020-02", "2020-03", MONTH}
    assert reads["parts", "metrics_monthly"] == 2
    assert reads["user_id", "metrics_monthly"] == reads["user_id", "employment_weekly"] == 1


@pytest.mark.slow
def test_rates_of_the_uncalibrated_signal_carry_a_warning_and_say_where_they_come_from(run):
    # the tiny regions have no labelled panel and no model: the signal's own probabilities
    _, out, info = run
    assert info["method"] == "signal"
    assert info["warning"].startswith("No labelled panel recalibrated these rates")
    assert info["headline"].endswith("Read with care: see the warning below.")
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", (out / "report" / MONTH / "report.html").read_text()))
    assert "Warning: No labelled panel recalibrated these rates" in text
    assert "Read them as estimates with a bias of unknown size and sign, not as official rates" in text
    assert "Statuses: the attendance signal (no training)" in text
    assert "No recalibration of the rates (no labels)." in text
    # the job-loss slope the signal was told, and where the default comes from
    assert "[employment] job_loss_telework_slope at its default" in text and "mobility.census.job_loss_slope" in text
    # and the state's rate at the ends of its range, where the run has the month's state rate
    ends = json.loads((out / "run.json").read_text())["stages"]["employment"]["job_loss_slope_ends"]
    assert ends["low"] == 0.0 and ends["high"] == 1.0 and MONTH in ends["states"]  # no labels: both ends run
    assert "Had job loss fallen with the teleworkability of workplaces as little as" in text
    assert "(the methods say the state" in text  # (the apostrophe is escaped in the page)
    # whether the intervals drew the remote-adoption intercept b, the run's manifest, the methods and the warning agree
    drawn = (json.loads((out / "run.json").read_text())["stages"]["employment"].get("remote_intercept") or {})
    if "signal" in drawn:
        assert f"mean {drawn['signal']['mean']:.2f}, standard deviation {drawn['signal']['sd']:.2f}." in text
        assert "doubt about how much of the absence is remote work (wide" in text
    else:
        assert "The 95% intervals also draw" not in text and "carry the sampling of people only" in text


def _hand_made_employment(folder, users=12):
    emp = pd.DataFrame({"user_id": [f"u{i:06d}" for i in range(users)], "week": pd.Timestamp("2020-04-06"),
                        "method": "signal",
                        "status": ["employed"] * (users // 2) + ["unemployed"] * (users - users // 2)})
    (folder / "employment_weekly").mkdir()
    emp.to_parquet(folder / "employment_weekly" / "part-00000.parquet")


def test_a_one_month_run_says_no_change_from_a_baseline_can_be_given(tmp_path):
    # the hand-made run holds April 2020 only: there is no month before it to take a baseline from
    _hand_made_run(tmp_path)
    _hand_made_employment(tmp_path)
    build_report(tmp_path, MONTH, baseline_months=2)
    page = (tmp_path / "report" / MONTH / "report.html").read_text()
    assert "Mobility of job losers and the employed" in page
    assert "of the run; 95% intervals" not in page
    assert "No change from a baseline can be given: the run covers a single month (April 2020)" in page


@pytest.mark.slow
def test_a_run_of_several_months_says_how_many_months_the_baseline_has(run):
    _, out, _ = run
    page = (out / "report" / MONTH / "report.html").read_text()   # runs.py: [report] baseline_months = 1
    assert "Change is from each user&#x27;s own mean over February 2020, the first month of the run" in page


def test_the_first_month_of_a_longer_run_says_no_change_from_a_baseline_can_be_given(tmp_path):
    _hand_made_run(tmp_path)
    _hand_made_employment(tmp_path)
    part = tmp_path / "metrics_monthly" / "part-00000.parquet"
    april = pd.read_parquet(part)
    march = april.assign(period_start=pd.Timestamp("2020-03-02 05:00", tz="UTC"))
    pd.concat([march, april], ignore_index=True).to_parquet(part)
    page = lambda m: (tmp_path / "report" / m / "report.html").read_text()  # noqa: E731
    build_report(tmp_path, "2020-03", baseline_months=2)
    assert "No change from a baseline can be given: March 2020 is the first month of the run" in page("2020-03")
    build_report(tmp_path, MONTH, baseline_months=2)
    # baseline_months = 2, but April is the second month: March alone is the baseline, and the text says so
    assert "Change is from each user&#x27;s own mean over March 2020, the first month of the run" in page(MONTH)
    assert "No change from a baseline" not in page(MONTH)


@pytest.mark.slow
def test_the_rates_say_whose_they_are_and_why_they_count_more_users_than_have_a_known_status(run):
    # the section said "users with a job at the start of the run and a known status" while its rates count the
    # weeks filled from a user's nearest known week: 613 users in the state against 591 with a known status in
    # the month under Data coverage (default synthetic run, April 2020), with no word why
    import html

    _, out, _ = run
    page = html.unescape((out / "report" / MONTH / "report.html").read_text())
    params = json.loads((out / "run.json").read_text())["stages"]["employment"]["params"]
    assert f"among users with a job in the baseline weeks ({params['baseline_start']} to {params['baseline_end']})" \
        in page
    assert (f"nearest known week, if it is at most {params['area']['max_fill_weeks']} weeks away "
            "([employment.area] max_fill_weeks)") in page
    assert "at the start of the run and a known status" not in page


@pytest.mark.slow
def test_the_run_table_gives_the_study_period_and_the_mondays_of_the_weeks_of_data(run):
    # it said "data period (weeks): 2019-12 to 2020-09" for a region of 2020-01-01 to 2020-09-30
    from mobility.pipeline.config import load_config

    config, out, _ = run
    region = load_config(str(config))
    summary = dict(pd.read_csv(out / "report" / MONTH / "tables" / "run_summary.csv").values.tolist())
    assert summary["study period"] == f"{region.start} to {region.end}"
    first, last = (pd.Timestamp(d) for d in summary["weeks of data (Mondays)"].split(" to "))
    start, end = pd.Timestamp(str(region.start)), pd.Timestamp(str(region.end))
    assert first.day_of_week == last.day_of_week == 0
    assert first <= start < first + pd.Timedelta(days=7) and last <= end < last + pd.Timedelta(days=7)
    assert "data period (weeks)" not in summary


@pytest.mark.slow
def test_the_change_in_exploration_comes_with_the_fall_of_the_first_months(run):
    # exploration's change from a January-February baseline showed -4 points for the employed of the default
    # synthetic region in April, most of it the fall from the first month of data (every place new) to the next
    import html

    config, out, _ = run
    region = mobility.pipeline.config.load_config(str(config))
    monthly = read_table(out, "metrics_monthly")
    month = monthly["period_start"].dt.tz_convert(region.timezone).dt.strftime("%Y-%m")
    means = 100 * monthly.groupby(month)["exploration_rate"].mean()
    assert means.iloc[0] > means.iloc[1]   # the fall the report must name
    page = html.unescape((out / "report" / MONTH / "report.html").read_text())
    first, second = (mobility.report.month_name(m) for m in means.index[:2])   # February, March 2020 here
    assert (f"all users' mean: {means.iloc[0]:.1f}% of visits in {first}, {means.iloc[1]:.1f}% in {second}). A "
            f"change from a baseline that holds {first} carries that fall") in page


@pytest.mark.slow
def test_the_mobility_figures_say_why_a_group_has_no_job_losers_drawn(run):
    # groups with fewer than k job losers showed the employed alone, with no word why
    import html

    _, out, _ = run
    folder = out / "report" / MONTH
    page = html.unescape((folder / "report.html").read_text())
    gap = pd.read_csv(folder / "tables" / "mobility_by_status.csv")
    for metric, change in (("radius of gyration (km)", "radius of gyration (km)"),
                           ("exploration (% of visits)", "exploration (percentage points)")):  # a change of a %
        hidden = int(gap[(gap["metric"] == metric)]["suppressed"].sum())
        assert hidden > 0   # both small regions have groups of fewer than 10 job losers
        assert (f"{change}: change from each user's baseline, by status and group. A group drawn without a red bar "
                f"has fewer than 10 job losers; a group not drawn has fewer than 10 users of each status ({hidden} "
                "cells left out).") in page


@pytest.mark.slow
def test_the_report_index_names_each_month_s_page_by_its_path_in_the_output_folder(run):
    # it mapped every month to "report.html", the same name for all, without the folder that tells them apart
    _, out, _ = run
    index = read_table(out, "report_index")
    manifest = json.loads((out / "run.json").read_text())
    assert index == manifest["stages"]["report"]["reports"] == {MONTH: f"report/{MONTH}/report.html"}
    assert (out / index[MONTH]).is_file()


def test_employment_batches_carry_a_user_across_files_and_name_missing_columns(tmp_path):
    """Whole users across the files of a table in parts (a user's rows in two parts count once), the sort checked
    across files, and a table without ``method`` stopped with the file named."""
    folder = tmp_path / "employment_weekly"
    folder.mkdir()
    e = pd.DataFrame({"user_id": ["a", "b", "b", "c"], "method": "signal",
                      "status": ["employed", "employed", "unemployed", "employed"],
                      "week": pd.to_datetime(["2020-04-06", "2020-04-06", "2020-04-13", "2020-04-06"])})
    e.iloc[:2].to_parquet(folder / "part-00000.parquet")
    e.iloc[2:].to_parquet(folder / "part-00001.parquet")
    run = RunOutputs(out_dir=tmp_path, manifest={})
    batches = list(run.user_batches("employment_weekly", "signal"))
    assert [sorted(set(b["user_id"])) for b in batches] == [["a"], ["b"], ["c"]]
    assert batches[1]["status"].astype(str).tolist() == ["employed", "unemployed"]
    e.iloc[[2, 3]].to_parquet(folder / "part-00000.parquet")   # users b, c then a, b: out of order across files
    e.iloc[[0, 1]].to_parquet(folder / "part-00001.parquet")
    with pytest.raises(MobilityError, match="part-00001.parquet: the rows of method 'signal' are not sorted"):
        list(run.user_batches("employment_weekly", "signal"))
    e.drop(columns="method").to_parquet(folder / "part-00000.parquet")
    with pytest.raises(MobilityError, match=r"part-00000.parquet: missing column\(s\) \['method'\]"):
        list(run.user_batches("employment_weekly", "signal"))


def test_the_warning_without_labels_names_the_job_loss_slope_the_run_was_told():
    from mobility.report.methods import uncalibrated_signal

    assert "job_loss_telework_slope = 0: not at all" in uncalibrated_signal(True, 0.0)
    set_by_hand = uncalibrated_signal(True, 0.5)
    assert "job_loss_telework_slope = 0.5: job losses fall by that share" in set_by_hand
    assert "Pennsylvania" not in set_by_hand  # the outside evidence is the default's, not the analyst's value
    assert uncalibrated_signal(True) == uncalibrated_signal(True, EmploymentParams().job_loss_telework_slope)
    assert "Pennsylvania's counties" in uncalibrated_signal(False)
    # how the rates fared was measured at the default slope only: another slope is not told those figures
    assert "within a point" in uncalibrated_signal(True) and "held the truth" in uncalibrated_signal(True)
    for other in (0.0, 0.5):
        text = uncalibrated_signal(True, other)
        assert "within a point" not in text and "held the truth" not in text
        assert "is not the default, at which the project's synthetic regions measured these rates" in text


def test_the_rates_at_the_ends_of_the_slope_are_said_only_for_states_the_report_publishes():
    """The run records a state's rates at the ends of gamma's range at its own k; a report with a larger k, or
    showing the sector route, hides that state: the methods then give none of its rates, and the warning does not
    promise them."""
    from mobility.report.methods import estimates_provenance

    stage = {"methods": {"signal": {}}, "area_calibration": {"signal": "no labels"},
             "params": {"job_loss_telework_slope": 0.83},
             "job_loss_slope_ends": {"low": 0.0, "high": 1.0, "states": {MONTH: {"42": [0.06, 0.09, 0.05]}}}}
    manifest = {"stages": {"employment": stage}}
    lines, warning = estimates_provenance(manifest, "signal", MONTH, {"42"})
    assert any("would be 9.0%" in line and "5.0%" in line and "6.0%" in line for line in lines)
    assert "the methods say the state's rate at each end" in warning
    hidden, warning = estimates_provenance(manifest, "signal", MONTH, set())
    assert not any("9.0%" in line or "6.0%" in line for line in hidden)
    assert "the methods say the state's rate at each end" not in warning


def test_a_run_from_before_the_job_loss_slope_is_said_to_have_had_none():
    """A manifest without the slope in its employment parameters (runs before it existed took job loss not to
    depend on teleworkability) is not described by today's default."""
    from mobility.report.methods import estimates_provenance

    stage = {"methods": {"signal": {}}, "area_calibration": {"signal": "no labels"}}
    _, old = estimates_provenance({"stages": {"employment": {**stage, "params": {"min_cell_users": 10}}}}, "signal")
    assert "job_loss_telework_slope = 0: not at all" in old and "Pennsylvania" not in old
    default = {"job_loss_telework_slope": EmploymentParams().job_loss_telework_slope}
    _, now = estimates_provenance({"stages": {"employment": {**stage, "params": default}}}, "signal")
    assert "job_loss_telework_slope at its default" in now
