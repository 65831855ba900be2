"""Where each weight label of ``draw_network`` sits: beside its own edge, near the
edge's start, clear of every other edge, node and label, so that no label reads as
another edge's (two edges that cross must not share their labels' corner).

Graphviz puts an edge's ``taillabel`` at ``labeldistance`` × 10 pt from the edge's
start, turned ``labelangle`` degrees from the edge's direction there, and never
looks at the other edges. So the diagram is laid out once by ``dot`` (its JSON: the
labels do not move a node or an edge), each label's box is put at the first place
along its own edge, on either side of it, that keeps clear of everything else, and
that place is written back as the label's angle and distance.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

__all__ = ["tail_label_places"]

Point = tuple[float, float]

#: Points between a label and its own edge, and the least between it and any other.
GAP = 3.0
CLEAR = 12.0
#: Steps along an edge where a label may start, in points, up to this share of it.
STEP = 4.0
REACH = 0.8
#: How much nearer its own edge than any other a label's middle must be.
RATIO = 1.6
CAP = 3.0
#: What a place on (or touching) another edge costs: more than any other fault.
ON_EDGE = 10.0
#: Nearer than this (points) to another edge counts as on it.
TOUCH = 5.0
#: Points between two labels.
LABEL_GAP = 6.0
#: The places kept per label (the best of each side and STRETCH points of its
#: edge), and the partial choices the search keeps.
STRETCH = 12.0
KEEP = 16
BEAM = 40


@dataclass(frozen=True)
class Box:
    """An upright rectangle, in graphviz's points (y up)."""

    left: float
    bottom: float
    right: float
    top: float

    def moved(self, dx: float, dy: float) -> Box:
        return Box(self.left + dx, self.bottom + dy, self.right + dx, self.top + dy)

    def grown(self, margin: float) -> Box:
        return Box(self.left - margin, self.bottom - margin, self.right + margin,
                   self.top + margin)

    def overlaps(self, other: Box) -> bool:
        return (self.left < other.right and other.left < self.right and
                self.bottom < other.top and other.bottom < self.top)

    def inside(self, other: Box) -> bool:
        return (other.left <= self.left and self.right <= other.right and
                other.bottom <= self.bottom and self.top <= other.top)

    def distance_to_point(self, p: Point) -> float:
        dx = max(self.left - p[0], 0.0, p[0] - self.right)
        dy = max(self.bottom - p[1], 0.0, p[1] - self.top)
        return math.hypot(dx, dy)


def _bezier(points: list[Point], t: float) -> Point:
    a, b, c, d = points
    s = 1.0 - t
    return (s ** 3 * a[0] + 3 * s * s * t * b[0] + 3 * s * t * t * c[0] + t ** 3 * d[0],
            s ** 3 * a[1] + 3 * s * s * t * b[1] + 3 * s * t * t * c[1] + t ** 3 * d[1])


def _spline(pos: str) -> tuple[list[Point], Point | None]:
    """The control points of an edge's ``pos`` and its arrowhead's tip (``e,x,y``)."""
    points, tip = [], None
    for part in pos.split():
        fields = part.split(",")
        if fields[0] == "e":
            tip = (float(fields[1]), float(fields[2]))
        elif fields[0] != "s":
            points.append((float(fields[0]), float(fields[1])))
    return points, tip


def edge_polyline(pos: str, pieces: int = 8) -> list[Point]:
    """An edge's drawn line as a polyline: its cubic Bézier pieces sampled, then on
    to the arrowhead's tip."""
    points, tip = _spline(pos)
    line = [points[0]]
    for start in range(0, len(points) - 3, 3):
        line += [_bezier(points[start:start + 4], i / pieces) for i in range(1, pieces + 1)]
    if tip is not None:
        line.append(tip)
    return line


