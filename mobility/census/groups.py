"""Group membership of each person for the longitudinal analysis, from census probabilities.

A person's sex, age, earnings, race, ethnicity, education or sector is known only as probabilities
(:mod:`mobility.census.features`). Two ways to turn them into groups:

* ``"modal"``: the most probable category (ties go to the first category in LODES order);
* ``"draws"``: ``n_draws`` categories drawn from the probabilities, to carry the uncertainty into the
  event-study interactions (estimate once per draw, then pool). Each draw is a pure function of
  ``(seed, user_id, draw)``: a user's draws do not depend on which other users are in the table, and a
  user with the same probabilities in two periods gets the same categories.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mobility.census.features import DEMOGRAPHICS, ID_COLUMNS, feature_columns
from mobility.census.lodes import SECTORS
from mobility.checks import require_columns
from mobility.errors import MobilityError

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser (Steele, Lea, Flood 2014), elementwise on uint64 with wrap-around."""
    with np.errstate(over="ignore"):
        z = x + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def keyed_uniforms(user_ids, n_draws: int, seed: int) -> np.ndarray:
    """Uniforms in [0, 1) of shape (n_users, n_draws), each a function of (seed, user_id, draw) only.

    Examples
    --------
    >>> a = keyed_uniforms(["u1", "u2"], 3, seed=0)
    >>> b = keyed_uniforms(["u2"], 3, seed=0)
    >>> bool((a[1] == b[0]).all()), a.shape, bool(((a >= 0) & (a < 1)).all())
    (True, (2, 3), True)
    """
    ids = pd.Series(user_ids).astype(str)
    h = pd.util.hash_pandas_object(ids, index=False).to_numpy(dtype=np.uint64)
    key = _splitmix64(h ^ _splitmix64(np.full(1, seed, dtype=np.uint64)))
    draws = np.arange(n_draws, dtype=np.uint64)
    with np.errstate(over="ignore"):
        x = _splitmix64(key[:, None] + draws[None, :] * _GOLDEN)
    return (x >> np.uint64(11)).astype(np.float64) * (1.0 / 2**53)


def categories(dimension: str) -> list[str]:
    """Category labels of ``dimension``, in the order of its feature columns.

    Examples
    --------
    >>> categories("age")
    ['le29', '30_54', 'ge55']
    """
    if dimension == "sector":
        return list(SECTORS)
    feature_columns(dimension)  # unknown dimension -> MobilityError
    return list(DEMOGRAPHICS[dimension].values())


