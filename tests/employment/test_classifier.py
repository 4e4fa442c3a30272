import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from mobility.employment import classifier as clf_module
from mobility.employment.attendance import relative_attendance
from mobility.employment.classifier import apply_classifier, classifier_status, cross_fit, label_matrix, train_classifier
from mobility.employment.features import weekly_features
from mobility.employment.params import ClassifierParams, EmploymentParams
from mobility.employment.status import SignalResult, signal_status
from mobility.errors import MobilityError


def _memorising_panel(n_users=80, n_weeks=20, seed=0):
    """Each user is all unemployed or all employed, at random; the one informative-looking feature is an id.

    A model can only memorise which ids were unemployed: perfect on the users it saw, a coin toss on others.
    """
    rng = np.random.default_rng(seed)
    y_user = (rng.random(n_users) < 0.5).astype(float)
    y = np.repeat(y_user[:, None], n_weeks, axis=1)
    ident = np.repeat(rng.permutation(n_users).astype(float)[:, None], n_weeks, axis=1)
    mats = {"user_code": ident, "noise": rng.normal(size=(n_users, n_weeks))}
    return mats, np.ones((n_users, n_weeks), bool), y


def test_cross_fitting_hides_memorisation():
    mats, usable, y = _memorising_panel()
    params = ClassifierParams(n_estimators=60, min_child_samples=5, num_leaves=63, learning_rate=0.3)
    fit = cross_fit(mats, usable, y, params=params)
    # what the classifier did before: one model scoring the users it was trained on
    rows = np.column_stack([mats[n].ravel() for n in fit.model.features]).astype(np.float32)
    naive = lgb.train({"objective": "binary", "verbose": -1, "min_data_in_leaf": 5, "num_leaves": 63,
                       "learning_rate": 0.3, "seed": 0}, lgb.Dataset(rows, y.ravel()), 60)
    in_sample = roc_auc_score(y.ravel(), naive.predict(rows))
    out_of_fold = roc_auc_score(y.ravel(), fit.p.ravel())
    assert in_sample > 0.99  # memorised
    assert 0.3 < out_of_fold < 0.7  # nobody is scored by a model that saw them
    assert fit.evaluation["out_of_fold"]["classifier"]["roc_auc"] == pytest.approx(out_of_fold)
    assert sorted(np.bincount(fit.fold)) == [16] * 5


def test_no_model_sees_the_users_it_predicts(monkeypatch):
    mats, usable, y = _memorising_panel(n_users=40)
    seen, fitted = [], {}
    original, original_fit = clf_module.training_rows, clf_module.fit_model

    def spy(y_rows, users, *, params, stream=0, subset=None):
        seen.append((stream, set(users[subset].tolist())))
        return original(y_rows, users, params=params, stream=stream, subset=subset)

    def fit_spy(fit_rows, fit_y, cal_rows, cal_y, names, *, params, stream=0):
        # the rows that reach the trees and the calibration, by the id feature each row carries
        fitted[stream] = set(np.concatenate([fit_rows, cal_rows])[:, list(names).index("user_code")].tolist())
        return original_fit(fit_rows, fit_y, cal_rows, cal_y, names, params=params, stream=stream)

    monkeypatch.setattr(clf_module, "training_rows", spy)
    monkeypatch.setattr(clf_module, "fit_model", fit_spy)
    fit = cross_fit(mats, usable, y, params=ClassifierParams(n_estimators=5, min_child_samples=5))
    by_stream = dict(seen)
    assert len(by_stream) == 6 and sorted(fitted) == list(range(6))
    ident = mats["user_code"][:, 0]  # each user's id value, from the panel itself
    for k in range(5):  # fold model k (stream k + 1): its trees and calibration never include fold k's users
        fold_users = set(np.flatnonzero(fit.fold == k).tolist())
        assert by_stream[k + 1].isdisjoint(fold_users)
        assert by_stream[k + 1] | fold_users == set(range(40))
        assert fitted[k + 1].isdisjoint(ident[sorted(fold_users)].tolist())  # the rows built, not only the draw
        assert fitted[k + 1] <= set(ident[sorted(by_stream[k + 1])].tolist())
    assert by_stream[0] == set(range(40))  # the final model: every labelled user
    assert fitted[0] <= set(ident.tolist())


