"""The label-free evidence of a drop (mobility.employment.evidence): night workers' outings read over the whole day."""

import numpy as np
import pandas as pd
import pytest

from mobility.employment.evidence import drop_evidence, evidence_posterior
from mobility.employment.params import EmploymentParams
from mobility.errors import MobilityError


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


@pytest.mark.parametrize("true_b", [0.0, 0.5])
def test_the_evidence_weighs_the_part_of_remote_adoption_teleworkability_does_not_explain(true_b):
    """3,000 drops of one week at teleworkability 0, 0.5 and 1: job losses at rate l - a b, remote starts at a (x +
    b) (l = 0.3, a = 0.3). Each drop's evidence category comes from its true class (job losers mostly in the high
    categories). The drops alone fit every b equally; the evidence, whose mix moves with x, rules out the values
    of b far above the true one, but only weakly those below it (a free mixture absorbs most of a wrong b): with
    b = 0 the weight sits near 0 and the priors stay within a few points of the truth, with b = 0.5 it spreads
    over 0..0.6 and the averaged priors are nearer the true share of job losses at each x than b = 0's. Every
    drop counts in full here (intercept_evidence_drops = None): the subject is the likelihood itself."""
    from mobility.employment.adoption import Adoption
    from mobility.employment.evidence import remote_intercept_posterior

    rng = np.random.default_rng(3)
    x = np.repeat([0.0, 0.5, 1.0], 1000)
    loss, remote = 0.3 - 0.3 * true_b, 0.3 * (x + true_b)
    job_loss = rng.random(x.size) < loss / (loss + remote)
    f_j, f_r = np.array([0.05, 0.1, 0.2, 0.3, 0.35]), np.array([0.35, 0.3, 0.2, 0.1, 0.05])
    category = np.where(job_loss, rng.choice(5, x.size, p=f_j), rng.choice(5, x.size, p=f_r)) + 1
    grid = np.linspace(0, 1, 11)
    ad = Adoption(np.array([0.3]), np.array([0.3]), pd.DataFrame(), job_loss_floor=np.array([0.001]))
    priors = ad.drop_priors(np.zeros(x.size, dtype=np.int64), x, grid)
    assert np.all(np.diff(priors, axis=0) <= 1e-12)  # a larger b: a lower prior everywhere
    table = pd.DataFrame({"prior": priors[0], "hybrid": False, "new_workplace": False, "category": category,
                          "posterior": priors[0]})
    out, b, _ = remote_intercept_posterior(table, priors, grid, params=EmploymentParams(intercept_evidence_drops=None,
                                                                                        remote_intercept_point="mean"))
    weight = b.set_index("remote_intercept")["weight"]
    assert weight.sum() == pytest.approx(1.0)
    assert weight[weight.index > true_b + 0.25].sum() < 0.01  # far above the truth: ruled out
    mean_b = float(weight @ weight.index)
    assert (mean_b < 0.1) if true_b == 0 else (0.15 < mean_b < true_b)
    # the evidence moves each drop's posterior away from its (averaged) prior: up where it looks like a job loss
    mid = x == 0.5
    assert out.loc[mid & (category == 5), "posterior"].mean() > out.loc[mid, "prior"].mean() \
        > out.loc[mid & (category == 1), "posterior"].mean()
    for value in (0.0, 0.5, 1.0):
        at = x == value
        true_share = loss / (loss + 0.3 * (value + true_b))
        error, error_b0 = abs(out.loc[at, "prior"].mean() - true_share), abs(priors[0][at].mean() - true_share)
        assert error < 0.08 if true_b == 0 else error < error_b0 or error_b0 < 0.01