def _segment_distance(box: Box, a: Point, b: Point) -> float:
    """The distance between a box and the segment a–b (0 when they meet)."""
    if _segment_meets_box(a, b, box):
        return 0.0
    corners = [(box.left, box.bottom), (box.right, box.bottom), (box.right, box.top),
               (box.left, box.top)]
    return min(min(box.distance_to_point(a), box.distance_to_point(b)),
               min(_point_segment(c, a, b) for c in corners))


def _point_segment(p: Point, a: Point, b: Point) -> float:
    dx, dy = b[0] - a[0], b[1] - a[1]
    length = dx * dx + dy * dy
    t = 0.0 if not length else max(0.0, min(1.0, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy)
                                            / length))
    return math.hypot(p[0] - a[0] - t * dx, p[1] - a[1] - t * dy)


def _segment_meets_box(a: Point, b: Point, box: Box) -> bool:
    """Liang–Barsky: does the segment a–b enter the box?"""
    t0, t1 = 0.0, 1.0
    dx, dy = b[0] - a[0], b[1] - a[1]
    for p, q in ((-dx, a[0] - box.left), (dx, box.right - a[0]),
                 (-dy, a[1] - box.bottom), (dy, box.top - a[1])):
        if p == 0:
            if q < 0:
                return False
        else:
            t = q / p
            if p < 0:
                t0 = max(t0, t)
            else:
                t1 = min(t1, t)
            if t0 > t1:
                return False
    return True


def _box_gap(a: Box, b: Box) -> float:
    return math.hypot(max(a.left - b.right, b.left - a.right, 0.0),
                      max(a.bottom - b.top, b.bottom - a.top, 0.0))


class _Line:
    """A polyline with each segment's bounding box, so that distances to it skip the
    segments too far away to matter."""

    def __init__(self, points: list[Point]) -> None:
        self.points = points
        self.segments = [(a, b, Box(min(a[0], b[0]), min(a[1], b[1]), max(a[0], b[0]),
                                    max(a[1], b[1])))
                         for a, b in zip(points, points[1:])]
        self.bounds = Box(min(p[0] for p in points), min(p[1] for p in points),
                          max(p[0] for p in points), max(p[1] for p in points))

    def to_box(self, box: Box, limit: float = math.inf) -> float:
        """The distance to ``box``, or ``limit`` when it is at least that."""
        best = limit
        if _box_gap(box, self.bounds) >= best:
            return best
        for a, b, bounds in self.segments:
            if _box_gap(box, bounds) < best:
                best = min(best, _segment_distance(box, a, b))
        return best

    def to_point(self, p: Point, limit: float = math.inf) -> float:
        """The distance to ``p``, or ``limit`` when it is at least that."""
        best = limit
        if self.bounds.distance_to_point(p) >= best:
            return best
        for a, b, bounds in self.segments:
            if bounds.distance_to_point(p) < best:
                best = min(best, _point_segment(p, a, b))
        return best


def label_box(drawing: list[dict[str, Any]]) -> Box | None:
    """The box of a label from graphviz's drawing of it (``_tldraw_``): each text line
    from its baseline's descent to its ascent, as wide as graphviz measured it."""
    boxes, size = [], 14.0
    for op in drawing:
        if op.get("op") == "F":
            size = float(op["size"])
        elif op.get("op") == "T" and op.get("text"):
            x, y = op["pt"]
            width = float(op["width"])
            left = {"l": x, "r": x - width}.get(op.get("align", "c"), x - width / 2)
            boxes.append(Box(left, y - 0.25 * size, left + width, y + 0.8 * size))
    if not boxes:
        return None
    return Box(min(b.left for b in boxes), min(b.bottom for b in boxes),
               max(b.right for b in boxes), max(b.top for b in boxes))


@dataclass
class _Obstacle:
    """A node: a circle (centre, radius) or a box."""

    box: Box
    circle: tuple[Point, float] | None = None

    def meets(self, box: Box) -> bool:
        if self.circle is None:
            return self.box.overlaps(box)
        centre, radius = self.circle
        return box.distance_to_point(centre) < radius


