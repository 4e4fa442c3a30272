import numpy as np
import pandas as pd
import pytest

from mobility.employment.area import area_unemployment
from mobility.employment.params import EmploymentParams
from matplotlib.figure import Figure

from mobility.employment.validation import evaluate_against_truth, plot_validation, reference_series, validate_against


def _emp(n, unemployed, week="2020-04-06", prefix="u"):
    return pd.DataFrame({"user_id": [f"{prefix}{i}" for i in range(n)], "week": pd.Timestamp(week),
                         "status": ["unemployed"] * unemployed + ["employed"] * (n - unemployed),
                         "p_unemployed": [1.0] * unemployed + [0.0] * (n - unemployed), "method": "signal"})


def test_county_state_month_and_suppression():
    emp = pd.concat([_emp(12, 3), _emp(12, 6, "2020-04-13"), _emp(4, 4, prefix="v")], ignore_index=True)
    homes = pd.DataFrame({"user_id": [f"u{i}" for i in range(12)] + [f"v{i}" for i in range(4)],
                          "home_cbg": ["421010001001"] * 12 + ["420450001001"] * 4})
    a = area_unemployment(emp, homes).set_index(["level", "area", "period", "period_start"])
    small = a.loc[("county", "42045", "week", pd.Timestamp("2020-04-06"))]
    assert small["suppressed"] and np.isnan(small["rate"]) and np.isnan(small["n_users"])
    # the state minus 42101 would give 42045 back: 42101 is hidden too (complementary suppression)
    assert a.loc[("county", "42101", "week", pd.Timestamp("2020-04-06")), "suppressed"]
    shown = area_unemployment(emp, homes, params=EmploymentParams(min_cell_users=4))
    shown = shown.set_index(["level", "area", "period", "period_start"])
    assert shown.loc[("county", "42101", "week", pd.Timestamp("2020-04-06")), "rate"] == pytest.approx(0.25)
    # state: 16 users, 7 unemployed in week 2020-04-06
    assert a.loc[("state", "42", "week", pd.Timestamp("2020-04-06")), "rate"] == pytest.approx(7 / 16)
    # April: user-weeks of both weeks in 42101: (3 + 6) / 24
    assert shown.loc[("county", "42101", "month", pd.Timestamp("2020-04-01")), "rate"] == pytest.approx(9 / 24)


def test_a_lone_suppressed_county_takes_its_smallest_shown_neighbour_with_it():
    """Differencing: a state's counts minus its shown counties' give back a lone hidden county's, so the
    shown county with the fewest users is hidden too, per table (method, estimator, period); not where two are
    hidden already, nor where the state itself is hidden, nor across states."""
    from mobility.employment.area import complementary_suppression

    rows = [  # (method, period_start, level, area, n_users)
        ("signal", "2020-04-06", "state", "42", 93), ("signal", "2020-04-06", "county", "42001", 3),
        ("signal", "2020-04-06", "county", "42003", 50), ("signal", "2020-04-06", "county", "42005", 40),
        ("signal", "2020-04-06", "county", "42007", 40),                       # ties on users: smaller FIPS
        ("signal", "2020-04-13", "state", "42", 93), ("signal", "2020-04-13", "county", "42001", 3),
        ("signal", "2020-04-13", "county", "42003", 5), ("signal", "2020-04-13", "county", "42005", 85),
        ("classifier", "2020-04-06", "state", "42", 8), ("classifier", "2020-04-06", "county", "42001", 3),
        ("classifier", "2020-04-06", "county", "42003", 5),                    # the state is hidden itself
        ("signal", "2020-04-06", "state", "10", 60), ("signal", "2020-04-06", "county", "10001", 60),
    ]
    cells = pd.DataFrame(rows, columns=["method", "period_start", "level", "area", "n_users"])
    cells["period_start"] = pd.to_datetime(cells["period_start"])
    hidden = complementary_suppression(cells, cells["n_users"].to_numpy() < 10)
    expected = cells["n_users"].to_numpy() < 10
    expected[3] = True  # 42005 (40 users, before 42007's 40 by FIPS) hides with 42001 in week 2020-04-06
    assert hidden.tolist() == expected.tolist()
    assert complementary_suppression(cells.iloc[:0], np.zeros(0, bool)).tolist() == []


def test_unknown_weeks_are_not_in_the_labour_force():
    emp = _emp(12, 3)
    emp.loc[0, "status"] = "unknown"
    homes = pd.DataFrame({"user_id": emp["user_id"], "home_cbg": "421010001001"})
    a = area_unemployment(emp, homes, levels=("county",), periods=("week",))
    assert a.loc[0, "labour_force"] == 11 and a.loc[0, "unemployed"] == 2


def test_validation_scores_and_figure():
    weeks = pd.date_range("2020-03-02", periods=6, freq="7D")
    area = pd.DataFrame({"method": "signal", "route": "individual", "level": "county", "area": "42101",
                         "period": "week", "period_start": weeks, "rate": np.linspace(0, 0.1, 6),
                         "suppressed": False})
    truth = pd.DataFrame({"county": "42101", "week": weeks, "rate": np.linspace(0, 0.1, 6) + 0.01})
    ui = pd.DataFrame({"state_fips": "42", "week_end": weeks + pd.Timedelta(days=5),
                       "contclaims_rate_regular": np.linspace(1, 5, 6)})
    res = validate_against(area, truth_area=truth, ui_claims=ui)
    assert res["truth"]["signal"]["pearson_r"] == pytest.approx(1.0)
    assert res["truth"]["signal"]["mae"] == pytest.approx(0.01)
    fig = plot_validation(area, reference_series(truth_area=truth, ui_claims=ui))
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert fig.axes[0].get_xlabel() == "truth rate (county, week)"


def test_evaluate_timing_and_remote_flags():
    wk = pd.date_range("2020-03-02", periods=5, freq="7D")
    emp = pd.DataFrame({"user_id": ["a"] * 5, "week": wk, "method": "signal",
                        "status": ["employed", "employed", "employed", "unemployed", "unemployed"],
                        "p_unemployed": [0.0, 0.0, 0.2, 0.9, 0.9],
                        "weeks_since_job_loss": pd.array([None, None, None, 0, 1], dtype="Int64")})
    tru = pd.DataFrame({"user_id": ["a"] * 5, "week": wk,
                        "status": ["employed", "unemployed", "unemployed", "unemployed", "unemployed"],
                        "weeks_since_job_loss": [None, 0, 1, 2, 3]})
    r = evaluate_against_truth(emp, tru)["signal"]
    assert r["job_losers_detected"] == 1 and r["loss_week_within_1"] == 0.0  # detected 2 weeks late


