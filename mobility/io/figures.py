"""Writing figures: a :class:`matplotlib.figure.Figure` to one file per format, each atomically.

Frames draw and return Figures (no file, no pyplot state, no backend switch); the runs layer writes them
with :func:`save_figure`.
"""

from __future__ import annotations

import os
from pathlib import Path

from mobility.errors import MobilityError
from mobility.io.atomic import atomic_path

FIGURE_FORMATS = ("png", "svg", "pdf")


def format_targets(stem: str | os.PathLike, formats: tuple[str, ...], allowed: tuple[str, ...], what: str) -> list[Path]:
    """``<stem>.<format>`` for each of ``formats``, checked against ``allowed`` (a MobilityError names them)."""
    bad = [f for f in formats if f not in allowed]
    if bad or not formats:
        raise MobilityError(f"{what} formats must be a non-empty subset of {allowed}, got {formats!r}")
    stem = Path(stem)
    return [stem.with_name(f"{stem.name}.{fmt}") for fmt in formats]


def save_figure(fig, stem: str | os.PathLike, formats: tuple[str, ...] = ("png", "svg"), *, dpi: int = 150) -> list[Path]:
    """Write ``fig`` as ``<stem>.<format>`` for each format, atomically; returns the paths written.

    Examples
    --------
    >>> import tempfile
    >>> from matplotlib.figure import Figure
    >>> fig = Figure(); _ = fig.add_subplot().plot([0, 1], [1, 0])
    >>> [p.name for p in save_figure(fig, Path(tempfile.mkdtemp()) / "line")]
    ['line.png', 'line.svg']
    """
    targets = format_targets(stem, formats, FIGURE_FORMATS, "figure")
    for fmt, target in zip(formats, targets):
        with atomic_path(target) as tmp:
            fig.savefig(tmp, format=fmt, dpi=dpi)
    return targets
