"""Remote adoption and job loss week by week on a hand-made wave (mobility.employment.adoption)."""

import numpy as np
import pandas as pd
import pytest

from mobility.employment.adoption import estimate_adoption
from mobility.employment.params import EmploymentParams


@pytest.fixture
def wave():
    """60 workers, 20 at each teleworkability 0, 0.5, 1, over 5 weeks. Week 1 is a wave: every x = 1 worker and
    half of the x = 0.5 ones go remote. Week 2: one x = 0.5 worker and two x = 0 workers lose their jobs (user
    30 and users 0, 1). Nothing else starts."""
    x = np.repeat([0.0, 0.5, 1.0], 20)
    start = np.full((60, 5), -1)
    start[40:60, 1:] = 1
    start[20:30, 1:] = 1
    start[30, 2:] = 2
    start[0:2, 2:] = 2
    return start, x, pd.date_range("2020-03-02", periods=5, freq="7D")


def test_the_window_averages_weekly_estimates_so_a_wave_leaves_later_job_losses_visible(wave):
    start, x, weeks = wave
    ad = estimate_adoption(start, np.ones(start.shape, bool), x, weeks,
                           params=EmploymentParams(adoption_window_weeks=2))
    t = ad.table.set_index(np.arange(5))
    # each week's own regression, by hand: week 1 rates 0, 0.5, 1 at x = 0, 0.5, 1 -> l = 0, a = 1; week 2 (at
    # risk: 20 at x = 0, 10 at x = 0.5) rates 2/20 and 1/10 -> l = 0.1, a = 0; weeks 0, 3, 4 no drop starts
    assert t["job_loss_rate_week"].tolist() == pytest.approx([0.0, 0.0, 0.1, 0.0, 0.0], abs=1e-12)
    assert t["remote_rate_week"].tolist() == pytest.approx([0.0, 1.0, 0.0, 0.0, 0.0], abs=1e-12)
    # week 2's window (weeks 0-4) is the mean of those estimates
    assert t.loc[2, "job_loss_rate_window"] == pytest.approx(0.1 / 5)
    assert t.loc[2, "remote_rate_window"] == pytest.approx(1.0 / 5)
    # shrinking moves week 2 between its own estimate and its window: l >= 0.02, a <= 0.2, so the x = 0.5 job
    # loss keeps a prior of at least 0.02 / (0.02 + 0.2 * 0.5) = 1/6; the x = 0 losses have no remote explanation
    assert 0.02 <= t.loc[2, "job_loss_rate"] <= 0.1 and 0.0 <= t.loc[2, "remote_rate"] <= 0.2
    prior = ad.prior(start, x)
    assert prior[30, 2] >= 1 / 6
    assert prior[0, 2] == prior[1, 2] == 1.0
    # the rows of weeks 0-4 in one regression read the wave's change of risk set as a steeper slope: a negative
    # intercept (floored to ~0), which would have called the x = 0.5 loss remote work
    starts = start == np.arange(5)[None, :]
    at_risk = (start < 0) | starts
    rows_y = np.concatenate([starts[at_risk[:, c], c] for c in range(5)]).astype(float)
    rows_x = np.concatenate([x[at_risk[:, c]] for c in range(5)])
    intercept, _ = np.linalg.lstsq(np.column_stack([np.ones_like(rows_x), rows_x]), rows_y, rcond=None)[0]
    assert intercept < 0


def test_drop_priors_give_part_of_the_job_losses_to_remote_adoption_but_not_below_the_floor():
    from mobility.employment.adoption import Adoption

    # by hand, a week with l = 0.1 and a = 0.3 and a drop at x = 0: at b = 0.2, 0.1 - 0.06 = 0.04 job losses per
    # worker against 0.3 x 0.2 = 0.06 remote starts (0.4); at b = 0.5 the losses would be negative: the floor
    # (0.01) holds them, 0.01 / (0.01 + 0.15); at x = 1, b = 0: 0.1 / (0.1 + 0.3)
    ad = Adoption(np.array([0.1]), np.array([0.3]), pd.DataFrame(), job_loss_floor=np.array([0.01]))
    got = ad.drop_priors(np.array([0, 0]), np.array([0.0, 1.0]), np.array([0.0, 0.2, 0.5]))
    assert got[:, 0] == pytest.approx([1.0, 0.4, 0.01 / 0.16])
    assert got[0, 1] == pytest.approx(0.25)
    # a floor above the week's own job-loss rate does not raise it: the rate stays l = 0.1 whatever b
    high = Adoption(np.array([0.1]), np.array([0.3]), pd.DataFrame(), job_loss_floor=np.array([0.5]))
    assert high.drop_priors(np.array([0]), np.array([0.0]), np.array([0.5]))[0, 0] == pytest.approx(0.1 / 0.25)


