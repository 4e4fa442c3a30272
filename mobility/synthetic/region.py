"""Write a whole synthetic region (pings, geography, census, truth) and read its truth back.

The region is written into a temporary sibling directory and renamed onto ``out_dir`` at the end, so a
killed generation never leaves a half region under the final name. People are generated in parts of
``users_per_part`` (one Parquet file each) and, inside a part, in batches of :data:`BATCH_USERS`, so memory
is bounded by the batch, not the region. Every random stream is keyed by (seed, purpose, part, batch).
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
import json
import os
import shutil
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from mobility.errors import MobilityError
from mobility.io.atomic import atomic_path, write_json, write_parquet
from mobility.synthetic import census
from mobility.synthetic.badrows import (
    BAD_KINDS,
    CSV_COLUMNS,
    make_bad_rows,
)
from mobility.synthetic.daily import (
    KINDS,
    MODES,
    PLACE_ID_STRIDE,
    Batch,
    Calendar,
    effect_curve,
    simulate_stops,
)
from mobility.synthetic.geography import (
    BBOX,
    STATE_ABBR,
    STATE_FIPS,
    build_geography,
    cbg_polygons,
)
from mobility.synthetic.lives import PHONE_KINDS, draw_lives
from mobility.synthetic.params import SyntheticParams
from mobility.synthetic.people import cbg_mixes, census_workers, draw_people, hazard_shape, week_mondays
from mobility.synthetic.phones import PHONE_STATES, daily_phone_state, phone_filter
from mobility.synthetic.pings import sample_pings
from mobility.synthetic.sectors import SECTORS, TELEWORK_TAU
from mobility.synthetic.status import area_weekly, weekly_status
from mobility.synthetic.venues import draw_venues, n_venues_for

GENERATOR_VERSION = "3.0"  # 2.0: the lives of issue 14 (lives.py), truth/daily.parquet and truth/places.parquet;
# 3.0: block groups' sector mixes as varied as the real LODES ones (sector_mix_concentration), campuses where
# the education jobs are, LODES counting the region's workers (the panel's and jobs_per_worker - 1 times as
# many others) rather than the panel's times jobs_per_worker
BATCH_USERS = 1000
_STREAM = {"geography": 1, "mixes": 2, "people": 3, "acs": 4, "lodes_wac": 5, "lodes_rac": 6, "stops": 7,
           "pings": 8, "bad": 9, "venues": 10, "lives": 11, "life_daily": 12, "census_workers": 13}

PINGS_SCHEMA = pa.schema([("user_id", pa.string()), ("timestamp", pa.timestamp("ns", tz="UTC")),
                          ("lat", pa.float64()), ("lon", pa.float64()), ("accuracy_m", pa.float64())])
STOPS_SCHEMA = pa.schema([("user_id", pa.string()), ("start", pa.timestamp("ns", tz="UTC")),
                          ("end", pa.timestamp("ns", tz="UTC")), ("lat", pa.float64()), ("lon", pa.float64()),
                          ("place_id", pa.int64()), ("kind", pa.string()), ("n_pings", pa.int64())])


def _rng(seed: int, purpose: str, *keys: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_STREAM[purpose], *keys)))


def _code_text(source: str) -> str:
    """The code of a module's ``source`` without comments, docstrings, blank lines and layout (``ast.dump``)."""
    return _tree_text(ast.parse(source))


def _tree_text(tree: ast.Module) -> str:
    """:func:`_code_text` of a parsed module; strips the docstrings from ``tree`` itself."""
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree)


def _module_file(name: str):
    """The import spec of ``name`` if it is a ``mobility`` module (not a package, not a name inside a module)."""
    if not name.startswith("mobility."):
        return None
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):  # "mobility.kernels.geo.haversine_m": a function, not a module
        return None
    return spec if spec is not None and spec.submodule_search_locations is None else None


@functools.lru_cache(maxsize=1)
def generator_sources() -> dict[str, str]:
    """The code of every module :func:`generate_region` runs, by module name, as :func:`_code_text` gives it.

    The modules are this one and, transitively, every ``mobility`` module it imports (package
    ``__init__`` files aside: importing a submodule runs them, but the generator calls nothing in them).
    A module installed without its source counts by the package's version instead.
    """
    out: dict[str, str] = {}
    todo = [__name__]
    while todo:
        name = todo.pop()
        if name in out:
            continue
        origin = _module_file(name).origin or ""
        if not (origin.endswith(".py") and os.path.isfile(origin)):
            from importlib import metadata

            out[name] = f"mobility {metadata.version('mobility')}"
            continue
        tree = ast.parse(Path(origin).read_text(encoding="utf-8"))  # once: its imports, then its code
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                todo += [a.name for a in node.names if _module_file(a.name)]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                # `from mobility.synthetic import census` names a module, `from mobility.kernels.geo import
                # haversine_m` a module's content
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
                todo += [n for n in names if _module_file(n)]
        out[name] = _tree_text(tree)
    return dict(sorted(out.items()))


