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
