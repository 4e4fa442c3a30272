import numpy as np
import pytest

from mobility.errors import MobilityError
from mobility.longitudinal.fixed_effects import two_way_demean


def _dummy_residuals(v, unit, time, w):
    """Reference: weighted residuals on explicit person and week dummies via lstsq."""
    d = np.column_stack([np.eye(unit.max() + 1)[unit], np.eye(time.max() + 1)[time][:, 1:]])
    sw = np.sqrt(w)
    coef, *_ = np.linalg.lstsq(d * sw[:, None], v * sw[:, None], rcond=None)
    return v - d @ coef, np.linalg.matrix_rank(d)


@pytest.mark.parametrize("weighted", [False, True])
def test_unbalanced_panel_equals_dummy_regression(weighted):
    rng = np.random.default_rng(3)
    unit = np.repeat(np.arange(25), 8)
    time = np.tile(np.arange(8), 25)
    keep = rng.random(unit.size) > 0.3
    unit, time = unit[keep], time[keep]
    unit = np.unique(unit, return_inverse=True)[1]
    w = rng.uniform(0.5, 3.0, unit.size) if weighted else np.ones(unit.size)
    v = rng.normal(size=(unit.size, 3))
    got, rank = two_way_demean(v, unit, time, w if weighted else None)
    ref, ref_rank = _dummy_residuals(v, unit, time, w)
    np.testing.assert_allclose(got, ref, atol=1e-10)
    assert rank == ref_rank


def test_disconnected_person_week_graph_rank():
    # persons 0,1 seen only in weeks 0,1; persons 2,3 only in weeks 2,3: two components, rank P + T - 2
    unit = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    time = np.array([0, 1, 0, 1, 2, 3, 2, 3])
    v = np.array([1.0, 2.0, 4.0, 3.0, 0.0, 5.0, 1.0, 1.0])
    got, rank = two_way_demean(v, unit, time)
    assert rank == 4 + 4 - 2
    ref, ref_rank = _dummy_residuals(v[:, None], unit, time, np.ones(8))
    np.testing.assert_allclose(got, ref[:, 0], atol=1e-12)
    # by hand for the first block: interaction contrast (1 - 2 - 4 + 3)/4 = -0.5 with signs +,-,-,+
    np.testing.assert_allclose(got[:4], [-0.5, 0.5, 0.5, -0.5], atol=1e-12)


def test_rejects_bad_weights_and_shapes():
    with pytest.raises(MobilityError, match="weights"):
        two_way_demean(np.ones(2), np.array([0, 1]), np.array([0, 0]), np.array([1.0, 0.0]))
    with pytest.raises(MobilityError, match="shape"):
        two_way_demean(np.ones(3), np.array([0, 1]), np.array([0, 0]))
