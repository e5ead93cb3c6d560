"""A CJK font for figures: found on the system, never downloaded at run time.

Figures are drawn with matplotlib. A PDF keeps its text extractable (and searchable in a
report) only when the font is embedded as TrueType (``pdf.fonttype = 42``); matplotlib embeds
fonts with CFF outlines (Noto Sans CJK's ``.ttc``) as Type 3, whose CJK glyphs are drawn, not
written. So TrueType CJK fonts come first: Debian's ``fonts-wqy-zenhei`` (installed by
``scripts/test.sh`` and ``scripts/serve.sh``), then ``fonts-wqy-microhei``; Noto Sans CJK is
accepted as a last resort (PNG fine, PDF text not extractable).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gisapp.core.errors import InputError
from gisapp.core.settings import Settings

#: Debian package that provides the preferred font (named in the error message).
FONT_PACKAGE = "fonts-wqy-zenhei"

#: Candidate font files, best first: (path, family name, TrueType outlines?).
CANDIDATES: tuple[tuple[str, str, bool], ...] = (
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", "WenQuanYi Zen Hei", True),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", "WenQuanYi Micro Hei", True),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "Noto Sans CJK JP", False),
)


@dataclass(frozen=True)
class CjkFont:
    """A CJK font file registered with matplotlib.

    Attributes:
        path: the font file; family: the family name matplotlib knows it by;
        truetype: True when PDF text stays extractable (TrueType outlines, embedded as Type 42).
    """

    path: Path
    family: str
    truetype: bool


_registered: CjkFont | None = None


def find_cjk_font() -> CjkFont:
    """Return the CJK font to draw figures with, registering it with matplotlib once.

    ``GISAPP_CJK_FONT`` (a ``.ttf``/``.ttc``/``.otf`` path) overrides the search.

    Raises:
        InputError: ``no_cjk_font`` (HTTP 424) when no CJK font is installed; the message names
            the Debian package to install.
    """
    global _registered
    if _registered is not None:
        return _registered
    import logging

    from matplotlib import font_manager

    # WenQuanYi's faces are "Medium" (500): matplotlib would warn on every text that it uses 500 for normal
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)

    override = Settings.load().cjk_font
    candidates = [(override, "", not override.lower().endswith(".otf"))] if override else list(CANDIDATES)
    for path, family, truetype in candidates:
        if not Path(path).is_file():
            continue
        font_manager.fontManager.addfont(path)
        names = [f.name for f in font_manager.fontManager.ttflist if f.fname == path]
        if not names:
            continue
        if family not in names:
            family = sorted(names, key=len)[0]
        _registered = CjkFont(Path(path), family, truetype)
        return _registered
    raise InputError(
        f"no CJK font for figures: install the Debian package {FONT_PACKAGE} (apt-get install {FONT_PACKAGE})"
        " or set GISAPP_CJK_FONT to a TrueType CJK font file",
        code="no_cjk_font",
        status=424,
    )