def test_b_is_never_known_better_than_intercept_evidence_drops_drops_could_know_it():
    """The same 300 drops, and each of them 20 times (6,000 drops with the same evidence mix): counted in full,
    20 times the drops pin b down more (the likelihood is 20 times as steep); with ``intercept_evidence_drops
    = 300`` the posterior the intervals draw b from (``draw_weight``) weighs b for the 6,000 as the 300 do (the
    EM's one pseudo-count per category aside), while the point's (``weight``) keeps every drop; the 300 alone
    are left as they were (power 1). Hand-made: the draw weights are the trapezoid weights times ``exp(power x
    (loglik - max))``, recomputed here from the returned log-likelihoods."""
    from mobility.employment.adoption import Adoption
    from mobility.employment.evidence import remote_intercept_posterior

    rng = np.random.default_rng(5)
    x = np.repeat([0.0, 0.5, 1.0], 100)
    loss, remote = 0.3 - 0.3 * 0.4, 0.3 * (x + 0.4)
    job_loss = rng.random(x.size) < loss / (loss + remote)
    f_j, f_r = np.array([0.05, 0.1, 0.2, 0.3, 0.35]), np.array([0.35, 0.3, 0.2, 0.1, 0.05])
    category = np.where(job_loss, rng.choice(5, x.size, p=f_j), rng.choice(5, x.size, p=f_r)) + 1
    grid = np.linspace(0, 1, 11)
    ad = Adoption(np.array([0.3]), np.array([0.3]), pd.DataFrame(), job_loss_floor=np.array([0.001]))

    def weights(copies, max_drops):
        xs, cs = np.tile(x, copies), np.tile(category, copies)
        priors = ad.drop_priors(np.zeros(xs.size, dtype=np.int64), xs, grid)
        table = pd.DataFrame({"prior": priors[0], "hybrid": False, "new_workplace": False, "category": cs,
                              "posterior": priors[0]})
        _, b, _ = remote_intercept_posterior(table, priors, grid, params=EmploymentParams(
            intercept_evidence_drops=max_drops, remote_intercept_point="mean"))
        return b

    one, many, capped = weights(1, None), weights(20, None), weights(20, 300)
    assert one["likelihood_power"].eq(1.0).all() and many["likelihood_power"].eq(1.0).all()
    assert one["draw_weight"].tolist() == one["weight"].tolist()
    pd.testing.assert_series_equal(capped["weight"], many["weight"])  # the point keeps every drop's evidence
    assert capped["likelihood_power"].eq(300 / 6000).all()
    pd.testing.assert_frame_equal(weights(1, 300), one)
    sd = {k: float(np.sqrt(t[c] @ (grid - t[c] @ grid) ** 2)) for k, t, c in
          [("one", one, "weight"), ("many", many, "weight"), ("capped", capped, "draw_weight")]}
    assert sd["many"] < 0.75 * sd["one"]
    assert sd["capped"] == pytest.approx(sd["one"], rel=0.1)
    np.testing.assert_allclose(capped["draw_weight"], one["weight"], atol=0.05)
    # drops without a score (category 0) are not evidence: 300 scored among 6,300 drops keep the power at 1
    table = pd.DataFrame({"prior": 0.5, "hybrid": False, "new_workplace": False, "posterior": 0.5,
                          "category": np.r_[category, np.zeros(6000, dtype=np.int64)]})
    priors = ad.drop_priors(np.zeros(len(table), dtype=np.int64), np.r_[x, np.zeros(6000)], grid)
    _, b, _ = remote_intercept_posterior(table, priors, grid, params=EmploymentParams(intercept_evidence_drops=300))
    assert b["likelihood_power"].eq(1.0).all()
    step = np.diff(grid)
    quad = (np.r_[step, 0.0] + np.r_[0.0, step]) / 2
    expected = quad * np.exp(300 / 6000 * (capped["loglik"] - capped["loglik"].max()))
    np.testing.assert_allclose(capped["draw_weight"], expected / expected.sum(), rtol=1e-12)


def test_intercept_evidence_drops_must_be_a_positive_count():
    with pytest.raises(MobilityError, match="intercept_evidence_drops"):
        EmploymentParams(intercept_evidence_drops=0)


