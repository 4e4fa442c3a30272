import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from mobility.errors import MobilityError
from mobility.longitudinal.event_study import COEFFICIENT_COLUMNS, event_study

from .panels import simulate_panel, true_effect


def _statsmodels_dummies(p, window, group=None, weights=None, group_weeks=False):
    """Reference: OLS/WLS on explicit event-time, person and week (or group x week) dummies, clustered by person."""
    lo, hi = window
    k = ((p.week - p.job_loss_week).dt.days // 7).clip(lo, hi)
    cols = {}
    groups = sorted(p[group].unique()) if group else [None]
    for g in groups:
        for e in range(lo, hi + 1):
            if e != -1:
                m = (k == e) if g is None else (k == e) & (p[group] == g)
                cols[(g or "all", e)] = m.astype(float).to_numpy()
    x = pd.DataFrame(cols, index=p.index)
    x.columns = [f"{g}|{e}" for g, e in x.columns]
    x = x.join(pd.get_dummies(p.user_id, prefix="u", dtype=float))
    weeks = p.week.astype(str) + (p[group] if group_weeks else "")
    week_dummies = pd.get_dummies(weeks, prefix="w", dtype=float)
    first_of_each = weeks.groupby(p[group] if group_weeks else np.zeros(len(p))).min()  # one per group is collinear
    x = x.join(week_dummies.drop(columns=[f"w_{w}" for w in first_of_each]))
    model = sm.OLS(p.y, x) if weights is None else sm.WLS(p.y, x, weights=p[weights])
    fit = model.fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(p.user_id)[0]}, use_t=True)
    n_terms = len(cols)
    return fit.params.iloc[:n_terms].to_numpy(), fit.bse.iloc[:n_terms].to_numpy(), fit.pvalues.iloc[:n_terms].to_numpy(), fit.conf_int().iloc[:n_terms].to_numpy()


@pytest.mark.parametrize("group,weights,group_weeks", [(None, None, False), ("sex", None, False), (None, "w", False),
                                                      ("sex", None, True)])
def test_twfe_identical_to_statsmodels_ols_with_dummies(group, weights, group_weeks):
    p = simulate_panel(11, n_users=70, n_weeks=12, missing_share=0.15)
    p["w"] = np.where(p.user_id.str[-1].isin(list("02468")), 2.0, 1.0)
    res = event_study(p, "y", estimator="twfe", window=(-3, 4), group=group, weight_col=weights, min_users=1,
                      group_time_effects=group_weeks, vcov="cr1")
    est = res.coefficients[~res.coefficients.reference]
    b, se, pv, ci = _statsmodels_dummies(p, (-3, 4), group, weights, group_weeks)
    np.testing.assert_allclose(est.estimate, b, atol=1e-8, rtol=0)
    np.testing.assert_allclose(est.std_error, se, atol=1e-8, rtol=0)
    np.testing.assert_allclose(est.p_value, pv, atol=1e-8, rtol=0)
    np.testing.assert_allclose(est[["ci_low", "ci_high"]], ci, atol=1e-8, rtol=0)


def test_table_schema_reference_row_and_counts():
    p = simulate_panel(2, n_users=200, n_weeks=20)
    res = event_study(p, "y", window=(-3, 5))
    c = res.coefficients
    assert tuple(c.columns) == COEFFICIENT_COLUMNS
    assert (c.estimator == "sun_abraham").all() and (c.control_group == "never").all()
    assert c.event_time.tolist() == list(range(-3, 6))
    ref = c[c.reference].iloc[0]
    assert ref.event_time == -1 and ref.estimate == 0.0 and np.isnan(ref.std_error)
    assert c.term.iloc[0] == "k<=-3" and c.term.iloc[-1] == "k>=5"
    # n_users of event time 0 by hand: losers observed in their job-loss week
    k0 = p[(p.week == p.job_loss_week)].user_id.nunique()
    assert c.set_index("event_time").loc[0, "n_users"] == k0
    assert res.info["n_treated_users"] == p[p.job_loss_week.notna()].user_id.nunique()


