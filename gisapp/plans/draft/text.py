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
    line = re.sub(r"^#+\s*", "", raw.strip())
    return re.sub(r"\s+", "", line.replace("**", ""))


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
    """

    lines: list[str]
    text: str = ""
    origin: list[int] = field(default_factory=list)

    @classmethod
    def from_lines(cls, lines: list[str]) -> PlanText:
        """Build the stream: a line is joined to the previous one when that one was wrapped.

        A line continues the previous one when the previous is not a heading, does not end a
        sentence or a label (``。；：:``) and is at least 18 characters long (a wrapped line);
        otherwise a paragraph break ``\\n`` separates them.
        """
        chars: list[str] = []
        origin: list[int] = []
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
            for ch in body:
                chars.append(_map_char(ch))
                origin.append(number)
            prev, prev_heading = body, heading
        return cls(lines=lines, text="".join(chars), origin=origin)

    def line_of(self, index: int) -> int:
        """The 1-based source line of the stream character at ``index``."""
        return self.origin[min(max(index, 0), len(self.origin) - 1)]

    def verbatim(self, start: int, end: int) -> str:
        """The raw text (whitespace removed) of the stream characters ``start``..``end`` (exclusive).

        The raw lines are concatenated from the line of ``start`` to that of ``end - 1``, then
        cut at the same characters, so the quotation is verbatim from the plan.
        """
        first, last = self.line_of(start), self.line_of(end - 1)
        raw = "".join(_line_text(self.lines[n - 1]) for n in range(first, last + 1))
        skip = sum(1 for i in range(start) if self.origin[i] == first and self.text[i] != "\n")
        length = sum(1 for i in range(start, end) if self.text[i] != "\n")
        return raw[skip : skip + length]

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