def test_a_normal_prior_on_b_multiplies_the_likelihood_and_yields_to_strong_evidence():
    """``remote_intercept_prior_sd`` > 0: b's weights are the trapezoid weights times the likelihood times a normal
    density (mean ``remote_intercept_prior_mean``), normalised, recomputed here by hand from the returned
    log-likelihoods. Drops that say nothing (one category) leave the prior alone: b's mean is the prior's on the
    grid. 3,000 drops made at b = 0 pull b to 0 against a prior at 0.4 (sd 0.2)."""
    from mobility.employment.adoption import Adoption
    from mobility.employment.evidence import remote_intercept_posterior

    grid = np.linspace(0, 1, 21)
    prior_b = dict(remote_intercept_prior_mean=0.4, remote_intercept_prior_sd=0.2, intercept_evidence_drops=None,
                   remote_intercept_point="mean")
    step = np.diff(grid)
    quad = (np.r_[step, 0.0] + np.r_[0.0, step]) / 2
    normal = quad * np.exp(-0.5 * ((grid - 0.4) / 0.2) ** 2)
    flat = pd.DataFrame({"prior": [0.5], "hybrid": False, "new_workplace": False, "posterior": 0.5, "category": 0})
    _, b, _ = remote_intercept_posterior(flat, np.full((grid.size, 1), 0.5), grid, params=EmploymentParams(**prior_b))
    np.testing.assert_allclose(b["weight"], normal / normal.sum(), rtol=1e-12)
    assert float(b["weight"] @ grid) == pytest.approx(float(normal @ grid / normal.sum()))
    # a prior far beyond the grid (its density underflows everywhere on it) still gives weights: the nearest end
    _, far, _ = remote_intercept_posterior(flat, np.full((grid.size, 1), 0.5), grid, params=EmploymentParams(
        remote_intercept_prior_mean=5.0, remote_intercept_prior_sd=0.05, remote_intercept_point="mean"))
    assert np.isfinite(far["weight"]).all() and far["weight"].iloc[-1] == pytest.approx(1.0)

    rng = np.random.default_rng(3)
    x = np.repeat([0.0, 0.5, 1.0], 1000)
    job_loss = rng.random(x.size) < 0.3 / (0.3 + 0.3 * x)
    f_j, f_r = np.array([0.05, 0.1, 0.2, 0.3, 0.35]), np.array([0.35, 0.3, 0.2, 0.1, 0.05])
    category = np.where(job_loss, rng.choice(5, x.size, p=f_j), rng.choice(5, x.size, p=f_r)) + 1
    ad = Adoption(np.array([0.3]), np.array([0.3]), pd.DataFrame(), job_loss_floor=np.array([0.001]))
    priors = ad.drop_priors(np.zeros(x.size, dtype=np.int64), x, grid)
    table = pd.DataFrame({"prior": priors[0], "hybrid": False, "new_workplace": False, "category": category,
                          "posterior": priors[0]})
    _, with_prior, _ = remote_intercept_posterior(table, priors, grid, params=EmploymentParams(**prior_b))
    _, without, _ = remote_intercept_posterior(table, priors, grid, params=EmploymentParams(
        intercept_evidence_drops=None, remote_intercept_point="mean"))
    expected = normal * np.exp(with_prior["loglik"] - with_prior["loglik"].max())
    np.testing.assert_allclose(with_prior["weight"], expected / expected.sum(), rtol=1e-12)
    np.testing.assert_allclose(with_prior["loglik"], without["loglik"])  # the prior does not touch the data's fit
    assert float(without["weight"] @ grid) < float(with_prior["weight"] @ grid) < 0.15


@pytest.mark.parametrize("field", ["remote_intercept_prior_mean", "remote_intercept_prior_sd"])
def test_the_prior_on_b_takes_numbers_from_0_to_5(field):
    with pytest.raises(MobilityError, match=field):
        EmploymentParams(**{field: -0.1})


def _drops_made_at(true_b, n_per_x, seed, f_j=(0.05, 0.1, 0.2, 0.3, 0.35)):
    """Drops of one week at teleworkability 0, 0.5 and 1 (``n_per_x`` each), job losses at rate 0.3 - 0.3 b and
    remote starts at 0.3 (x + b), evidence categories drawn from each drop's true class (``f_j`` for job losers,
    reversed for remote workers); their priors over a grid of b, and the true job-loss indicator."""
    from mobility.employment.adoption import Adoption

    rng = np.random.default_rng(seed)
    x = np.repeat([0.0, 0.5, 1.0], n_per_x)
    loss, remote = 0.3 - 0.3 * true_b, 0.3 * (x + true_b)
    job_loss = rng.random(x.size) < loss / (loss + remote)
    f_j = np.asarray(f_j)
    category = np.where(job_loss, rng.choice(5, x.size, p=f_j), rng.choice(5, x.size, p=f_j[::-1])) + 1
    grid = np.linspace(0, 1, 11)
    ad = Adoption(np.array([0.3]), np.array([0.3]), pd.DataFrame(), job_loss_floor=np.array([0.001]))
    priors = ad.drop_priors(np.zeros(x.size, dtype=np.int64), x, grid)
    table = pd.DataFrame({"prior": priors[0], "hybrid": False, "new_workplace": False, "category": category,
                          "posterior": priors[0]})
    return table, priors, grid, job_loss


