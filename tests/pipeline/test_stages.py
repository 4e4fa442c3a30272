"""The stages' own checks of a region config and of the data they get (one test per problem a user can cause)."""

import json
import textwrap

import pytest

from mobility.errors import MobilityError
from mobility.pipeline.config import load_config
from mobility.pipeline.stages import _report_params


def config_with(tmp_path, text):
    path = tmp_path / "r.toml"
    path.write_text(textwrap.dedent(text))
    return load_config(path)


def test_report_months_outside_the_study_period_are_an_error_naming_them_and_the_period(tmp_path):
    # they used to fail only at the report stage, after every other stage had run
    config = config_with(tmp_path, """
        [region]
        start = "2020-03-02"
        end = "2020-03-29"
        [report]
        months = ["2020-05", "2020-03", "2020-02"]
    """)
    with pytest.raises(MobilityError) as err:
        _report_params(config)
    message = str(err.value)
    assert "[report] months" in message
    named = message.split("]: ")[1].split(" outside")[0]
    assert named == "'2020-05', '2020-02'"
    assert "2020-03-02" in message and "2020-03-29" in message


@pytest.mark.parametrize("months", [["2020-3x"], "2020-03", [202003], []])
def test_report_months_that_are_not_months_are_an_error(tmp_path, months):
    text = repr(months).replace("'", '"')
    config = config_with(tmp_path, f'[region]\nend = "2020-03-29"\n[report]\nmonths = {text}\n')
    with pytest.raises(MobilityError, match=r"\[report\] months"):
        _report_params(config)


def test_report_months_inside_the_period_and_the_default_month(tmp_path):
    config = config_with(tmp_path, '[region]\nstart = "2020-01-15"\nend = "2020-03-02"\n'
                                   '[report]\nmonths = ["2020-01", "2020-03"]\n')
    assert _report_params(config)["months"] == ["2020-01", "2020-03"]
    config = config_with(tmp_path, '[region]\nstart = "2020-01-15"\nend = "2020-03-02"\n')
    assert _report_params(config)["months"] == ["2020-03"]
    config = config_with(tmp_path, '[region]\nend = "2020-03-02"\n[report]\nmonths = ["2019-01"]\n')
    assert _report_params(config)["months"] == ["2019-01"]  # no start: the period is open before its end


def pings_region(tmp_path, rows, *, period=("2020-03-02", "2020-03-08"), max_bad_share=0.05):
    (tmp_path / "p.csv").write_text("user_id,timestamp,lat,lon\n" + "".join(f"{r}\n" for r in rows))
    path = tmp_path / "r.toml"
    path.write_text(textwrap.dedent(f"""
        [region]
        timezone = "America/New_York"
        start = "{period[0]}"
        end = "{period[1]}"
        [inputs]
        pings = "p.csv"
        [validate]
        max_bad_share = {max_bad_share}
    """))
    return path


ROWS = [f"u{u},2020-03-0{d} 0{h}:00,39.95,-75.16" for u in range(3) for d in (3, 4) for h in range(5)]


def test_a_study_period_without_pings_stops_at_load_naming_the_period_and_the_counts(tmp_path):
    # the run used to go on with no pings and fail at the employment stage on an empty "person table"
    from mobility.pipeline import run

    path = pings_region(tmp_path, ROWS, period=("2021-03-02", "2021-03-08"))
    with pytest.raises(MobilityError) as err:
        run(str(path), str(tmp_path / "out"), until="stops", progress=False)
    message = str(err.value)
    assert "no valid ping inside the study period" in message
    assert "30 rows" in message and "30 valid pings outside" in message
    assert "start = 2021-03-02" in message and "end = 2021-03-08" in message and "America/New_York" in message
    # where the pings are: naive local times in America/New_York, first 2020-03-03 00:00, last 2020-03-04 04:00
    assert "the valid pings run from 2020-03-03 00:00 to 2020-03-04 04:00 (America/New_York)" in message
    assert not (tmp_path / "out" / "stops").exists()


