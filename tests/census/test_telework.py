"""Teleworkability: Dingel & Neiman NAICS file mapped to LODES sectors; Pennsylvania's job mix."""

from __future__ import annotations

import pandas as pd
import pytest

from mobility.census.lodes import SECTORS, aggregate_lodes
from mobility.census.telework import mix_teleworkability, read_teleworkability
from mobility.errors import MobilityError

from .conftest import DN_NAICS, real_file

CODES = ["11", "21", "22", "23", "31-33", "42", "44-45", "48-49", "51", "52", "53", "54", "55", "56", "61",
         "62", "71", "72", "81", "99"]


def _write(path, codes, values):
    pd.DataFrame({"NAICS": codes, "NAICS_TITLE": "t", "teleworkable_emp": values}).to_csv(path, index=False)
    return path


@pytest.mark.real
def test_real_file_maps_onto_cns01_to_cns20(dn_telework):
    assert dn_telework.index.tolist() == list(SECTORS)
    # values copied from the file by eye: 72 accommodation 0.035365932, 99 government 0.41477612
    assert dn_telework["CNS18"] == pytest.approx(0.035365932)
    assert dn_telework["CNS20"] == pytest.approx(0.41477612)
    assert dn_telework["CNS05"] == pytest.approx(0.22480325)  # 31-33 manufacturing
    wage = read_teleworkability(real_file(*DN_NAICS), measure="teleworkable_wage")
    assert wage["CNS12"] == pytest.approx(0.86352032)


@pytest.mark.real
def test_pennsylvania_job_mix_teleworkability_is_0369(pa_wac, dn_telework):
    state = aggregate_lodes(pa_wac, "state")
    value = float(mix_teleworkability(state, dn_telework).iloc[0])
    assert round(value, 3) == 0.369  # Dingel & Neiman's own OES-based PA value is 0.356
    # independent check: plain weighted mean of the 20 shares by PA sector totals
    totals = pa_wac[list(SECTORS)].sum()
    assert value == pytest.approx(float((totals * dn_telework).sum() / totals.sum()))


def test_mix_of_hand_counts():
    tau = pd.Series([i / 20 for i in range(20)], index=list(SECTORS))
    jobs = pd.DataFrame([{s: 0 for s in SECTORS} | {"CNS01": 1, "CNS20": 3}, {s: 0 for s in SECTORS}])
    out = mix_teleworkability(jobs, tau)
    assert out.iloc[0] == pytest.approx((0.0 * 1 + 0.95 * 3) / 4)
    assert pd.isna(out.iloc[1])


def test_code_92_accepted_for_public_administration(tmp_path):
    tau = read_teleworkability(_write(tmp_path / "n.csv", CODES[:-1] + ["92"], [0.5] * 20))
    assert tau["CNS20"] == 0.5


def test_malformed_files(tmp_path):
    with pytest.raises(MobilityError, match="not a 2-digit NAICS sector"):
        read_teleworkability(_write(tmp_path / "a.csv", CODES[:-1] + ["abc"], [0.5] * 20))
    with pytest.raises(MobilityError, match=r"sectors \['CNS20'\]"):
        read_teleworkability(_write(tmp_path / "b.csv", CODES[:-1], [0.5] * 19))
    with pytest.raises(MobilityError, match="map to sector CNS05"):
        read_teleworkability(_write(tmp_path / "c.csv", CODES + ["32"], [0.5] * 21))
    with pytest.raises(MobilityError, match=r"\[0, 1\]"):
        read_teleworkability(_write(tmp_path / "d.csv", CODES, [0.5] * 19 + [1.5]))
    with pytest.raises(MobilityError, match="unknown teleworkability measure"):
        read_teleworkability(_write(tmp_path / "e.csv", CODES, [0.5] * 20), measure="share")
    with pytest.raises(MobilityError, match=r"missing column\(s\) \['teleworkable_wage'\]"):
        read_teleworkability(_write(tmp_path / "f.csv", CODES, [0.5] * 20), measure="teleworkable_wage")
