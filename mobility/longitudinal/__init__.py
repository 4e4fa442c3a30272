"""How job loss changes mobility: event studies robust to staggered job losses, heterogeneity by group, DiD,
matched controls, figures.

Method: ``shared/docs/method.md`` sections 2.9 and 4. Kernels: :mod:`.fixed_effects` (exact two-way within
transformation), :mod:`.cell_ols` (cell dummies with person and week effects) and :mod:`.cluster_ols` (CR1
inference); frames: :mod:`.estimators` (Sun-Abraham, TWFE) behind :func:`event_study`, :mod:`.heterogeneity`,
:mod:`.did`, :mod:`.matching`, :mod:`.plots` (Figures), :mod:`.panel` (panel contract, job-loss dating),
:mod:`.study` (a pipeline run's study, every decision); :mod:`.outputs` tabulates and writes.
"""

from mobility.longitudinal.did import did_summary
from mobility.longitudinal.estimators import TWFE, SunAbraham
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
from mobility.longitudinal.outputs import (
    LongitudinalResult,
    longitudinal_tables,
    outcome_kind,
    run_longitudinal,
    write_longitudinal,
    write_table,
)
from mobility.longitudinal.panel import dating_method, job_loss_panel, since_week
from mobility.longitudinal.params import EventStudyParams, LongitudinalParams
from mobility.longitudinal.plots import plot_event_study
from mobility.longitudinal.study import longitudinal_study

__all__ = [
    "EventStudyParams", "EventStudyResult", "HeterogeneityResult", "LongitudinalParams", "LongitudinalResult",
    "MatchResult", "SunAbraham", "TWFE", "apply_match_weights", "dating_method", "did_summary", "event_study",
    "heterogeneity", "job_loss_panel", "longitudinal_study", "longitudinal_tables",
    "match_controls", "outcome_kind", "plot_event_study", "rubin_combine", "run_longitudinal", "since_week",
    "write_longitudinal", "write_table",
]
