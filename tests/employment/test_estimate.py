"""estimate_employment end to end on a small synthetic region's true stops: train here, save, apply elsewhere."""

import numpy as np
import pandas as pd
import pytest

from mobility.census import aggregate_lodes, read_lodes, read_teleworkability, work_features
from mobility.employment.attendance import baseline_work_cbg
from mobility.employment.estimate import estimate_employment, write_employment
from mobility.employment.model import load_model
from mobility.errors import MobilityError
from mobility.synthetic import SyntheticParams, generate_region, load_truth

TZ = "America/New_York"


@pytest.fixture(scope="module")
def region(tmp_path_factory):
    folder = generate_region(tmp_path_factory.mktemp("estimate") / "r",
                             SyntheticParams(n_users=160, start="2020-01-01", end="2020-05-31"), seed=11)
    truth = load_truth(folder)
    stops = truth["stops"].rename(columns={"place_id": "location_id"})
    d = truth["daily"]
    labels = pd.DataFrame({"user_id": d["user_id"], "date": d["date"], "home_cbg": d["home_cbg"],
                           "work_cbg": d["work_cbg"], "home_location_id": d["home_place_id"].astype("Int64"),
                           "work_location_id": d["work_place_id"].astype("Int64"),
                           "work_status": np.where(d["work_place_id"].notna(), "fixed", "none")})
    wac = read_lodes(next((folder / "census" / "lodes").glob("*wac*")))
    tau = read_teleworkability(folder / "census" / "telework" / "NAICS_workfromhome.csv")
    features = work_features(baseline_work_cbg(labels), aggregate_lodes(wac, "cbg"), tau)
    inputs = dict(stops=stops[["user_id", "start", "end", "lat", "lon", "location_id"]], labels=labels,
                  features=features, telework=tau, timezone=TZ)
    trained = estimate_employment(**inputs, labels_truth=truth["weekly_status"], training={"region": "test"})
    return inputs, truth, trained


def test_trained_here_out_of_fold(region):
    _, _, t = region
    model = t["employment_model"]
    assert {"home_usual", "outing_usual", "distance_usual", "drop_posterior", "drop_prior"} <= set(model.features)
    ev = t["classifier_evaluation"]
    assert ev["out_of_fold"]["classifier"]["n"] == ev["labelled_user_weeks"] > 0
    assert model.card["training"]["region"] == "test" and model.card["outcome_metrics_used"] == []
    clf = t["employment_weekly"][t["employment_weekly"]["method"] == "classifier"]
    sig = t["employment_weekly"][t["employment_weekly"]["method"] == "signal"]
    assert len(clf) == len(sig) and (clf["status"] == "unknown").sum() == (sig["status"] == "unknown").sum()
    assert set(t["area_unemployment"]["method"]) == {"signal", "classifier"}


def test_saved_model_applied_without_labels(region, tmp_path):
    inputs, truth, t = region
    paths = write_employment({"employment_model": t["employment_model"]}, tmp_path)
    model = load_model(paths["employment_model"])
    applied = estimate_employment(**inputs, model=model)
    assert applied["classifier_evaluation"] == {"model_id": model.model_id, "trained_here": False}
    assert "feature_importance" not in applied and applied["employment_model"] is model
    scored = estimate_employment(**inputs, model=model, labels_truth=truth["weekly_status"])
    auc = scored["classifier_evaluation"]["against_labels"]["classifier"]["roc_auc"]
    assert 0.8 < auc <= 1.0  # in-sample here (the model saw these users): only that it scores
    a = applied["employment_weekly"]
    np.testing.assert_array_equal(a["p_unemployed"].to_numpy(), scored["employment_weekly"]["p_unemployed"].to_numpy())


def test_model_needing_daytime_features_fails_on_labels_without_home_locations(region):
    inputs, _, t = region
    no_home = {**inputs, "labels": inputs["labels"].drop(columns="home_location_id")}
    with pytest.raises(MobilityError, match=r"needs feature\(s\) \['distance_usual'"):
        estimate_employment(**no_home, model=t["employment_model"])


def test_labels_of_other_users_are_refused(region):
    inputs, truth, _ = region
    strangers = truth["weekly_status"].assign(user_id="x" + truth["weekly_status"]["user_id"].astype(str))
    with pytest.raises(MobilityError, match="none of its 160 users is among the run's"):
        estimate_employment(**inputs, labels_truth=strangers)


