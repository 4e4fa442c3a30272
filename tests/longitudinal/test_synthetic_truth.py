"""Synthetic ground truth: a generated region with planted job-loss effects (larger for the vulnerable)."""

import pytest

from mobility.longitudinal import did_summary, event_study

synthetic = pytest.importorskip("mobility.synthetic")
metrics = pytest.importorskip("mobility.metrics")


@pytest.mark.slow
def test_event_study_recovers_planted_effects_on_synthetic_region(tmp_path):
    from mobility.synthetic.region import load_truth

    synthetic.generate_region(tmp_path / "region", synthetic.SyntheticParams(n_users=1500), seed=7)
    truth = load_truth(tmp_path / "region")
    weekly = metrics.weekly_metrics(truth["stops"].rename(columns={"place_id": "location_id"}),
                                    timezone="America/New_York")
    weekly["week"] = weekly["period_start"].dt.tz_convert("America/New_York").dt.tz_localize(None)
    weekly = weekly[weekly["week"] >= "2020-01-06"]  # drop the partial first week
    people = truth["people"][truth["people"]["work_cbg"].notna()]  # employed at baseline
    panel = weekly.merge(people[["user_id", "job_loss_date", "vulnerable"]], on="user_id")
    panel = panel.rename(columns={"job_loss_date": "job_loss_week"})
    panel["vulnerable"] = panel["vulnerable"].map({True: "vulnerable", False: "other"})

    res = event_study(panel, "new_locations", window=(-4, 12), group="vulnerable")
    assert (res.pretrend["p_value"] > 0.05).all()
    c = res.coefficients
    for group in ["other", "vulnerable"]:
        g = c[c["group"] == group].set_index("event_time")["estimate"]
        # planted: exploration falls with weeks since loss, effect(w) = max (1 - exp(-w / tau))
        assert g.loc[6:12].mean() < g.loc[0:2].mean()
        assert g.loc[6:12].mean() < 0
    did = did_summary(panel, "new_locations", group="vulnerable").set_index("group")
    assert did.loc["vulnerable", "estimate"] < did.loc["other", "estimate"] < 0  # ranking as planted
    assert did.loc["other", "ci_high"] < 0
