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
    s = dict(run_summary(m, first_week="2020-01", last_week="2020-04").values.tolist())
    assert s["data period (weeks)"] == "2020-01 to 2020-04"
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
