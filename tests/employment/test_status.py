import numpy as np
import pandas as pd
import pytest

from mobility.employment.attendance import relative_attendance
from mobility.employment.params import EmploymentParams
from mobility.employment.status import signal_status
from mobility.errors import MobilityError


def _run(hand_panel, **kw):
    weekly, base, features, tau = hand_panel
    params = EmploymentParams(remote_wave_min_t=kw.pop("remote_wave_min_t", 1.0), **kw)
    panel = relative_attendance(weekly, base, params=params)
    res = signal_status(panel, features, tau, params=params)
    emp = res.tables["employment_weekly"].set_index(["user_id", "week"])
    return res, emp


def _status(emp, user):
    return emp.loc[user, "status"].tolist()


def test_teleworker_stays_employed(hand_panel):
    _, emp = _run(hand_panel)
    # the only drop in the shock week is the fully teleworkable user: a remote wave, q = 0
    assert _status(emp, "tele") == ["employed"] * 16
    assert emp.loc["tele", "p_unemployed"].iloc[10] == pytest.approx(0.0)


def test_job_loser_detected_in_the_loss_week(hand_panel):
    _, emp = _run(hand_panel)
    assert _status(emp, "loser") == ["employed"] * 12 + ["unemployed"] * 4
    assert emp.loc["loser", "weeks_since_job_loss"].tolist()[12:] == [0, 1, 2, 3]


def test_job_loser_needs_k_weeks(hand_panel):
    _, emp = _run(hand_panel, min_event_weeks=5)
    assert "unemployed" not in _status(emp, "loser")  # only 4 near-zero weeks in the panel


def test_silent_phone_is_unknown_not_unemployed(hand_panel):
    _, emp = _run(hand_panel)
    assert _status(emp, "silent") == ["employed"] * 11 + ["unknown"] * 5
    assert emp.loc["silent", "p_unemployed"].iloc[11:].isna().all()


def test_part_timer_is_measured_against_own_baseline(hand_panel):
    res, emp = _run(hand_panel)
    assert _status(emp, "part") == ["employed"] * 16
    users = list(res.users)
    # 2 of 5 days every week over a baseline of 2 of 5: relative attendance 1
    assert np.allclose(res.matrices["attendance"][users.index("part")], 1.0)


def test_hazard_accumulates_for_remote_workers(hand_panel):
    res, emp = _run(hand_panel)
    tab = res.tables["event_starts"].set_index("week")
    # week 12: 1 of 10 at-risk workers starts an event (the loser)
    wk12 = pd.Timestamp("2020-03-30")
    assert tab.loc[wk12, "at_risk"] == 10 and tab.loc[wk12, "starts"] == 1
    assert emp.loc["tele", "p_unemployed"].iloc[12] == pytest.approx(0.1)
    assert emp.loc["tele", "p_unemployed"].iloc[13] == pytest.approx(0.1)


def test_sector_formula(hand_panel):
    res, _ = _run(hand_panel, remote_adoption=1.0)
    s = res.tables["sector_weekly"].set_index(["sector", "week"])
    wk = pd.Timestamp("2020-04-06")
    # CNS18 (tau 0) that week: loser 0, part-timer 1, eight on-site 1 (silent phone not covered): R = 0.9
    assert s.loc[("CNS18", wk), "attendance"] == pytest.approx(0.9)
    assert s.loc[("CNS18", wk), "reference"] == pytest.approx(1.0)
    assert s.loc[("CNS18", wk), "p_unemployed"] == pytest.approx(0.1)
    # CNS12 (tau 1): the teleworker at 0, expected 1 - 1 * a = 0 -> nothing unexplained
    assert s.loc[("CNS12", wk), "reference"] == pytest.approx(0.0)
    assert s.loc[("CNS12", wk), "remote_adoption"] == 1.0
    # before the baseline ends there is no adoption
    assert s.loc[("CNS12", pd.Timestamp("2020-01-06")), "remote_adoption"] == 0.0


def test_panel_must_be_dense(hand_panel):
    weekly, base, features, tau = hand_panel
    panel = relative_attendance(weekly, base).iloc[1:]
    with pytest.raises(MobilityError, match="dense"):
        signal_status(panel, features, tau)