def test_all_rows_bad_under_a_lenient_bad_share_stops_at_load_pointing_to_the_quarantine(tmp_path):
    from mobility.pipeline import read_table, run

    path = pings_region(tmp_path, [r.replace("39.95", "99.5") for r in ROWS], max_bad_share=1.0)
    with pytest.raises(MobilityError) as err:
        run(str(path), str(tmp_path / "out"), until="stops", progress=False)
    message = str(err.value)
    assert "no valid ping inside the study period" in message and "30 quarantined" in message
    assert "bad_coordinate" in message and "quarantine" in message
    assert "lat '99.5' lon '-75.16' (p.csv, row 0)" in message and "|lat| <= 90" in message
    quarantine = read_table(tmp_path / "out", "quarantine")  # published for the user to look at
    assert len(quarantine) == 30 and set(quarantine["reason"]) == {"bad_coordinate"}


def test_ping_files_with_a_header_only_stop_at_load(tmp_path):
    from mobility.pipeline import run

    path = pings_region(tmp_path, [])
    with pytest.raises(MobilityError, match="hold no data rows"):
        run(str(path), str(tmp_path / "out"), until="stops", progress=False)


def test_a_period_with_some_pings_runs(tmp_path):
    from mobility.pipeline import read_table, run

    run(str(pings_region(tmp_path, ROWS)), str(tmp_path / "out"), until="validate", progress=False)
    assert len(read_table(tmp_path / "out", "pings")) == 30


def test_epoch_millisecond_timestamps_get_a_hint_in_the_bad_share_error(tmp_path):
    # every row was quarantined as bad_timestamp and the message did not say why
    from mobility.pipeline import run

    first_ms = 1583211600000  # 2020-03-03 05:00 UTC
    rows = [f"u{u},{first_ms + 60_000 * i},39.95,-75.16" for u in range(2) for i in range(10)]
    with pytest.raises(MobilityError) as err:
        run(str(pings_region(tmp_path, rows)), str(tmp_path / "out"), until="load", progress=False)
    message = str(err.value)
    assert "bad_timestamp=20" in message
    assert "'1583211600000'" in message and "p.csv, row 0" in message
    assert "epoch milliseconds" in message and "divide" in message


def test_unparseable_timestamps_are_shown_in_the_bad_share_error_without_the_epoch_hint(tmp_path):
    from mobility.pipeline import run

    rows = [f"u1,03/0{d}/2020 08:00,39.95,-75.16" for d in range(3, 9)]
    with pytest.raises(MobilityError) as err:
        run(str(pings_region(tmp_path, rows)), str(tmp_path / "out"), until="load", progress=False)
    message = str(err.value)
    assert "'03/03/2020 08:00' (p.csv, row 0)" in message and "ISO 8601" in message
    assert "milliseconds" not in message


@pytest.mark.parametrize("key, value, words", [
    ("max_bad_share", '"5%"', "a share between 0 and 1"),
    ("max_bad_share", "5", "a share between 0 and 1"),
    ("max_accuracy_m", '"two hundred"', "a number of metres"),
    ("max_accuracy_m", "-1", "a number of metres"),
])
def test_validate_thresholds_of_the_wrong_kind_are_errors_naming_the_key(tmp_path, key, value, words):
    from mobility.pipeline.stages import _load_params

    path = pings_region(tmp_path, ROWS)
    path.write_text(path.read_text().replace("max_bad_share = 0.05", f"{key} = {value}"))
    with pytest.raises(MobilityError) as err:
        _load_params(load_config(path))
    assert f"[validate] {key} = " in str(err.value) and words in str(err.value)


def _laus_sheet(path, fips, name, rate_pct):
    import pandas as pd

    unemployed = round(600000 * rate_pct / 100)
    pd.DataFrame([["LAUS Code", "State FIPS Code", "County FIPS Code", "County Name/State Abbreviation",
                   "Period", "Force", "Employed", "Unemployed", "(%)"],
                  [f"CN{fips}00000000", fips[:2], fips[2:], name, "Apr-20", 600000, 600000 - unemployed,
                   unemployed, rate_pct]]).to_excel(path, header=False, index=False)


