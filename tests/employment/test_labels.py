import numpy as np
import pandas as pd
import pytest

from mobility.employment.labels import check_label_statuses, check_overlap, read_labels
from mobility.errors import MobilityError

GOOD = "user_id,week,status\nu1,2020-03-16,employed\nu1,2020-03-25,Unemployed\nu2, 2020-03-16 ,remote\n"
EXPECTED = pd.DataFrame({"user_id": pd.array(["u1", "u1", "u2"], dtype="string"),
                         "week": pd.to_datetime(["2020-03-16", "2020-03-23", "2020-03-16"]).astype("datetime64[ns]"),
                         "status": pd.array(["employed", "unemployed", "remote"], dtype="string")})


def test_csv_and_parquet_read_the_same(tmp_path):
    csv = tmp_path / "labels.csv"
    csv.write_text(GOOD)
    from_csv = read_labels(csv)
    pd.testing.assert_frame_equal(from_csv, EXPECTED)
    raw = pd.DataFrame({"user_id": ["u2", "u1", "u1"], "status": ["remote", "employed", "unemployed"],
                        "week": pd.to_datetime(["2020-03-16", "2020-03-16", "2020-03-25"]).tz_localize("UTC")})
    raw.to_parquet(tmp_path / "labels.parquet")
    pd.testing.assert_frame_equal(read_labels(tmp_path / "labels.parquet"), EXPECTED)
    assert from_csv.attrs["source"] == str(csv)


@pytest.mark.parametrize("text, message", [
    ("user,week,status\nu1,2020-03-16,employed\n",
     r"missing column\(s\) \['user_id'\] \(found \['user', 'week', 'status'\]\)"),
    ("user_id,week,status\nu1,2020-03-16,employed\nu1,16/03/2020x,employed\n",
     r"line 3, column 'week': '16/03/2020x' is not a date; write weeks as dates like 2020-03-16"),
    ("user_id,week,status\nu1,2020-03-16,employed\nu2,2020-03-16,furloughed\n",
     r"line 3, column 'status': 'furloughed' is not a status; use one of \('employed', 'remote', 'unemployed'"),
    ("user_id,week,status\nu1,2020-03-16,employed\nu2,2020-03-16,employed\nu1,2020-03-18,unemployed\n",
     r"user 'u1' week 2020-03-16 is given twice \(lines 2 and 4"),
    ("user_id,week,status\n,2020-03-16,employed\n", r"line 2, column 'user_id': empty"),
])
def test_bad_csv_labels_name_file_line_and_fix(tmp_path, text, message):
    path = tmp_path / "my_labels.csv"
    path.write_text(text)
    with pytest.raises(MobilityError, match=message) as err:
        read_labels(path)
    assert str(path) in str(err.value)


def test_bad_parquet_labels_name_the_row(tmp_path):
    path = tmp_path / "labels.parquet"
    pd.DataFrame({"user_id": ["a", "b"], "week": ["2020-03-16", "soon"], "status": ["employed"] * 2}).to_parquet(path)
    with pytest.raises(MobilityError, match=r"labels.parquet: row 2, column 'week': 'soon' is not a date"):
        read_labels(path)


@pytest.mark.parametrize("statuses, message", [
    (["employed", " Remote ", "unemployed", "no_job"], None),
    (["employed", "remote", "laid off", "laid off"], r"row 3, column 'status': 'laid off' is not a status"),
    (["employed", None, "remote", "remote"], r"row 2, column 'status': an empty value is not a status"),
])
def test_the_check_before_a_run_reads_statuses_as_categories_and_names_the_first_bad_one(tmp_path, statuses, message):
    table = pd.DataFrame({"user_id": ["a", "b", "c", "d"], "week": ["2020-03-16"] * 4, "status": statuses})
    table.to_parquet(tmp_path / "labels.parquet")
    csv = tmp_path / "labels.csv"
    table.to_csv(csv, index=False)
    for path, where in ((tmp_path / "labels.parquet", message),
                        (csv, message and message.replace("row 3", "line 4").replace("row 2", "line 3"))):
        if message is None:
            check_label_statuses(path)
        else:
            with pytest.raises(MobilityError, match=where):
                check_label_statuses(path)
    pd.DataFrame({"user_id": ["a"], "week": ["2020-03-16"], "status": [1]}).to_parquet(tmp_path / "n.parquet")
    with pytest.raises(MobilityError, match=r"row 1, column 'status': 1 is not a status"):
        check_label_statuses(tmp_path / "n.parquet")