def generator_fingerprint() -> str:
    """What, beside the seed and the parameters, decides a region's content: :data:`GENERATOR_VERSION`, the code
    of the generator's modules (:func:`generator_sources`) and numpy's version (its random streams may change
    between versions); 16 hex digits of a SHA-256. A region cached under another fingerprint is made again.

    Examples
    --------
    >>> fp = generator_fingerprint()
    >>> len(fp), fp == generator_fingerprint()
    (16, True)
    """
    payload = {"generator_version": GENERATOR_VERSION, "numpy": np.__version__, "code": generator_sources()}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def _manifest(params: SyntheticParams, seed: int, counties: list[str]) -> dict:
    return {"name": "synthetic", "seed": seed, "params": params.to_dict(), "generator_version": GENERATOR_VERSION,
            "generator_fingerprint": generator_fingerprint(), "timezone": params.timezone, "start": params.start,
            "end": params.end, "state_fips": STATE_FIPS,
            "state_abbr": STATE_ABBR, "counties": counties, "bbox": dict(BBOX)}


def _same_region(path: Path, manifest: dict) -> bool:
    try:
        old = json.loads((path / "region.json").read_text())
    except (OSError, ValueError):
        return False
    return all(old.get(k) == manifest[k] for k in ("name", "seed", "params", "generator_version",
                                                    "generator_fingerprint"))


