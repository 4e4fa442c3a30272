"""True weekly employment status per person and its county aggregate (the ground truth for estimates)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mobility.synthetic.params import SyntheticParams
from mobility.synthetic.people import week_mondays

STATUSES = ("employed", "remote", "unemployed", "no_job")


def weekly_status(people: pd.DataFrame, params: SyntheticParams) -> pd.DataFrame:
    """Status of each person in each week, as it holds on the week's Wednesday (local calendar).

    ``no_job``: never employed in the window; ``unemployed``: ``job_loss_date <= Wednesday < rehire_date``;
    ``remote``: employed, ``goes_remote`` and Wednesday on or after ``shock_date``; else ``employed``.
    ``weeks_since_job_loss`` counts whole weeks from the (Monday) job-loss date, also after a rehire.

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
    has_job = np.repeat(people["work_cbg"].notna().to_numpy(), w)
    lost = ~np.isnat(loss) & (loss <= wed) & (np.isnat(rehire) | (wed < rehire))
    remote = rep("goes_remote").astype(bool) & (wed >= np.datetime64(pd.Timestamp(params.shock_date), "ns"))
    status = np.where(~has_job, "no_job", np.where(lost, "unemployed", np.where(remote, "remote", "employed")))
    after = ~np.isnat(loss) & (monday >= loss)
    since = np.full(len(monday), -1, dtype=np.int64)
    since[after] = (monday[after] - loss[after]) // np.timedelta64(7, "D")
    return pd.DataFrame({
        "user_id": pd.array(rep("user_id"), dtype="string"),
        "week": pd.DatetimeIndex(monday).as_unit("ns"),
        "status": pd.array(status, dtype="string"),
        "weeks_since_job_loss": pd.array(np.where(since >= 0, since, None), dtype="Int64"),
    })


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
