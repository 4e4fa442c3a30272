"""detect_stops and validate_stops: table contract, edge cases, GeoLife against trackintel, synthetic truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mobility.errors import MobilityError
from mobility.kernels.geo import EARTH_RADIUS_M
from mobility.schema import STOPS
from mobility.stops import STOP_QUARANTINE_REASONS, detect_stops, validate_stops

REAL = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "real" / "geolife_trackintel"
REFERENCE = Path(__file__).resolve().parent / "reference" / "trackintel_geolife_staypoints.csv"
DEG_M = np.pi / 180 * EARTH_RADIUS_M
T0 = pd.Timestamp("2020-01-06 08:00", tz="UTC")


def pings(user, seconds, north_m, east_m=None):
    """Pings of one user at T0 + seconds, ``north_m`` metres north of (45 N, 9 E)."""
    north_m = np.asarray(north_m, dtype=float)
    east_m = np.zeros_like(north_m) if east_m is None else np.asarray(east_m, dtype=float)
    return pd.DataFrame({
        "user_id": user,
        "timestamp": T0 + pd.to_timedelta(np.asarray(seconds), unit="s"),
        "lat": 45.0 + north_m / DEG_M,
        "lon": 9.0 + east_m / (DEG_M * np.cos(np.radians(45.0))),
    })


# ---------- table contract ----------


@pytest.mark.parametrize("method", ["sliding", "median"])
def test_output_schema_and_values(method):
    p = pd.concat([pings("b", [0, 300, 600, 900], [0, 10, 0, 2000]),
                   pings("a", [0, 400, 800, 1200, 1600], [0, 0, 5000, 5000, 5000])])
    s = detect_stops(p, method=method)
    assert list(s.columns) == list(STOPS)
    assert s.dtypes.astype(str).tolist() == ["str", "int64", "datetime64[ns, UTC]", "datetime64[ns, UTC]",
                                             "float64", "float64", "int64", "int64"]
    # user a: rows 0-1 (400 s) and rows 2-4 (800 s); user b: rows 0-2 (600 s). Sorted by user, start.
    assert s["user_id"].tolist() == ["a", "a", "b"]
    assert s["stop_id"].tolist() == [0, 1, 0]
    assert s["start"].tolist() == [T0, T0 + pd.Timedelta(800, "s"), T0]
    assert s["end"].tolist() == [T0 + pd.Timedelta(400, "s"), T0 + pd.Timedelta(1600, "s"),
                                 T0 + pd.Timedelta(600, "s")]
    assert s["n_pings"].tolist() == [2, 3, 3]
    assert s["location_id"].tolist() == [-1, -1, -1]
    assert s["lat"].to_numpy() == pytest.approx(45.0 + np.array([0, 5000, 10 / 3 if method == "sliding" else 0])
                                                / DEG_M, abs=1e-9)


def test_empty_input_gives_typed_empty_table():
    s = detect_stops(pings("a", [], []))
    assert len(s) == 0 and list(s.columns) == list(STOPS)
    assert str(s["start"].dtype) == "datetime64[ns, UTC]"


def test_unsorted_input_is_sorted_and_other_timezones_converted():
    p = pings("a", [0, 300, 600], [0, 5, 0])
    shuffled = p.iloc[[2, 0, 1]].copy()
    shuffled["timestamp"] = shuffled["timestamp"].dt.tz_convert("America/New_York")
    s = detect_stops(shuffled)
    assert s["start"].tolist() == [T0] and s["end"].tolist() == [T0 + pd.Timedelta(600, "s")]
    assert str(s["start"].dt.tz) == "UTC"


def test_duplicate_timestamps_keep_the_first():
    # the duplicate at 300 s is 1 km away: if it were kept it would break the stay
    p = pd.concat([pings("a", [0, 300], [0, 0]), pings("a", [300, 600], [1000, 0])], ignore_index=True)
    s = detect_stops(p)
    assert s["n_pings"].tolist() == [3]
    assert s["end"].tolist() == [T0 + pd.Timedelta(600, "s")]


def test_single_ping():
    assert len(detect_stops(pings("a", [0], [0]))) == 0
    s = detect_stops(pings("a", [0], [0]), min_duration_s=0, min_points=1)
    assert s["start"].tolist() == s["end"].tolist() == [T0]


@pytest.mark.parametrize("kw", [dict(method="dbscan"), dict(radius_m=0), dict(radius_m=-1), dict(radius_m="x"),
                                dict(min_duration_s=-1), dict(max_gap_s=float("nan")), dict(min_points=0),
                                dict(min_points=1.5)])
def test_bad_parameters(kw):
    with pytest.raises(MobilityError):
        detect_stops(pings("a", [0, 600], [0, 0]), **kw)


def test_bad_inputs():
    p = pings("a", [0, 600], [0, 0])
    with pytest.raises(MobilityError, match="lat"):
        detect_stops(p.drop(columns="lat"))
    naive = p.assign(timestamp=p["timestamp"].dt.tz_localize(None))
    with pytest.raises(MobilityError, match="tz"):
        detect_stops(naive)
    with pytest.raises(MobilityError, match="row 1"):
        detect_stops(p.assign(lat=[45.0, np.nan]))
    with pytest.raises(MobilityError, match=r"row 1: 'timestamp' is missing"):
        detect_stops(p.assign(timestamp=[p["timestamp"].iloc[0], pd.NaT]))
    with pytest.raises(MobilityError, match="row 0: user_id is missing"):
        detect_stops(p.assign(user_id=pd.array([None, "a"], dtype="str")))


# ---------- validate_stops ----------


def test_validate_stops_quarantine_reasons():
    raw = pd.DataFrame({
        "user": ["u", "u", "u", "u", "u", "u", "v", None, "v", "v"],
        "arrive": ["2020-01-06T10:00Z", "2020-01-06T08:00Z", "2020-01-06T08:30Z", "2020-01-06T09:00Z",
                   "2020-01-06T08:00Z", "not a time", "2020-01-06T08:00Z", "2020-01-06T08:00Z",
                   "2020-01-06T12:00Z", "1990-01-01T00:00Z"],
        "leave": ["2020-01-06T11:00Z", "2020-01-06T09:00Z", "2020-01-06T08:45Z", "2020-01-06T09:30Z",
                  "2020-01-06T09:00Z", "2020-01-06T09:00Z", "2020-01-06T09:00Z", "2020-01-06T09:00Z",
                  "2020-01-06T11:00Z", "1990-01-01T01:00Z"],
        "lat": [45.0, 45.0, 45.0, 45.0, 45.0, 45.0, 95.0, 45.0, 45.0, 45.0],
        "lon": [9.0] * 10,
    })
    island = pd.DataFrame({"user": ["w", "w", "w"], "arrive": ["2020-01-06T08:00Z", "2020-01-06T09:00Z",
                                                               "2020-01-06T10:00Z"],
                           "leave": ["2020-01-06T08:30Z", "2020-01-06T09:30Z", "2020-01-06T10:30Z"],
                           "lat": [0.0, 0.0, 45.0], "lon": [0.0, 9.0, 0.0]})  # rows 10, 11, 12
    raw = pd.concat([raw, island], ignore_index=True)
    stops, q = validate_stops(raw, columns={"user_id": "user", "start": "arrive", "end": "leave"}, source="x.csv")
    # u keeps rows 1 (08-09), 3 (09-09:30, touches), 0 (10-11); row 2 overlaps row 1, row 4 duplicates row 1
    # w: the stop at 0, 0 goes; one on the equator and one on the Greenwich meridian stay
    assert stops["user_id"].tolist() == ["u", "u", "u", "w", "w"]
    assert stops["stop_id"].tolist() == [0, 1, 2, 0, 1]
    assert stops["start"].dt.strftime("%H:%M").tolist() == ["08:00", "09:00", "10:00", "09:00", "10:00"]
    assert stops["n_pings"].tolist() == [0] * 5 and stops["location_id"].tolist() == [-1] * 5
    got = dict(zip(q["row"], q["reason"]))
    assert got == {2: "overlapping_stop", 4: "duplicate", 5: "bad_timestamp", 6: "bad_coordinate",
                   7: "missing_value", 8: "bad_interval", 9: "bad_timestamp", 10: "null_island"}
    assert set(q["reason"]) <= set(STOP_QUARANTINE_REASONS)
    assert (q["source"] == "x.csv").all()
    assert list(q.columns) == ["user", "arrive", "leave", "lat", "lon", "source", "row", "reason"]


def test_validate_stops_round_trips_detected_stops():
    p = pd.concat([pings("a", [0, 400, 800, 1200, 1600], [0, 0, 5000, 5000, 5000]),
                   pings("b", [0, 300, 600], [0, 10, 0])])
    s = detect_stops(p)
    again, q = validate_stops(s.sample(frac=1, random_state=1))
    assert len(q) == 0
    pd.testing.assert_frame_equal(again, s)


def test_validate_stops_errors():
    raw = pd.DataFrame({"user_id": ["u"], "start": pd.to_datetime(["2020-01-06 08:00"]),
                        "end": pd.to_datetime(["2020-01-06 09:00"]), "lat": [45.0], "lon": [9.0]})
    with pytest.raises(MobilityError, match="time zone"):
        validate_stops(raw)
    with pytest.raises(MobilityError, match="'lon'"):
        validate_stops(raw.drop(columns="lon"))
    with pytest.raises(MobilityError, match="unknown"):
        validate_stops(raw, columns={"begin": "start"})


# ---------- GeoLife (real data) ----------


def read_plt(folder: Path) -> pd.DataFrame:
    """GeoLife .plt files under ``folder/<user>/Trajectory``: 6 header lines, then lat, lon, 0, alt,
    days, date, time (GMT)."""
    frames = []
    for f in sorted(folder.glob("*/Trajectory/*.plt")):
        x = pd.read_csv(f, skiprows=6, header=None, usecols=[0, 1, 5, 6], names=["lat", "lon", "date", "time"])
        frames.append(pd.DataFrame({"user_id": f.parts[-3],
                                    "timestamp": pd.to_datetime(x["date"] + " " + x["time"], utc=True),
                                    "lat": x["lat"], "lon": x["lon"]}))
    return pd.concat(frames, ignore_index=True)


def merged(starts, ends):
    """Sorted, merged intervals (int seconds)."""
    out = []
    for a, b in sorted(zip(starts, ends)):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return out


def total(iv):
    return sum(b - a for a, b in iv)


def overlap(x, y):
    i = j = tot = 0
    while i < len(x) and j < len(y):
        tot += max(0, min(x[i][1], y[j][1]) - max(x[i][0], y[j][0]))
        if x[i][1] < y[j][1]:
            i += 1
        else:
            j += 1
    return tot


def seconds(ts) -> np.ndarray:
    return ((pd.to_datetime(ts, utc=True) - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(1, "s")).to_numpy()


@pytest.fixture(scope="module")
def geolife():
    if not (REAL / "geolife_long_10_MB").is_dir():
        pytest.skip(f"GeoLife sample absent: {REAL} (shared/data/real next to the repository)")
    return read_plt(REAL / "geolife_long_10_MB")


@pytest.mark.real
def test_geolife_sliding_agrees_with_trackintel(geolife):
    """Our sliding stops cover >= 95% of trackintel 1.4.2's stop time and vice versa.

    Matched parameters: radius 100 m, 5 min, gap 15 min, trackintel's ``include_last=True`` and its input
    cut at gaps (see tests/reference/trackintel_staypoints.py: trackintel drops the stay in progress at a
    gap, we end it there). Remaining differences, all small: (1) trackintel's stop lasts to the first
    ping outside and qualifies on that duration, ours on the last ping inside, so trackintel keeps a few
    stays that are just under 5 min by our clock; (2) trackintel drops exactly duplicated rows, we drop
    repeated timestamps (8 rows); (3) the comparison here uses trackintel's last ping inside as its end.
    """
    ours = detect_stops(geolife, radius_m=100, min_duration_s=300, max_gap_s=900)
    ref = pd.read_csv(REFERENCE, dtype={"user_id": str})
    t_ours = t_ref = t_both = 0
    for user in sorted(set(ours["user_id"]) | set(ref["user_id"])):
        a = ours[ours["user_id"] == user]
        b = ref[ref["user_id"] == user]
        x = merged(seconds(a["start"]), seconds(a["end"]))
        y = merged(seconds(b["started_at"]), seconds(b["last_inside_at"]))
        t_ours, t_ref, t_both = t_ours + total(x), t_ref + total(y), t_both + overlap(x, y)
    assert t_ref > 50 * 3600  # the reference holds ~80 h of stops
    assert t_both / t_ours >= 0.95
    assert t_both / t_ref >= 0.95


@pytest.mark.real
def test_geolife_labelled_travel():
    """User 010's labelled trip (geolife_modes: a 3-day train ride, labels cover ~all of it).

    The labels mark whole train days as travel, station halts included, so nearly all stop time of any
    stationary-event detector falls inside "travel" there (the 5% target of the brief cannot hold on
    this file). What the labels do test is that stops are halts, not rides: inside labelled travel,
    less than 5% of detected stop time is spent between pings implying a speed above 2 m/s.
    """
    folder = REAL / "geolife_modes"
    if not (folder / "010" / "labels.txt").is_file():
        pytest.skip(f"GeoLife labels absent: {folder}")
    p = read_plt(folder)
    p = p[p["user_id"] == "010"].sort_values("timestamp").reset_index(drop=True)
    lab = pd.read_csv(folder / "010" / "labels.txt", sep="\t")
    travel = merged(seconds(pd.to_datetime(lab["Start Time"], format="%Y/%m/%d %H:%M:%S", utc=True)),
                    seconds(pd.to_datetime(lab["End Time"], format="%Y/%m/%d %H:%M:%S", utc=True)))
    t = seconds(p["timestamp"])
    lat, lon = np.radians(p["lat"].to_numpy()), np.radians(p["lon"].to_numpy())
    a = np.sin(np.diff(lat) / 2) ** 2 + np.cos(lat[:-1]) * np.cos(lat[1:]) * np.sin(np.diff(lon) / 2) ** 2
    speed = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(a)) / np.maximum(np.diff(t), 1)
    moving = merged(t[:-1][speed > 2.0], t[1:][speed > 2.0])
    for method in ("sliding", "median"):
        s = detect_stops(p, method=method)
        stops = merged(seconds(s["start"]), seconds(s["end"]))
        in_travel = overlap(stops, travel)
        moving_in_travel = sum(overlap([iv], moving) for iv in stops if overlap([iv], travel))
        assert total(stops) > 3600 and in_travel > 0.9 * total(stops)  # the labels' coverage, see above
        assert moving_in_travel < 0.05 * in_travel, method


# ---------- synthetic ground truth ----------


def synthetic_truth(n_users=60, days=3, seed=7):
    """SDK-like pings with known stops: stays of 5 min to 4 h at places 0.5-5 km apart, trips at
    15-40 km/h, a ping every 1-20 min (exponential, mean 6 min) with 10-50 m noise, and half-hour
    silences now and then. Returns (pings, true stops with their ping counts)."""
    rng = np.random.default_rng(seed)
    rows, truth = [], []
    for u in range(n_users):
        user = f"u{u:03d}"
        t, end = 0.0, days * 86400.0
        pos = rng.uniform(-20000, 20000, 2)
        while t < end:
            stay = float(np.exp(rng.uniform(np.log(300), np.log(4 * 3600))))
            truth.append((user, t, t + stay, pos[0], pos[1]))
            t += stay
            step = rng.uniform(500, 5000) * np.array([np.cos(a := rng.uniform(0, 2 * np.pi)), np.sin(a)])
            travel = np.linalg.norm(step) / rng.uniform(15, 40) * 3.6
            truth.append((user, t, t + travel, np.nan, np.nan))  # a trip: (start, end) and no place
            t += travel
            pos = pos + step
        # ping times: exponential intervals, mean 6 min, with occasional 30-90 min silences
        dts = rng.exponential(360, int(end / 60)).clip(60, 1200)
        silent = rng.random(dts.size) < 0.03
        dts[silent] = rng.uniform(1800, 5400, silent.sum())
        ts = np.cumsum(dts)
        ts = ts[ts < end]
        segs = np.array([x[1:] for x in truth if x[0] == user])  # start, end, x, y (NaN on trips)
        k = np.searchsorted(segs[:, 0], ts, side="right") - 1
        noise = rng.uniform(10, 50, ts.size)[:, None] * rng.normal(0, 1, (ts.size, 2))
        # on a trip (odd k): interpolate between the places before and after it
        prev_place = segs[k - (k % 2), 2:4]
        next_place = segs[np.minimum(k + 1, len(segs) - 1), 2:4]
        next_place = np.where(np.isnan(next_place), prev_place, next_place)  # a trip at the very end
        f = ((ts - segs[k, 0]) / (segs[k, 1] - segs[k, 0]))[:, None]
        xy = np.where((k % 2 == 1)[:, None], (1 - f) * prev_place + f * next_place, prev_place)
        xy += noise
        rows.append(pd.DataFrame({"user_id": user, "timestamp": T0 + pd.to_timedelta(ts, unit="s"),
                                  "lat": 45.0 + xy[:, 0] / DEG_M,
                                  "lon": 9.0 + xy[:, 1] / (DEG_M * np.cos(np.radians(45.0)))}))
    p = pd.concat(rows, ignore_index=True)
    tr = pd.DataFrame(truth, columns=["user_id", "start", "end", "x", "y"]).dropna()
    t_s = seconds(p["timestamp"]) - seconds([T0])[0]
    user = p["user_id"].to_numpy()
    tr["n_pings"] = 0
    for u, idx in tr.groupby("user_id").groups.items():
        tu = np.sort(t_s[user == u])
        r = tr.loc[idx]
        tr.loc[idx, "n_pings"] = np.searchsorted(tu, r["end"], "right") - np.searchsorted(tu, r["start"], "left")
    for c in ("start", "end"):
        tr[c] = T0 + pd.to_timedelta(tr[c], unit="s")
    return p, tr


@pytest.fixture(scope="module")
def synthetic():
    return synthetic_truth()


@pytest.mark.parametrize("method", ["sliding", "median"])
def test_synthetic_recall_and_precision(method, synthetic):
    p, truth = synthetic
    recall, precision, n = match_rates(detect_stops(p, method=method), truth)
    print(f"{method}: recall {recall:.3f} precision {precision:.3f} on {n} true stops")
    assert n > 500
    assert recall >= 0.95, recall
    assert precision >= 0.90, precision


def match_rates(found: pd.DataFrame, truth: pd.DataFrame) -> tuple[float, float, int]:
    """Recall of true stops >= 20 min with >= 2 pings, and precision of detected stops, by time overlap."""
    target = truth[((truth["end"] - truth["start"]) >= pd.Timedelta("20min")) & (truth["n_pings"] >= 2)]
    by_found = {u: g for u, g in found.groupby("user_id")}
    by_true = {u: g for u, g in truth.groupby("user_id")}
    hit = [r.user_id in by_found and ((by_found[r.user_id]["start"] <= r.end)
                                      & (by_found[r.user_id]["end"] >= r.start)).any() for r in target.itertuples()]
    correct = [((by_true[r.user_id]["start"] <= r.end) & (by_true[r.user_id]["end"] >= r.start)).any()
               for r in found.itertuples()]
    return float(np.mean(hit)), float(np.mean(correct)), len(target)


@pytest.mark.parametrize("method", ["sliding", "median"])
def test_synthetic_region_recall_and_precision(method, tmp_path_factory):
    """The project's synthetic region (mobility.synthetic): sparse SDK-like pings, median 20 min apart."""
    synthetic = pytest.importorskip("mobility.synthetic")
    region = synthetic.generate_region(tmp_path_factory.getbasetemp() / "region_stops",
                                       synthetic.SyntheticParams(n_users=40, end="2020-01-21"), seed=1)
    pings = pd.read_parquet(region / "pings")
    truth = synthetic.load_truth(region)["stops"]
    recall, precision, n = match_rates(detect_stops(pings, method=method), truth)
    print(f"{method}: recall {recall:.3f} precision {precision:.3f} on {n} true stops")
    assert n > 1000
    assert recall >= 0.95, recall
    assert precision >= 0.90, precision


def test_provider_stops_far_in_the_future_are_quarantined_not_a_crash():
    """Year 3000 as text and year 2500 as typed microseconds (beyond pandas' ns range): bad_timestamp rows."""
    text = pd.DataFrame({"user_id": ["a", "a"], "start": ["2020-01-06T08:00Z", "3000-01-06T09:00Z"],
                         "end": ["2020-01-06T08:30Z", "3000-01-06T10:00Z"], "lat": [40.0, 40.0], "lon": [-75.0] * 2})
    typed = text.assign(**{c: pd.Series([pd.Timestamp(f"2020-01-06 08:{m}", tz="UTC"),
                                         pd.Timestamp(f"2500-01-01 0{h}:00", tz="UTC")]).astype("datetime64[us, UTC]")
                           for c, m, h in (("start", "00", 1), ("end", "30", 2))})
    for raw in (text, typed):
        stops, quarantine = validate_stops(raw)
        assert len(stops) == 1 and quarantine["reason"].tolist() == ["bad_timestamp"]