def generate_region(out_dir: str | os.PathLike, params: SyntheticParams | None = None, *, seed: int = 0,
                    progress: bool = False) -> Path:
    """Generate the synthetic region into ``out_dir`` (see ``data/synthetic/README.md`` for the layout).

    Deterministic: the same ``seed`` and ``params`` give byte-identical Parquet content. If ``out_dir``
    already holds a region made with the same seed, parameters and generator (:func:`generator_fingerprint`:
    its version, its code, numpy's version), it is returned untouched; a synthetic region made otherwise is
    replaced; any other non-empty directory is refused.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = generate_region(pathlib.Path(tempfile.mkdtemp()) / "r", SyntheticParams(n_users=5, end="2020-01-07"))
    >>> sorted(p.name for p in d.iterdir())
    ['census', 'geography', 'pings', 'region.json', 'truth']
    """
    params = params or SyntheticParams()
    if not isinstance(params, SyntheticParams):
        raise MobilityError(f"generate_region: params must be a SyntheticParams, got {type(params).__name__}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise MobilityError(f"generate_region: seed={seed!r} must be an integer >= 0")
    seed = int(seed)
    out_dir = Path(out_dir)
    geo = build_geography(params, _rng(seed, "geography"))
    manifest = _manifest(params, seed, geo.counties)
    if out_dir.exists():
        if _same_region(out_dir, manifest):
            return out_dir
        if any(out_dir.iterdir()) and not (out_dir / "region.json").exists():
            raise MobilityError(f"{out_dir} exists, is not empty and is not a synthetic region; "
                                "choose another output directory or remove it")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.parent / f".{out_dir.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        _write_region(tmp, params, seed, geo, manifest, progress)
        if out_dir.exists():
            trash = out_dir.parent / f".{out_dir.name}.old-{uuid.uuid4().hex[:8]}"
            os.replace(out_dir, trash)
            os.replace(tmp, out_dir)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def _write_region(root: Path, params: SyntheticParams, seed: int, geo, manifest: dict, progress: bool) -> None:
    mixes = cbg_mixes(geo, _rng(seed, "mixes"), params.sector_mix_concentration)
    people = draw_people(params, geo, mixes, _rng(seed, "people"))
    people, places = draw_lives(params, geo, people, _rng(seed, "lives"))  # its own stream: the rest unchanged
    # geography and census
    (root / "geography").mkdir()
    with atomic_path(root / "geography" / "cbg.geojson") as tmp:
        cbg_polygons(geo).to_file(tmp, driver="GeoJSON")
    lodes = root / "census" / "lodes"
    if params.census_population:
        workers, jobs_each = census_workers(params, geo, mixes, people, _rng(seed, "census_workers")), 1
    else:
        workers, jobs_each = people, params.jobs_per_worker
    for kind in ("wac", "rac"):
        table = census.lodes_table(workers, kind, jobs_each, _rng(seed, f"lodes_{kind}"))
        census.write_lodes(table, lodes / f"{STATE_ABBR}_{kind}_S000_JT00_2019.csv.gz")
    for topic, (ests, moes) in census.acs_tables(geo, mixes, _rng(seed, "acs"), params.male_share).items():
        folder = root / "census" / "acs" / f"rawACSdata_{topic}"
        for frame, suffix in ((ests, "ests"), (moes, "moes")):
            with atomic_path(folder / f"blockgroup_{topic}_{suffix}.csv") as tmp:
                frame.to_csv(tmp, index=False)
    census.write_telework(root / "census" / "telework" / "NAICS_workfromhome.csv")
    # truth tables from people
    truth = root / "truth"
    write_parquet(people, truth / "people.parquet")
    write_parquet(places, truth / "places.parquet")
    write_json(_effects(params, people), truth / "effects.json")
    venues = None
    if n_venues_for(params) > 0:  # drawn from their own stream: the other streams stay as without venues
        venues = draw_venues(params, geo, _rng(seed, "venues"))
        write_parquet(venues.to_frame(), truth / "venues.parquet")
    # pings and true stops, part by part, batch by batch
    calendar = Calendar.from_params(params)
    span = (calendar.midnight_utc_s[0], calendar.midnight_utc_s[-1])
    (root / "pings").mkdir()
    bad_counts = {k: 0 for k, _ in BAD_KINDS}
    n_pings_total = 0
    daily_tables = []
    parts = range(0, params.n_users, params.users_per_part)
    bar = None
    if progress:
        from tqdm import tqdm
        # drawn on a terminal only (disable=None), and gone when done, like the pipeline's stage bars
        bar = tqdm(total=params.n_users, unit="user", desc="synthetic region", disable=None, leave=False)
    with atomic_path(truth / "stops.parquet") as stops_tmp:
        stops_writer = pq.ParquetWriter(stops_tmp, STOPS_SCHEMA, use_dictionary=["user_id", "kind"])
        bad_path = root / "pings" / "bad-rows.csv"
        try:
            for part, first in enumerate(parts):
                last = min(first + params.users_per_part, params.n_users)
                with atomic_path(root / "pings" / f"part-{part:05d}.parquet") as part_tmp:
                    with pq.ParquetWriter(part_tmp, PINGS_SCHEMA, use_dictionary=["user_id"]) as writer:
                        for b, lo in enumerate(range(first, last, BATCH_USERS)):
                            hi = min(lo + BATCH_USERS, last)
                            pings, stops, day_table = _batch(params, people.iloc[lo:hi], places, calendar, span,
                                                             seed, part, b, lo, venues)
                            writer.write_table(pings)
                            stops_writer.write_table(stops)
                            daily_tables.append(day_table)
                            n_pings_total += pings.num_rows
                            if params.inject_bad_share > 0 and pings.num_rows:
                                n_bad = int(round(params.inject_bad_share * pings.num_rows))
                                rows, counts = make_bad_rows(pings, n_bad, _rng(seed, "bad", part, b))
                                rows.to_csv(bad_path, mode="a", index=False, header=not bad_path.exists(),
                                            columns=list(CSV_COLUMNS))
                                bad_counts = {k: bad_counts[k] + counts[k] for k in bad_counts}
                            if bar is not None:
                                bar.update(hi - lo)
        finally:
            stops_writer.close()
            if bar is not None:
                bar.close()
    daily = pd.concat(daily_tables, ignore_index=True)
    write_parquet(daily, truth / "daily.parquet")
    status = weekly_status(people, params, daily)
    write_parquet(status, truth / "weekly_status.parquet")
    write_parquet(area_weekly(people, status), truth / "area_weekly.parquet")
    if params.inject_bad_share > 0:
        reasons = dict(BAD_KINDS)
        write_json({"file": "pings/bad-rows.csv", "total": int(sum(bad_counts.values())),
                    "kinds": {k: {"count": v, "reason": reasons[k]} for k, v in bad_counts.items()}},
                   truth / "bad_rows.json")
    manifest = dict(manifest, n_parts=len(parts), n_pings=int(n_pings_total))
    write_json(manifest, root / "region.json")


def _batch(params, people, places, calendar, span, seed, part, b, first_number, venues):
    batch = Batch.from_people(people, calendar, first_number, None if params.is_easy else places, params)
    days: dict[str, list] = {}
    stops = simulate_stops(params, batch, calendar, _rng(seed, "stops", part, b), venues,
                           rng_life=_rng(seed, "life_daily", part, b), daily=days)
    phone = pd.Index(PHONE_KINDS).get_indexer(people["phone_kind"].astype(str))
    day0 = calendar.dates[0]
    phone_day = np.where(people["phone_date"].notna(), (people["phone_date"] - day0).dt.days.fillna(0), -1
                         ).astype(np.int64)
    drop = None
    if (phone >= PHONE_KINDS.index("churn")).any():
        cut_s = calendar.midnight_utc_s[np.clip(phone_day, 0, len(calendar.dates))]
        drop = phone_filter(phone, cut_s, calendar.midnight_utc_s, calendar.noon_base_utc_s)
    pings, n_pings = sample_pings(params, stops, people["pings_per_hour"].to_numpy(float), span[0], span[1],
                                  _rng(seed, "pings", part, b), drop=drop)
    ids = pa.array(people["user_id"].to_numpy(dtype=str), pa.string())
    to_ts = lambda s: pa.array((s * 1e9).round().astype("int64"), pa.int64()).cast(
        pa.timestamp("ns", tz="UTC"))
    ping_table = pa.table({
        "user_id": pc.take(ids, pings["person"]),
        "timestamp": pa.array(pings["t_s"] * 1_000_000_000, pa.int64()).cast(pa.timestamp("ns", tz="UTC")),
        "lat": pings["lat"], "lon": pings["lon"], "accuracy_m": pings["accuracy_m"],
    }, schema=PINGS_SCHEMA)
    stop_table = pa.table({
        "user_id": pc.take(ids, stops["person"]),
        "start": to_ts(stops["start"]), "end": to_ts(stops["end"]),
        "lat": stops["lat"], "lon": stops["lon"], "place_id": stops["place_id"],
        "kind": pa.array(np.asarray(KINDS, dtype=object)[stops["kind"]], pa.string()), "n_pings": n_pings,
    }, schema=STOPS_SCHEMA)
    return ping_table, stop_table, _daily_table(people, places, calendar, days, pings, phone_day, first_number)


def _daily_table(people, places, calendar, days, pings, phone_day, first_number) -> pd.DataFrame:
    """The ``truth/daily.parquet`` rows of a batch: one per person and local day."""
    n, nd = len(people), len(calendar.dates)
    # pings per person and day, one person at a time (pings are sorted by person, then time): no per-ping
    # temporaries beside the batch's ~10M pings
    bounds = np.searchsorted(pings["person"], np.arange(n + 1))
    per_day = np.zeros((n, nd), dtype=np.int64)
    for i in range(n):
        per_day[i] = np.diff(np.searchsorted(pings["t_s"][bounds[i]:bounds[i + 1]], calendar.midnight_utc_s))
    state = daily_phone_state(people["phone_kind"].to_numpy(str), phone_day, per_day)
    stack = lambda key: np.stack(days[key], axis=1).ravel()  # (n, days), person-major
    number = np.repeat(first_number + np.arange(n), nd).astype(np.int64)
    home_id = number * PLACE_ID_STRIDE + stack("home_code")
    work_code = stack("work_code")
    work_id = np.where(work_code >= 0, number * PLACE_ID_STRIDE + work_code, -1)
    cbg = places.drop_duplicates("place_id").set_index("place_id")["cbg"]
    return pd.DataFrame({
        "user_id": pd.array(np.repeat(people["user_id"].to_numpy(str), nd), dtype="string"),
        "date": pd.DatetimeIndex(np.tile(calendar.dates.values, n)).as_unit("ns"),
        "home_place_id": home_id,
        "home_cbg": pd.array(cbg.reindex(home_id).to_numpy(object), dtype="string"),
        "work_place_id": pd.array(np.where(work_id >= 0, work_id, None), dtype="Int64"),
        "work_cbg": pd.array(cbg.reindex(work_id).to_numpy(object), dtype="string"),
        "worked_onsite": stack("onsite").astype(bool),
        "work_mode": pd.array(np.asarray(MODES, dtype=object)[stack("mode")], dtype="string"),
        "phone_state": pd.array(np.asarray(PHONE_STATES, dtype=object)[state.ravel()], dtype="string"),
        "n_pings": per_day.ravel().astype(np.int64),
    })


def _effects(params: SyntheticParams, people: pd.DataFrame) -> dict:
    """Planted effects: the parameters plus the curves they imply."""
    mondays = week_mondays(params)
    shape = hazard_shape(params, mondays)
    mult = np.asarray(params.sector_hazard_multiplier)
    weeks = np.arange(len(mondays))
    curves = {}
    for name in ("explore", "radius", "outing"):
        mx = getattr(params, f"{name}_effect_max")
        base = effect_curve(weeks.astype(float), mx, params.effect_tau_weeks)
        curves[name] = {"normal": base.tolist(),
                        "vulnerable": np.minimum(base * params.vulnerable_effect_multiplier, 0.95).tolist()}
    remote_p = np.clip(params.remote_adoption_slope * TELEWORK_TAU, 0, 1)
    if params.remote_by_person and not params.is_easy:  # per worker with a fixed workplace, before the window ends
        remote_p = TELEWORK_TAU * params.remote_takeup_teleworkable + (1 - TELEWORK_TAU) * params.remote_takeup_other
    out = {
        "params": params.to_dict(),
        "weeks": [d.strftime("%Y-%m-%d") for d in mondays],
        "hazard_shape": shape.tolist(),
        "sector_job_loss_hazard_per_week": {
            s: (params.baseline_job_loss_hazard_per_week + params.peak_job_loss_hazard_per_week * shape * mult[i])
            .tolist() for i, s in enumerate(SECTORS)},
        "sector_tau": dict(zip(SECTORS, TELEWORK_TAU.tolist())),
        "sector_remote_probability": dict(zip(SECTORS, remote_p.tolist())),
        "job_loss_effect_by_weeks_since_loss": {
            "weeks_since_job_loss": weeks.tolist(), **curves,
            "formula": "effect(w) = max * (1 - exp(-w / effect_tau_weeks)); vulnerable: x "
                       "vulnerable_effect_multiplier, capped at 0.95; applies while unemployed",
            "log_scale_of_new_place_distance": {
                k: np.log1p(-np.asarray(v)).tolist() for k, v in curves["radius"].items()},
        },
        "realised": {
            "people": int(len(people)), "with_job": int(people["has_job"].sum()),
            "job_losers": int(people["job_loss_date"].notna().sum()),
            "rehired": int(people["rehire_date"].notna().sum()),
            "goes_remote": int(people["goes_remote"].sum()),
        },
    }
    if not params.is_easy:  # the lives (an easy region's effects.json stays that of generator 1.0)
        count = lambda col: {str(k): int(v) for k, v in people[col].value_counts(sort=False).sort_index().items()}
        out["realised"].update({
            "schedule": count("schedule"), "workplace_kind": count("workplace_kind"), "phone_kind": count("phone_kind"),
            "hybrid": int((people["hybrid_onsite_days"] > 0).sum()),
            "back_on_site": int(people["remote_end_date"].notna().sum()),
            "movers": int(people["move_date"].notna().sum()),
            "job_changers": int(people["job_change_date"].notna().sum()),
            "rehired_at_a_new_workplace": int(people["rehire_new_workplace"].sum()),
        })
    return out


def load_truth(region_dir: str | os.PathLike) -> dict[str, pd.DataFrame | dict]:
    """Read the truth tables of a region: ``people``, ``stops``, ``weekly_status``, ``area_weekly``,
    ``daily``, ``places`` (DataFrames), ``effects`` and, when bad rows were injected, ``bad_rows`` (dicts); ``venues``
    (DataFrame) when the region has shared venues.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = generate_region(pathlib.Path(tempfile.mkdtemp()) / "r", SyntheticParams(n_users=5, end="2020-01-07"))
    >>> t = load_truth(d)
    >>> sorted(t), len(t["people"])
    (['area_weekly', 'daily', 'effects', 'people', 'places', 'stops', 'weekly_status'], 5)
    """
    truth = Path(region_dir) / "truth"
    if not truth.is_dir():
        raise MobilityError(f"{region_dir}: no truth/ folder; is this a synthetic region made by "
                            "mobility.synthetic.generate_region?")
    out: dict[str, pd.DataFrame | dict] = {}
    for name in ("people", "stops", "weekly_status", "area_weekly", "daily", "places"):
        path = truth / f"{name}.parquet"
        if not path.exists():
            raise MobilityError(f"{path} missing; regenerate the region with generate_region")
        out[name] = pd.read_parquet(path)
    if (truth / "venues.parquet").exists():
        out["venues"] = pd.read_parquet(truth / "venues.parquet")
    for name in ("effects", "bad_rows"):
        path = truth / f"{name}.json"
        if path.exists():
            out[name] = json.loads(path.read_text())
    return out