def test_laus_given_as_a_list_of_files_is_read_by_the_validation_stage(tmp_path):
    # README and the report take [inputs] laus as one path or a list; the validation stage's fingerprint and
    # reader took one path only: a list (county and state files) was a TypeError before any stage ran
    import pandas as pd

    from mobility.pipeline.runner import StageContext
    from mobility.pipeline.stages import _validation_inputs, run_validation

    _laus_sheet(tmp_path / "allegheny.xlsx", "42003", "Allegheny County, PA", 10.0)
    _laus_sheet(tmp_path / "philadelphia.xlsx", "42101", "Philadelphia County, PA", 20.0)
    config = config_with(tmp_path, '[inputs]\npings = "p.csv"\nlaus = ["allegheny.xlsx", "philadelphia.xlsx"]\n')
    assert _validation_inputs(config) == [tmp_path / "allegheny.xlsx", tmp_path / "philadelphia.xlsx"]
    out = tmp_path / "out"
    (out / "area_unemployment").mkdir(parents=True)
    pd.DataFrame({"method": "signal", "route": "individual", "estimator": "expected", "level": "county",
                  "area": ["42003", "42101"], "period": "month", "period_start": pd.Timestamp("2020-04-01"),
                  "rate": [0.12, 0.18], "suppressed": False}).to_parquet(out / "area_unemployment" / "part-00000.parquet")
    summary = run_validation(StageContext(config, {}, out, out / ".staging" / "validation"))
    laus = summary["validation"]["individual"]["laus_county"]["signal"]
    assert laus["n"] == 2 and abs(laus["mae"] - 0.02) < 1e-9  # |0.12 - 0.10| and |0.18 - 0.20|


@pytest.mark.parametrize("key, section", [("cbg", "inputs"), ("telework", "inputs"), ("labels", "employment")])
def test_a_missing_input_file_stops_the_run_before_the_first_stage_naming_its_key(tmp_path, key, section):
    # a wrong [inputs] cbg path failed at the home_work stage, a telework or labels path at employment
    import mobility
    from mobility.pipeline import run

    files = mobility.sample_files()
    path = pings_region(tmp_path, ROWS)
    text = path.read_text().replace("[validate]", "\n".join(
        [f'{k} = "{files[k]}"' for k in ("cbg", "lodes_wac", "telework") if k != key]
        + ([f'{key} = "nowhere/{key}.csv"'] if section == "inputs" else []) + ["[validate]"]))
    if section == "employment":
        text += f'\n[employment]\n{key} = "nowhere/{key}.csv"\n'
    path.write_text(text)
    with pytest.raises(MobilityError) as err:
        run(str(path), str(tmp_path / "out"), progress=False)
    message = str(err.value)
    assert f"[{section}] {key}" in message and str(tmp_path / "nowhere" / f"{key}.csv") in message
    assert f"relative to {tmp_path}" in message
    assert not (tmp_path / "out" / "ping_shards").exists()


def test_a_region_without_a_timezone_runs_in_utc_and_says_so(tmp_path, caplog):
    # night and working hours were read in UTC without a word: for Philadelphia, "night" began at 7 pm
    import logging

    from mobility.pipeline import run

    path = pings_region(tmp_path, ROWS)
    path.write_text(path.read_text().replace('timezone = "America/New_York"\n', ""))
    with caplog.at_level(logging.WARNING, logger="mobility.pipeline"):
        run(str(path), str(tmp_path / "out"), until="load", progress=False)
    assert "[region] has no timezone" in caplog.text and "UTC" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="mobility.pipeline"):
        run(str(pings_region(tmp_path, ROWS)), str(tmp_path / "out2"), until="load", progress=False)
    assert "timezone" not in caplog.text


@pytest.mark.parametrize("k", [0, 1])
def test_the_pipeline_publishes_no_area_cell_of_one_user(tmp_path, k):
    # EmploymentParams takes min_cell_users = 1 (tests look at every cell); the pipeline's area_unemployment is
    # published, and a cell of one user would show that person's employment status by county and week
    from mobility.pipeline.stages import _employment_params

    config = config_with(tmp_path, f"[employment]\nmin_cell_users = {k}\n")
    with pytest.raises(MobilityError) as err:
        _employment_params(config)
    assert f"[employment] min_cell_users = {k}" in str(err.value) and "2 or more" in str(err.value)
    assert _employment_params(config_with(tmp_path, "[employment]\nmin_cell_users = 2\n"))["min_cell_users"] == 2


