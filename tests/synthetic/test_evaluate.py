"""Scores against the truth: stops by time and distance, person-day home/work, the per-group table."""

import numpy as np
import pandas as pd
import pytest

from mobility.errors import MobilityError
from mobility.synthetic import load_truth
from mobility.synthetic.evaluate import (
    GROUP_COLUMNS,
    group_scores,
    group_table_markdown,
    home_work_accuracy,
    stop_pairs,
    stop_recall_precision,
)

T0 = pd.Timestamp("2020-03-02", tz="UTC")


def _stops(rows):
    return pd.DataFrame([{"user_id": u, "start": T0 + pd.Timedelta(hours=a), "end": T0 + pd.Timedelta(hours=b),
                          "lat": lat, "lon": -75.1, "n_pings": 5} for u, a, b, lat in rows])


def test_hand_made_pairs_and_scores():
    # a: home 0-8 h, work 9-17 h (2.2 km north), home 18-24 h; b: home all day
    truth = _stops([("a", 0, 8, 40.0), ("a", 9, 17, 40.02), ("a", 18, 24, 40.0), ("b", 0, 24, 39.95)])
    found = _stops([("a", 1, 7, 40.0005), ("a", 9.5, 12, 40.0201), ("a", 12.5, 16, 40.0199),  # work split in 2
                    ("a", 18.5, 23, 40.01),  # 1.1 km off: no match
                    ("b", 2, 20, 39.95)])
    pairs = stop_pairs(found, truth)
    assert pairs[["found", "true"]].values.tolist() == [[0, 0], [1, 1], [2, 1], [3, 2], [4, 3]]
    r = stop_recall_precision(found, truth, radius_m=200.0)
    assert r["recall"] == 3 / 4 and r["precision"] == 4 / 5
    # covered: 6 h of home, 2.5 + 3.5 h of work, 0 of the evening, 18 h of b; of 8 + 8 + 6 + 24 h
    assert r["time_covered"] == pytest.approx((6 + 6 + 18) / 46)
    assert r["detected_per_true"] == 5 / 4 and r["matches_per_found"] == pytest.approx(4 / 3)
    assert r["time_precision"] == pytest.approx((6 + 6 + 18) / (6 + 2.5 + 3.5 + 4.5 + 18))
    # a larger radius accepts the evening stop 1.1 km off
    assert stop_recall_precision(found, truth, radius_m=1500.0)["recall"] == 1.0


def test_one_giant_stop_over_all_pings_no_longer_scores_perfectly():
    """Matched by time only, one stop spanning a user's whole trace overlapped every true stop: recall =
    precision = 1. By time and distance it matches only the true stops at its own place."""
    truth = _stops([("a", 24 * d + a, 24 * d + b, lat) for d in range(7)
                    for a, b, lat in ((0, 8, 40.0), (9, 17, 40.02), (17.5, 18.5, 39.98), (19, 24, 40.0))])
    giant = _stops([("a", 0, 24 * 7, 40.0)])
    r = stop_recall_precision(giant, truth)
    assert r["recall"] == pytest.approx(0.5)  # the 14 home stays of 28 stops
    assert r["time_covered"] == pytest.approx(13 / 22)  # home 8 + 5 h of the 8 + 8 + 1 + 5 h of stops a day
    assert r["time_precision"] < 0.6 and r["detected_per_true"] == 1 / 28
    assert not (r["recall"] == r["precision"] == 1)


def test_bad_input_names_the_fix():
    with pytest.raises(MobilityError, match="lacks columns"):
        stop_recall_precision(_stops([("a", 0, 1, 40.0)]).drop(columns=["lat"]), _stops([("a", 0, 1, 40.0)]))
    with pytest.raises(MobilityError, match="radius_m"):
        stop_recall_precision(_stops([("a", 0, 1, 40.0)]), _stops([("a", 0, 1, 40.0)]), radius_m=0)
    with pytest.raises(MobilityError, match="truth lacks"):
        group_scores({"home_work_daily": pd.DataFrame(), "employment_weekly": None}, {"people": pd.DataFrame()})


def test_home_work_accuracy_follows_moves_and_job_changes():
    dates = pd.date_range("2020-03-02", periods=4)
    daily = pd.DataFrame({"user_id": "a", "date": dates, "home_cbg": ["1", "1", "5", "5"],
                          "work_cbg": ["2", "2", "7", "7"], "work_place_id": [1, 1, 701, 701],
                          "worked_onsite": [True, True, True, False], "work_mode": ["onsite"] * 3 + ["off"]})
    labels = pd.DataFrame({"user_id": "a", "date": dates, "home_cbg": ["1"] * 4, "work_cbg": ["2"] * 4})
    r = home_work_accuracy(labels, daily)  # the labels missed the move and the job change
    assert r["home_correct_of_labelled"] == 0.5 and r["work_correct_of_labelled_commuting_days"] == 2 / 3
    assert r["work_labelled_share_of_commuting_days"] == 1.0


