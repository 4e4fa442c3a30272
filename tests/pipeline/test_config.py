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
