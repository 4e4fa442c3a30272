import numpy as np
import pandas as pd
import pytest

from mobility.errors import MobilityError
from mobility.longitudinal.panel import prepare_panel


def _panel():
    """Three users over three weeks; u1 and u3 lose their job; u2 is a control."""
    weeks = pd.to_datetime(["2020-03-02", "2020-03-09", "2020-03-16"])
    return pd.DataFrame({
        "user_id": np.repeat(["u1", "u2", "u3"], 3), "week": np.tile(weeks, 3),
        "rg": np.arange(9, dtype=float), "sex": np.repeat(["f", "m", "f"], 3),
        "tercile": np.repeat(["1", "2", None], 3),
        "job_loss_week": pd.to_datetime(["2020-03-09"] * 3 + [None] * 3 + ["2020-03-16"] * 3)})


def test_a_valid_panel_codes_users_in_order_of_appearance_among_the_kept_rows():
    p = _panel()
    p.loc[[0, 1, 2], "rg"] = np.nan  # u1 has no observed row: u2 is the first kept user
    ep = prepare_panel(p, "rg", groups=["sex"], strata="tercile")
    assert ep.user_codes.tolist() == [0, 0, 0, 1, 1, 1]
    assert ep.by_group["sex"][0].tolist() == [1, 1, 1, 0, 0, 0] and ep.by_group["sex"][1] == ["f", "m"]
    assert ep.strata.tolist() == [1, 1, 1, 2, 2, 2]


@pytest.mark.parametrize("column,value,message", [
    ("job_loss_week", pd.Timestamp("2020-03-16"), r"1 user\(s\) have more than one 'job_loss_week' value \(e.g. 'u1'\)"),
    ("job_loss_week", pd.NaT, r"1 user\(s\) have more than one 'job_loss_week' value \(e.g. 'u1'\)"),
    ("sex", "m", "group column 'sex' must be constant within a user"),
    ("sex", None, "group column 'sex' must be constant within a user"),
    ("tercile", "3", "strata column 'tercile' must be constant within a user"),
])
def test_what_must_be_constant_within_a_user_is_checked_a_missing_value_counting_as_one(column, value, message):
    p = _panel()
    p.loc[2, column] = value  # u1's last week differs from u1's other weeks
    with pytest.raises(MobilityError, match=message):
        prepare_panel(p, "rg", groups=["sex"], strata="tercile")
    p.loc[[0, 1, 2], column] = value  # the same for all of u1's weeks: valid (u3's tercile is missing throughout)
    if column != "sex" or value is not None:
        prepare_panel(p, "rg", groups=["sex"], strata="tercile")


def test_the_user_named_is_the_one_whose_job_loss_week_varies():
    p = _panel()
    p.loc[8, "job_loss_week"] = pd.Timestamp("2020-03-23")  # u3, the third user, not the first
    with pytest.raises(MobilityError, match=r"1 user\(s\) have more than one 'job_loss_week' value \(e.g. 'u3'\)"):
        prepare_panel(p, "rg")


def test_a_job_loser_without_a_group_is_counted_by_user():
    p = _panel()
    p.loc[[0, 1, 2, 6, 7, 8], "sex"] = None  # both losers, three rows each
    with pytest.raises(MobilityError, match="2 job loser"):
        prepare_panel(p, "rg", groups=["sex"])


def test_a_cut_panel_reads_its_own_outcomes_as_y():
    p = _panel().assign(rg2=lambda d: d["rg"] * 10)
    ep = prepare_panel(p, ["rg", "rg2"])
    only2 = ep.columns(["rg2"])
    assert only2.y.tolist() == [[10.0 * i] for i in range(9)]
    sub = ep.subset(np.array([False, True, True] * 3))
    assert sub.y.tolist() == [[i, 10.0 * i] for i in (1, 2, 4, 5, 7, 8)] and sub.outcome(1).tolist() == [10, 20, 40, 50, 70, 80]
    assert sub.y_source is ep.y_source   # the cut shares the array, it does not copy it
