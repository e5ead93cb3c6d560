"""Search for towns, districts, named places and zones by Chinese name or pinyin (no Flask here).

The index holds every named feature of the layer store (towns, districts, cities, structure
elements, control-line blocks, features of any other layer) and, when ``data/gazetteer.csv`` is
there, the gazetteer's named places. Each entry is matched on:

* its Chinese name and short name (``小榄镇``, ``小榄``): exact, prefix or substring;
* pinyin of those names, without tones or spaces (``xiaolanzhen``), every reading of a heteronym
  (``大涌`` → ``dayong`` and ``dachong``), and their initials (``xlz``), through :mod:`pypinyin`;
* its English name (``Xiaolan Town`` → ``xiaolantown``), which also carries local readings.

Without :mod:`pypinyin` installed the index still works on Chinese and English names.
Results are ranked by match quality, then by kind (:data:`KIND_RANK`: towns and districts before
zones, places and blocks), then by name length.
"""

from __future__ import annotations

import itertools
import logging
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

#: Rank of a hit's kind (lower first) when two hits match equally well.
KIND_RANK: dict[str, int] = {
    "town": 0,
    "district": 1,
    "city": 2,
    "structure": 3,
    "place": 4,
    "control_line": 5,
    "other": 6,
    "province": 7,
}
#: Kind labels (Chinese, English) for the result list.
KIND_LABELS: dict[str, tuple[str, str]] = {
    "town": ("镇街", "town"),
    "district": ("区", "district"),
    "city": ("市", "city"),
    "province": ("省", "province"),
    "structure": ("规划分区", "plan element"),
    "place": ("地点", "place"),
    "control_line": ("控制线区块", "control-line block"),
    "other": ("要素", "feature"),
}
#: Match qualities, best first.
EXACT, PREFIX, SUBSTRING, PINYIN_EXACT, PINYIN_PREFIX, INITIALS, PINYIN_SUBSTRING = range(7)
MAX_READINGS = 16
_HAN = re.compile(r"[\u3400-\u9fff]")


def _pypinyin() -> Any:
    try:
        import pypinyin
    except ImportError:  # pragma: no cover - depends on the environment
        return None
    return pypinyin


def normalise(text: str) -> str:
    """Normalise a query or a key: NFKC, lower case, no spaces, apostrophes, hyphens or tone marks.

    Args:
        text: any text (``"Xiǎo Lǎn"``, ``"xiao'lan"``, ``"小榄 "``).

    Returns:
        e.g. ``"xiaolan"``, ``"小榄"``; ``ü`` becomes ``v`` (pypinyin's convention).
    """
    text = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", text).lower()).replace("u\u0308", "v")
    text = unicodedata.normalize("NFC", "".join(c for c in text if unicodedata.category(c) != "Mn"))
    return re.sub(r"[\s'’\-_·.,，。()（）]+", "", text)


def pinyin_keys(name: str) -> tuple[list[str], list[str]]:
    """Pinyin spellings of a Chinese name.

    Args:
        name: e.g. ``"大涌镇"``; characters that are not Han are kept as they are (normalised).

    Returns:
        ``(full, initials)``: every reading without tones or separators (at most
        :data:`MAX_READINGS`), e.g. ``(["dayongzhen", "dachongzhen"], ["dyz", "dcz"])``; two empty
        lists when :mod:`pypinyin` is not installed or the name has no Han character.
    """
    pp = _pypinyin()
    if pp is None or not _HAN.search(name):
        return [], []
    readings = pp.pinyin(name, style=pp.Style.NORMAL, heteronym=True, errors=lambda s: [normalise(s)])
    full, initials = [], []
    for combo in itertools.islice(itertools.product(*[r or [""] for r in readings]), MAX_READINGS):
        syllables = [normalise(s) for s in combo]
        full.append("".join(syllables))
        initials.append("".join(s[:1] for s in syllables))
    return list(dict.fromkeys(full)), list(dict.fromkeys(initials))


@dataclass
class Entry:
    """One searchable thing.

    Attributes:
        name: Chinese name (shown first).
        name_en: English name ("" if none).
        kind: a key of :data:`KIND_LABELS`.
        layer: layer id ("" for gazetteer places).
        id: the feature's display id (the place's name for places).
        bbox: ``[minlon, minlat, maxlon, maxlat]`` (WGS 84).
        context: a short hint shown under the name (e.g. the town a place lies in).
        aliases: other Chinese names matched like the name (e.g. the short name ``小榄``).
    """

    name: str
    name_en: str
    kind: str
    layer: str
    id: str
    bbox: list[float]
    context: str = ""
    aliases: list[str] = field(default_factory=list)
    _han: list[str] = field(default_factory=list, repr=False)
    _pinyin: list[str] = field(default_factory=list, repr=False)
    _initials: list[str] = field(default_factory=list, repr=False)
    _latin: list[str] = field(default_factory=list, repr=False)

    def prepare(self) -> None:
        """Compute the match keys (called by :class:`SearchIndex`)."""
        names = [n for n in [self.name, *self.aliases] if n]
        self._han = [normalise(n) for n in names]
        for n in names:
            full, initials = pinyin_keys(n)
            self._pinyin += full
            self._initials += initials
        if self.name_en:
            en = normalise(self.name_en)
            self._latin = [en]
            for suffix in ("subdistrict", "town", "district", "city", "province", "newarea"):
                if en.endswith(suffix) and len(en) > len(suffix):
                    self._latin.append(en[: -len(suffix)])

    def match(self, q: str) -> int | None:
        """Return the match quality of a normalised query (lower is better), or None."""
        if not q:
            return None
        if any(q == h for h in self._han):
            return EXACT
        if any(h.startswith(q) for h in self._han):
            return PREFIX
        if any(q in h for h in self._han):
            return SUBSTRING
        if _HAN.search(q):
            return None
        latin = self._pinyin + self._latin
        if any(q == k for k in latin):
            return PINYIN_EXACT
        if any(k.startswith(q) for k in latin):
            return PINYIN_PREFIX
        if len(q) >= 2 and any(k.startswith(q) for k in self._initials):
            return INITIALS
        if len(q) >= 3 and any(q in k for k in latin):
            return PINYIN_SUBSTRING
        return None

    def to_dict(self) -> dict[str, Any]:
        """The hit as JSON-ready data (``name, name_en, kind, kind_zh, kind_en, layer, id, bbox, context``)."""
        zh, en = KIND_LABELS.get(self.kind, KIND_LABELS["other"])
        return {
            "name": self.name,
            "name_en": self.name_en,
            "kind": self.kind,
            "kind_zh": zh,
            "kind_en": en,
            "layer": self.layer,
            "id": self.id,
            "bbox": self.bbox,
            "context": self.context,
        }


