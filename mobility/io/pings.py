"""Ping readers: Parquet, CSV and three phone/GPS-logger formats into one raw ping table.

Readers only locate, read and rename; they never judge values. CSV values arrive as text (``dtype=str``,
empty fields as ``""``) so that :func:`mobility.pings.validate_pings`, not the reader, decides what is bad;
Parquet keeps its types. Every reader returns the canonical column names of :data:`mobility.schema.PINGS`
that the file has, plus

``source``
    the file's path relative to the folder (or glob base) that was read, or its name for a single file
    (categorical);
``row``
    the 0-based data row in that file (header and blank lines not counted: row ``r`` of a CSV with a
    header and no blank lines is line ``r + 2``; of a GeoLife ``.plt`` it is line ``r + 7``).

Readers of other shapes (e.g. a batched reader) reuse :func:`wanted_columns`, :func:`canonical_frame` and
:func:`text_read_errors`, so that names and error messages stay the same everywhere.

Built-in formats
----------------
``parquet``, ``csv``
    canonical column names, or any names mapped with ``columns={"user_id": "uid", ...}``.
    The CSV separator is sniffed from the header line (``,``, ``;``, tab or ``|``) unless ``sep=`` is given.
``geolife``
    GeoLife 1.3 ``<user>/Trajectory/*.plt``: 6 header lines, then ``lat,lon,0,altitude_ft,days,date,time``
    in GMT; ``user_id`` is the zero-padded folder name; the timestamp text is ``"<date> <time>Z"``.
``google``
    trackintel's Google Maps export ``user_id;tracked_at;latitude;longitude;elevation;accuracy``
    (timestamps ISO 8601 with ``Z``).
``posmo``
    POSMO Segments export ``user_id;longitude;latitude;accuracy;tracked_at``: note longitude first, and
    naive local timestamps (validate with ``timezone="Europe/Zurich"`` for the Swiss sample).

``google`` and ``posmo`` are recognised from a CSV's header line; ``.plt`` files are ``geolife``.
"""

from __future__ import annotations

import contextlib
import csv
import difflib
import glob
import gzip
import logging
import os
import warnings
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from mobility.errors import MobilityError
from mobility.schema import PINGS, PINGS_OPTIONAL, PINGS_REQUIRED

FORMATS = ("parquet", "csv", "geolife", "google", "posmo")

log = logging.getLogger(__name__)

# canonical name -> the format's own column name
_BUILTIN_COLUMNS = {
    "google": {"user_id": "user_id", "timestamp": "tracked_at", "lat": "latitude", "lon": "longitude",
               "accuracy_m": "accuracy"},
    "posmo": {"user_id": "user_id", "timestamp": "tracked_at", "lat": "latitude", "lon": "longitude",
              "accuracy_m": "accuracy"},
    "geolife": {"timestamp": "timestamp", "lat": "lat", "lon": "lon"},
}
_GOOGLE_HEADER = ("user_id", "tracked_at", "latitude", "longitude", "elevation", "accuracy")
_POSMO_HEADER = ("user_id", "longitude", "latitude", "accuracy", "tracked_at")
_PLT_COLUMNS = ["lat", "lon", "zero", "altitude_ft", "days", "date", "time"]
_PLT_HEADER_LINES = 6
_CSV_SUFFIXES = (".csv", ".csv.gz", ".txt", ".txt.gz", ".tsv", ".tsv.gz")
_PARQUET_SUFFIXES = (".parquet", ".pq")
_PING_SUFFIXES = _PARQUET_SUFFIXES + _CSV_SUFFIXES + (".plt",)
_SEPARATORS = (",", ";", "\t", "|")
_GLOB_CHARS = set("*?[")


def list_ping_files(path: str | os.PathLike) -> list[Path]:
    """The ping files that ``path`` names, sorted by path (deterministic across runs and machines).

    Parameters
    ----------
    path : str or path-like
        A file; a folder (searched recursively for ``.parquet``, ``.pq``, ``.csv``, ``.txt``, ``.tsv``
        (optionally ``.gz``) and ``.plt`` files, hidden files skipped; a folder holding ``.plt`` files is a
        GeoLife folder and only its ``.plt`` files are listed, so ``labels.txt`` is not read as pings);
        or a glob pattern such as ``"data/*.csv"`` (``**`` recurses).

    Returns
    -------
    list of pathlib.Path

    Raises
    ------
    MobilityError
        If nothing matches.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for name in ["b.csv", "a.parquet", "notes.md"]:
    ...     _ = (d / name).write_text("x")
    >>> [p.name for p in list_ping_files(d)]
    ['a.parquet', 'b.csv']
    """
    files, _ = _list_with_base(path)
    return files


