"""HTML layout, the methods tables from a manifest, and CSV writing."""

import pandas as pd

from mobility.report.document import Figure, Section, Table, render_html, table_html
from mobility.report.methods import parameters_table, run_summary


def test_table_html_formats_counts_rates_and_missing():
    df = pd.DataFrame({"area": ["<b>"], "n_users": [12.0], "rate": [10.0], "x": [float("nan")], "suppressed": [True]})
    html = table_html(df)
    assert "&lt;b&gt;" in html and "<td>12</td>" in html and "<td>10.000</td>" in html and "&ndash;" in html
    assert '<tr class="suppressed">' in html


def test_render_html_is_self_contained():
    page = render_html("T", "s", [Section("A", "a", paragraphs=["p & q"],
                                          figures=[Figure("data:image/png;base64,AAAA", "cap", "tables/x.csv")],
                                          tables=[Table("t", pd.DataFrame({"a": [1]}))])])
    assert '<img src="data:image/png;base64,AAAA"' in page and "p &amp; q" in page and "tables/x.csv" in page
    assert "<script" not in page and "http://" not in page and "https://" not in page


def test_methods_tables_from_manifest_leave_out_paths():
    m = {"region": "r", "stage_order": ["load", "stops"], "started": "t0", "finished": "t1",
         "stages": {"load": {"params": {"files": ["/secret/a.csv"], "max_accuracy_m": 200.0}, "rows": {"pings": 1234},
                             "quarantine": {"bad_coordinate": 3}},
                    "stops": {"params": {"radius_m": 200.0, "work_weekdays": [0, 1]}}},
         "versions": {"pandas": "3.1"}}
    p = parameters_table(m)
    assert p.values.tolist() == [["load", "max_accuracy_m", "200.0"], ["stops", "radius_m", "200.0"],
                                 ["stops", "work_weekdays", "[0, 1]"]]
    s = dict(run_summary(m, first_week="2019-12-30", last_week="2020-04-27").values.tolist())
    assert s["weeks of data (Mondays)"] == "2019-12-30 to 2020-04-27"
    assert s["rows: pings"] == "1,234" and s["quarantined (load): bad_coordinate"] == "3"
    assert s["version: pandas"] == "3.1" and "/secret" not in str(s)


def test_long_table_shows_its_first_rows_and_folds_the_rest():
    df = pd.DataFrame({"place": [f"county {i}" for i in range(30)], "rate (%)": [float(i) for i in range(30)]})
    html = table_html(df, show=5, decimals=1)
    shown, folded = html.split("<details>")
    assert shown.count("<tr>") == 6 and "county 4" in shown and "county 5" not in shown   # header + 5 rows
    assert "<summary>all 30 rows</summary>" in folded and folded.count("<tr>") == 31 and "<td>29.0</td>" in folded
    only_folded = table_html(df, show=0)
    assert only_folded.startswith("<details>")


def _employment(**stage):
    return {"stages": {"employment": stage}}


def test_provenance_names_the_model_and_warns_only_where_the_rates_are_not_to_be_read_as_they_stand():
    from mobility.report.methods import estimates_provenance

    card = {"model_id": "abc123", "trained_here": True, "warning": None,
            "trained_on": {"region": "bench", "synthetic": False, "start": "2020-01-01", "end": "2020-09-30",
                           "n_users": 5850},
            "out_of_fold": {"roc_auc": 0.9831, "calibration_error": 0.0027}}
    calibrated = {"classifier": {"2020-03": 1.0, "2020-04": 0.5}, "signal": {"2020-04": 1.0}}
    lines, warning = estimates_provenance(_employment(methods={"classifier": card}, area_calibration=calibrated),
                                          "classifier")
    assert warning is None
    assert "(LightGBM, model abc123) trained in this run" in lines[0] and "5,850 users" in lines[0]
    assert "out-of-fold ROC AUC 0.983, calibration error 0.003" in lines[0]
    assert lines[1] == ("Rates recalibrated out of fold on the run's labelled panel (share of the recalibration "
                        "used: 0.50-1.00 by month).")
    assert "region 'bench', 2020-01-01 to 2020-09-30" in lines[0]
    # a model from a synthetic region, applied without labels: its own warning, and no recalibration
    moved = dict(card, trained_here=False, transfer=True, warning="The classifier's numbers come from model abc123, trained on "
                 "a synthetic region: a transfer.")
    moved["trained_on"] = dict(card["trained_on"], region="synthetic", synthetic=True)
    lines, warning = estimates_provenance(
        _employment(methods={"classifier": moved}, area_calibration={"classifier": "no labels"}), "classifier")
    assert warning.startswith(moved["warning"]) and "a transferred model's county rates were" in warning
    assert "trained on the synthetic region 'synthetic'" in lines[0] and "applied here without retraining" in lines[0]
    assert lines[-1] == "The probabilities keep the model's own calibration, from its training region."
    # the signal with labels: calibrated, no warning; without: the warning
    assert estimates_provenance(_employment(area_calibration=calibrated), "signal")[1] is None
    assert estimates_provenance(_employment(area_calibration={"signal": "no labels"}), "signal")[1].startswith(
        "No labelled panel recalibrated these rates")
    lines, drawn = estimates_provenance(_employment(area_calibration={"signal": "no labels"},
                                               remote_intercept={"signal": {"values": 9, "mean": 0.5123, "sd": 0.08}}),
                                    "signal")
    assert lines[-1].endswith("from its posterior: mean 0.51, standard deviation 0.08.")
    coarse = {"signal": {"values": 9, "mean": 0.5123, "sd": 0.08, "likelihood_power": 0.0251, "evidence_drops": 1000}}
    lines, _ = estimates_provenance(_employment(area_calibration={"signal": "no labels"}, remote_intercept=coarse),
                                    "signal")
    assert lines[-1].endswith("standard deviation 0.08; the drops' evidence about b counted as that of 1,000 drops "
                              "(2.5% of its full weight), since the population model is only an approximation.")
    assert "the model's doubt about how much of the absence is remote work (wide" in drawn
    _, known = estimates_provenance(_employment(area_calibration={"signal": "no labels"}), "signal")
    assert "sampling of people only" in known
    assert "doubt about how much of the absence is remote work (wide" not in known
    assert estimates_provenance({"stages": {}}, "signal") == ([], None)
