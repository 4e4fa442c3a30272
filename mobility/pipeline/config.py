"""Region configuration: one TOML file per region in ``pipelines/``.

A region config names the inputs (pings, CBG polygons, census tables), the time zone and date range,
and the parameters of every stage, one ``[stage]`` table each. Relative paths are relative to the
config file's folder; ``{region_dir}`` expands to the synthetic region's folder when a
``[synthetic]`` table asks the run to generate its data.

Examples
--------
>>> cfg = load_config("synthetic")            # doctest: +SKIP
>>> cfg.name, cfg.timezone                    # doctest: +SKIP
('synthetic', 'America/New_York')
"""

from __future__ import annotations

import codecs
import difflib
import glob
import tomllib
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mobility.errors import MobilityError

KNOWN_SECTIONS = {
    "region", "synthetic", "inputs", "run", "validate", "stops", "locations", "home_work",
    "metrics", "census", "employment", "longitudinal", "report",
}
CONFIG_KEYS = {
    "region": ("name", "timezone", "start", "end"),
    "run": ("n_partitions",),
    "inputs": ("pings", "format", "columns", "encoding", "cbg", "lodes_wac", "lodes_rac", "telework", "acs_sexage",
               "truth_area", "truth_status", "laus", "ui_claims"),
    "validate": ("max_accuracy_m", "max_bad_share"),
    "census": (),
    "report": ("months", "k_min_users", "trend_months", "method", "route", "baseline_months", "dimensions"),
}
"""The keys of the tables that the config, the load stage and the report read themselves (the other stages check
theirs against the parameters of the function they call)."""


@dataclass(frozen=True)
class RegionConfig:
    """A parsed region config. ``stage(name)`` gives a stage's parameter table (may be empty)."""

    path: Path
    name: str
    timezone: str
    start: str | None
    end: str | None
    synthetic: dict[str, Any] | None
    inputs: dict[str, Any]
    n_partitions: int
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)
    timezone_given: bool = True  # False: [region] has no timezone, and local rules read UTC

    @property
    def region_dir(self) -> Path | None:
        """Folder of the generated synthetic region, or None for a region of real files."""
        if self.synthetic is None:
            return None
        return (self.path.parent / self.synthetic.get("dir", f"../data/synthetic/_cache/{self.name}")).resolve()

    def stage(self, name: str) -> dict[str, Any]:
        return dict(self.sections.get(name, {}))

    def input_path(self, key: str, *, required: bool = True) -> Path | None:
        """The path of input ``key`` (e.g. ``"cbg"``), with ``{region_dir}`` expanded."""
        value = self.inputs.get(key)
        if value is None:
            if required:
                raise MobilityError(f"{self.path}: [inputs] has no '{key}'; add {key} = \"path/to/file\"")
            return None
        return self.resolve(value)

    def missing_file(self, path: Path, stage: str) -> MobilityError:
        """The error for a file the config names that does not exist: the key that names it, the path it
        resolves to, the stage that needs it, and what relative paths are relative to."""
        keys = [(f"[inputs] {k}", v) for k, v in self.inputs.items()]
        keys += [(f"[{s}] {k}", v) for s, table in self.sections.items() for k, v in table.items()]
        named = "the config"
        for key, value in keys:
            paths = [value] if isinstance(value, str) else value if isinstance(value, list) else []
            if any(isinstance(v, str) and self.resolve(v) == path for v in paths):
                named = f"{key} = {value!r}"
                break
        return MobilityError(f"{self.path}: {named} names {path}, which does not exist (the {stage} stage reads it); "
                             f"fix the path (relative paths are relative to {self.path.parent})")

    def input_paths(self, key: str) -> list[Path]:
        """The paths of an input that may name one file or a list (``[inputs] laus``); empty when not given."""
        value = self.inputs.get(key) or []
        return [self.resolve(v) for v in ([value] if isinstance(value, str) else value)]

    def ping_files(self) -> list[Path]:
        """All ping files named by ``[inputs] pings`` (globs expanded, sorted, de-duplicated)."""
        patterns = self.inputs.get("pings")
        if not patterns:
            raise MobilityError(f"{self.path}: [inputs] has no 'pings'; add pings = [\"data/*.parquet\"]")
        if isinstance(patterns, str):
            patterns = [patterns]
        files: list[Path] = []
        for pattern in patterns:
            resolved = self.resolve(pattern)
            if resolved.is_dir():  # its ping files, every subfolder included, as read_pings reads a folder
                from mobility.io.pings import list_ping_files

                matches = list_ping_files(resolved)
            else:
                matches = [Path(p) for p in sorted(glob.glob(str(resolved)))]
            files.extend(matches)
        unique = sorted(dict.fromkeys(files))
        if not unique and self.synthetic is None:
            raise MobilityError(
                f"{self.path}: [inputs] pings = {patterns} matches no file; check the paths "
                f"(relative paths are relative to {self.path.parent})"
            )
        return unique

    def ping_folders(self) -> list[Path]:
        """The folders named by ``[inputs] pings`` (read with every subfolder)."""
        patterns = self.inputs.get("pings") or []
        return [p for p in map(self.resolve, [patterns] if isinstance(patterns, str) else patterns) if p.is_dir()]

    def resolve(self, value: str) -> Path:
        """A path of the config: ``{region_dir}`` expanded, relative to the config file's folder."""
        region_dir = self.region_dir
        if "{region_dir}" in value:
            if region_dir is None:
                raise MobilityError(f"{self.path}: '{{region_dir}}' used but there is no [synthetic] table")
            value = value.replace("{region_dir}", str(region_dir))
        path = Path(value).expanduser()
        return path if path.is_absolute() else (self.path.parent / path).resolve()


