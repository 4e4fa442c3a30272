"""The stage runner: skipping, forcing, resuming, atomic table commits, the manifest."""

import json
import textwrap

import pandas as pd
import pytest

from mobility.errors import MobilityError
from mobility.io.atomic import write_parquet
from mobility.pipeline.config import load_config
from mobility.pipeline.runner import Runner, Stage, read_table


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "toy.toml"
    path.write_text(textwrap.dedent("""
        [region]
        name = "toy"
        timezone = "Europe/Rome"
        [run]
        n_partitions = 2
        [stops]
        factor = 3
    """))
    return load_config(path)


def make_stages(calls, fail_in=None):
    def first(ctx):
        calls.append("first")
        out = ctx.output("numbers")
        for k in range(2):
            write_parquet(pd.DataFrame({"x": [k, k + 10]}), out / f"part-{k:05d}.parquet")
        return {"note": "made"}

    def second(ctx):
        calls.append("second")
        out = ctx.output("scaled")
        for part in ctx.parts("numbers"):
            if fail_in == "second" and (out / "part-00000.parquet").exists():
                raise RuntimeError("killed")
            df = pd.read_parquet(part)
            write_parquet(df * ctx.params["factor"], out / part.name)
        return {}

    return [
        Stage("first", (), ("numbers",), first),
        Stage("second", ("first",), ("scaled",), second, lambda c: {"factor": c.stage("stops")["factor"]}),
    ]


def test_runs_then_skips_unchanged_stages(config, tmp_path):
    calls = []
    out = tmp_path / "out"
    manifest = Runner(config, make_stages(calls), out, progress=False).run()
    assert calls == ["first", "second"]
    assert sorted(read_table(out, "scaled")["x"]) == [0, 3, 30, 33]
    assert manifest["stages"]["second"]["rows"] == {"scaled": 4}
    assert manifest["stages"]["first"]["note"] == "made"
    assert json.loads((out / "run.json").read_text())["stages"]["second"]["params"] == {"factor": 3}
    calls.clear()
    manifest = Runner(config, make_stages(calls), out, progress=False).run()
    assert calls == []
    assert manifest["stages"]["second"]["status"] == "skipped"


def test_changed_parameter_reruns_only_that_stage(config, tmp_path):
    calls = []
    out = tmp_path / "out"
    Runner(config, make_stages(calls), out, progress=False).run()
    config.path.write_text(config.path.read_text().replace("factor = 3", "factor = 5"))
    calls.clear()
    Runner(load_config(config.path), make_stages(calls), out, progress=False).run()
    assert calls == ["second"]
    assert sorted(read_table(out, "scaled")["x"]) == [0, 5, 50, 55]


def test_from_and_force(config, tmp_path):
    calls = []
    out = tmp_path / "out"
    Runner(config, make_stages(calls), out, progress=False).run()
    calls.clear()
    Runner(config, make_stages(calls), out, progress=False).run(from_stage="second")
    assert calls == ["second"]
    calls.clear()
    Runner(config, make_stages(calls), out, progress=False).run(force=True)
    assert calls == ["first", "second"]
    with pytest.raises(MobilityError, match="no such stage"):
        Runner(config, make_stages(calls), out, progress=False).run(from_stage="nope")


def test_interrupted_stage_leaves_old_table_and_resumes(config, tmp_path):
    calls = []
    out = tmp_path / "out"
    Runner(config, make_stages(calls), out, progress=False).run()
    config.path.write_text(config.path.read_text().replace("factor = 3", "factor = 7"))
    with pytest.raises(RuntimeError, match="killed"):
        Runner(load_config(config.path), make_stages([], fail_in="second"), out, progress=False).run()
    # the committed table is still the old, complete one; no temporary file under a final name
    assert sorted(read_table(out, "scaled")["x"]) == [0, 3, 30, 33]
    assert not list((out / "scaled").glob(".tmp-*"))
    calls.clear()
    Runner(load_config(config.path), make_stages(calls), out, progress=False).run()
    assert calls == ["second"]
    assert sorted(read_table(out, "scaled")["x"]) == [0, 7, 70, 77]


