import numpy as np
import pandas as pd
import pytest

from mobility.employment.attendance import relative_attendance
from mobility.employment.features import outcome_features, weekly_features
from mobility.employment.status import signal_status
from mobility.errors import MobilityError
from mobility.metrics import METRIC_COLUMNS

from tests.employment.conftest import WEEKS


def _signal(hand_panel):
    weekly, base, features, tau = hand_panel
    return signal_status(relative_attendance(weekly, base), features, tau)


def test_no_outcome_metric_no_calendar_no_demography(hand_panel):
    mats = weekly_features(_signal(hand_panel))
    assert outcome_features(mats) == []
    assert not [n for n in mats if n.startswith(("week_", "p_C", "w_CNS"))]
    # every event-study outcome of weekly_metrics (and its _nonwork twin) is caught (coverage, time at work: not outcomes)
    assert set(METRIC_COLUMNS) - set(outcome_features(METRIC_COLUMNS)) <= {"coverage_h", "time_at_work_h"}
    assert all(m.dtype == np.float32 and m.shape == (12, 16) for m in mats.values())


def test_hybrid_worker_at_one_day_in_five(hand_panel):
    weekly, base, features, tau = hand_panel
    hybrid = weekly["user_id"] == "site0"
    after = weekly["week"] >= WEEKS[10]
    weekly.loc[hybrid & after, ["workdays_at_work", "workhour_at_work_h"]] = [1.0, 8.0]
    sig = signal_status(relative_attendance(weekly, base), features, tau)
    mats = weekly_features(sig)
    u = list(sig.users).index("site0")
    # weeks 12..15: t-2..t+2 all hybrid (1 of 5 days) where observed
    assert mats["hybrid_share5"][u, 12:].tolist() == [1.0] * 4
    assert mats["hybrid_share5"][u, :8].tolist() == [0.0] * 8  # 5 of 5 days is not hybrid
    assert mats["attendance_raw"][u, 11] == pytest.approx(0.2)
    assert mats["attendance_change"][u, 10] == pytest.approx(-0.8)


def test_daytime_features_against_the_baseline(hand_panel):
    weekly, base, features, tau = hand_panel
    users = list(weekly["user_id"].unique())
    day = pd.DataFrame({"user_id": np.repeat(users, 16), "week": np.tile(WEEKS, len(users)),
                        "usual_days_seen": 5.0, "usual_days_out": 1.0, "off_days_seen": 2.0, "off_days_out": 1.0,
                        "usual_days_seen_all": 5.0, "usual_days_out_all": 2.0, "off_days_seen_all": 2.0,
                        "off_days_out_all": 1.0, "usual_seen_h": 40.0, "usual_home_h": 4.0, "usual_other_h": 2.0, "off_seen_h": 16.0,
                        "off_home_h": 12.0, "daytime_distance_km": 8.0, "daytime_max_km": 10.0, "workplace_id": 1.0,
                        "usual_clock_h": 13.0})
    lost = (day["user_id"] == "loser") & (day["week"] >= WEEKS[12])
    day.loc[lost, ["usual_days_out", "usual_home_h", "daytime_distance_km"]] = [0.0, 38.0, 0.2]
    sig = signal_status(relative_attendance(weekly, base), features, tau, daytime=day)
    mats = weekly_features(sig)
    u = list(sig.users).index("loser")
    assert mats["home_usual"][u, 12] == pytest.approx(38 / 40)
    assert mats["home_usual_vs_baseline"][u, 12] == pytest.approx(38 / 40 - 4 / 40)
    assert mats["outing_usual_vs_baseline"][u, 13] == pytest.approx(0 - 1 / 5)
    assert mats["distance_usual"][u, 3] == pytest.approx(8.0)
    # inside the loser's drop (weeks 12-15): the drop's evidence against the workers who kept going (unchanged
    # here), the same in every week of the drop; outside it NaN
    assert mats["drop_home_usual"][u, 12:].tolist() == pytest.approx([34 / 40] * 4)
    assert mats["drop_outing_usual"][u, 12:].tolist() == pytest.approx([-0.2] * 4)
    assert np.isnan(mats["drop_home_usual"][u, :12]).all()
    assert mats["drop_ended"][u, 12] == 0.0 and mats["drop_hybrid"][u, 12] == 0.0
    # without the daytime table the evidence features are absent, not NaN columns
    assert "home_usual" not in weekly_features(_signal(hand_panel))
    with pytest.raises(MobilityError, match=r"daytime: missing column"):
        signal_status(relative_attendance(weekly, base), features, tau, daytime=day.drop(columns="daytime_max_km"))
    assert mats["usual_clock_h"][u, 12] == pytest.approx(13.0)


@pytest.mark.parametrize("block_users", [1, 5, 10_000])
def test_feature_blocks_are_the_whole_matrices_a_block_at_a_time(hand_panel, block_users, load_script):
    from mobility.employment.features import FeatureBlocks

    bench = load_script("benchmarks/bench_employment.py")
    weekly, base, features, tau = bench.simulated_panel(60, 20, seed=4)[:4]
    simulated = signal_status(relative_attendance(weekly, base), features, tau)
    assert len(simulated.tables["drop_evidence"]) > 0  # drops: their features index the drop table
    for sig in (_signal(hand_panel), simulated):
        whole = weekly_features(sig)
        blocks = FeatureBlocks(sig, block_users=block_users)
        assert blocks.names == sorted(whole)
        n_w = len(sig.weeks)
        cells = np.random.default_rng(0).permutation(len(sig.users) * n_w)  # any order, any cells
        rows = blocks.rows(cells, ["drop_posterior", "attendance_lead2", "telework", "workhour_observed_rel"])
        for j, name in enumerate(["drop_posterior", "attendance_lead2", "telework", "workhour_observed_rel"]):
            np.testing.assert_array_equal(rows[:, j], whole[name].reshape(-1)[cells], err_msg=name)
        everything = blocks.rows(np.arange(len(sig.users) * n_w))
        np.testing.assert_array_equal(everything, np.column_stack([whole[n].reshape(-1) for n in blocks.names]))
    with pytest.raises(MobilityError, match="no features \\['radius_of_gyration_km'\\]"):
        blocks.rows(np.array([0]), ["radius_of_gyration_km"])
