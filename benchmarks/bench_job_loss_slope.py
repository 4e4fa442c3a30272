"""Outside evidence for ``[employment] job_loss_telework_slope`` (gamma): how the rise in unemployment of real
areas fell with their teleworkability in 2020 (:func:`mobility.census.job_loss_slope.job_loss_slope`).

Two sets of areas, from ``../shared/data/real`` only:

* Pennsylvania's 67 counties: BLS LAUS county unemployment (``laucntycur14``, not seasonally adjusted, both
  releases) against each county's teleworkability, the LODES WAC 2015 sector mix of its jobs with Dingel &
  Neiman's NAICS shares;
* the 50 states and DC: BLS LAUS state unemployment (seasonally adjusted) against Dingel & Neiman's own state
  shares (their occupation measure on the state's OES employment).

For each: February 2020 against April, May and June 2020; weighted by the labour force and not; the
employment measure of teleworkability and the authors' manual one. Then the counties again leaving out each
of the five largest, one at a time.

Run: python benchmarks/bench_job_loss_slope.py [--boot 2000]  (``--smoke``: 200 draws)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

from mobility.census import aggregate_lodes, mix_teleworkability, read_lodes, read_teleworkability
from mobility.census.job_loss_slope import job_loss_slope
from mobility.census.laus import read_laus_files

REAL = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "real"
AFTER = ("2020-04", "2020-05", "2020-06")
MEASURES = ("teleworkable_emp", "teleworkable_manual_emp")


def pa_counties(measure: str) -> tuple[pd.DataFrame, pd.Series]:
    """LAUS rows of Pennsylvania's counties and each county's WAC-mix teleworkability."""
    laus = read_laus_files(sorted((REAL / "bls_laus_county_monthly").glob("*/laucntycur14.xlsx")))
    laus = laus[laus["area_fips"].str.startswith("42")]
    wac = aggregate_lodes(read_lodes(REAL / "lodes_pa_wac_2015" / "pa_wac_S000_JT00_2015.csv.gz"), "county")
    tau = read_teleworkability(REAL / "dingel_neiman_workathome" / "NAICS_workfromhome.csv", measure)
    return laus, mix_teleworkability(wac, tau).set_axis(wac["GEOID"].to_numpy())


def states(measure: str) -> tuple[pd.DataFrame, pd.Series]:
    """LAUS rows of the states and DC and Dingel & Neiman's state shares."""
    laus = read_laus_files([REAL / "bls_laus_state_monthly" / "ststdsadata.xlsx"])
    laus = laus[laus["area_type"] == "state"]
    dn = pd.read_csv(REAL / "dingel_neiman_workathome" / "state_workfromhome.csv")
    return laus, dn.set_index(dn["AREA"].astype(int).map("{:02d}".format))[measure].astype(float)


def row(areas: str, measure: str, after: str, weighted: bool, fit) -> dict:
    x = fit.areas["teleworkability"]
    return {"areas": areas, "measure": measure.replace("teleworkable_", ""), "after": after,
            "weights": "labour force" if weighted else "equal", "n": fit.n_areas,
            "x range": f"{x.min():.2f}-{x.max():.2f}", "l (rise at x=0, %)": round(100 * fit.intercept, 1),
            "gamma": round(fit.gamma, 2), "95% interval": f"{fit.gamma_low:.2f} to {fit.gamma_high:.2f}",
            "draws left out": fit.dropped_draws}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boot", type=int, default=10_000, help="bootstrap draws over areas")
    parser.add_argument("--smoke", action="store_true", help="200 draws")
    args = parser.parse_args()
    if not REAL.is_dir():
        sys.exit(f"{REAL} is absent: this benchmark reads the real LAUS, LODES and Dingel & Neiman files")
    n_boot = 200 if args.smoke else args.boot
    t0 = time.perf_counter()
    rows = []
    for areas, load in (("PA counties", pa_counties), ("states + DC", states)):
        for measure in MEASURES:
            laus, x = load(measure)
            for after in AFTER:
                for weighted in (True, False):
                    fit = job_loss_slope(laus, x, before="2020-02", after=after, weighted=weighted, n_boot=n_boot)
                    rows.append(row(areas, measure, after, weighted, fit))
    pd.set_option("display.width", 250)
    print(pd.DataFrame(rows).to_string(index=False))

    laus, x = pa_counties(MEASURES[0])
    full = job_loss_slope(laus, x, after="2020-04", n_boot=n_boot)
    largest = full.areas.nlargest(5, "labor_force")["area_fips"].tolist()
    names = laus.drop_duplicates("area_fips").set_index("area_fips")["area_name"]
    loo = []
    for fips in largest:
        fit = job_loss_slope(laus, x.drop(fips), after="2020-04", n_boot=n_boot)
        loo.append({"left out": names.get(fips, fips), "gamma": round(fit.gamma, 2),
                    "95% interval": f"{fit.gamma_low:.2f} to {fit.gamma_high:.2f}"})
    print(f"\nPA counties, February-April 2020, labour-force weights, employment measure: gamma {full.gamma:.2f} "
          f"({full.gamma_low:.2f} to {full.gamma_high:.2f}); leaving out one of the five largest:")
    print(pd.DataFrame(loo).to_string(index=False))
    print(f"\n{n_boot} bootstrap draws per fit; {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
