"""Choose where array work runs: numpy on the CPU, CuPy on a GPU, with pandas or cuDF frames.

Kernels take an array module ``xp`` (``numpy`` or ``cupy``) and run the same code on either. Frame functions
take a ``backend`` keyword:

``"pandas"``
    pandas frames in and out, numpy kernels (the default for pandas input).
``"cupy"``
    pandas frames in and out, kernels on the GPU with CuPy (for machines with CuPy but no cuDF).
``"cudf"``
    cuDF frames in and out, kernels on the GPU with CuPy (the default for cuDF input).

``None`` infers ``"cudf"`` for a cuDF frame and ``"pandas"`` otherwise. CuPy and cuDF are optional
(``pip install mobility[gpu]``); they are imported only when a GPU backend is asked for, so importing
:mod:`mobility` never needs them.

A run chooses with :func:`choose_device` (``[metrics] backend = "auto" | "cpu" | "gpu"``, ``--backend``):
``"gpu"`` runs the kernels with CuPy on pandas frames (``"cupy"`` above), ``"cpu"`` with numpy, and
``"auto"`` uses the GPU when CuPy is installed and sees a CUDA device, else the CPU.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from mobility.errors import MobilityError

BACKENDS = ("pandas", "cupy", "cudf")
DEVICES = ("auto", "cpu", "gpu")


def is_cudf(obj: Any) -> bool:
    """True if ``obj`` is a cuDF DataFrame or Series (checked without importing cuDF).

    Examples
    --------
    >>> is_cudf(pd.DataFrame({"a": [1]}))
    False
    """
    return type(obj).__module__.split(".")[0] == "cudf"


def resolve_backend(frame: Any, backend: str | None) -> str:
    """Return the backend name for ``frame``: the one asked for, or the one its type implies.

    Raises :class:`MobilityError` for an unknown name, for a cuDF frame with a CPU backend or a pandas
    frame with ``"cudf"``, and when the GPU libraries the backend needs are not installed.

    Examples
    --------
    >>> resolve_backend(pd.DataFrame(), None)
    'pandas'
    >>> resolve_backend(pd.DataFrame(), "numpy")
    Traceback (most recent call last):
    ...
    mobility.errors.MobilityError: backend='numpy' is not one of ('pandas', 'cupy', 'cudf'); pass backend=None to infer it from the input frame
    """
    if backend is None:
        backend = "cudf" if is_cudf(frame) else "pandas"
    if backend not in BACKENDS:
        raise MobilityError(
            f"backend={backend!r} is not one of {BACKENDS}; pass backend=None to infer it from the input frame"
        )
    if is_cudf(frame) and backend != "cudf":
        raise MobilityError(
            f"input is a cuDF DataFrame but backend={backend!r}; pass backend='cudf' (or None), "
            "or convert the input with .to_pandas()"
        )
    if backend == "cudf" and not is_cudf(frame):
        raise MobilityError(
            "backend='cudf' needs a cuDF DataFrame as input; convert it with cudf.from_pandas(df), "
            "or use backend='cupy' to keep pandas frames and run the kernels on the GPU"
        )
    if backend in ("cupy", "cudf"):
        _import_optional("cupy")
    if backend == "cudf":
        _import_optional("cudf")
    return backend


def gpu_status() -> tuple[bool, str]:
    """Whether CuPy is installed and sees a CUDA device, and in words why not.

    Examples
    --------
    >>> usable, why = gpu_status()
    >>> isinstance(usable, bool) and isinstance(why, str)
    True
    """
    try:
        cupy = importlib.import_module("cupy")
    except ImportError as exc:
        return False, f"CuPy is not installed ({exc})"
    try:
        count = int(cupy.cuda.runtime.getDeviceCount())
    except Exception as exc:  # noqa: BLE001 - CUDA reports a missing driver or device in many ways
        return False, f"CuPy is installed but CUDA is unusable ({exc})"
    if count < 1:
        return False, "CuPy is installed but no CUDA device is visible"
    return True, f"{count} CUDA device(s) with CuPy {cupy.__version__}"


def choose_device(requested: str, *, where: str = "backend") -> tuple[str, str]:
    """The frame backend (``"pandas"`` or ``"cupy"``) for ``"auto"``, ``"cpu"`` or ``"gpu"``, and why.

    Parameters
    ----------
    requested : {"auto", "cpu", "gpu"}
        ``"gpu"`` must find a usable GPU; ``"auto"`` falls back to the CPU.
    where : str
        The setting's name in messages (``"[metrics] backend"``).

    Raises
    ------
    MobilityError
        For another value, or ``"gpu"`` without CuPy and a CUDA device.

    Examples
    --------
    >>> choose_device("cpu")
    ('pandas', 'asked for the CPU')
    >>> choose_device("tpu", where="[metrics] backend")
    Traceback (most recent call last):
    ...
    mobility.errors.MobilityError: [metrics] backend = 'tpu' is not one of ('auto', 'cpu', 'gpu')
    """
    if requested not in DEVICES:
        raise MobilityError(f"{where} = {requested!r} is not one of {DEVICES}")
    if requested == "cpu":
        return "pandas", "asked for the CPU"
    usable, why = gpu_status()
    if usable:
        return "cupy", why
    if requested == "gpu":
        raise MobilityError(
            f"{where} = 'gpu', but {why}: install the extra with `pip install mobility[gpu]` on a machine with "
            "a CUDA GPU, or set it to 'auto' (the GPU where there is one) or 'cpu'"
        )
    return "pandas", why


def _import_optional(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ImportError as exc:  # pragma: no cover - depends on the machine
        raise MobilityError(
            f"the GPU backend needs {name!r}, which is not installed ({exc}); install the extra with "
            "`pip install mobility[gpu]` on a machine with a CUDA GPU, or use backend='pandas'"
        ) from exc


def array_module(backend: str) -> ModuleType:
    """The array module kernels use for ``backend``: numpy for ``"pandas"``, CuPy otherwise.

    Examples
    --------
    >>> array_module("pandas").__name__
    'numpy'
    """
    return np if backend == "pandas" else _import_optional("cupy")


def to_device(arr: np.ndarray, xp: ModuleType):
    """Move a host array to ``xp`` (a no-op for numpy).

    Examples
    --------
    >>> to_device(np.arange(3), np).tolist()
    [0, 1, 2]
    """
    return arr if xp is np else xp.asarray(arr)


def to_host(arr) -> np.ndarray:
    """Return ``arr`` as a numpy array, copying from the GPU if it is a CuPy array.

    Examples
    --------
    >>> to_host(np.arange(2)).tolist()
    [0, 1]
    """
    if isinstance(arr, np.ndarray):
        return arr
    get = getattr(arr, "get", None)
    return get() if get is not None else np.asarray(arr)


def to_pandas(frame: Any) -> pd.DataFrame:
    """A pandas view of ``frame`` (cuDF frames are copied to the host; pandas frames pass through).

    Examples
    --------
    >>> to_pandas(pd.DataFrame({"a": [1]})).shape
    (1, 1)
    """
    return frame.to_pandas() if is_cudf(frame) else frame


def from_pandas(frame: pd.DataFrame, backend: str) -> Any:
    """Return ``frame`` in the frame type of ``backend`` (cuDF for ``"cudf"``, pandas otherwise).

    Examples
    --------
    >>> from_pandas(pd.DataFrame({"a": [1]}), "pandas").shape
    (1, 1)
    """
    if backend != "cudf":
        return frame
    return _import_optional("cudf").from_pandas(frame)