def _nodes(layout: dict[str, Any]) -> list[_Obstacle]:
    obstacles = []
    for node in layout.get("objects", []):
        if "pos" not in node or node.get("style") == "invis":
            continue
        x, y = map(float, node["pos"].split(","))
        w, h = float(node["width"]) * 36, float(node["height"]) * 36       # half, in pt
        box = Box(x - w, y - h, x + w, y + h)
        circle = ((x, y), w + 1.0) if node.get("shape") == "circle" else None
        obstacles.append(_Obstacle(box.grown(1.0), circle))
    if layout.get("lp") and layout.get("lwidth"):                            # the legend
        x, y = map(float, layout["lp"].split(","))
        w, h = float(layout["lwidth"]) * 36, float(layout["lheight"]) * 36
        obstacles.append(_Obstacle(Box(x - w, y - h, x + w, y + h)))
    return obstacles


def _along(line: list[Point], reach: float) -> list[tuple[float, Point, Point]]:
    """(distance along, point, unit direction) every STEP points of a polyline, up to
    ``reach`` of its length."""
    lengths = [math.dist(a, b) for a, b in zip(line, line[1:])]
    total, out, walked, target = sum(lengths), [], 0.0, 0.0
    for (a, b), length in zip(zip(line, line[1:]), lengths):
        while length and target <= walked + length and target <= reach * total:
            t = (target - walked) / length
            direction = ((b[0] - a[0]) / length, (b[1] - a[1]) / length)
            out.append((target, (a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])), direction))
            target += STEP
        walked += length
    return out


def _beside(shape: Box, point: Point, normal: Point) -> tuple[float, float]:
    """Where a label's anchor goes so that its box (``shape``, relative to the anchor)
    stands GAP points off ``point`` on the ``normal``'s side."""
    reach = max(-(cx * normal[0] + cy * normal[1])
                for cx in (shape.left, shape.right) for cy in (shape.bottom, shape.top))
    distance = reach + GAP
    return point[0] + normal[0] * distance, point[1] + normal[1] * distance


def tail_label_places(layout_json: bytes | str) -> dict[str, tuple[float, float]]:
    """Each labelled edge's id → (labelangle in degrees, labeldistance) that puts its
    label beside it, from the JSON of one ``dot`` layout (``pipe(format="json")``)."""
    layout = json.loads(layout_json)
    bounds = Box(*map(float, layout["bb"].split(",")))
    nodes = _nodes(layout)
    edges = []
    for edge in layout.get("edges", []):
        if "pos" not in edge or edge.get("style") == "invis":
            continue
        shape = label_box(edge.get("_tldraw_", []))
        anchor = edge.get("tail_lp")
        if shape is not None and anchor:
            ax, ay = map(float, anchor.split(","))
            shape = shape.moved(-ax, -ay)                      # relative to its anchor
        edges.append((edge.get("id", ""), edge["pos"], edge_polyline(edge["pos"]), shape))
    lines = {edge_id: _Line(line) for edge_id, _, line, _ in edges}
    candidates = {}
    for edge_id, pos, _, shape in edges:
        if shape is not None:
            others = [lines[other_id] for other_id, *_ in edges if other_id != edge_id]
            candidates[edge_id] = (pos, _candidates(lines[edge_id], shape, others, nodes,
                                                    bounds))
    return {edge_id: _angle_and_distance(candidates[edge_id][0], anchor)
            for edge_id, anchor in _choose(candidates).items()}


@dataclass
class _Place:
    """Where one label may go: its anchor, its box, and how good the place is."""

    score: float
    anchor: Point
    box: Box

    zone: Box = field(init=False)            # the box and half LABEL_GAP around it:
                                             # two labels' zones must not meet
    def __post_init__(self) -> None:
        self.zone = self.box.grown(LABEL_GAP / 2)


