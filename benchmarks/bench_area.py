"""Area unemployment with honest uncertainty (issue 16 item 1): accuracy and interval coverage against the
synthetic truth, attempts to break them, and speed.

Commands::

    python benchmarks/bench_area.py evidence --out DIR [--regions synthetic:20200316 synthetic:2 synthetic_hard:20200316]
    python benchmarks/bench_area.py breaks --out DIR      # placebo world, replicate sweep, panel share, no weights,
                                                          # a panel over-representing one county / the young
    python benchmarks/bench_area.py sweep --out DIR [--seed 2] [--labels-only]  # labels for a share of users;
                                                          # misclassification sweep
    python benchmarks/bench_area.py speed [--users 100000 --weeks 39 --replicates 200]
    python benchmarks/bench_area.py county --out DIR [--regions ...]  # why a county is over-estimated: each
                                                          # county's mean error split into its parts, with the truth
    python benchmarks/bench_area.py runs --run RUN [RUN ...] --region REGION [REGION ...]  # finished runs (e.g.
                                                          # bench_scale's) scored under each setting of stop 23
    python benchmarks/bench_area.py strata --out DIR [--regions ...] [--shares 0.5 0.2 0.05] [--placebo]
                                                          # AreaParams.calibration_strata: pooled against "county"

``evidence`` runs the whole pipeline (every stage from the pings) on each region with 1,000 users and scores
the ``area_unemployment`` table it wrote: county-week cells from the shock (2020-03-16) on, unsuppressed,
against ``truth/area_weekly`` (the true rate of everyone with a job at the start, by home county): mean
absolute error, mean error, share of 95 % intervals covering the truth, mean width, mean users and Kish design
effect, per method, estimator and route. ``breaks`` recomputes the area table from a run's tables with other
settings (``area_unemployment`` is a frame function) and runs the pipeline on a placebo world and on panels
that over-represent a county or an age group (the people who carry a phone are a subsample of the region's
people, drawn after generation: the truth and the census still describe everyone). ``speed`` times
:func:`mobility.employment.area.area_unemployment` with its bootstrap and the raking on a simulated panel.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))

import mobility  # noqa: E402
from mobility.employment.area import area_unemployment, home_cbg, panel_weights  # noqa: E402
from mobility.employment.params import AreaParams  # noqa: E402

SHOCK = pd.Timestamp("2020-03-16")


SIZES = [0, 100, 200, 300, np.inf]
"""Cell sizes (distinct users behind a cell) of the table by kind of cell."""


def score(area: pd.DataFrame, truth: pd.DataFrame, *, since=SHOCK, level="county", period="week",
          by: tuple[str, ...] = ()) -> pd.DataFrame:
    """One row per method, estimator, route (and ``by``: ``area``, ``size`` of the cell): cells, MAE, mean error,
    coverage, width (points), the MAE the interval implies for an unbiased normal estimate (0.8 x width / 3.92),
    users, deff."""
    a = area[(area["level"] == level) & (area["period"] == period) & ~area["suppressed"].astype(bool)]
    if level == "state":
        truth = truth.assign(county=truth["county"].astype(str).str.slice(0, 2))
        truth = truth.groupby(["county", "week"], as_index=False)[["labour_force", "unemployed"]].sum()
        truth["rate"] = truth["unemployed"] / truth["labour_force"]
    t = truth.rename(columns={"county": "area", "week": "period_start", "rate": "truth"})
    if period == "month":
        t = t.assign(period_start=(t["period_start"] + pd.Timedelta(days=3)).dt.to_period("M").dt.start_time)
        t = t.groupby(["area", "period_start"], as_index=False)[["labour_force", "unemployed"]].sum()
        t["truth"] = t["unemployed"] / t["labour_force"]
    m = a.merge(t[["area", "period_start", "truth"]], on=["area", "period_start"])
    m = m[m["period_start"] >= since]
    m["size"] = pd.cut(m["n_users"], SIZES, right=False).astype(str)
    rows = []
    for keys, g in m.groupby(["method", "estimator", "route", *by]):
        method, est, route = keys[:3]
        ok = g["rate"].notna()
        g = g[ok]
        cover = (g["rate_low"] <= g["truth"]) & (g["truth"] <= g["rate_high"])
        rows.append({"method": method, "estimator": est, "route": route, **dict(zip(by, keys[3:])), "cells": len(g),
                     "mae_pts": 100 * (g["rate"] - g["truth"]).abs().mean(),
                     "mean_error_pts": 100 * (g["rate"] - g["truth"]).mean(),
                     "coverage": cover.mean() if g["rate_low"].notna().any() else np.nan,
                     "width_pts": 100 * (g["rate_high"] - g["rate_low"]).mean(),
                     "implied_mae_pts": 100 * 0.798 * ((g["rate_high"] - g["rate_low"]) / 3.92).mean(),
                     "users": g["n_users"].mean(), "deff": g["design_effect"].mean(),
                     "truth_pct": 100 * g["truth"].mean()})
    return pd.DataFrame(rows)


def show(title: str, table: pd.DataFrame) -> None:
    print(f"\n### {title}\n")
    print(table.to_markdown(index=False, floatfmt=".2f") if len(table) else "(no cells)")


def run_region(region: str, seed: int, users: int, out: Path, *, overrides: dict | None = None) -> tuple[Path, Path]:
    """Generate (cached) and run the pipeline until validation; the run and region folders."""
    from bench_pipeline import region_config

    cfg = region_config(seed, users, out, region)
    if overrides:
        text = cfg.read_text()
        extra = "".join(f"{k} = {v!r}\n".replace("'", '"') for k, v in overrides.items())
        text = re.sub(r"(?m)^(\[synthetic\]\n)", r"\1" + extra.replace("\\", "\\\\"), text, count=1)
        text = re.sub(r'(?m)^dir = "([^"]*)"', lambda m: f'dir = "{m.group(1)}-{_tag(overrides)}"', text, count=1)
        cfg = cfg.with_name(cfg.stem + f"-{_tag(overrides)}.toml")
        cfg.write_text(text)
    run = out / f"run-{cfg.stem}"
    t = time.time()
    mobility.run_pipeline(str(cfg), str(run), progress=False, until="validation")
    print(f"{cfg.stem}: pipeline {time.time() - t:.0f} s", flush=True)
    region_dir = Path(re.search(r'(?m)^dir = "([^"]*)"', cfg.read_text()).group(1))
    return run, region_dir


def _tag(overrides: dict) -> str:
    return "placebo" if "shock_date" in overrides else "-".join(f"{k}{v}" for k, v in sorted(overrides.items()))


def evidence(args) -> None:
    for spec in args.regions:
        region, seed = spec.split(":")
        run, region_dir = run_region(region, int(seed), args.users, args.out)
        truth = pd.read_parquet(region_dir / "truth" / "area_weekly.parquet")
        area = mobility.read_table(run, "area_unemployment")
        show(f"{region} seed {seed}: county-week from the shock on", score(area, truth))
        show(f"{region} seed {seed}: county-month from the shock on", score(area, truth, period="month"))
        show(f"{region} seed {seed}: county-week by county", score(area, truth, by=("area",)))
        show(f"{region} seed {seed}: county-week by size of cell (users)", score(area, truth, by=("size",)))
        floor(run, region_dir, truth, f"{region} seed {seed}")


def floor(run: Path, region_dir: Path, truth: pd.DataFrame, title: str) -> None:
    """The error left with perfect statuses: the true status on the classifier's known user-weeks (p = 1 or 0),
    through the same weights and recalibration: what the panel's labour force alone costs."""
    emp, homes, feats, labels, rac, acs = _inputs(run, region_dir)
    t = labels.assign(user_id=labels["user_id"].astype(str))[["user_id", "week", "status"]]
    e = emp[emp["method"] == "classifier"].assign(user_id=lambda d: d["user_id"].astype(str))
    e = e.merge(t.rename(columns={"status": "true"}), on=["user_id", "week"], how="left")
    known = e["status"].isin(["employed", "unemployed"]).to_numpy()
    y = (e["true"] == "unemployed").to_numpy()
    perfect = e.drop(columns=["true"]).assign(
        p_unemployed=np.where(known, y.astype(float), np.nan),
        status=np.where(known, np.where(y, "unemployed", "employed"), "unknown"))
    ap = AreaParams(panel_share=1.0, replicates=20)
    w = panel_weights(homes, feats, rac=rac, acs=acs, area_params=ap)
    rows = []
    for name, weights in (("raked", w), ("unweighted", None)):
        sc = score(area_unemployment(perfect, homes, weights=weights, labels=labels, area_params=ap), truth,
                   by=("area",))
        rows.append(sc[sc["estimator"] == "expected"].assign(weights=name))
    cols = ["weights", "area", "cells", "mae_pts", "mean_error_pts", "users", "truth_pct"]
    show(f"{title}: perfect statuses on the known user-weeks (the labour-force floor)",
         pd.concat(rows, ignore_index=True)[cols])


