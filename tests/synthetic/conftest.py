"""A tiny synthetic region shared by the tests of this folder (50 people, 4 weeks around the shock)."""

from __future__ import annotations

import pytest

from mobility.synthetic import SyntheticParams, generate_region

TINY = dict(n_users=50, start="2020-03-02", end="2020-03-29", shock_date="2020-03-16",
            hazard_peak_date="2020-03-16", peak_job_loss_hazard_per_week=0.15, rehire_start_date="2020-03-23",
            rehire_hazard_per_week=0.3, users_per_part=20, inject_bad_share=0.002)


@pytest.fixture(scope="session")
def tiny_params() -> SyntheticParams:
    return SyntheticParams(**TINY)


@pytest.fixture(scope="session")
def tiny_region(tmp_path_factory, tiny_params):
    return generate_region(tmp_path_factory.mktemp("synthetic") / "region", tiny_params, seed=7)