def test_learns_out_of_fold_and_is_deterministic(sim):
    weekly, base, features, tau, truth, _ = sim()
    signal = signal_status(relative_attendance(weekly, base), features, tau)
    mats = weekly_features(signal)
    p = ClassifierParams(n_estimators=30)
    t1, ev1, imp1, m1 = train_classifier(signal, mats, truth, classifier=p)
    t2, ev2, _, m2 = train_classifier(signal, mats, truth, classifier=p)
    oof = ev1["out_of_fold"]
    assert oof["classifier"]["roc_auc"] > 0.85 and oof["signal"]["n"] == oof["classifier"]["n"]
    assert oof["classifier"]["calibration_error"] < 0.05
    pd.testing.assert_frame_equal(t1, t2)
    assert m1.model_id == m2.model_id
    assert set(t1["method"]) == {"classifier"} and t1["p_unemployed"].dropna().between(0, 1).all()
    assert imp1["gain"].iloc[0] >= imp1["gain"].iloc[-1]
    assert m1.card["outcome_metrics_used"] == [] and m1.card["training"]["n_users"] == ev1["labelled_users"]


def test_unlabelled_users_are_predicted_by_the_final_model(sim):
    weekly, base, features, tau, truth, _ = sim(n_users=300, n_weeks=26)
    signal = signal_status(relative_attendance(weekly, base), features, tau)
    mats = weekly_features(signal)
    some = truth[truth["user_id"].isin(truth["user_id"].unique()[:200])]
    table, ev, _, model = train_classifier(signal, mats, some, classifier=ClassifierParams(n_estimators=20))
    assert ev["labelled_users"] == 200 and ev["predicted_by_final_model"] > 0
    unlabelled = table[~table["user_id"].isin(some["user_id"]) & table["p_unemployed"].notna()]
    users = list(signal.users)
    rows = np.column_stack([np.asarray(mats[n])[[users.index(u) for u in unlabelled["user_id"]],
                                                [signal.weeks.get_loc(w) for w in unlabelled["week"]]]
                            for n in model.features])
    np.testing.assert_array_equal(unlabelled["p_unemployed"].to_numpy(), model.predict(rows))


def test_one_week_above_threshold_is_not_a_job_loss():
    sig = SignalResult(np.array(["spike", "loser"]), pd.date_range("2020-03-02", periods=8, freq="7D"),
                       {"usable": np.ones((2, 8), bool)}, np.array([0.5, 0.5]))
    p = np.array([[0.1, 0.1, 0.97, 0.1, 0.1, 0.6, 0.7, 0.1],
                  [0.1, 0.1, 0.1, 0.8, 0.9, 0.9, 0.9, 0.9]])
    t = classifier_status(sig, p, params=EmploymentParams(min_event_weeks=3)).set_index(["user_id", "week"])
    assert (t.loc["spike", "status"] == "employed").all()  # 1 week, then 2 weeks: never 3 in a row
    assert t.loc["spike", "weeks_since_job_loss"].isna().all()
    assert t.loc["loser", "status"].tolist() == ["employed"] * 3 + ["unemployed"] * 5
    assert t.loc["loser", "weeks_since_job_loss"].tolist()[3:] == [0, 1, 2, 3, 4]
    assert t.loc["spike", "p_unemployed"].iloc[2] == pytest.approx(0.97)  # the probability is kept as it is


def test_label_matrix_uses_employed_remote_unemployed_only():
    lab = pd.DataFrame({"user_id": ["a", "a", "a"], "week": pd.to_datetime(["2020-03-02", "2020-03-09", "2020-03-16"]),
                        "status": ["employed", "no_job", "unknown"]})
    y = label_matrix(lab, np.array(["a"]), pd.DatetimeIndex(["2020-03-02", "2020-03-09", "2020-03-16", "2020-03-23"]))
    assert y[0, 0] == 0.0 and np.isnan(y[0, 1:]).all()


