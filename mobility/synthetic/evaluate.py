"""Score pipeline outputs against a synthetic region's ground truth.

These are the yardsticks of the project's evidence: stops (by time and distance), home and work labels per
person-day, and the per-group table (:func:`group_scores`: each schedule, workplace and phone kind) that
every method change reports before and after. The person-week scores of the employment methods as a whole
live with the employment method (:func:`mobility.employment.validation.evaluate_against_truth`).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from mobility.errors import MobilityError
from mobility.kernels.geo import haversine_m


def _overlaps_any(a_user, a_start, a_end, b_user, b_start, b_end) -> np.ndarray:
    """For each interval of A, whether some interval of B of the same user overlaps it (ends inclusive).

    B's intervals of one user must not overlap each other (true for stops), so the only candidate is the
    last B interval starting at or before A's end.
    """
    users = pd.Index(pd.unique(np.concatenate([np.asarray(a_user, dtype=object), np.asarray(b_user, dtype=object)])))
    ua, ub = users.get_indexer(a_user), users.get_indexer(b_user)
    order = np.lexsort((b_start, ub))
    ub, bs, be = ub[order], np.asarray(b_start)[order], np.asarray(b_end)[order]
    # position of the last B row with (user, start) <= (user of A, end of A)
    key_b = np.rec.fromarrays([ub, bs])
    key_a = np.rec.fromarrays([ua, np.asarray(a_end)])
    pos = np.searchsorted(key_b, key_a, side="right") - 1
    ok = pos >= 0
    safe = np.where(ok, pos, 0)
    return ok & (ub[safe] == ua) & (be[safe] >= np.asarray(a_start))


def detectable_stops(truth: pd.DataFrame, *, min_duration: str = "20min", min_pings: int = 2) -> pd.DataFrame:
    """The true stops a detector is scored on: at least ``min_duration`` long with at least ``min_pings`` pings.

    Examples
    --------
    >>> t = pd.Timestamp("2020-01-01", tz="UTC")
    >>> truth = pd.DataFrame({"start": [t, t], "end": [t + pd.Timedelta("30min"), t + pd.Timedelta("10min")],
    ...                       "n_pings": [3, 3]})
    >>> len(detectable_stops(truth))
    1
    """
    return truth[((truth["end"] - truth["start"]) >= pd.Timedelta(min_duration)) & (truth["n_pings"] >= min_pings)]


def _seconds(col: pd.Series) -> np.ndarray:
    return col.to_numpy(dtype="datetime64[ns]", na_value=np.datetime64("NaT")).astype("datetime64[s]").astype(np.int64)


def stop_pairs(found: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Every (detected stop, true stop) pair of the same user that overlaps in time (touching ends count).

    True stops of a user must not overlap each other (true of ``truth/stops.parquet``), so the true stops
    overlapping a detected stop are a run of consecutive ones. Returns ``found`` and ``true`` (row positions
    in the two tables), ``overlap_s`` and ``distance_m`` (detected stop's coordinates to the true place).

    Examples
    --------
    >>> t = lambda s: pd.Timestamp(s, tz="UTC")
    >>> truth = pd.DataFrame({"user_id": ["a", "a"], "start": [t("2020-01-01 00:00"), t("2020-01-01 10:00")],
    ...                       "end": [t("2020-01-01 08:00"), t("2020-01-01 11:00")], "lat": [40.0, 40.01],
    ...                       "lon": [-75.0, -75.0]})
    >>> found = pd.DataFrame({"user_id": ["a"], "start": [t("2020-01-01 07:00")], "end": [t("2020-01-01 10:30")],
    ...                       "lat": [40.0], "lon": [-75.0]})
    >>> stop_pairs(found, truth)[["found", "true", "overlap_s"]].values.tolist()
    [[0, 0, 3600], [0, 1, 1800]]
    """
    users = pd.Index(pd.unique(np.concatenate([found["user_id"].astype(str).to_numpy(),
                                               truth["user_id"].astype(str).to_numpy()])))
    big = np.int64(10**10)  # seconds key per user: user * big + UTC seconds
    uf = users.get_indexer(found["user_id"].astype(str)).astype(np.int64) * big
    ut = users.get_indexer(truth["user_id"].astype(str)).astype(np.int64) * big
    fs, fe = uf + _seconds(found["start"]), uf + _seconds(found["end"])
    ts, te = ut + _seconds(truth["start"]), ut + _seconds(truth["end"])
    order = np.argsort(ts, kind="stable")
    ts_o, te_o = ts[order], te[order]
    lo = np.searchsorted(te_o, fs, side="left")  # first true stop ending at or after the detected start
    hi = np.searchsorted(ts_o, fe, side="right")  # first true stop starting after the detected end
    count = np.maximum(hi - lo, 0)
    f = np.repeat(np.arange(len(found)), count)
    first = np.repeat(lo, count)
    k = np.arange(len(f)) - np.repeat(np.cumsum(count) - count, count)
    t = order[first + k]
    overlap = np.minimum(fe[f], te[t]) - np.maximum(fs[f], ts[t])
    keep = overlap >= 0
    f, t, overlap = f[keep], t[keep], overlap[keep]
    dist = haversine_m(found["lat"].to_numpy(float)[f], found["lon"].to_numpy(float)[f],
                       truth["lat"].to_numpy(float)[t], truth["lon"].to_numpy(float)[t])
    return pd.DataFrame({"found": f, "true": t, "overlap_s": overlap, "distance_m": dist})


