"""The pipeline's longitudinal study from run tables: dating decision, panel, groups, skip rule, notes."""

import numpy as np
import pandas as pd
import pytest

from mobility.errors import MobilityError
from mobility.longitudinal import LongitudinalParams, longitudinal_study

from .panels import simulate_panel

TZ = "America/New_York"


def _run_tables(seed=30, n_users=300, n_weeks=18):
    """metrics_weekly, employment_weekly (signal and classifier dating the same losses) and worker_features."""
    p = simulate_panel(seed, n_users=n_users, n_weeks=n_weeks)
    start = p.week.dt.tz_localize(TZ).dt.tz_convert("UTC")
    metrics = pd.DataFrame({"user_id": p.user_id, "period_start": start, "period_end": start + pd.Timedelta(days=7),
                            "radius_of_gyration_km": p.y, "radius_of_gyration_km_nonwork": p.y * 0.5})
    k = ((p.week - p.job_loss_week).dt.days // 7).astype("Int64")
    emp = pd.DataFrame({"user_id": p.user_id, "week": p.week, "status": np.where((k >= 0).fillna(False), "unemployed", "employed"),
                        "weeks_since_job_loss": k.where(k >= 0)})
    emp = pd.concat([emp.assign(method="signal"), emp.assign(method="classifier")], ignore_index=True)
    users = p.drop_duplicates("user_id")
    male = (users.sex == "male").to_numpy()
    features = pd.DataFrame({"user_id": users.user_id, "work_cbg": "421010001001",
                             "p_sex_male": np.where(male, 0.8, 0.3), "p_sex_female": np.where(male, 0.2, 0.7)})
    features.loc[features.index[:5], ["p_sex_male", "p_sex_female"]] = np.nan  # a CBG without census people
    return metrics, emp, features, p


PARAMS = dict(metrics=("radius_of_gyration_km", "radius_of_gyration_km_nonwork"), groups=("sex",), window=(-3, 4))


def test_auto_dating_refuses_a_classifier_built_on_the_outcomes():
    metrics, emp, features, _ = _run_tables()
    res = longitudinal_study(metrics, emp, features, params=LongitudinalParams(**PARAMS), timezone=TZ,
                             classifier_features=["attendance", "d_radius_of_gyration_km"])
    assert res.manifest["dating"]["method"] == "signal"
    assert "d_radius_of_gyration_km" in res.manifest["dating"]["reason"]
    res = longitudinal_study(metrics, emp, features, params=LongitudinalParams(**PARAMS), timezone=TZ,
                             classifier_features=["attendance", "work_time"])
    assert res.manifest["dating"]["method"] == "classifier"
    unknown = longitudinal_study(metrics, emp, features, params=LongitudinalParams(**PARAMS), timezone=TZ)
    assert unknown.manifest["dating"]["method"] == "signal" and "not recorded" in unknown.manifest["dating"]["reason"]
    with pytest.raises(MobilityError, match="outcome metrics as features"):
        longitudinal_study(metrics, emp, features, params=LongitudinalParams(method="classifier", **PARAMS),
                           timezone=TZ, classifier_features=["radius_of_gyration_km"])


def test_tables_groups_and_notes():
    metrics, emp, features, p = _run_tables()
    res = longitudinal_study(metrics, emp, features, params=LongitudinalParams(**PARAMS), timezone=TZ)
    es = res.tables["event_study"]
    assert set(es.outcome_kind) == {"total", "nonwork"}
    assert (es.estimator == "sun_abraham").all()
    het = res.tables["heterogeneity"]
    assert set(het.group) == {"male", "female", "unknown"}  # 5 workers whose CBG has no census people
    unknown = het[(het.group == "unknown") & ~het.reference]
    assert unknown.suppressed.all()
    assert "ecological" in res.manifest["notes"]["groups"] and "lost commute" in res.manifest["notes"]["outcomes"]
    assert res.manifest["counts"]["job_losers"] == p.loc[p.job_loss_week.notna(), "user_id"].nunique()


def test_too_few_losers_skip_with_a_reason():
    metrics, emp, features, _ = _run_tables(n_users=40)
    res = longitudinal_study(metrics, emp, features, params=LongitudinalParams(min_users=100, **PARAMS), timezone=TZ)
    assert res.tables == {} and "fewer than min_users = 100" in res.manifest["skipped"]


def test_home_groups_need_home_features():
    metrics, emp, features, _ = _run_tables()
    with pytest.raises(MobilityError, match="home"):
        longitudinal_study(metrics, emp, features, params=LongitudinalParams(group_source="home", **PARAMS),
                           timezone=TZ)
    weeks = pd.DataFrame({"week": pd.date_range("2020-01-06", periods=4, freq="7D")})
    home = features[["user_id"]].merge(weeks, how="cross").assign(home_cbg="421010002001", home_p_sex_male=0.9,
                                                                  home_p_sex_female=0.1)
    res = longitudinal_study(metrics, emp, features, params=LongitudinalParams(group_source="home", **PARAMS),
                             timezone=TZ, home_features=home, baseline=("2020-01-06", "2020-01-31"))
    assert set(res.tables["heterogeneity"].group) == {"male"}


def test_week_effects_by_telework_tercile():
    metrics, emp, features, _ = _run_tables()
    features["telework"] = np.linspace(0.1, 0.9, len(features))
    res = longitudinal_study(metrics, emp, features, params=LongitudinalParams(time_effects_by="telework", **PARAMS),
                             timezone=TZ)
    assert res.manifest["parameters"]["time_effects_by"] == "telework"
    assert res.manifest["event_study_info"]["radius_of_gyration_km"]["time_effects_by"] == "telework_tercile"
    with pytest.raises(MobilityError, match="time_effects_by"):
        LongitudinalParams(time_effects_by="sector", **PARAMS)


def test_study_start_leaves_out_earlier_weeks_and_the_losers_whose_leads_reach_before_it():
    metrics, emp, features, p = _run_tables()
    weeks = np.sort(p.week.unique())
    start = pd.Timestamp(weeks[4]) + pd.Timedelta(days=2)  # a Wednesday: its Monday is weeks[4]
    losers = p.drop_duplicates("user_id").set_index("user_id")["job_loss_week"].dropna()
    early = losers[losers < pd.Timestamp(weeks[4]) + pd.Timedelta(weeks=3)]  # window (-3, 4): three lead weeks
    assert 0 < len(early) < len(losers)
    full = longitudinal_study(metrics, emp, features, params=LongitudinalParams(**PARAMS), timezone=TZ)
    res = longitudinal_study(metrics, emp, features, timezone=TZ,
                             params=LongitudinalParams(**PARAMS, study_start=str(start.date())))
    counts = res.manifest["counts"]
    assert counts["job_losers_before_study_start"] == len(early)
    assert counts["job_losers"] == full.manifest["counts"]["job_losers"] - len(early)
    assert counts["workers"] == full.manifest["counts"]["workers"] - len(early)
    assert res.manifest["parameters"]["study_start"] == str(start.date())
    with pytest.raises(MobilityError, match="study_start"):
        LongitudinalParams(study_start="spring")


def test_later_losers_as_controls_from_the_config():
    metrics, emp, features, p = _run_tables()
    res = longitudinal_study(metrics, emp, features, timezone=TZ,
                             params=LongitudinalParams(**PARAMS, control_group="later"))
    es, het = res.tables["event_study"], res.tables["heterogeneity"]
    assert set(es.control_group) == {"later"} and set(het.control_group) == {"later"}
    losers = p.loc[p.job_loss_week.notna(), "user_id"].nunique()
    assert set(res.tables["did"].n_control_users) == {losers}  # never-losers left out, losers before their loss
    assert np.isfinite(es.loc[es.event_time >= 0, "estimate"]).all()
    with pytest.raises(MobilityError, match="matching"):
        LongitudinalParams(**PARAMS, control_group="later", matching="nearest")


def test_comparisons_put_never_and_later_losers_side_by_side():
    metrics, emp, features, p = _run_tables()
    res = longitudinal_study(metrics, emp, features, timezone=TZ, params=LongitudinalParams(**PARAMS))
    comp = res.tables["comparisons"]
    assert list(comp.control_group.unique()) == ["never", "later"] and "comparisons" in res.figures
    assert comp.loc[comp.main, "control_group"].unique().tolist() == ["never"]
    did = res.tables["did"]
    pooled = did[(did.dimension == "all")].set_index("metric")
    main = comp[comp.main].set_index("metric")
    np.testing.assert_allclose(main.estimate, pooled.loc[main.index, "estimate"])
    later = longitudinal_study(metrics, emp, features, timezone=TZ,
                               params=LongitudinalParams(**PARAMS, control_group="later", compare_controls=None))
    assert "comparisons" not in later.tables and "comparison" not in later.manifest
    assert LongitudinalParams.from_config({"compare_controls": "none"}).compare_controls is None
    with pytest.raises(MobilityError, match="compare_controls"):
        LongitudinalParams(compare_controls="sometimes")
    alt = comp[~comp.main].set_index("metric")
    ref = later.tables["did"].query("dimension == 'all'").set_index("metric")
    np.testing.assert_allclose(alt.estimate, ref.loc[alt.index, "estimate"])
    later_pre = later.tables["pretrend"].query("dimension == 'all'").set_index("metric")
    np.testing.assert_allclose(alt.pretrend_p_value, later_pre.loc[alt.index, "p_value"])
    tests = res.manifest["comparison"]["pretrend_tests"]
    assert list(tests) == ["never", "later"] and tests["later"]["tested"] == len(PARAMS["metrics"])
    assert tests["later"]["below_0.01"] == int((alt.pretrend_p_value < 0.01).sum())
    assert "comparisons" in res.manifest["notes"]


def test_a_comparison_that_cannot_be_estimated_is_suppressed():
    """Every loser loses in the same week: nobody loses later, so later losers cannot be the comparison."""
    metrics, emp, features, p = _run_tables()
    losers = p.loc[p.job_loss_week.notna(), "user_id"].unique()
    first = p.week.min() + pd.Timedelta(weeks=8)
    k = ((emp.week - first).dt.days // 7).where(emp.user_id.isin(losers))
    emp = emp.assign(weeks_since_job_loss=k.where(k >= 0).astype("Int64"),
                     status=np.where(k >= 0, "unemployed", "employed"))
    res = longitudinal_study(metrics, emp, features, timezone=TZ, params=LongitudinalParams(**PARAMS))
    comp = res.tables["comparisons"].set_index("control_group")
    assert not comp.loc["never", "suppressed"].any() and comp.loc["later", "suppressed"].all()
    assert comp.loc["later", ["estimate", "pretrend_p_value"]].isna().all().all()
    assert res.manifest["comparison"]["pretrend_tests"]["later"] == {"below_0.01": 0, "tested": 0}


def test_matching_uses_the_employment_baseline_when_given():
    """A loss dated in the panel's first week leaves no weeks before the earliest loss (matching's default
    baseline); with the employment baseline given, the others are matched on it and the odd loser is not."""
    metrics, emp, features, p = _run_tables()
    first = emp.week.min()
    odd = p.loc[p.job_loss_week.notna(), "user_id"].iloc[0]
    k = ((emp.week - first).dt.days // 7).where(emp.user_id == odd)
    emp.loc[emp.user_id == odd, "weeks_since_job_loss"] = k[emp.user_id == odd].astype("Int64")
    params = LongitudinalParams(**PARAMS, matching="nearest", compare_controls="none")
    with pytest.raises(MobilityError, match="no baseline"):
        longitudinal_study(metrics, emp, features, params=params, timezone=TZ)
    weeks = np.sort(p.week.unique())
    res = longitudinal_study(metrics, emp, features, params=params, timezone=TZ,
                             baseline=(str(pd.Timestamp(weeks[0]).date()), str(pd.Timestamp(weeks[3]).date())))
    info = res.manifest["match_info"]
    assert info["baseline"] == (str(pd.Timestamp(weeks[0]).date()), str(pd.Timestamp(weeks[3]).date()))
    assert 0 < info["n_treated_matched"] < info["n_treated"]
    assert not res.tables["balance"].empty


def test_metrics_read_a_part_at_a_time_give_the_same_study():
    # the pipeline passes metrics_weekly as its Parquet parts (a generator): the panel built from them, cut to
    # the workers part by part, must give the tables of the whole frame, row order included
    metrics, emp, features, _ = _run_tables()
    whole = longitudinal_study(metrics, emp, features, params=LongitudinalParams(**PARAMS), timezone=TZ)
    bounds = [0, 1, 700, 701, 2500, len(metrics)]  # uneven parts, one of a single row, one empty
    bounds.insert(3, 701)
    parts = (metrics.iloc[a:b].reset_index(drop=True) for a, b in zip(bounds[:-1], bounds[1:]))
    by_part = longitudinal_study(parts, emp, features, params=LongitudinalParams(**PARAMS), timezone=TZ)
    assert sorted(by_part.tables) == sorted(whole.tables)
    for name, table in whole.tables.items():
        pd.testing.assert_frame_equal(by_part.tables[name], table, check_exact=True)
    assert by_part.manifest["counts"] == whole.manifest["counts"]
