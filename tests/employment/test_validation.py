import numpy as np
import pandas as pd
import pytest

from mobility.employment import job_loss_weeks
from mobility.employment.validation import evaluate_against_truth
from mobility.errors import MobilityError

WK = pd.date_range("2020-03-02", periods=8, freq="7D")


def _person(user, true_status, true_since, est_status, est_since, p):
    return (pd.DataFrame({"user_id": user, "week": WK, "status": true_status,
                          "weeks_since_job_loss": pd.array(true_since, dtype="Int64")}),
            pd.DataFrame({"user_id": user, "week": WK, "status": est_status, "p_unemployed": p, "method": "signal",
                          "weeks_since_job_loss": pd.array(est_since, dtype="Int64")}))


def _loss(start, n=8):
    return ["employed"] * start + ["unemployed"] * (n - start), [None] * start + list(range(n - start))


def _world():
    people = []
    for user, true_start, est_start in (("loser", 3, 4), ("late", 2, 5), ("missed", 3, None), ("stay1", None, 4),
                                        ("stay2", None, None)):
        ts, tsince = _loss(true_start) if true_start is not None else (["employed"] * 8, [None] * 8)
        if user == "stay2":
            ts = ["employed"] * 2 + ["remote"] * 6
        es, esince = _loss(est_start) if est_start is not None else (["employed"] * 8, [None] * 8)
        p = np.where(np.array(es) == "unemployed", 0.8, 0.1)
        people.append(_person(user, ts, tsince, es, esince, p))
    truth = pd.concat([t for t, _ in people], ignore_index=True)
    emp = pd.concat([e for _, e in people], ignore_index=True)
    return truth, emp


def test_person_scores_by_hand():
    truth, emp = _world()
    groups = pd.Series({"loser": "A", "late": "A", "missed": "B", "stay1": "B", "stay2": "B"})
    r = evaluate_against_truth(emp, truth, groups=groups)["signal"]
    assert (r["job_losers"], r["job_losers_detected"]) == (3, 2)
    assert r["loss_week_within_1"] == 0.5  # loser 1 week late, late 3 weeks late
    assert r["losers_found_within_1"] == pytest.approx(1 / 3)  # of all three true losers
    assert (r["stayers"], r["false_loss_share"]) == (2, 0.5)  # stay1 got a job loss, stay2 (remote) did not
    assert r["remote_flagged_share"] == 0.0
    y = (truth["status"] == "unemployed").to_numpy(float)
    p = emp["p_unemployed"].to_numpy()
    assert r["brier"] == pytest.approx(np.mean((p - y) ** 2)) and r["person_weeks"] == 40
    assert len(r["reliability"]) == 10 and r["calibration_error"] >= 0
    a, b = r["by_group"]["A"], r["by_group"]["B"]
    assert (a["users"], a["job_losers"], a["losers_found_within_1"], a["stayers"]) == (2, 2, 0.5, 0)
    assert (b["users"], b["job_losers"], b["losers_found_within_1"], b["false_loss_share"]) == (3, 1, 0.0, 0.5)


def test_job_loss_weeks_dates_the_first_loss_per_method():
    _, emp = _world()
    both = pd.concat([emp, emp.assign(method="classifier", weeks_since_job_loss=pd.NA)], ignore_index=True)
    assert job_loss_weeks(both, "signal").to_dict() == {"late": WK[5], "loser": WK[4], "stay1": WK[4]}
    assert job_loss_weeks(both, "classifier").empty
    with pytest.raises(MobilityError, match="several methods"):
        job_loss_weeks(both)
    with pytest.raises(MobilityError, match="available"):
        job_loss_weeks(both, "other")


def test_job_loss_weeks_takes_the_first_of_two_losses():
    e = pd.DataFrame({"user_id": ["a"] * 3, "week": pd.to_datetime(["2020-03-02", "2020-03-09", "2020-04-06"]),
                      "method": "signal", "weeks_since_job_loss": pd.array([0, 1, 0], dtype="Int64")})
    assert job_loss_weeks(e, "signal").to_dict() == {"a": pd.Timestamp("2020-03-02")}