"""Region configs: lookup, paths, errors that name the fix."""

import textwrap

import pytest

from mobility.errors import MobilityError
from mobility.pipeline.config import find_config, load_config


def write(tmp_path, text, name="r.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_synthetic_config_ships_and_parses():
    config = load_config("synthetic")
    assert config.name == "synthetic"
    assert config.timezone == "America/New_York"
    assert config.region_dir is not None and config.region_dir.name == "region"
    assert str(config.input_path("cbg")).endswith("geography/cbg.geojson")


def test_relative_paths_and_globs(tmp_path):
    (tmp_path / "data").mkdir()
    for name in ("b.csv", "a.csv", "c.txt"):
        (tmp_path / "data" / name).write_text("x")
    config = load_config(write(tmp_path, """
        [region]
        name = "mine"
        [inputs]
        pings = ["data/*.csv", "data/a.csv"]
    """))
    assert [p.name for p in config.ping_files()] == ["a.csv", "b.csv"]
    assert config.n_partitions == 8


@pytest.mark.parametrize("text, message", [
    ("[region]\ntimezone = 'Mars/Olympus'\n", "not an IANA zone"),
    ("[regoin]\nname = 'x'\n", "unknown section"),
    ("[region\n", "not valid TOML"),
    ("[run]\nn_partitions = 0\n", "n_partitions"),
    ("[inputs]\npings = ['nothing/*.csv']\n", "matches no file"),
])
def test_bad_configs_raise_clear_errors(tmp_path, text, message):
    with pytest.raises(MobilityError, match=message):
        load_config(write(tmp_path, text)).ping_files()


def test_unknown_region_lists_known_ones(tmp_path):
    with pytest.raises(MobilityError, match="known regions"):
        find_config("atlantis", search_from=tmp_path)


def test_home_work_section_binds_the_params_of_its_method(tmp_path):
    from mobility.pipeline.stages import _home_work_params

    def params(section):
        return _home_work_params(load_config(write(tmp_path, f"[region]\nname = 'x'\n[home_work]\n{section}\n")))

    assert params("")["method"] == "schedule" and params("")["window_work_days"] == 28
    howde = params("method = 'howde'")
    assert (howde["window_work_days"], howde["C_days_W"], howde["f_hours_H"]) == (42, 0.5, 0.7)
    assert params("method = 'howde'\nwindow_work_days = 14")["window_work_days"] == 14
    assert params("work_weekdays = [0, 1]")["work_weekdays"] == (0, 1)
    with pytest.raises(MobilityError, match="work_min_days_per_week"):
        params("work_min_days_per_week = 9")
    with pytest.raises(MobilityError, match="unknown key"):
        params("C_hours_H = 0.3")


@pytest.mark.parametrize("text, names", [
    # a typo in [region] ran the whole study in UTC without a word
    ("[region]\ntimezon = 'America/Chicago'\n", ["[region]", "'timezon'", "did you mean 'timezone'", "allowed"]),
    # a typo in [run] left 8 partitions
    ("[run]\nn_partition = 4\n", ["[run]", "'n_partition'", "did you mean 'n_partitions'"]),
    # a typo in [inputs] silently dropped the census, employment and report stages
    ("[inputs]\npings = 'p.csv'\ncgb = 'cbg.geojson'\n", ["[inputs]", "'cgb'", "did you mean 'cbg'"]),
    # a typo in [validate] kept the default threshold
    ("[validate]\nmax_acuracy_m = 50\n", ["[validate]", "'max_acuracy_m'", "did you mean 'max_accuracy_m'"]),
    # a typo in [report] failed only at the report stage, after every other stage
    ("[report]\nk_min_user = 5\n", ["[report]", "'k_min_user'", "did you mean 'k_min_users'"]),
    # [census] takes no parameter
    ("[census]\nyear = 2019\n", ["[census]", "'year'", "takes no keys"]),
])
def test_unknown_keys_of_the_config_tables_are_errors_naming_the_key(tmp_path, text, names):
    with pytest.raises(MobilityError) as err:
        load_config(write(tmp_path, text))
    message = str(err.value)
    assert str(tmp_path / "r.toml") in message
    for name in names:
        assert name in message


@pytest.mark.parametrize("text, names", [
    ("[region]\ntimezone = 5\n", ["[region] timezone = 5", "text", "America/New_York"]),
    ("[region]\nname = 3\n", ["[region] name = 3", "text"]),
    ("[run]\nn_partitions = 'four'\n", ["[run] n_partitions = 'four'", "whole number"]),
    ("[run]\nn_partitions = 2.5\n", ["[run] n_partitions = 2.5", "whole number"]),
    ("[run]\nn_partitions = true\n", ["[run] n_partitions = True", "whole number"]),
])
def test_wrong_types_in_the_config_are_errors_not_tracebacks(tmp_path, text, names):
    with pytest.raises(MobilityError) as err:
        load_config(write(tmp_path, text))
    for name in names:
        assert name in str(err.value)


def test_every_known_key_of_the_config_tables_is_accepted(tmp_path):
    config = load_config(write(tmp_path, """
        [region]
        name = "x"
        timezone = "America/Chicago"
        start = 2020-03-02
        end = "2020-03-29"
        [run]
        n_partitions = 3
        [inputs]
        pings = "p.csv"
        format = "csv"
        columns = { user_id = "uid" }
        encoding = "latin-1"
        cbg = "a"
        lodes_wac = "a"
        lodes_rac = "a"
        telework = "a"
        acs_sexage = "a"
        truth_area = "a.parquet"
        truth_status = "a.parquet"
        laus = ["a", "b"]
        ui_claims = "a"
        [validate]
        max_accuracy_m = 100
        max_bad_share = 0.1
        [census]
    """))
    assert (config.timezone, config.n_partitions, config.inputs["cbg"], config.inputs["encoding"]) == (
        "America/Chicago", 3, "a", "latin-1")


@pytest.mark.parametrize("line, names", [
    # the mapping the wrong way round: the load error then suggested keeping it
    ('columns = { device = "user_id", local_time = "timestamp" }',
     ["[inputs] columns", "'device'", "wrong way round", 'user_id = "device"', 'timestamp = "local_time"']),
    ('columns = { uid = "device" }', ["[inputs] columns", "'uid'", "user_id, timestamp, lat, lon"]),
    ('columns = "device,local_time"', ["[inputs] columns", "table", 'user_id = "device"']),
    ('columns = { user_id = 3 }', ["[inputs] columns", "user_id = 3", "column name"]),
    ('format = "CSV"', ["[inputs] format = 'CSV'", "'csv'", "parquet"]),
    ("encoding = 'latin-9x'", ["[inputs] encoding = 'latin-9x'", "not a text encoding", '"latin-1"']),
    ("encoding = 1", ["[inputs] encoding = 1", "not a text encoding", '"utf-8"']),
    ("encoding = 'base64'", ["[inputs] encoding = 'base64'", "not a text encoding"]),
    ("pings = 5", ["[inputs] pings = 5", "paths"]),
    ("pings = ['a.csv', 5]", ["[inputs] pings", "paths"]),
    ("cbg = ['a.geojson']", ["[inputs] cbg = ['a.geojson']", "one path"]),
    ("laus = 7", ["[inputs] laus = 7", "paths"]),
    # a CSV truth broke the employment stage at its end with pyarrow's "Parquet magic bytes not found"
    ("truth_status = 'survey.csv'", ["[inputs] truth_status = 'survey.csv'", "Parquet", "[employment] labels"]),
    ("truth_area = 'rates.csv'", ["[inputs] truth_area = 'rates.csv'", "Parquet"]),
])
def test_inputs_of_the_wrong_shape_are_errors_naming_the_key_and_the_fix(tmp_path, line, names):
    text = "[inputs]\n" + ("" if line.startswith("pings") else "pings = 'p.csv'\n") + line + "\n"
    with pytest.raises(MobilityError) as err:
        load_config(write(tmp_path, text))
    for name in names:
        assert name in str(err.value)


def test_a_folder_in_pings_gives_its_ping_files_with_every_subfolder(tmp_path):
    # README and notebook 04 say pings takes folders; the load stage got the folder itself and stopped on
    # "cannot tell the format from the name"
    for name in ("a.csv", "sub/b.parquet", "notes.md", ".hidden/c.csv"):
        (tmp_path / "data" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "data" / name).write_text("x")
    config = load_config(write(tmp_path, "[inputs]\npings = \"data\"\n"))
    assert [p.relative_to(tmp_path / "data").as_posix() for p in config.ping_files()] == ["a.csv", "sub/b.parquet"]
    assert config.ping_folders() == [tmp_path / "data"]


def test_unquoted_toml_dates_are_read_as_iso_text(tmp_path):
    # [employment] baseline_start = 2020-03-02 (a TOML date, no quotes) reached the employment stage as a
    # datetime.date and broke it after every stage before (pyarrow could not write it; JSON neither)
    from mobility.pipeline.stages import _employment_params, study_period

    config = load_config(write(tmp_path, """
        [region]
        timezone = "America/New_York"
        start = 2020-03-02
        end = 2020-03-29T00:00:00
        [employment]
        baseline_start = 2020-03-02
        baseline_end = 2020-03-15
    """))
    assert (config.start, config.end) == ("2020-03-02", "2020-03-29T00:00:00")
    params = _employment_params(config)
    assert (params["baseline_start"], params["baseline_end"]) == ("2020-03-02", "2020-03-15")
    assert study_period(config) == ["2020-03-02T05:00:00+00:00", "2020-03-30T04:00:00+00:00"]
    import json
    json.dumps(params)  # the manifest and the stage's state hold them
