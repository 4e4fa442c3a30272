"""Suppression of small cells and the scan of written outputs."""

import numpy as np
import pandas as pd
import pytest

from mobility.errors import MobilityError
from mobility.report.privacy import check_k, privacy_violations, suppress_small


def test_suppress_small_blanks_values_and_counts_keeps_labels():
    t = pd.DataFrame({"area": ["a", "b", "c"], "n_users": [10, 9, np.nan], "rate": [0.1, 0.2, 0.3],
                      "note": ["x", "y", "z"]})
    s = suppress_small(t, k_min_users=10, keep=["area"])
    assert s["suppressed"].tolist() == [False, True, True]
    assert s["area"].tolist() == ["a", "b", "c"]
    assert s.loc[0, "rate"] == 0.1 and s.loc[0, "n_users"] == 10 and s.loc[0, "note"] == "x"
    assert s.loc[1:, "rate"].isna().all() and s.loc[1:, "n_users"].isna().all() and s.loc[1:, "note"].isna().all()


def test_check_k_rejects_bad_thresholds():
    for bad in (1, 0, -3, 2.5, True, "10"):
        with pytest.raises(MobilityError, match="k_min_users"):
            check_k(bad)
    assert check_k(np.int64(5)) == 5
    with pytest.raises(MobilityError, match="n_users"):
        suppress_small(pd.DataFrame({"rate": [0.1]}))


def test_scan_finds_each_kind_of_leak(tmp_path):
    (tmp_path / "ok.csv").write_text("area,n_users,rate\n42101,12,0.125\n42045,,\n")
    (tmp_path / "small.csv").write_text("area,n_users,rate\n42101,4,0.5\n")
    (tmp_path / "coords.csv").write_text("user,lat,lon\nA,39.9526,-75.1652\n")
    (tmp_path / "page.html").write_text("<p>user u000123 lives at 39.95261</p>")
    files = sorted(tmp_path.iterdir())
    assert privacy_violations([tmp_path / "ok.csv"], user_ids=["u000123"], lat_range=(39.0, 41.0),
                              lon_range=(-76.0, -74.0)) == []
    found = privacy_violations(files, user_ids=["u000123", "u9"], lat_range=(39.0, 41.0), lon_range=(-76.0, -74.0))
    text = "\n".join(found)
    assert "small.csv row 0: n_users = 4 < 10 users" in text
    assert "coords.csv: private column(s) ['lat', 'lon']" in text
    assert "coords.csv: coordinate-like number 39.9526" in text
    assert "page.html: user id 'u000123'" in text
    assert "page.html: coordinate-like number 39.95261" in text
    # a rate with 3 decimals or a count is not a coordinate
    (tmp_path / "rates.csv").write_text("n_users,value\n40,39.952\n")
    assert privacy_violations([tmp_path / "rates.csv"], lat_range=(39.0, 41.0), lon_range=(-76.0, -74.0)) == []


def test_user_ids_are_found_as_whole_tokens_and_short_plain_numbers_are_not_searched(tmp_path):
    # a region whose phones are numbered 1..15 had every report withheld: "user id '1'" was found in "2020",
    # in a count or in the state's FIPS code 42
    page = tmp_path / "page.html"
    page.write_text("<p>Pennsylvania (42): 1,234 users in 2020-03, 15 weeks; u17 was seen; phone-017x; "
                    "device 31415926 too</p>")
    ids = ["1", "15", "42", "2020", "u1", "phone-01", "u17", "31415926", "271828"]
    found = privacy_violations([page], user_ids=ids)
    assert sorted(found) == ["page.html: user id '31415926'", "page.html: user id 'u17'"]
    assert privacy_violations([page], user_ids=["1", "42", "u1", "phone-01", "271828"]) == []


def test_ids_looked_for_a_batch_at_a_time_give_the_findings_of_all_ids_at_once(tmp_path):
    # the report looks for a region's ids a batch at a time (user_ids_in) and scans with those found
    from mobility.report.privacy import user_ids_in

    page = tmp_path / "page.html"
    page.write_text("<p>u17 and u170 seen; phone-01 too, phone-012x not; id_9 ok; u1x; 31415926</p>")
    (tmp_path / "t.csv").write_text("area,n_users\nu000005,12\n")
    files = [page, tmp_path / "t.csv"]
    ids = ["u1", "u17", "u170", "u000005", "phone-01", "phone-012", "id_9", "id", "31415926", "271828", "15"]
    batches = [ids[i:i + 3] for i in range(0, len(ids), 3)]
    found = user_ids_in(files, batches)
    assert found == {"u17", "u170", "u000005", "phone-01", "id_9", "31415926"}
    assert privacy_violations(files, user_ids=found) == privacy_violations(files, user_ids=ids)
    assert user_ids_in(files, [["u2", "phone-1"], []]) == set()


def test_ids_found_overlapping_and_missing_ids_ignored(tmp_path):
    # 'a-b-c-d' holds a-b, b-c and c-d as whole tokens at different starts: the batch of b-c and c-d must find
    # c-d although b-c's match would end where c-d starts; a missing id (NaN, None) is no id, not the text 'nan'
    from mobility.report.privacy import user_ids_in

    page = tmp_path / "p.html"
    page.write_text("<p>a-b-c-d; nan</p>")
    ids = ["a-b", "b-c", "c-d"]
    found = user_ids_in([page], [["b-c", "c-d"], ["a-b"]])
    assert found == {"a-b", "b-c", "c-d"}
    assert privacy_violations([page], user_ids=found) == privacy_violations([page], user_ids=ids) == [
        "p.html: user id 'a-b'", "p.html: user id 'c-d'"]
    assert user_ids_in([page], [pd.Series(["u1", None], dtype="string"), [np.nan, None]]) == set()
