"""Throughput and peak memory of the synthetic region generator.

Each case runs in a fresh subprocess so ``ru_maxrss`` is that case's peak resident memory (imports included:
about 0.3 GB of it is pandas, pyarrow and geopandas before anything is generated).
Run: ``python benchmarks/bench_synthetic.py`` (prints a Markdown table).

The ``pipelines/synthetic.toml`` case is exactly what the pipeline's ``generate`` stage runs for the README's
first command: the default parameters (the lives of issue 14 on) with ``inject_bad_share = 0.001`` and seed
20200316; the ``synthetic_easy.toml`` case is the same with every lives knob off (``EASY_KNOBS``), the region
generator 1.0 made.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mobility.synthetic.params import EASY_KNOBS

#: case -> (SyntheticParams fields, seed)
CASES = {
    "1M pings (1,000 users x 4 weeks)": ({"n_users": 1000, "end": "2020-01-28"}, 0),
    "default (1,000 users, Jan-Sep 2020)": ({}, 0),
    "10M pings (1,400 users, Jan-Sep 2020)": ({"n_users": 1400}, 0),
    "pipelines/synthetic.toml (default + 0.1 % bad rows, seed 20200316)": ({"inject_bad_share": 0.001}, 20200316),
    "pipelines/synthetic_easy.toml (lives off + 0.1 % bad rows, seed 20200316)": (
        {**EASY_KNOBS, "inject_bad_share": 0.001}, 20200316),
}


def run_one(name: str) -> dict:
    from mobility.synthetic import SyntheticParams, generate_region

    fields, seed = CASES[name]
    params = SyntheticParams(**fields)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        out = generate_region(Path(tmp) / "region", params, seed=seed)
        wall = time.perf_counter() - t0
        n_pings = json.loads((out / "region.json").read_text())["n_pings"]
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"case": name, "pings": n_pings, "wall_s": wall, "pings_per_s": n_pings / wall,
            "peak_rss_mb": peak_mb, "size_mb": size / 2**20}


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        print(json.dumps(run_one(sys.argv[2])))
        return
    print("| case | pings | wall s | pings/s | peak RSS MB | on disk MB |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in CASES:
        res = subprocess.run([sys.executable, __file__, "--one", name], capture_output=True, text=True, check=True)
        r = json.loads(res.stdout.strip().splitlines()[-1])
        print(f"| {r['case']} | {r['pings']:,} | {r['wall_s']:.1f} | {r['pings_per_s']:,.0f} | "
              f"{r['peak_rss_mb']:,.0f} | {r['size_mb']:,.0f} |")


if __name__ == "__main__":
    main()
