"""The employment stage end to end: a model trained on labels by one run, applied by another without labels."""

import json
import shutil

import pytest

from mobility.employment.model import load_model
from mobility.pipeline import read_table
from mobility.pipeline import run as run_pipeline
from mobility.synthetic import write_region_config

pytestmark = pytest.mark.slow


def _config(folder, name, employment):
    path = write_region_config(folder / f"{name}.toml", name="small", start="2020-01-06", end="2020-04-26", seed=3,
                               n_users=120, sections={"employment": employment, "report": {"months": ["2020-04"]}})
    truth = 'truth_status = "{region_dir}/truth/weekly_status.parquet"\n'
    path.write_text(path.read_text().replace("[inputs]\n", "[inputs]\n" + truth))
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("employment_stage")
    trained = folder / "trained"
    m1 = run_pipeline(str(_config(folder, "train", {"labels": "{region_dir}/truth/weekly_status.parquet"})),
                      str(trained), progress=False, until="employment")
    applied = folder / "applied"
    shutil.copytree(trained, applied)  # same region: only the employment stage runs again
    m2 = run_pipeline(str(_config(folder, "apply", {"model": str(trained / "employment_model")})), str(applied),
                      progress=False, until="employment")
    return trained, m1, applied, m2


def test_trained_model_is_written_and_named_in_the_manifest(runs):
    trained, m1, _, _ = runs
    model = load_model(trained / "employment_model")
    entry = m1["stages"]["employment"]["methods"]["classifier"]
    assert entry["model_id"] == model.model_id and entry["trained_here"] and not entry["transfer"]
    assert entry["trained_on"]["region"] == "small" and entry["trained_on"]["seed"] == 3
    on_disk = json.loads((trained / "employment_evaluation" / "model.json").read_text())
    assert on_disk["model_id"] == model.model_id and on_disk["outcome_metrics_used"] == []
    truth = json.loads((trained / "employment_evaluation" / "truth.json").read_text())
    assert set(truth) == {"classifier", "signal"} and len(truth["classifier"]["reliability"]) == 10
    assert (trained / "employment_evaluation" / "reliability.png").stat().st_size > 1000
    assert m1["stages"]["employment"]["truth"]["classifier"]["roc_auc"] == truth["classifier"]["roc_auc"]


def test_applied_model_without_labels(runs):
    trained, _, applied, m2 = runs
    assert m2["stages"]["employment"]["status"] == "ran" and m2["stages"]["stops"]["status"] == "skipped"
    entry = m2["stages"]["employment"]["methods"]["classifier"]
    assert not entry["trained_here"] and entry["source"] == str(trained / "employment_model")
    assert entry["same_region"] and "in-sample" in entry["warning"]
    assert load_model(applied / "employment_model").model_id == entry["model_id"]  # the copy that made the numbers
    emp = read_table(applied, "employment_weekly")
    assert set(emp["method"]) == {"signal", "classifier"}
    evaluation = json.loads((applied / "employment_evaluation" / "classifier_evaluation.json").read_text())
    assert evaluation == {"model_id": entry["model_id"], "trained_here": False}


def test_stage_partition_by_partition_equals_all_visits_at_once(runs):
    """The stage computes the per-user tables one user partition at a time (in worker processes); the tables it
    writes equal estimate_employment on the run's whole visits and labels in one process."""
    import pandas as pd

    from mobility.census import aggregate_lodes, read_lodes, read_teleworkability, work_features
    from mobility.employment.area import home_cbg
    from mobility.employment.attendance import baseline_work_cbg
    from mobility.employment.estimate import estimate_employment
    from mobility.employment.params import AreaParams
    from mobility.pipeline.stages import _area_weights
    from mobility.employment.labels import read_labels
    from mobility.pipeline import load_config

    trained, m1, _, _ = runs
    assert m1["engine"]["workers"] >= 1 and len(list((trained / "visits").glob("*.parquet"))) == 2
    config = load_config(m1["config"])
    visits = read_table(trained, "visits", columns=["user_id", "start", "end", "lat", "lon", "location_id"])
    labels = read_table(trained, "home_work_daily")
    wac = read_lodes(config.input_path("lodes_wac"))
    tau = read_teleworkability(config.input_path("telework"))
    features = work_features(baseline_work_cbg(labels), aggregate_lodes(wac, "cbg"), tau)
    area_params = AreaParams(**config.stage("employment").get("area", {}))
    weights = _area_weights(config, home_cbg(labels), features, area_params)
    whole = estimate_employment(visits, labels, features, tau, wac_county=aggregate_lodes(wac, "county"),
                                timezone=config.timezone, labels_truth=read_labels(config.input_path("truth_status")),
                                training={"region": "small", "synthetic": True, "start": config.start,
                                          "end": config.end, "seed": 3}, weights=weights, area_params=area_params)
    for name in ("employment_weekly", "sector_weekly", "remote_adoption", "remote_intercept", "drop_evidence",
                 "area_unemployment"):
        pd.testing.assert_frame_equal(read_table(trained, name), whole[name], obj=name, check_dtype=False)
    pd.testing.assert_frame_equal(read_table(trained, "worker_features"), features, obj="worker_features",
                                  check_dtype=False)
    assert load_model(trained / "employment_model").model_id == whole["employment_model"].model_id


def test_signal_runs_when_the_labels_cannot_train_a_classifier(runs, tmp_path):
    """Labels of a single user cannot train the cross-fitted classifier: with `method = "auto"` the stage stops
    and says so; with `method = "signal"` it reports the signal, says why the classifier is missing, and the
    labels still recalibrate the signal's area rates."""
    import pandas as pd

    from mobility.errors import MobilityError

    trained, _, _, _ = runs
    folder = trained.parent
    truth = pd.read_parquet(folder / "region" / "truth" / "weekly_status.parquet")
    one = truth[truth["user_id"] == truth["user_id"].iloc[0]][["user_id", "week", "status"]]
    one.to_parquet(tmp_path / "one_user.parquet")
    with pytest.raises(MobilityError, match="n_folds"):
        out = tmp_path / "auto"
        shutil.copytree(trained, out)
        run_pipeline(str(_config(folder, "few_auto", {"labels": str(tmp_path / "one_user.parquet")})), str(out),
                     progress=False, until="employment")
    out = tmp_path / "signal"
    shutil.copytree(trained, out)
    m = run_pipeline(str(_config(folder, "few_signal", {"labels": str(tmp_path / "one_user.parquet"),
                                                        "method": "signal"})), str(out),
                     progress=False, until="employment")
    stage = m["stages"]["employment"]
    assert stage["status"] == "ran" and stage["method"] == "signal"
    assert "n_folds" in stage["methods"]["classifier"]["not_trained"]
    assert set(read_table(out, "employment_weekly")["method"]) == {"signal"}
    evaluation = json.loads((out / "employment_evaluation" / "classifier_evaluation.json").read_text())
    assert evaluation["trained_here"] is False and "n_folds" in evaluation["not_trained"]