def _fake_run(truth, *, home_ok=True, unknown_for=(), unemployed_for=()):
    """Labels and statuses made from the truth, with chosen errors."""
    d = truth["daily"]
    labels = d[["user_id", "date", "home_cbg", "work_cbg"]].copy()
    if not home_ok:
        labels["home_cbg"] = "420000000000"
    w = truth["weekly_status"]
    status = np.where(w["status"] == "unemployed", "unemployed", "employed")
    status = np.where(w["user_id"].isin(unknown_for), "unknown", status)
    status = np.where(w["user_id"].isin(unemployed_for), "unemployed", status)
    emp = pd.DataFrame({"user_id": w["user_id"], "week": w["week"], "status": status, "method": "signal",
                        "p_unemployed": 0.5})
    return {"home_work_daily": labels, "employment_weekly": emp}


def test_group_scores_perfect_and_planted_errors(tiny_region):
    truth = load_truth(tiny_region)
    people = truth["people"]
    scores = group_scores(_fake_run(truth), truth)
    assert list(scores.columns) == list(GROUP_COLUMNS)
    everyone = scores[scores["dimension"] == "all"].iloc[0]
    assert everyone["people"] == len(people) and everyone["method"] == "signal"
    assert (everyone[["home_correct", "home_labelled", "home_labelled_phone_ok", "work_correct", "work_labelled",
                      "work_labelled_phone_ok", "false_unemployed"]].tolist() == [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0])
    assert everyone["commuting_days"] == int((truth["daily"]["worked_onsite"] & truth["daily"]["work_place_id"]
                                              .notna()).sum())
    assert set(scores.loc[scores["dimension"] == "schedule", "group"]) == set(people["schedule"])
    # every failing phone read as a job loss: the failed-phone column says so, per phone kind
    failing = people.loc[people["phone_kind"].isin(["churn", "degraded_night", "degraded_home"]), "user_id"]
    bad = group_scores(_fake_run(truth, home_ok=False, unemployed_for=failing, unknown_for=people["user_id"][:5]),
                       truth)
    everyone = bad[bad["dimension"] == "all"].iloc[0]
    assert everyone["home_correct"] == 0.0 and everyone["home_labelled"] == 1.0
    phone = bad[bad["dimension"] == "phone_kind"].set_index("group")
    assert phone.loc["normal", "failed_phone_weeks"] == 0
    failed = phone[phone["failed_phone_weeks"] > 0]
    assert len(failed) >= 1 and (failed["failed_phone_unemployed"] == 1.0).all()
    assert everyone["known_status"] < 1.0
    md = group_table_markdown(bad, "signal")
    assert md.splitlines()[0].startswith("| dimension | group | people |") and "0.0 %" in md


def test_group_scores_reads_a_run_directory_without_employment(tmp_path, tiny_region):
    from mobility.io.atomic import write_parquet

    truth = load_truth(tiny_region)
    run = _fake_run(truth)
    write_parquet(run["home_work_daily"], tmp_path / "home_work_daily" / "part-00000.parquet")
    scores = group_scores(tmp_path, tiny_region)
    assert scores["method"].isna().all() and scores["known_status"].isna().all()
    assert (scores.loc[scores["dimension"] == "all", "home_correct"] == 1.0).all()


def test_group_scores_from_folders_reads_only_the_columns_it_scores(tmp_path, tiny_region):
    """A region folder holding only the truth columns ``TRUTH_COLUMNS`` names (no true stops, no place ids or
    ping counts) and a run folder with extra columns score exactly as the full tables passed in memory."""
    from mobility.io.atomic import write_parquet
    from mobility.synthetic.evaluate import RUN_COLUMNS, TRUTH_COLUMNS

    truth = load_truth(tiny_region)
    run = _fake_run(truth, unemployed_for=truth["people"]["user_id"][:3], unknown_for=truth["people"]["user_id"][5:9])
    run["home_work_daily"] = run["home_work_daily"].assign(work_status="fixed", home_location_id=1)
    expected = group_scores(run, truth)
    assert set(truth["daily"].columns) - set(TRUTH_COLUMNS["daily"])  # the test drops something
    slim = tmp_path / "region" / "truth"
    for name, cols in TRUTH_COLUMNS.items():
        write_parquet(truth[name][cols], slim / f"{name}.parquet")
    out = tmp_path / "run"
    for name, table in run.items():
        assert set(RUN_COLUMNS[name]) < set(table.columns)
        write_parquet(table, out / name / "part-00000.parquet")
    got = group_scores(out, tmp_path / "region")
    pd.testing.assert_frame_equal(got, expected)
    assert got.loc[got["dimension"] == "all", "false_unemployed"].iloc[0] > 0  # the planted errors are scored