def test_partitions_stacked_give_the_tables_of_all_users_at_once(region):
    """The pipeline's data flow: per-user tables computed on three user partitions, stacked, then the cross-user
    step: every table equal to estimate_employment on all visits at once."""
    from mobility.employment.estimate import employment_from_user_tables, stack_user_tables, user_tables
    from mobility.pings import partition_of

    inputs, truth, trained = region
    stops, labels = inputs["stops"], inputs["labels"]
    whole = user_tables(stops, labels, timezone=TZ)
    part_of_stop = partition_of(stops["user_id"], 3)
    part_of_label = partition_of(labels["user_id"], 3)
    parts = [user_tables(stops[part_of_stop == k], labels[part_of_label == k], timezone=TZ) for k in range(3)]
    assert min(len(p["home_cbg"]) for p in parts) > 20  # three real partitions
    stacked = stack_user_tables(parts)
    assert set(stacked) == set(whole) == {"weekly_attendance", "baseline_workplace", "baseline_work_cbg", "home_cbg",
                                          "daytime_weekly"}
    for name in whole:
        pd.testing.assert_frame_equal(stacked[name], whole[name].reset_index(drop=True), obj=name)
    again = employment_from_user_tables(stacked, inputs["features"], inputs["telework"],
                                        labels_truth=truth["weekly_status"], training={"region": "test"})
    for name, table in trained.items():
        if isinstance(table, pd.DataFrame):
            pd.testing.assert_frame_equal(again[name], table, obj=name)
    assert again["classifier_evaluation"] == trained["classifier_evaluation"]
    assert again["employment_model"].model_id == trained["employment_model"].model_id


def _reader(tables):
    """A partition's tables as the pipeline reads them: one table (some columns) at a time, None if absent."""
    def read(name, columns):
        return None if name not in tables else tables[name] if columns is None else tables[name][columns]
    return read


def _three_partitions(inputs):
    from mobility.employment.estimate import user_tables
    from mobility.pings import partition_of

    stops, labels = inputs["stops"], inputs["labels"]
    part_of_stop = partition_of(stops["user_id"], 3)
    part_of_label = partition_of(labels["user_id"], 3)
    return [user_tables(stops[part_of_stop == k], labels[part_of_label == k], timezone=TZ) for k in range(3)]


def test_partitions_read_one_at_a_time_give_the_matrices_and_tables_of_all_users(region):
    """The pipeline's memory: the signal's matrices filled a partition at a time (no stacked weekly tables),
    equal to those of the whole region's panel, and every table of the step the same."""
    from mobility.employment.attendance import relative_attendance
    from mobility.employment.estimate import employment_from_user_tables, signal_inputs_of_parts, stack_user_tables
    from mobility.employment.status import signal_inputs

    inputs, truth, trained = region
    parts = _three_partitions(inputs)
    got = signal_inputs_of_parts([_reader(p) for p in parts])
    whole = stack_user_tables(parts)  # the partitions' tables stacked, as the pipeline read them before
    want = signal_inputs(relative_attendance(whole["weekly_attendance"], whole["baseline_workplace"]),
                         daytime=whole["daytime_weekly"])
    np.testing.assert_array_equal(got.users, want.users)
    assert got.weeks.equals(want.weeks) and got.daytime and len(got.users) == 160
    np.testing.assert_array_equal(got.usable, want.usable)
    for name in ("attendance", "work_time"):
        np.testing.assert_array_equal(getattr(got, name), getattr(want, name))
    assert sorted(got.matrices) == sorted(want.matrices)
    for name, m in want.matrices.items():
        np.testing.assert_array_equal(got.matrices[name], m, err_msg=name)
    small = {n: whole[n] for n in ("baseline_workplace", "baseline_work_cbg", "home_cbg")}
    again = employment_from_user_tables(small, inputs["features"], inputs["telework"],
                                        parts=[_reader(p) for p in parts],
                                        labels_truth=truth["weekly_status"], training={"region": "test"})
    for name, table in trained.items():
        if isinstance(table, pd.DataFrame):
            pd.testing.assert_frame_equal(again[name], table, obj=name)
    assert again["classifier_evaluation"] == trained["classifier_evaluation"]


