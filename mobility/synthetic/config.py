"""A region config (``pipelines/*.toml`` form) for a synthetic region of any size.

Tests, notebooks and benchmarks use it to run the whole pipeline on a small region; the shipped
``pipelines/synthetic.toml`` is the same layout, written out by hand with comments.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from mobility.employment.params import EmploymentParams

REGION_INPUTS = {
    "pings": ["{region_dir}/pings/*.parquet", "{region_dir}/pings/*.csv"],
    "cbg": "{region_dir}/geography/cbg.geojson",
    "lodes_wac": "{region_dir}/census/lodes/pa_wac_S000_JT00_2019.csv.gz",
    "lodes_rac": "{region_dir}/census/lodes/pa_rac_S000_JT00_2019.csv.gz",
    "telework": "{region_dir}/census/telework/NAICS_workfromhome.csv",
}


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} to TOML")


def write_region_config(path: str | Path, *, name: str, start: str, end: str, seed: int = 0, n_users: int = 50,
                        timezone: str = "America/New_York", region_dir: str = "region", n_partitions: int = 2,
                        synthetic: dict | None = None, sections: dict[str, dict] | None = None) -> Path:
    """Write the config of a synthetic region generated into ``region_dir`` (relative to the file).

    ``synthetic`` adds fields of :class:`~mobility.synthetic.SyntheticParams`; ``sections`` adds stage
    tables (``{"validate": {"max_bad_share": 0.5}}``). A period that starts after the employment step's default
    baseline (January-February 2020) gets its first two weeks as the baseline (``[employment] baseline_start``,
    ``baseline_end``), unless ``sections`` sets them: without baseline weeks the employment step stops.

    Examples
    --------
    >>> import tempfile
    >>> from mobility.pipeline.config import load_config
    >>> path = write_region_config(Path(tempfile.mkdtemp()) / "tiny.toml", name="tiny", start="2020-03-02",
    ...                            end="2020-03-29", seed=7, n_users=40, sections={"validate": {"max_bad_share": 0.5}})
    >>> config = load_config(path)
    >>> config.name, config.n_partitions, config.stage("validate"), config.synthetic["n_users"]
    ('tiny', 2, {'max_bad_share': 0.5}, 40)
    >>> config.stage("employment")
    {'baseline_start': '2020-03-02', 'baseline_end': '2020-03-15'}
    """
    sections = dict(sections or {})
    employment = dict(sections.get("employment", {}))
    if not {"baseline_start", "baseline_end"} & set(employment) and \
            pd.Timestamp(start) > pd.Timestamp(EmploymentParams.baseline_end):
        first = pd.Timestamp(start)
        employment.update(baseline_start=str(first.date()), baseline_end=str((first + pd.Timedelta(days=13)).date()))
        sections["employment"] = employment
    tables = {
        "region": {"name": name, "timezone": timezone, "start": start, "end": end},
        "synthetic": {"dir": region_dir, "seed": seed, "n_users": n_users, **(synthetic or {})},
        "inputs": REGION_INPUTS,
        "run": {"n_partitions": n_partitions},
        **sections,
    }
    lines = []
    for table, values in tables.items():
        lines.append(f"[{table}]")
        lines += [f"{key} = {_toml_value(value)}" for key, value in values.items()]
        lines.append("")
    path = Path(path)
    path.write_text("\n".join(lines))
    return path
