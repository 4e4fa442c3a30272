import pytest
from matplotlib.figure import Figure

from mobility.errors import MobilityError
from mobility.io.figures import save_figure


def test_writes_each_format_atomically(tmp_path):
    fig = Figure()
    fig.add_subplot().plot([0, 1], [0, 1])
    paths = save_figure(fig, tmp_path / "sub" / "line", ("png", "svg", "pdf"))
    assert [p.suffix for p in paths] == [".png", ".svg", ".pdf"]
    assert paths[0].read_bytes()[:4] == b"\x89PNG" and paths[2].read_bytes()[:4] == b"%PDF"
    assert not list((tmp_path / "sub").glob(".tmp-*"))


def test_rejects_unknown_or_no_formats(tmp_path):
    with pytest.raises(MobilityError, match="figure formats"):
        save_figure(Figure(), tmp_path / "x", ("jpg",))
    with pytest.raises(MobilityError, match="figure formats"):
        save_figure(Figure(), tmp_path / "x", ())
