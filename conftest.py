"""Fixtures for everything pytest collects under the repository root, the doctests of ``mobility/`` included
(``tests/conftest.py`` holds those of the test suite)."""

import shutil
import tempfile

import pytest
from _pytest.doctest import DoctestItem


@pytest.fixture(autouse=True)
def _doctest_temporary_folder(request, monkeypatch):
    """A doctest makes its files where a reader would (``tempfile.mkdtemp()``); here that is a folder of its own,
    removed when the doctest ends, so running the doctests leaves nothing in the temporary folder."""
    if not isinstance(request.node, DoctestItem):
        yield
        return
    folder = tempfile.mkdtemp(prefix="mobility-doctest-")
    monkeypatch.setattr(tempfile, "tempdir", folder)  # mkdtemp, TemporaryDirectory, ... in this process
    monkeypatch.setenv("TMPDIR", folder)  # and in the processes a doctest starts
    yield  # pytest runs what follows whatever the doctest's outcome; monkeypatch undoes itself after
    shutil.rmtree(folder, ignore_errors=True)