def test_wrong_format_or_missing_file(tmp_path):
    csv_named_parquet = tmp_path / "labels.parquet"
    csv_named_parquet.write_text(GOOD)  # the old raw ArrowInvalid traceback
    with pytest.raises(MobilityError, match=r"labels.parquet: cannot read it as Parquet \(ArrowInvalid"):
        read_labels(csv_named_parquet)
    (tmp_path / "labels.xlsx").write_text("x")
    with pytest.raises(MobilityError, match=r"must be .csv, .csv.gz or .parquet \(got '.xlsx'\)"):
        read_labels(tmp_path / "labels.xlsx")
    with pytest.raises(MobilityError, match="labelled panel file not found"):
        read_labels(tmp_path / "absent.csv")


def test_no_overlap_with_the_run(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text(GOOD)
    labels = read_labels(path)
    with pytest.raises(MobilityError, match=r"labels.csv: none of its 2 users is among the run's 2 users"):
        check_overlap(labels, np.array(["x1", "x2"]), pd.DatetimeIndex(["2020-03-16"]))
    with pytest.raises(MobilityError, match=r"its weeks \(2020-03-16..2020-03-23\) are outside the run's"):
        check_overlap(labels, np.array(["u1"]), pd.date_range("2021-01-04", periods=3, freq="7D"))
    check_overlap(labels, np.array(["u1", "x"]), pd.DatetimeIndex(["2020-03-23"]))


def test_labelled_users_missing_from_the_run_are_counted_in_a_warning(caplog):
    # ids written another way ("007" in the labels, "7" in the pings) dropped most labels without a word
    import logging

    labels = pd.DataFrame({"user_id": ["007", "008", "u1", "009"], "week": pd.to_datetime(["2020-03-16"] * 4),
                           "status": ["employed", "unemployed", "employed", "employed"]})
    labels.attrs["source"] = "panel.csv"
    with caplog.at_level(logging.WARNING, logger="mobility.employment.labels"):
        check_overlap(labels, np.array(["7", "8", "u1"]), pd.DatetimeIndex(["2020-03-16"]))
    assert "panel.csv: 3 of its 4 labelled users are not among the run's 3 users" in caplog.text
    assert "['007', '008', '009']" in caplog.text and "not used" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="mobility.employment.labels"):
        check_overlap(labels, np.array(["007", "008", "u1", "009", "x"]), pd.DatetimeIndex(["2020-03-16"]))
    assert caplog.text == ""


def test_weeks_given_as_sundays_get_a_warning(tmp_path, caplog):
    # US weeks often start on Sunday: 2020-03-15 (a Sunday) stands for the pipeline's week of Monday 2020-03-09,
    # six days earlier than the Sunday-to-Saturday week it meant, without a word
    import logging

    path = tmp_path / "labels.csv"
    path.write_text("user_id,week,status\nu1,2020-03-15,employed\nu1,2020-03-22,unemployed\nu2,2020-03-15,employed\n")
    with caplog.at_level(logging.WARNING, logger="mobility.employment.labels"):
        labels = read_labels(path)
    assert labels["week"].dt.strftime("%Y-%m-%d").tolist() == ["2020-03-09", "2020-03-16", "2020-03-09"]
    assert "every week of labels.csv is a Sunday" in caplog.text and "2020-03-15 stands for the week of Monday " \
        "2020-03-09" in caplog.text
    caplog.clear()
    path.write_text("user_id,week,status\nu1,2020-03-16,employed\nu1,2020-03-29,unemployed\n")
    with caplog.at_level(logging.WARNING, logger="mobility.employment.labels"):
        read_labels(path)
    assert caplog.text == ""
