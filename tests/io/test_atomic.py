"""Atomic writers: the file appears whole or not at all, in the documented format."""

from __future__ import annotations

import pandas as pd
import pytest

from mobility.errors import MobilityError
from mobility.io.atomic import write_csv


def test_write_csv_rounds_floats_only_when_asked(tmp_path):
    df = pd.DataFrame({"a": ["x"], "n": [3], "v": [39.95261]})
    assert write_csv(df, tmp_path / "t.csv", decimals=3).read_text() == "a,n,v\nx,3,39.953\n"
    assert write_csv(df, tmp_path / "u.csv").read_text() == "a,n,v\nx,3,39.95261\n"
    assert df["v"].tolist() == [39.95261]  # the caller's frame is untouched


def test_write_csv_leaves_no_file_when_writing_fails(tmp_path):
    class Broken(pd.DataFrame):
        def to_csv(self, *args, **kwargs):
            raise OSError(28, "No space left on device")

    with pytest.raises(MobilityError, match="failed writing .*t.csv.*earlier outputs are intact"):
        write_csv(Broken({"a": [1]}), tmp_path / "t.csv")
    assert list(tmp_path.iterdir()) == []
