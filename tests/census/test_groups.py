"""Group assignment: modal category and reproducible keyed draws."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mobility.census.features import feature_columns
from mobility.census.groups import assign_groups, categories, keyed_uniforms
from mobility.census.lodes import SECTORS
from mobility.errors import MobilityError


def _features():
    return pd.DataFrame({
        "user_id": ["a", "b", "c", "d"],
        "period": [1, 1, 1, 2],
        "work_cbg": ["420030201001"] * 4,
        "p_age_le29": [0.2, 0.5, np.nan, 0.0],
        "p_age_30_54": [0.5, 0.5, np.nan, 0.0],
        "p_age_ge55": [0.3, 0.0, np.nan, 1.0],
    })


def test_modal_with_ties_and_missing():
    out = assign_groups(_features(), "age")
    assert out.columns.tolist() == ["user_id", "period", "age"]
    assert out["age"].iloc[[0, 1, 3]].tolist() == ["30_54", "le29", "ge55"]  # tie -> first category
    assert pd.isna(out["age"].iloc[2])


def test_draws_are_reproducible_and_follow_probabilities():
    f = _features()
    d1 = assign_groups(f, "age", "draws", n_draws=4000, seed=3)
    d2 = assign_groups(f, "age", "draws", n_draws=4000, seed=3)
    pd.testing.assert_frame_equal(d1, d2)
    assert d1.columns.tolist() == ["user_id", "period", "draw", "age"] and len(d1) == 4 * 4000
    a = d1[d1["user_id"] == "a"]["age"].value_counts(normalize=True)
    for label, p in (("le29", 0.2), ("30_54", 0.5), ("ge55", 0.3)):
        assert abs(a[label] - p) < 4 * np.sqrt(p * (1 - p) / 4000)
    assert set(d1.loc[d1["user_id"] == "b", "age"]) == {"le29", "30_54"}  # zero-probability never drawn
    assert d1.loc[d1["user_id"] == "c", "age"].isna().all()
    assert (d1.loc[d1["user_id"] == "d", "age"] == "ge55").all()
    d3 = assign_groups(f, "age", "draws", n_draws=4000, seed=4)
    assert not d3["age"].equals(d1["age"])


def test_a_users_draws_do_not_depend_on_other_rows():
    f = _features()
    full = assign_groups(f, "age", "draws", n_draws=50, seed=0)
    alone = assign_groups(f.iloc[[0]], "age", "draws", n_draws=50, seed=0)
    assert full[full["user_id"] == "a"]["age"].tolist() == alone["age"].tolist()
    u = keyed_uniforms(["a", "b"], 5, seed=0)
    assert u.shape == (2, 5) and len(np.unique(u)) == 10


def test_sector_and_home_prefix():
    f = pd.DataFrame({"user_id": ["a"]} | {f"home_w_{s}": [0.0] for s in SECTORS})
    f["home_w_CNS12"] = 1.0
    assert assign_groups(f, "sector", prefix="home_")["sector"].tolist() == ["CNS12"]
    assert categories("sector") == list(SECTORS)
    assert len(feature_columns("race")) == len(categories("race")) == 6


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"dimension": "income"}, "unknown dimension"),
        ({"dimension": "age", "method": "mean"}, "method must be"),
        ({"dimension": "age", "method": "draws", "n_draws": 0}, "n_draws must be"),
        ({"dimension": "age", "seed": -1}, "seed must be"),
        ({"dimension": "sex"}, "features: missing column"),
    ],
)
def test_bad_arguments(kwargs, needle):
    with pytest.raises(MobilityError, match=needle):
        assign_groups(_features(), **kwargs)


def test_negative_probability_rejected():
    f = _features()
    f.loc[0, "p_age_le29"] = -0.1
    with pytest.raises(MobilityError, match="negative probabilities"):
        assign_groups(f, "age")


def test_person_groups_work_or_home_with_unknown_and_draws():
    from mobility.census.groups import person_groups

    f = pd.DataFrame({"user_id": ["a", "b", "c"], "p_sex_male": [0.9, 0.2, np.nan],
                      "p_sex_female": [0.1, 0.8, np.nan]})
    assert person_groups(f, ["sex"]).sex.tolist() == ["male", "female", "unknown"]
    home = f.rename(columns=lambda c: f"home_{c}" if c.startswith("p_") else c)
    assert person_groups(home, "sex", source="home").sex.tolist() == ["male", "female", "unknown"]
    draws = person_groups(f, ["sex"], method="draws", n_draws=400, seed=3)["sex"]
    shares = draws.groupby("user_id")["sex"].apply(lambda s: (s == "male").mean())
    assert abs(shares["a"] - 0.9) < 0.06 and abs(shares["b"] - 0.2) < 0.06 and (draws[draws.user_id == "c"].sex == "unknown").all()
    with pytest.raises(MobilityError, match="one feature row per person"):
        person_groups(pd.concat([f, f]), ["sex"])
    with pytest.raises(MobilityError, match="source"):
        person_groups(f, ["sex"], source="school")


def test_baseline_rows_pick_the_modal_home_of_the_baseline():
    from mobility.census.groups import baseline_rows

    weeks = pd.to_datetime(["2020-01-06", "2020-01-13", "2020-01-20", "2020-04-06"])
    f = pd.DataFrame({"user_id": ["a"] * 4 + ["b"], "week": list(weeks) + [weeks[3]],
                      "home_cbg": ["2", "1", "1", "3", "9"], "home_p_sex_male": [0.2, 0.5, 0.6, 0.9, 0.1]})
    rows = baseline_rows(f, "home_cbg", start="2020-01-06", end="2020-02-29")
    # a: CBG 1 twice in the baseline (its first week's row); b: no baseline week
    assert rows[["user_id", "home_cbg", "home_p_sex_male"]].values.tolist() == [["a", "1", 0.5]]


def test_group_agreement_by_hand():
    from mobility.census.groups import group_agreement

    assigned = pd.DataFrame({"user_id": list("abcde"), "age": ["le29", "30_54", "30_54", "unknown", "30_54"]})
    truth = pd.DataFrame({"user_id": list("abcdef"), "age_group": ["CA01", "CA01", "CA02", "CA03", "CA02", "CA03"]})
    out = group_agreement(assigned, truth, ["age"], label="work").set_index("category")
    assert out.loc["all", ["n_true", "n_agree"]].tolist() == [5, 3] and out.loc["all", "agreement"] == 0.6
    assert out.loc["le29", ["n_true", "n_assigned", "n_agree"]].tolist() == [2, 1, 1]
    assert out.loc["30_54", ["n_true", "n_assigned", "n_agree"]].tolist() == [2, 3, 2]
    assert out.loc["ge55", "agreement"] == 0.0 and (out.source == "work").all()