def stop_recall_precision(found: pd.DataFrame, truth: pd.DataFrame, *, radius_m: float = 200.0,
                          min_duration: str = "20min", min_pings: int = 2) -> dict:
    """Detected stops against the true stops, matched by time AND distance.

    A detected stop matches a true stop of the same user when the two overlap in time and the detected stop
    lies within ``radius_m`` (the detection radius) of the true place. Scores: ``recall`` (share of the true
    stops of at least ``min_duration`` with at least ``min_pings`` pings that some detected stop matches),
    ``precision`` (share of detected stops matching some true stop), ``time_covered`` (share of those true
    stops' time covered by matching detected stops), ``time_precision`` (share of detected stop time inside
    a matching true stop), ``detected_per_true`` (detected stops per scored true stop) and
    ``matches_per_found`` (matching detected stops per found true stop: above 1 when stays are split).

    Examples
    --------
    >>> t = lambda s: pd.Timestamp(s, tz="UTC")
    >>> truth = pd.DataFrame({"user_id": ["a", "a"], "start": [t("2020-01-01 00:00"), t("2020-01-01 10:00")],
    ...                       "end": [t("2020-01-01 08:00"), t("2020-01-01 11:00")], "n_pings": [9, 3],
    ...                       "lat": [40.0, 40.01], "lon": [-75.0, -75.0]})
    >>> found = pd.DataFrame({"user_id": ["a", "a"], "start": [t("2020-01-01 00:10"), t("2020-01-01 10:00")],
    ...                       "end": [t("2020-01-01 07:50"), t("2020-01-01 10:30")], "lat": [40.0, 40.0],
    ...                       "lon": [-75.0, -75.0]})  # the second lies 1.1 km from its true place
    >>> r = stop_recall_precision(found, truth)
    >>> r["recall"], r["precision"], round(r["time_covered"], 3), r["true_stops"], r["detected_stops"]
    (0.5, 0.5, 0.852, 2, 2)
    """
    if not (isinstance(radius_m, (int, float)) and radius_m > 0):
        raise MobilityError(f"stop_recall_precision: radius_m={radius_m!r} must be a number > 0 (metres)")
    for name, table in (("found", found), ("truth", truth)):
        missing = [c for c in ("user_id", "start", "end", "lat", "lon") if c not in table.columns]
        if missing:
            raise MobilityError(f"stop_recall_precision: {name} lacks columns {missing}; pass stops with "
                                "user_id, start, end, lat, lon")
    scored = detectable_stops(truth, min_duration=min_duration, min_pings=min_pings).index
    is_scored = np.zeros(len(truth), dtype=bool)
    is_scored[truth.index.get_indexer(scored)] = True
    pairs = stop_pairs(found, truth)
    near = pairs[pairs["distance_m"] <= radius_m]
    hit_true = np.zeros(len(truth), dtype=bool)
    hit_true[near["true"].to_numpy()] = True
    hit_found = np.zeros(len(found), dtype=bool)
    hit_found[near["found"].to_numpy()] = True
    scored_near = near[is_scored[near["true"].to_numpy()]]
    true_s = (_seconds(truth["end"]) - _seconds(truth["start"]))[is_scored].sum()
    found_s = (_seconds(found["end"]) - _seconds(found["start"])).sum()
    n_true, n_found = int(is_scored.sum()), len(found)
    mean = lambda a: float(a.mean()) if len(a) else float("nan")
    found_true = int((hit_true & is_scored).sum())
    return {"recall": mean(hit_true[is_scored]), "precision": mean(hit_found),
            "time_covered": float(scored_near["overlap_s"].sum() / true_s) if true_s else float("nan"),
            "time_precision": float(near["overlap_s"].sum() / found_s) if found_s else float("nan"),
            "detected_per_true": n_found / n_true if n_true else float("nan"),
            "matches_per_found": len(scored_near) / found_true if found_true else float("nan"),
            "true_stops": n_true, "detected_stops": n_found, "radius_m": float(radius_m)}


