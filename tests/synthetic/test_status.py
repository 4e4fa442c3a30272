import pandas as pd

from mobility.synthetic import load_truth


def test_weekly_status_matches_people_dates(tiny_region, tiny_params):
    truth = load_truth(tiny_region)
    people = truth["people"].set_index("user_id")
    st = truth["weekly_status"]
    assert str(st["week"].dtype) == "datetime64[ns]" and (st["week"].dt.day_of_week == 0).all()
    assert len(st) == len(people) * 4  # Mondays 2020-03-02, 09, 16 and 23
    daily = truth["daily"]
    week_of = daily["date"] - pd.to_timedelta(daily["date"].dt.day_of_week, unit="D")
    remote_days = (daily["work_mode"] == "remote").groupby([daily["user_id"], week_of]).sum()
    onsite_days = (daily["work_mode"] == "onsite").groupby([daily["user_id"], week_of]).sum()
    for _, row in st.iterrows():
        p = people.loc[row["user_id"]]
        wed = row["week"] + pd.Timedelta(days=2)
        key = (row["user_id"], row["week"])
        if not p["has_job"]:
            expect = "no_job"
        elif pd.notna(p["job_loss_date"]) and p["job_loss_date"] <= wed and (
                pd.isna(p["rehire_date"]) or wed < p["rehire_date"]):
            expect = "unemployed"
        elif remote_days[key] > 0:  # worked from home on a scheduled day of the week
            expect = "remote"
        else:
            expect = "employed"
        assert row["status"] == expect
        assert row["onsite_days"] == onsite_days[key]
        assert row["hybrid"] == (expect == "remote" and onsite_days[key] > 0)
        assert row["schedule"] == p["schedule"]
        if pd.notna(p["job_loss_date"]) and row["week"] >= p["job_loss_date"]:
            assert row["weeks_since_job_loss"] == (row["week"] - p["job_loss_date"]).days // 7
        else:
            assert pd.isna(row["weeks_since_job_loss"])
    assert {"unemployed", "remote", "employed"} <= set(st["status"])


def test_area_weekly_counts_people(tiny_region):
    truth = load_truth(tiny_region)
    area = truth["area_weekly"]
    assert "user_id" not in area.columns
    st = truth["weekly_status"].merge(truth["people"][["user_id", "county"]], on="user_id")
    for _, a in area.iterrows():
        s = st[(st["county"] == a["county"]) & (st["week"] == a["week"])]
        assert a["labour_force"] == (s["status"] != "no_job").sum()
        assert a["unemployed"] == (s["status"] == "unemployed").sum()
        if a["labour_force"]:
            assert a["rate"] == a["unemployed"] / a["labour_force"]
