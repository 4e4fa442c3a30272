import json

import numpy as np
import pandas as pd
import pytest

from mobility.errors import MobilityError
from mobility.longitudinal.outputs import longitudinal_tables, run_longitudinal, write_longitudinal, write_table
from mobility.longitudinal.params import EventStudyParams

from .panels import simulate_panel


def test_run_writes_every_table_and_figure(tmp_path):
    p = simulate_panel(50, n_users=400, n_weeks=20).rename(columns={"y": "radius_of_gyration_km"})
    p["capacity"] = p["radius_of_gyration_km"] * 0.5 + 1
    manifest = run_longitudinal(p, ["radius_of_gyration_km", "capacity"], ["sex", "vulnerable"], tmp_path,
                                window=(-3, 6))
    assert "nonwork" in (tmp_path / "README.md").read_text()
    for name in ["event_study", "heterogeneity", "pretrend", "did"]:
        assert (tmp_path / f"{name}.parquet").exists() and (tmp_path / f"{name}.csv").exists()
    for stem in ["event_study_capacity", "event_study_radius_of_gyration_km_by_sex"]:
        assert (tmp_path / "figures" / f"{stem}.png").exists() and (tmp_path / "figures" / f"{stem}.svg").exists()
    assert json.loads((tmp_path / "longitudinal.json").read_text())["files"] == manifest["files"]
    es = pd.read_parquet(tmp_path / "event_study.parquet")
    assert set(es.metric) == {"radius_of_gyration_km", "capacity"}
    # capacity = 0.5 * rg + 1: its effects are exactly half
    a = es[es.metric == "capacity"].estimate.to_numpy()
    b = es[es.metric == "radius_of_gyration_km"].estimate.to_numpy()
    np.testing.assert_allclose(a, 0.5 * b, atol=1e-10)
    did = pd.read_csv(tmp_path / "did.csv")
    assert set(did.dimension) == {"all", "sex", "vulnerable"}
    # privacy: no user id, and no count below k, anywhere in the written tables (the report's own scanner)
    from mobility.report.privacy import privacy_violations

    assert privacy_violations(sorted(tmp_path.glob("*.csv")), user_ids=set(p.user_id), k_min_users=10) == []
    assert not list(tmp_path.rglob(".tmp-*"))


def test_matched_controls_write_balance(tmp_path):
    p = simulate_panel(51, n_users=400, n_weeks=20)
    run_longitudinal(p, ["y"], [], tmp_path, matching="cem", match_exact=["sex"],
                     match_options={"n_bins": 3, "baseline": ("2020-01-06", "2020-02-03")}, window=(-3, 6))
    bal = pd.read_parquet(tmp_path / "balance.parquet")
    assert {"y", "sex=female", "sex=male"} <= set(bal.covariate)
    assert not (tmp_path / "heterogeneity.parquet").exists()


def test_bad_arguments(tmp_path):
    p = simulate_panel(52, n_users=60, n_weeks=14)
    with pytest.raises(MobilityError, match="matching"):
        run_longitudinal(p, ["y"], [], tmp_path, matching="some")
    with pytest.raises(MobilityError, match="control_group"):
        run_longitudinal(p, ["y"], [], tmp_path, control_group="some")
    with pytest.raises(MobilityError, match="matching picks never-losers"):
        run_longitudinal(p, ["y"], [], tmp_path, matching="cem", control_group="later")
    with pytest.raises(MobilityError, match="metric"):
        run_longitudinal(p, [], [], tmp_path)
    with pytest.raises(MobilityError, match="formats"):
        write_table(p, tmp_path / "x", formats=("xlsx",))


def test_small_cells_publish_neither_value_nor_count(tmp_path):
    """A group with 4 job losers (k = 10): its cells are blank, counts included, in every written table."""
    from mobility.report.privacy import privacy_violations

    p = simulate_panel(52, n_users=400, n_weeks=20)
    losers = sorted(p.loc[p.job_loss_week.notna(), "user_id"].unique())[:4]
    p["sex"] = np.where(p["user_id"].isin(losers), "rare", "common")
    run_longitudinal(p, ["y"], ["sex"], tmp_path, window=(-3, 6))
    did = pd.read_csv(tmp_path / "did.csv")
    rare = did[did.group == "rare"]
    assert len(rare) == 1 and rare.suppressed.all()
    assert rare[["estimate", "n_users_pre", "n_users_post"]].isna().all().all()
    het = pd.read_csv(tmp_path / "heterogeneity.csv")
    rare = het[(het.group == "rare") & ~het.reference.astype(bool)]  # the reference period is 0 by construction
    assert len(rare) == 9 and rare.suppressed.all() and rare[["estimate", "n_users"]].isna().all().all()
    assert privacy_violations(sorted(tmp_path.glob("*.csv")), user_ids=set(p.user_id), k_min_users=10) == []