class SearchIndex:
    """An in-memory name and pinyin index.

    Args:
        entries: the searchable things (their keys are computed here).
    """

    def __init__(self, entries: Iterable[Entry]) -> None:
        self.entries = list(entries)
        for e in self.entries:
            e.prepare()

    def __len__(self) -> int:
        return len(self.entries)

    def search(self, query: str, limit: int = 10) -> list[Entry]:
        """Find entries by Chinese name or pinyin.

        Args:
            query: e.g. ``"小榄"``, ``"xiaolan"``, ``"Xiǎolǎn"``, ``"xl"``; blank gives no hit.
            limit: the most hits returned (≥ 1).

        Returns:
            hits, best first (match quality, :data:`KIND_RANK`, shorter name, name).
        """
        q = normalise(query or "")
        if not q:
            return []
        scored = []
        for e in self.entries:
            quality = e.match(q)
            if quality is not None:
                scored.append((quality, KIND_RANK.get(e.kind, 6), len(e.name), e.name, e))
        scored.sort(key=lambda t: t[:4])
        return [t[4] for t in scored[: max(1, limit)]]


def feature_kind(layer_kind: str, props: Mapping[str, Any]) -> str:
    """Search kind of a feature: ``town`` for the town layer, the ``level`` (district, city, province)
    of a base layer, ``structure``/``control_line`` for those layers, else ``other``."""
    if layer_kind == "towns":
        return "town"
    if layer_kind == "base":
        level = str(props.get("level") or "")
        return level if level in ("district", "city", "province") else "other"
    if layer_kind in ("structure", "control_line"):
        return layer_kind
    return "other"


def place_entries(places: Mapping[str, Any]) -> list[Entry]:
    """Entries for gazetteer places (:class:`gisapp.plans.gazetteer.Place` values, or anything with
    ``name, lon, lat, city, within``); the box is ±0.01° around the point."""
    out = []
    for p in places.values():
        d = 0.01
        out.append(
            Entry(
                name=p.name,
                name_en="",
                kind="place",
                layer="",
                id=p.name,
                bbox=[p.lon - d, p.lat - d, p.lon + d, p.lat + d],
                context="、".join(x for x in (p.city, p.within) if x),
            )
        )
    return out


def load_places() -> dict[str, Any]:
    """The bundled gazetteer's places, or ``{}`` when there is none (or it cannot be read: logged)."""
    try:
        from gisapp.plans.gazetteer import gazetteer_path, load_gazetteer
    except ImportError:  # pragma: no cover - the gazetteer module is optional
        return {}
    path = gazetteer_path()
    if not path.is_file():
        return {}
    try:
        return load_gazetteer(path)
    except Exception as exc:  # a broken gazetteer must not break the map's search
        log.warning("gazetteer not searchable: %s", exc)
        return {}


def feature_entries(
    layer_id: str, layer_kind: str, features: Iterable[tuple[str, Mapping[str, Any], list[float]]]
) -> list[Entry]:
    """Entries for the named features of one layer.

    Args:
        layer_id: the layer's id; layer_kind: its ``kind`` (see :func:`feature_kind`).
        features: ``(feature id, properties, [minlon, minlat, maxlon, maxlat])`` per feature; a
            feature without ``name`` (nor ``block_id``) is skipped.

    Returns:
        one :class:`Entry` per named feature; ``short_name`` becomes an alias; the context is the
        city (districts, towns), the structure (plan elements) or the town (control-line blocks).
    """
    out = []
    for fid, props, bbox in features:
        name = str(props.get("name") or props.get("block_id") or "").strip()
        if not name:
            continue
        kind = feature_kind(layer_kind, props)
        aliases = [str(props[k]).strip() for k in ("short_name", "block_id", "carrier") if props.get(k)]
        context = ""
        for key in ("city", "structure", "town", "plan_title"):
            if props.get(key) and str(props[key]) != name:
                context = str(props[key])
                break
        out.append(
            Entry(
                name=name,
                name_en=str(props.get("name_en") or ""),
                kind=kind,
                layer=layer_id,
                id=fid,
                bbox=bbox,
                context=context,
                aliases=[a for a in aliases if a != name],
            )
        )
    return out
