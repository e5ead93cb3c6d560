"""Find the spatial-structure sections of a plan and the 专栏 (boxed tables) that list places.

A *spatial section* is a heading whose title speaks of the spatial structure (空间格局, 空间布局,
发展格局, 空间集聚, 空间重构 …) with everything up to the next heading of the same or a higher
level; when such a heading is a 节 of a chapter, the whole chapter is taken (the 火炬 plan spreads
its structure over the 节 of one chapter). A *place 专栏* is a 专栏 whose title names platforms,
hubs, parks, bases or venues (平台, 枢纽布局, 园区, 基地, 场馆 …); it runs to the next heading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gisapp.plans.draft.text import is_heading

#: Title words of a spatial-structure section.
SPATIAL_TITLE = re.compile(
    r"空间格局|空间布局|发展格局|空间集聚|空间重构|空间优化|空间结构|区域布局|功能区布局|总体布局"
)
#: Title words that make a heading with a spatial word no spatial section (e.g. 新发展格局 of 双循环).
NON_SPATIAL_TITLE = re.compile(r"双循环|开放")
#: Title words of a 专栏 that lists places.
PLACE_COLUMN = re.compile(r"平台|布局|布点|园区|基地|场馆|集聚区|片区|功能区")
#: Title words of a 专栏 that lists no places (policies, indicators, work items).
NON_PLACE_COLUMN = re.compile(r"指标|政策|领域|思路|改造|工作|路径|任务|农业")
#: A table-of-contents entry (a title followed by dots or a page number).
TOC_ENTRY = re.compile(r"(\.{3,}|…{2,}|\d+)$")
#: A prose paragraph's opening: a short lead sentence followed by more text (the end of a 专栏).
PROSE_LEAD = re.compile(r"^[^，。ꎬꎮ：:]{2,14}[。ꎮ].{20,}")
_LEVELS: list[tuple[re.Pattern[str], int]] = [
    (re.compile(r"^第[一二三四五六七八九十百]+章"), 1),
    (re.compile(r"^[一二三四五六七八九十]+、"), 2),
    (re.compile(r"^第[一二三四五六七八九十百]+节"), 3),
    (re.compile(r"^[（(][一二三四五六七八九十]+[）)]"), 3),
    (re.compile(r"^专栏\s*\d+"), 5),
    (re.compile(r"^\d+\s*[、.．]"), 4),
]


@dataclass(frozen=True)
class Section:
    """A part of the plan the draft reads.

    Attributes:
        title: the heading, whitespace and Markdown marks removed.
        first, last: the 1-based first (the heading) and last line.
        kind: ``section`` (spatial structure) or ``column`` (a 专栏 that lists places).
    """

    title: str
    first: int
    last: int
    kind: str


def _clean(raw: str) -> str:
    return re.sub(r"\s+", "", re.sub(r"^#+", "", raw.strip()).replace("**", ""))


def heading_level(raw: str) -> int | None:
    """The level of a heading line (1 chapter … 5 专栏), or None for a line that is no heading.

    A Markdown heading without numbering counts by its number of ``#`` (at least level 2).
    """
    if not is_heading(raw):
        return None
    title = _clean(raw)
    for pattern, level in _LEVELS:
        if pattern.match(title):
            return level
    marks = len(raw.strip()) - len(raw.strip().lstrip("#"))
    return max(2, marks) if marks and len(title) <= 40 else None


def _column_end(lines: list[str], first: int, last: int) -> int:
    """The last line of a 专栏: before the next heading or the first prose paragraph after it."""
    for number in range(first + 1, last + 1):
        if PROSE_LEAD.match(_clean(lines[number - 1])):
            return number - 1
    return last


def find_sections(lines: list[str]) -> list[Section]:
    """The spatial sections and place 专栏 of a plan, in line order, without overlaps.

    Args:
        lines: the plan's lines (:func:`gisapp.plans.draft.readers.read_plan_lines`).

    Returns:
        the sections; a 专栏 inside a spatial section is not listed separately.
    """
    heads = [(i + 1, lvl, _clean(raw)) for i, raw in enumerate(lines) if (lvl := heading_level(raw)) is not None]

    def end_of(k: int, level: int) -> int:
        for number, lvl, _ in heads[k + 1 :]:
            if lvl <= level:
                return number - 1
        return len(lines)

    def column_end_heading(k: int) -> int:
        for number, lvl, _ in heads[k + 1 :]:
            if lvl in (1, 3, 5):  # a column's own lists may be numbered 一、二、
                return number - 1
        return len(lines)

    found: list[Section] = []
    seen: set[str] = set()
    for k, (number, level, title) in enumerate(heads):
        if TOC_ENTRY.search(title):
            continue
        if level <= 3 and len(title) <= 60 and SPATIAL_TITLE.search(title) and not NON_SPATIAL_TITLE.search(title):
            first, lvl = number, level
            if level == 3:  # a 节: take its chapter when there is one
                parent = [(n, lv, t) for n, lv, t in heads[:k] if lv == 1]
                if parent:
                    first, lvl = parent[-1][0], 1
            kk = next(i for i, h in enumerate(heads) if h[0] == first)
            body = {n for n, _, _ in heads}
            last = end_of(kk, lvl)
            if title in seen or not any(lines[n - 1].strip() and n not in body for n in range(first, last + 1)):
                continue  # a table-of-contents entry, or the same heading repeated (e.g. in a table of duties)
            seen.add(title)
            found.append(Section(_clean(lines[first - 1]), first, end_of(kk, lvl), "section"))
        elif level == 5 and PLACE_COLUMN.search(title) and not NON_PLACE_COLUMN.search(title):
            found.append(Section(title, number, _column_end(lines, number, column_end_heading(k)), "column"))
    found.sort(key=lambda s: (s.first, -s.last))
    merged: list[Section] = []
    for s in found:
        if merged and s.first <= merged[-1].last:
            if s.last > merged[-1].last:
                prev = merged[-1]
                merged[-1] = Section(prev.title, prev.first, s.last, prev.kind)
            continue
        merged.append(s)
    return merged
