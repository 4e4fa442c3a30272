"""GPU parity: the CuPy (and, where installed, cuDF) backends give the pandas/numpy results to 1e-9 relative.

Skipped with a reason where CuPy or a CUDA device is missing. Where CuPy is present but cuDF is not, the
kernels run on CuPy arrays through ``backend="cupy"`` with pandas frames.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest

from mobility.kernels import metrics as km
from mobility.metrics import METRIC_COLUMNS, ping_metrics, weekly_metrics

pytestmark = pytest.mark.gpu


def _cupy():
    if importlib.util.find_spec("cupy") is None:
        pytest.skip("CuPy is not installed (pip install mobility[gpu] on a CUDA machine)")
    import cupy

    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            pytest.skip("CuPy is installed but no CUDA device is visible")
    except cupy.cuda.runtime.CUDARuntimeError as exc:
        pytest.skip(f"CuPy is installed but CUDA is unusable: {exc}")
    return cupy


def _random_stops(n_users=40, per_user=120, seed=5):
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(n_users):
        t = pd.Timestamp("2020-03-01", tz="UTC").value + int(rng.integers(0, 3 * 86400)) * 10**9
        for _ in range(per_user):
            t += int(rng.integers(300, 6 * 3600)) * 10**9
            dwell = int(rng.integers(0, 30 * 3600)) * 10**9  # some stops span days and weeks
            loc = int(rng.integers(0, 12))
            rows.append((f"u{u:03d}", t, t + dwell, 40 + 0.01 * loc + rng.normal(0, 1e-4),
                         -75 + 0.013 * loc, loc))
            t += dwell
    df = pd.DataFrame(rows, columns=["user_id", "start", "end", "lat", "lon", "location_id"])
    df["start"] = pd.to_datetime(df["start"], utc=True)
    df["end"] = pd.to_datetime(df["end"], utc=True)
    return df


def _labels(stops):
    days = stops.assign(date=stops["start"].dt.tz_localize(None).dt.normalize())
    first = days.groupby(["user_id", "date"], as_index=False)["location_id"].first()
    return pd.DataFrame({"user_id": first["user_id"], "date": first["date"],
                         "home_location_id": first["location_id"].astype("Int64"),
                         "work_location_id": ((first["location_id"] + 1) % 12).astype("Int64")})


def _assert_same(cpu: pd.DataFrame, gpu: pd.DataFrame):
    assert list(cpu.columns) == list(gpu.columns)
    pd.testing.assert_series_equal(cpu["user_id"], gpu["user_id"])
    pd.testing.assert_series_equal(cpu["period_start"], gpu["period_start"])
    for col in cpu.columns:
        if col in ("user_id", "period_start", "period_end"):
            continue
        a, b = cpu[col].to_numpy(dtype=float), gpu[col].to_numpy(dtype=float)
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12, equal_nan=True, err_msg=col)


@pytest.mark.parametrize("kwargs", [
    {}, {"period": "month", "weights": "visits", "centre": "unweighted", "k": 3, "normalise_entropy": True},
    {"period": "day", "timezone": "America/New_York", "capacity_weeks": 2},
])
def test_cupy_backend_equals_numpy(kwargs):
    _cupy()
    stops = _random_stops()
    labels = _labels(stops)
    cpu = weekly_metrics(stops, home_work=labels, backend="pandas", **kwargs)
    gpu = weekly_metrics(stops, home_work=labels, backend="cupy", **kwargs)
    assert set(METRIC_COLUMNS) - {"uncorrelated_entropy_bits"} <= set(gpu.columns)
    _assert_same(cpu, gpu)


def test_cupy_ping_metrics_equal_numpy():
    _cupy()
    stops = _random_stops(n_users=10, per_user=200)
    pings = stops.rename(columns={"start": "timestamp"})[["user_id", "timestamp", "lat", "lon"]]
    _assert_same(ping_metrics(pings, period="all"), ping_metrics(pings, period="all", backend="cupy"))


def test_kernels_on_cupy_arrays_equal_numpy():
    cp = _cupy()
    rng = np.random.default_rng(1)
    seg = np.sort(rng.integers(0, 50, 2000))
    lat, lon = rng.uniform(39, 41, 2000), rng.uniform(-76, -74, 2000)
    w = rng.uniform(0, 10, 2000)
    for centre in (True, False):
        a = km.radius_of_gyration_km(lat, lon, w, seg, 50, centre_weighted=centre)
        b = km.radius_of_gyration_km(cp.asarray(lat), cp.asarray(lon), cp.asarray(w), cp.asarray(seg), 50,
                                     centre_weighted=centre, xp=cp)
        np.testing.assert_allclose(cp.asnumpy(b), a, rtol=1e-9)
    np.testing.assert_array_equal(cp.asnumpy(km.top_k_mask(cp.asarray(seg), cp.asarray(w), 2, xp=cp)),
                                  km.top_k_mask(seg, w, 2))
    for x, y in zip(km.entropies_bits(w, seg, 50), km.entropies_bits(cp.asarray(w), cp.asarray(seg), 50, xp=cp)):
        np.testing.assert_allclose(cp.asnumpy(y), x, rtol=1e-9)


def test_cudf_frames_in_and_out():
    _cupy()
    if importlib.util.find_spec("cudf") is None:
        pytest.skip("cuDF is not installed; the CuPy backend is tested with pandas frames above")
    import cudf

    stops = _random_stops(n_users=8)
    gpu = weekly_metrics(cudf.from_pandas(stops))
    assert type(gpu).__module__.split(".")[0] == "cudf"
    _assert_same(weekly_metrics(stops), gpu.to_pandas())
