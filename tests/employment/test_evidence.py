"""The label-free evidence of a drop (mobility.employment.evidence): night workers' outings read over the whole day."""

import numpy as np
import pandas as pd

from mobility.employment.evidence import drop_evidence, evidence_posterior


def test_a_night_workers_drop_is_scored_on_the_whole_days_outings():
    # Two users, four weeks, baseline week 0, a drop from week 2. User 0 works 9-to-5 (clock 13), user 1 nights
    # (clock 2). In their usual hours neither goes out in the drop (outing_usual 0 before and after); over the whole
    # day both go out more (0.2 -> 0.8). The night worker's drop is flagged ``night`` and the score reads her
    # whole-day outings; the day worker's reads his usual hours.
    n_u, n_w = 2, 4
    run_start = np.full((n_u, n_w), -1)
    run_start[:, 2:] = 2
    usable = np.ones((n_u, n_w), bool)
    flat = np.zeros((n_u, n_w))
    all_day = np.array([[0.2, 0.2, 0.8, 0.8]] * n_u)
    weekly = {"onsite": flat, "outing_usual": flat, "outing_off": flat, "home_usual": flat, "distance_usual": flat,
              "outing_all": all_day, "outing_all_off": flat,
              "usual_clock_h": np.array([[13.0] * n_w, [2.0] * n_w])}
    table, _ = drop_evidence(run_start, usable, np.full((n_u, n_w), 0.5), weekly, np.array([0]))
    assert table["night"].tolist() == [False, True]
    # the whole day's change against the calendar of the weeks outside the drops (weeks 0-1: no change) is +0.6
    assert np.allclose(table["outing_all"], 0.6) and np.allclose(table["outing_usual"], 0.0)
    # the score: the night drop's first score column is its outing_all, the day drop's its outing_usual
    t = pd.DataFrame({"prior": np.repeat([0.9, 0.1], 10), "hybrid": False, "new_workplace": False,
                      "covered_weeks": 4, "outing_usual": np.repeat([-0.2, 0.2], 10), "outing_off": 0.0,
                      "outing_all": np.repeat([-0.2, 0.2], 10), "outing_all_off": 0.0, "night": False})
    swapped = t.assign(night=True, outing_usual=0.0)  # night workers: nothing in the usual hours, all in the day
    assert np.allclose(evidence_posterior(t)["score"], evidence_posterior(swapped)["score"])
    assert np.allclose(evidence_posterior(t)["posterior"], evidence_posterior(swapped)["posterior"])