def read_pings(
    path: str | os.PathLike,
    *,
    format: str | None = None,
    columns: dict[str, str] | None = None,
    user_id: str | None = None,
    **read_kwargs,
) -> pd.DataFrame:
    """Read ping files into one raw table with canonical column names, ``source`` and ``row``.

    Parameters
    ----------
    path : str or path-like
        A file, a folder or a glob (see :func:`list_ping_files`).
    format : {"parquet", "csv", "geolife", "google", "posmo"}, optional
        Applies to every file. Inferred per file when None: ``.parquet``/``.pq`` -> parquet, ``.plt`` ->
        geolife, ``.csv``/``.txt``/``.tsv`` (optionally ``.gz``) -> google or posmo when the header line is
        theirs, else csv.
    columns : dict, optional
        Canonical name -> your column name, e.g. ``{"user_id": "uid", "timestamp": "datetime",
        "lon": "lng"}``. Merged over the format's built-in mapping; unmapped canonical names are looked up
        under their own name. Keys must be names of :data:`mobility.schema.PINGS`. An optional column
        (``accuracy_m``, ``utc_offset_s``) mapped here that some files lack (an export mixing sources) is
        read as missing in those files, with a warning naming them (:func:`check_mapped_optional`); lacking
        from every file, it is an error (a misspelt name).
    user_id : str, optional
        One user id for every row, replacing the file's own (for single-user exports without a user
        column, or a lone ``.plt`` file outside a ``<user>/Trajectory/`` folder).
    **read_kwargs
        Passed to :func:`pandas.read_csv` (csv, google, posmo, geolife; e.g. ``sep=``, ``encoding=``) or
        :func:`pandas.read_parquet` (parquet). UTF-8 text with no keyword other than ``sep`` is read by
        pyarrow's multithreaded CSV reader instead (same table, about 5x faster); any file it cannot read
        (ragged rows, odd header) goes to pandas, which reads or reports it.

    Returns
    -------
    pandas.DataFrame
        ``user_id, timestamp, lat, lon`` and, where the file has them, ``accuracy_m``, ``utc_offset_s``;
        then ``source`` (categorical) and ``row`` (int64). CSV columns are text (str), Parquet keeps its
        types. Files are concatenated in :func:`list_ping_files` order.

    Raises
    ------
    MobilityError
        If no file matches, a file cannot be read (corrupt Parquet, not UTF-8 CSV, bad gzip, ragged rows),
        or a required column is missing (the message names the file, the missing column, the columns
        found and the ``columns={...}`` to pass).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "p.csv").write_text("uid;t;la;lo\\n007;2020-01-06T08:00:00Z;40.7;-74.0\\n")
    >>> raw = read_pings(d / "p.csv", columns={"user_id": "uid", "timestamp": "t", "lat": "la", "lon": "lo"})
    >>> raw.to_dict("records")
    [{'user_id': '007', 'timestamp': '2020-01-06T08:00:00Z', 'lat': '40.7', 'lon': '-74.0', 'source': 'p.csv', 'row': 0}]
    """
    if format is not None and format not in FORMATS:
        raise MobilityError(f"read_pings: format={format!r} is not one of {FORMATS}; leave it None to infer it")
    if columns is not None:
        unknown = sorted(set(columns) - set(PINGS))
        if unknown:
            raise MobilityError(
                f"read_pings: columns= keys {unknown} are not canonical ping columns; the keys must be among "
                f"{list(PINGS)} and the values your column names, e.g. columns={{'user_id': 'uid'}}"
            )
    if user_id is not None and (not isinstance(user_id, str) or not user_id.strip()):
        raise MobilityError(f"read_pings: user_id={user_id!r} must be a non-empty string")
    files, base = _list_with_base(path)
    check_mapped_optional(files, format=format, columns=columns, encoding=read_kwargs.get("encoding", "utf-8"))
    frames = []
    for file in files:
        fmt = format or _infer_format(file, read_kwargs.get("encoding", "utf-8"))
        frame = _read_one(file, fmt, columns or {}, user_id, read_kwargs)
        frames.append(frame)
    lengths = np.array([len(f) for f in frames], dtype=np.int64)
    out = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    names = [_source_name(f, base) for f in files]
    out["source"] = pd.Categorical.from_codes(np.repeat(np.arange(len(files)), lengths), categories=names)
    out["row"] = np.concatenate([np.arange(n, dtype=np.int64) for n in lengths])
    return out


