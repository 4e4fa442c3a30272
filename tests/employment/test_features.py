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
    sig = _signal(hand_panel)
    users = list(sig.users)
    day = pd.DataFrame({"user_id": np.repeat(users, 16), "week": np.tile(WEEKS, len(users)),
                        "weekdays_with_data": 5, "weekdays_out": 5, "workhour_observed_h": 45.0,
                        "home_workhour_h": 5.0, "daytime_distance_km": 8.0, "daytime_max_km": 10.0})
    lost = (day["user_id"] == "loser") & (day["week"] >= WEEKS[12])
    day.loc[lost, ["weekdays_out", "home_workhour_h", "daytime_distance_km", "daytime_max_km"]] = [2, 40.0, 0.4, 2.0]
    mats = weekly_features(sig, daytime=day)
    u = users.index("loser")
    assert mats["home_workhour_share"][u, 12] == pytest.approx(40 / 45)
    assert mats["home_workhour_share_vs_baseline"][u, 12] == pytest.approx(40 / 45 - 5 / 45)
    assert mats["outing_share_vs_baseline"][u, 13] == pytest.approx(2 / 5 - 1)
    assert mats["daytime_distance_rel"][u, 12] == pytest.approx(0.05)
    assert mats["daytime_max_rel"][u, 3] == pytest.approx(1.0)
    with pytest.raises(MobilityError, match="daytime: missing column"):
        weekly_features(sig, daytime=day.drop(columns="daytime_max_km"))