def _inputs(run: Path, region_dir: Path):
    from mobility.census import aggregate_lodes, read_acs, read_lodes

    emp = mobility.read_table(run, "employment_weekly")
    homes = home_cbg(mobility.read_table(run, "home_work_daily"))
    feats = mobility.read_table(run, "worker_features")
    labels = mobility.load_truth(region_dir)["weekly_status"]
    rac = aggregate_lodes(read_lodes(next((region_dir / "census" / "lodes").glob("*_rac_*"))), "cbg")
    acs = read_acs(region_dir / "census" / "acs" / "rawACSdata_sexage" / "blockgroup_sexage_ests.csv")
    return emp, homes, feats, labels, rac, acs


def variants(run: Path, region_dir: Path, title: str, settings: dict) -> None:
    """Recompute the area table of one run under each setting ``{name: (AreaParams, raked?)}`` and score it."""
    emp, homes, feats, labels, rac, acs = _inputs(run, region_dir)
    truth = pd.read_parquet(region_dir / "truth" / "area_weekly.parquet")
    rows = []
    for name, (ap, raked) in settings.items():
        w = panel_weights(homes, feats, rac=rac, acs=acs, area_params=ap) if raked else None
        t = time.time()
        area = area_unemployment(emp, homes, weights=w, labels=labels, area_params=ap)
        seconds = time.time() - t
        for level in ("county", "state"):
            sc = score(area, truth, level=level)
            sc.insert(0, "setting", name)
            sc.insert(1, "level", level)
            sc["seconds"] = seconds
            rows.append(sc[sc["estimator"] == "expected"])
    show(title, pd.concat(rows, ignore_index=True))