def _truth_tables(truth) -> dict:
    if isinstance(truth, (str, os.PathLike)):  # only the tables and columns the scores read (not the true stops)
        folder = Path(truth) / "truth"
        missing = [n for n in TRUTH_COLUMNS if not (folder / f"{n}.parquet").exists()]
        if missing:
            raise MobilityError(f"{truth}: truth/{missing[0]}.parquet missing; pass a region made by "
                                "mobility.synthetic.generate_region (generator 2.0)")
        truth = {n: pd.read_parquet(folder / f"{n}.parquet", columns=cols) for n, cols in TRUTH_COLUMNS.items()}
    for name in ("people", "daily", "weekly_status"):
        if name not in truth:
            raise MobilityError(f"truth lacks the '{name}' table; pass a region made by generate_region "
                                "(generator 2.0) or load_truth(region_dir)")
    return truth


def _run_tables(run) -> dict:
    if isinstance(run, (str, os.PathLike)):
        from mobility.pipeline.runner import read_table

        out = {"home_work_daily": read_table(Path(run), "home_work_daily", columns=RUN_COLUMNS["home_work_daily"])}
        try:
            out["employment_weekly"] = read_table(Path(run), "employment_weekly",
                                                  columns=RUN_COLUMNS["employment_weekly"])
        except MobilityError:  # a run that stopped before the employment stage: home/work scores only
            out["employment_weekly"] = None
        return out
    return run


