"""Choosing where the kernels run: "auto", "cpu", "gpu"."""

import pytest

from mobility.backend import choose_device, gpu_status
from mobility.errors import MobilityError

HAVE_GPU, WHY = gpu_status()


def test_cpu_is_numpy_and_unknown_names_are_errors():
    assert choose_device("cpu") == ("pandas", "asked for the CPU")
    with pytest.raises(MobilityError, match=r"\[metrics\] backend = 'cuda' is not one of \('auto', 'cpu', 'gpu'\)"):
        choose_device("cuda", where="[metrics] backend")


@pytest.mark.skipif(HAVE_GPU, reason="a usable GPU is present")
def test_without_a_gpu_auto_is_the_cpu_and_gpu_a_clear_error():
    backend, why = choose_device("auto")
    assert backend == "pandas" and why == WHY and ("CuPy" in why)
    with pytest.raises(MobilityError, match=r"\[metrics\] backend = 'gpu', but .*pip install mobility\[gpu\].*'auto'"):
        choose_device("gpu", where="[metrics] backend")


@pytest.mark.gpu
@pytest.mark.skipif(not HAVE_GPU, reason=f"no usable GPU: {WHY}")
def test_with_a_gpu_auto_and_gpu_are_cupy():
    assert choose_device("auto")[0] == choose_device("gpu")[0] == "cupy"
