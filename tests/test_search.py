"""gisapp.plans.search: name and pinyin search over the layers (no Flask)."""

from __future__ import annotations

import pytest

from gisapp.plans.search import (
    EXACT,
    INITIALS,
    PINYIN_EXACT,
    PINYIN_PREFIX,
    PREFIX,
    SUBSTRING,
    Entry,
    SearchIndex,
    feature_entries,
    normalise,
    pinyin_keys,
)
from gisapp.web.map_layers import store_view
from tests.helpers import BUNDLED

pypinyin = pytest.importorskip("pypinyin", reason="pinyin keys need pypinyin")


def _entry(name: str, name_en: str = "", kind: str = "town", aliases: list[str] | None = None) -> Entry:
    return Entry(name=name, name_en=name_en, kind=kind, layer="l", id=name, bbox=[0, 0, 1, 1], aliases=aliases or [])


@pytest.fixture(scope="module")
def index() -> SearchIndex:
    """The index over the bundled layers (as the web layer builds it)."""
    view = store_view(BUNDLED)
    entries = []
    for layer in view.layers():
        rows = ((layer.ids[i], layer.props[i], layer.feature_bounds(i)) for i in range(len(layer.ids)))
        entries += feature_entries(layer.meta.id, layer.meta.kind, rows)
    return SearchIndex(entries)


def test_normalise() -> None:
    assert normalise(" Xiǎo Lǎn ") == "xiaolan"
    assert normalise("xiao'lan-zhen") == "xiaolanzhen"
    assert normalise("Lǜ") == "lv"
    assert normalise("小榄 镇") == "小榄镇"
    assert normalise("ＸＩＡＯ") == "xiao"  # full-width letters (Chinese input methods)


def test_pinyin_keys_cover_every_reading() -> None:
    full, initials = pinyin_keys("小榄镇")
    assert full == ["xiaolanzhen"] and initials == ["xlz"]
    full, initials = pinyin_keys("大涌镇")  # 涌: yǒng, and chōng in Cantonese-area place names
    assert "dayongzhen" in full and "dachongzhen" in full
    assert "dyz" in initials and "dcz" in initials
    assert pinyin_keys("Guzhen") == ([], [])


def test_match_qualities() -> None:
    e = _entry("小榄镇", "Xiaolan Town", aliases=["小榄"])
    e.prepare()
    assert e.match(normalise("小榄")) == EXACT  # the short name
    assert e.match(normalise("小")) == PREFIX
    assert e.match(normalise("榄镇")) == SUBSTRING
    assert e.match(normalise("xiaolanzhen")) == PINYIN_EXACT
    assert e.match(normalise("xiaolan")) == PINYIN_EXACT  # the English name without "Town"
    assert e.match(normalise("xiaol")) == PINYIN_PREFIX
    assert e.match(normalise("xl")) == INITIALS
    assert e.match(normalise("x")) == PINYIN_PREFIX
    assert e.match(normalise("大涌")) is None
    assert e.match(normalise("dong")) is None
    assert e.match("") is None


def test_ranking_prefers_better_matches_then_towns() -> None:
    idx = SearchIndex(
        [
            _entry("小榄园（示意区块）", kind="control_line"),
            _entry("小榄-古镇-横栏产业带", kind="structure"),
            _entry("小榄镇", "Xiaolan Town", aliases=["小榄"]),
            _entry("东凤镇", "Dongfeng Town"),
        ]
    )
    assert [e.name for e in idx.search("小榄")] == ["小榄镇", "小榄-古镇-横栏产业带", "小榄园（示意区块）"]
    assert [e.name for e in idx.search("小榄", limit=1)] == ["小榄镇"]
    assert [e.name for e in idx.search("df")] == ["东凤镇"]
    assert idx.search("   ") == []
    assert idx.search("<script>") == []


def test_bundled_towns_districts_and_zones(index: SearchIndex) -> None:
    first = index.search("小榄")[0]
    assert (first.name, first.kind, first.layer) == ("小榄镇", "town", "zs-towns")
    assert index.search("xiaolan")[0].name == "小榄镇"
    assert index.search("Xiǎolǎn")[0].name == "小榄镇"
    assert index.search("石岐")[0].name == "石岐街道"
    assert index.search("shiqi")[0].name == "石岐街道"
    assert index.search("dachong")[0].name == "大涌镇"
    tianhe = index.search("天河")[0]
    # 天河区 is found in base-prd-district (every district of the delta, with English names)
    assert (tianhe.name, tianhe.kind) == ("天河区", "district")
    assert tianhe.layer == "base-prd-district"  # base-district is kept for the structures, not drawn or searched
    assert index.search("tianhe")[0].name == "天河区"
    zone = index.search("西北部生产性服务业标杆区")[0]
    assert (zone.kind, zone.layer) == ("structure", "zs-services-structure")
    assert index.search("cuiheng")[0].name == "翠亨新区"
    block = next(e for e in index.search("ZS-IL-05", limit=50) if e.kind == "control_line")
    assert block.id == "ZS-IL-05"
    d = index.search("小榄")[0].to_dict()
    assert d["kind_zh"] == "镇街" and d["kind_en"] == "town" and len(d["bbox"]) == 4