def person_days(labels: pd.DataFrame, daily: pd.DataFrame) -> pd.DataFrame:
    """The daily truth with the day's labels (``home_cbg``, ``work_cbg`` from ``home_work_daily``; NA where
    the pipeline gave none) and the flags the scores use: ``home_labelled``, ``home_correct``,
    ``commuting`` (worked on site at a regular workplace), ``work_labelled``, ``work_correct``.

    Examples
    --------
    >>> daily = pd.DataFrame({"user_id": ["a", "a"], "date": pd.to_datetime(["2020-01-01", "2020-01-02"]),
    ...     "home_cbg": ["1", "1"], "work_cbg": ["2", "2"], "work_place_id": [1, 1], "worked_onsite": [True, False]})
    >>> labels = pd.DataFrame({"user_id": ["a"], "date": pd.to_datetime(["2020-01-01"]), "home_cbg": ["1"],
    ...                        "work_cbg": ["3"]})
    >>> person_days(labels, daily)[["home_correct", "commuting", "work_labelled", "work_correct"]].values.tolist()
    [[True, True, True, False], [False, False, False, False]]
    """
    lab = labels[["user_id", "date", "home_cbg", "work_cbg"]].assign(
        user_id=labels["user_id"].astype(str), date=pd.to_datetime(labels["date"]).dt.normalize())
    tru = daily.assign(user_id=daily["user_id"].astype(str))
    df = tru.merge(lab, on=["user_id", "date"], how="left", suffixes=("_true", ""))
    df["home_labelled"] = df["home_cbg"].notna().to_numpy(bool)
    df["home_correct"] = (df["home_labelled"] & (df["home_cbg"].astype(str) == df["home_cbg_true"].astype(str))
                          ).to_numpy(bool)
    df["commuting"] = (df["worked_onsite"].astype(bool) & df["work_place_id"].notna()).to_numpy(bool)
    df["work_labelled"] = (df["commuting"] & df["work_cbg"].notna()).to_numpy(bool)
    df["work_correct"] = (df["work_labelled"] & (df["work_cbg"].astype(str) == df["work_cbg_true"].astype(str))
                          ).to_numpy(bool)
    return df


def home_work_accuracy(labels: pd.DataFrame, daily: pd.DataFrame) -> dict:
    """Daily CBG labels (``home_work_daily``) against the daily truth (``truth/daily.parquet``), all people.

    Home: each day's true home (moves included). Work: commuting days (the person worked on site at a
    regular workplace that day, the workplace of that day). Days after a job loss: ``work_mode`` unemployed.

    Examples
    --------
    >>> daily = pd.DataFrame({"user_id": ["a"] * 3, "date": pd.date_range("2020-01-01", periods=3),
    ...     "home_cbg": ["1"] * 3, "work_cbg": ["2", "2", None], "work_place_id": [1, 1, None],
    ...     "worked_onsite": [True, True, False], "work_mode": ["onsite", "onsite", "unemployed"]})
    >>> labels = pd.DataFrame({"user_id": ["a"] * 3, "date": pd.date_range("2020-01-01", periods=3),
    ...                        "home_cbg": ["1", "1", None], "work_cbg": ["2", None, None]})
    >>> r = home_work_accuracy(labels, daily)
    >>> r["home_correct_of_labelled"], r["work_labelled_share_of_commuting_days"], r["no_work_after_job_loss"]
    (1.0, 0.5, 1.0)
    """
    df = person_days(labels, daily)
    jobless = (df["work_mode"] == "unemployed").to_numpy(bool)
    mean = lambda mask: float(np.mean(mask)) if len(mask) else float("nan")
    return {
        "home_correct_of_labelled": mean(df.loc[df["home_labelled"], "home_correct"]),
        "home_labelled_share": mean(df["home_labelled"]),
        "work_correct_of_labelled_commuting_days": mean(df.loc[df["work_labelled"], "work_correct"]),
        "work_labelled_share_of_commuting_days": float(df["work_labelled"].sum() / max(int(df["commuting"].sum()), 1)),
        "no_work_after_job_loss": mean(df.loc[jobless, "work_cbg"].isna()),
        "person_days_after_job_loss": int(jobless.sum()),
    }


#: The groups of :func:`group_scores`: a people column each (``all``: everyone).
GROUP_DIMENSIONS = ("all", "schedule", "workplace_kind", "phone_kind")
GROUP_COLUMNS = ("dimension", "group", "method", "people", "home_correct", "home_labelled", "home_labelled_phone_ok",
                 "commuting_days", "work_correct", "work_labelled", "work_labelled_phone_ok", "observed_weeks",
                 "known_status", "false_unemployed", "unemployed_found", "failed_phone_weeks",
                 "failed_phone_unemployed")