def test_cells_below_k_users_are_suppressed():
    p = simulate_panel(5, n_users=200, n_weeks=20)
    c = event_study(p, "y", window=(-3, 5), group="sex", min_users=10).coefficients
    k0 = p[(p.week == p.job_loss_week)].groupby("sex").user_id.nunique()
    # with k above the real cell size everything except the reference row is suppressed
    big = event_study(p, "y", window=(-3, 5), group="sex", min_users=int(k0.max()) + 1000).coefficients
    est = big[~big.reference]
    assert est.suppressed.all() and est.estimate.isna().all() and est.ci_low.isna().all()
    assert (est.n_users > 0).all()
    assert not c[~c.reference].suppressed.any()
    assert big.set_index(["group", "event_time"]).loc[("female", 0), "n_users"] == k0["female"]


def test_drop_instead_of_bin_endpoints():
    p = simulate_panel(6, n_users=200, n_weeks=20)
    res = event_study(p, "y", window=(-2, 3), bin_endpoints=False)
    k = (p.week - p.job_loss_week).dt.days // 7
    assert res.info["n_dropped_outside_window"] == int(((k < -2) | (k > 3)).sum())
    assert res.coefficients.term.tolist() == ["k=-2", "k=-1", "k=0", "k=1", "k=2", "k=3"]


def test_tz_aware_weeks_and_midweek_loss_dates():
    p = simulate_panel(7, n_users=150, n_weeks=15)
    base = event_study(p, "y", window=(-3, 4)).coefficients
    q = p.copy()
    q["week"] = q.week.dt.tz_localize("UTC")
    q["job_loss_week"] = q.job_loss_week + pd.Timedelta(days=3)  # a Thursday: same job-loss week
    other = event_study(q, "y", window=(-3, 4)).coefficients
    np.testing.assert_allclose(other.estimate, base.estimate)


@pytest.mark.parametrize("kwargs,match", [
    ({"window": (0, 5)}, "reference_period"),
    ({"window": (-4, -2)}, "event time 0"),
    ({"min_users": 0}, "min_users"),
    ({"alpha": 1.5}, "alpha"),
    ({"df_correction": "x"}, "df_correction"),
    ({"estimator": "did"}, "estimator"),
    ({"estimator": "twfe", "control_group": "not_yet"}, "control_group"),
    ({"group": "nope"}, "missing column"),
])
def test_bad_parameters_raise(kwargs, match):
    p = simulate_panel(8, n_users=50, n_weeks=14)
    with pytest.raises(MobilityError, match=match):
        event_study(p, "y", **kwargs)


def test_bad_panels_raise():
    p = simulate_panel(8, n_users=50, n_weeks=14)
    q = p.copy(); q.loc[0, "week"] = q.loc[0, "week"] + pd.Timedelta(days=1)
    with pytest.raises(MobilityError, match="Mondays"):
        event_study(q, "y")
    q = p.copy(); q["job_loss_week"] = pd.NaT
    with pytest.raises(MobilityError, match="no job loser"):
        event_study(q, "y")
    q = p.copy(); q["y"] = q["y"].astype(str)
    with pytest.raises(MobilityError, match="numeric"):
        event_study(q, "y")
    q = pd.concat([p, p.iloc[:1]])
    with pytest.raises(MobilityError, match="duplicate"):
        event_study(q, "y")


def test_placebo_fake_loss_dates_among_employed():
    p = simulate_panel(42, n_users=800, n_weeks=26, effect=False)
    p = p[p.job_loss_week.isna()].copy()
    rng = np.random.default_rng(0)
    users = p.user_id.unique()
    weeks = np.sort(p.week.unique())
    fake = pd.Series(np.where(rng.random(users.size) < 0.4, weeks[rng.integers(6, 22, users.size)], np.datetime64("NaT")), index=users)
    p["job_loss_week"] = pd.to_datetime(p.user_id.map(fake))
    res = event_study(p, "y", window=(-4, 8))
    c = res.coefficients[~res.coefficients.reference]
    assert (c.p_value > 0.01).mean() >= 0.9
    assert abs(c.estimate.mean()) < 2 * c.std_error.mean()
    assert res.pretrend.p_value.iloc[0] > 0.05


