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
from mobility.pipeline import read_table
from mobility.report import build_report, report_for_region
from mobility.report.coverage import coverage_table
from mobility.report.inputs import load_run
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


def test_tables_built_part_by_part_equal_those_of_the_whole_tables(run):
    """The report reads home_work_daily and user_features one partition at a time; its coverage and
    mobility-by-group tables are those of the whole tables, and the coverage counts are those counted here
    directly on the whole table."""
    _, out, _ = run
    r = load_run(out)
    hw_parts = list(r.parts("home_work_daily"))
    assert len(hw_parts) == 2 and all(len(p) for p in hw_parts)   # n_partitions = 2, both non-empty
    assert not set(hw_parts[0]["user_id"]) & set(hw_parts[1]["user_id"])
    assert "home_work_daily" not in r.tables and "user_features" not in r.tables   # never read whole
    hw = read_table(out, "home_work_daily")
    emp = r.get("employment_weekly")
    cov = {how: coverage_table(r.tables["metrics_weekly"], MONTH, home_work=home_work, employment=emp,
                               timezone=r.timezone, k_min_users=2)
           for how, home_work in (("whole", hw), ("parts", r.parts("home_work_daily")))}
    pd.testing.assert_frame_equal(cov["parts"], cov["whole"])
    day = pd.to_datetime(hw["date"])
    week = (day - pd.to_timedelta(day.dt.day_of_week, unit="D")).dt.strftime("%Y-%m-%d")
    expected = hw[hw["work_cbg"].notna()].groupby(week)["user_id"].nunique()
    got = cov["whole"].query("period == 'week' and measure == 'work detected'").set_index("period_start")["n_users"]
    assert expected.sum() > 0
    pd.testing.assert_series_equal(got, expected.astype(float), check_names=False)
    dims = ("sex", "age", "earnings")
    columns = ["user_id", "week", *(c for d in dims for c in feature_columns(d))]
    assert set(next(r.parts("user_features", extra=tuple(columns[2:]))).columns) == set(columns)
    gap = {how: mobility_by_status(r.tables["metrics_monthly"], emp, features, MONTH, timezone=r.timezone,
                                   dimensions=dims, baseline_months=1, method="signal", k_min_users=2)
           for how, features in (("whole", read_table(out, "user_features")),
                                 ("parts", r.parts("user_features", extra=tuple(columns[2:]))))}
    assert set(gap["whole"]["dimension"]) == {"all", *dims}
    pd.testing.assert_frame_equal(gap["parts"], gap["whole"])


def test_statuses_held_as_categories_give_the_tables_of_the_text_columns(run):
    """The report holds employment_weekly's method and status as categories (a byte a row); its coverage and
    mobility tables are those of the table read as text."""
    _, out, _ = run
    r = load_run(out)
    emp = r.get("employment_weekly")
    assert isinstance(emp["status"].dtype, pd.CategoricalDtype) and isinstance(emp["method"].dtype, pd.CategoricalDtype)
    text = read_table(out, "employment_weekly", columns=["user_id", "week", "method", "status"])
    assert not isinstance(text["status"].dtype, pd.CategoricalDtype)
    pd.testing.assert_frame_equal(emp.astype({"method": text["method"].dtype, "status": text["status"].dtype}), text)
    for method in ("signal", "classifier"):
        cov = [coverage_table(r.tables["metrics_weekly"], MONTH, employment=e, method=method, timezone=r.timezone,
                              k_min_users=2) for e in (emp, text)]
        pd.testing.assert_frame_equal(cov[0], cov[1])
        if method == "signal":  # the run has job losers by the signal: the comparison is not of empty tables
            assert cov[0].query("measure == 'job losers'")["n_users"].sum() > 0
        gap = [mobility_by_status(r.tables["metrics_monthly"], e, None, MONTH, timezone=r.timezone,
                                  baseline_months=1, method=method, k_min_users=2) for e in (emp, text)]
        pd.testing.assert_frame_equal(gap[0], gap[1])


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


@pytest.mark.slow
def test_rates_of_the_uncalibrated_signal_carry_a_warning_and_say_where_they_come_from(run):
    # the tiny regions have no labelled panel and no model: the signal's own probabilities
    _, out, info = run
    assert info["method"] == "signal"
    assert info["warning"].startswith("No labelled panel recalibrated these rates")
    assert info["headline"].endswith("Read with care: see the warning below.")
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", (out / "report" / MONTH / "report.html").read_text()))
    assert "Warning: No labelled panel recalibrated these rates" in text
    assert "an upper bound on job loss, not as an unemployment rate" in text
    assert "Statuses: the attendance signal (no training)" in text
    assert "No recalibration of the rates (no labels)." in text


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
