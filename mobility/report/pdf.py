"""PDF copy of the report, printed by headless Chromium (the same engine the browser test uses)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from mobility.errors import MobilityError
from mobility.io.atomic import atomic_path

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
HEADLESS_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync")


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome executable on ``PATH`` (or ``$MOBILITY_CHROMIUM``), None if there is none.

    Examples
    --------
    >>> find_chromium() is None or isinstance(find_chromium(), str)
    True
    """
    override = os.environ.get("MOBILITY_CHROMIUM")
    if override:
        return override
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


@contextlib.contextmanager
def chromium_profile() -> Iterator[Path]:
    """A fresh Chromium profile folder (for ``--user-data-dir``), removed on exit with Chromium's socket folder.

    Chromium keeps its ``SingletonSocket`` in a folder of its own in the temporary folder
    (``org.chromium.Chromium.*``; not in the profile, as a socket's path must be short) and links it from the
    profile; it removes that folder only when it exits by itself. Here it goes too when Chromium was killed
    (a timeout, a test that stops it). Stop Chromium before leaving the ``with`` block.

    Examples
    --------
    >>> with chromium_profile() as profile:
    ...     profile.is_dir()
    True
    >>> profile.exists()
    False
    """
    with tempfile.TemporaryDirectory(prefix="mobility-chromium-") as folder:
        profile = Path(folder)
        try:
            yield profile
        finally:
            _remove_socket_folder(profile)


def _remove_socket_folder(profile: Path) -> None:
    """Remove the folder that ``profile/SingletonSocket`` links to, if it holds nothing but Chromium's singleton
    files (a folder holding anything else is left as it is)."""
    try:
        socket = Path(os.readlink(profile / "SingletonSocket"))
    except OSError:  # no link: Chromium did not start, or removed it on exit
        return
    folder = socket.parent
    if socket.name != "SingletonSocket" or not folder.is_absolute() or not folder.is_dir():
        return
    for name in ("SingletonSocket", "SingletonCookie"):
        with contextlib.suppress(FileNotFoundError):
            (folder / name).unlink()
    with contextlib.suppress(OSError):
        folder.rmdir()


def html_to_pdf(html_path: str | os.PathLike, pdf_path: str | os.PathLike, *, timeout_s: float = 120.0) -> Path:
    """Print ``html_path`` to ``pdf_path`` (atomically) with headless Chromium.

    Raises
    ------
    MobilityError
        No Chromium installed (with the install command), or printing failed or timed out.

    Examples
    --------
    >>> html_to_pdf("report.html", "report.pdf")   # doctest: +SKIP
    """
    if not timeout_s > 0:
        raise MobilityError(f"timeout_s must be > 0, got {timeout_s!r}")
    browser = find_chromium()
    if browser is None:
        raise MobilityError("--pdf needs Chromium: install it (Debian: apt-get install -y chromium) or set "
                            "MOBILITY_CHROMIUM to a Chrome executable; the HTML report is complete without it")
    source = Path(html_path).resolve()
    with chromium_profile() as profile, atomic_path(pdf_path) as tmp:
        cmd = [browser, *HEADLESS_FLAGS, f"--user-data-dir={profile}", "--no-pdf-header-footer",
               f"--print-to-pdf={tmp}", source.as_uri()]
        # a session of its own: on a timeout, all of Chromium's processes are stopped, not only the first, so that
        # none writes into the profile while it is removed
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        try:
            _, stderr = proc.communicate(timeout=timeout_s)
        except BaseException as exc:  # the timeout, or Ctrl-C
            with contextlib.suppress(ProcessLookupError):  # all exited already
                os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            if isinstance(exc, subprocess.TimeoutExpired):
                raise MobilityError(f"Chromium did not print {source} within {timeout_s:g} s; retry or skip "
                                    "--pdf") from exc
            raise
        if proc.returncode != 0 or tmp.stat().st_size == 0:
            raise MobilityError(f"Chromium failed to print {source} (exit {proc.returncode}): {stderr.strip()[-400:]}")
    return Path(pdf_path)