def _files(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_fits_and_figures_in_forked_workers_write_the_same_files_as_one_process(tmp_path):
    """The pipeline's mapper (forked workers): each fit and each figure ran in a worker, not here, and every
    file (tables, figures, manifest) is the same byte for byte as when everything runs here, in order; the
    stacked heterogeneity tables are those of one heterogeneity() call over every dimension."""
    import os

    from mobility.longitudinal import heterogeneity, longitudinal_tables, write_longitudinal
    from mobility.longitudinal.params import EventStudyParams
    from mobility.pipeline.engine import LocalEngine

    p = simulate_panel(53, n_users=400, n_weeks=20).rename(columns={"y": "radius_of_gyration_km"})
    p["capacity"] = p["radius_of_gyration_km"] * 0.5 + 1
    p.loc[p.index[::7], "capacity"] = np.nan  # a second row set
    metrics, dims, params = ["radius_of_gyration_km", "capacity"], ["sex", "vulnerable"], EventStudyParams(window=(-3, 6))
    here = longitudinal_tables(p, metrics, dims, params=params)
    write_longitudinal(here, tmp_path / "here", figure_formats=("png",))

    engine, seen = LocalEngine(workers=2), []

    def forked(fn, items):
        seen.append(list(items))
        ran = engine.map(lambda item: (os.getpid(), fn(item)), items, processes=True)
        assert os.getpid() not in {pid for pid, _ in ran}
        return [result for _, result in ran]

    there = longitudinal_tables(p, metrics, dims, params=params, mapper=forked)
    write_longitudinal(there, tmp_path / "there", figure_formats=("png",), mapper=forked)
    figures = [f"event_study_{m}{by}" for m in metrics for by in ["", "_by_sex", "_by_vulnerable"]]
    assert seen == [[None, "sex", "vulnerable"], figures]
    written = _files(tmp_path / "here")
    assert len(written) == 4 * 2 + len(figures) + 2 and written == _files(tmp_path / "there")

    het = heterogeneity(p, metrics, dims, **params.event_study_kwargs())
    pd.testing.assert_frame_equal(there.tables["heterogeneity"].drop(columns="outcome_kind"), het.coefficients)
    by_group = there.tables["pretrend"].query("dimension != 'all'").reset_index(drop=True)
    pd.testing.assert_frame_equal(by_group[list(het.pretrend.columns)], het.pretrend)


def test_a_comparison_fit_that_fails_leaves_its_reason(tmp_path, monkeypatch):
    import mobility.longitudinal.outputs as outputs

    real = outputs.event_study

    def refuse_later(panel, metrics, **kw):
        if kw.get("control_group") == "later":
            raise MobilityError("no later loser")
        return real(panel, metrics, **kw)

    monkeypatch.setattr(outputs, "event_study", refuse_later)
    p = simulate_panel(53, n_users=200, n_weeks=14)
    res = outputs.longitudinal_tables(p, ["y"], [], params=EventStudyParams(window=(-3, 3)), compare_controls="later")
    assert "comparisons" not in res.tables
    assert res.manifest["comparison"] == {"control_group": "later", "estimated": False, "reason": "no later loser"}
    manifest = write_longitudinal(res, tmp_path)
    assert "could not be estimated: no later loser" in (tmp_path / "README.md").read_text()
    assert manifest["comparison"]["estimated"] is False


def test_matching_that_keeps_no_loser_says_so():
    """Losers whose baseline is 50 standard deviations from every control: nearest matching with a caliper keeps
    none. The fits once failed with 'no job loser has a non-missing ['y']' (every loser had data); the error now
    names the matching and its caliper."""
    p = simulate_panel(3, n_users=200, n_weeks=16)
    losers = p.job_loss_week.notna()
    p.loc[losers, "y"] += 50 * p.loc[~losers, "y"].std()
    with pytest.raises(MobilityError, match="matched none of the .* job losers.*caliper_sd = 0.5"):
        longitudinal_tables(p, ["y"], [], matching="nearest")
    sexes = p.assign(sex=np.where(losers, "female", "male"))  # exact strata: no loser shares one with a control
    with pytest.raises(MobilityError, match="matched none.*no stratum of 5 bins on each of 1 covariates"):
        longitudinal_tables(sexes, ["y"], [], matching="cem", match_exact=["sex"])
    res = longitudinal_tables(p, ["y"], [], matching="nearest", match_options={"caliper_sd": None})  # no caliper
    assert res.tables["event_study"]["n_users"].max() > 0