@pytest.mark.parametrize("section, line, words", [
    ("stops", 'radius_m = "200"', "radius_m='200' is not a number"),
    ("stops", 'method = "slidin"', "method='slidin' is unknown"),
    ("locations", "min_samples = 0", "min_samples=0 must be an integer >= 1"),
    ("metrics", 'weights = "dwel"', "weights='dwel' is not one of"),
    ("home_work", 'window_home_days = "28"', "window_home_days='28'"),
    ("employment", "zero_attendance_max = 5", "zero_attendance_max"),
    ("employment.classifier", "n_folds = 1", "n_folds"),
    ("longitudinal", "window = [12, -4]", "reference_period=-1"),
    # a report by an unknown method or route came out empty without an error
    ("report", 'method = "signl"', "method = 'signl'"),
    ("report", 'route = "sectors"', "route = 'sectors'"),
    # these failed at the report or longitudinal stage, after every stage before it
    ("report", 'dimensions = ["sexx"]', "unknown dimension 'sexx'"),
    ("report", "trend_months = 0", "trend_months = 0"),
    ("longitudinal", 'metrics = ["radius_of_gyration"]', "'radius_of_gyration'"),
])
def test_a_bad_stage_parameter_is_found_before_any_stage_runs_naming_the_config_and_table(tmp_path, section, line,
                                                                                         words):
    # such values failed only when their stage ran, after the stages before it, in a message that named neither
    # the region config nor the table ("radius_m='200' is not a number": of [stops] or of [locations]?)
    from mobility.pipeline import stages

    table = section.split(".")[0]
    config = config_with(tmp_path, f'[region]\nend = "2020-03-29"\n[{section}]\n{line}\n')
    with pytest.raises(MobilityError) as err:
        getattr(stages, f"_{table}_params")(config)
    message = str(err.value)
    assert message.startswith(f"{tmp_path / 'r.toml'}: [{table}") and words in message


@pytest.mark.parametrize("text, counts, shown, words", [
    ("user_id;timestamp;lat;lon\n" + "".join(f"u1;2020-03-03 0{h}:00;39,95;-75,16\n" for h in range(6)),
     "bad_coordinate=6", "lat '39,95' lon '-75,16' (p.csv, row 0)", "decimal commas"),
    # an export that writes 0, 0 where the phone had no fix: such rows were kept as pings in the Atlantic
    ("user_id,timestamp,lat,lon\n" + "".join(
        f"u1,2020-03-03 0{h}:00,{'0.0,0.0' if h < 4 else '39.95,-75.16'}\n" for h in range(6)),
     "null_island=4", "lat '0.0' lon '0.0' (p.csv, row 0)", "where the phone had no fix"),
], ids=["decimal_comma", "null_island"])
def test_bad_coordinates_get_a_hint_in_the_bad_share_error(tmp_path, text, counts, shown, words):
    from mobility.pipeline import run

    path = pings_region(tmp_path, [])
    (tmp_path / "p.csv").write_text(text)
    with pytest.raises(MobilityError) as err:
        run(str(path), str(tmp_path / "out"), until="load", progress=False)
    message = str(err.value)
    assert counts in message and shown in message and words in message


