"""``mobility.report.pdf``: headless Chromium prints the report and leaves nothing in the temporary folder."""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from mobility.errors import MobilityError
from mobility.report.pdf import chromium_profile, find_chromium, html_to_pdf


@pytest.fixture
def short_tmpdir(tmp_path, monkeypatch):  # tmp_path first: it must not be made in here
    """A temporary folder of its own for this process and Chromium, in the system's (Chromium's socket path
    must be short: under ``tmp_path`` it is too long and Chromium aborts)."""
    folder = tempfile.mkdtemp(prefix="pdf-")
    monkeypatch.setattr(tempfile, "tempdir", folder)
    monkeypatch.setenv("TMPDIR", folder)
    yield Path(folder)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.slow
def test_printing_or_timing_out_leaves_nothing_in_the_temporary_folder(short_tmpdir, tmp_path):
    """Chromium killed at the timeout left its ``org.chromium.Chromium.*`` socket folder in TMPDIR."""
    if find_chromium() is None:
        pytest.skip("Chromium not installed (Debian: apt-get install -y chromium); CI installs it")
    page = tmp_path / "page.html"
    page.write_text("<html><body><p>One page.</p></body></html>")
    assert html_to_pdf(page, tmp_path / "page.pdf").read_bytes()[:5] == b"%PDF-"
    assert list(short_tmpdir.iterdir()) == []
    endless = tmp_path / "endless.html"  # never loads: Chromium is up (its socket made) when the timeout kills it
    endless.write_text("<html><body><script>while (true) {}</script></body></html>")
    with pytest.raises(MobilityError, match=r"did not print .* within 3 s"):
        html_to_pdf(endless, tmp_path / "late.pdf", timeout_s=3)
    assert not (tmp_path / "late.pdf").exists()
    assert list(short_tmpdir.iterdir()) == []


def test_the_socket_folder_a_killed_chromium_links_from_its_profile_is_removed_with_the_profile(short_tmpdir):
    """By hand, as Chromium leaves them: ``SingletonSocket`` and ``SingletonCookie`` links in the profile to a
    folder of the temporary folder; a folder holding anything else is kept."""
    sockets = []
    for extra in (None, "kept.txt"):
        socket_folder = short_tmpdir / f"org.chromium.Chromium.{len(sockets)}"
        socket_folder.mkdir()
        for name in ("SingletonSocket", "SingletonCookie"):
            (socket_folder / name).write_text("")
        if extra:
            (socket_folder / extra).write_text("")
        with chromium_profile() as profile:
            for name in ("SingletonSocket", "SingletonCookie"):
                os.symlink(socket_folder / name, profile / name)
        assert not profile.exists()
        sockets.append(socket_folder)
    assert sorted(p.name for p in short_tmpdir.iterdir()) == ["org.chromium.Chromium.1"]
    assert sorted(p.name for p in sockets[1].iterdir()) == ["kept.txt"]
