"""Write the small sample files that ship with the package (mobility/data/sample/), in the formats real data
come in: a phone-export CSV of pings, block-group polygons (GeoJSON), a LODES WAC/RAC extract and the Dingel &
Neiman teleworkability CSV. Notebook 04 walks through them as if they were a user's own files.

The content is a synthetic city (``mobility.generate_region``, fixed seed) in the generator's easy world
(``SyntheticParams.easy``: everyone with a job works 9-5 on weekdays, one remote-work wave, working phones):
15 phones over four weeks of March 2020 in three Pennsylvania counties. In it nobody loses a job in March and 9
of the 14 people with a job start working from home on 16 March (notebook 04 reads its estimates against
that). Deterministic: rerunning writes the same bytes (``tests/test_sample_data.py`` checks it).

    python scripts/make_sample_data.py
"""

from __future__ import annotations

import gzip
import io
import json
import shutil
import tempfile
from pathlib import Path

import pandas as pd

import mobility

OUT = Path(__file__).resolve().parents[1] / "mobility" / "data" / "sample"
N_USERS, START, END, SEED = 15, "2020-03-02", "2020-03-29", 4
TIMEZONE = "America/New_York"


def _gzip_text(text: str, path: Path) -> None:
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
        gz.write(text.encode("utf-8"))


def _round_coordinates(geometry, digits: int = 5):
    if isinstance(geometry, list):
        return [_round_coordinates(g, digits) for g in geometry]
    return round(geometry, digits) if isinstance(geometry, float) else geometry


def sample_params() -> mobility.SyntheticParams:
    """The synthetic region the sample files are cut from (generated with ``seed=SEED``)."""
    return mobility.SyntheticParams.easy(n_users=N_USERS, start=START, end=END, timezone=TIMEZONE)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        region = mobility.generate_region(Path(tmp) / "region", sample_params(), seed=SEED)
        pings = mobility.read_pings(region / "pings").sort_values(["user_id", "timestamp"], kind="stable")
        devices = {u: f"phone-{i + 1:02d}" for i, u in enumerate(sorted(pings["user_id"].unique()))}
        local = pd.to_datetime(pings["timestamp"], utc=True).dt.tz_convert(TIMEZONE)
        export = pd.DataFrame({
            "device": pings["user_id"].map(devices),
            "local_time": local.dt.strftime("%Y-%m-%dT%H:%M:%S%z").str.replace(r"(\d\d)(\d\d)$", r"\1:\2", regex=True),
            "latitude": pings["lat"].round(6), "longitude": pings["lon"].round(6),
            "accuracy": pings["accuracy_m"].round(1),
        })
        _gzip_text(export.to_csv(index=False), OUT / "phone_pings.csv.gz")
        cbg = json.loads((region / "geography" / "cbg.geojson").read_text())
        for feature in cbg["features"]:
            feature["geometry"]["coordinates"] = _round_coordinates(feature["geometry"]["coordinates"])
        (OUT / "cbg.geojson").write_text(json.dumps(cbg, separators=(",", ":")) + "\n")
        for kind in ("wac", "rac"):
            name = f"pa_{kind}_S000_JT00_2019.csv.gz"
            table = pd.read_csv(region / "census" / "lodes" / name, dtype=str)
            buffer = io.StringIO()
            table.to_csv(buffer, index=False)
            _gzip_text(buffer.getvalue(), OUT / name)
        shutil.copyfile(region / "census" / "telework" / "NAICS_workfromhome.csv", OUT / "NAICS_workfromhome.csv")
    print(f"wrote {sorted(p.name for p in OUT.iterdir())} to {OUT}")


if __name__ == "__main__":
    main()