@pytest.mark.parametrize("unit_rows_min", [1, 1_000_000], ids=["a_task_per_file", "one_task"])
def test_a_mapped_accuracy_column_that_one_input_file_lacks(tmp_path, monkeypatch, unit_rows_min):
    # a user's export mixing sources: the run stopped at load on the file without the column, asking to map a
    # column that file does not have; now that file's pings come without an accuracy, and run.json names it
    from mobility.pipeline import loading, read_table, run

    monkeypatch.setattr(loading, "UNIT_ROWS_MIN", unit_rows_min)  # 1: each file its own load task
    path = pings_region(tmp_path, [], max_bad_share=0.2)
    (tmp_path / "a.csv").write_text("uid,timestamp,lat,lon,acc\n" + "".join(
        f"u1,2020-03-03 0{h}:00,39.95,-75.16,{250 if h == 0 else 20}\n" for h in range(5)))
    (tmp_path / "b.csv").write_text("uid,timestamp,lat,lon\n" + "".join(
        f"u2,2020-03-03 0{h}:00,39.96,-75.17\n" for h in range(5)))
    path.write_text(path.read_text().replace('pings = "p.csv"', 'pings = ["a.csv", "b.csv"]\n'
                                             'columns = { user_id = "uid", accuracy_m = "acc" }'))
    run(str(path), str(tmp_path / "out"), until="validate", progress=False)
    pings = read_table(tmp_path / "out", "pings")
    assert pings.groupby("user_id")["accuracy_m"].count().to_dict() == {"u1": 4, "u2": 0}
    assert pings.groupby("user_id").size().to_dict() == {"u1": 4, "u2": 5}  # a's 250 m ping screened out
    load = json.loads((tmp_path / "out" / "run.json").read_text())["stages"]["load"]
    assert load["files_lacking_mapped_columns"] == {"accuracy_m": [str(tmp_path / "b.csv")]}


def test_a_column_mapped_to_an_empty_column_is_named_in_the_bad_share_error(tmp_path):
    from mobility.pipeline import run

    path = pings_region(tmp_path, [])
    (tmp_path / "p.csv").write_text("user_id,timestamp,lat,lon,latitude\n" + "".join(
        f"u1,2020-03-03 0{h}:00,39.95,-75.16,\n" for h in range(6)))
    path.write_text(path.read_text().replace('pings = "p.csv"', 'pings = "p.csv"\ncolumns = { lat = "latitude" }'))
    with pytest.raises(MobilityError) as err:
        run(str(path), str(tmp_path / "out"), until="load", progress=False)
    message = str(err.value)
    assert "missing_value=6" in message and "have no lat: check that [inputs] columns maps" in message


def test_a_report_k_below_two_is_found_before_any_stage_runs(tmp_path):
    config = config_with(tmp_path, '[region]\nend = "2020-03-29"\n[report]\nk_min_users = 1\n')
    with pytest.raises(MobilityError) as err:
        _report_params(config)
    assert str(err.value).startswith(f"{tmp_path / 'r.toml'}: [report]") and "k_min_users" in str(err.value)


def test_an_output_folder_that_holds_the_inputs_is_refused_and_the_inputs_stay(tmp_path):
    # --out set to the data folder, whose pings/ held the export: the validate stage replaced pings/ by its table
    # and the user's file was deleted
    from mobility.pipeline import run

    (tmp_path / "pings").mkdir()
    export = tmp_path / "pings" / "export.csv"
    export.write_text("user_id,timestamp,lat,lon\n" + "".join(f"{r}\n" for r in ROWS))
    path = pings_region(tmp_path, ROWS)
    path.write_text(path.read_text().replace('pings = "p.csv"', 'pings = "pings/*.csv"'))
    with pytest.raises(MobilityError) as err:
        run(str(path), str(tmp_path), progress=False)
    message = str(err.value)
    assert f"holds the input {export}" in message and "pings/" in message and "another --out" in message
    assert export.read_text().startswith("user_id,timestamp") and not (tmp_path / "ping_shards").exists()
    with pytest.raises(MobilityError, match="lies inside .*, which .inputs. pings reads with every subfolder"):
        path.write_text(path.read_text().replace('pings = "pings/*.csv"', 'pings = "pings"'))
        run(str(path), str(tmp_path / "pings" / "out"), progress=False)
    run(str(path), str(tmp_path / "out"), until="validate", progress=False)  # elsewhere it runs
    assert export.exists() and not (tmp_path / "pings" / "out").exists()