def read_geolife_labels(user_dir: str | os.PathLike) -> pd.DataFrame:
    """Read a GeoLife user's transport-mode labels (``labels.txt``).

    Parameters
    ----------
    user_dir : str or path-like
        The user's folder (holding ``labels.txt``), or the ``labels.txt`` file itself.

    Returns
    -------
    pandas.DataFrame
        ``start``, ``end`` (datetime64[ns, UTC]; GeoLife label times are GMT, as trackintel reads them)
        and ``mode`` (str), in file order.

    Raises
    ------
    MobilityError
        If the file is missing, has other columns, or a time does not parse (the message names the line).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "labels.txt").write_text(
    ...     "Start Time\\tEnd Time\\tTransportation Mode\\r\\n2007/06/26 11:32:29\\t2007/06/26 11:40:29\\tbus\\r\\n")
    >>> lab = read_geolife_labels(d)
    >>> lab["mode"].tolist(), str(lab["start"].iloc[0])
    (['bus'], '2007-06-26 11:32:29+00:00')
    """
    path = Path(user_dir)
    if path.is_dir():
        path = path / "labels.txt"
    if not path.is_file():
        raise MobilityError(f"{path}: GeoLife labels file not found; pass the user's folder that holds labels.txt")
    raw = _read_csv_text(path, {"sep": "\t"})
    expected = ["Start Time", "End Time", "Transportation Mode"]
    if [c.strip() for c in raw.columns] != expected:
        raise MobilityError(
            f"{path}: expected the GeoLife label columns {expected}, found {list(raw.columns)}; "
            "is this a GeoLife labels.txt?"
        )
    raw.columns = ["start", "end", "mode"]
    out = pd.DataFrame({"mode": raw["mode"].str.strip()})
    for col in ("start", "end"):
        parsed = pd.to_datetime(raw[col].str.strip(), format="%Y/%m/%d %H:%M:%S", errors="coerce", utc=True)
        bad = np.flatnonzero(parsed.isna().to_numpy())
        if len(bad):
            i = int(bad[0])
            raise MobilityError(
                f"{path}: line {i + 2}: {col} time {raw[col].iloc[i]!r} is not 'YYYY/MM/DD HH:MM:SS'; "
                "fix or delete that line"
            )
        out[col] = parsed.astype("datetime64[ns, UTC]")
    return out[["start", "end", "mode"]]


# ---------------------------------------------------------------------------------------------- helpers


def _list_with_base(path: str | os.PathLike) -> tuple[list[Path], Path]:
    text = os.fspath(path)
    p = Path(text)
    if p.is_file():
        return [p], p.parent
    if p.is_dir():
        found = [f for f in p.rglob("*") if f.is_file() and _is_ping_file(f, p)]
        plt = [f for f in found if f.name.lower().endswith(".plt")]
        files = sorted(plt or found, key=lambda f: f.relative_to(p).as_posix())
        if not files:
            raise MobilityError(
                f"{p}: folder holds no ping files; expected files ending in {', '.join(_PING_SUFFIXES)}"
            )
        return files, p
    if _GLOB_CHARS & set(text):
        files = sorted((Path(f) for f in glob.glob(text, recursive=True) if Path(f).is_file()),
                       key=lambda f: f.as_posix())
        if not files:
            raise MobilityError(f"{text}: glob pattern matches no file; check the pattern and the folder")
        return files, _glob_base(text)
    raise MobilityError(f"{text}: no such file or folder; give a ping file, a folder of them or a glob pattern")


def _is_ping_file(file: Path, root: Path) -> bool:
    rel = file.relative_to(root)
    if any(part.startswith(".") for part in rel.parts):
        return False
    return file.name.lower().endswith(_PING_SUFFIXES)


def _glob_base(pattern: str) -> Path:
    parts = Path(pattern).parts
    fixed = []
    for part in parts[:-1]:
        if _GLOB_CHARS & set(part):
            break
        fixed.append(part)
    return Path(*fixed) if fixed else Path(".")


def _source_name(file: Path, base: Path) -> str:
    try:
        return file.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return file.name


