"""A small finished run for the report tests: the whole pipeline on a tiny synthetic region, its employment
and report stages included."""

from __future__ import annotations

import textwrap
from pathlib import Path

import mobility

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


def make_run(folder: Path, *, n_users: int, seed: int = 3, start: str = "2020-02-03",
             end: str = "2020-04-26") -> tuple[Path, Path]:
    """Run the whole pipeline (employment and report stages included) on a synthetic region; (config, out_dir)."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "region.toml"
    config.write_text(textwrap.dedent(CONFIG.format(name=f"tiny{n_users}", seed=seed, n_users=n_users, start=start, end=end)))
    out = folder / "out"
    mobility.run_pipeline(str(config), str(out), progress=False)
    return config, out
