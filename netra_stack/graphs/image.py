"""A Picture as an SVG or PNG image, drawn with matplotlib (the `plot` extra; no Graphviz): the
layers of Picture.layers from the bottom (what depends on nothing) up, a rounded box per
service coloured by its health, an arrow per `depends_on` from the dependent down to what it
needs, labelled with its condition."""

from __future__ import annotations

from netra_stack.graphs.formats import COLOURS, HOLDING
from netra_stack.graphs.picture import Picture
from netra_stack.model.errors import UsageError

FORMATS = ("svg", "png")
BOX_WIDTH, BOX_HEIGHT = 2.2, 0.8  # in the drawing's units: one unit between neighbours' centres is 2.8
SPACING_X, SPACING_Y = 2.8, 1.8


def positions(picture: Picture) -> dict[str, tuple[float, float]]:
    """Each service's centre: its layer's height, its place in the layer, every layer centred."""
    found = {}
    for level, services in enumerate(picture.layers()):
        for place, service in enumerate(services):
            found[service] = ((place - (len(services) - 1) / 2) * SPACING_X, level * SPACING_Y)
    return found


def render(picture: Picture, image_format: str) -> bytes:
    """The picture as the bytes of an SVG or PNG file."""
    if image_format not in FORMATS:
        raise UsageError(f"unknown image format {image_format!r}; expected svg or png")
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
    except ImportError:
        raise UsageError(f"graph --format {image_format} needs matplotlib", hint="pip install 'netra-stack[plot]'") from None
    import io

    at = positions(picture)
    xs = [x for x, _ in at.values()] or [0.0]
    ys = [y for _, y in at.values()] or [0.0]
    left, right = min(xs) - BOX_WIDTH, max(xs) + BOX_WIDTH
    bottom, top = min(ys) - BOX_HEIGHT * 1.5, max(ys) + BOX_HEIGHT * 1.5
    scale = 1.1  # inches per unit
    figure = Figure(figsize=((right - left) * scale / 2, (top - bottom + 0.8) * scale / 2))
    FigureCanvasAgg(figure)  # no pyplot: no global state, no display needed
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_xlim(left, right)
    axes.set_ylim(bottom, top + 0.8)
    axes.set_axis_off()
    title = picture.title + (f"  {picture.state.value}" if picture.state is not None else "")
    axes.text((left + right) / 2, top + 0.3, title, ha="center", va="center", fontsize=12, fontweight="bold")
    for edge in picture.edges:
        (x1, y1), (x2, y2) = at[edge.service], at[edge.dependency]
        held = picture.holding(edge)
        arrow = FancyArrowPatch((x1, y1 - BOX_HEIGHT / 2), (x2, y2 + BOX_HEIGHT / 2), arrowstyle="-|>",
                                mutation_scale=14, color=HOLDING if held else "#495057", linewidth=2.2 if held else 1.2,
                                connectionstyle="arc3,rad=0.0" if x1 == x2 or y1 - y2 <= SPACING_Y else "arc3,rad=0.15")
        axes.add_patch(arrow)
        # a third of the way down, nearer the dependent: crossing edges keep their labels apart
        axes.text(x1 + (x2 - x1) / 3, y1 + (y2 - y1) / 3, edge.condition, ha="center", va="center", fontsize=8,
                  color=HOLDING if held else "#495057", bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none"})
    for node in picture.nodes:
        x, y = at[node.service]
        fill, stroke = COLOURS[node.state]
        axes.add_patch(FancyBboxPatch((x - BOX_WIDTH / 2, y - BOX_HEIGHT / 2), BOX_WIDTH, BOX_HEIGHT,
                                      boxstyle="round,pad=0.02,rounding_size=0.35" if node.one_shot else "round,pad=0.02,rounding_size=0.1",
                                      facecolor=fill, edgecolor=stroke, linewidth=3 if node.holds_up else 1.2))
        under = [*(["one-shot"] if node.one_shot else []), *(f":{p}" for p in node.ports[:2]),
                 *([node.state.value] if node.state is not None else [])]
        axes.text(x, y + (0.12 if under else 0), node.service, ha="center", va="center", fontsize=10, fontweight="bold")
        if under:
            axes.text(x, y - 0.2, "  ".join(under), ha="center", va="center", fontsize=7, color="#343a40")
    out = io.BytesIO()
    figure.savefig(out, format=image_format, dpi=110)
    return out.getvalue()