def test_partitions_baseline_weeks_are_the_regions_and_users_are_in_one_partition(region):
    """A partition whose users' data start after the baseline is fine when the region covers it (its panel
    alone would be refused); a user in two partitions, or a region without visits, is refused."""
    from mobility.employment.attendance import relative_attendance
    from mobility.employment.estimate import signal_inputs_of_parts
    from mobility.employment.params import EmploymentParams

    inputs, _, _ = region
    parts = _three_partitions(inputs)
    late = dict(parts[0])
    weekly = late["weekly_attendance"]
    late["weekly_attendance"] = weekly[weekly["week"] > EmploymentParams().baseline[1]]
    with pytest.raises(MobilityError, match="cover 0 week"):
        relative_attendance(late["weekly_attendance"], late["baseline_workplace"])
    got = signal_inputs_of_parts([_reader(late), _reader(parts[1]), _reader(parts[2])])
    assert len(got.users) == 160 and got.usable.any()
    with pytest.raises(MobilityError, match="in two partitions"):
        signal_inputs_of_parts([_reader(parts[1]), _reader(parts[1])])
    with pytest.raises(MobilityError, match="there were no visits"):
        signal_inputs_of_parts([_reader({"weekly_attendance": weekly.iloc[:0]})])


def test_weekly_tables_in_any_row_order_give_the_same_results(region):
    """The cross-user step reads the weekly tables by their (user, week) keys: shuffled, they give every table
    the sorted ones give (a caller's own tables need no sort)."""
    from mobility.employment.estimate import employment_from_user_tables, user_tables

    inputs, truth, trained = region
    shuffled = user_tables(inputs["stops"], inputs["labels"], timezone=TZ)
    for name in ("weekly_attendance", "daytime_weekly"):
        shuffled[name] = shuffled[name].sample(frac=1.0, random_state=3).reset_index(drop=True)
    assert not shuffled["weekly_attendance"]["user_id"].is_monotonic_increasing
    again = employment_from_user_tables(shuffled, inputs["features"], inputs["telework"],
                                        labels_truth=truth["weekly_status"], training={"region": "test"})
    for name, table in trained.items():
        if isinstance(table, pd.DataFrame):
            pd.testing.assert_frame_equal(again[name], table, obj=name)
    assert again["classifier_evaluation"] == trained["classifier_evaluation"]


def test_without_labels_the_signals_rates_come_with_their_values_at_the_ends_of_the_job_loss_slope(region):
    """No labelled panel: the signal runs again at job_loss_telework_slope 0 and 1 and the area table gives its
    point rates there beside its own (NaN for the classifier, the sector route and suppressed cells); rerun by hand
    at 0, the signal's state-month rates are the low end's. With labels nothing is run again (all NaN)."""
    from mobility.employment.estimate import SLOPE_END_COLUMNS, slope_end_summary
    from mobility.employment.params import EmploymentParams

    inputs, _, trained = region
    plain = estimate_employment(**inputs)
    area = plain["area_unemployment"]
    ends = list(SLOPE_END_COLUMNS.values())
    own = (area["method"] == "signal") & (area["route"] == "individual") & ~area["suppressed"]
    assert area.loc[own, ends].notna().all().all() and area.loc[~own, ends].isna().all().all()
    at_zero = estimate_employment(**inputs, params=EmploymentParams(job_loss_telework_slope=0.0))["area_unemployment"]
    keys = ["method", "route", "estimator", "level", "area", "period", "period_start"]
    mine = area[own].merge(at_zero[keys + ["rate"]], on=keys, suffixes=("", "_at_zero"))
    np.testing.assert_allclose(mine["rate_if_slope_low"], mine["rate_at_zero"], rtol=1e-9, atol=1e-12)
    states = area[own & (area["level"] == "state") & (area["period"] == "month")]
    assert (states["rate_if_slope_low"] >= states["rate"] - 1e-9).all()  # fewer job losses told: higher rates
    summary = slope_end_summary(area, EmploymentParams())
    assert summary["low"] == 0.0 and summary["high"] == 1.0 and summary["states"]
    assert trained["area_unemployment"][ends].isna().all().all()  # labels recalibrate: not run
    assert slope_end_summary(trained["area_unemployment"], EmploymentParams()) == {}
