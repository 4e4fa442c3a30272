import json

import numpy as np
import pytest

from mobility.employment.attendance import relative_attendance
from mobility.employment.classifier import apply_classifier, train_classifier
from mobility.employment.features import weekly_features
from mobility.employment.model import load_model, model_summary, save_model
from mobility.employment.params import ClassifierParams
from mobility.employment.status import signal_status
from mobility.errors import MobilityError


@pytest.fixture(scope="module")
def trained(sim):
    weekly, base, features, tau, truth, _ = sim(n_users=300, n_weeks=26, seed=5)
    signal = signal_status(relative_attendance(weekly, base), features, tau)
    mats = weekly_features(signal)
    _, _, _, model = train_classifier(signal, mats, truth, classifier=ClassifierParams(n_estimators=25),
                                      training={"region": "sim", "synthetic": True, "seed": 5})
    return signal, mats, model


def test_save_load_apply_gives_identical_predictions(trained, tmp_path):
    signal, mats, model = trained
    save_model(model, tmp_path / "employment_model")
    assert sorted(p.name for p in (tmp_path / "employment_model").iterdir()) == [
        "calibration.json", "card.json", "model.txt"]
    loaded = load_model(tmp_path / "employment_model")
    assert loaded.model_id == model.model_id and loaded.features == model.features
    before = apply_classifier(signal, mats, model)
    after = apply_classifier(signal, mats, loaded)
    np.testing.assert_array_equal(before["p_unemployed"].to_numpy(), after["p_unemployed"].to_numpy())
    assert before["status"].tolist() == after["status"].tolist()
    card = json.loads((tmp_path / "employment_model" / "card.json").read_text())
    assert card["model_id"] == model.model_id and card["training"]["region"] == "sim"
    assert card["features"] == list(model.features) and card["outcome_metrics_used"] == []
    assert {"roc_auc", "brier", "calibration_error"} <= set(card["out_of_fold"]["classifier"])
    assert card["training"]["n_user_weeks"] > 0 and card["versions"]["lightgbm"]


def test_applying_a_model_with_missing_features_fails_clearly(trained, tmp_path):
    signal, mats, model = trained
    save_model(model, tmp_path / "m")
    fewer = {k: v for k, v in mats.items() if k not in ("telework", "p_sector")}
    with pytest.raises(MobilityError, match=r"needs feature\(s\) \['p_sector', 'telework'\]") as err:
        apply_classifier(signal, fewer, load_model(tmp_path / "m"), source=str(tmp_path / "m"))
    assert str(tmp_path / "m") in str(err.value)


def test_load_model_errors(trained, tmp_path):
    _, _, model = trained
    with pytest.raises(MobilityError, match="no such folder"):
        load_model(tmp_path / "absent")
    save_model(model, tmp_path / "m")
    (tmp_path / "m" / "calibration.json").unlink()
    with pytest.raises(MobilityError, match=r"\['calibration.json'\] missing"):
        load_model(tmp_path / "m")
    save_model(model, tmp_path / "m")
    cal = json.loads((tmp_path / "m" / "calibration.json").read_text())
    cal["y"][-1] = 0.5  # changed after training: the card's model_id no longer names these files
    (tmp_path / "m" / "calibration.json").write_text(json.dumps(cal))
    with pytest.raises(MobilityError, match="does not match the files"):
        load_model(tmp_path / "m")
    (tmp_path / "m" / "model.txt").write_text("not a model")
    with pytest.raises(MobilityError, match="unreadable"):
        load_model(tmp_path / "m")


def test_summary_flags_transfers(trained):
    _, _, model = trained
    here = model_summary(model, trained_here=True, region={"region": "sim", "synthetic": True, "seed": 5})
    assert not here["transfer"] and here["warning"] is None and here["source"] == "this run"
    real = model_summary(model, trained_here=False, region={"region": "philadelphia", "synthetic": False},
                         truth_scores=None, label_scores={"classifier": {"roc_auc": 0.81, "reliability": []}})
    assert real["transfer"] and real["out_of_region"] == {"roc_auc": 0.81}
    assert "trained on a synthetic region" in real["warning"] and "0.810 against labels" in real["warning"]
    unscored = model_summary(model, trained_here=False, region={"region": "philadelphia", "synthetic": False})
    assert unscored["out_of_region"] is None and "no truth or labels here" in unscored["warning"]
    again = model_summary(model, trained_here=False, region={"region": "sim", "synthetic": True, "seed": 5})
    assert not again["transfer"] and again["same_region"] and "in-sample" in again["warning"]
    other_seed = model_summary(model, trained_here=False, region={"region": "sim", "synthetic": True, "seed": 6})
    assert other_seed["transfer_reasons"] == ["trained on a synthetic region", "trained on seed 5, applied to seed 6"]
    # the signal's features depend on the job-loss slope: a model applied under another slope is a transfer
    trained_slope = model.card["employment_params"]["job_loss_telework_slope"]
    same = model_summary(model, trained_here=False, region={"region": "sim", "synthetic": True, "seed": 5},
                         job_loss_slope=trained_slope)
    assert not same["transfer"]
    moved = model_summary(model, trained_here=False, region={"region": "sim", "synthetic": True, "seed": 5},
                          job_loss_slope=0.0 if trained_slope else 0.5)
    assert moved["transfer"] and "features made with" in moved["warning"]
    params = model.card["employment_params"]
    model.card["employment_params"] = {k: v for k, v in params.items() if k != "job_loss_telework_slope"}
    try:  # a card from before the slope existed: made at 0
        assert model_summary(model, trained_here=False, region={"region": "sim", "synthetic": True, "seed": 5},
                             job_loss_slope=0.0)["transfer_reasons"] == []
    finally:
        model.card["employment_params"] = params
