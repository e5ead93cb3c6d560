"""A plan's lines as one normalised character stream that remembers where every character came from.

PDF extraction breaks lines inside words and writes punctuation in private forms (``ꎬ ꎮ ꎻ`` for
``，。；``, full-width digits, spaces between characters). :class:`PlanText` joins the lines of a
paragraph, drops whitespace, maps those forms to the ordinary ones one character for one, and
keeps for every character its 1-based source line, so that a name found in the stream can be
quoted verbatim (:meth:`PlanText.verbatim`) and located (:meth:`PlanText.line_of`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: One-for-one replacements applied to the stream (PDF-extraction forms → ordinary punctuation).
CHAR_MAP: dict[str, str] = {
    "ꎬ": "，",
    "ꎮ": "。",
    "ꎻ": "；",
    "ꎰ": "：",
    "\U001001b0": ".",  # the private full stop of 1􀆰 in the 广州 plan's extraction
    "｡": "。",
    ",": "，",
    ":": "：",
    ";": "；",
    "(": "（",
    ")": "）",
    '"': "“",
}
#: Characters that end a sentence in the stream.
SENTENCE_END = "。；！？"
#: A line that is a heading (numbered, 第…章/节, 专栏, or a Markdown heading).
HEADING = re.compile(
    r"^(#+\s*|\*\*)?\s*(第[一二三四五六七八九十百]+[章节]|[一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[）)]"
    r"|\d+\s*[、.．]|专栏\s*\d+)"
)
_FULLWIDTH = {chr(0xFF10 + i): str(i) for i in range(10)} | {chr(0xFF21 + i): chr(0x41 + i) for i in range(26)}
_FULLWIDTH |= {"＋": "+", "－": "-", "．": "."}


def _map_char(ch: str) -> str:
    return CHAR_MAP.get(ch) or _FULLWIDTH.get(ch) or ch


def _line_text(raw: str) -> str:
    """A line without Markdown emphasis/heading marks and whitespace."""
    return "".join(ch for ch, _ in _kept(raw))


def _kept(raw: str) -> list[tuple[str, int]]:
    """The characters of a line the stream keeps, each with its index in the line without whitespace.

    Whitespace, a leading Markdown heading mark (``###``) and emphasis marks (``**``) are dropped; the
    index lets a quotation run from the raw line's characters, marks included (as ``gisapp validate``
    compares them).
    """
    squashed = re.sub(r"\s+", "", raw)
    lead = len(squashed) - len(squashed.lstrip("#"))
    out: list[tuple[str, int]] = []
    i = lead
    while i < len(squashed):
        if squashed.startswith("**", i):
            i += 2
            continue
        out.append((squashed[i], i))
        i += 1
    return out


def is_heading(raw: str) -> bool:
    """Whether a raw line is a heading (numbered, 第…章/节, 专栏, or a Markdown heading)."""
    s = raw.strip()
    return bool(s) and (s.startswith("#") or bool(HEADING.match(s)))


@dataclass
class PlanText:
    """The plan as one stream of characters, paragraphs separated by ``\\n``.

    Attributes:
        lines: the raw lines (line ``i`` is ``lines[i - 1]``).
        text: the normalised stream (no whitespace; ``\\n`` between paragraphs).
        origin: for every character of ``text``, its 1-based line.
        position: for every character of ``text``, its index in its line with whitespace removed.
    """

    lines: list[str]
    text: str = ""
    origin: list[int] = field(default_factory=list)
    position: list[int] = field(default_factory=list)

    @classmethod
    def from_lines(cls, lines: list[str]) -> PlanText:
        """Build the stream: a line is joined to the previous one when that one was wrapped.

        A line continues the previous one when the previous is not a heading, does not end a
        sentence or a label (``。；：:``) and is at least 18 characters long (a wrapped line);
        otherwise a paragraph break ``\\n`` separates them.
        """
        chars: list[str] = []
        origin: list[int] = []
        where: list[int] = []
        prev = ""
        prev_heading = True
        for number, raw in enumerate(lines, start=1):
            body = _line_text(raw)
            if not body:
                continue
            heading = is_heading(raw)
            wrapped = (
                not prev_heading and not heading and len(prev) >= 18 and _map_char(prev[-1]) not in SENTENCE_END + "：:"
            )
            if chars and not wrapped:
                chars.append("\n")
                origin.append(number)
                where.append(0)
            for ch, pos in _kept(raw):
                chars.append(_map_char(ch))
                origin.append(number)
                where.append(pos)
            prev, prev_heading = body, heading
        return cls(lines=lines, text="".join(chars), origin=origin, position=where)

    def line_of(self, index: int) -> int:
        """The 1-based source line of the stream character at ``index``."""
        return self.origin[min(max(index, 0), len(self.origin) - 1)]

    def verbatim(self, start: int, end: int) -> str:
        """The raw text (whitespace removed) of the stream characters ``start``..``end`` (exclusive).

        The raw lines (whitespace removed, Markdown marks kept) from the line of ``start`` to that of
        ``end - 1`` are cut at the same characters, so the quotation is verbatim from the plan as
        :func:`gisapp.plans.validate.sentence_at_line` reads it.
        """
        while start < end and self.text[start] == "\n":
            start += 1
        while end > start and self.text[end - 1] == "\n":
            end -= 1
        if start >= end:
            return ""
        first, last = self.line_of(start), self.line_of(end - 1)
        squashed = [re.sub(r"\s+", "", self.lines[n - 1]) for n in range(first, last + 1)]
        if first == last:
            return squashed[0][self.position[start] : self.position[end - 1] + 1]
        return (
            squashed[0][self.position[start] :] + "".join(squashed[1:-1]) + squashed[-1][: self.position[end - 1] + 1]
        )

    def sentence_span(self, index: int) -> tuple[int, int]:
        """The ``[start, end)`` of the sentence holding ``index`` (ends at 。；！？ or a paragraph break)."""
        start = index
        while start > 0 and self.text[start - 1] not in SENTENCE_END + "\n":
            start -= 1
        end = index
        while end < len(self.text) and self.text[end] not in SENTENCE_END + "\n":
            end += 1
        if end < len(self.text) and self.text[end] != "\n":
            end += 1
        return start, end

    def clause_start(self, index: int) -> int:
        """The start of the clause holding ``index`` (after the last ，：；。 or paragraph break)."""
        start = index
        while start > 0 and self.text[start - 1] not in SENTENCE_END + "，：\n":
            start -= 1
        return start
