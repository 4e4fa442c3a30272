import math

import numpy as np
import pandas as pd

from mobility.schema import QUARANTINE_REASONS
from mobility.synthetic import load_truth
from mobility.synthetic.badrows import BAD_KINDS


def test_every_kind_present_and_really_bad(tiny_region):
    truth = load_truth(tiny_region)
    kinds = truth["bad_rows"]["kinds"]
    assert set(kinds) == {k for k, _ in BAD_KINDS}
    assert {v["reason"] for v in kinds.values()} <= set(QUARANTINE_REASONS)
    assert {v["reason"] for v in kinds.values()} >= set(QUARANTINE_REASONS) - {"bad_utc_offset"}
    rows = pd.read_csv(tiny_region / "pings" / "bad-rows.csv", dtype=str, keep_default_na=False)
    assert list(rows.columns) == ["user_id", "timestamp", "lat", "lon", "accuracy_m"]
    good = pd.concat(pd.read_parquet(p) for p in sorted((tiny_region / "pings").glob("part-*.parquet")))
    good_keys = set(zip(good["user_id"], good["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        good["lat"], good["lon"], good["accuracy_m"]))
    ts = pd.to_datetime(rows["timestamp"], utc=True, errors="coerce")
    checks = {
        "empty_user_id": (rows["user_id"] == "").sum(),
        "empty_lat": (rows["lat"] == "").sum(),
        "unparseable_timestamp": (rows["timestamp"] == "not-a-time").sum(),
        "year_1970": (ts.dt.year == 1970).sum(),
        "year_2200": (ts.dt.year == 2200).sum(),
        "lat_91": (rows["lat"] == "91.0").sum(),
        "lon_minus_181": (rows["lon"] == "-181.0").sum(),
        "nan_coordinate": (rows["lat"] == "nan").sum(),
        "inf_coordinate": (rows["lon"] == "inf").sum(),
        "negative_accuracy": (pd.to_numeric(rows["accuracy_m"], errors="coerce") < 0).sum(),
        "accuracy_5000": (pd.to_numeric(rows["accuracy_m"], errors="coerce") == 5000).sum(),
        "duplicate": sum((r.user_id, r.timestamp, float(r.lat), float(r.lon), float(r.accuracy_m)) in good_keys
                         for r in rows.itertuples() if r.lat not in ("", "nan") and r.user_id
                         and not math.isinf(float(r.lon or "nan")) and r.timestamp[:4] == "2020"
                         and r.lat != "91.0" and r.lon != "-181.0" and float(r.accuracy_m) not in (-5.0, 5000.0)),
    }
    for kind, n in checks.items():
        assert n == kinds[kind]["count"] >= 1, kind
    assert np.isclose(len(rows), 0.002 * len(good), atol=len(BAD_KINDS) * 3 + 1)