def find_config(region: str, search_from: Path | None = None) -> Path:
    """Locate the config of ``region``: a path to a ``.toml`` file, or ``pipelines/<region>.toml`` in the
    current folder or in the source tree of the package (editable installs)."""
    candidate = Path(region)
    if candidate.suffix == ".toml":
        if not candidate.exists():
            raise MobilityError(f"region config {candidate} does not exist")
        return candidate.resolve()
    roots = [Path.cwd()] if search_from is None else [search_from]
    roots = list(dict.fromkeys(r.resolve() for r in [*roots, Path(__file__).resolve().parents[2]]))
    for root in roots:
        path = root / "pipelines" / f"{region}.toml"
        if path.exists():
            return path.resolve()
    known = sorted({p.stem for root in roots for p in (root / "pipelines").glob("*.toml")})
    raise MobilityError(
        f"no config for region '{region}': looked for pipelines/{region}.toml in "
        f"{', '.join(str(r) for r in roots)}; known regions: {known or 'none'}; "
        "or pass a path to a .toml file"
    )


def load_config(region: str | Path) -> RegionConfig:
    """Read and check a region config (see module docstring)."""
    path = find_config(str(region))
    try:
        raw = _dates_as_text(tomllib.loads(path.read_text()))
    except tomllib.TOMLDecodeError as exc:
        raise MobilityError(f"{path}: not valid TOML ({exc}); fix the syntax") from exc
    unknown = set(raw) - KNOWN_SECTIONS
    if unknown:
        raise MobilityError(f"{path}: unknown section(s) {sorted(unknown)}; known: {sorted(KNOWN_SECTIONS)}")
    for section, allowed in CONFIG_KEYS.items():
        check_keys(path, section, raw.get(section, {}), allowed)
    check_inputs(path, raw.get("inputs", {}))
    region_table = raw.get("region", {})
    name = region_table.get("name", path.stem)
    tz = region_table.get("timezone", "UTC")
    for key, value in (("name", name), ("timezone", tz)):
        if not isinstance(value, str):
            raise MobilityError(f"{path}: [region] {key} = {value!r} must be text in quotes, e.g. {key} = "
                                f"\"{'America/New_York' if key == 'timezone' else 'myregion'}\"")
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise MobilityError(f"{path}: [region] timezone = '{tz}' is not an IANA zone (e.g. 'America/New_York')") from exc
    n_partitions = raw.get("run", {}).get("n_partitions", 8)
    if not isinstance(n_partitions, int) or isinstance(n_partitions, bool):
        raise MobilityError(f"{path}: [run] n_partitions = {n_partitions!r} must be a whole number without quotes, "
                            "e.g. n_partitions = 8")
    if not 1 <= n_partitions <= 100_000:
        raise MobilityError(f"{path}: [run] n_partitions = {n_partitions} must be between 1 and 100000")
    sections = {k: v for k, v in raw.items() if k not in {"region", "synthetic", "inputs", "run"}}
    return RegionConfig(
        path=path,
        name=name,
        timezone=tz,
        start=region_table.get("start"),
        end=region_table.get("end"),
        synthetic=raw.get("synthetic"),
        inputs=dict(raw.get("inputs", {})),
        n_partitions=n_partitions,
        sections=sections,
        timezone_given="timezone" in region_table,
    )


def _dates_as_text(value: Any) -> Any:
    """TOML dates and times written without quotes (``start = 2020-03-02``) as ISO text, as if quoted: the stages
    take dates as text, and the manifest and the stages' tables hold them.

    Examples
    --------
    >>> import datetime
    >>> _dates_as_text({"employment": {"baseline_start": datetime.date(2020, 3, 2), "k": [1]}})
    {'employment': {'baseline_start': '2020-03-02', 'k': [1]}}
    """
    import datetime

    if isinstance(value, dict):
        return {k: _dates_as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dates_as_text(v) for v in value]
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return value