def _candidates(line: _Line, shape: Box, others: list[_Line],
                nodes: list[_Obstacle], bounds: Box) -> list[_Place]:
    """The places for the label of the edge ``line``, best first: one per side and
    stretch of the edge, never on a node or outside the drawing.

    A place is better the more plainly the label reads as this edge's: its middle
    RATIO times nearer this edge than any other (more counts, up to CAP), CLEAR of
    the other edges; then the nearer the edge's start, the better."""
    length = sum(math.dist(a, b) for a, b, _ in line.segments) or 1.0
    best: dict[tuple[int, int], _Place] = {}
    for s, point, (ux, uy) in _along(line.points, REACH):
        for side, normal in enumerate(((-uy, ux), (uy, -ux))):
            anchor = _beside(shape, point, normal)
            box = shape.moved(*anchor)
            if (not box.inside(bounds) or any(n.meets(box) for n in nodes) or
                    line.to_box(box, GAP) < GAP - 0.5):
                continue
            middle = ((box.left + box.right) / 2, (box.bottom + box.top) / 2)
            own = line.to_point(middle)
            ratio = min((other.to_point(middle, CAP * own) for other in others),
                        default=CAP * own) / own
            nearest = min((other.to_box(box, 2 * CLEAR) for other in others),
                          default=2 * CLEAR)
            score = (min(ratio, CAP) + min(nearest / CLEAR, 2.0) - s / length -
                     (RATIO if ratio < RATIO else 0.0) - (1.0 if nearest < CLEAR else 0.0) -
                     (ON_EDGE if nearest < TOUCH else 0.0))
            key = (side, int(s // STRETCH))
            if key not in best or score > best[key].score:
                best[key] = _Place(score, anchor, box)
    places = sorted(best.values(), key=lambda place: -place.score)[:KEEP]
    if not places:                       # nowhere clear: beside the start, as graphviz would
        (point, ahead, _) = line.segments[0]
        ux, uy = ahead[0] - point[0], ahead[1] - point[1]
        norm = math.hypot(ux, uy) or 1.0
        anchor = _beside(shape, point, (-uy / norm, ux / norm))
        places = [_Place(-10.0, anchor, shape.moved(*anchor))]
    return places


def _choose(candidates: dict[str, tuple[str, list[_Place]]]) -> dict[str, Point]:
    """One place per label, no two labels within LABEL_GAP of each other, so that the
    worst-placed label is as good as can be (then the sum): a beam search, the labels
    with the fewest good places first."""
    order = sorted(candidates, key=lambda edge_id: candidates[edge_id][1][0].score)
    beam: list[tuple[float, float, tuple[_Place, ...]]] = [(math.inf, 0.0, ())]
    for edge_id in order:
        grown = []
        for worst, total, chosen in beam:
            options = [place for place in candidates[edge_id][1]
                       if not any(place.zone.overlaps(other.zone) for other in chosen)]
            if not options:                          # crowded: the least bad overlap
                options = [min(candidates[edge_id][1], key=lambda place: sum(
                    place.zone.overlaps(other.zone) for other in chosen))]
                options = [_Place(options[0].score - 10.0, options[0].anchor, options[0].box)]
            grown += [(min(worst, place.score), total + place.score, (*chosen, place))
                      for place in options]
        grown.sort(key=lambda state: (-state[0], -state[1]))
        beam = grown[:BEAM]
    return {edge_id: place.anchor for edge_id, place in zip(order, beam[0][2])}


def _angle_and_distance(pos: str, anchor: Point) -> tuple[float, float]:
    """The labelangle and labeldistance graphviz turns into ``anchor``: it measures
    from the spline's first point, turning from the direction to the point a tenth
    along its first piece."""
    points, _ = _spline(pos)
    start = points[0]
    ahead = _bezier(points[:4], 0.1) if len(points) >= 4 else points[-1]
    along = math.atan2(ahead[1] - start[1], ahead[0] - start[0])
    dx, dy = anchor[0] - start[0], anchor[1] - start[1]
    angle = math.degrees(math.atan2(dy, dx) - along)
    angle = (angle + 180.0) % 360.0 - 180.0
    return angle, math.hypot(dx, dy) / 10.0
