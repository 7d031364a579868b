"""The stack drawn (netra_stack.graphs): the picture of a graph and a health report, its layers,
and each format it is written in."""

from __future__ import annotations

import re

import pytest

from netra_stack.graphs import formats
from netra_stack.graphs.image import positions, render
from netra_stack.graphs.picture import picture
from netra_stack.model.errors import UsageError
from netra_stack.model.health import HealthReport, HealthState, ServiceHealth
from netra_stack.planning.graph import Graph

H, S, U = HealthState.HEALTHY, HealthState.STOPPED, HealthState.STARTING
MODEL = {"services": {
    "db": {},
    "cache": {},
    "migrate": {"depends_on": {"db": {"condition": "service_healthy"}}},
    "web": {"depends_on": {"migrate": {"condition": "service_completed_successfully"},
                           "cache": {"condition": "service_started"}}},
    "proxy": {"depends_on": ["web"]},
}}
GRAPH = Graph.from_model(MODEL)
SERVICES = list(MODEL["services"])


def running(states: dict[str, HealthState]) -> HealthReport:
    return HealthReport("shop-1", "test", [ServiceHealth(s, state, "exited (exit 1)" if state is S else "ok")
                                           for s, state in states.items()], GRAPH.as_lists())


def test_the_files_picture_has_every_edge_with_its_condition_and_layers_dependencies_first():
    found = picture("test", GRAPH, SERVICES, one_shot={"migrate"}, ports={"web": ["8000"]})
    assert {(e.service, e.dependency, e.condition) for e in found.edges} == {
        ("migrate", "db", "healthy"), ("web", "migrate", "completed"), ("web", "cache", "started"),
        ("proxy", "web", "started")}
    assert found.node("migrate").one_shot and found.node("web").ports == ("8000",)
    assert found.state is None and not found.held()
    assert found.layers() == [["db", "cache"], ["migrate"], ["web"], ["proxy"]]
    assert found.roots() == ["proxy"]
    at = positions(found)
    assert at["proxy"][1] > at["web"][1] > at["migrate"][1] > at["db"][1] == at["cache"][1]


def test_a_failed_dependency_is_marked_with_what_it_holds_up():
    found = picture("shop-1", GRAPH, SERVICES, one_shot={"migrate"},
                    report=running({"db": S, "cache": H, "migrate": U, "web": U, "proxy": U}))
    assert found.node("db").holds_up == ("migrate",) and found.node("migrate").holds_up == ("web",)
    assert found.held() and found.state is HealthState.UNHEALTHY
    held = {e.key for e in found.edges if found.holding(e)}
    assert held == {("migrate", "db"), ("web", "migrate"), ("proxy", "web")}
    text = formats.plain(found)
    assert text.splitlines()[0] == "shop-1  UNHEALTHY"
    assert "├── completed → migrate (one-shot)  STARTING (ok)  ✗ holds up web" in text
    assert "healthy → db  STOPPED (exited (exit 1))  ✗ holds up migrate" in text
    assert "started → cache  HEALTHY" in text and "✗" not in text.split("cache")[1].splitlines()[0]


def test_a_service_met_again_is_named_not_expanded_and_cycles_end():
    shared = Graph.from_model({"services": {"a": {"depends_on": ["db"]}, "b": {"depends_on": ["db"]},
                                            "db": {"depends_on": ["a"]}}})
    found = picture("loop", shared, ["a", "b", "db"])
    lines = formats.plain(found).splitlines()
    assert lines == ["loop", "└── b", "    └── started → db", "        └── started → a",
                     "            └── started → db  (above)"]
    assert sorted(s for layer in found.layers() for s in layer) == ["a", "b", "db"]


def test_mermaid_and_dot_carry_nodes_edges_states_and_the_held_edges():
    found = picture("shop-1", GRAPH, SERVICES, one_shot={"migrate"}, ports={"web": ["34567→8000"]},
                    report=running({"db": S, "cache": H, "migrate": U, "web": U, "proxy": U}))
    text = formats.mermaid(found)
    assert text.startswith("flowchart TD\n")
    assert 's_migrate(["migrate<br/>one-shot<br/>STARTING"])' in text
    assert 's_web["web<br/>:34567→8000<br/>STARTING"]' in text
    assert "s_migrate -->|healthy| s_db" in text and "s_web -->|completed| s_migrate" in text
    assert "class s_db stopped" in text and "style s_db stroke-width:4px" in text
    edges = [line for line in text.splitlines() if "-->" in line]
    held = [i for i, line in enumerate(edges) if line.strip() in (
        "s_migrate -->|healthy| s_db", "s_web -->|completed| s_migrate", "s_proxy -->|started| s_web")]
    assert f"linkStyle {','.join(map(str, held))} stroke:" in text
    graph = formats.dot(found)
    assert graph.startswith('digraph "shop-1" {') and graph.rstrip().endswith("}")
    assert '"migrate" -> "db" [label="healthy", color="#c92a2a", penwidth=2];' in graph
    assert '"web" -> "cache" [label="started"];' in graph
    assert re.search(r'"db" \[label="db\\nSTOPPED", fillcolor="#ffc9c9", color="#c92a2a", penwidth=3\]', graph)


def test_images_are_svg_and_png_with_every_service_named():
    found = picture("test", GRAPH, SERVICES, one_shot={"migrate"}, ports={"web": ["8000"]})
    svg = render(found, "svg").decode()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    png = render(found, "png")
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000
    with pytest.raises(UsageError, match="unknown image format 'gif'"):
        render(found, "gif")


def test_the_terminal_view_draws_the_same_tree_with_rich():
    from io import StringIO

    from rich.console import Console

    found = picture("shop-1", GRAPH, SERVICES, report=running({"db": S, "cache": H, "migrate": U, "web": U, "proxy": U}))
    out = StringIO()
    Console(file=out, width=120, color_system=None).print(formats.GraphView(found).rich())
    assert out.getvalue().rstrip().splitlines() == formats.GraphView(found).plain()