@pytest.mark.parametrize("estimator, control_group", [("twfe", "never"), ("sun_abraham", "never"),
                                                      ("sun_abraham", "not_yet"), ("sun_abraham", "later")])
def test_group_without_rows_is_reported_empty(estimator, control_group):
    """A metric missing for every user of the last group (here ``male``) once raised IndexError (groups counted
    from the rows left, not the labels). With each group's own week effects the other group's path and DiD are
    those of its own panel; the empty group's rows are suppressed with no users."""
    p = simulate_panel(1, n_users=100, n_weeks=16, first_loss=4)
    kw = dict(group="sex", estimator=estimator, control_group=control_group, group_time_effects=True)
    res = event_study(p.assign(y=p.y.where(p.sex == "female")), "y", **kw)
    alone = event_study(p[p.sex == "female"], "y", **kw)
    male = res.coefficients[res.coefficients.group == "male"]
    assert (male.n_users == 0).all() and male.estimate[~male.reference].isna().all()
    pd.testing.assert_frame_equal(res.coefficients[res.coefficients.group == "female"].reset_index(drop=True),
                                  alone.coefficients)
    assert res.did.group.tolist() == ["female", "male"] and bool(res.did.suppressed.iloc[1])
    assert res.did.estimate.iloc[0] == pytest.approx(alone.did.estimate.iloc[0], rel=1e-12)


def test_later_with_a_group_of_never_losers_only():
    """``control_group="later"`` leaves never-losers out; a group holding only never-losers (last in label
    order) then has no rows, which once raised IndexError. The other groups are as without that group."""
    p = simulate_panel(1, n_users=100, n_weeks=16, first_loss=4)
    never = p.loc[p.job_loss_week.isna(), "user_id"].unique()[:3]
    q = p.assign(sex=np.where(p.user_id.isin(never), "other", p.sex))
    res = event_study(q, "y", group="sex", control_group="later", min_users=1)
    alone = event_study(q[q.sex != "other"], "y", group="sex", control_group="later", min_users=1)
    assert res.coefficients.group.unique().tolist() == ["female", "male", "other"]
    pd.testing.assert_frame_equal(res.coefficients[res.coefficients.group != "other"], alone.coefficients)
    assert (res.coefficients.loc[res.coefficients.group == "other", "n_users"] == 0).all()
    assert res.did.estimate.iloc[:2].tolist() == pytest.approx(alone.did.estimate.tolist(), rel=1e-12)


def test_no_group_estimable_names_the_cause():
    """Every loser dated after the panel: no group's own regression can be estimated (its event dummies are
    collinear with the persons). The error once said the panel had fewer than 2 users (it has 80); it now
    names the collinearity."""
    p = simulate_panel(0, n_users=80, n_weeks=16, first_loss=4)
    late = p.week.max() + pd.Timedelta(weeks=10)
    p.loc[p.job_loss_week.notna(), "job_loss_week"] = late
    with pytest.raises(MobilityError, match="no group can be estimated.*collinear"):
        event_study(p, "y", estimator="twfe", group="sex", group_time_effects=True)


def test_no_loser_messages_name_the_cause():
    """The panel has no loser, or its losers weigh 0: once both said 'no job loser has a non-missing ['y']'
    though every y was there."""
    p = simulate_panel(8, n_users=50, n_weeks=14)
    with pytest.raises(MobilityError, match="the panel has no job loser .job_loss_week NaT on every row"):
        event_study(p.assign(job_loss_week=pd.NaT), "y")
    zero = p.assign(w=np.where(p.job_loss_week.notna(), 0.0, 1.0))
    with pytest.raises(MobilityError, match=r"no job loser has a row with a non-missing \['y'\] and a positive 'w'"):
        event_study(zero, "y", weight_col="w")
    with pytest.raises(MobilityError, match=r"no job loser has a row with a non-missing \['y'\] inside"):
        event_study(p.assign(y=p.y.where(p.job_loss_week.isna())), "y")
