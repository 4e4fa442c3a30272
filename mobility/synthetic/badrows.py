"""Bad ping rows of every kind the validator must reject, made from good rows (``pings/bad-rows.csv``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

#: (kind, the validator's quarantine reason from mobility.schema.QUARANTINE_REASONS)
BAD_KINDS = (
    ("empty_user_id", "missing_value"), ("empty_lat", "missing_value"),
    ("unparseable_timestamp", "bad_timestamp"), ("year_1970", "bad_timestamp"), ("year_2200", "bad_timestamp"),
    ("lat_91", "bad_coordinate"), ("lon_minus_181", "bad_coordinate"), ("nan_coordinate", "bad_coordinate"),
    ("inf_coordinate", "bad_coordinate"), ("negative_accuracy", "bad_accuracy"),
    ("accuracy_5000", "low_accuracy"), ("duplicate", "duplicate"),
)
CSV_COLUMNS = ("user_id", "timestamp", "lat", "lon", "accuracy_m")


def pings_as_text(pings: pd.DataFrame) -> pd.DataFrame:
    """Good pings as the text a CSV holds (floats in round-trip ``repr``, ISO UTC timestamps).

    Examples
    --------
    >>> df = pd.DataFrame({"user_id": ["u1"], "timestamp": pd.to_datetime(["2020-01-02 03:04:05"], utc=True),
    ...                    "lat": [40.1], "lon": [-75.0], "accuracy_m": [12.5]})
    >>> pings_as_text(df).iloc[0].tolist()
    ['u1', '2020-01-02T03:04:05Z', '40.1', '-75.0', '12.5']
    """
    return pd.DataFrame({
        "user_id": pings["user_id"].astype(str).to_numpy(),
        "timestamp": pings["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%SZ").to_numpy(),
        **{c: [repr(float(v)) for v in pings[c].to_numpy()] for c in ("lat", "lon", "accuracy_m")},
    })


def make_bad_rows(good: pd.DataFrame | pa.Table, n_bad: int, rng: np.random.Generator) -> tuple[pd.DataFrame, dict]:
    """``n_bad`` (at least one per kind) corrupted copies of random rows of the good pings ``good``.

    ``good`` holds typed pings (``user_id``, UTC ``timestamp``, ``lat``, ``lon``, ``accuracy_m``), as a
    DataFrame or an Arrow table. Only the drawn rows are turned into text (:func:`pings_as_text`), so the
    cost is that of ``n_bad`` rows, not of the whole table (the text of 9M pings would need several GB).

    Returns the rows (text columns :data:`CSV_COLUMNS` plus nothing else) and the count per kind.

    Examples
    --------
    >>> good = pd.DataFrame({"user_id": ["u1", "u2"],
    ...     "timestamp": pd.to_datetime(["2020-01-02", "2020-01-03"], utc=True), "lat": [40.0, 40.1],
    ...     "lon": [-75.0, -75.1], "accuracy_m": [10.0, 20.0]})
    >>> rows, counts = make_bad_rows(good, 12, np.random.default_rng(0))
    >>> len(rows), set(counts.values())
    (12, {1})
    """
    n_bad = max(int(n_bad), len(BAD_KINDS))
    kind = np.arange(n_bad) % len(BAD_KINDS)
    rng.shuffle(kind)
    picked = rng.integers(0, len(good), n_bad)
    if isinstance(good, pa.Table):
        rows = pings_as_text(good.take(pa.array(picked)).to_pandas())
    else:
        rows = pings_as_text(good.iloc[picked].reset_index(drop=True))
    names = [k for k, _ in BAD_KINDS]
    ts = pd.to_datetime(rows["timestamp"], utc=True)
    edits = {
        "empty_user_id": ("user_id", ""), "empty_lat": ("lat", ""),
        "unparseable_timestamp": ("timestamp", "not-a-time"),
        "year_1970": ("timestamp", ts.dt.strftime("1970-%m-%dT%H:%M:%SZ").str.replace("1970-02-29", "1970-02-28")),
        "year_2200": ("timestamp", ts.dt.strftime("2200-%m-%dT%H:%M:%SZ").str.replace("2200-02-29", "2200-02-28")),
        "lat_91": ("lat", "91.0"), "lon_minus_181": ("lon", "-181.0"), "nan_coordinate": ("lat", "nan"),
        "inf_coordinate": ("lon", "inf"), "negative_accuracy": ("accuracy_m", "-5.0"),
        "accuracy_5000": ("accuracy_m", "5000.0"),
    }
    for k, name in enumerate(names):
        if name == "duplicate":
            continue
        col, value = edits[name]
        hit = kind == k
        rows.loc[hit, col] = value[hit].to_numpy() if isinstance(value, pd.Series) else value
    counts = {name: int((kind == k).sum()) for k, name in enumerate(names)}
    return rows[list(CSV_COLUMNS)], counts