def subsample_region(region_dir: Path, out: Path, keep, tag: str) -> Path:
    """A copy of a region whose pings hold only the people ``keep(people)`` selects (census and truth kept)."""
    new = out / f"{region_dir.name}-{tag}"
    if (new / "pings").exists():
        return new
    (new / "pings").mkdir(parents=True)
    for sub in ("geography", "census", "truth"):
        (new / sub).symlink_to((region_dir / sub).resolve())
    shutil.copy(region_dir / "region.json", new / "region.json")
    people = pd.read_parquet(region_dir / "truth" / "people.parquet")
    chosen = set(people.loc[keep(people), "user_id"].astype(str))
    for part in sorted((region_dir / "pings").glob("*.parquet")):
        p = pd.read_parquet(part)
        p[p["user_id"].astype(str).isin(chosen)].to_parquet(new / "pings" / part.name, index=False)
    print(f"{tag}: {len(chosen)} of {len(people)} people carry a phone", flush=True)
    return new


def subsample_run(region_dir: Path, out: Path, base_cfg: Path, tag: str) -> Path:
    text = base_cfg.read_text()
    text = re.sub(r"(?ms)^\[synthetic\].*?(?=^\[)", "", text)
    text = text.replace("{region_dir}", str(region_dir))
    text = text.replace('pings = ["' + str(region_dir) + '/pings/*.parquet", "' + str(region_dir) + '/pings/*.csv"]',
                        'pings = ["' + str(region_dir) + '/pings/*.parquet"]')
    cfg = out / f"sub-{tag}.toml"
    cfg.write_text(text)
    run = out / f"run-sub-{tag}"
    mobility.run_pipeline(str(cfg), str(run), progress=False, until="validation")
    return run


def breaks(args) -> None:
    out = args.out
    run, region_dir = run_region("synthetic", 20200316, args.users, out)
    base = AreaParams()
    variants(run, region_dir, "default region, seed 20200316: settings", {
        "raked, panel_share 1 (the config)": (AreaParams(panel_share=1.0), True),
        "unweighted, panel_share 1": (AreaParams(panel_share=1.0), False),
        "raked, panel_share from the census (~0.05)": (base, True),
        "raked, panel_share 1, no latent status": (AreaParams(panel_share=1.0, latent_status=False), True),
        "raked, panel_share 1, no gap filling": (AreaParams(panel_share=1.0, max_fill_weeks=0), True),
    })
    variants(run, region_dir, "default region, seed 20200316: bootstrap replicates", {
        f"{r} replicates, seed {s}": (AreaParams(panel_share=1.0, replicates=r, seed=s), True)
        for r, s in ((50, 0), (100, 0), (200, 0), (400, 0), (200, 1))})
    prun, pregion = run_region("synthetic", 20200316, args.users, out,
                               overrides={"shock_date": "2020-12-07", "hazard_peak_date": "2020-12-07"})
    show("placebo world (no shock in the window): county-week from 2020-03-16",
         score(mobility.read_table(prun, "area_unemployment"),
               pd.read_parquet(pregion / "truth" / "area_weekly.parquet")))
    from bench_pipeline import region_config

    base_cfg = region_config(20200316, args.users, out, "synthetic")
    rng_keep = lambda people, mask: mask | (np.random.default_rng(7).random(len(people)) < 0.35)
    for tag, keep in (("county42101", lambda p: rng_keep(p, (p["county"].astype(str) == "42101").to_numpy())),
                      ("young", lambda p: rng_keep(p, (p["age_group"].astype(str) == "CA01").to_numpy()))):
        sub = subsample_region(region_dir, out, keep, tag)
        srun = subsample_run(sub, out, base_cfg, tag)
        variants(srun, sub, f"panel over-representing {tag} (others kept at 35 %)", {
            "raked, panel_share from the census": (base, True),
            "unweighted, panel_share from the census": (base, False),
            "raked, panel_share 1 (wrong here: the panel is a subsample)": (AreaParams(panel_share=1.0), True),
        })


