"""The package layering: imports flow one way (tools/import_graph.py)."""

import importlib.util
from pathlib import Path

TOOL = Path(__file__).resolve().parent.parent / "tools" / "import_graph.py"


def test_no_import_goes_back_up():
    spec = importlib.util.spec_from_file_location("import_graph", TOOL)
    graph = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(graph)
    edges = graph.graph()
    assert graph.upward(edges) == []
    assert set(edges) <= set(graph.LAYERS)  # every package has its place