def test_the_point_at_b_s_mode_takes_the_drops_posteriors_at_the_best_b_and_leaves_the_intervals_alone():
    """``remote_intercept_point = "mode"``: the point's weight is all on the b of largest log-likelihood (plus the
    normal prior's log density where there is one), recomputed here from the returned log-likelihoods; the drops'
    posteriors are those at that b; the weights the intervals draw from are the mean's."""
    from mobility.employment.evidence import remote_intercept_posterior

    table, priors, grid, _ = _drops_made_at(0.4, 100, seed=5)
    out_mean, b_mean, by_b = remote_intercept_posterior(table, priors, grid,
                                                        params=EmploymentParams(remote_intercept_point="mean"))
    out_mode, b_mode, by_b_mode = remote_intercept_posterior(table, priors, grid,
                                                             params=EmploymentParams(remote_intercept_point="mode"))
    best = int(np.argmax(b_mode["loglik"].to_numpy()))
    assert b_mode["weight"].tolist() == [1.0 if k == best else 0.0 for k in range(grid.size)]
    np.testing.assert_allclose(out_mode["posterior"], by_b_mode[best])
    np.testing.assert_allclose(out_mode["prior"], priors[best])
    pd.testing.assert_series_equal(b_mode["draw_weight"], b_mean["draw_weight"])
    np.testing.assert_allclose(by_b_mode, by_b)
    # with a normal prior: its maximum a posteriori
    prior_b = dict(remote_intercept_prior_mean=0.8, remote_intercept_prior_sd=0.1)
    _, b_map, _ = remote_intercept_posterior(table, priors, grid, params=EmploymentParams(remote_intercept_point="mode",
                                                                                          **prior_b))
    log_post = b_map["loglik"].to_numpy() - 0.5 * ((grid - 0.8) / 0.1) ** 2
    assert int(np.argmax(b_map["weight"].to_numpy())) == int(np.argmax(log_post))
    with pytest.raises(MobilityError, match="remote_intercept_point"):
        EmploymentParams(remote_intercept_point="median")


def test_on_a_weak_likelihood_the_point_of_b_decides_the_job_losses_and_neither_point_is_right_everywhere():
    """Drops whose evidence barely tells the classes apart (categories 0.15 .. 0.25 for job losers, the reverse
    for remote workers; 60 at each x, eight draws): the likelihood of b is weak and falls off above the true b
    but barely below it. Made with b = 0, the posterior averaged over the flat prior on 0..1 sits well above 0
    (the prior's mean is 0.5) and, since the drops' job-loss priors fall steeply in b, their mean posterior
    falls below the true share of job losers among them; at the mode it does not. Made with b = 0.3 (a
    reviewer's case), the mode falls to 0 and the job losses come out too high, where the average is near the
    truth (benchmarks/README.md, "Why the rates of small panels were low")."""
    from mobility.employment.evidence import remote_intercept_posterior

    weak = (0.15, 0.18, 0.2, 0.22, 0.25)
    for true_b in (0.0, 0.3):
        err, modes = {"mean": [], "mode": []}, []
        for seed in range(8):
            table, priors, grid, job_loss = _drops_made_at(true_b, 60, seed=seed, f_j=weak)
            for point in err:
                out, b, _ = remote_intercept_posterior(table, priors, grid,
                                                       params=EmploymentParams(remote_intercept_point=point))
                err[point].append(out["posterior"].mean() - job_loss.mean())
                if point == "mean" and true_b == 0:
                    assert float(b["weight"] @ grid) > 0.1
                if point == "mode":
                    modes.append(float(b["weight"] @ grid))
        if true_b == 0:
            assert np.mean(err["mean"]) < -0.1 and max(err["mean"]) < 0
            assert abs(np.mean(err["mode"])) < 0.03
        else:
            assert np.mean(modes) < 0.1 and np.mean(err["mode"]) > 0.1
            assert abs(np.mean(err["mean"])) < np.mean(err["mode"]) / 2
