"""Atomic output: a file appears under its final name complete, or not at all.

Writers write to a temporary name in the same directory, flush and fsync it, then ``os.replace`` it onto
the final name (atomic on POSIX). A run killed mid-write leaves at most a ``.tmp-*`` file, which the next
write of the same name removes. The final file has the permissions of a file created with ``open()``
(``0666`` less the process's umask), so colleagues read what the umask lets them read.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any, Iterator

import pandas as pd

from mobility.errors import MobilityError


_UMASK_LOCK = threading.Lock()


def file_mode() -> int:
    """The mode ``open()`` gives a new file: ``0o666`` less the current umask.

    Examples
    --------
    >>> old = os.umask(0o027)
    >>> oct(file_mode())
    '0o640'
    >>> _ = os.umask(old)
    """
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return 0o666 & ~mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, durable: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success move it onto ``path``.

    ``durable=False`` skips the ``fsync`` before the rename: the file still appears whole or not at all to
    other processes and after a killed run, but not necessarily after a power loss. For scratch files
    that a later step reads once and deletes with their folder (the ``load`` stage's shards), where forcing
    them to disk would cost more than the step. Such a write also leaves a killed writer's temporary files
    to that deletion instead of listing the folder: one listing per write of tens of thousands of shards in
    one folder made ``load`` quadratic (12 minutes at 100,000 users).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_path(d / "x.txt") as tmp:
    ...     _ = tmp.write_text("hello")
    >>> (d / "x.txt").read_text()
    'hello'
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        for stale in path.parent.glob(f".tmp-{glob.escape(path.name)}.*") if durable else ():  # a killed writer's
            stale.unlink(missing_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".tmp-{path.name}.", dir=path.parent)
    except OSError as exc:
        raise MobilityError(
            f"cannot write to output directory {path.parent}: {exc.strerror}; "
            "choose a writable --out directory or free disk space"
        ) from exc
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        if durable:
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
        os.chmod(tmp, file_mode())  # mkstemp made it 0600
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise MobilityError(
            f"failed writing {path}: {exc.strerror}; earlier outputs are intact. "
            "Free disk space or choose another --out directory, then rerun"
        ) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def replace_folder(staged: str | os.PathLike, final: str | os.PathLike) -> Path:
    """Move the folder ``staged`` onto ``final`` (replacing what is there) by renames: readers see the old
    folder or the new one, whole. Both must be on one file system. Returns ``final``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / "new").mkdir(); (d / "old").mkdir()
    >>> _ = (d / "new" / "a.txt").write_text("new")
    >>> [p.name for p in replace_folder(d / "new", d / "old").iterdir()], (d / "new").exists()
    (['a.txt'], False)
    """
    import shutil
    import uuid

    staged, final = Path(staged), Path(final)
    trash = final.parent / f".trash-{final.name}-{uuid.uuid4().hex[:8]}"
    try:
        if final.exists():
            os.replace(final, trash)
        os.replace(staged, final)
    except OSError as exc:
        raise MobilityError(f"cannot move {staged} onto {final}: {exc.strerror}") from exc
    shutil.rmtree(trash, ignore_errors=True)
    return final


def write_parquet(df: pd.DataFrame, path: str | os.PathLike, **options) -> Path:
    """Write ``df`` to ``path`` as Parquet, atomically. Returns the final path.

    ``options`` go to :func:`pyarrow.parquet.write_table` (encodings, compression). By default text and
    categorical columns are dictionary-encoded (ids and codes repeat; numbers rarely do, and trying a
    dictionary on them doubled the time to write a table of stops) and pages are LZ4-compressed (as small
    as Snappy's, faster to write and read).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = write_parquet(pd.DataFrame({"a": [1, 2]}), pathlib.Path(tempfile.mkdtemp()) / "t.parquet")
    >>> pd.read_parquet(p)["a"].tolist()
    [1, 2]
    """
    options = {"use_dictionary": dictionary_columns(df), "compression": "lz4", **options}
    with atomic_path(path) as tmp:
        df.to_parquet(tmp, index=False, **options)
    return Path(path)


def dictionary_columns(df: pd.DataFrame) -> list[str]:
    """The columns of ``df`` worth a Parquet dictionary: text (any string dtype, object) and categorical.

    Examples
    --------
    >>> dictionary_columns(pd.DataFrame({"user_id": ["a"], "x": [1.0], "k": pd.Categorical(["b"])}))
    ['user_id', 'k']
    """
    return [str(c) for c, dtype in df.dtypes.items()
            if isinstance(dtype, (pd.StringDtype, pd.CategoricalDtype)) or dtype == object]


def write_csv(df: pd.DataFrame, path: str | os.PathLike, *, decimals: int | None = None) -> Path:
    """Write ``df`` to ``path`` as CSV (no index), atomically, floats rounded to ``decimals`` when given.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = write_csv(pd.DataFrame({"a": [0.123456]}), pathlib.Path(tempfile.mkdtemp()) / "t.csv", decimals=3)
    >>> p.read_text()
    'a\\n0.123\\n'
    """
    if decimals is not None:
        df = df.copy()
        for column in df.columns:
            if df[column].dtype.kind == "f":
                df[column] = df[column].round(decimals)
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False)
    return Path(path)


def write_json(obj: Any, path: str | os.PathLike) -> Path:
    """Write ``obj`` as indented JSON, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")
    return Path(path)