#: The columns of the truth and run tables :func:`group_scores` reads from a folder (the rest, e.g. the true
#: places' ids and ping counts, stay on disk: at 10^5 people the daily truth is 2.7 10^7 rows).
TRUTH_COLUMNS = {"people": ["user_id", *(d for d in GROUP_DIMENSIONS if d != "all")],
                 "daily": ["user_id", "date", "home_cbg", "work_cbg", "work_place_id", "worked_onsite", "phone_state"],
                 "weekly_status": ["user_id", "week", "status", "phone_state"]}
RUN_COLUMNS = {"home_work_daily": ["user_id", "date", "home_cbg", "work_cbg"],
               "employment_weekly": ["user_id", "week", "method", "status"]}


def group_scores(run, truth) -> pd.DataFrame:
    """Home, work and employment scores per kind of person, from a pipeline run and its region's truth.

    ``run`` is a pipeline output directory or a dict with ``home_work_daily`` and ``employment_weekly``
    (None when the run has no employment stage); ``truth`` is a region directory or :func:`load_truth`'s
    dict. One row per dimension (``all``, ``schedule``, ``workplace_kind``, ``phone_kind``), group and
    employment method (``method`` NA without employment output). Columns (shares in [0, 1], NaN when
    there is nothing to score):

    * ``people``; ``home_correct``: labelled person-days whose home CBG is the day's true one;
      ``home_labelled``: share of all person-days with a home label; ``home_labelled_phone_ok``: the same
      share among days whose phone state is ``ok`` (a churned, degraded or silent day is out of any method's
      reach);
    * ``commuting_days``: days the person truly worked on site at a regular workplace (gig work, remote and
      days off excluded); ``work_correct`` (of those labelled), ``work_labelled`` (share with a label) and
      ``work_labelled_phone_ok`` (that share among commuting days whose phone state is ``ok``);
    * ``observed_weeks``: weeks in the labour force (employed, remote, unemployed) whose phone state is
      ``ok``; ``known_status``: share of them with a status other than ``unknown`` (or no row);
      ``false_unemployed``: share of the observed employed or remote weeks called ``unemployed``;
      ``unemployed_found``: share of the observed unemployed weeks called ``unemployed``;
    * ``failed_phone_weeks``: weeks of a truly employed or remote person whose phone had churned or
      degraded; ``failed_phone_unemployed``: share of them called ``unemployed`` (the goal is 0).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from mobility.synthetic import SyntheticParams, generate_region, load_truth
    >>> region = generate_region(pathlib.Path(tempfile.mkdtemp()) / "r", SyntheticParams(n_users=30,
    ...                          start="2020-03-02", end="2020-03-15"), seed=1)
    >>> truth = load_truth(region)
    >>> perfect = truth["daily"][["user_id", "date", "home_cbg", "work_cbg"]]  # the truth as labels
    >>> t = group_scores({"home_work_daily": perfect, "employment_weekly": None}, truth)
    >>> t.loc[t["dimension"] == "all", ["home_correct", "home_labelled", "work_correct"]].values.tolist()
    [[1.0, 1.0, 1.0]]
    """
    truth, run = dict(_truth_tables(truth)), dict(_run_tables(run))  # own dicts: the day tables are let go below
    people = truth["people"].assign(user_id=truth["people"]["user_id"].astype(str), all="all")
    days = person_days(run.pop("home_work_daily"), truth.pop("daily"))
    flags = ["home_labelled", "home_correct", "commuting", "work_labelled", "work_correct"]
    days = days[["user_id", *flags]].assign(phone_ok=(days["phone_state"] == "ok").to_numpy(bool))
    weeks = truth["weekly_status"].assign(user_id=truth["weekly_status"]["user_id"].astype(str))
    emp = run.get("employment_weekly")
    methods = [None]
    if emp is not None and len(emp):
        emp = emp.assign(user_id=emp["user_id"].astype(str), week=pd.to_datetime(emp["week"]))
        methods = sorted(emp["method"].astype(str).unique())
    lf = weeks["status"].isin(["employed", "remote", "unemployed"]).to_numpy(bool)
    working = weeks["status"].isin(["employed", "remote"]).to_numpy(bool)
    observed = lf & (weeks["phone_state"] == "ok").to_numpy(bool)
    failed = working & weeks["phone_state"].isin(["churned", "degraded"]).to_numpy(bool)
    per_method = {}
    for method in methods:
        if method is None:
            per_method[None] = None
            continue
        e = emp[emp["method"].astype(str) == method][["user_id", "week", "status"]]
        st = weeks[["user_id", "week"]].merge(e, on=["user_id", "week"], how="left")["status"].astype(str)
        per_method[method] = ((st != "unknown") & (st != "<NA>") & (st != "nan")).to_numpy(bool), \
            (st == "unemployed").to_numpy(bool)
    rows = []
    mean = lambda a: float(np.mean(a)) if len(a) else float("nan")
    for dim in GROUP_DIMENSIONS:
        group_of = people.set_index("user_id")[dim].astype("string").fillna("no job")
        d_group = group_of.reindex(days["user_id"]).to_numpy(object)
        w_group = group_of.reindex(weeks["user_id"]).to_numpy(object)
        for group in sorted(pd.unique(group_of)):
            dm, wm = d_group == group, w_group == group
            dd = days[dm]
            base = {"dimension": dim, "group": group, "people": int((group_of == group).sum()),
                    "home_correct": mean(dd.loc[dd["home_labelled"], "home_correct"]),
                    "home_labelled": mean(dd["home_labelled"]),
                    "home_labelled_phone_ok": mean(dd.loc[dd["phone_ok"], "home_labelled"]),
                    "commuting_days": int(dd["commuting"].sum()),
                    "work_correct": mean(dd.loc[dd["work_labelled"], "work_correct"]),
                    "work_labelled": mean(dd.loc[dd["commuting"], "work_labelled"]),
                    "work_labelled_phone_ok": mean(dd.loc[dd["commuting"] & dd["phone_ok"], "work_labelled"]),
                    "observed_weeks": int((observed & wm).sum()), "failed_phone_weeks": int((failed & wm).sum())}
            for method, flags in per_method.items():
                row = dict(base, method=method)
                if flags is not None:
                    known, unemp = flags
                    obs = observed & wm
                    row.update(known_status=mean(known[obs]), false_unemployed=mean(unemp[obs & working]),
                               unemployed_found=mean(unemp[obs & ~working]),
                               failed_phone_unemployed=mean(unemp[failed & wm]))
                rows.append(row)
    out = pd.DataFrame(rows).reindex(columns=list(GROUP_COLUMNS))
    out["method"] = out["method"].astype("string")
    return out


def group_table_markdown(scores: pd.DataFrame, method: str | None = None, digits: int = 3) -> str:
    """:func:`group_scores` of one method as a Markdown table (shares as percentages).

    Examples
    --------
    >>> s = pd.DataFrame([{"dimension": "all", "group": "all", "method": "signal", "people": 3, "home_correct": 0.5,
    ...                    "home_labelled": 1.0, "commuting_days": 4, "work_correct": float("nan")}])
    >>> print(group_table_markdown(s, "signal").splitlines()[2])
    | all | all | 3 | 50.0 % | 100.0 % | 4 | - |
    """
    t = scores if method is None else scores[scores["method"].astype(str) == method]
    cols = [c for c in GROUP_COLUMNS if c in t.columns and c != "method"]
    pct = {c for c in cols if c not in ("dimension", "group", "people", "commuting_days", "observed_weeks",
                                        "failed_phone_weeks")}
    fmt = lambda c, v: "-" if pd.isna(v) else (f"{100 * v:.{max(digits - 2, 0)}f} %" if c in pct else str(v))
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(fmt(c, r[c]) for c in cols) + " |" for _, r in t.iterrows()]
    return "\n".join(lines)