def test_unwritable_output_is_a_clear_error(config, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(MobilityError, match="cannot create output directory"):
        Runner(config, make_stages([]), blocker / "out", progress=False).run()


def test_read_table_missing_names_the_fix(tmp_path):
    with pytest.raises(MobilityError, match="run the pipeline stage"):
        read_table(tmp_path, "stops")


def test_downstream_reruns_when_upstream_ran_again(config, tmp_path):
    calls = []
    out = tmp_path / "out"
    Runner(config, make_stages(calls), out, progress=False).run()
    calls.clear()
    Runner(config, make_stages(calls), out, progress=False).run(from_stage="first", until="first")
    assert calls == ["first"]
    calls.clear()
    Runner(config, make_stages(calls), out, progress=False).run()
    assert calls == ["second"]


def test_a_config_error_of_a_later_stage_stops_the_run_before_the_first_stage(config, tmp_path):
    # a typo in [employment] used to surface only when the employment stage started, after hours of earlier stages
    calls = []

    def bad_params(c):
        raise MobilityError(f"{c.path}: [stops] has unknown key(s) 'factr'")

    first, second = make_stages(calls)
    stages = [first, Stage("second", ("first",), ("scaled",), second.run, bad_params)]
    with pytest.raises(MobilityError, match="factr"):
        Runner(config, stages, tmp_path / "out", progress=False).run()
    assert calls == [] and not (tmp_path / "out").exists()
    # stages after --until are not run, so their parameters are not asked for
    Runner(config, stages, tmp_path / "out", progress=False).run(until="first")
    assert calls == ["first"]


def test_read_table_of_an_output_this_run_could_not_make_says_why(tmp_path):
    # "run the pipeline stage that writes it" sent users to rerun a stage their region does not run, or one that
    # had run and had nothing to write
    out = tmp_path / "out"
    (out / "employment_model").mkdir(parents=True)
    (out / "run.json").write_text(json.dumps({"skipped_stages": {
        "validation": "needs a reference series: [inputs] truth_area, laus or ui_claims"}}))
    with pytest.raises(MobilityError) as err:
        read_table(out, "validation")
    assert "this run left out validation (it needs a reference series: [inputs] truth_area, laus or ui_claims)" \
        in str(err.value)
    with pytest.raises(MobilityError) as err:
        read_table(out, "employment_model")
    assert "is empty in this run" in str(err.value) and "[employment] labels" in str(err.value)
    with pytest.raises(MobilityError, match="run the pipeline stage that writes it"):
        read_table(tmp_path, "stops")  # no run.json: as before


def test_from_a_stage_after_until_is_an_error(config, tmp_path):
    # it ran nothing and said nothing
    calls = []
    with pytest.raises(MobilityError, match="--from second comes after --until first"):
        Runner(config, make_stages(calls), tmp_path / "out", progress=False).run(from_stage="second", until="first")
    assert calls == []


def test_read_table_with_a_column_the_table_lacks_names_it_and_the_columns_there(tmp_path):
    # it raised pyarrow's ArrowInvalid ("No match for FieldRef.Name(radius_km)") with the whole schema
    out = tmp_path / "out"
    write_parquet(pd.DataFrame({"user_id": ["a"], "radius_of_gyration_km": [1.0]}),
                  out / "metrics_weekly" / "part-00000.parquet")
    with pytest.raises(MobilityError) as err:
        read_table(out, "metrics_weekly", columns=["user_id", "radius_km"])
    message = str(err.value)
    assert "metrics_weekly has no column(s) ['radius_km']" in message
    assert "did you mean 'radius_of_gyration_km'" in message and "['user_id', 'radius_of_gyration_km']" in message
    assert read_table(out, "metrics_weekly", columns=["radius_of_gyration_km"])["radius_of_gyration_km"].tolist() == [1.0]