def test_the_default_longitudinal_metrics_and_report_options_pass_the_checks(tmp_path):
    from mobility.pipeline.stages import _longitudinal_params

    config = config_with(tmp_path, '[region]\nend = "2020-03-29"\n[report]\nmethod = "signal"\nroute = "sector"\n'
                                   'dimensions = ["sex", "sector"]\ntrend_months = 3\n')
    assert _report_params(config)["method"] == "signal" and _longitudinal_params(config)["metrics"]
    config = config_with(tmp_path, '[longitudinal]\nmetrics = ["uncorrelated_entropy_norm", "capacity"]\n')
    assert list(_longitudinal_params(config)["metrics"]) == ["uncorrelated_entropy_norm", "capacity"]


def test_latin1_csv_pings_are_read_with_inputs_encoding_and_the_error_without_it_names_the_key(tmp_path):
    # the error used to suggest read_pings(encoding=...), which the pipeline's config had no way to pass
    from mobility.pipeline import read_table, run

    rows = [r.replace("u0,", "jos\u00e9,") for r in ROWS]
    path = pings_region(tmp_path, rows)
    (tmp_path / "p.csv").write_bytes((tmp_path / "p.csv").read_text().encode("latin-1"))
    with pytest.raises(MobilityError) as err:
        run(str(path), str(tmp_path / "out"), until="validate", progress=False)
    assert "p.csv: not UTF-8 text" in str(err.value) and '[inputs] encoding = "latin-1"' in str(err.value)
    path.write_text(path.read_text().replace('pings = "p.csv"', 'pings = "p.csv"\nencoding = "latin-1"'))
    run(str(path), str(tmp_path / "out2"), until="validate", progress=False)
    pings = read_table(tmp_path / "out2", "pings")
    assert sorted(pings["user_id"].astype(str).value_counts().items()) == [("jos\u00e9", 10), ("u1", 10), ("u2", 10)]


def test_a_misspelt_label_status_stops_the_run_before_the_first_stage(tmp_path):
    # a labelled panel's bad status failed at the employment stage, after every per-user stage had run
    import mobility
    from mobility.pipeline import run

    files = mobility.sample_files()
    labels = tmp_path / "labels.csv"
    labels.write_text("user_id,week,status\nu1,2020-03-16,employed\nu2,2020-03-16, Remote\nu3,2020-03-23,laid off\n")
    path = pings_region(tmp_path, ROWS)
    path.write_text(path.read_text().replace("[validate]", "\n".join(
        [f'{k} = "{files[k]}"' for k in ("cbg", "lodes_wac", "telework")] + ["[validate]"]))
        + '\n[employment]\nlabels = "labels.csv"\n')
    with pytest.raises(MobilityError, match=r"labels\.csv: line 4, column 'status': 'laid off' is not a status"):
        run(str(path), str(tmp_path / "out"), progress=False)
    assert not (tmp_path / "out" / "ping_shards").exists()


def test_the_generate_stage_runs_again_when_what_makes_the_region_changes(tmp_path, monkeypatch):
    """[region] end (a generator parameter the config sets outside [synthetic]) and the generator's code are
    part of the generate stage's fingerprint: a change to either makes the region again, not a skip that leaves
    the old region (the old period, the old code's pings) under the new config."""
    from mobility.pipeline import run
    from mobility.synthetic import region as region_mod
    from mobility.synthetic import write_region_config

    def generate(end):
        config = write_region_config(tmp_path / "t.toml", name="t", start="2020-03-02", end=end, seed=1, n_users=5)
        status = run(str(config), str(tmp_path / "out"), until="generate", progress=False)["stages"]["generate"]
        return status["status"], json.loads((tmp_path / "region" / "region.json").read_text())

    assert generate("2020-03-08")[0] == "ran"
    assert generate("2020-03-08")[0] == "skipped"
    status, manifest = generate("2020-03-15")
    assert (status, manifest["end"]) == ("ran", "2020-03-15")
    code = dict(region_mod.generator_sources())
    code["mobility.synthetic.daily"] += "changed"
    monkeypatch.setattr(region_mod, "generator_sources", lambda: code)
    status, after = generate("2020-03-15")
    assert status == "ran" and after["generator_fingerprint"] != manifest["generator_fingerprint"]