def check_keys(path: Path, section: str, table: Any, allowed: tuple[str, ...]) -> None:
    """MobilityError naming the config, the table and each unknown key (with the allowed key it is closest to,
    where one is close), and the allowed keys.

    Examples
    --------
    >>> check_keys(Path("r.toml"), "region", {"timezon": "UTC"}, ("name", "timezone"))
    Traceback (most recent call last):
    ...
    mobility.errors.MobilityError: r.toml: [region] has unknown key(s) 'timezon' (did you mean 'timezone'?); allowed: name, timezone
    """
    if not isinstance(table, dict):
        raise MobilityError(f"{path}: [{section}] must be a table of keys ([{section}] on a line of its own, then "
                            f"key = value lines), not {section} = {table!r}")
    unknown = [k for k in table if k not in allowed]
    if not unknown:
        return
    named = []
    for key in unknown:
        close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
        named.append(f"{key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    raise MobilityError(f"{path}: [{section}] has unknown key(s) {', '.join(named)}; "
                        + (f"allowed: {', '.join(allowed)}" if allowed else f"[{section}] takes no keys: delete them"))


def check_inputs(path: Path, inputs: dict[str, Any]) -> None:
    """MobilityError naming the ``[inputs]`` key, its value and the fix when a value has the wrong shape: ``pings``
    and ``laus`` are paths (one, or a list), the other files one path each, ``format`` one of the ping formats,
    ``columns`` a table from canonical ping column names to the file's own names (also when it is written the
    wrong way round, ``{ device = "user_id" }``), ``encoding`` the name of a text encoding Python knows.

    Examples
    --------
    >>> check_inputs(Path("r.toml"), {"columns": {"device": "user_id"}})
    Traceback (most recent call last):
    ...
    mobility.errors.MobilityError: r.toml: [inputs] columns has key(s) 'device' that are not ping columns; the mapping is the wrong way round: write columns = { user_id = "device" } (the package's name = your column's name)
    """
    from mobility.io.pings import FORMATS
    from mobility.schema import PINGS

    def is_path_list(value):
        return isinstance(value, str) or (isinstance(value, list) and value and all(isinstance(v, str) for v in value))

    for key, value in inputs.items():
        where = f"{path}: [inputs] {key} = {value!r}"
        if key in ("pings", "laus") and not is_path_list(value):
            raise MobilityError(f"{where} must be paths in quotes: one, or a list such as "
                                "[\"data/a.csv\", \"data/*.parquet\"]")
        if key not in ("pings", "laus", "format", "columns", "encoding") and not isinstance(value, str):
            raise MobilityError(f"{where} must be one path in quotes, e.g. {key} = \"data/{key}.csv\"")
    for key in ("truth_status", "truth_area"):
        if isinstance(inputs.get(key), str) and not inputs[key].lower().endswith((".parquet", ".pq")):
            raise MobilityError(f"{path}: [inputs] {key} = {inputs[key]!r} must be a Parquet file: the synthetic "
                                f"generator's truth/{'weekly_status' if key == 'truth_status' else 'area_weekly'}"
                                ".parquet; to score the run against your own labelled weeks, give them as "
                                "[employment] labels (CSV or Parquet: user_id, week, status)")
    encoding = inputs.get("encoding")
    if encoding is not None:
        try:
            # bytes-to-bytes codecs (base64, zlib) are known to codecs but cannot read text
            known = isinstance(encoding, str) and getattr(codecs.lookup(encoding), "_is_text_encoding", True)
        except LookupError:
            known = False
        if not known:
            raise MobilityError(f"{path}: [inputs] encoding = {encoding!r} is not a text encoding Python knows; give "
                                "the text encoding of the CSV ping files in quotes, e.g. encoding = \"latin-1\" "
                                "(default \"utf-8\")")
    fmt = inputs.get("format")
    if fmt is not None and fmt not in FORMATS:
        raise MobilityError(f"{path}: [inputs] format = {fmt!r} is not one of {FORMATS}; leave it out to tell each "
                            "file's format from its name")
    columns = inputs.get("columns")
    if columns is None:
        return
    example = 'columns = { user_id = "device", timestamp = "local_time" }'
    if not isinstance(columns, dict):
        raise MobilityError(f"{path}: [inputs] columns = {columns!r} must be a table from the package's column names "
                            f"to yours, e.g. {example}")
    unknown = [k for k in columns if k not in PINGS]
    if unknown:
        reverse = {v: k for k, v in columns.items() if k in unknown and isinstance(v, str) and v in PINGS}
        if len(reverse) == len(unknown):  # every unknown key maps to a ping column: written the wrong way round
            pairs = ", ".join(f'{v} = "{k}"' for v, k in reverse.items())
            fix = (f"the mapping is the wrong way round: write columns = {{ {pairs} }} (the package's name = your "
                   "column's name)")
        else:
            fix = f"the keys must be among {', '.join(PINGS)} and the values your column names, e.g. {example}"
        raise MobilityError(f"{path}: [inputs] columns has key(s) {', '.join(map(repr, unknown))} that are not ping "
                            f"columns; {fix}")
    bad = {k: v for k, v in columns.items() if not isinstance(v, str)}
    if bad:
        k, v = next(iter(bad.items()))
        raise MobilityError(f"{path}: [inputs] columns: {k} = {v!r} must be your file's column name in quotes")
