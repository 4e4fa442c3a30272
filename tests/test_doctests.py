"""The doctests of ``mobility/`` clean up after themselves."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_doctests_leave_nothing_in_the_temporary_folder(tmp_path):
    """``mobility/io/atomic.py``'s examples write files into ``tempfile.mkdtemp()`` folders (four of them)."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "TMPDIR": str(tmp), "PYTHONPATH": path}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--doctest-modules",
                          "mobility/io/atomic.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and " passed" in run.stdout, run.stdout + run.stderr
    assert sorted(p.name for p in tmp.iterdir()) == []