# ------------------------------------------------------------------ rates with honest uncertainty
from mobility.employment.area import panel_weights, sector_area_unemployment  # noqa: E402
from mobility.employment.params import AreaParams  # noqa: E402
from mobility.errors import MobilityError  # noqa: E402
from mobility.employment.sector import SECTORS, WEIGHT_COLUMNS  # noqa: E402

WEEK = pd.Timestamp("2020-04-06")


def _panel(p, county, *, week=WEEK, status=None):
    n = len(p)
    users = [f"u{i:05d}" for i in range(n)]
    status = np.where(np.asarray(p) >= 0.5, "unemployed", "employed") if status is None else status
    emp = pd.DataFrame({"user_id": users, "week": week, "status": status, "p_unemployed": p, "method": "signal"})
    homes = pd.DataFrame({"user_id": users, "home_cbg": [f"{c}0001001" for c in county]})
    return emp, homes


def _county_week(area):
    return area[(area["level"] == "county") & (area["period"] == "week") & (area["estimator"] == "expected")]


def test_intervals_cover_the_panels_own_statuses_when_the_panel_is_the_population():
    rng = np.random.default_rng(5)
    n_counties, per = 60, 150
    county = np.repeat([f"42{i:03d}" for i in range(n_counties)], per)
    p = rng.beta(1.0, 9.0, n_counties * per)
    y = rng.random(len(p)) < p  # each person's true status, drawn from a calibrated probability
    emp, homes = _panel(p, county)
    truth = pd.Series(y).groupby(county).mean()
    out = {}
    for share in (1.0, 0.0):
        a = _county_week(area_unemployment(emp, homes, levels=("county",), periods=("week",),
                                           area_params=AreaParams(replicates=200, panel_share=share)))
        t = truth.reindex(a["area"]).to_numpy()
        out[share] = np.mean((a["rate_low"].to_numpy() <= t) & (t <= a["rate_high"].to_numpy()))
        assert a["rate"].to_numpy() == pytest.approx(pd.Series(p).groupby(county).mean().reindex(a["area"]).to_numpy())
    assert 0.85 <= out[1.0] <= 1.0  # nominal 95 %
    assert out[0.0] < out[1.0] - 0.1  # resampling users alone misses each person's uncertain status


def test_an_interval_holds_its_own_estimate_where_every_probability_is_near_zero():
    # 60 people with p = 1e-4: every latent draw is "employed", so the percentile interval alone is [0, 0]
    # while the expected rate is 1e-4; the published interval must still hold the published rate
    emp, homes = _panel(np.full(60, 1e-4), ["42101"] * 60)
    a = _county_week(area_unemployment(emp, homes, levels=("county",), periods=("week",),
                                       area_params=AreaParams(replicates=50, panel_share=1.0))).iloc[0]
    assert a["rate"] == pytest.approx(1e-4)
    assert a["rate_low"] == 0.0 and a["rate_high"] == pytest.approx(1e-4)


def test_intervals_cover_the_population_rate_of_a_sample():
    rng = np.random.default_rng(6)
    n_counties, per = 60, 120
    county = np.repeat([f"42{i:03d}" for i in range(n_counties)], per)
    p = rng.beta(1.0, 9.0, n_counties * per)  # a sample of users; the population rate is E[p] = 0.1
    emp, homes = _panel(p, county)
    a = _county_week(area_unemployment(emp, homes, levels=("county",), periods=("week",),
                                       area_params=AreaParams(replicates=200, panel_share=0.0)))
    cover = np.mean((a["rate_low"] <= 0.1) & (0.1 <= a["rate_high"]))
    assert 0.85 <= cover <= 1.0


