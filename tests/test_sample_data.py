"""The sample files shipped with the package (``mobility.sample_files``) are what ``scripts/make_sample_data.py``
writes, and their truth is what notebook 04 reads its estimates against."""

import pandas as pd
import pytest

from mobility import load_truth, sample_files
from mobility.synthetic import generate_region


@pytest.fixture
def script(load_script):
    """scripts/make_sample_data.py, imported anew for each test (one patches its OUT)."""
    return load_script("scripts/make_sample_data.py")


def test_the_script_writes_the_shipped_sample_files(tmp_path, monkeypatch, script):
    monkeypatch.setattr(script, "OUT", tmp_path)
    script.main()
    for role, path in sample_files().items():
        assert (tmp_path / path.name).read_bytes() == path.read_bytes(), f"{role}: {path.name} is not the script's"


def test_the_samples_truth_no_job_loss_and_nine_of_fourteen_workers_go_remote(tmp_path, script):
    truth = load_truth(generate_region(tmp_path / "region", script.sample_params(), seed=script.SEED))
    people, weekly = truth["people"], truth["weekly_status"]
    assert len(people) == 15 and int(people["has_job"].sum()) == 14
    assert people["job_loss_date"].isna().all() and not (weekly["status"] == "unemployed").any()
    remote = weekly[weekly["status"] == "remote"]
    assert remote["user_id"].nunique() == 9
    assert remote.groupby("user_id")["week"].min().eq(pd.Timestamp("2020-03-16")).all()  # the Monday of the wave
