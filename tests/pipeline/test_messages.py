"""What a person reads from the CLI: --help, the log of a run, the error line, read_table for every output."""

import fcntl
import logging
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import textwrap

import pandas as pd
import pytest

from mobility.errors import MobilityError
from mobility.io.atomic import write_json, write_parquet
from mobility.pipeline import load_config
from mobility.pipeline.runner import Runner, Stage, read_table, summarise_records
from mobility.pipeline.stages import STAGE_NAMES, stages_for

PYTHON = sys.executable


def help_text(module: str) -> str:
    proc = subprocess.run([PYTHON, "-m", module, "--help"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_pipeline_help_lists_every_option_the_stages_and_examples():
    text = help_text("mobility.pipeline")
    assert "``" not in text
    synopsis = text.split("\n\n")[0]
    for option in ("--region", "--out", "--from", "--until", "--force", "--quiet", "--list-stages", "--engine"):
        assert option in synopsis, option
    from_help = re.search(r"\n  --from STAGE(.*?)\n  --until", text, re.S).group(1)
    assert all(name in from_help for name in STAGE_NAMES)
    assert "examples:" in text and "python -m mobility.pipeline --region synthetic --until" not in text
    assert "--until metrics" in text and "python -m mobility.report --region synthetic --month 2020-04" in text


def test_report_help_says_the_pipeline_runs_first():
    text = help_text("mobility.report")
    assert "``" not in text and "python -m mobility.pipeline --region" in text
    assert re.search(r"run the pipeline .*first", text.replace("\n", " "), re.I)


def test_stage_names_are_in_order_for_the_synthetic_region():
    names = [s.name for s in stages_for(load_config("synthetic"))]
    assert names == [n for n in STAGE_NAMES if n in names] and len(names) == len(STAGE_NAMES)


def test_unknown_region_names_each_folder_once(monkeypatch):
    from pathlib import Path

    monkeypatch.chdir(Path(__file__).resolve().parents[2])   # the repository: cwd and the package's tree agree
    with pytest.raises(MobilityError) as err:
        load_config("nowhere")
    message = str(err.value)
    folders = re.search(r"looked for pipelines/nowhere.toml in (.*?); known", message).group(1).split(", ")
    assert len(folders) == len(set(folders)) >= 1 and "synthetic" in message


def test_repeated_warnings_of_partitions_become_one_summed_line():
    records = [logging.LogRecord("mobility.census.features", logging.WARNING, "", 0,
                                 "%s: %d of %d rows have no %s and %d have a CBG absent from the census table",
                                 (what, n, 100, column, 0), None)
               for what, column in (("work_features", "work_cbg"), ("home_features (RAC)", "home_cbg"))
               for n in (10, 20, 30, 40)]
    line = summarise_records(records)
    assert line.count(";") == 1
    assert line.startswith("work_features: 100 of 400 rows have no work_cbg and 0 have")
    assert "home_features (RAC): 100 of 400 rows have no home_cbg" in line



def test_warnings_with_lists_or_dicts_among_their_arguments_are_summarised_too():
    # a warning with a list argument made the stage fail at its end (TypeError: unhashable type: 'list')
    records = [logging.LogRecord("mobility.x", logging.WARNING, "", 0, "%d users absent, e.g. %s (%s)",
                                 (n, ["a", "b"], {"k": 1}), None) for n in (2, 3)]
    assert summarise_records(records) == "5 users absent, e.g. ['a', 'b'] ({'k': 1}) (2 messages summed)"

def test_a_warning_that_names_its_stage_names_it_once(tmp_path, caplog):
    # "longitudinal: longitudinal: 7 detected job loser(s), fewer than min_users = 10: ..." in every small run
    path = tmp_path / "toy.toml"
    path.write_text("[region]\nname = \"toy\"\n")

    def study(ctx):
        write_json({"n": 1}, ctx.output("study") / "study.json")
        logging.getLogger("mobility.somewhere").warning("study: %d detected job loser(s)", 7)
        return {}

    with caplog.at_level(logging.WARNING, logger="mobility"):
        Runner(load_config(path), [Stage("study", (), ("study",), study)], tmp_path / "out", progress=False).run()
    lines = [r.getMessage() for r in caplog.records if "detected job loser" in r.getMessage()]
    assert lines == ["study: 7 detected job loser(s)"]


def _toy(tmp_path):
    path = tmp_path / "toy.toml"
    path.write_text("[region]\nname = \"toy\"\n")
    config = load_config(path)

    def results(ctx):
        write_json({"auc": 0.9}, ctx.output("evaluation") / "evaluation.json")
        write_parquet(pd.DataFrame({"k": [1, 2]}), ctx.output("study") / "event_study.parquet")
        (ctx.output("study") / "event_study.csv").write_text("k\n1\n2\n")
        write_json({"files": 2}, ctx.output("study") / "study.json")
        (ctx.output("study") / "figure.png").write_bytes(b"png")
        write_parquet(pd.DataFrame({"x": [1, 2, 3]}), ctx.output("table") / "part-00000.parquet")
        logging.getLogger("mobility.somewhere").warning("%d of %d rows odd", 2, 9)
        logging.getLogger("mobility.somewhere").warning("%d of %d rows odd", 1, 9)
        logging.getLogger("mobility.somewhere").info("per-partition detail")
        return {}

    return config, [Stage("results", (), ("evaluation", "study", "table"), results)]


def test_read_table_reads_every_kind_of_output_and_the_log_says_what_was_written(tmp_path, caplog):
    config, stages = _toy(tmp_path)
    out = tmp_path / "out"
    with caplog.at_level(logging.INFO, logger="mobility"):
        Runner(config, stages, out, progress=False).run()
    done = [r.getMessage() for r in caplog.records if "done in" in r.getMessage()][0]
    assert done.endswith(": evaluation 1 JSON file, study 1 CSV, 1 JSON, 1 PARQUET and 1 PNG files, table 3 rows")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == ["results: 3 of 18 rows odd (2 messages summed)"]
    assert "per-partition detail" not in caplog.text.split("DEBUG")[0]
    assert read_table(out, "evaluation") == {"auc": 0.9}
    study = read_table(out, "study")
    assert set(study) == {"event_study", "study"} and study["event_study"]["k"].tolist() == [1, 2]
    assert read_table(out, "study/event_study")["k"].tolist() == [1, 2]
    assert read_table(out, "table")["x"].tolist() == [1, 2, 3]
    with pytest.raises(MobilityError, match="no output 'nope'.*evaluation, study, table"):
        read_table(out, "nope")


def test_error_line_starts_clean_after_a_progress_bar(tmp_path):
    """A failure inside a stage's progress bar: the bar is cleared, the error starts its own line (on a tty)."""
    good = tmp_path / "a.csv"
    good.write_text("user_id,timestamp,lat,lon\n" + "u1,2020-03-02T08:00:00Z,39.95,-75.16\n" * 3)
    bad = tmp_path / "b.csv"
    # columns right (the loader checks those before any bar), a row with two fields too many: fails inside load
    bad.write_text("user_id,timestamp,lat,lon\nu1,2020-03-02T08:00:00Z,39.95,-75.16\n"
                   "u1,2020-03-02T09:00:00Z,39.95,-75.16,7,8\n")
    config = tmp_path / "two.toml"
    config.write_text(textwrap.dedent(f"""
        [region]
        name = "two"
        [inputs]
        pings = ["{good}", "{bad}"]
    """))
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))  # a terminal 120 columns wide
    proc = subprocess.Popen([PYTHON, "-m", "mobility.pipeline", "--region", str(config), "--out",
                             str(tmp_path / "out")], stdout=slave, stderr=slave, env={**os.environ, "COLUMNS": "100"})
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    assert proc.wait(timeout=120) == 2
    text = b"".join(chunks).decode(errors="replace")
    segments = re.split(r"[\r\n]+", text)
    assert any(s.startswith("load:") and "|" in s for s in segments), text[-600:]   # a bar was drawn
    error = [s for s in segments if "error:" in s]
    assert error and error[0].lstrip().startswith("error:"), text[-600:]           # and cleared before the error
    assert "b.csv" in error[0]
