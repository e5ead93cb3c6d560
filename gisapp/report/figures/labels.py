"""Collision-free label placement for figures: greedy, by priority, over candidate positions.

Why not adjustText: it moves labels iteratively and does not guarantee that no two boxes
overlap, and it drags labels away from their feature with leader lines; a planning figure wants
every label on (or next to) its feature and none overlapping. Here labels are placed in
priority order (cores, zones, belts, platforms, nodes, then base names); each tries its
candidate positions in turn and takes the first whose box (measured by the renderer, in display
pixels, with a small margin) lies inside the map and touches no placed label and no point
symbol; a label with no free candidate is left out and counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from matplotlib.axes import Axes
from matplotlib.transforms import Bbox


@dataclass
class Placer:
    """Places text labels on a map axes without overlaps.

    Attributes:
        ax: the map axes (data in EPSG:4547 metres); renderer: the figure's renderer;
        margin_px: free space kept around each label; placed: boxes of placed labels;
        obstacles: boxes of point symbols; skipped: names left out for lack of space.
    """

    ax: Axes
    renderer: Any
    margin_px: float = 3.0
    placed: list[Bbox] = field(default_factory=list)
    obstacles: list[Bbox] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def add_obstacle(self, x: float, y: float, radius_px: float) -> None:
        """Reserve a square of ``radius_px`` around data point (x, y) (a point symbol)."""
        px, py = self.ax.transData.transform((x, y))
        self.obstacles.append(Bbox.from_extents(px - radius_px, py - radius_px, px + radius_px, py + radius_px))

    def add_obstacle_box(self, x0: float, y0: float, x1: float, y1: float) -> None:
        """Reserve a rectangle given in data coordinates (EPSG:4547), e.g. the scale bar."""
        (a, b), (c, d) = self.ax.transData.transform([(x0, y0), (x1, y1)])
        self.obstacles.append(Bbox.from_extents(min(a, c), min(b, d), max(a, c), max(b, d)))

    def _free(self, box: Bbox) -> bool:
        axbox = self.ax.get_window_extent(self.renderer)
        if box.x0 < axbox.x0 or box.y0 < axbox.y0 or box.x1 > axbox.x1 or box.y1 > axbox.y1:
            return False
        grown = box.expanded(1.0, 1.0).padded(self.margin_px)
        return not any(grown.overlaps(b) for b in self.placed) and not any(box.overlaps(b) for b in self.obstacles)

    def place(
        self,
        text: str,
        candidates: list[tuple[float, float, float, float, str, str]],
        halo: list[Any] | None = None,
        **style: Any,
    ) -> bool:
        """Place ``text`` at the first free candidate.

        Args:
            text: the label; candidates: ``(x, y, dx_pt, dy_pt, ha, va)``: a data position in
                EPSG:4547, an offset in points and the alignment; halo: path effects of a white copy
                drawn underneath (e.g. ``withStroke``); style: ``Axes.annotate`` keywords.

        Returns:
            True if placed; False (and the text added to ``skipped``) if no candidate was free.
        """
        for x, y, dx, dy, ha, va in candidates:
            artist = self.ax.annotate(
                text, (x, y), xytext=(dx, dy), textcoords="offset points", ha=ha, va=va, annotation_clip=False, **style
            )
            box = artist.get_window_extent(self.renderer)
            if self._free(box):
                self.placed.append(box)
                if halo:
                    # the halo is a white copy underneath: text drawn with path effects becomes outlines
                    # in a PDF, so the label itself stays plain text (extractable, searchable)
                    under = {**style, "color": "white", "zorder": artist.get_zorder() - 0.01}
                    self.ax.annotate(
                        text,
                        (x, y),
                        xytext=(dx, dy),
                        textcoords="offset points",
                        ha=ha,
                        va=va,
                        annotation_clip=False,
                        path_effects=halo,
                        **under,
                    )
                return True
            artist.remove()
        self.skipped.append(text)
        return False
