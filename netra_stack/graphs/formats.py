"""A Picture as text: a tree for the terminal (rich), mermaid (rendered by GitHub and GitLab in
markdown) and Graphviz dot. Nodes are coloured by health where the environment runs; the service
that holds others up, and the edges it holds, are marked."""

from __future__ import annotations

import json
from typing import NamedTuple

from netra_stack.graphs.picture import Node, Picture
from netra_stack.model.health import HealthState

COLOURS = {  # fill, stroke: the same in every format
    HealthState.HEALTHY: ("#d8f3dc", "#2d6a4f"),
    HealthState.STARTING: ("#fff3bf", "#b08900"),
    HealthState.UNHEALTHY: ("#ffd8a8", "#d9480f"),
    HealthState.STOPPED: ("#ffc9c9", "#c92a2a"),
    None: ("#e9ecef", "#495057"),
}
STYLES = {HealthState.HEALTHY: "green", HealthState.STARTING: "yellow", HealthState.UNHEALTHY: "dark_orange",
          HealthState.STOPPED: "red"}
HOLDING = "#c92a2a"  # an edge whose dependency holds its dependent up


class Step(NamedTuple):
    """One line of the tree: how deep, whether it is the last of its siblings (and of each of
    its ancestors'), the node, the edge's condition and whether that edge holds it up, and
    whether the node was shown above already (then not expanded again)."""

    last: tuple[bool, ...]  # of each level down to this one
    node: Node
    condition: str | None
    holding: bool
    again: bool


def walk(picture: Picture) -> list[Step]:
    """The tree from each service nothing depends on down to what it needs."""
    steps: list[Step] = []
    shown: set[str] = set()

    def grow(service: str, last: tuple[bool, ...], condition: str | None, holding: bool) -> None:
        again = service in shown
        steps.append(Step(last, picture.node(service), condition, holding, again))
        if again:
            return
        shown.add(service)
        edges = picture.dependencies(service)
        for number, edge in enumerate(edges):
            grow(edge.dependency, (*last, number == len(edges) - 1), edge.condition, picture.holding(edge))

    roots = picture.roots()
    for number, root in enumerate(roots):
        grow(root, (number == len(roots) - 1,), None, False)
    return steps


def _parts(step: Step) -> list[tuple[str, str]]:
    """A line's pieces, each with its rich style."""
    node = step.node
    parts = [(f"{step.condition} → ", "bold red" if step.holding else "dim")] if step.condition else []
    parts.append((node.service, "bold"))
    if node.one_shot:
        parts.append((" (one-shot)", "dim"))
    if node.state is not None:
        parts.append((f"  {node.state.value}", STYLES[node.state]))
        if node.state is not HealthState.HEALTHY and node.detail:
            parts.append((f" ({node.detail})", "dim"))
    elif node.detail:
        parts.append((f"  {node.detail}", "dim"))
    parts += [(f"  :{port}", "cyan") for port in node.ports]
    if node.holds_up:
        parts.append((f"  ✗ holds up {', '.join(node.holds_up)}", "bold red"))
    if step.again:
        parts.append(("  (above)", "dim"))
    return parts


class GraphView:
    """The terminal's view of a Picture (the Terminal's `draw`): a tree, drawn by rich on a
    terminal, as plain lines elsewhere (no rich imported)."""

    def __init__(self, picture: Picture) -> None:
        self.picture = picture

    def _title(self) -> list[tuple[str, str]]:
        state = self.picture.state
        return [(self.picture.title, "bold"), *([(f"  {state.value}", STYLES[state])] if state is not None else [])]

    def plain(self) -> list[str]:
        lines = ["".join(text for text, _ in self._title())]
        for step in walk(self.picture):
            guides = "".join("    " if last else "│   " for last in step.last[:-1])
            lines.append(guides + ("└── " if step.last[-1] else "├── ") + "".join(text for text, _ in _parts(step)))
        return lines

    def rich(self):
        from rich.text import Text
        from rich.tree import Tree

        top = Tree(Text.assemble(*self._title()))
        branches = [top]
        for step in walk(self.picture):
            del branches[len(step.last):]
            branches.append(branches[-1].add(Text.assemble(*_parts(step))))
        return top


def plain(picture: Picture) -> str:
    """The tree as plain text (a failure report, a file)."""
    return "\n".join(GraphView(picture).plain())


def _id(service: str) -> str:
    return "s_" + "".join(c if c.isalnum() else "_" for c in service)


def mermaid(picture: Picture) -> str:
    """A mermaid flowchart, dependents above what they need: one-shot services as stadiums,
    published ports under the name, nodes coloured by health, held edges thick and red."""
    lines = ["flowchart TD"]
    for node in picture.nodes:
        text = "<br/>".join([node.service, *(["one-shot"] if node.one_shot else []),
                             *(f":{p}" for p in node.ports),
                             *([node.state.value] if node.state is not None else [])])
        text = text.replace('"', "#quot;")
        lines.append(f'    {_id(node.service)}(["{text}"])' if node.one_shot else f'    {_id(node.service)}["{text}"]')
    held = []
    for number, edge in enumerate(picture.edges):
        lines.append(f"    {_id(edge.service)} -->|{edge.condition}| {_id(edge.dependency)}")
        if picture.holding(edge):
            held.append(number)
    for state, (fill, stroke) in COLOURS.items():
        members = [_id(n.service) for n in picture.nodes if n.state is state]
        if members and state is not None:
            lines.append(f"    classDef {state.value.lower()} fill:{fill},stroke:{stroke},color:#212529")
            lines.append(f"    class {','.join(members)} {state.value.lower()}")
    for node in picture.nodes:
        if node.holds_up:
            lines.append(f"    style {_id(node.service)} stroke-width:4px")
    if held:
        lines.append(f"    linkStyle {','.join(map(str, held))} stroke:{HOLDING},stroke-width:3px")
    return "\n".join(lines)


def dot(picture: Picture) -> str:
    """Graphviz dot (what `docker compose alpha viz` prints, with conditions, health and ports)."""
    lines = [f"digraph {json.dumps(picture.title)} {{", "    rankdir=TB;",
             '    node [shape=box, style="rounded,filled", fontname="Helvetica"];',
             '    edge [fontname="Helvetica", fontsize=10];']
    for node in picture.nodes:
        fill, stroke = COLOURS[node.state]
        label = "\\n".join([node.service, *(["one-shot"] if node.one_shot else []), *(f":{p}" for p in node.ports),
                            *([node.state.value] if node.state is not None else [])])
        width = ", penwidth=3" if node.holds_up else ""
        shape = ", shape=oval" if node.one_shot else ""
        lines.append(f'    {json.dumps(node.service)} [label="{label}", fillcolor="{fill}", color="{stroke}"{width}{shape}];')
    for edge in picture.edges:
        held = f', color="{HOLDING}", penwidth=2' if picture.holding(edge) else ""
        lines.append(f'    {json.dumps(edge.service)} -> {json.dumps(edge.dependency)} [label="{edge.condition}"{held}];')
    lines.append("}")
    return "\n".join(lines)
