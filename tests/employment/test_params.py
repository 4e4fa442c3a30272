import pytest

from mobility.employment.params import ClassifierParams, EmploymentParams
from mobility.errors import MobilityError


@pytest.mark.parametrize("kw", [dict(min_event_weeks=0), dict(work_start_h=18.0, work_end_h=9.0),
                                dict(baseline_start="2020-01-06", baseline_end="2020-01-07"),
                                dict(remote_adoption=1.5), dict(min_cell_users=0), dict(baseline_start="x")])
def test_bad_employment_params(kw):
    with pytest.raises(MobilityError, match="EmploymentParams"):
        EmploymentParams(**kw)


@pytest.mark.parametrize("kw", [dict(calibration="beta"), dict(num_threads=0), dict(learning_rate=0.0)])
def test_bad_classifier_params(kw):
    with pytest.raises(MobilityError, match="ClassifierParams"):
        ClassifierParams(**kw)