def sweep(args) -> None:
    """On a region's run: labels for a share of the users only (``AreaParams.recalibrate``: the default
    "always" against "auto", which shrinks each month's recalibration shifts toward none by an
    empirical-Bayes weight; the weight, gap and its standard error per month are shown as their range over
    months); statuses and probabilities made from the true statuses with a known sensitivity and
    specificity, flipped week by week or once per person."""
    run, region_dir = run_region("synthetic", args.seed, args.users, args.out)
    emp, homes, feats, labels, rac, acs = _inputs(run, region_dir)
    truth = pd.read_parquet(region_dir / "truth" / "area_weekly.parquet")
    ap = AreaParams(panel_share=1.0)
    w = panel_weights(homes, feats, rac=rac, acs=acs, area_params=ap)
    users = labels["user_id"].astype(str).unique()
    rows = []
    for share, seed in [(1.0, 11), (0.0, 11)] + [(s_, d) for s_ in (0.5, 0.2, 0.05) for d in (11, 12, 13)]:
        keep = set(np.random.default_rng(seed).permutation(users)[:int(round(share * len(users)))])
        sub = labels[labels["user_id"].astype(str).isin(keep)] if share else None
        for how in ("always", "auto") if share else ("auto",):
            a = area_unemployment(emp, homes, weights=w, labels=sub,
                                  area_params=AreaParams(panel_share=1.0, recalibrate=how))
            sc = score(a, truth)
            sc = sc[sc["route"] == "individual"].assign(labelled_users=f"{share:.0%}", draw=seed, recalibrate=how)
            cal = a.attrs["calibration"]  # per method: the shrinkage weight, gap and its se per month
            for col, key in (("weight", "weight_by_month"), ("gap_pts", "gap_pts_by_month"),
                             ("gap_se_pts", "gap_se_pts_by_month")):
                by_month = {m: np.array(list(cal[m].get(key, {}).values()), dtype=float) for m in cal}
                sc[f"{col}_min"] = [by_month[m].min() if by_month[m].size else np.nan for m in sc["method"]]
                sc[f"{col}_max"] = [by_month[m].max() if by_month[m].size else np.nan for m in sc["method"]]
            rows.append(sc)
    cols = ["labelled_users", "draw", "recalibrate", "method", "estimator", "weight_min", "weight_max",
            "gap_pts_min", "gap_pts_max", "gap_se_pts_min", "gap_se_pts_max", "cells", "mae_pts", "mean_error_pts",
            "coverage", "width_pts"]
    show(f"labels for a share of the users (synthetic seed {args.seed}; draw = which users)",
         pd.concat(rows, ignore_index=True)[cols])
    if args.labels_only:
        return
    base = emp[(emp["method"] == "classifier")].drop(columns=["status", "p_unemployed"])
    t = labels.assign(user_id=labels["user_id"].astype(str))[["user_id", "week", "status"]]
    base = base.assign(user_id=base["user_id"].astype(str)).merge(t.rename(columns={"status": "true"}),
                                                                   on=["user_id", "week"], how="left")
    known = emp.loc[emp["method"] == "classifier", "status"].isin(["employed", "unemployed"]).to_numpy()
    y = (base["true"] == "unemployed").to_numpy()
    rows = []
    for se, sp in ((1.0, 1.0), (0.9, 0.99), (0.7, 0.97), (0.5, 0.95), (0.3, 0.9)):
        for mode in ("week", "person"):
            rng = np.random.default_rng(5)
            if mode == "week":
                u = rng.random(len(base))
            else:
                code, _ = pd.factorize(base["user_id"])
                u = rng.random(code.max() + 1)[code]
            s_ = np.where(y, u < se, u >= sp)
            made = base.assign(status=np.where(known, np.where(s_, "unemployed", "employed"), "unknown"),
                               p_unemployed=np.where(known, s_.astype(float), np.nan), method="classifier")
            sc = score(area_unemployment(made, homes, weights=w, labels=labels, area_params=ap), truth)
            rows.append(sc.assign(sensitivity=se, specificity=sp, flips=mode))
    cols = ["sensitivity", "specificity", "flips", "estimator", "cells", "mae_pts", "mean_error_pts", "coverage",
            "width_pts"]
    show("statuses made from the truth with a known sensitivity and specificity (p = the status; labels for "
         "everyone)", pd.concat(rows, ignore_index=True)[cols])


