"""Reference stops from trackintel 1.4.2 on the GeoLife sample, for tests/test_stops.py.

Regenerate (needs ``pip install trackintel==1.4.2``; it runs with pandas 3):

    python tests/reference/trackintel_staypoints.py

It reads ``../shared/data/real/geolife_trackintel/geolife_long_10_MB`` (next to the repository) with
trackintel's own GeoLife reader, runs ``generate_staypoints(method="sliding", dist_threshold=100,
time_threshold=5, gap_threshold=15, include_last=True)`` and writes
``tests/reference/trackintel_geolife_staypoints.csv``: one row per staypoint with ``user_id`` (as the
GeoLife folder name, e.g. ``"010"``), ``started_at``, ``finished_at`` (trackintel's: the first
positionfix *outside* the staypoint), ``last_inside_at`` (the last positionfix assigned to it, our
``end``), ``n_pfs``, ``lat``, ``lon`` (trackintel's angle centroid), all times UTC ISO 8601.

Matched gap semantics: trackintel *discards* the stay in progress when it meets a gap longer than
``gap_threshold`` (it restarts the anchor after the gap), while :func:`mobility.stops.detect_stops`
ends the stay at the gap and keeps it if it qualifies. On GeoLife, where a logger is switched off at
the end of each trip file, that alone makes trackintel find ~30% less stop time. To compare the
algorithms rather than this one rule, each user's positionfixes are cut at every gap longer than
``gap_threshold`` and every piece is given to trackintel as its own user, with ``include_last=True``
(keep the last, open stay): trackintel then ends stays at gaps exactly as we do.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import trackintel as ti

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1] / ".." / "shared" / "data" / "real" / "geolife_trackintel" / "geolife_long_10_MB"
OUT = HERE / "trackintel_geolife_staypoints.csv"
PARAMS = dict(method="sliding", dist_threshold=100, time_threshold=5.0, gap_threshold=15.0, include_last=True)


def main() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pfs = ti.io.read_geolife(str(DATA), print_progress=False)
        pfs = pfs[0] if isinstance(pfs, tuple) else pfs
        pfs = pfs.sort_values(["user_id", "tracked_at"], kind="stable")
        user = pfs["user_id"].to_numpy()
        gap = pfs.groupby("user_id")["tracked_at"].diff() > pd.Timedelta(minutes=PARAMS["gap_threshold"])
        piece = gap.groupby(pfs["user_id"]).cumsum().to_numpy()
        pfs["user_id"] = user * 100_000 + piece
        pfs, sp = pfs.generate_staypoints(**PARAMS)
        sp["user_id"] = sp["user_id"] // 100_000
    inside = pfs.dropna(subset=["staypoint_id"]).groupby("staypoint_id")["tracked_at"].agg(["max", "size"])
    out = pd.DataFrame(
        {
            "user_id": sp["user_id"].map(lambda u: f"{int(u):03d}"),
            "started_at": sp["started_at"],
            "finished_at": sp["finished_at"],
            "last_inside_at": inside["max"].reindex(sp.index).to_numpy(),
            "n_pfs": inside["size"].reindex(sp.index).to_numpy(),
            "lat": sp.geometry.y.round(7),
            "lon": sp.geometry.x.round(7),
        }
    ).sort_values(["user_id", "started_at"])
    for c in ("started_at", "finished_at", "last_inside_at"):
        out[c] = pd.to_datetime(out[c], utc=True).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    out.to_csv(OUT, index=False)
    print(f"wrote {len(out)} staypoints to {OUT}")


if __name__ == "__main__":
    main()
