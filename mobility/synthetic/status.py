"""True weekly employment status per person and its county aggregate (the ground truth for estimates)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mobility.synthetic.params import SyntheticParams
from mobility.synthetic.people import week_mondays

STATUSES = ("employed", "remote", "unemployed", "no_job")


def weekly_status(people: pd.DataFrame, params: SyntheticParams, daily: pd.DataFrame | None = None) -> pd.DataFrame:
    """Status of each person in each week, as it holds on the week's Wednesday (local calendar).

    ``no_job``: no job at the start of the window; ``unemployed``: ``job_loss_date <= Wednesday <
    rehire_date``; ``remote``: employed and working from home on at least one scheduled day of the week
    (from the ``daily`` truth; without it, ``goes_remote`` and Wednesday on or after ``shock_date``); else
    ``employed``. ``weeks_since_job_loss`` counts whole weeks from the (Monday) job-loss date, also after a
    rehire. With ``daily`` (``truth/daily.parquet``) the table also has ``hybrid`` (a remote week with at
    least one day on site), ``onsite_days`` (days worked on site, or at gig places), ``schedule`` and
    ``phone_state`` (:func:`mobility.synthetic.phones.weekly_phone_state`).

    Examples
    --------
    >>> p = SyntheticParams(start="2020-03-02", end="2020-03-29", shock_date="2020-03-16",
    ...                     hazard_peak_date="2020-03-16")
    >>> people = pd.DataFrame({"user_id": ["a", "b"], "work_cbg": ["421010001001", None],
    ...     "goes_remote": [True, False], "job_loss_date": pd.to_datetime(["2020-03-23", None]),
    ...     "rehire_date": pd.to_datetime([None, None])})
    >>> weekly_status(people, p).query("user_id == 'a'")["status"].tolist()
    ['employed', 'employed', 'remote', 'unemployed']
    """
    mondays = week_mondays(params)
    n, w = len(people), len(mondays)
    wed = np.tile(mondays.values + np.timedelta64(2, "D"), n)
    monday = np.tile(mondays.values, n)
    rep = lambda col: np.repeat(people[col].to_numpy(), w)
    loss = np.repeat(people["job_loss_date"].to_numpy("datetime64[ns]"), w)
    rehire = np.repeat(people["rehire_date"].to_numpy("datetime64[ns]"), w)
    has_job = np.repeat((people["has_job"] if "has_job" in people.columns else people["work_cbg"].notna())
                        .to_numpy(bool), w)
    lost = ~np.isnat(loss) & (loss <= wed) & (np.isnat(rehire) | (wed < rehire))
    remote = rep("goes_remote").astype(bool) & (wed >= np.datetime64(pd.Timestamp(params.shock_date), "ns"))
    status = np.where(~has_job, "no_job", np.where(lost, "unemployed", np.where(remote, "remote", "employed")))
    after = ~np.isnat(loss) & (monday >= loss)
    since = np.full(len(monday), -1, dtype=np.int64)
    since[after] = (monday[after] - loss[after]) // np.timedelta64(7, "D")
    out = pd.DataFrame({
        "user_id": pd.array(rep("user_id"), dtype="string"),
        "week": pd.DatetimeIndex(monday).as_unit("ns"),
        "status": pd.array(status, dtype="string"),
        "weeks_since_job_loss": pd.array(np.where(since >= 0, since, None), dtype="Int64"),
    })
    if daily is None:
        return out
    from mobility.synthetic.phones import weekly_phone_state

    d = daily.assign(week=daily["date"] - pd.to_timedelta(daily["date"].dt.day_of_week, unit="D"),
                     remote_day=daily["work_mode"] == "remote", onsite_day=daily["work_mode"] == "onsite")
    g = d.groupby(["user_id", "week"], sort=True)
    agg = pd.DataFrame({"remote_days": g["remote_day"].sum(), "onsite_days": g["onsite_day"].sum(),
                        "phone_state": weekly_phone_state(d)}).reset_index()
    agg["user_id"] = agg["user_id"].astype("string")
    out = out.merge(agg, on=["user_id", "week"], how="left", validate="one_to_one")
    working = out["status"].isin(["employed", "remote"])
    remote = working & (out["remote_days"] > 0)
    out["status"] = pd.array(np.where(working, np.where(remote, "remote", "employed"), out["status"]),
                             dtype="string")
    out["hybrid"] = (remote & (out["onsite_days"] > 0)).to_numpy(bool)
    out["onsite_days"] = out["onsite_days"].astype(np.int64)
    sched = people.set_index("user_id")["schedule"] if "schedule" in people.columns else None
    out["schedule"] = pd.array(out["user_id"].map(sched) if sched is not None else None, dtype="string")
    return out.drop(columns=["remote_days"])[["user_id", "week", "status", "weeks_since_job_loss", "hybrid",
                                             "onsite_days", "schedule", "phone_state"]]


def area_weekly(people: pd.DataFrame, status: pd.DataFrame) -> pd.DataFrame:
    """County x week counts: ``labour_force`` (employed + remote + unemployed), ``unemployed``, ``rate``.

    Examples
    --------
    >>> people = pd.DataFrame({"user_id": ["a", "b", "c"], "county": ["42101", "42101", "42045"]})
    >>> st = pd.DataFrame({"user_id": ["a", "b", "c"], "week": pd.to_datetime(["2020-03-02"] * 3),
    ...                    "status": ["unemployed", "remote", "no_job"]})
    >>> area_weekly(people, st).to_dict("records")[1]["rate"]
    0.5
    """
    df = status.merge(people[["user_id", "county"]], on="user_id", how="left")
    df["in_lf"] = df["status"] != "no_job"
    df["unemp"] = df["status"] == "unemployed"
    out = df.groupby(["county", "week"], sort=True).agg(labour_force=("in_lf", "sum"),
                                                        unemployed=("unemp", "sum")).reset_index()
    out["labour_force"] = out["labour_force"].astype(np.int64)
    out["unemployed"] = out["unemployed"].astype(np.int64)
    out["rate"] = np.where(out["labour_force"] > 0, out["unemployed"] / out["labour_force"].clip(lower=1), np.nan)
    out["county"] = out["county"].astype("string")
    return out
