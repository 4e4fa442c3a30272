import math

import numpy as np
import pandas as pd
import pyarrow as pa

from mobility.schema import QUARANTINE_REASONS
from mobility.synthetic import badrows, load_truth
from mobility.synthetic.badrows import BAD_KINDS, make_bad_rows, pings_as_text


def test_every_kind_present_and_really_bad(tiny_region):
    truth = load_truth(tiny_region)
    kinds = truth["bad_rows"]["kinds"]
    assert set(kinds) == {k for k, _ in BAD_KINDS}
    assert {v["reason"] for v in kinds.values()} <= set(QUARANTINE_REASONS)
    # not injected: bad_utc_offset (the generator writes no offsets) and null_island (a kind added to the
    # generator would change generator 1.0's draws, which test_region freezes; tests/test_pings.py and
    # tests/pipeline/test_stages.py check it)
    assert {v["reason"] for v in kinds.values()} >= set(QUARANTINE_REASONS) - {"bad_utc_offset", "null_island"}
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


def _typed_pings(n):
    rng = np.random.default_rng(4)
    return pd.DataFrame({
        "user_id": [f"u{i % 37:03d}" for i in range(n)],
        "timestamp": pd.Timestamp("2020-02-28T23:00:00Z") + pd.to_timedelta(np.arange(n) * 17, unit="s"),
        "lat": 40 + rng.random(n) / 10, "lon": -75 - rng.random(n) / 10, "accuracy_m": rng.integers(50, 500, n) / 10,
    })


def test_only_the_drawn_rows_become_text(monkeypatch):
    # texting all good pings first (9M of them in the default region) peaked at 6 GB; only n_bad rows may be
    seen = []
    real = badrows.pings_as_text
    monkeypatch.setattr(badrows, "pings_as_text", lambda df: seen.append(len(df)) or real(df))
    good = _typed_pings(5000)
    badrows.make_bad_rows(good, 30, np.random.default_rng(0))
    badrows.make_bad_rows(pa.Table.from_pandas(good, preserve_index=False), 30, np.random.default_rng(0))
    assert seen == [30, 30]


def test_arrow_and_pandas_pings_give_the_rows_drawn_from_the_text_of_all_pings():
    good = _typed_pings(400)
    text = pings_as_text(good)
    rows, counts = make_bad_rows(good, 48, np.random.default_rng(9))
    rows_arrow, counts_arrow = make_bad_rows(pa.Table.from_pandas(good, preserve_index=False), 48,
                                             np.random.default_rng(9))
    pd.testing.assert_frame_equal(rows, rows_arrow)
    assert counts == counts_arrow and sum(counts.values()) == 48
    # the documented draws: shuffle the kinds, then pick rows uniformly from the good pings
    rng = np.random.default_rng(9)
    rng.shuffle(np.arange(48))
    picked = text.iloc[rng.integers(0, 400, 48)].reset_index(drop=True)
    same = (rows == picked).sum(axis=1)
    assert (same >= 4).all()  # every bad row is its source row with at most one field corrupted
    assert (same == 5).sum() == counts["duplicate"] == 4  # 48 rows, 12 kinds: 4 of each
    assert (rows["lat"] == "91.0").sum() == counts["lat_91"] == 4
