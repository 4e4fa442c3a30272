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
