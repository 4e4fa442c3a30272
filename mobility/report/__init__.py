"""The monthly report for policy analysts: ``python -m mobility.report --region NAME --month YYYY-MM``.

Reads a finished run's folder (tables and ``run.json``, never raw pings) and writes one self-contained HTML
page, the CSV table behind every figure, and optionally a PDF. Every cell behind fewer than ``k_min_users``
users is suppressed, and the written files are scanned for private content before they are kept.
Modules: :mod:`.inputs` (what is read), :mod:`.unemployment`, :mod:`.mobility_gap`, :mod:`.coverage`,
:mod:`.methods` (tables), :mod:`.labels` and :mod:`.tables` (words and units for people), :mod:`.figures`,
:mod:`.document` (HTML), :mod:`.privacy`, :mod:`.references`, :mod:`.pdf`, :mod:`.build` (the whole report).
"""

from mobility.report.build import build_report
from mobility.report.labels import group_label, metric_name, month_name, place_name, sector_name
from mobility.report.privacy import privacy_violations, suppress_small
from mobility.report.references import load_references

__all__ = ["build_report", "group_label", "load_references", "metric_name", "month_name", "place_name",
           "privacy_violations", "report_for_region", "reports_for_region", "sector_name", "suppress_small"]


def report_for_region(region: str, month: str, *, out: str | None = None, k_min_users: int | None = None,
                      pdf: bool = False) -> dict:
    """The report of a region's run, inputs (map polygons, official series, k) taken from its config.

    ``[report]`` in the region config may set ``k_min_users``, ``trend_months``, ``method``, ``route``,
    ``baseline_months`` and ``dimensions``; ``[inputs] cbg``, ``laus`` and ``ui_claims`` feed the map and
    the comparison.

    Examples
    --------
    >>> info = report_for_region("synthetic", "2020-04")   # doctest: +SKIP
    """
    return reports_for_region(region, [month], out=out, k_min_users=k_min_users, pdf=pdf)[month]


def reports_for_region(region: str, months: list[str], *, out: str | None = None, k_min_users: int | None = None,
                       pdf: bool = False) -> dict[str, dict]:
    """:func:`report_for_region` for each of ``months`` (``{month: info}``), the config, polygons and official
    series read once, and the run's tables reduced once for all months where a reduction serves every month
    (:class:`~mobility.report.build.SharedInputs`: the mobility by status of every month made in one pass over
    ``metrics_monthly``, the user ids the privacy scan looks for read once); each month's report is the one it
    would be alone.

    Examples
    --------
    >>> infos = reports_for_region("synthetic", ["2020-04", "2020-09"])   # doctest: +SKIP
    """
    from pathlib import Path

    from mobility.census import read_geometry
    from mobility.pipeline import load_config
    from mobility.report.build import SharedInputs
    from mobility.report.references import references_for_config

    config = load_config(region)  # unknown [report] keys are an error there
    options = config.stage("report")
    options.pop("months", None)  # the pipeline's report stage: which months to write
    if k_min_users is not None:
        options["k_min_users"] = k_min_users
    if "dimensions" in options:
        options["dimensions"] = tuple(options["dimensions"])
    cbg_path = config.input_path("cbg", required=False)
    cbg = read_geometry(cbg_path) if cbg_path is not None and cbg_path.exists() else None
    out_dir = Path(out) if out else Path("out") / config.name
    references = references_for_config(config)
    shared = SharedInputs(out_dir, months)
    return {month: build_report(out_dir, month, cbg=cbg, references=references, pdf=pdf, shared=shared, **options)
            for month in months}
