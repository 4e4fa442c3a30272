"""The signal on tiny hand-made panels: staggered remote workers, a hybrid worker, a job loser, a job changer,
a degraded phone, a silent phone and a part-timer; the sector formula."""

import numpy as np
import pandas as pd
import pytest

from mobility.employment.attendance import baseline_workplace, relative_attendance, weekly_attendance
from mobility.employment.params import EmploymentParams
from mobility.employment.sector import SECTORS
from mobility.employment.status import signal_status
from mobility.errors import MobilityError

from .conftest import SHOCK, WEEKS, _rows

N_REMOTE = 10  # teleworkable workers who go remote, two a week from the shock week on


def _features(users, teleworkable):
    w = np.zeros((len(users), 20))
    w[:, 17] = 1.0  # CNS18, tau 0
    for u in teleworkable:
        w[list(users).index(u)] = 0.0
        w[list(users).index(u), 11] = 1.0  # CNS12, tau 1
    features = pd.DataFrame(w, columns=[f"w_{s}" for s in SECTORS])
    features.insert(0, "user_id", users)
    tau = pd.Series(0.0, index=list(SECTORS))
    tau["CNS12"] = 1.0
    return features, tau


@pytest.fixture
def staggered():
    """Weekly attendance of 28 workers: ``remote0..9`` (teleworkable) go remote two a week in weeks 10-14,
    ``hybrid`` (teleworkable) comes in 1 day in 5 from week 10, ``loser`` (not teleworkable) loses the job in
    week 12, ``degraded`` (a phone that from week 11 on never sees the usual work hours), ``site0..13`` stay."""
    n = len(WEEKS)
    full = np.full(n, 5)
    frames = []
    for i in range(N_REMOTE):
        at = full.copy()
        at[SHOCK + i // 2:] = 0
        frames.append(_rows(f"remote{i}", at))
    hybrid = full.copy()
    hybrid[SHOCK:] = 1
    loser = full.copy()
    loser[12:] = 0
    seen = np.full(n, 5)
    seen[11:] = 0
    frames += [_rows("hybrid", hybrid), _rows("loser", loser), _rows("degraded", np.minimum(full, seen), seen)]
    frames += [_rows(f"site{i}", full) for i in range(14)]
    weekly = pd.concat(frames, ignore_index=True)
    users = weekly["user_id"].unique()
    features, tau = _features(users, [f"remote{i}" for i in range(N_REMOTE)] + ["hybrid"])
    return weekly, pd.DataFrame({"user_id": users}), features, tau


def _run(panel, **kw):
    weekly, base, features, tau = panel
    params = EmploymentParams(**kw)
    res = signal_status(relative_attendance(weekly, base, params=params), features, tau, params=params)
    return res, res.tables["employment_weekly"].set_index(["user_id", "week"])


def _status(emp, user):
    return emp.loc[user, "status"].tolist()


def test_staggered_remote_workers_stay_employed(staggered):
    res, emp = _run(staggered)
    for i in range(N_REMOTE):
        assert set(_status(emp, f"remote{i}")) == {"employed"}, i
    for i in range(N_REMOTE - 2):  # the last two drop in week 14: two weeks of panel left, not a confirmed drop
        assert emp.loc[f"remote{i}", "p_unemployed"].iloc[SHOCK + i // 2:].max() < 0.2, i
    # each week of the spread: about two new remote workers per ten teleworkable jobs at risk, no job loss
    ad = res.tables["remote_adoption"].set_index("week")
    assert (ad.loc[WEEKS[SHOCK:SHOCK + 4], "remote_rate"] > 0.1).all()  # week 14: drops not confirmed
    assert (ad.loc[WEEKS[SHOCK:SHOCK + 4], "job_loss_rate"] < 0.03).all()


def test_one_wave_of_remote_workers_stays_employed_too(staggered):
    weekly, base, features, tau = staggered
    wave = weekly["user_id"].str.startswith("remote") & (weekly["week"] >= WEEKS[SHOCK])
    weekly = weekly.assign(workdays_at_work=np.where(wave, 0.0, weekly["workdays_at_work"]),
                           workhour_at_work_h=np.where(wave, 0.0, weekly["workhour_at_work_h"]))
    _, emp = _run((weekly, base, features, tau))
    assert all(set(_status(emp, f"remote{i}")) == {"employed"} for i in range(N_REMOTE))
    assert _status(emp, "loser")[12:] == ["unemployed"] * 4


def test_hybrid_worker_at_one_day_in_five_is_employed(staggered):
    res, emp = _run(staggered)
    # 1 day in 5 is near zero (r = 0.2): a drop, but with on-site days every week -- a hybrid pattern
    assert res.matrices["run_start"][list(res.users).index("hybrid"), SHOCK] == SHOCK
    drop = res.tables["drop_evidence"].set_index("user_id").loc["hybrid"]
    assert bool(drop["hybrid"]) and drop["posterior"] == 0.0
    assert set(_status(emp, "hybrid")) == {"employed"}


def test_job_loser_is_unemployed_from_the_loss_week(staggered):
    _, emp = _run(staggered)
    assert _status(emp, "loser") == ["employed"] * 12 + ["unemployed"] * 4
    assert emp.loc["loser", "weeks_since_job_loss"].tolist()[12:] == [0, 1, 2, 3]
    assert emp.loc["loser", "p_unemployed"].iloc[12:].min() > 0.9  # not teleworkable: no remote explanation


def test_without_evidence_the_signal_keeps_remote_work_in_proportion_to_teleworkability(staggered, caplog):
    # this panel has no daytime table: no drop has evidence on its work days to weigh the part of remote adoption
    # teleworkability does not explain (b), so the signal does not average over b (a flat likelihood would leave
    # it to the prior on b): it says so and keeps b = 0, the same statuses as remote_intercept_max = 0
    with caplog.at_level("WARNING", logger="mobility.employment.status"):
        res, emp = _run(staggered)
    assert "no sustained drop has evidence on the work days" in caplog.text
    assert res.tables["remote_intercept"].to_dict("list") == {"remote_intercept": [0.0], "loglik": [pytest.approx(
        np.nan, nan_ok=True)], "weight": [1.0], "draw_weight": [1.0],
        "likelihood_power": [1.0]}
    _, emp0 = _run(staggered, remote_intercept_max=0.0)
    pd.testing.assert_frame_equal(emp, emp0)


def test_job_loser_needs_k_weeks(staggered):
    _, emp = _run(staggered, min_event_weeks=5)
    assert "unemployed" not in _status(emp, "loser")  # only 4 near-zero weeks in the panel


def test_degraded_phone_is_unknown_not_unemployed(staggered):
    _, emp = _run(staggered)
    assert _status(emp, "degraded") == ["employed"] * 11 + ["unknown"] * 5
    assert emp.loc["degraded", "p_unemployed"].iloc[11:].isna().all()


def _day_visits(user, day, work_location):
    """Home 00-08, at ``work_location`` 09-17 (home all day where None), home 17-24 (UTC)."""
    t = pd.Timestamp(day, tz="UTC")
    h = pd.Timedelta(hours=1)
    if work_location is None:
        return [(user, t, t + 24 * h, 0)]
    return [(user, t, t + 9 * h, 0), (user, t + 9 * h, t + 17 * h, work_location), (user, t + 17 * h, t + 24 * h, 0)]


def test_job_changer_is_employed(staggered):
    """A job changer measured from visits: work at place 1, a week between jobs at home, then place 2 (the
    daily labels switch to the new workplace once it is regular): attendance stays at the baseline."""
    days = pd.date_range(WEEKS[0], WEEKS[-1] + pd.Timedelta(days=6))
    rows = []
    for day in days:
        before = day < WEEKS[11]
        between = WEEKS[11] <= day < WEEKS[12]
        rows += _day_visits("changer", day, None if (between or day.weekday() >= 5) else (1 if before else 2))
    visits = pd.DataFrame(rows, columns=["user_id", "start", "end", "location_id"])
    labels = pd.DataFrame({"user_id": "changer", "date": days, "work_status": "fixed",
                           "work_location_id": pd.array(np.where(days < WEEKS[13], 1, 2), dtype="Int64")})
    params = EmploymentParams(baseline_start=str(WEEKS[0].date()), baseline_end="2020-02-29")
    own = weekly_attendance(visits, labels, params=params)
    # the week between jobs, and the first week at the new place before the labels know it: 2 < k weeks
    assert own.set_index("week")["workdays_at_work"].tolist() == [5.0] * 11 + [0.0, 0.0] + [5.0] * 3
    weekly, base, features, tau = staggered
    weekly = pd.concat([weekly, own], ignore_index=True)
    base = pd.concat([base, baseline_workplace(labels, params=params)[["user_id"]]], ignore_index=True)
    features, tau = _features(weekly["user_id"].unique(), [f"remote{i}" for i in range(N_REMOTE)] + ["hybrid"])
    _, emp = _run((weekly, base, features, tau))
    assert set(_status(emp, "changer")) == {"employed"}


def test_part_timer_is_measured_against_own_baseline(hand_panel):
    weekly, base, features, tau = hand_panel
    res = signal_status(relative_attendance(weekly, base), features, tau)
    emp = res.tables["employment_weekly"].set_index(["user_id", "week"])
    assert _status(emp, "part") == ["employed"] * 16
    # 2 of 5 days every week over a baseline of 2 of 5: relative attendance 1
    assert np.allclose(res.matrices["attendance"][list(res.users).index("part")], 1.0)


def test_sector_formula(hand_panel):
    weekly, base, features, tau = hand_panel
    params = EmploymentParams(remote_adoption=1.0)
    res = signal_status(relative_attendance(weekly, base, params=params), features, tau, params=params)
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


def test_estimated_remote_stock_feeds_the_sector_reference(staggered):
    res, _ = _run(staggered)
    ad = res.tables["remote_adoption"].set_index("week")
    s = res.tables["sector_weekly"].set_index(["sector", "week"])
    last = WEEKS[-1]
    # by the last week 8 remote workers are in confirmed drops of prior q ~ 0.05 and the hybrid worker in one:
    # about 9 x 0.95 remote workers for the 11 teleworkable jobs
    assert ad.loc[last, "remote_stock"] == pytest.approx(9 * 0.95 / 11, abs=0.05)
    assert s.loc[("CNS12", last), "reference"] == pytest.approx(1 - ad.loc[last, "remote_stock"])


def test_panel_must_be_dense(hand_panel):
    weekly, base, features, tau = hand_panel
    panel = relative_attendance(weekly, base).iloc[1:]
    with pytest.raises(MobilityError, match="dense"):
        signal_status(panel, features, tau)


def test_with_evidence_the_signal_averages_over_b_and_moves_remote_drops_down(sim, load_script):
    """The simulated panel with its daytime table (every drop has evidence): ``remote_intercept_point = "mean"``
    averages over the grid of b, and the drops of the most teleworkable workers move least, the least
    teleworkable most (a larger b is a larger part of remote work that teleworkability does not explain);
    ``"mode"`` takes each drop's posterior at the b of largest likelihood."""
    bench = load_script("benchmarks/bench_employment.py")
    weekly, base, features, tau, truth, homes, daytime = bench.simulated_panel(800, 30, seed=4)
    panel = relative_attendance(weekly, base)
    averaged = signal_status(panel, features, tau, daytime=daytime,
                             params=EmploymentParams(remote_intercept_point="mean"))
    fixed = signal_status(panel, features, tau, daytime=daytime, params=EmploymentParams(remote_intercept_max=0.0))
    weights = averaged.tables["remote_intercept"]
    assert weights["remote_intercept"].tolist() == pytest.approx(EmploymentParams().remote_intercept_grid.tolist())
    assert weights["weight"].sum() == pytest.approx(1.0) and np.isfinite(weights["loglik"]).all()
    a = averaged.tables["drop_evidence"].set_index(["user_id", "start_week"])
    f = fixed.tables["drop_evidence"].set_index(["user_id", "start_week"]).loc[a.index]
    assert (a["prior"] <= f["prior"] + 1e-12).all()  # averaging over b >= 0 only lowers a prior
    x = pd.Series(averaged.telework, index=averaged.users).loc[a.index.get_level_values("user_id")].to_numpy()
    drop = (f["prior"] - a["prior"]).to_numpy()
    low, high = x <= np.quantile(x, 0.25), x >= np.quantile(x, 0.75)
    assert drop[low].mean() > drop[high].mean() > 0
    # what the area intervals draw b from: each drop's posterior per b, whose weighted mean is the drop's p, on the
    # cells of its drop in the weekly table
    draws = averaged.intercept
    assert fixed.intercept is None and draws.weight.tolist() == weights["weight"].tolist()
    assert np.allclose(draws.weight @ draws.posterior, averaged.tables["drop_evidence"]["posterior"])
    emp = averaged.tables["employment_weekly"].set_index(["user_id", "week"])["p_unemployed"]
    cells = emp.loc[list(zip(draws.users[draws.user], draws.weeks[draws.week]))].to_numpy()
    usable = np.isfinite(cells)
    assert usable.mean() > 0.5 and np.allclose(cells[usable], (draws.weight @ draws.posterior)[draws.drop[usable]])
    # at the mode: every drop's posterior is the one at the b of largest log-likelihood
    mode = signal_status(panel, features, tau, daytime=daytime, params=EmploymentParams(remote_intercept_point="mode"))
    best = int(np.argmax(weights["loglik"].to_numpy()))
    assert mode.tables["remote_intercept"]["weight"].tolist() == [float(k == best) for k in range(len(weights))]
    np.testing.assert_allclose(mode.tables["drop_evidence"]["posterior"], draws.posterior[best])
    # the sector route's reference takes the same remote work: a(t) per teleworkable job and c(t) per worker
    sec, sec0 = averaged.tables["sector_weekly"], fixed.tables["sector_weekly"]
    tau_s = sec["sector"].map(tau).to_numpy()
    assert np.allclose(sec["reference"], 1 - tau_s * sec["remote_adoption"] - sec["remote_untied"])
    assert (sec0["remote_untied"] == 0).all() and (sec["remote_untied"] >= 0).all()
    assert sec["remote_untied"].max() > 0.01
    table = averaged.tables["remote_adoption"]
    assert np.allclose(table["remote_untied"], sec.groupby("week", sort=True)["remote_untied"].first())
    after = pd.to_datetime(sec["week"]) >= "2020-03-16"
    assert sec.loc[after, "reference"].mean() < sec0.loc[after, "reference"].mean()  # more of the absence is remote
    assert sec.loc[after, "p_unemployed"].mean() < sec0.loc[after, "p_unemployed"].mean()


def _area_at_b(k, monkeypatch, signal_args, homes, kw):
    """The county-week rates of ``area_unemployment`` (sorted by area, week) on the signal run with all of b's
    weight on the ``k``-th value of the grid (``remote_intercept_posterior`` patched for the call)."""
    import mobility.employment.status as status
    from mobility.employment.area import area_unemployment

    posterior = status.remote_intercept_posterior

    def at_b(*args, **kwargs):
        out, table, by_b = posterior(*args, **kwargs)
        one = np.zeros(len(table))
        one[k] = 1.0
        return out.assign(prior=np.asarray(args[1])[k], posterior=by_b[k]), table.assign(weight=one), by_b

    panel, features, tau, daytime = signal_args
    with monkeypatch.context() as patch:
        patch.setattr(status, "remote_intercept_posterior", at_b)
        fixed = signal_status(panel, features, tau, daytime=daytime)
    expected = area_unemployment(fixed.tables["employment_weekly"], homes, **kw)
    return expected.sort_values(["area", "period_start"])["rate"].to_numpy()


def test_the_area_draws_rebuild_the_signal_at_each_b(sim, load_script, monkeypatch):
    """What the area intervals draw per b (:func:`mobility.employment.area.intercept_rates`) is the signal run with
    all of b's weight on that value: the drops' posteriors and, outside drops, the sector shares of that b's
    remote stock, at the first, a middle and the last value of b that carry weight. Fifty users have no sector
    weights (they take the overall share), and the remote stocks are made large enough that some sectors are all
    remote in some weeks (their share NaN, read as 0)."""
    import mobility.employment.status as status
    from mobility.employment.area import intercept_rates, method_panels
    from mobility.employment.params import AreaParams

    bench = load_script("benchmarks/bench_employment.py")
    weekly, base, features, tau, truth, homes, daytime = bench.simulated_panel(800, 30, seed=4)
    features = features.iloc[50:]
    stock = status.remote_stock
    monkeypatch.setattr(status, "remote_stock", lambda *args, **kwargs: 2.5 * stock(*args, **kwargs))
    panel = relative_attendance(weekly, base)
    averaged = signal_status(panel, features, tau, daytime=daytime,
                             params=EmploymentParams(remote_intercept_point="mean"))  # weight on many values of b
    sectors = averaged.tables["sector_weekly"]
    assert (sectors["p_unemployed"].isna() & (sectors["weight"] > 0)).any()
    assert (averaged.intercept.wsum == 0).any()  # users without sector weights: the overall share
    draws = averaged.intercept
    keep, _ = draws.kept()
    assert len(keep) >= 3
    ap, key = AreaParams(replicates=10), ("county", "week")
    kw = dict(levels=("county",), periods=("week",), area_params=ap, params=EmploymentParams(min_cell_users=1))
    (_, pan), = method_panels(averaged.tables["employment_weekly"], homes, None, ap)
    _, _, rates = intercept_rates(pan, draws, np.ones(len(pan.users)), np.isfinite(pan.p), ap, [key])
    for j in (0, len(keep) // 2, len(keep) - 1):
        expected = _area_at_b(keep[j], monkeypatch, (panel, features, tau, daytime), homes, kw)
        assert rates[key][j].ravel() == pytest.approx(expected, abs=1e-6)


def test_a_cap_on_bs_evidence_widens_the_draws_and_leaves_the_points(sim, load_script, monkeypatch):
    """With ``intercept_evidence_drops`` far below the panel's scored drops, the posterior the intervals draw b
    from is wider than the point's: every output of the signal is the same as without the cap; the draws carry a
    remote stock for every b they can draw (none left at 0), and at a b that only the draws reach, the rates of
    :func:`mobility.employment.area.intercept_rates` are those of the signal run with all of b's weight there
    (a reviewer's finding: the stocks were kept for the point's b only); the sector replicates stay around the
    point's shares."""
    from mobility.employment.area import intercept_rates, method_panels, sector_replicates
    from mobility.employment.params import AreaParams

    bench = load_script("benchmarks/bench_employment.py")
    weekly, base, features, tau, truth, homes, daytime = bench.simulated_panel(10_000, 30, seed=4)
    panel = relative_attendance(weekly, base)
    full = signal_status(panel, features, tau, daytime=daytime, params=EmploymentParams(intercept_evidence_drops=None))
    capped = signal_status(panel, features, tau, daytime=daytime, params=EmploymentParams(intercept_evidence_drops=20))
    for name in ("employment_weekly", "sector_weekly", "remote_adoption", "drop_evidence"):
        pd.testing.assert_frame_equal(capped.tables[name], full.tables[name])
    draws = capped.intercept
    assert capped.tables["remote_intercept"]["likelihood_power"].iloc[0] < 0.1
    only_drawn = np.setdiff1d(draws.support(), draws.kept()[0])
    assert len(only_drawn) >= 3
    assert (np.abs(draws.stock[draws.support()]).sum(axis=1) > 0).all()
    ap, key = AreaParams(replicates=10), ("county", "week")
    kw = dict(levels=("county",), periods=("week",), area_params=ap, params=EmploymentParams(min_cell_users=1))
    (_, pan), = method_panels(capped.tables["employment_weekly"], homes, None, ap)
    keep, _, rates = intercept_rates(pan, draws, np.ones(len(pan.users)), np.isfinite(pan.p), ap, [key])
    k = only_drawn[-1]
    expected = _area_at_b(k, monkeypatch, (panel, features, tau, daytime), homes, kw)
    assert rates[key][list(keep).index(k)].ravel() == pytest.approx(expected, abs=1e-6)
    reps = sector_replicates(capped, tau, AreaParams(replicates=400))
    point = capped.tables["sector_weekly"].pivot_table(index="sector", columns="week", values="p_unemployed",
                                                        aggfunc="first").to_numpy()
    late = np.isfinite(point) & (np.arange(point.shape[1]) >= point.shape[1] // 2)[None, :]
    centre = np.nanmean(reps, axis=0)
    assert np.nanmean(np.abs(centre - point)[late]) < 0.02