def test_too_few_labelled_users_or_one_class():
    mats, usable, y = _memorising_panel(n_users=4)
    with pytest.raises(MobilityError, match="4 labelled users with covered weeks, fewer than n_folds = 5"):
        cross_fit(mats, usable, y)
    mats, usable, y = _memorising_panel(n_users=30)
    with pytest.raises(MobilityError, match="only employed or remote weeks"):
        cross_fit(mats, usable, np.zeros_like(y))


def test_job_losers_are_dealt_evenly_over_folds_and_calibrations():
    mats, usable, y = _memorising_panel(n_users=50)
    y[:] = 0.0
    y[:10, 5:] = 1.0  # 10 job losers among 50 users
    fit = cross_fit(mats, usable, y, params=ClassifierParams(n_estimators=5, min_child_samples=5))
    assert [int((fit.fold[:10] == k).sum()) for k in range(5)] == [2] * 5
    assert sorted(np.bincount(fit.fold)) == [10] * 5


def test_models_through_a_mapper_or_forked_workers_give_the_same_predictions_and_final_model():
    from mobility.pipeline.engine import LocalEngine

    mats, usable, y = _memorising_panel(n_users=60)
    y[:10] = np.nan  # unlabelled users: predicted by the final model
    params = ClassifierParams(n_estimators=10, min_child_samples=5)
    serial = cross_fit(mats, usable, y, params=params)
    order = []

    def backwards(fn, items):  # the final model first, then the folds from the last
        items = list(items)
        order.extend(items[::-1])
        return [fn(i) for i in items[::-1]][::-1]

    mapped = cross_fit(mats, usable, y, params=params, mapper=backwards)
    with LocalEngine(workers=2) as engine:
        forked = cross_fit(mats, usable, y, params=params,
                           mapper=lambda fn, items: engine.map(fn, items, processes=True))
    assert order == [5, 4, 3, 2, 1, 0, 0]  # the models, then the one block of users' predictions
    for fit in (mapped, forked):
        np.testing.assert_array_equal(fit.p, serial.p)
        assert fit.model.booster.model_to_string() == serial.model.booster.model_to_string()
        assert fit.evaluation == serial.evaluation


def test_label_matrix_first_label_of_a_user_week_and_only_given_users_and_weeks():
    weeks = pd.DatetimeIndex(["2020-03-02", "2020-03-09"])
    lab = pd.DataFrame({"user_id": ["b", "b", "a", "c", "a", "b"],
                        "week": pd.to_datetime(["2020-03-02", "2020-03-02", "2020-03-09", "2020-03-02", "2020-03-16",
                                                "2020-03-09"]).as_unit("us"),
                        "status": ["no_job", "unemployed", "remote", "unemployed", "unemployed", "unemployed"]})
    y = label_matrix(lab, np.array(["b", "a"]), weeks)
    np.testing.assert_array_equal(y, [[np.nan, 1.0], [np.nan, 0.0]])  # b's first label of week 1 is no_job
    y2 = label_matrix(lab, np.array(["b", "a", "b"]), weeks)  # a repeated user repeats its labels
    np.testing.assert_array_equal(y2, [[np.nan, 1.0], [np.nan, 0.0], [np.nan, 1.0]])


