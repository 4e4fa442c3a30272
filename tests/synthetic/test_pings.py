import numpy as np

from mobility.kernels.geo import haversine_m
from mobility.synthetic import SyntheticParams
from mobility.synthetic.pings import RADIUS68_PER_SD, sample_pings, silence_intervals


def _one_stop(hours, rate, **kw):
    p = SyntheticParams(silences_per_week=0.0, long_silence_user_share=0.0, **kw)
    stops = {"person": np.array([0]), "start": np.array([0.0]), "end": np.array([hours * 3600.0]),
             "lat": np.array([40.0]), "lon": np.array([-75.1])}
    return sample_pings(p, stops, np.array([rate]), 0.0, hours * 3600.0, np.random.default_rng(0))


def test_rate_and_noise_match_parameters():
    pings, n = _one_stop(1000, 10.0, gps_noise_min_m=20.0, gps_noise_max_m=20.0)
    assert abs(len(pings["t_s"]) - 10_000) < 400  # Poisson(10 000): 4 sd
    assert n[0] == len(pings["t_s"])
    dy = (pings["lat"] - 40.0) * 111_195.0
    dx = (pings["lon"] + 75.1) * 111_195.0 * np.cos(np.radians(40.0))
    r = np.hypot(dx, dy)
    assert abs(np.quantile(r, 0.68) - 20.0) < 1.0  # accuracy_m is the 68 % radius
    assert np.isclose(RADIUS68_PER_SD, np.sqrt(-2 * np.log(1 - 0.68)), atol=1e-3)
    assert pings["accuracy_m"].min() >= 16.0 and pings["accuracy_m"].max() <= 25.0


def test_trip_pings_are_denser_and_on_the_way():
    p = SyntheticParams(silences_per_week=0.0, long_silence_user_share=0.0, trip_ping_multiplier=4.0,
                        gps_noise_min_m=10.0, gps_noise_max_m=10.0)
    stops = {"person": np.array([0, 0]), "start": np.array([0.0, 36_000.0]), "end": np.array([3600.0, 39_600.0]),
             "lat": np.array([40.0, 40.05]), "lon": np.array([-75.1, -75.1])}
    pings, n = sample_pings(p, stops, np.array([5.0]), 0.0, 39_600.0, np.random.default_rng(1))
    trip = (pings["t_s"] > 3600) & (pings["t_s"] < 36_000)
    assert abs(trip.sum() - 5 * 4 * 9) < 4 * np.sqrt(180)
    assert (pings["lat"][trip] > 39.999).all() and (pings["lat"][trip] < 40.051).all()
    assert n.sum() == (~trip).sum()


def test_silences_remove_pings_and_long_gaps_exist():
    p = SyntheticParams(silences_per_week=3.0, silence_median_h=12.0, long_silence_user_share=1.0)
    who, s, e = silence_intervals(p, 1, 0.0, 28 * 86400.0, np.random.default_rng(3))
    stops = {"person": np.array([0]), "start": np.array([0.0]), "end": np.array([28 * 86400.0]),
             "lat": np.array([40.0]), "lon": np.array([-75.1])}
    pings, _ = sample_pings(p, stops, np.array([20.0]), 0.0, 28 * 86400.0, np.random.default_rng(3))
    gaps = np.diff(pings["t_s"])
    assert gaps.max() >= 7 * 86400 and len(pings["t_s"]) < 20 * 24 * 28 * 0.8
    long = np.isclose(e - s, 7 * 86400)
    assert long.sum() == 1 and (who == 0).all()
    assert 3 <= (~long).sum() <= 30  # Poisson(12)
    assert np.all(np.diff(s) >= 0)


def test_peak_memory_within_2_5_times_the_pings_returned():
    # ~0.7M pings; intermediates are freed as they go (the old code peaked at 3.9x its output, the default
    # region at 1.5 GB of numpy arrays inside sample_pings)
    import tracemalloc

    p = SyntheticParams()
    n_people, days = 200, 28
    # three 25,000 s stops a day per person (home, work, other), sorted by person then start
    start = np.tile(np.arange(days) * 86400.0, n_people).repeat(3) + np.tile([0.0, 30_000.0, 60_000.0],
                                                                              n_people * days)
    stops = {"person": np.repeat(np.arange(n_people), days * 3), "start": start, "end": start + 25_000.0,
             "lat": np.tile([40.0, 40.02, 40.01], n_people * days), "lon": np.full(n_people * days * 3, -75.1)}
    tracemalloc.start()
    try:
        pings, _ = sample_pings(p, stops, np.full(n_people, 5.0), 0.0, days * 86400.0, np.random.default_rng(2))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    out = sum(v.nbytes for v in pings.values())
    assert len(pings["t_s"]) > 500_000
    assert peak < 2.5 * out, peak / out


def test_outliers_move_a_share_of_pings_100_to_300_m_and_keep_their_accuracy():
    base, _ = _one_stop(200, 10.0)
    hard, _ = _one_stop(200, 10.0, gps_outlier_share=0.2)
    # the outliers are drawn after everything else: same times, same reported accuracy, same ordinary noise
    np.testing.assert_array_equal(base["t_s"], hard["t_s"])
    np.testing.assert_array_equal(base["accuracy_m"], hard["accuracy_m"])
    d = haversine_m(base["lat"], base["lon"], hard["lat"], hard["lon"])
    moved = d > 0
    n = len(d)
    assert abs(moved.mean() - 0.2) < 4 * np.sqrt(0.2 * 0.8 / n)
    assert d[moved].min() > 99.9 and d[moved].max() < 300.1
    assert abs(np.median(d[moved]) - 200.0) < 10.0  # uniform in [100, 300]


def test_no_outliers_by_default():
    base, _ = _one_stop(50, 10.0)
    same, _ = _one_stop(50, 10.0, gps_outlier_share=0.0, gps_outlier_min_m=50.0)
    for key in base:
        np.testing.assert_array_equal(base[key], same[key])
