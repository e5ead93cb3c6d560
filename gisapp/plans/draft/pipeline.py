"""``draft_plan``: a plan document in, a zone-file mapping out (every element ``status: draft``)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gisapp.core.errors import InputError
from gisapp.plans.draft.extract import Found, find_elements
from gisapp.plans.draft.lexicon import Lexicon
from gisapp.plans.draft.propose import Proposal, propose
from gisapp.plans.draft.readers import read_plan_lines
from gisapp.plans.draft.sections import Section, find_sections
from gisapp.plans.draft.text import PlanText
from gisapp.plans.validate import SENTENCE_SPAN_LINES
from gisapp.plans.zoneschema import LAYER_ID_PATTERN

#: Cities a plan's opening lines may name (the draft's default ``city``).
CITY_NAMES = re.compile(r"(广州|深圳|佛山|中山|珠海|东莞|江门|肇庆|惠州|汕头|湛江|韶关|清远)市?")
#: A quoted structure phrase (``"一核两带三区多点"``, ``"双核支撑、多区联动"``).
STRUCTURE_PHRASE = re.compile(r"[“\"]([^”\"]{3,24})[”\"][^。，]{0,12}(?:格局|布局|结构)")


@dataclass
class Draft:
    """A drafted zone file and what the draft found.

    Attributes:
        data: the zone-file mapping (write it with :func:`gisapp.plans.draft.writer.write_draft`).
        sections: the sections the draft read.
        found: the elements in file order, each with its proposal.
    """

    data: dict[str, Any]
    sections: list[Section]
    found: list[tuple[Found, Proposal]] = field(default_factory=list)


def guess_city(lines: list[str]) -> str:
    """The city named first in the plan's first 40 lines (``佛山市南海区…`` → ``佛山市``).

    Raises:
        InputError: code ``unknown_city`` when none is named (pass ``--city``).
    """
    for line in lines[:40]:
        m = CITY_NAMES.search(line)
        if m:
            return m.group(1) + "市"
    raise InputError("the plan names no city in its first lines: pass --city (e.g. --city 中山市)", code="unknown_city")


def element_id(name: str, taken: set[str]) -> str:
    """A unique ASCII id for an element: the pinyin of its name, lower case, joined by ``-`` (≤ 48 chars)."""
    from pypinyin import lazy_pinyin

    base = "-".join(s for s in (re.sub(r"[^a-z0-9]", "", w.lower()) for w in lazy_pinyin(name)) if s)[:48] or "element"
    base = base.strip("-") or "element"
    out, k = base, 2
    while out in taken:
        out, k = f"{base}-{k}", k + 1
    taken.add(out)
    return out


def _layer_id(candidate: str) -> str:
    slug = re.sub(r"[^a-z0-9-]+", "-", candidate.lower()).strip("-")[:64] or "draft-plan"
    if not re.match(LAYER_ID_PATTERN, slug):
        slug = ("draft-" + slug)[:64]
    return slug


def _structure(pt: PlanText, sections: list[Section]) -> tuple[str, str]:
    spatial = [s for s in sections if s.kind == "section"] or sections
    title = spatial[0].title if spatial else "空间格局"
    for text in [title] + [pt.text[i : i + 400] for i, n in enumerate(pt.origin) if spatial and n == spatial[0].first][
        :1
    ]:
        m = STRUCTURE_PHRASE.search(text)
        if m:
            return m.group(1), title
    return title, title


def draft_plan(path: Path, city: str | None = None, layer_id: str | None = None, plan_name: str | None = None) -> Draft:
    """Draft the zone file of a plan.

    Args:
        path: the plan (``.txt``, ``.docx`` or text-layer ``.pdf``).
        city: the plan's city (default: the first city its opening lines name).
        layer_id: the layer id (default: from the plan's file name).
        plan_name: the plan file's name as the zone file records it (default ``path.name``).

    Returns:
        the :class:`Draft`; its ``data`` validates against :class:`gisapp.plans.zoneschema.Definition`.

    Raises:
        InputError: an unreadable plan, or no city named and none given.
    """
    lines = read_plan_lines(path)
    city = city or guess_city(lines)
    lex = Lexicon.load(city)
    pt = PlanText.from_lines(lines)
    sections = find_sections(lines)
    found = find_elements(pt, sections, lex)
    structure, section = _structure(pt, sections)
    head = " ".join(lines[:5])
    plan_district = next((d for d in lex.districts if d in head), None)
    taken: set[str] = set()
    elements: list[dict[str, Any]] = []
    draft = Draft(data={}, sections=sections)
    for f in found:
        proposal = propose(f, lex, f.zone_units, plan_district)
        draft.found.append((f, proposal))
        clause = pt.clause_start(f.index)
        if pt.line_of(f.index + len(f.name) - 1) > pt.line_of(clause) + SENTENCE_SPAN_LINES:
            clause = f.index  # a long list: quote from the name itself
        _, end = pt.sentence_span(f.index)
        limit = pt.line_of(clause) + SENTENCE_SPAN_LINES  # a quotation validate can check (it reads 8 lines on)
        while end > f.index + len(f.name) and pt.line_of(end - 1) > limit:
            end -= 1
        element: dict[str, Any] = {
            "id": element_id(f.name, taken),
            "name": f.name,
            "role": f.role,
            "section": f.section,
            "plan_line": pt.line_of(clause),
            "sentence": pt.verbatim(clause, end),
            "status": "draft",
            "geometry": proposal.geometry,
        }
        if f.plan_names:
            element["plan_names"] = list(f.plan_names)
        elements.append(element)
    titled = [ln.strip() for ln in lines[:60] if re.search(r"规划|方案|纲要", ln) and len(ln.strip()) <= 80]
    title = (titled or [path.stem])[0]
    draft.data = {
        "id": _layer_id(layer_id or path.stem),
        "city": city,
        "plan": plan_name or path.name,
        "plan_title": re.sub(r"\s+", "", title),
        "structure": structure,
        "section": section,
        "elements": elements,
    }
    return draft