def test_drop_onset_dates_a_loss_at_the_first_week_of_its_attendance_drop():
    from mobility.employment import job_loss_weeks
    from mobility.employment.events import confirmed_runs, near_zero

    weeks = pd.date_range("2020-03-02", periods=8, freq="7D")
    users = np.array(["loser", "early", "no_drop", "silent"])
    nan = np.nan
    attendance = np.array([[1, 1, 1, 0, 0, 0, 0, 0],      # stops coming in week 3
                           [1, 1, 1, 1, 0, 0, 0, 0],      # stops in week 4, p crossed in week 2
                           [1, 1, 1, 1, 1, 1, 1, 1],      # keeps coming
                           [1, 1, 0, nan, 0, 0, 0, 0]], dtype=float)  # stops in week 2, week 3 not covered
    usable = np.isfinite(attendance)
    p = np.array([[0.1, 0.1, 0.1, 0.3, 0.4, 0.8, 0.9, 0.9],  # crosses 0.5 in week 5 = drop + 2
                  [0.1, 0.1, 0.8, 0.9, 0.9, 0.9, 0.9, 0.9],
                  [0.1, 0.1, 0.1, 0.1, 0.7, 0.8, 0.9, 0.9],
                  [0.1, 0.1, 0.2, nan, 0.3, 0.6, 0.7, 0.8]])
    drops = confirmed_runs(near_zero(attendance, np.full_like(attendance, nan), 0.2), usable)
    sig = SignalResult(users, weeks, {"usable": usable, "run_start": drops}, np.full(4, 0.5))
    old = classifier_status(sig, p, params=EmploymentParams(job_loss_dating="threshold"))
    new = classifier_status(sig, p, params=EmploymentParams(job_loss_dating="drop_onset"))
    assert job_loss_weeks(old).to_dict() == {"early": weeks[2], "loser": weeks[5], "no_drop": weeks[4],
                                             "silent": weeks[5]}
    assert job_loss_weeks(new).to_dict() == {"early": weeks[2], "loser": weeks[3], "no_drop": weeks[4],
                                             "silent": weeks[2]}
    assert new.set_index("user_id").loc["loser", "weeks_since_job_loss"].tolist() == [pd.NA] * 5 + [2, 3, 4]
    assert new["status"].tolist() == old["status"].tolist()  # only the dating moves
    assert np.array_equal(new["p_unemployed"].to_numpy(), old["p_unemployed"].to_numpy(), equal_nan=True)
    assert classifier_status(sig, p).equals(old)  # threshold is the default
    with pytest.raises(MobilityError, match="run_start"):
        classifier_status(SignalResult(users, weeks, {"usable": usable}, np.full(4, 0.5)), p,
                          params=EmploymentParams(job_loss_dating="drop_onset"))
    with pytest.raises(MobilityError, match="job_loss_dating"):
        EmploymentParams(job_loss_dating="onset")


@pytest.mark.parametrize("status, what", [("employed", "employed or remote"), ("unemployed", "unemployed")])
def test_a_labelled_panel_of_one_class_names_the_file_and_the_way_out(status, what, sim):
    # the message used to speak of "the tree users of a model" and name neither the file nor method = "signal"
    weekly, base, features, tau, truth, _ = sim(n_users=80, n_weeks=12)
    signal = signal_status(relative_attendance(weekly, base), features, tau)
    labels = truth.assign(status=status)
    labels.attrs["source"] = "panel.csv"
    with pytest.raises(MobilityError) as err:
        train_classifier(signal, weekly_features(signal), labels, classifier=ClassifierParams(n_estimators=5))
    message = str(err.value)
    usable = int((label_matrix(labels, signal.users, signal.weeks)[signal.matrices["usable"]] >= 0).sum())
    assert message.startswith("panel.csv: ")
    assert f"all {usable:,} of its labelled user-weeks the run can use" in message and f"are {what}:" in message
    assert 'method = "signal"' in message


def test_features_a_block_of_users_at_a_time_give_the_same_fit(sim):
    from mobility.employment.features import FeatureBlocks

    weekly, base, features, tau, truth, _ = sim(n_users=200, n_weeks=20)
    signal = signal_status(relative_attendance(weekly, base), features, tau)
    some = truth[truth["user_id"].isin(truth["user_id"].unique()[:150])]  # unlabelled users: the final model's
    p = ClassifierParams(n_estimators=15, max_train_rows=1_000, max_calibration_rows=1_000)  # subsampled rows too
    whole = train_classifier(signal, weekly_features(signal), some, classifier=p)
    blocks = FeatureBlocks(signal, block_users=7)
    by_block = train_classifier(signal, blocks, some, classifier=p)
    pd.testing.assert_frame_equal(by_block[0], whole[0])
    assert by_block[1] == whole[1] and by_block[3].model_id == whole[3].model_id
    applied = apply_classifier(signal, blocks, whole[3])
    pd.testing.assert_frame_equal(applied, apply_classifier(signal, weekly_features(signal), whole[3]))