def _infer_format(file: Path, encoding: str = "utf-8") -> str:
    name = file.name.lower()
    if name.endswith(_PARQUET_SUFFIXES):
        return "parquet"
    if name.endswith(".plt"):
        return "geolife"
    if name.endswith(_CSV_SUFFIXES):
        header = tuple(c.strip() for c in _header_line(file, encoding).split(";"))
        if header == _GOOGLE_HEADER:
            return "google"
        if header == _POSMO_HEADER:
            return "posmo"
        return "csv"
    raise MobilityError(
        f"{file}: cannot tell the format from the name; pass format= one of {FORMATS} "
        f"or rename it to end in one of {', '.join(_PING_SUFFIXES)}"
    )


def _header_line(file: Path, encoding: str = "utf-8") -> str:
    opener = gzip.open if file.name.lower().endswith(".gz") else open
    try:
        with opener(file, "rt", encoding=encoding, newline="") as fh:
            return fh.readline().rstrip("\r\n").lstrip("\ufeff")
    except UnicodeDecodeError as exc:
        raise MobilityError(_not_utf8(file, exc, encoding)) from exc
    except (OSError, EOFError) as exc:
        raise MobilityError(f"{file}: cannot read the file ({exc}); is it a complete, uncorrupted file?") from exc


def _not_utf8(file: Path, exc: UnicodeDecodeError, encoding: str = "utf-8") -> str:
    with contextlib.suppress(OSError), open(file, "rb") as fh:
        if fh.read(4) == b"PAR1":
            return (f"{file}: is a Parquet file, read as text (format = 'csv', or a text name); leave format out so "
                    "that each file's format comes from its name, and name it .parquet")
    name = "UTF-8" if encoding.lower().replace("-", "").replace("_", "") == "utf8" else repr(encoding)
    return (
        f"{file}: not {name} text (byte {exc.object[exc.start:exc.start + 1]!r} at offset {exc.start}); "
        "re-save it as UTF-8 (e.g. iconv -f latin1 -t utf-8), or give its encoding: [inputs] encoding = \"latin-1\" "
        "in the region config, read_pings(..., encoding='latin-1') in Python"
    )


def _read_csv_text(file: Path, read_kwargs: dict, **fixed) -> pd.DataFrame:
    kwargs = {"dtype": str, "keep_default_na": False, "na_filter": False, "encoding": "utf-8", "index_col": False}
    kwargs.update(fixed)
    kwargs.update(read_kwargs)
    if "sep" not in kwargs and "delimiter" not in kwargs:
        header = _header_line(file, kwargs["encoding"])
        kwargs["sep"] = max(_SEPARATORS, key=header.count)
    if not fixed and set(read_kwargs) <= {"sep", "encoding"}:
        fast = _read_csv_arrow(file, kwargs["sep"], kwargs["encoding"])
        if fast is not None:
            return fast
    with text_read_errors(file, encoding=kwargs["encoding"]):
        return pd.read_csv(file, **kwargs)


