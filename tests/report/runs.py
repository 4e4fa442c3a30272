"""A small finished run for the report tests: the pipeline on a tiny synthetic region, then the employment
step written where the report looks for it (``<out>/employment/``), as the pipeline's employment stage will."""

from __future__ import annotations

import textwrap
from pathlib import Path

import mobility
from mobility.census import (
    aggregate_lodes,
    read_geometry,
    read_lodes,
    read_teleworkability,
    work_features,
)
from mobility.employment.attendance import baseline_work_cbg
from mobility.employment.estimate import estimate_employment, write_employment

CONFIG = """
[region]
name = "{name}"
timezone = "America/New_York"
start = "{start}"
end = "{end}"
[synthetic]
dir = "region"
seed = {seed}
n_users = {n_users}
[inputs]
pings = ["{{region_dir}}/pings/*.parquet"]
cbg = "{{region_dir}}/geography/cbg.geojson"
lodes_wac = "{{region_dir}}/census/lodes/pa_wac_S000_JT00_2019.csv.gz"
lodes_rac = "{{region_dir}}/census/lodes/pa_rac_S000_JT00_2019.csv.gz"
telework = "{{region_dir}}/census/telework/NAICS_workfromhome.csv"
[run]
n_partitions = 2
[longitudinal]
method = "signal"
[report]
trend_months = 3
baseline_months = 1
"""


def make_run(folder: Path, *, n_users: int, seed: int = 3, employment: bool = True, start: str = "2020-02-03",
             end: str = "2020-04-26") -> tuple[Path, Path]:
    """Run the pipeline (and the employment step) on a synthetic region; returns (config, out_dir)."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "region.toml"
    config.write_text(textwrap.dedent(CONFIG.format(name=f"tiny{n_users}", seed=seed, n_users=n_users, start=start, end=end)))
    out = folder / "out"
    mobility.run_pipeline(str(config), str(out), progress=False)
    if employment:
        region = folder / "region"
        visits = mobility.read_table(out, "visits")
        labels = mobility.read_table(out, "home_work_daily")
        wac = read_lodes(next((region / "census" / "lodes").glob("*wac*")))
        tau = read_teleworkability(region / "census" / "telework" / "NAICS_workfromhome.csv")
        features = work_features(baseline_work_cbg(labels), aggregate_lodes(wac, "cbg"), tau)
        tables = estimate_employment(visits[["user_id", "start", "end", "lat", "lon"]], labels, features, tau,
                                     cbg=read_geometry(region / "geography" / "cbg.geojson"),
                                     wac_county=aggregate_lodes(wac, "county"), timezone="America/New_York")
        write_employment(tables, out / "employment")
    return config, out