def assign_groups(
    features: pd.DataFrame,
    dimension: str,
    method: str = "modal",
    n_draws: int = 20,
    seed: int = 0,
    *,
    prefix: str = "",
) -> pd.DataFrame:
    """Assign each person (row) of ``features`` to a category of ``dimension``.

    Parameters
    ----------
    features : pandas.DataFrame
        Output of :func:`~mobility.census.features.work_features` (or ``home_features`` with
        ``prefix="home_"``): ``user_id``, optional period columns, the dimension's probability columns.
    dimension : str
        ``"sector"`` or one of ``sex, age, earnings, race, ethnicity, education``.
    method : {"modal", "draws"}
        Most probable category, or ``n_draws`` random draws (see module notes).
    n_draws : int
        Draws per row for ``method="draws"`` (>= 1).
    seed : int
        Seed of the draws (>= 0); the same seed gives the same draws.
    prefix : str
        Prefix of the probability columns (``"home_"`` for home features).

    Returns
    -------
    pandas.DataFrame
        ``modal``: the id columns (``user_id`` and any of ``period, date, week, month``) and a column named
        ``dimension`` (category label; missing where all probabilities are missing).
        ``draws``: the id columns, ``draw`` (0..n_draws-1) and ``dimension``: ``n_draws`` rows per input row.

    Raises
    ------
    MobilityError
        Unknown dimension or method, missing columns, negative probabilities, bad ``n_draws``/``seed``.

    Examples
    --------
    >>> f = pd.DataFrame({"user_id": ["a", "b"], "p_sex_male": [0.7, 0.2], "p_sex_female": [0.3, 0.8]})
    >>> assign_groups(f, "sex")["sex"].tolist()
    ['male', 'female']
    >>> d = assign_groups(f, "sex", "draws", n_draws=1000, seed=1)
    >>> round(float((d.loc[d.user_id == "a", "sex"] == "male").mean()), 1)
    0.7
    """
    if method not in ("modal", "draws"):
        raise MobilityError(f"method must be 'modal' or 'draws', got {method!r}")
    if isinstance(n_draws, bool) or not isinstance(n_draws, (int, np.integer)) or n_draws < 1:
        raise MobilityError(f"n_draws must be an integer >= 1, got {n_draws!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise MobilityError(f"seed must be an integer >= 0, got {seed!r}")
    labels = np.array(categories(dimension), dtype=object)
    cols = feature_columns(dimension, prefix)
    require_columns(features, cols + ["user_id"], "features", "build them with work_features/home_features "
                    "(and pass prefix='home_' for home features)")
    probs = features[cols].to_numpy(dtype=float)
    if (probs < 0).any():
        raise MobilityError(f"negative probabilities in {cols}; features must come from census counts")
    ids = features[[c for c in ID_COLUMNS if c in features.columns]].reset_index(drop=True)
    probs = np.nan_to_num(probs, nan=0.0)
    total = probs.sum(axis=1)
    has = total > 0
    if method == "modal":
        out = ids.copy()
        pick = labels[np.argmax(probs, axis=1)]
        out[dimension] = pd.array(np.where(has, pick, None), dtype="str")
        return out
    cum = np.cumsum(probs, axis=1)
    u = keyed_uniforms(features["user_id"].to_numpy(), n_draws, seed) * total[:, None]
    picks = np.empty((len(probs), n_draws), dtype=object)
    for d in range(n_draws):
        idx = np.minimum((cum <= u[:, d : d + 1]).sum(axis=1), len(labels) - 1)
        picks[:, d] = np.where(has, labels[idx], None)
    out = ids.loc[ids.index.repeat(n_draws)].reset_index(drop=True)
    out["draw"] = np.tile(np.arange(n_draws, dtype=np.int64), len(ids))
    out[dimension] = pd.array(picks.ravel(), dtype="str")
    return out


GROUP_SOURCES = {"work": "", "home": "home_"}
"""Where a person's groups come from: the census shares of the jobs at their work CBG (LODES WAC), or of
the jobs held by residents of their home CBG (LODES RAC), as the feature-column prefix."""
UNKNOWN = "unknown"
ECOLOGICAL_NOTE = (
    "Demographic groups are ecological: a person's group is the most likely category among the people counted "
    "by the census at their {source} block group ({table}), not the person's own sex, age, earnings, race, "
    "ethnicity or education. Estimates by group mix people of every category, are attenuated towards the "
    "pooled effect, and can differ from what the groups' own members experienced; read them as differences "
    "between kinds of places, and check them against the other source (work or home)."
)


def baseline_rows(features: pd.DataFrame, cbg_column: str, *, start, end, week_col: str = "week") -> pd.DataFrame:
    """One row per person: the earliest feature row of their most frequent ``cbg_column`` over the weeks
    ``[start, end]`` (:func:`mobility.obfuscate.modal_cbg`: ties to the smallest GEOID). People without such
    a week are left out.

    Examples
    --------
    >>> f = pd.DataFrame({"user_id": ["a", "a", "a"], "week": pd.to_datetime(["2020-01-06", "2020-01-13", "2020-03-02"]),
    ...                   "home_cbg": ["1", "2", "2"], "home_p_sex_male": [0.1, 0.9, 0.9]})
    >>> baseline_rows(f, "home_cbg", start="2020-01-06", end="2020-02-29")["home_cbg"].tolist()
    ['1']
    """
    from mobility.obfuscate import modal_cbg

    require_columns(features, ["user_id", week_col, cbg_column], "features", "pass per-week census features")
    week = pd.to_datetime(features[week_col])
    rows = features[week.between(pd.Timestamp(start), pd.Timestamp(end)).to_numpy()]
    chosen = modal_cbg(rows, cbg_column)
    rows = rows.assign(**{cbg_column: rows[cbg_column].astype("string")}).sort_values(week_col, kind="stable")
    picked = rows.merge(chosen.astype({cbg_column: "string"}), on=["user_id", cbg_column])
    return picked.drop_duplicates("user_id").reset_index(drop=True)


def person_groups(
    features: pd.DataFrame,
    dimensions,
    *,
    source: str = "work",
    method: str = "modal",
    n_draws: int = 10,
    seed: int = 0,
):
    """Each person's category in every dimension, from the census shares at their work or home CBG.

    ``features`` has one row per person (``work_features`` of the baseline work CBG for ``source="work"``,
    :func:`baseline_rows` of ``home_features`` for ``"home"``). A person whose CBG has no census people in a
    dimension gets ``"unknown"`` (a group of its own, usually suppressed). Returns, for ``method="modal"``,
    a table ``user_id`` + one column per dimension; for ``"draws"``, a dict dimension -> ``user_id, draw,
    <dimension>`` (see :func:`assign_groups`). See :data:`ECOLOGICAL_NOTE` for what such groups mean.

    Examples
    --------
    >>> f = pd.DataFrame({"user_id": ["a", "b"], "home_p_sex_male": [0.7, np.nan], "home_p_sex_female": [0.3, np.nan]})
    >>> person_groups(f, ["sex"], source="home").values.tolist()
    [['a', 'male'], ['b', 'unknown']]
    """
    if source not in GROUP_SOURCES:
        raise MobilityError(f"group source must be one of {list(GROUP_SOURCES)}, got {source!r}")
    if features["user_id"].duplicated().any():
        raise MobilityError("person_groups needs one feature row per person; pick one (e.g. baseline_rows)")
    prefix = GROUP_SOURCES[source]
    dims = [dimensions] if isinstance(dimensions, str) else list(dimensions)
    if method == "draws":
        out = {}
        for dim in dims:
            drawn = assign_groups(features, dim, method="draws", n_draws=n_draws, seed=seed, prefix=prefix)
            out[dim] = drawn[["user_id", "draw", dim]].assign(**{dim: drawn[dim].astype("string").fillna(UNKNOWN)})
        return out
    out = features[["user_id"]].reset_index(drop=True)
    for dim in dims:
        modal = assign_groups(features, dim, method=method, prefix=prefix)[dim]
        out[dim] = modal.astype("string").fillna(UNKNOWN).to_numpy()
    return out


TRUTH_COLUMNS = {"sex": "sex", "age": "age_group", "earnings": "earnings_group", "race": "race",
                 "ethnicity": "ethnicity", "education": "education"}
"""Columns of a synthetic region's ``truth/people.parquet`` holding each person's LODES category code."""


def group_agreement(assigned: pd.DataFrame, truth: pd.DataFrame, dimensions, *, label: str = "") -> pd.DataFrame:
    """How often assigned groups equal the people's true categories, per dimension and category.

    ``assigned``: ``user_id`` + one column per dimension (:func:`person_groups`); ``truth``: ``user_id`` +
    the LODES codes of :data:`TRUTH_COLUMNS`. Rows: ``source`` (``label``), ``dimension``, ``category``
    (``"all"`` for the dimension's total), ``n_true`` (people truly in it), ``n_assigned`` (assigned to it),
    ``n_agree``, ``agreement`` (``n_agree / n_true``; for "all", the share of people assigned their true
    category), over people present in both tables (``unknown`` counts as a wrong assignment).

    Examples
    --------
    >>> a = pd.DataFrame({"user_id": ["a", "b", "c"], "sex": ["male", "male", "female"]})
    >>> t = pd.DataFrame({"user_id": ["a", "b", "c"], "sex": ["CS01", "CS02", "CS02"]})
    >>> group_agreement(a, t, ["sex"]).set_index("category")["agreement"].round(3).to_dict()
    {'all': 0.667, 'male': 1.0, 'female': 0.5}
    """
    from mobility.census.features import DEMOGRAPHICS

    dims = [dimensions] if isinstance(dimensions, str) else list(dimensions)
    both = assigned.merge(truth, on="user_id", suffixes=("", "_true"), how="inner")
    rows = []
    for dim in dims:
        true_col = TRUTH_COLUMNS[dim] + ("_true" if TRUTH_COLUMNS[dim] in assigned.columns else "")
        true = both[true_col].map(dict(DEMOGRAPHICS[dim])).astype("string")
        got = both[dim].astype("string")
        agree = (true == got).fillna(False)
        rows.append({"source": label, "dimension": dim, "category": "all", "n_true": int(true.notna().sum()),
                     "n_assigned": int(got.notna().sum()), "n_agree": int(agree.sum()),
                     "agreement": float(agree[true.notna()].mean()) if true.notna().any() else np.nan})
        for cat in DEMOGRAPHICS[dim].values():
            n_true = int((true == cat).sum())
            n_agree = int((agree & (true == cat)).sum())
            rows.append({"source": label, "dimension": dim, "category": cat, "n_true": n_true,
                         "n_assigned": int((got == cat).sum()), "n_agree": n_agree,
                         "agreement": n_agree / n_true if n_true else np.nan})
    return pd.DataFrame(rows)