@contextlib.contextmanager
def text_read_errors(file: str | os.PathLike, *, encoding: str = "utf-8") -> Iterator[None]:
    """Turn what pandas' CSV reader raises into a :class:`MobilityError` naming ``file`` and the fix.

    Rows longer than the header (pandas' ParserWarning, which would drop data) become errors too. Wrap
    every ``pandas.read_csv`` call, or each ``next()`` of a chunked reader, in it; ``encoding`` is the one
    the file is read with (named where its text does not decode).

    Examples
    --------
    >>> import io
    >>> with text_read_errors("p.csv"):
    ...     _ = pd.read_csv(io.StringIO("a,b\\n1,2,3,4\\n"), index_col=False)
    Traceback (most recent call last):
    ...
    mobility.errors.MobilityError: p.csv: some rows have more fields than the header (Length of header or names does not match length of data. This leads to a loss of data with index_col=False.); fix those rows (or a trailing separator on every line), or pass sep= if the separator was guessed wrong
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)  # rows longer than the header lose data
            yield
    except pd.errors.ParserWarning as exc:
        raise MobilityError(
            f"{file}: some rows have more fields than the header ({exc}); fix those rows "
            "(or a trailing separator on every line), or pass sep= if the separator was guessed wrong"
        ) from exc
    except UnicodeDecodeError as exc:
        raise MobilityError(_not_utf8(file, exc, encoding)) from exc
    except pd.errors.EmptyDataError as exc:
        raise MobilityError(f"{file}: the file is empty (no header line); delete it or fill it") from exc
    except (pd.errors.ParserError, OSError, EOFError, ValueError) as exc:
        raise MobilityError(f"{file}: cannot parse as delimited text ({exc}); fix the file or pass sep=") from exc


def _read_csv_arrow(file: Path, sep: str, encoding: str) -> pd.DataFrame | None:
    """The same table as the pandas text read, via pyarrow's multithreaded CSV reader (about 5x faster);
    None where it does not apply (not UTF-8, odd header, ragged rows, any parse error), so that the pandas
    reader handles the file and reports its problems."""
    if encoding.lower().replace("-", "") != "utf8" or len(sep) != 1:
        return None
    header = _header_line(file, encoding)
    names = next(csv.reader([header], delimiter=sep)) if header else []
    if not names or len(set(names)) != len(names) or any(not n for n in names):
        return None
    try:
        table = pcsv.read_csv(
            file,
            read_options=pcsv.ReadOptions(column_names=names, skip_rows=1),
            parse_options=pcsv.ParseOptions(delimiter=sep),
            convert_options=pcsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowException, OSError, EOFError):
        return None
    return table.to_pandas()


def unreadable_parquet(file: Path, exc: Exception) -> MobilityError:
    """The error for a Parquet file that cannot be read (truncated, corrupt, not Parquet)."""
    return MobilityError(f"{file}: not a readable Parquet file ({exc}); it may be truncated or corrupt: rewrite it")


def _parquet_columns(file: Path) -> list[str]:
    try:
        return pq.read_schema(file).names
    except (pa.ArrowException, OSError) as exc:
        raise unreadable_parquet(file, exc) from exc


def _read_parquet(file: Path, wanted: dict[str, str], explicit: dict, read_kwargs: dict) -> pd.DataFrame:
    names = _parquet_columns(file)
    _check_columns(file, wanted, names, explicit)
    cols = list(dict.fromkeys(wanted[c] for c in PINGS if c in wanted and wanted[c] in names))
    try:
        return pd.read_parquet(file, columns=cols, **read_kwargs)
    except (pa.ArrowException, OSError) as exc:
        raise unreadable_parquet(file, exc) from exc


def _check_columns(file: Path, wanted: dict[str, str], found: list[str], explicit=(), *,
                   config: str | os.PathLike | None = None, optional: bool = False) -> None:
    """MobilityError when a required column (with ``optional``, also an explicitly mapped optional one) is
    missing, naming the columns found, a close one (``difflib``) where there is one, and the mapping to add:
    ``read_pings(..., columns={...})``, or the region config's ``[inputs] columns = {...}`` when ``config``
    (its path) is given. A mapped optional column that one file of several lacks is not an error (the file's
    rows have it missing): :func:`check_mapped_optional` looks at all the files."""
    missing = [
        c for c in PINGS
        if c in wanted and wanted[c] not in found and (c in PINGS_REQUIRED or (optional and c in explicit))
    ]
    if not missing:
        return
    names = ", ".join(repr(wanted[c]) + (f" (for {c!r})" if wanted[c] != c else "") for c in missing)
    unused = [f for f in found if f not in set(wanted.values())]
    guess = {}
    for c in missing:
        close = difflib.get_close_matches(wanted[c], [f for f in unused if f not in guess.values()], n=1, cutoff=0.6)
        if close:
            guess[c] = close[0]
    hint = "".join(f" Did you mean {guess[c]!r} for {c!r}?" for c in missing if c in guess)
    mapping = {c: wanted[c] for c in explicit if c not in missing}
    mapping.update({c: guess.get(c, f"your_{c}_column") for c in missing})
    if config is None:
        fix = f"Map your columns with read_pings(..., columns={mapping!r})"
    else:
        toml = ", ".join(f'{c} = "{v}"' for c, v in mapping.items())
        fix = f"Map your columns in {config}: [inputs] columns = {{ {toml} }}"
    optional = [c for c in missing if c not in PINGS_REQUIRED]
    if optional:
        fix += (f"; or, if no file has it, leave {' and '.join(optional)} out of the mapping: "
                f"{'it is' if len(optional) == 1 else 'they are'} optional")
    raise MobilityError(f"{file}: column {names} missing; columns found: {list(found)}.{hint} {fix}")


def check_ping_columns(file: str | os.PathLike, *, format: str | None = None, columns: dict[str, str] | None = None,
                       config: str | os.PathLike | None = None, encoding: str = "utf-8") -> str:
    """Check that a ping file has the columns it needs, reading only its header or Parquet footer; returns
    its format.

    Parameters
    ----------
    file : str or path-like
        One ping file.
    format, columns
        As for :func:`read_pings`.
    config : str or path-like, optional
        The region config the file was named in: the error then gives the mapping in TOML.
    encoding : str, default "utf-8"
        Of a text file's header line.

    Raises
    ------
    MobilityError
        Naming the file, the missing columns, the columns found, a close match ("did you mean") and the fix.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "p.csv").write_text("user_id,timestamp,latt,lon\\nu,2020-01-06T08:00:00Z,40.7,-74.0\\n")
    >>> try:
    ...     check_ping_columns(d / "p.csv", config="region.toml")
    ... except MobilityError as exc:
    ...     print(str(exc).split("p.csv: ")[1])
    column 'lat' missing; columns found: ['user_id', 'timestamp', 'latt', 'lon']. Did you mean 'latt' for 'lat'? Map your columns in region.toml: [inputs] columns = { lat = "latt" }
    """
    file = Path(file)
    fmt = format or _infer_format(file, encoding)
    if fmt == "geolife":
        return fmt
    _check_columns(file, wanted_columns(fmt, columns), _file_columns(file, fmt, encoding), columns or {},
                   config=config)
    return fmt


def _file_columns(file: Path, fmt: str, encoding: str) -> list[str]:
    """The column names of a Parquet or text ping file (footer or header line only)."""
    if fmt == "parquet":
        return _parquet_columns(file)
    header = _header_line(file, encoding)
    return next(csv.reader([header], delimiter=max(_SEPARATORS, key=header.count))) if header else []


def file_mapping(file: Path, fmt: str, columns: dict[str, str] | None, encoding: str = "utf-8") -> dict[str, str]:
    """``columns`` less the optional columns it maps that ``file`` lacks: the mapping to read one file of
    several with, once :func:`check_mapped_optional` has looked at them all.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "b.csv"
    >>> _ = f.write_text("uid,timestamp,lat,lon\\nv,2020-01-06T08:00:00Z,40.7,-74.0\\n")
    >>> file_mapping(f, "csv", {"user_id": "uid", "accuracy_m": "acc"})
    {'user_id': 'uid'}
    """
    mapped = [c for c in PINGS_OPTIONAL if c in (columns or {})]
    if not mapped:
        return dict(columns or {})
    names = set() if fmt == "geolife" else set(_file_columns(file, fmt, encoding))
    return {c: v for c, v in columns.items() if c not in mapped or v in names}


def check_mapped_optional(files: list[Path], *, format: str | None = None, columns: dict[str, str] | None = None,
                          config: str | os.PathLike | None = None, encoding: str = "utf-8") -> dict[str, list[str]]:
    """Which files lack an optional ping column (``accuracy_m``, ``utc_offset_s``) that ``columns`` maps.

    Reads footers and header lines only. A column that some files have and others lack (an export mixing
    sources) is read as missing in the files that lack it, as if it were not mapped there: their rows keep
    no accuracy radius (``[validate] max_accuracy_m`` cannot screen them, and of duplicate pings one with an
    accuracy is kept first), or no UTC offset. That is logged as a warning naming the files. A mapped column
    that no file has is a misspelt name: an error, as for a required column.

    Parameters
    ----------
    files : list of path-like
        Every ping file of the input.
    format, columns, encoding
        As for :func:`read_pings`.
    config : str or path-like, optional
        The region config the files were named in: the error then gives the mapping in TOML.

    Returns
    -------
    dict
        Canonical column -> the files (as given) that lack it; only columns that some files lack.

    Raises
    ------
    MobilityError
        When every file lacks a mapped optional column (naming the first file, its columns and the fix).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "a.csv").write_text("uid,timestamp,lat,lon,acc\\nu,2020-01-06T08:00:00Z,40.7,-74.0,10\\n")
    >>> _ = (d / "b.csv").write_text("uid,timestamp,lat,lon\\nv,2020-01-06T08:00:00Z,40.7,-74.0\\n")
    >>> lacking = check_mapped_optional([d / "a.csv", d / "b.csv"], columns={"user_id": "uid", "accuracy_m": "acc"})
    >>> {c: [pathlib.Path(f).name for f in fs] for c, fs in lacking.items()}
    {'accuracy_m': ['b.csv']}
    """
    mapped = [c for c in PINGS_OPTIONAL if c in (columns or {})]
    if not mapped:
        return {}
    found = {}
    for file in map(Path, files):
        fmt = format or _infer_format(file, encoding)
        found[file] = (fmt, [] if fmt == "geolife" else _file_columns(file, fmt, encoding))
    lacking = {}
    for c in mapped:
        without = [f for f, (_, names) in found.items() if columns[c] not in names]
        if len(without) == len(found):
            first = next((f for f, (fmt, _) in found.items() if fmt != "geolife"), None)
            if first is None:  # GeoLife .plt files have no such columns at all
                raise MobilityError(f"{files[0]}: GeoLife .plt files have no {c} column; drop {c} from columns=")
            fmt, names = found[first]
            _check_columns(first, wanted_columns(fmt, columns), names, columns, config=config, optional=True)
        if without:
            lacking[c] = [str(f) for f in without]
            shown = ", ".join(str(f) for f in without[:3])
            shown += f" and {len(without) - 3} more" if len(without) > 3 else ""
            log.warning("%s of %s ping files have no column %r (mapped to %s): %s; their rows are read without %s%s",
                        len(without), len(found), columns[c], c, shown, c,
                        ", so [validate] max_accuracy_m cannot screen them" if c == "accuracy_m" else "")
    return lacking


def wanted_columns(fmt: str, columns: dict[str, str] | None = None) -> dict[str, str]:
    """Canonical name -> the file's column name for format ``fmt``, with the user's ``columns`` on top.

    Examples
    --------
    >>> wanted_columns("posmo", {"user_id": "uid"})["user_id"], wanted_columns("posmo")["lat"]
    ('uid', 'latitude')
    """
    wanted = {c: c for c in PINGS}
    wanted.update(_BUILTIN_COLUMNS.get(fmt, {}))
    wanted.update(columns or {})
    if fmt == "geolife":
        wanted.pop("user_id", None)
    return wanted


def canonical_frame(frame: pd.DataFrame, wanted: dict[str, str]) -> pd.DataFrame:
    """The canonical columns of ``frame`` (in :data:`~mobility.schema.PINGS` order) under their canonical names.

    Examples
    --------
    >>> canonical_frame(pd.DataFrame({"x": [1], "uid": ["a"]}), {"user_id": "uid"}).columns.tolist()
    ['user_id']
    """
    return pd.DataFrame({c: frame[wanted[c]] for c in PINGS if c in wanted and wanted[c] in frame.columns})


def _read_one(file: Path, fmt: str, columns: dict, user_id: str | None, read_kwargs: dict) -> pd.DataFrame:
    wanted = wanted_columns(fmt, columns)
    if user_id is not None:
        wanted.pop("user_id", None)
    if fmt == "parquet":
        frame = _read_parquet(file, wanted, columns, read_kwargs)
    elif fmt == "geolife":
        frame = _read_plt(file, read_kwargs)
    else:
        frame = _read_csv_text(file, read_kwargs)
        _check_columns(file, wanted, list(frame.columns), columns)
    out = canonical_frame(frame, wanted)
    if user_id is not None:
        out.insert(0, "user_id", pd.Series(user_id, index=out.index, dtype="str"))
    elif fmt == "geolife":
        out.insert(0, "user_id", pd.Series(_geolife_user(file), index=out.index, dtype="str"))
    return out.reset_index(drop=True)


def _geolife_user(file: Path) -> str:
    if file.parent.name == "Trajectory" and file.parent.parent.name:
        return file.parent.parent.name
    raise MobilityError(
        f"{file}: GeoLife .plt file is not inside a <user>/Trajectory/ folder, so its user id is unknown; "
        "pass read_pings(..., user_id='000')"
    )


def _read_plt(file: Path, read_kwargs: dict) -> pd.DataFrame:
    kwargs = {"skiprows": _PLT_HEADER_LINES, "header": None, "names": _PLT_COLUMNS, "sep": ","}
    kwargs.update(read_kwargs)
    raw = _read_csv_text(file, {}, **kwargs)
    return pd.DataFrame({
        "timestamp": raw["date"] + " " + raw["time"] + "Z",
        "lat": raw["lat"],
        "lon": raw["lon"],
    })
