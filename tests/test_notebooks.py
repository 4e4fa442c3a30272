"""Every notebook in notebooks/ runs top to bottom (nbclient) on a fresh kernel, within 3 minutes of cell time,
displays its figures with both axes labelled, uses only the public API, and is committed without outputs.
Notebook 04 runs on the sample files shipped with the package, without the shared real-data folder."""

import ast
import importlib
import json
import re
import time
from pathlib import Path
from types import ModuleType

import pytest

import mobility

nbformat = pytest.importorskip("nbformat", reason="nbformat is in the dev extras")
nbclient = pytest.importorskip("nbclient", reason="nbclient is in the dev extras")
pytest.importorskip("ipykernel", reason="ipykernel is in the dev extras")

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
MIN_FIGURES = {"01": 4, "02": 3, "03": 3, "04": 2}
"""Images each notebook must display (a figure with several panels counts once)."""


def code_of(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    return "\n".join(c.source for c in nb.cells if c.cell_type == "code")


def _public(parts: list[str]) -> bool:
    """``mobility.<parts>`` is public: each name in its module's ``__all__``, only the last not a module."""
    module = mobility
    for i, part in enumerate(parts):
        if part.startswith("_") or part not in getattr(module, "__all__", ()):
            return False
        value = getattr(module, part)
        if not isinstance(value, ModuleType):
            return i == len(parts) - 1
        module = value
    return True


def private_uses(source: str) -> list[str]:
    """Every use of ``mobility`` beyond its public API: an import of a module or name outside ``__all__``
    (of ``mobility`` and its public subpackages), or an attribute chain ``mobility.x.y`` that reaches past them.

    >>> private_uses("import mobility\\nmobility.census.read_lodes(p)\\nmobility.report.sector_name('CNS01')")
    []
    >>> private_uses("from mobility.employment.attendance import baseline_work_cbg\\nmobility.pipeline.runner.log")
    ['from mobility.employment.attendance import baseline_work_cbg', 'mobility.pipeline.runner.log']
    """
    tree = ast.parse(source)
    inner = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names
                      if a.name.split(".")[0] == "mobility" and not _public(a.name.split(".")[1:])]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "mobility":
            parts = node.module.split(".")[1:]
            if not all(_public([*parts, a.name]) for a in node.names):
                found.append(f"from {node.module} import {', '.join(a.name for a in node.names)}")
        elif isinstance(node, ast.Attribute) and id(node) not in inner:
            chain, value = [], node
            while isinstance(value, ast.Attribute):
                chain.insert(0, value.attr)
                value = value.value
            if isinstance(value, ast.Name) and value.id == "mobility":
                module, reached = mobility, []
                for part in chain:  # down through modules, up to the first name that is not one
                    reached.append(part)
                    module = getattr(module, part, None)
                    if not isinstance(module, ModuleType):
                        break
                if not _public(reached):
                    found.append("mobility." + ".".join(chain))
    return found


def test_private_uses_sees_submodules_reached_by_attribute():
    importlib.import_module("mobility.employment.attendance")
    assert private_uses("mobility.employment.attendance.baseline_work_cbg(x)") == \
        ["mobility.employment.attendance.baseline_work_cbg"]
    assert private_uses("import mobility.census\nx = mobility.run_pipeline('r').keys()") == []


def test_four_notebooks_committed_without_outputs_using_the_public_api():
    assert [p.stem[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04"]
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert code, path.name
        assert all(not c.outputs and c.execution_count is None for c in code), f"{path.name}: strip outputs"
        source = code_of(path)
        assert "/work/" not in source, f"{path.name}: machine-specific path"
        assert "shared/data" not in source and "shared\" / \"data" not in source, f"{path.name}: needs ../shared"
        assert private_uses(source) == [], f"{path.name}: beyond the public API"
        assert "matplotlib.use" not in source
        # a job loss is dated once, by mobility.employment.job_loss_weeks, not re-derived in a notebook
        assert not re.search(r"\[\"weeks_since_job_loss\"\]\s*\.(astype|mul)|- *pd\.to_timedelta\(", source), \
            f"{path.name}: date job losses with mobility.employment.job_loss_weeks"
        prose = " ".join(c.source for c in nb.cells if c.cell_type == "markdown")
        assert len(prose.split()) > 150, f"{path.name}: tell the science in a few sentences"


LABEL_CHECK = """
import matplotlib.pyplot as _plt
_unlabelled, _show = [], _plt.show
def _show_checked(*args, **kwargs):
    for _ax in _plt.gcf().axes:  # a map drawn without axes and a colour bar need no labels
        if not _ax.axison or _ax.get_label() == "<colorbar>":
            continue
        _ylabel = any(a.get_ylabel() for a in _ax.get_shared_y_axes().get_siblings(_ax))  # sharey: one is enough
        _unlabelled.extend(f"{_ax.get_title()!r}: no {which} label"
                           for which, ok in (("x", _ax.get_xlabel()), ("y", _ylabel)) if not ok)
    _show(*args, **kwargs)
_plt.show = _show_checked
"""
"""Run before a notebook's cells: every axes shown with ``plt.show`` must name what its axes hold (units)."""


def unlabelled_axes(nb) -> list[str]:
    """Axes the label check (:data:`LABEL_CHECK`) found without an x or y label, from the last cell's output."""
    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.get("output_type") == "stream")
    return json.loads(text)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_and_shows_its_figures(path, tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the kernel's temporary folders: here, to see what is left
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(LABEL_CHECK))
    nb.cells.append(nbformat.v4.new_code_cell("import json; print(json.dumps(_unlabelled))"))
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
    t0 = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - t0
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    errors = [o for o in outputs if o.get("output_type") == "error"]
    assert not errors
    images = [o for o in outputs if o.get("output_type") in ("display_data", "execute_result")
              and "image/png" in o.get("data", {})]
    assert len(images) >= MIN_FIGURES[path.stem[:2]], f"{path.name}: {len(images)} figures displayed"
    assert unlabelled_axes(nb) == [], f"{path.name}: label every axis, with its unit"
    printed = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    if "see the warning below" in printed:  # a report headline that points to its warning: show the warning too
        assert re.search(r"^Warning: \S", printed, re.M), f"{path.name}: a headline is printed without its warning"
    assert elapsed < 180, f"{path.name} took {elapsed:.0f} s (limit 180 s)"
    assert not list(tmp_path.iterdir()), f"{path.name} leaves {sorted(tmp_path.iterdir())} on disk at every run"
