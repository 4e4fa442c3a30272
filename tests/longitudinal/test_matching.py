import pandas as pd
import pytest

from mobility.errors import MobilityError
from mobility.longitudinal.event_study import event_study
from mobility.longitudinal.matching import (
    apply_match_weights,
    baseline_means,
    match_controls,
)

from .panels import simulate_panel

WEEKS = pd.to_datetime(["2020-01-06", "2020-01-13", "2020-01-20", "2020-01-27"])
LOSS = pd.Timestamp("2020-01-27")


def _panel(values, treated, sex=None):
    """Users with a constant baseline metric ``values[u]``; treated users lose their job in week 4."""
    rows = []
    for u, (v, t) in enumerate(zip(values, treated)):
        for w in WEEKS:
            rows.append({"user_id": f"u{u}", "week": w, "rg": v, "job_loss_week": LOSS if t else pd.NaT,
                         "sex": None if sex is None else sex[u]})
    return pd.DataFrame(rows)


def test_nearest_neighbour_weights_by_hand():
    # losers at 1.0 and 5.0; controls at 0.9, 1.2, 4.0, 10.0 -> nearest: 0.9 and 4.0
    p = _panel([1.0, 5.0, 0.9, 1.2, 4.0, 10.0], [True, True, False, False, False, False])
    m = match_controls(p, ["rg"], caliper_sd=None).weights.set_index("user_id").weight
    assert m.to_dict() == {"u0": 1.0, "u1": 1.0, "u2": 1.0, "u3": 0.0, "u4": 1.0, "u5": 0.0}
    two = match_controls(p, ["rg"], n_neighbors=2, caliper_sd=None).weights.set_index("user_id").weight
    # u0 -> {0.9, 1.2}; u1 -> {4.0, 1.2}: each match counts 1/2
    assert two.to_dict() == {"u0": 1.0, "u1": 1.0, "u2": 0.5, "u3": 1.0, "u4": 0.5, "u5": 0.0}


def test_caliper_drops_loser_without_close_control():
    p = _panel([1.0, 50.0, 1.1, 1.3, 0.8], [True, True, False, False, False])
    res = match_controls(p, ["rg"], caliper_sd=0.5)
    w = res.weights.set_index("user_id").weight
    assert w["u0"] == 1.0 and w["u1"] == 0.0
    assert res.info["n_treated_matched"] == 1


def test_the_caliper_is_per_covariate():
    """Four covariates, each 0.4 standard deviations apart between the loser and its nearest control: 0.8 SD
    of plain Euclidean distance, 0.4 per covariate, so a caliper of 0.5 keeps the pair and one of 0.3 does not;
    with the first covariate alone the same pair is 0.4 apart."""
    rows = []
    values = {"u0": 0.0, "u1": 0.4, "u2": 2.0, "u3": -2.0}  # loser u0; controls u1 (0.4 SD away), u2, u3
    for u, v in values.items():
        for w in WEEKS:
            rows.append({"user_id": u, "week": w, "job_loss_week": LOSS if u == "u0" else pd.NaT,
                         **{f"m{j}": v for j in range(4)}})
    p = pd.DataFrame(rows)
    sd = pd.Series(list(values.values())).std()  # the covariates' standard deviation over the four users
    caliper = 0.4 / sd  # 0.4 units in SD units
    metrics = [f"m{j}" for j in range(4)]
    kept = match_controls(p, metrics, caliper_sd=1.25 * caliper).weights.set_index("user_id").weight
    assert kept["u0"] == 1.0 and kept["u1"] == 1.0
    dropped = match_controls(p, metrics, caliper_sd=0.75 * caliper).weights.set_index("user_id").weight
    assert dropped["u0"] == 0.0 and dropped.sum() == 0.0
    one = match_controls(p, ["m0"], caliper_sd=1.25 * caliper).weights.set_index("user_id").weight
    assert one.equals(kept)


def test_exact_matching_stays_within_category():
    p = _panel([1.0, 1.0, 1.0, 3.0], [True, False, False, False], sex=["f", "m", "m", "f"])
    w = match_controls(p, ["rg"], exact=["sex"], caliper_sd=None).weights.set_index("user_id").weight
    assert w["u3"] == 1.0 and w["u1"] == 0.0 and w["u2"] == 0.0


def test_cem_weights_by_hand():
    # two bins split at the median 2.5: low {1,1,2,2,2}, high {3,4,4,4,...}
    vals = [1.0, 4.0, 4.0, 2.0, 2.0, 1.0, 3.0, 4.0]
    tr = [True, True, True, False, False, False, False, False]
    res = match_controls(p := _panel(vals, tr), ["rg"], method="cem", n_bins=2)
    w = res.weights.set_index("user_id").weight
    # strata: low has 1 T, 3 C; high has 2 T, 2 C; M_T = 3, M_C = 5
    assert w["u0"] == w["u1"] == 1.0
    assert w["u3"] == pytest.approx((1 / 3) * (5 / 3))
    assert w["u6"] == pytest.approx((2 / 2) * (5 / 3))
    assert len(p) == 32


def test_baseline_excludes_post_loss_weeks_and_default_window():
    p = _panel([1.0, 2.0], [True, False])
    p.loc[(p.user_id == "u0") & (p.week == LOSS), "rg"] = 100.0
    b = baseline_means(p, ["rg"]).set_index("user_id")
    assert b.loc["u0", "rg"] == 1.0  # default baseline: weeks before the earliest loss
    with pytest.raises(MobilityError, match="ends before"):
        baseline_means(p, ["rg"], baseline=("2020-02-01", "2020-01-01"))


def test_matching_restores_balance_on_selected_losers():
    p = simulate_panel(30, n_users=1500, n_weeks=24)
    # losers selected on high baseline level: drop losers with low person means
    base = p[p.week < "2020-02-10"].groupby("user_id").y.mean()
    loser = p.drop_duplicates("user_id").set_index("user_id").job_loss_week.notna()
    drop = base.index[loser[base.index] & (base < base.median())]
    q = p[~p.user_id.isin(drop)].copy()
    res = match_controls(q, ["y"], exact=["sex"], baseline=("2020-01-06", "2020-02-03"))
    row = res.balance.set_index("covariate").loc["y"]
    assert abs(row.smd_before) > 0.5 and abs(row.smd_after) < 0.1
    weighted = apply_match_weights(q, res)
    out = event_study(weighted, "y", weight_col="weight", window=(-3, 6))
    assert out.coefficients.estimate.notna().all()


def test_errors():
    p = _panel([1.0, 2.0], [True, False])
    for kwargs, match in [({"method": "x"}, "method"), ({"n_neighbors": 0}, "n_neighbors"),
                          ({"caliper_sd": 0}, "caliper_sd"), ({"exact": ["nope"]}, "exact-match")]:
        with pytest.raises(MobilityError, match=match):
            match_controls(p, ["rg"], **kwargs)