def test_labels_recalibrate_out_of_fold_and_correct_hard_statuses():
    rng = np.random.default_rng(7)
    n = 4000
    county = np.where(np.arange(n) < n // 2, "42101", "42045")
    true_p = np.where(county == "42101", rng.beta(3.0, 7.0, n), rng.beta(1.0, 9.0, n))
    y = rng.random(n) < true_p
    p = 0.5 * true_p  # too low by half: miscalibrated (E[y | p] = 2 p, in every county)
    flip = rng.random(n)
    status = np.where(y, np.where(flip < 0.8, "unemployed", "employed"), np.where(flip < 0.05, "unemployed",
                                                                                  "employed"))
    emp, homes = _panel(p, county, status=status)
    labels = pd.DataFrame({"user_id": emp["user_id"], "week": WEEK, "status": np.where(y, "unemployed", "employed")})
    ap = AreaParams(replicates=50, panel_share=1.0)
    raw = _county_week(area_unemployment(emp, homes, area_params=ap)).set_index("area")["rate"]
    a = area_unemployment(emp, homes, labels=labels, area_params=ap)
    cal = _county_week(a).set_index("area")["rate"]
    truth = pd.Series(y).groupby(county).mean()
    assert (raw - truth.reindex(raw.index)).abs().max() > 0.04  # biased without labels
    assert (cal - truth.reindex(cal.index)).abs().max() < 0.02  # recalibrated out of fold
    rg = a[(a["estimator"] == "status_corrected") & (a["level"] == "county")].set_index("area")["rate"]
    s = pd.Series(status == "unemployed").groupby(county).mean()
    se = (status[y] == "unemployed").mean()
    sp = (status[~y] == "employed").mean()
    by_hand = ((s + sp - 1) / (se + sp - 1)).reindex(rg.index)
    assert (rg - by_hand).abs().max() < 0.01  # Rogan-Gladen with out-of-fold Se, Sp ~ the overall ones
    assert (rg - truth.reindex(rg.index)).abs().max() < 0.03


def test_weights_make_an_over_represented_county_count_as_much_as_its_population():
    county = np.array(["42101"] * 300 + ["42045"] * 100)
    p = np.where(county == "42101", 0.1, 0.3)
    emp, homes = _panel(p, county)
    feats = pd.DataFrame({"user_id": emp["user_id"], **{c: 1.0 / 20 for c in WEIGHT_COLUMNS}})
    rac = pd.DataFrame({"GEOID": ["421010001001", "420450001001"], "C000": [1000, 1000],
                        **{s: [50, 50] for s in SECTORS},
                        **{c: [500, 500] for c in ("CA01", "CA02", "CE01", "CE02", "CS01", "CS02")},
                        "CA03": [0, 0], "CE03": [0, 0]})
    w = panel_weights(homes, feats, rac=rac)
    ap = AreaParams(replicates=20, panel_share=0.0)
    state = lambda a: a[(a["level"] == "state") & (a["period"] == "week")]["rate"].iloc[0]
    assert state(area_unemployment(emp, homes, area_params=ap)) == pytest.approx(0.15)  # (30 + 30) / 400
    weighted = area_unemployment(emp, homes, weights=w, area_params=ap)
    assert state(weighted) == pytest.approx(0.2, abs=1e-3)  # the population's 1,000 + 1,000
    assert _county_week(weighted).set_index("area")["rate"].to_dict() == pytest.approx({"42045": 0.3, "42101": 0.1})


def test_sector_route_counts_each_countys_own_users():
    sw = pd.DataFrame({"sector": list(SECTORS), "week": WEEK, "p_unemployed": [0.2] * 20, "weight": 1.0})
    wac = pd.DataFrame({"GEOID": ["42101", "42045", "42091"], **{s: [10, 10, 10] for s in SECTORS}})
    users = pd.DataFrame({"area": ["42101", "42045", "42091"], "week": [WEEK] * 3, "n_users": [40, 4, 30]})
    reps = np.full((30, 20, 1), 0.2) + np.linspace(-0.05, 0.05, 30)[:, None, None]
    a = sector_area_unemployment(sw, wac, n_users=users, replicates=reps, periods=("week",)).set_index(["level", "area"])
    assert a.loc[("county", "42101"), "n_users"] == 40 and not a.loc[("county", "42101"), "suppressed"]
    assert a.loc[("county", "42045"), "suppressed"] and np.isnan(a.loc[("county", "42045"), "rate"])
    assert a.loc[("county", "42091"), "suppressed"]  # the state minus 42101 would give 42045's users back
    assert a.loc[("state", "42"), "n_users"] == 74
    assert a.loc[("county", "42101"), "rate_low"] < 0.2 < a.loc[("county", "42101"), "rate_high"]
    no_counts = sector_area_unemployment(sw, wac, periods=("week",))
    assert no_counts["suppressed"].all()  # without its own users a cell cannot be published


def test_sector_replicates_are_the_signals_shares_of_poisson_resampled_users():
    from mobility.employment.area import sector_replicates
    from mobility.employment.sector import sector_weekly
    from mobility.employment.status import SignalResult

    rng = np.random.default_rng(5)
    n, n_w = 57, 3
    weeks = pd.date_range("2020-03-02", periods=n_w, freq="7D")
    att = rng.uniform(0, 1.2, (n, n_w))
    att[0, 1] = np.nan
    usable = rng.random((n, n_w)) > 0.2
    w = rng.dirichlet(np.ones(20), n)
    w[3] = np.nan  # a worker without sector weights counts nowhere
    tau = pd.Series(rng.uniform(0, 0.8, 20), index=list(SECTORS))
    adoption = np.array([0.0, 0.4, 0.6])
    table = sector_weekly(np.where(usable, att, np.nan), w, tau.to_numpy(), adoption, weeks)
    sig = SignalResult(np.array([f"u{i}" for i in range(n)]), weeks,
                       {"attendance": att, "usable": usable, "weights": w}, np.zeros(n), {"sector_weekly": table})
    ap = AreaParams(replicates=4, seed=9)
    got = sector_replicates(sig, tau, ap, chunk_users=10)
    f = np.random.default_rng([9, 3]).poisson(1.0, (4, n)).astype(float)
    for b in range(4):  # by hand: the signal's own table on each replicate's reweighted users
        want = sector_weekly(np.where(usable, att, np.nan), w * f[b][:, None], tau.to_numpy(), adoption, weeks)
        np.testing.assert_allclose(got[b], want["p_unemployed"].to_numpy().reshape(20, n_w), atol=1e-12)
    # a signal that averaged over b: each replicate's remote stock is that of a b drawn from its posterior
    from mobility.employment.evidence import InterceptDraws

    stocks = np.array([[0.0, 0.2, 0.3], [0.0, 0.5, 0.7]])
    sig.intercept = InterceptDraws(np.array([0.0, 1.0]), np.array([0.2, 0.8]), np.zeros((2, 0)), sig.users, weeks,
                                   np.zeros(0, int), np.zeros(0, int), np.zeros(0, int), stock=stocks)
    got = sector_replicates(sig, tau, AreaParams(replicates=12, seed=9), chunk_users=10)
    f = np.random.default_rng([9, 3]).poisson(1.0, (12, n)).astype(float)
    drawn = []
    for r in range(12):
        at_b = [sector_weekly(np.where(usable, att, np.nan), w * f[r][:, None], tau.to_numpy(), stocks[k], weeks,
                              b * stocks[k])["p_unemployed"].to_numpy().reshape(20, n_w)
                for k, b in enumerate([0.0, 1.0])]
        drawn += [k for k in (0, 1) if np.allclose(got[r], at_b[k], atol=1e-12, equal_nan=True)]
    assert drawn == np.random.default_rng([9, 5]).choice(2, size=12, p=[0.2, 0.8]).tolist()  # b's own stream
    assert set(drawn) == {0, 1}


def test_people_the_labels_put_without_a_job_leave_both_estimators_labour_force():
    # 200 users in one county, statuses and probabilities exact: 20 unemployed, 40 seen commuting to a campus
    # (labelled no_job, status employed), 140 employed. Labour force 160, rate 20 / 160 = 0.125 by hand (each
    # fold's share without a job comes from the other folds: 40 of 180 give or take a few).
    n = 200
    truth = np.array(["unemployed"] * 20 + ["no_job"] * 40 + ["employed"] * 140)
    p = (truth == "unemployed").astype(float)
    emp, homes = _panel(p, ["42101"] * n)
    labels = pd.DataFrame({"user_id": emp["user_id"], "week": WEEK, "status": truth})
    a = area_unemployment(emp, homes, labels=labels, area_params=AreaParams(replicates=20, panel_share=1.0))
    cells = a[(a["level"] == "county") & (a["period"] == "week")].set_index("estimator")
    assert cells.loc["expected", "rate"] == pytest.approx(0.125, abs=0.002)
    assert cells.loc["status_corrected", "rate"] == pytest.approx(0.125, abs=0.002)  # was 20 / 200 = 0.1
    assert cells.loc["status_corrected", "labour_force"] == pytest.approx(160, rel=0.01)


def test_a_week_whose_statuses_cannot_be_corrected_leaves_the_other_weeks_published():
    # 400 users in one county, two weeks, 100 unemployed both weeks (labels). Week 1: statuses right but for
    # 10 missed losers (Se 0.9, Sp 1, Youden 0.9): Rogan-Gladen gives back 100 / 400 = 0.25. Week 2: statuses
    # are a coin toss (Youden ~0 < min_youden): that week alone is not published.
    n, weeks = 400, [WEEK, WEEK + pd.Timedelta(days=7)]
    y = np.arange(n) < 100
    week1 = np.where(y & (np.arange(n) >= 10), "unemployed", "employed")
    week2 = np.where(np.arange(n) % 2 == 0, "unemployed", "employed")
    frames = [_panel(np.where(st == "unemployed", 1.0, 0.0), ["42101"] * n, week=w, status=st)
              for w, st in zip(weeks, (week1, week2))]
    emp, homes = pd.concat([f[0] for f in frames], ignore_index=True), frames[0][1]
    labels = pd.DataFrame({"user_id": emp["user_id"], "week": emp["week"],
                           "status": np.tile(np.where(y, "unemployed", "employed"), 2)})
    a = area_unemployment(emp, homes, labels=labels, area_params=AreaParams(replicates=20, panel_share=1.0))
    rg = a[(a["estimator"] == "status_corrected") & (a["level"] == "county") & (a["period"] == "week")]
    rate = rg.set_index("period_start")["rate"]
    assert rate[weeks[0]] == pytest.approx(0.25, abs=0.01)
    assert np.isnan(rate[weeks[1]])


def test_a_tiny_labelled_panel_whose_gap_is_within_its_sampling_error_leaves_the_own_probabilities():
    # 200 users of one county, one week, the method says p = 0.25 for everyone and 50 of them are unemployed:
    # the own probabilities are right. Five users are labelled, two unemployed and three employed, one a fold
    # (5 folds). With one probability bin and one month, the James-Stein weight of a set of m labelled users
    # with a unemployed (q = a / m) is max(0, 1 - se^2 / gap^2), gap = q - 0.25 and, the linearised variance
    # of the ratio over users with one week each, se^2 = sum_i (y_i - q)^2 / (m (m - 1)) = q (1 - q) / (m - 1):
    #   all five (for the 195 unlabelled users): q = 0.4, gap = 0.15, se^2 = 0.24 / 4 = 0.06 > 0.0225 -> 0;
    #   an unemployed user's other folds (1 of 4): q = 0.25, gap = 0 -> 0;
    #   an employed user's other folds (2 of 4): q = 0.5, gap = 0.25, se^2 = 0.25 / 3 = 0.0833 > 0.0625 -> 0.
    # So "auto" keeps p = 0.25: rate 0.25. "always" shifts by the full gaps: unlabelled 0.25 + 0.15 = 0.4,
    # labelled unemployed 0.25 + 0 = 0.25, labelled employed 0.25 + 0.25 = 0.5:
    # rate (195 x 0.4 + 2 x 0.25 + 3 x 0.5) / 200 = 80 / 200 = 0.4.
    n = 200
    emp, homes = _panel(np.full(n, 0.25), ["42101"] * n, status=["unemployed"] * 50 + ["employed"] * 150)
    labels = pd.DataFrame({"user_id": emp["user_id"].iloc[[0, 1, 50, 51, 52]], "week": WEEK,
                           "status": ["unemployed"] * 2 + ["employed"] * 3})
    rate = {}
    for how in ("auto", "always", "never"):
        a = area_unemployment(emp, homes, labels=labels, levels=("county",), periods=("week",),
                              area_params=AreaParams(replicates=20, recalibrate=how))
        rate[how] = a.loc[a["estimator"] == "expected", "rate"].item()
        cal = a.attrs["calibration"]["signal"]
        assert cal["recalibrate"] == how and cal["labelled_users"] == 5 and cal["labelled_weeks"] == 5
        assert cal["gap_pts_by_month"] == {"2020-04": pytest.approx(15.0)}
        assert cal["gap_se_pts_by_month"] == {"2020-04": pytest.approx(100 * 0.06**0.5, abs=0.01)}
        assert cal["weight_by_month"] == {"2020-04": {"auto": 0.0, "always": 1.0, "never": 0.0}[how]}
    assert rate["auto"] == pytest.approx(0.25, abs=1e-6)
    assert rate["never"] == pytest.approx(0.25, abs=1e-6)
    assert rate["always"] == pytest.approx(0.4, abs=1e-6)


def test_a_large_labelled_panel_that_shows_the_own_probabilities_too_low_recalibrates_them():
    # p = 0.1 for everyone, but 30 of 100 users are unemployed in each of two counties. The 100 users of
    # 42101 are all labelled; those of 42045 are not, so they take the shift from all labelled users:
    # gap = 0.3 - 0.1 = 0.2, se^2 = q (1 - q) / (m - 1) = 0.21 / 99 = 0.0021212 (se 4.61 points), and the
    # James-Stein weight 1 - 0.0021212 / 0.04 = 0.94697: 42045's rate is 0.1 + 0.94697 x 0.2 = 0.28939,
    # near the truth 0.3 (0.3 with "always", 0.1 with "never"). 42101's users are shifted out of fold by
    # their other folds' gaps: 5 folds of 20 users, on average 6 of the 30 unemployed a fold, so the other
    # folds' q averages 24 / 80 = 0.3 whatever the draw; at q = 0.3, se^2 = 0.21 / 79 = 0.002658 and the
    # weight 1 - 0.002658 / 0.04 = 0.9335: rate about 0.1 + 0.9335 x 0.2 = 0.2867.
    n = 100
    status = (["unemployed"] * 30 + ["employed"] * 70) * 2
    emp, homes = _panel(np.full(2 * n, 0.1), ["42101"] * n + ["42045"] * n, status=status)
    labels = pd.DataFrame({"user_id": emp["user_id"].iloc[:n], "week": WEEK, "status": status[:n]})
    rate = {}
    for how in ("auto", "always", "never"):
        a = area_unemployment(emp, homes, labels=labels, levels=("county",), periods=("week",),
                              area_params=AreaParams(replicates=20, recalibrate=how))
        rate[how] = a[a["estimator"] == "expected"].set_index("area")["rate"]
    cal = a.attrs["calibration"]["signal"]
    assert cal["weight_by_month"] == {"2020-04": 0.0}
    a = area_unemployment(emp, homes, labels=labels, levels=("county",), periods=("week",),
                          area_params=AreaParams(replicates=20, recalibrate="auto"))
    cal = a.attrs["calibration"]["signal"]
    assert cal["labelled_users"] == 100
    assert cal["gap_pts_by_month"]["2020-04"] == pytest.approx(20.0)
    assert cal["gap_se_pts_by_month"]["2020-04"] == pytest.approx(100 * (0.21 / 99) ** 0.5, abs=0.01)
    assert cal["weight_by_month"]["2020-04"] == pytest.approx(1 - 0.21 / 99 / 0.04, abs=1e-3)
    assert rate["auto"]["42045"] == pytest.approx(0.1 + (1 - 0.21 / 99 / 0.04) * 0.2, abs=1e-5)
    assert rate["always"]["42045"] == pytest.approx(0.3, abs=1e-5)
    assert rate["never"]["42045"] == pytest.approx(0.1, abs=1e-5)
    assert rate["never"]["42101"] == pytest.approx(0.1, abs=1e-5)
    assert rate["auto"]["42101"] == pytest.approx(0.2867, abs=0.005)


def test_a_single_labelled_user_cannot_tell_its_gap_from_noise():
    # 100 users with p = 0.1, 30 unemployed; one labelled user, unemployed: gap 1 - 0.1 = 0.9, but one user
    # has no spread to estimate the gap's standard error, so "auto" keeps the own p: rate 0.1 (the error
    # is recorded as not estimable). Four of the five folds are empty. "always" moves the 99 unlabelled
    # users to 0.1 + 0.9 = 1.0; the labelled user's other folds hold no labels (no shift, p 0.1):
    # rate (99 x 1.0 + 0.1) / 100 = 0.991.
    n = 100
    emp, homes = _panel(np.full(n, 0.1), ["42101"] * n, status=["unemployed"] * 30 + ["employed"] * 70)
    labels = pd.DataFrame({"user_id": emp["user_id"].iloc[:1], "week": WEEK, "status": ["unemployed"]})
    rate = {}
    for how in ("auto", "always"):
        a = area_unemployment(emp, homes, labels=labels, levels=("county",), periods=("week",),
                              area_params=AreaParams(replicates=20, recalibrate=how))
        rate[how] = a.loc[a["estimator"] == "expected", "rate"].item()
    cal = a.attrs["calibration"]["signal"]
    assert cal["gap_pts_by_month"] == {"2020-04": pytest.approx(90.0)}
    assert cal["gap_se_pts_by_month"] == {"2020-04": None}
    assert rate["auto"] == pytest.approx(0.1, abs=1e-6)
    assert rate["always"] == pytest.approx(0.991, abs=1e-6)


def test_county_strata_move_each_countys_unlabelled_users_by_its_shrunk_remaining_gap():
    # p = 0.2 for everyone, one week, one probability bin. County 42101: 8 labelled users, 6 unemployed
    # (q = 0.75); 42045: 8 labelled, 2 unemployed (q = 0.25); one unlabelled user in each. Pooled: the shift is
    # 0.5 - 0.2 = 0.3 (every county's p 0.5). With calibration_strata = "county" the unlabelled users (the
    # shifts from all labelled users) also move by their county's remaining gap 0.75 - 0.5 = +0.25 and
    # 0.25 - 0.5 = -0.25, shrunk: se^2 = q (1 - q) / (m - 1) = 0.1875 / 7 = 0.0267857 in both counties,
    # tau^2 = mean(gap^2 - se^2) = 0.0625 - 0.0267857 = 0.0357143, weight tau^2 / (tau^2 + se^2) = 4/7, offsets
    # +-1/7: p = 0.5 + 1/7 = 0.642857 (42101) and 0.5 - 1/7 = 0.357143 (42045). With 6 of 8 unemployed in
    # both counties there is no county gap: tau^2 = max(0, 0 - se^2) = 0, no offset.
    from mobility.employment.area import _Calibration, _Users
    from mobility.employment.area import _panel as method_panel

    users = [f"a{i}" for i in range(9)] + [f"b{i}" for i in range(9)]
    emp, homes = _panel(np.full(18, 0.2), ["42101"] * 9 + ["42045"] * 9, status=["employed"] * 18)
    emp["user_id"], homes["user_id"] = users, users
    unemployed = [1] * 6 + [0] * 2 + [1] * 2 + [0] * 6
    labels = pd.DataFrame({"user_id": users[:8] + users[9:17], "week": WEEK,
                           "status": np.where(np.array(unemployed) == 1, "unemployed", "employed")})
    settings = dict(replicates=20, calibration_bins=1, calibration_min_weeks=0)
    home = pd.Series(homes["home_cbg"].to_numpy(), index=homes["user_id"].to_numpy())
    for labelled, by_hand in ((labels, {"a8": 0.5 + 1 / 7, "b8": 0.5 - 1 / 7}),
                              (labels.assign(status=labels["status"].to_numpy()[list(range(8)) * 2]),
                               {"a8": 0.75, "b8": 0.75})):
        for strata in ("county", None):
            ap = AreaParams(**settings, calibration_strata=strata)
            u = _Users.of(emp, home, labelled)
            panel = method_panel(u.code, emp["week"].to_numpy().astype("datetime64[ns]"),
                                 emp["p_unemployed"].to_numpy(), np.zeros(18, np.int8), u, ap)
            cal = _Calibration.fit(panel, ap)
            p = pd.Series(cal.apply(panel.p, cal.shifts(np.ones((1, 18))))[0][0, :, 0], index=panel.users)
            pooled = float(np.mean(labelled["status"] == "unemployed"))
            want = by_hand if strata else {"a8": pooled, "b8": pooled}
            assert p[["a8", "b8"]].to_numpy() == pytest.approx([want["a8"], want["b8"]], abs=1e-6)
    from mobility.employment.params import EmploymentParams

    a = area_unemployment(emp, homes, labels=labels, levels=("county",), periods=("week",),
                          area_params=AreaParams(**settings, calibration_strata="county"),
                          params=EmploymentParams(min_cell_users=1))
    strata = a.attrs["calibration"]["signal"]["strata"]
    assert strata["prior_sd_pts"] == pytest.approx(100 * (0.0625 - 0.1875 / 7) ** 0.5, abs=0.01)
    assert strata["weight_by_month"] == {"42045": {"2020-04": 0.571}, "42101": {"2020-04": 0.571}}
    assert strata["offset_pts_by_month"] == {"42045": {"2020-04": -14.29}, "42101": {"2020-04": 14.29}}
    with pytest.raises(MobilityError, match="calibration_strata='cbg'"):
        AreaParams(calibration_strata="cbg")


def test_an_unknown_recalibrate_value_is_refused_naming_the_field():
    with pytest.raises(MobilityError, match="recalibrate='sometimes'"):
        AreaParams(recalibrate="sometimes")


# ------------------------------------------------------------------ the bootstrap's chunks run anywhere
def _labelled_panel(n=600, weeks=6, seed=3):
    rng = np.random.default_rng(seed)
    wk = pd.date_range("2020-03-02", periods=weeks, freq="7D")
    users = np.array([f"u{i:04d}" for i in range(n)])
    lost = rng.random((n, 1)) < 0.2
    p = np.clip(np.where(lost, 0.8, 0.1) + rng.normal(0, 0.1, (n, weeks)), 0, 1)
    emp = pd.DataFrame({"user_id": np.repeat(users, weeks), "week": np.tile(wk, n),
                        "status": np.where(p.ravel() >= 0.5, "unemployed", "employed"), "p_unemployed": p.ravel()})
    emp = pd.concat([emp.assign(method="signal"),
                     emp.assign(method="classifier", p_unemployed=np.clip(p.ravel() * 0.9, 0, 1))], ignore_index=True)
    homes = pd.DataFrame({"user_id": users, "home_cbg": np.where(np.arange(n) % 3, "421010001001", "420450001001")})
    labels = pd.DataFrame({"user_id": np.repeat(users, weeks), "week": np.tile(wk, n),
                           "status": np.where(np.repeat(lost[:, 0], weeks), "unemployed", "employed")})
    return emp, homes, labels


def test_bootstrap_chunks_give_the_same_intervals_in_any_order_and_in_forked_processes():
    from mobility.pipeline.engine import LocalEngine

    emp, homes, labels = _labelled_panel()
    ap = AreaParams(replicates=9, replicate_chunk=2)  # 5 chunks, the last one of 1
    serial = area_unemployment(emp, homes, labels=labels, area_params=ap)
    ran = []

    def backwards(fn, items):  # run the last chunk first, return in order
        items = list(items)
        ran.extend(range(len(items))[::-1])
        return [fn(i) for i in items[::-1]][::-1]

    assert serial["rate_low"].notna().sum() > 0
    pd.testing.assert_frame_equal(area_unemployment(emp, homes, labels=labels, area_params=ap, mapper=backwards),
                                  serial, check_exact=True)
    assert ran == [4, 3, 2, 1, 0] * 2  # both methods went through the mapper, 5 chunks each
    with LocalEngine(workers=2) as engine:
        forked = area_unemployment(emp, homes, labels=labels, area_params=ap,
                                   mapper=lambda fn, items: engine.map(fn, items, processes=True))
    pd.testing.assert_frame_equal(forked, serial, check_exact=True)
    # the chunks are the replicates' draws: other chunk sizes draw other numbers (bootstrap noise only)
    other = area_unemployment(emp, homes, labels=labels, area_params=AreaParams(replicates=9, replicate_chunk=3))
    assert not np.array_equal(other["rate_low"].to_numpy(), serial["rate_low"].to_numpy(), equal_nan=True)
    np.testing.assert_array_equal(other["rate"].to_numpy(), serial["rate"].to_numpy())


def test_panel_users_and_labels_by_integer_codes_match_the_text_ids():
    """Users are ordered as their ids sort as text (u10 before u9), the first label of a user-week counts, a
    user without a home and labels of unknown users are left out."""
    from mobility.employment.area import _panel, _Users

    emp = pd.DataFrame({"user_id": ["u9", "u10", "u9", "u10", "x"], "week": pd.to_datetime(["2020-03-02"] * 5),
                        "status": ["employed", "unemployed", "employed", "employed", "employed"],
                        "p_unemployed": [0.1, 0.9, 0.1, 0.2, 0.3], "method": "signal"}).iloc[[0, 1, 4]]
    homes = pd.Series(["421010001001", "421010001001"], index=["u9", "u10"])
    labels = pd.DataFrame({"user_id": ["u9", "u9", "u10", "zz"], "week": pd.to_datetime(["2020-03-02"] * 4),
                           "status": ["no_job", "unemployed", "unemployed", "employed"]})
    users = _Users.of(emp, homes, labels)
    assert users.names.tolist() == ["u10", "u9", "x"] and users.housed.tolist() == [True, True, False]
    status = np.array([0, 1, 0], dtype=np.int8)
    panel = _panel(users.code, emp["week"].to_numpy(), emp["p_unemployed"].to_numpy(), status, users, AreaParams())
    assert panel.users.tolist() == ["u10", "u9"]
    assert panel.p[:, 0].tolist() == [0.9, 0.1]
    assert panel.y[:, 0].tolist() == [1.0, 0.0] and panel.out[:, 0].tolist() == [0.0, 1.0]  # u9: no job (first)


def test_filled_weeks_are_recalibrated_on_their_own_labelled_weeks():
    # 100 users seen every week at p = 0.2, 20 of them unemployed throughout (calibrated); 100 users at
    # p = 0.6 seen in weeks 1 and 3 (60 unemployed there) and silent in week 2, where the labels say all 100
    # were employed. Week 2 fills them with p = 0.6; the observed weeks' shifts would keep it (their bin is
    # calibrated), so week 2 reads (20 + 60) / 200 = 0.40. The filled weeks' own bin learns a gap of -0.6 from
    # the other folds' filled weeks: (20 + 0) / 200 = 0.10, the labels' rate.
    weeks = pd.to_datetime(["2020-04-06", "2020-04-13", "2020-04-20"])
    rows, labels = [], []
    for i in range(200):
        seen = weeks if i < 100 else weeks[[0, 2]]
        p = 0.2 if i < 100 else 0.6
        lost = i < 20 or 100 <= i < 160
        rows += [(f"u{i:03d}", w, p, "unemployed" if p > 0.5 else "employed") for w in seen]
        labels += [(f"u{i:03d}", w, "unemployed" if lost and (i < 100 or w != weeks[1]) else "employed")
                   for w in weeks]
    emp = pd.DataFrame(rows, columns=["user_id", "week", "p_unemployed", "status"]).assign(method="signal")
    labels = pd.DataFrame(labels, columns=["user_id", "week", "status"])
    homes = pd.DataFrame({"user_id": [f"u{i:03d}" for i in range(200)], "home_cbg": "421010001001"})

    def week2(**kw):
        a = area_unemployment(emp, homes, labels=labels, levels=("county",), periods=("week",),
                              area_params=AreaParams(replicates=20, panel_share=1.0, **kw))
        a = a[(a["estimator"] == "expected") & (a["period_start"] == weeks[1])]
        return float(a["rate"].iloc[0])

    assert week2(calibrate_filled=False) == pytest.approx(0.40, abs=0.02)
    assert week2() == pytest.approx(0.10, abs=0.02)
    with pytest.raises(MobilityError, match="calibrate_filled"):
        AreaParams(calibrate_filled="yes")


def test_weekly_recalibration_where_the_weeks_have_the_labels_and_the_months_shift_where_they_do_not():
    # every user has p = 0.3 in two weeks of April; the labels say 10 % unemployed in the first week and 50 % in
    # the second (calibration drifting inside a month). With enough labelled weeks per week (the other folds':
    # 320 of 400 users), each week takes its own shift: 0.10 and 0.50; the month's shift gives both 0.30. With
    # 40 users (32 labelled weeks a week from the other folds, under calibration_min_weeks = 50; 64 a month)
    # each week falls back to its month: 0.30 and 0.30.
    weeks = pd.to_datetime(["2020-04-13", "2020-04-20"])

    def rates(n_users, **kw):
        ids = [f"u{i:03d}" for i in range(n_users)]
        emp = pd.DataFrame([(u, w, 0.3, "employed") for u in ids for w in weeks],
                           columns=["user_id", "week", "p_unemployed", "status"]).assign(method="signal")
        share = {weeks[0]: 0.1, weeks[1]: 0.5}
        labels = pd.DataFrame([(u, w, "unemployed" if i < share[w] * n_users else "employed")
                               for i, u in enumerate(ids) for w in weeks], columns=["user_id", "week", "status"])
        homes = pd.DataFrame({"user_id": ids, "home_cbg": "421010001001"})
        a = area_unemployment(emp, homes, labels=labels, levels=("county",), periods=("week",),
                              area_params=AreaParams(replicates=20, panel_share=1.0, **kw))
        return a[a["estimator"] == "expected"].sort_values("period_start")["rate"].to_numpy()

    np.testing.assert_allclose(rates(400), [0.10, 0.50], atol=0.02)
    np.testing.assert_allclose(rates(400, calibration_by_week=False), [0.30, 0.30], atol=0.02)
    np.testing.assert_allclose(rates(40), [0.30, 0.30], atol=0.03)


def _intercept_case(weight, low=0.1, draw_weight=None):
    """40 users of one county over two weeks: u0-u19 in a drop covering both weeks whose posterior is 0.1 at
    b = 0 and 0.9 at b = 1 (their p_unemployed the average under ``weight``), u20-u39 at p = 0 with no drop."""
    from mobility.employment.evidence import InterceptDraws, drops_of

    weeks = pd.DatetimeIndex(["2020-04-06", "2020-04-13"])
    users = np.array([f"u{i:02d}" for i in range(40)])
    run_start = np.full((40, 2), -1)
    run_start[:20] = 0
    drops = drops_of(run_start)
    posterior = np.array([np.full(20, low), np.full(20, 0.9)])
    weight = np.asarray(weight, dtype=float)
    p = np.where(run_start >= 0, drops.to_cells(weight @ posterior), 0.0)
    emp = pd.DataFrame({"user_id": np.repeat(users, 2), "week": np.tile(weeks.values, 40),
                        "status": np.where(p.ravel() >= 0.5, "unemployed", "employed"), "p_unemployed": p.ravel(),
                        "method": "signal"})
    homes = pd.DataFrame({"user_id": users, "home_cbg": "421010001001"})
    return emp, homes, InterceptDraws.of(drops, users, weeks, np.array([0.0, 1.0]), weight, posterior, draw_weight)


def test_without_labels_the_intervals_draw_the_remote_intercept():
    """A run without labels does not know b: each replicate draws it from its posterior, so the interval spans
    the rates of both values of b (20 x 0.1 / 40 = 0.05 and 20 x 0.9 / 40 = 0.45) around the same point rate
    (0.25); the run records b's posterior mean and sd. With all the weight on one b nothing widens."""
    from mobility.employment.area import intercept_rates, method_panels
    from mobility.employment.params import AreaParams

    emp, homes, draws = _intercept_case([0.5, 0.5])
    ap = AreaParams(replicates=400, panel_share=1.0)
    kw = dict(levels=("county",), periods=("week",), area_params=ap)
    fixed = area_unemployment(emp, homes, **kw)
    drawn = area_unemployment(emp, homes, intercept=draws, **kw)
    assert drawn["rate"].tolist() == pytest.approx([0.25, 0.25]) == fixed["rate"].tolist()
    assert (drawn["rate_low"] <= 0.05 + 1e-9).all() and (drawn["rate_high"] >= 0.45 - 1e-9).all()
    assert (fixed["rate_high"] - fixed["rate_low"] < 0.3).all()  # the status draws alone: narrower
    assert drawn.attrs["calibration"]["signal"]["remote_intercept"] == {"values": 2, "mean": 0.5, "sd": 0.5,
                                                                        "point_mean": 0.5}
    (_, panel), = method_panels(emp, homes, None, ap)
    keep, weight, rates = intercept_rates(panel, draws, np.ones(40), np.isfinite(panel.p), ap, [("county", "week")])
    assert keep.tolist() == [0, 1] and weight.tolist() == [0.5, 0.5]
    assert rates[("county", "week")][:, 0, :].tolist() == [[pytest.approx(0.05)] * 2, [pytest.approx(0.45)] * 2]

    emp, homes, draws = _intercept_case([0.5, 0.5], low=0.0)  # rates 0 and 0.45: a replicate stays a rate
    assert (area_unemployment(emp, homes, intercept=draws, **kw)["rate_low"] == 0.0).all()

    emp, homes, draws = _intercept_case([1.0, 0.0])
    sure = area_unemployment(emp, homes, intercept=draws, **kw)
    pd.testing.assert_frame_equal(sure, area_unemployment(emp, homes, **kw))
    assert sure.attrs["calibration"]["signal"]["remote_intercept"] == {"values": 1, "mean": 0.0, "sd": 0.0,
                                                                       "point_mean": 0.0}


def test_the_intervals_draw_b_from_the_coarsened_posterior_around_the_full_posteriors_point():
    """The point's posterior sure of b = 0 (weights 1, 0: rate 20 x 0.1 / 40 = 0.05), the coarsened one (what a
    cap on the drops' evidence gives) still open (0.5, 0.5): the point stays 0.05, as with the point's posterior
    alone, and the interval reaches b = 1's rate, 0.45; the run records both means."""
    from mobility.employment.params import AreaParams

    kw = dict(levels=("county",), periods=("week",), area_params=AreaParams(replicates=400, panel_share=1.0))
    emp, homes, sure = _intercept_case([1.0, 0.0])
    _, _, open_ = _intercept_case([1.0, 0.0], draw_weight=[0.5, 0.5])
    point = area_unemployment(emp, homes, intercept=sure, **kw)
    coarse = area_unemployment(emp, homes, intercept=open_, **kw)
    assert coarse["rate"].tolist() == pytest.approx([0.05, 0.05]) == point["rate"].tolist()
    assert (point["rate_high"] < 0.3).all() and (coarse["rate_high"] >= 0.45 - 1e-9).all()
    assert coarse.attrs["calibration"]["signal"]["remote_intercept"] == {"values": 2, "mean": 0.5, "sd": 0.5,
                                                                         "point_mean": 0.0}


def test_with_labels_the_intercept_is_left_to_the_recalibration():
    """With a labelled panel the recalibration learns the probabilities' error, b's included: no draws of b."""
    emp, homes, draws = _intercept_case([0.5, 0.5])
    labels = emp[["user_id", "week"]].assign(status=np.where(emp["user_id"] < "u10", "unemployed", "employed"))
    kw = dict(levels=("county",), periods=("week",), labels=labels)
    with_draws = area_unemployment(emp, homes, intercept=draws, **kw)
    pd.testing.assert_frame_equal(with_draws, area_unemployment(emp, homes, **kw))
    assert "remote_intercept" not in with_draws.attrs["calibration"]["signal"]


def test_intercept_rates_find_the_drops_in_the_area_panel():
    """The signal's users in another order than the panel's (which sorts them by county), a user with a drop but
    no home (not in the panel), two counties, silent weeks inside drops (filled from their neighbours): at each
    b, ``intercept_rates`` gives the rates of ``area_unemployment`` on the table with the drops' cells at that b,
    and the point rate is their weighted mean (a reviewer's check, kept)."""
    from mobility.employment.area import intercept_rates, method_panels
    from mobility.employment.evidence import InterceptDraws, drops_of
    from mobility.employment.params import AreaParams

    rng = np.random.default_rng(7)
    n_u, n_w = 30, 8
    users = np.array([f"u{i:02d}" for i in rng.permutation(n_u)])
    weeks = pd.date_range("2020-03-02", periods=n_w, freq="7D")
    run_start = np.full((n_u, n_w), -1)
    for i in range(0, n_u, 2):
        start = rng.integers(1, 6)
        run_start[i, start:] = start
    usable = rng.random((n_u, n_w)) > 0.25
    drops = drops_of(run_start)
    weight = np.array([0.2, 0.5, 0.3])
    posterior = np.sort(rng.random((3, drops.user.size)), axis=0)[::-1]
    outside = rng.random((n_u, n_w)) * 0.1

    def table(q):
        p = np.where(usable, np.where(run_start >= 0, drops.to_cells(q), outside), np.nan)
        return pd.DataFrame({"user_id": np.repeat(users, n_w), "week": np.tile(weeks.values, n_u),
                             "status": np.where(usable, "employed", "unknown").ravel(), "p_unemployed": p.ravel(),
                             "method": "signal"})

    homes = pd.DataFrame({"user_id": users, "home_cbg": np.where(np.arange(n_u) % 3 == 0, "421010001001",
                                                                 "420030001001")}).iloc[1:]
    ap = AreaParams(replicates=20, max_fill_weeks=2)
    kw = dict(levels=("county",), periods=("week", "month"), area_params=ap,
              params=EmploymentParams(min_cell_users=1))  # no cell suppressed
    emp = table(weight @ posterior)
    draws = InterceptDraws.of(drops, users, weeks, np.array([0.0, 0.5, 1.0]), weight, posterior)
    (_, panel), = method_panels(emp, homes, None, ap)
    keys = [("county", "week"), ("county", "month")]
    keep, w, rates = intercept_rates(panel, draws, np.ones(len(panel.users)), np.isfinite(panel.p), ap, keys)
    assert keep.tolist() == [0, 1, 2] and w == pytest.approx(weight)
    point = area_unemployment(emp, homes, **kw)
    for j, b in enumerate(keep):
        at_b = area_unemployment(table(posterior[b]), homes, **kw)
        for key in keys:
            expected = at_b[at_b["period"] == key[1]].sort_values(["area", "period_start"])["rate"].to_numpy()
            assert rates[key][j].ravel() == pytest.approx(expected, abs=1e-6)
    for key in keys:
        expected = point[point["period"] == key[1]].sort_values(["area", "period_start"])["rate"].to_numpy()
        assert np.tensordot(w, rates[key], 1).ravel() == pytest.approx(expected, abs=1e-6)