def test_the_job_loss_floor_is_the_baseline_weeks_drop_rate(wave):
    start, x, weeks = wave
    start = start.copy()
    start[41:44, 0:] = 0  # three of the 60 workers at risk drop in week 0, a baseline week here
    params = EmploymentParams(adoption_window_weeks=2, baseline_start="2020-03-02", baseline_end="2020-03-08")
    ad = estimate_adoption(start, np.ones(start.shape, bool), x, weeks, params=params)
    # 3 drops of 60 workers at risk in the baseline week: 0.05, above half a job loss per window (<= 0.5 / 60)
    assert ad.job_loss_floor == pytest.approx(np.full(5, 3 / 60))
    assert ad.table["job_loss_floor"].tolist() == pytest.approx([3 / 60] * 5)


def test_job_losses_falling_with_teleworkability_give_the_true_share_of_job_losses_among_drops():
    """40 workers, 20 at x = 0 and 20 at x = 1. In week 1 four x = 0 workers lose their jobs (hazard 0.2) and, of
    the x = 1 workers, two lose their jobs (0.2 x (1 - 0.5)) and six go remote. The week's regression (l = 0.2,
    a = 0.2) read with gamma = 0 makes an x = 1 drop a job loss with probability 0.5; with the world's
    gamma = 0.5 it is the true share, 2 of 8."""
    x = np.repeat([0.0, 1.0], 20)
    start = np.full((40, 3), -1)
    start[0:4, 1:] = 1
    start[20:28, 1:] = 1
    loss = np.zeros(40, bool)
    loss[0:4] = loss[20:22] = True  # the truth, not read by the estimator
    weeks = pd.date_range("2020-03-09", periods=3, freq="7D")
    for gamma, expected_x1 in [(0.0, 0.5), (0.5, loss[20:28].mean())]:
        ad = estimate_adoption(start, np.ones(start.shape, bool), x, weeks,
                               params=EmploymentParams(adoption_window_weeks=0, job_loss_telework_slope=gamma))
        prior = ad.prior(start, x)
        assert prior[0, 1] == pytest.approx(loss[0:4].mean())  # x = 0: every drop a job loss
        assert prior[20, 1] == pytest.approx(expected_x1)
        assert np.isnan(prior[30, 1])
        # at b = 0.5 the priors split the observed drop rates (4 of 20, 8 of 20) into job losses that fall with x as
        # 1 - gamma and remote starts in proportion to x + b (1.5 against 0.5)
        b_prior = ad.drop_priors(np.array([1, 1]), np.array([0.0, 1.0]), np.array([0.5]))[0]
        drops = np.array([4 / 20, 8 / 20])
        job_loss, remote = b_prior * drops, (1 - b_prior) * drops
        assert job_loss[1] / job_loss[0] == pytest.approx(1 - gamma)
        assert remote[1] / remote[0] == pytest.approx(1.5 / 0.5)


def test_a_negative_slope_is_job_losses_falling_with_teleworkability_not_less_than_no_remote_work():
    """Four of 20 x = 0 workers and two of 20 x = 1 workers lose their jobs, nobody goes remote: the slope is -0.1.
    With gamma = 0.5 that is exactly the job losses' fall (A = a + gamma l = 0): every drop is a job loss; a slope
    floored at 0 would have read half the x = 1 drops as remote work."""
    x = np.repeat([0.0, 1.0], 20)
    start = np.full((40, 3), -1)
    start[0:4, 1:] = 1
    start[20:22, 1:] = 1
    ad = estimate_adoption(start, np.ones(start.shape, bool), x, pd.date_range("2020-03-09", periods=3, freq="7D"),
                           params=EmploymentParams(adoption_window_weeks=0, job_loss_telework_slope=0.5))
    assert ad.remote_rate[1] == pytest.approx(-0.1)
    assert ad.prior(start, x)[[0, 20], 1] == pytest.approx([1.0, 1.0])
    # with gamma = 0 a negative slope is floored at no remote work, as before
    ad0 = estimate_adoption(start, np.ones(start.shape, bool), x, pd.date_range("2020-03-09", periods=3, freq="7D"),
                            params=EmploymentParams(adoption_window_weeks=0, job_loss_telework_slope=0.0))
    assert ad0.remote_rate[1] == 0.0 and ad0.prior(start, x)[[0, 20], 1] == pytest.approx([1.0, 1.0])