def simulated(n_users: int, n_weeks: int, n_counties: int = 3, seed: int = 0):
    """A dense panel: users in counties and CBGs, soft census memberships, p from a mixture, labels."""
    from mobility.census.lodes import WAC_RAC_GROUPS
    from mobility.census.margins import ACS_SEX_AGE
    from mobility.employment.sector import WEIGHT_COLUMNS

    rng = np.random.default_rng(seed)
    n_cbg = max(n_users // 100, n_counties)
    cbgs = np.array([f"42{101 + 2 * (i % n_counties):03d}{i:06d}1" for i in range(n_cbg)])
    users = np.array([f"u{i:07d}" for i in range(n_users)])
    home = cbgs[rng.integers(0, n_cbg, n_users)]
    weeks = pd.date_range("2020-01-06", periods=n_weeks, freq="7D")
    after = np.arange(n_weeks) >= 10
    lost = rng.random(n_users) < 0.12
    start = rng.integers(10, n_weeks, n_users)
    y = (lost[:, None] & (np.arange(n_weeks)[None, :] >= start[:, None])).astype(float)
    score_ = np.clip(y * rng.beta(8, 2, y.shape) + (1 - y) * rng.beta(1, 20, y.shape) * (1 + after), 0, 1)
    covered = rng.random(y.shape) > 0.15
    status = np.where(score_ >= 0.5, "unemployed", "employed")
    status = np.where(covered, status, "unknown")
    emp = pd.DataFrame({"user_id": np.repeat(users, n_weeks), "week": np.tile(weeks.values, n_users),
                        "status": status.ravel(), "p_unemployed": np.where(covered, score_, np.nan).ravel(),
                        "method": "classifier"})
    labels = pd.DataFrame({"user_id": emp["user_id"], "week": emp["week"],
                           "status": np.where(y.ravel() == 1, "unemployed", "employed")})
    homes = pd.DataFrame({"user_id": users, "home_cbg": home})
    feats = {"user_id": users}
    for group, prefix in (("sector", "w_"),):
        mix = rng.dirichlet(np.ones(20), n_cbg)
        for j, c in enumerate(WEIGHT_COLUMNS):
            feats[c] = mix[rng.integers(0, n_cbg, n_users), j]
    from mobility.census.features import feature_columns

    for group in ("age", "earnings", "sex"):
        cols = feature_columns(group)
        mix = rng.dirichlet(np.ones(len(cols)) * 3, n_cbg)[rng.integers(0, n_cbg, n_users)]
        for j, c in enumerate(cols):
            feats[c] = mix[:, j]
    rac = pd.DataFrame({"GEOID": cbgs, "C000": 200})
    for group in ("sector", "age", "earnings", "sex"):
        cols = WAC_RAC_GROUPS[group]
        rac[list(cols)] = rng.multinomial(200, np.ones(len(cols)) / len(cols), n_cbg)
    acs = pd.DataFrame({"GEOID": cbgs, **{f"B01001_{i:03d}E": rng.integers(5, 50, n_cbg) for i in range(1, 50)}})
    del ACS_SEX_AGE
    return emp, homes, pd.DataFrame(feats), labels, rac, acs


def speed(args) -> None:
    import os
    import resource

    t = time.time()
    emp, homes, feats, labels, rac, acs = simulated(args.users, args.weeks)
    noisy = np.clip(emp["p_unemployed"] + np.random.default_rng(2).normal(0, 0.05, len(emp)), 0, 1)
    emp = pd.concat([emp, emp.assign(method="signal", p_unemployed=noisy)], ignore_index=True)  # both methods
    print(f"simulated {args.users:,} users x {args.weeks} weeks in {time.time() - t:.1f} s; load {os.getloadavg()}")
    ap = AreaParams(replicates=args.replicates)
    t0, c0 = time.time(), time.process_time()
    w = panel_weights(homes, feats, rac=rac, acs=acs, area_params=ap)
    t1, c1 = time.time(), time.process_time()
    area = area_unemployment(emp, homes, weights=w, labels=labels, area_params=ap)
    t2, c2 = time.time(), time.process_time()
    print(f"panel_weights: {t1 - t0:.1f} s wall, {c1 - c0:.1f} s CPU")
    print(f"area_unemployment ({args.replicates} replicates, raked, recalibrated, both estimators, both methods): "
          f"{t2 - t1:.1f} s wall, {c2 - c1:.1f} s CPU; {len(area):,} rows")
    from mobility.employment.area import sector_replicates
    from mobility.employment.sector import SECTORS, WEIGHT_COLUMNS, sector_weekly
    from mobility.employment.status import SignalResult

    rng = np.random.default_rng(1)
    n_w = args.weeks
    weeks = pd.date_range("2020-01-06", periods=n_w, freq="7D")
    wmat = feats[list(WEIGHT_COLUMNS)].to_numpy(float)
    att = np.clip(rng.normal(0.8, 0.3, (args.users, n_w)), 0, 1.5)
    usable = rng.random((args.users, n_w)) > 0.15
    tau = pd.Series(rng.uniform(0, 0.8, 20), index=list(SECTORS))
    table = sector_weekly(np.where(usable, att, np.nan), wmat, tau.to_numpy(), np.full(n_w, 0.3), weeks)
    sig = SignalResult(feats["user_id"].to_numpy(), weeks, {"attendance": att, "usable": usable, "weights": wmat},
                       np.zeros(args.users), {"sector_weekly": table})
    t3, c3 = time.time(), time.process_time()
    sector_replicates(sig, tau, ap)
    t4, c4 = time.time(), time.process_time()
    print(f"sector route replicates ({args.replicates}): {t4 - t3:.1f} s wall, {c4 - c3:.1f} s CPU")
    t2 = t4
    print(f"total {t2 - t0:.1f} s wall; peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB; "
          f"load {os.getloadavg()}")


COUNTY_PARTS = {
    "panel": "the panel's own true rate (its labour force: baseline job seen, home county, known or filled "
             "week; unweighted) minus the county's",
    "raking": "raked minus unweighted true rate of those user-weeks",
    "lf_share": "the labour force weighted by the labels' share per probability bin instead of the true status",
    "prob_raw": "the method's probabilities minus the true status (unemployed 1, else 0)",
    "recal": "the labels' recalibration (pooled over counties, per bin and month)",
}
"""The parts of a county-week's error, ``rate - truth = panel + raking + lf_share + prob_raw + recal``
(:func:`county_parts`)."""


def county_frame(run: Path, region_dir: Path, ap: AreaParams | None = None) -> pd.DataFrame:
    """One row per method and user-week inside the area estimate's labour force, with what the ``expected``
    estimator uses (raked weight ``w``, probability before (``p_raw``) and after recalibration and clipping
    (``p``), labour-force share ``lf``, ``observed`` or filled) and the truth (``true`` status, ``y`` = 1 if
    unemployed, ``m`` = 1 if in the true labour force) and kind of person (``people`` columns; ``telework``:
    the work CBG's teleworkability, the classifier's feature, and its tercile over the panel's workers)."""
    from mobility.employment.area import _Calibration, _panel, _Users

    ap = ap or AreaParams(panel_share=1.0)
    emp, homes, feats, labels, rac, acs = _inputs(run, region_dir)
    w = panel_weights(homes, feats, rac=rac, acs=acs, area_params=ap)
    truth = mobility.load_truth(region_dir)
    people = truth["people"].assign(user_id=lambda d: d["user_id"].astype(str)).set_index("user_id")
    ws = truth["weekly_status"].assign(user_id=lambda d: d["user_id"].astype(str))
    home = pd.Series(homes["home_cbg"].astype(str).to_numpy(), index=homes["user_id"].astype(str).to_numpy())
    users = _Users.of(emp, home, labels)
    st = emp["status"]
    status = np.where(st == "unemployed", 1, np.where(st == "employed", 0, -1)).astype(np.int8)
    weeks = pd.to_datetime(emp["week"]).to_numpy().astype("datetime64[ns]")
    p_unemployed = emp["p_unemployed"].to_numpy(float)
    frames = []
    for method in sorted(emp["method"].unique()):
        sel = (emp["method"] == method).to_numpy()
        panel = _panel(users.code[sel], weeks[sel], p_unemployed[sel], status[sel], users, ap)
        cal = _Calibration.fit(panel, ap)
        p, lf = (a[0].astype(float) for a in cal.apply(panel.p, cal.shifts(np.ones((1, len(panel.users))))))
        n_u, n_w = panel.p.shape
        frames.append(pd.DataFrame({
            "method": method, "user_id": np.repeat(panel.users, n_w), "week": np.tile(panel.weeks.values, n_u),
            "area": np.repeat(panel.areas[panel.area], n_w), "w": np.repeat(w.weights(panel.users), n_w),
            "p_raw": panel.p.ravel(), "p": p.ravel(), "lf": lf.ravel(), "observed": panel.observed.ravel()}))
    d = pd.concat(frames, ignore_index=True)
    d = d[np.isfinite(d["p_raw"])].merge(ws[["user_id", "week", "status"]].rename(columns={"status": "true"}),
                                         on=["user_id", "week"], how="left")
    d["y"] = (d["true"] == "unemployed").astype(float)
    d["m"] = (d["true"] != "no_job").astype(float)
    for c in ("schedule", "phone_kind", "goes_remote"):
        d[c] = d["user_id"].map(people[c]).astype(str)
    tele = feats.assign(user_id=feats["user_id"].astype(str)).drop_duplicates("user_id").set_index("user_id")
    tele = tele["telework"]
    d["telework"] = pd.qcut(tele, 3, labels=["low", "mid", "high"]).reindex(d["user_id"]).astype(str).to_numpy()
    return d


def county_parts(d: pd.DataFrame, truth: pd.DataFrame, since=SHOCK, by: str | None = None) -> pd.DataFrame:
    """Each method and county's mean error over the weeks from ``since`` (points) and its parts
    (:data:`COUNTY_PARTS`, exact: they add up to the error); with ``by`` (a column of :func:`county_frame`),
    instead the probability error ``prob_raw + recal`` split by its values (each group's share of the sum)."""
    d = d[d["week"] >= since]
    t = truth.assign(area=truth["county"].astype(str)).rename(columns={"rate": "truth"})
    rows = []
    for (method, area, week), g in d.groupby(["method", "area", "week"]):
        w, lf, p, pr, y, m = (g[c].to_numpy(float) for c in ("w", "lf", "p", "p_raw", "y", "m"))
        b = (w * lf).sum()  # the estimator: sum w p / sum w lf (p is the probability of unemployed, 0..lf)
        row = {"method": method, "area": area, "week": week, "estimate": (w * p).sum() / b,
               "panel": (m * y).sum() / m.sum(), "raking": (w * y).sum() / (w * m).sum() - (m * y).sum() / m.sum(),
               "lf_share": (w * y).sum() / b - (w * y).sum() / (w * m).sum(),
               "prob_raw": (w * (pr - y)).sum() / b, "recal": (w * (p - pr)).sum() / b}
        if by is not None:
            for k, gg in g.groupby(by):
                row[f"{by}={k}"] = (gg["w"] * (gg["p"] - gg["y"])).sum() / b
        rows.append(row)
    c = pd.DataFrame(rows).merge(t[["area", "week", "truth"]], on=["area", "week"])
    c["panel"] -= c["truth"]
    c.insert(3, "error", c["estimate"] - c["truth"])
    cols = ["error", *COUNTY_PARTS] if by is None else [k for k in c.columns if k.startswith(f"{by}=")]
    return c[["method", "area"]].join(c[cols].fillna(0.0)).groupby(["method", "area"]).mean().mul(100).reset_index()


def county_by_status(d: pd.DataFrame, since=SHOCK) -> pd.DataFrame:
    """Per method, county and true status: user-weeks, share of the (weighted) labour force, mean
    recalibrated probability, the other counties' (all in percent); row ``(estimate)``: the county's
    estimate, and what it would be if its people had the other counties' mean probability per true status
    (what the county's mix of statuses alone gives)."""
    d = d[d["week"] >= since].assign(wp=lambda x: x["w"] * x["p"], wlf=lambda x: x["w"] * x["lf"])
    rows = []
    for method, g in d.groupby("method"):
        for area, ga in g.groupby("area"):
            other = g[g["area"] != area].groupby("true")[["wp", "wlf"]].sum()
            other_p = other["wp"] / other["wlf"]
            mine = ga.groupby("true")[["wp", "wlf"]].sum()
            share = mine["wlf"] / mine["wlf"].sum()
            for s in mine.index:
                rows.append({"method": method, "area": area, "true": s, "user_weeks": int((ga["true"] == s).sum()),
                             "share_pct": 100 * share[s], "mean_p_pct": 100 * mine["wp"][s] / mine["wlf"][s],
                             "other_counties_p_pct": 100 * other_p.get(s)})
            rows.append({"method": method, "area": area, "true": "(estimate)", "user_weeks": len(ga), "share_pct": 100.0,
                         "mean_p_pct": 100 * ga["wp"].sum() / ga["wlf"].sum(),
                         "other_counties_p_pct": 100 * float((share * other_p.reindex(share.index)).sum())})
    return pd.DataFrame(rows)


def strata(args) -> None:
    """``AreaParams.calibration_strata`` ``"pooled"`` against ``"county"`` (the default since stop 23) on each region's
    run: county-week scores (all cells, and by county), with labels for every user and, with ``--shares``,
    for a share of the users (three draws each, as ``sweep``); ``--placebo`` adds the placebo world."""
    specs = [s_.split(":") for s_ in args.regions]
    if args.placebo:
        specs.append(("placebo", "20200316"))
    for region, seed in specs:
        if region == "placebo":
            run, region_dir = run_region("synthetic", int(seed), args.users, args.out,
                                         overrides={"shock_date": "2020-12-07", "hazard_peak_date": "2020-12-07"})
        else:
            run, region_dir = run_region(region, int(seed), args.users, args.out)
        emp, homes, feats, labels, rac, acs = _inputs(run, region_dir)
        truth = pd.read_parquet(region_dir / "truth" / "area_weekly.parquet")
        w = panel_weights(homes, feats, rac=rac, acs=acs, area_params=AreaParams(panel_share=1.0))
        users = labels["user_id"].astype(str).unique()
        rows, by_county = [], []
        for share, draw in [(1.0, 11)] + [(s_, d) for s_ in args.shares for d in (11, 12, 13)]:
            keep = set(np.random.default_rng(draw).permutation(users)[:int(round(share * len(users)))])
            sub = labels[labels["user_id"].astype(str).isin(keep)]
            for how in ("pooled", "county"):
                t, c = time.time(), time.process_time()
                a = area_unemployment(emp, homes, weights=w, labels=sub,
                                      area_params=AreaParams(panel_share=1.0, calibration_strata=how))
                seconds = (time.time() - t, time.process_time() - c)
                tag = dict(labelled_users=f"{share:.0%}", draw=draw, strata=how)
                sc = score(a, truth)
                rows.append(sc[(sc["route"] == "individual") & (sc["estimator"] == "expected")].assign(
                    **tag, wall_s=seconds[0], cpu_s=seconds[1]))
                if share == 1.0:
                    sc = score(a, truth, by=("area",))
                    by_county.append(sc[(sc["route"] == "individual") & (sc["estimator"] == "expected")].assign(**tag))
                    strata_ = a.attrs["calibration"]
                    for m in strata_:
                        if "strata" in strata_[m]:
                            print(f"{region} {seed} {m}: {strata_[m]['strata']}", flush=True)
        cols = ["labelled_users", "draw", "strata", "method", "cells", "mae_pts", "mean_error_pts", "coverage",
                "width_pts", "wall_s", "cpu_s"]
        show(f"{region} seed {seed}: calibration_strata, county-week from the shock on",
             pd.concat(rows, ignore_index=True)[cols])
        show(f"{region} seed {seed}: calibration_strata, by county (labels for every user)",
             pd.concat(by_county, ignore_index=True)[["strata", "method", "area", "mae_pts", "mean_error_pts",
                                                     "coverage", "width_pts", "truth_pct"]])


def county_people(seeds, users: int) -> pd.DataFrame:
    """Is a county's rate a feature of the generator's world or of one draw? Per seed (people only, no
    pings: the region's own geography, CBG mixes and people streams) and county: workers at the start, the
    share who lose their job from the shock to 2020-09-30, the share who go remote, mean teleworkability."""
    from mobility.synthetic.geography import build_geography
    from mobility.synthetic.params import SyntheticParams
    from mobility.synthetic.people import cbg_mixes, draw_people
    from mobility.synthetic.region import _rng

    params = SyntheticParams(n_users=users)
    rows = []
    for seed in seeds:
        geo = build_geography(params, _rng(seed, "geography"))
        people = draw_people(params, geo, cbg_mixes(geo, _rng(seed, "mixes")), _rng(seed, "people"))
        jobs = people[people["work_cbg"].notna()]  # a job at the start (draw_lives, not run here, adds schedules)
        loss = jobs["job_loss_date"]
        lost = loss.notna() & (loss >= SHOCK) & (loss <= pd.Timestamp("2020-09-30"))
        g = jobs.assign(lost=lost).groupby("county").agg(workers=("lost", "size"), lost_pct=("lost", "mean"),
                                                          remote_pct=("goes_remote", "mean"), tau=("tau", "mean"))
        rows.append(g.assign(lost_pct=100 * g["lost_pct"], remote_pct=100 * g["remote_pct"], seed=seed).reset_index())
    return pd.concat(rows, ignore_index=True)


def county(args) -> None:
    """Why a county is over-estimated (README, "Why county 42091 is over-estimated")."""
    if args.people_seeds:
        t = county_people([20200316, 2, *range(100, 100 + args.people_seeds - 2)], args.users)
        t["lowest"] = t.groupby("seed")["lost_pct"].rank(method="first") == 1
        show(f"people only, {t['seed'].nunique()} seeds: per county, mean (sd over seeds), seeds where it has the lowest "
             "job-loss share", t.groupby("county").agg(
                 workers=("workers", "mean"), lost_pct=("lost_pct", "mean"), lost_pct_sd=("lost_pct", "std"),
                 remote_pct=("remote_pct", "mean"), remote_pct_sd=("remote_pct", "std"), tau=("tau", "mean"),
                 lowest_in=("lowest", "sum")).reset_index())
        show("people only, the seeds of the regions", t[t["seed"].isin([20200316, 2])])
    for spec in args.regions:
        region, seed = spec.split(":")
        run, region_dir = run_region(region, int(seed), args.users, args.out)
        truth = pd.read_parquet(region_dir / "truth" / "area_weekly.parquet")
        d = county_frame(run, region_dir)
        title = f"{region} seed {seed}, county-weeks from the shock on"
        show(f"{title}: mean error (points) and its parts", county_parts(d, truth))
        show(f"{title}: statuses, mean probability (recalibrated), estimate with the other counties' mean p",
             county_by_status(d))
        for by in ("true", "observed", "schedule", "phone_kind", "goes_remote", "telework"):
            show(f"{title}: probability error (prob_raw + recal, points) by {by}", county_parts(d, truth, by=by))


SETTINGS = {  # what stop 23 changed, one step at a time (README "At 10,000 and 100,000 users", "County strata")
    "before": dict(calibrate_filled=False, calibration_by_week=False, calibration_strata="pooled"),
    "filled": dict(calibration_by_week=False, calibration_strata="pooled"),
    "filled+week": dict(calibration_strata="pooled"),
    "default": {},
}


def filled_weeks(run: Path, region_dir: Path, area_params: AreaParams, since=SHOCK) -> pd.DataFrame:
    """Per method, over the labelled labour-force weeks from ``since`` on: the recalibrated probability of the
    observed and of the filled weeks (the panel's silent weeks given their neighbours' probability) against the
    labels' share unemployed (README, "the filled weeks")."""
    from mobility.employment.area import _Calibration, method_panels

    emp, homes, _, labels, _, _ = _inputs(run, region_dir)
    rows = []
    for method, panel in method_panels(emp, homes, labels, area_params):
        cal = _Calibration.fit(panel, area_params)
        p = cal.apply(panel.p, cal.shifts(np.ones((1, len(panel.users)))))[0][0]
        lab = np.isfinite(panel.y) & np.isfinite(panel.p) & (panel.weeks >= since)[None, :]
        for kind, m in (("observed", lab & panel.observed), ("filled", lab & ~panel.observed)):
            rows.append({"method": method, "weeks": kind, "user_weeks": int(m.sum()),
                         "raw_p_pct": 100 * panel.p[m].mean(), "recalibrated_p_pct": 100 * p[m].mean(),
                         "labels_pct": 100 * panel.y[m].mean()})
    return pd.DataFrame(rows)


def runs(args) -> None:
    """Score finished runs (e.g. ``bench_scale.py``'s at 10,000 and 100,000 users), the area step recomputed from
    their tables under each of :data:`SETTINGS` (``panel_share = 1``: the synthetic truth counts the panel's
    people), and the filled weeks' calibration (README, "At 10,000 and 100,000 users")."""
    for run, region_dir in zip(args.run, args.region):
        truth = pd.read_parquet(region_dir / "truth" / "area_weekly.parquet")
        emp, homes, feats, labels, rac, acs = _inputs(run, region_dir)
        rows = []
        for name in args.settings:
            ap = AreaParams(panel_share=1.0, **SETTINGS[name])
            w = panel_weights(homes, feats, rac=rac, acs=acs, area_params=ap)
            t, c = time.time(), time.process_time()
            area = area_unemployment(emp, homes, weights=w, labels=labels, area_params=ap)
            seconds = (round(time.time() - t, 1), round(time.process_time() - c, 1))
            for level in ("county", "state"):
                for period in ("week", "month"):
                    sc = score(area, truth, level=level, period=period)
                    rows.append(sc[sc["route"] == "individual"].assign(setting=name, level=level, period=period,
                                                                      wall_s=seconds[0], cpu_s=seconds[1]))
        cols = ["setting", "level", "period", "method", "estimator", "cells", "mae_pts", "mean_error_pts", "coverage",
                "width_pts", "users", "wall_s", "cpu_s"]
        show(f"{run}: area step recomputed under each setting", pd.concat(rows, ignore_index=True)[cols])
        for name in ("before", "filled"):
            show(f"{run}: observed and filled weeks, {name}", filled_weeks(run, region_dir,
                                                                           AreaParams(**SETTINGS[name])))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("evidence")
    e.add_argument("--out", type=Path, required=True)
    e.add_argument("--users", type=int, default=1000)
    e.add_argument("--regions", nargs="+", default=["synthetic:20200316", "synthetic:2", "synthetic_hard:20200316"])
    b = sub.add_parser("breaks")
    b.add_argument("--out", type=Path, required=True)
    b.add_argument("--users", type=int, default=1000)
    w = sub.add_parser("sweep")
    w.add_argument("--out", type=Path, required=True)
    w.add_argument("--users", type=int, default=1000)
    w.add_argument("--seed", type=int, default=20200316)
    w.add_argument("--labels-only", action="store_true", help="skip the misclassification sweep")
    c = sub.add_parser("county")
    c.add_argument("--out", type=Path, required=True)
    c.add_argument("--users", type=int, default=1000)
    c.add_argument("--regions", nargs="+", default=["synthetic:20200316", "synthetic:2", "synthetic_hard:20200316"])
    c.add_argument("--people-seeds", type=int, default=20, help="seeds of people drawn without pings (0: none)")
    t = sub.add_parser("strata")
    t.add_argument("--out", type=Path, required=True)
    t.add_argument("--users", type=int, default=1000)
    t.add_argument("--regions", nargs="+", default=["synthetic:20200316", "synthetic:2", "synthetic_hard:20200316"])
    t.add_argument("--shares", nargs="*", type=float, default=[0.5, 0.2, 0.05])
    t.add_argument("--placebo", action="store_true")
    r = sub.add_parser("runs")
    r.add_argument("--run", type=Path, nargs="+", required=True, help="finished run folders (pipeline --out)")
    r.add_argument("--region", type=Path, nargs="+", required=True, help="their synthetic region folders, in order")
    r.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    s = sub.add_parser("speed")
    s.add_argument("--users", type=int, default=100_000)
    s.add_argument("--weeks", type=int, default=39)
    s.add_argument("--replicates", type=int, default=200)
    args = ap.parse_args()
    if getattr(args, "out", None):
        args.out.mkdir(parents=True, exist_ok=True)
    {"evidence": evidence, "breaks": breaks, "sweep": sweep, "speed": speed, "county": county,
     "strata": strata, "runs": runs}[args.cmd](args)


if __name__ == "__main__":
    main()
