"""Score pipeline outputs against a synthetic region's ground truth.

These are the yardsticks of the project's evidence (stops, home and work labels); the employment
scores live with the employment method (:func:`mobility.employment.validation.evaluate_against_truth`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


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


def stop_recall_precision(found: pd.DataFrame, truth: pd.DataFrame, *, min_duration: str = "20min",
                          min_pings: int = 2) -> dict:
    """Recall of true stops (>= ``min_duration``, >= ``min_pings`` pings) and precision of detected stops.

    A true stop is found when a detected stop of the same user overlaps it in time; a detected stop is
    correct when it overlaps some true stop.

    Examples
    --------
    >>> t = lambda s: pd.Timestamp(s, tz="UTC")
    >>> truth = pd.DataFrame({"user_id": ["a", "a"], "start": [t("2020-01-01 00:00"), t("2020-01-01 10:00")],
    ...                       "end": [t("2020-01-01 08:00"), t("2020-01-01 11:00")], "n_pings": [9, 3]})
    >>> found = pd.DataFrame({"user_id": ["a", "a"], "start": [t("2020-01-01 00:10"), t("2020-01-01 09:00")],
    ...                       "end": [t("2020-01-01 07:50"), t("2020-01-01 09:30")]})
    >>> stop_recall_precision(found, truth)
    {'recall': 0.5, 'precision': 0.5, 'true_stops': 2, 'detected_stops': 2}
    """
    long = detectable_stops(truth, min_duration=min_duration, min_pings=min_pings)
    ns = lambda s: s.to_numpy(dtype="datetime64[ns]", na_value=np.datetime64("NaT")).astype(np.int64)
    hit = _overlaps_any(long["user_id"].to_numpy(object), ns(long["start"]), ns(long["end"]),
                        found["user_id"].to_numpy(object), ns(found["start"]), ns(found["end"]))
    right = _overlaps_any(found["user_id"].to_numpy(object), ns(found["start"]), ns(found["end"]),
                          truth["user_id"].to_numpy(object), ns(truth["start"]), ns(truth["end"]))
    return {"recall": float(hit.mean()) if len(hit) else float("nan"),
            "precision": float(right.mean()) if len(right) else float("nan"),
            "true_stops": int(len(long)), "detected_stops": int(len(found))}


def home_work_accuracy(labels: pd.DataFrame, people: pd.DataFrame, *, shock_date: str) -> dict:
    """Daily CBG labels (``home_work_daily``) against ``truth/people.parquet``.

    Commuting days: the person has a job, is not between job loss and rehire, and is not a remote worker
    on or after ``shock_date``. Days after a job loss: from ``job_loss_date`` to the rehire (or the end).

    Examples
    --------
    >>> people = pd.DataFrame({"user_id": ["a"], "home_cbg": ["1"], "work_cbg": ["2"], "goes_remote": [False],
    ...                        "job_loss_date": [pd.Timestamp("2020-01-03")], "rehire_date": [pd.NaT]})
    >>> labels = pd.DataFrame({"user_id": ["a"] * 3, "date": pd.date_range("2020-01-01", periods=3),
    ...                        "home_cbg": ["1", "1", None], "work_cbg": ["2", None, None]})
    >>> r = home_work_accuracy(labels, people, shock_date="2020-03-16")
    >>> r["home_correct_of_labelled"], r["work_labelled_share_of_commuting_days"], r["no_work_after_job_loss"]
    (1.0, 0.5, 1.0)
    """
    df = labels.merge(people[["user_id", "home_cbg", "work_cbg", "goes_remote", "job_loss_date", "rehire_date"]],
                      on="user_id", how="left", suffixes=("", "_true"))
    has_home = df["home_cbg"].notna()
    loss, rehire = df["job_loss_date"], df["rehire_date"]
    jobless = loss.notna() & (df["date"] >= loss) & (rehire.isna() | (df["date"] < rehire))
    remote = df["goes_remote"].astype(bool) & (df["date"] >= pd.Timestamp(shock_date))
    commuting = df["work_cbg_true"].notna() & ~jobless & ~remote
    has_work = commuting & df["work_cbg"].notna()
    mean = lambda mask: float(mask.mean()) if len(mask) else float("nan")
    return {
        "home_correct_of_labelled": mean(df.loc[has_home, "home_cbg"] == df.loc[has_home, "home_cbg_true"]),
        "home_labelled_share": mean(has_home),
        "work_correct_of_labelled_commuting_days": mean(
            df.loc[has_work, "work_cbg"] == df.loc[has_work, "work_cbg_true"]),
        "work_labelled_share_of_commuting_days": float(has_work.sum() / max(int(commuting.sum()), 1)),
        "no_work_after_job_loss": mean(df.loc[jobless, "work_cbg"].isna()),
        "person_days_after_job_loss": int(jobless.sum()),
    }
