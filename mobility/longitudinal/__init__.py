"""How job loss changes mobility: event studies, heterogeneity by group, DiD, matched controls, figures.

Method: ``shared/docs/method.md`` section 2.9. Kernels: :mod:`.fixed_effects` (exact two-way within
transformation) and :mod:`.cluster_ols` (CR1 cluster-robust least squares); frames: :mod:`.event_study`,
:mod:`.heterogeneity`, :mod:`.did`, :mod:`.matching`, :mod:`.plots`; :mod:`.outputs` writes everything.
"""

from mobility.longitudinal.did import did_summary
from mobility.longitudinal.event_study import EventStudyResult, event_study
from mobility.longitudinal.heterogeneity import (
    HeterogeneityResult,
    heterogeneity,
    rubin_combine,
)
from mobility.longitudinal.matching import (
    MatchResult,
    apply_match_weights,
    match_controls,
)
from mobility.longitudinal.outputs import run_longitudinal, write_table
from mobility.longitudinal.plots import plot_event_study

__all__ = [
    "EventStudyResult", "HeterogeneityResult", "MatchResult", "apply_match_weights", "did_summary",
    "event_study", "heterogeneity", "match_controls", "plot_event_study", "rubin_combine",
    "run_longitudinal", "write_table",
]
