"""Every notebook in notebooks/ runs top to bottom (nbclient) on a fresh kernel, within 3 minutes of cell time,
and is committed without outputs."""

import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="nbformat is in the dev extras")
nbclient = pytest.importorskip("nbclient", reason="nbclient is in the dev extras")
pytest.importorskip("ipykernel", reason="ipykernel is in the dev extras")

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_four_notebooks_committed_without_outputs():
    assert [p.stem[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04"]
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert code, path.name
        assert all(not c.outputs and c.execution_count is None for c in code), f"{path.name}: strip outputs"
        source = "\n".join(c.source for c in code)
        assert "/work/" not in source, f"{path.name}: machine-specific path"
        imports = [line.split()[1] for line in source.splitlines() if line.startswith(("import ", "from "))]
        private = [m for m in imports if m.startswith("mobility") and any(part.startswith("_") for part in m.split("."))]
        assert not private, f"{path.name}: private modules {private}"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path):
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
    t0 = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - t0
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.get("output_type") == "error"]
    assert not errors
    assert elapsed < 180, f"{path.name} took {elapsed:.0f} s (limit 180 s)"
