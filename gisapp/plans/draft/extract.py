"""Find the named elements of a plan's spatial sections: names, roles, lines, sentences, members.

Rules, each one a pattern plans use (the drafting reads only :func:`.sections.find_sections`):

* **heading names** — a paragraph that opens with a name: ``1、翠亨新区``, ``东利片区：…``,
  ``前海深港现代服务业合作区。…``, ``2. 广州国际金融城片区规划定位为…``, ``**一心：**依托火炬中心区…``
  (a numbered structure label takes the first name of its paragraph, the label kept in ``plan_names``);
* **enumerations** — names listed with 、 (and 和/与/及 after a name) whose last words name a kind of
  place (区, 园, 城, 带, 廊, 枢纽, 基地, 中心, 实验室 …), the verbs before them (建设, 依托, 打造 …)
  stripped with jieba's part-of-speech tags; the items of a list closed by ``等…项目/平台/板块`` are
  names whatever their ending;
* **structure phrases** — ``"东进、西协、南联、北拓、中优"`` style phrases the plan calls its own 格局 or
  战略 (not one it adopts from the city: ``落实全市"…"``): one zone per item, its members the
  units named in the ``——东部…`` paragraph of the same direction;
* **member lists** — ``区域范围：包括小榄镇、东凤镇…`` (or ``包括火炬开发区全域``) under an element.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from gisapp.plans.draft.lexicon import Lexicon, short_unit_name
from gisapp.plans.draft.sections import Section
from gisapp.plans.draft.text import PlanText

#: Endings of a place name, longest first, with the role an element of that ending gets.
SUFFIX_ROLES: tuple[tuple[str, str], ...] = (
    ("产业带", "belt"),
    ("发展带", "belt"),
    ("经济带", "belt"),
    ("集聚带", "belt"),
    ("走廊", "corridor"),
    ("中轴线", "axis"),
    ("轴线", "axis"),
    ("合作区", "zone"),
    ("示范区", "zone"),
    ("功能区", "zone"),
    ("经济区", "zone"),
    ("试验区", "zone"),
    ("核心区", "core"),
    ("中心区", "core"),
    ("片区", "zone"),
    ("新区", "zone"),
    ("集聚区", "zone"),
    ("商务区", "zone"),
    ("枢纽", "node"),
    ("口岸", "node"),
    ("母港", "node"),
    ("实验室", "platform"),
    ("研究院", "platform"),
    ("研究中心", "platform"),
    ("装置", "platform"),
    ("设施", "platform"),
    ("风洞", "platform"),
    ("会址", "platform"),
    ("展馆", "platform"),
    ("小镇", "platform"),
    ("商圈", "platform"),
    ("基地", "platform"),
    ("园区", "platform"),
    ("之都", "platform"),
    ("大街", "platform"),
    ("金融街", "platform"),
    ("中心", "platform"),
    ("新城", "platform"),
    ("城", "platform"),
    ("园", "platform"),
    ("谷", "platform"),
    ("港", "node"),
    ("站", "node"),
    ("平台", "platform"),
    ("大道", "axis"),
    ("岛", "platform"),
    ("圈", "platform"),
    ("带", "belt"),
    ("廊", "corridor"),
    ("轴", "axis"),
    ("核", "core"),
    ("区", "zone"),
)
#: Words that end no name although they end with a suffix (generic kinds, not places).
GENERIC = re.compile(
    r"^(国际|区域|全市|全区|城市|产业|现代|高端|特色|重点|重大|一批|若干|各类|各|多个|本地|周边|示范|核心|中心|"
    r"镇村|村级|省级|市级|国家级|低效|各类园区|"
    r"新|该|此|其|大湾区|粤港澳大湾区|湾区)?(区|园|城|带|廊|轴|核|中心|基地|园区|片区|城区|镇区|新城|新区|"
    r"平台|集聚区|示范区|核心区|功能区|承载区|产业园|产业园区|服务区|合作区|实验室|研究院|枢纽|港|岛|圈|商圈|"
    r"工业园|工业园区|综保区|综合保税区|自贸区|保税区|中轴线|轴线|研发中心)$"
)
#: Openings stripped from an item (verbs, prepositions, adverbs of the plans' style), longest first.
LEAD = re.compile(
    r"^(?:(?:加快|推进|推动|全力|全面|高标准|高水平|高起点|积极|大力|重点|着力|稳步|依托|以|建设|打造|培育|提升|"
    r"优化|升级|发展|加强|做实|做强|做优|统筹|完善|支持|围绕|聚焦|布局|规划|包括|涵盖|形成|构建|实施|深化|"
    r"引导|促进|强化|共建|联手|携手|启动|争取|谋划|整合|改造|结合|发挥|将|把|由|在|向|与|和|及|以及|等|其中|"
    r"推动形成|位于|致力于建设|致力于|充分利用|充分发挥|充分|利用|申请纳入|申请|纳入|率先|持续|逐步|进一步|合理|加速|前瞻|协同|协力|联合|助力|探索|开展|实现|力争|设立|新建|"
    r"扩建|改扩建|对接|融入|服务|成为|作为|构筑|营造|完善|提高|打响|擦亮|集中|重点推进|全力打造|"
    r"加快推进|加快建设|高标准建设|高水平建设|规划建设|推动建设|着力推动|主动|深度|全面提升|优化提升|"
    r"提升优化|的|了|是|为|有|各|一批|若干)\s*)+"
)
#: Tails cut from an item (``…等为重要节点``, ``…为核心``, ``…建设``).
TAIL = re.compile(r"(等.*|为[^为]{0,8}$|(?<=[区园城带廊])为.*$|建设$|项目$|区域$|全域$|范围$|集聚$|(?<=[区园城])发展$)")
#: Verbs that separate the noun phrases of a clause (``将哈工大无人装备产业园建设成为…``, ``以起步区为核心打造…``).
CLAUSE_VERBS = re.compile(
    r"建设成为|打造成为|打造成|打造为|建成|成为|打造|依托|支持|推动|推进|聚焦|围绕|立足|加快|向|重点发展|大力发展|"
    r"共建|参与|融入|对接|致力于|形成|培育|纳入|结合|串接|串联|连接|"
    r"为(?:核心|依托|重点|主要载体|重要节点|引领|龙头|主体|支撑|抓手|目标|特色|主导|基础)"
)
#: Verbs after which come what a place is to become (titles, never places): ``建设成为中山城市副中心、…``.
BECOME_BEFORE = re.compile(r"(建设成为|打造成为|打造成|打造为|成为|建成|建设成)$")
#: Prefecture-level cities (short names): a name holding another city's is that city's, not the plan's.
CITY_SHORT = ("广州", "深圳", "珠海", "佛山", "东莞", "江门", "惠州", "肇庆", "中山", "汕头", "湛江", "清远", "韶关")
#: Verbs before a goal (what a place is to become, not a place): ``打造…的国际商务城``.
GOAL_VERBS = re.compile(r"(建设成为|打造成为|打造成|打造为|建成|成为|打造|形成|培育|共建)$")
#: A list closed by ``等 … 项目/平台/板块`` names places whatever their endings.
NAMED_LIST_TAIL = re.compile(
    r"^等(?!\d|[一二三四五六七八九十两]+[个大])[^，。；向在]{0,12}(项目|平台|板块|载体|节点|片区|区块|园区|设施|口岸|枢纽|要道)(建设|重建)?$"
)
#: A list closed by a count and a kind: ``中山站、中山北站两个TOD商务圈`` (each item + the kind).
COUNTED_KIND = re.compile(r"(两|三|四|五|六|七|八|九|十|\d+)个([^，。、]{2,12}?)(建设)?$")
#: jieba tags that mark a proper name, and words jieba tags so that are no proper names in plans.
PROPER_TAGS = ("ns", "nt", "nz", "j")
NOT_PROPER = frozenset(
    {"新区", "新城", "城市", "湾区", "宜居", "深度", "高科技", "工业集聚", "商务区", "大湾", "粤港澳", "中山"}
    | {"深中", "广佛", "珠西"}  # two-city and regional abbreviations: cooperation concepts, not places
)
#: Words before a list that make it a list of kinds, not of places (``布局一批…``).
CATEGORY_BEFORE = re.compile(r"(一批|若干|一流|多个|各类|一系列)[^，。]{0,20}$")
#: A numbered structure label (``一心``, ``四带``, ``多区``) heading a paragraph.
STRUCTURE_LABEL = re.compile(r"^[一二三四五六七八九十两多][心核廊带区轴片翼点]$")
#: A structure label's element named by a quoted phrase and a goal: ``依托"一江两岸"打造创新服务走廊``.
LABEL_PHRASE = re.compile(r"(?:依托|以)[“”]([^，。“”、]{2,10})[“”](?:打造|建设|形成)([^，。、“”]{2,16}?)(?=[，。]|$)")
#: A structure phrase of directions (``东进、西协、南联、北拓、中优``).
DIRECTION_PHRASE = re.compile(r"[“”\"]((?:[东西南北中][\u4e00-\u9fff](?:、|，)?){3,5})[“”\"]")
#: A structure phrase of numbered parts, listed with 、 (``"一江两岸、一体两翼"``).
NUMERAL_PHRASE = re.compile(
    r"[“”\"]((?:[一两二三四五六七八九十多][\u4e00-\u9fff][一两二三四五六七八九十多][\u4e00-\u9fff]、)+"
    r"[一两二三四五六七八九十多][\u4e00-\u9fff][一两二三四五六七八九十多][\u4e00-\u9fff])[“”\"]"
)
#: A counted structure (``打造四条城市发展带``): parts the plan does not name get placeholders.
COUNTED_STRUCTURE = re.compile(r"(?:打造|建设|形成)([两三四五六七八九十])(条|个)([^，。、]{2,10}?(?:带|廊|轴))")
_NUMERALS = {c: i for i, c in enumerate("一两三四五六七八九十", start=1)} | {"二": 2}
#: A stated area in km² (``总面积约81平方公里``).
AREA = re.compile(r"面积(?:约|为|达)?(\d+(?:\.\d+)?)平方公里")
#: A member sentence inside a heading's paragraph (after its name): ``。包括…，`` up to the clause's end.
MEMBER_INNER = re.compile(r"[。：]\s*(?:区域范围|空间范围|范围)?[：:]?(?:包括|包含|涵盖)([^，。；]*)")
#: ``X为Y行政范围``: the units of an element stated right after its name.
MEMBER_IS = re.compile(r"^为([^，。；]{2,20}?)(?:行政范围|全域|辖区)")
#: The sentence that lists an element's members.
MEMBER_SENTENCE = re.compile(r"^(?:区域范围|空间范围|范围)[：:]?(?:包括|包含|涵盖)?(.*)")
_NUMBERING = re.compile(r"^(?:\d+[、.．]|[一二三四五六七八九十]+、|[（(][一二三四五六七八九十\d]+[）)])")
_PREDICATE = re.compile(r"^(以|将|规划|重点|充分|支持|积极|加快|推动|围绕|依托|建设|打造|致力|定位|是|作为|[。，：；])")
_SEPARATORS = "，：；。\n"


#: Names that are regions, never elements of a plan's structure.
REGIONS = frozenset({"粤港澳大湾区", "大湾区", "珠三角", "珠江三角洲", "珠江口西岸", "广佛都市圈", "深港", "港澳"})
#: Endings of names that are no element (regions, activities).
NOT_ELEMENT = re.compile(
    r"(经济圈|都市圈|生活圈|入园|扩区)$|镇村|村级|^[东西南北中]部(镇区|城区|地区)$|不少于|\d+(万|亿)|学习|拥抱|建立|编制|实施"
)
#: Verbs after which a name is another's (a region the plan joins): ``全面融入并参与南沙新区建设``.
EXTERNAL_BEFORE = re.compile(r"(融入|参与|对接|接轨|联动|辐射|纳入|结合|串接|串联|连接)[^，。、]{0,3}$")


#: Which finding of a name is kept (its defining mention): a heading beats a label, a structure phrase, a list.
RULE_RANK: dict[str, int] = {"heading": 0, "label": 1, "structure": 2, "list": 3, "count": 4}


def normalise_name(name: str) -> str:
    """A name for comparison: NFKC (full-width digits and brackets folded), without quotes and spaces."""
    return re.sub(r"[\s\"“”'‘’·]", "", unicodedata.normalize("NFKC", name))


def suffix_role(name: str) -> str | None:
    """The role of an element by the ending of its name (a closing parenthetical ignored), or None when the
    name ends with no place suffix; a part of an area (``南朗片区北部``) is a zone."""
    name = re.sub(r"（[^）]*）$", "", name)
    if re.search(r"(区|片区|城)[东西南北中]部$", name):
        return "zone"
    for suffix, role in SUFFIX_ROLES:
        if name.endswith(suffix):
            return role
    return None


@dataclass
class Found:
    """One element found in the plan.

    Attributes:
        name: the name as written (whitespace removed).
        role: core, axis, corridor, belt, zone, node or platform.
        index: the stream index of the name's first character.
        section: the title of the section it was found in.
        rule: the rule that found it (``heading``, ``list``, ``structure``, ``label``).
        plan_names: other names the plan uses for it (a structure label such as ``一心``).
        members: the units (镇街 or districts, full names) the plan lists as the element's extent.
        member_words: the words those members were read from (unit names or gazetteer places).
        unit_context: the district a 专栏 line is headed by (``罗湖区:`` …), for placing.
        stated_area_km2: an area the element's sentence states, km².
        zone_units: the members of the zone whose paragraphs hold the element (for placing).
        unknown_members: units the plan lists as members that the draft cannot find (no town layer).
    """

    name: str
    role: str
    index: int
    section: str
    rule: str
    plan_names: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)
    member_words: list[str] = field(default_factory=list)
    unit_context: list[str] = field(default_factory=list)
    stated_area_km2: float | None = None
    zone_units: list[str] = field(default_factory=list)
    unknown_members: list[str] = field(default_factory=list)


def _strip_item(item: str, lex: Lexicon) -> str:
    item = item.strip("“”\"'—-")
    while item.startswith(("（", "(")) and item.count("（") > item.count("）"):
        item = item[1:]
    while item.endswith(("）", ")")) and item.count("）") > item.count("（"):
        item = item[:-1]
    item = LEAD.sub("", item)
    words = lex.cut(item) if item else []
    known = set(lex.places) | set(lex.towns) | set(lex.districts)
    while (
        len(words) > 1
        and words[0][0] not in known
        and (words[0][1][:1] in ("d", "p", "c", "u", "r") or (words[0][1] == "v" and len(item) - len(words[0][0]) >= 4))
    ):
        words = words[1:]
        item = "".join(w for w, _ in words)
        item = LEAD.sub("", item)
        words = lex.cut(item) if item else []
    return item


#: Endings of kinds of area that many plans coin as goals; a name with one needs a proper part.
WEAK_SUFFIX = re.compile(r"(示范区|集聚区|承载区|功能区|中心|基地|新城|平台)$")


def is_known(name: str, lex: Lexicon) -> bool:
    """Whether a name holds a place or unit of the plan's city the lexicon knows (not the city's own name),
    or an element the draft has already found (``起步区先进智能产业区`` after ``起步区``)."""
    own = [p for p, place in lex.places.items() if place.city == lex.city] + [n for n in lex.found if n != name]
    known = [*own, *lex.towns, *lex.districts] + [short_unit_name(u) for u in (*lex.towns, *lex.districts)]
    return any(k in name for k in known if len(k) >= 2 and k not in NOT_PROPER)


def is_proper(name: str, lex: Lexicon) -> bool:
    """Whether a name holds a proper part: a known place or unit, or a word jieba tags as a place, organisation
    or other proper noun (not one of :data:`NOT_PROPER`)."""
    known = [*lex.places, *lex.towns, *lex.districts, *(n for n in lex.found if n != name)]
    if short_unit_name(lex.city) in name:
        return True  # named after the plan's own city (中山影视城)
    if any(k in name for k in known if len(k) >= 2 and k not in NOT_PROPER):
        return True
    return any(
        (flag in PROPER_TAGS or (flag == "nr" and len(word) >= 3)) and word not in NOT_PROPER
        for word, flag in lex.cut(name)
    )


def other_city(name: str, city: str) -> bool:
    """Whether a name holds another prefecture-level city's name (not ``city``'s): that city's place."""
    return any(c in name for c in CITY_SHORT if not city.startswith(c)) and not any(
        c in name for c in CITY_SHORT if city.startswith(c)
    )


def _is_name(item: str) -> bool:
    base = re.sub(r"（[^）]*）", "", item)
    return (
        len(base) >= 3
        and not GENERIC.match(base)
        and 3 <= len(item) <= 30
        and suffix_role(base) is not None
        and not GENERIC.match(item)
        and item not in REGIONS
        and not NOT_ELEMENT.search(item)
        and not re.search(
            r"[，。；：“”]|\d+个|[一二三四五六七八九十两]+[个大条]|^[一二三四五六七八九十两多]+[个大条]", item
        )
    )


def _items(clause: str) -> list[tuple[int, str]]:
    """Split a clause at 、 (and at 和/与/及 after a name), with offsets."""
    out: list[tuple[int, str]] = []
    pos = 0
    parts: list[str] = []
    depth, cur = 0, ""
    for ch in clause:
        depth += (ch == "（") - (ch == "）")
        if ch == "、" and depth <= 0:
            parts += [cur, "、"]
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    for part in parts:
        if part == "、":
            pos += 1
            continue
        sub = 0
        for m in re.finditer(r"(?:以及|和|与|及)", part):
            left = part[sub : m.start()]
            if suffix_role(left) is not None and len(left) >= 3:
                out.append((pos + sub, left))
                sub = m.end()
        out.append((pos + sub, part[sub:]))
        pos += len(part)
    return out


def _enumerations(pt: PlanText, start: int, end: int, section: str, lex: Lexicon, strict: bool) -> list[Found]:
    found: list[Found] = []
    text = pt.text
    clause_start = start
    for i in range(start, end + 1):
        if i < end and text[i] not in _SEPARATORS:
            continue
        whole = text[clause_start:i]
        numbering = _NUMBERING.match(whole)
        base = clause_start + (numbering.end() if numbering else 0)
        clause = whole[numbering.end() :] if numbering else whole
        pieces = []
        p = 0
        for v in CLAUSE_VERBS.finditer(clause):
            pieces.append((p, clause[p : v.start()], clause[:p], v.group(0)))
            p = v.end()
        pieces.append((p, clause[p:], clause[:p], ""))
        for p_off, piece, before, verb in pieces:
            # an anchor ("以X为核心", "将X打造为", "依托X") is a place whatever its words
            anchor = (
                verb.startswith("为")
                or bool(BECOME_BEFORE.search(verb))
                or before.endswith(("依托", "以"))
                or (before.endswith("聚焦") and piece.startswith("建设"))
                or (whole.startswith("——") and p_off == pieces[0][0])  # a "——做强X带，…" bullet names X
            )
            for f in _piece_names(piece, before, lex, strict and not anchor):
                f.index += base + p_off
                f.section = section
                found.append(f)
        clause_start = i + 1
    return found


def _piece_names(piece: str, before: str, lex: Lexicon, strict: bool = False) -> list[Found]:
    """The names in one piece of a clause (between its verbs); ``before`` is the clause up to the piece."""
    found: list[Found] = []
    items = _items(piece)
    named_list = False
    kind, kind_role = "", "platform"
    if len(items) >= 2:
        cut = items[-1][1].find("等")
        tail = NAMED_LIST_TAIL.match(items[-1][1][cut:]) if cut >= 0 else None
        if tail:
            named_list = True
            kind = tail.group(1) if tail.group(1) in ("园区", "片区", "口岸", "枢纽") else ""
            kind_role = suffix_role(kind) or "platform"
    if EXTERNAL_BEFORE.search(before) or BECOME_BEFORE.search(before):
        return []
    counted = COUNTED_KIND.search(items[-1][1]) if len(items) >= 2 else None
    if counted and suffix_role(counted.group(2)):
        last_off, last = items[-1]
        items = items[:-1] + [(last_off, last[: counted.start()])]
        out = []
        for off, raw in items:
            name = _strip_item(raw, lex)
            if 2 <= len(name) <= 12 and (is_proper(name, lex) or not strict):
                kind_name = name if suffix_role(name) else name + counted.group(2)
                out.append(
                    Found(kind_name, suffix_role(kind_name) or "platform", off + raw.rfind(name), "", "list", [name])
                )
        return out
    goal = bool(GOAL_VERBS.search(before)) and (len(items) < 3 or not any(is_known(t, lex) for _, t in items))
    if EXTERNAL_BEFORE.search(before) or BECOME_BEFORE.search(before):
        return []
    if CATEGORY_BEFORE.search(before + piece.split("、")[0]):
        return []
    if True:
        for off, raw in items:
            tail = TAIL.search(raw)
            core = raw[: tail.start()] if tail and tail.start() > 0 else raw
            name = _strip_item(core, lex)
            if not name:
                continue
            lead = core.rfind(name)
            if "的" in name:
                owner, name = name.rsplit("的", 1)
                if not suffix_role(name) and suffix_role(owner):  # "与马鞍岛科创平台的联系": the owner
                    name = _strip_item(owner, lex)
                elif goal or len(name) < 3:
                    continue
                lead = core.rfind(name)
            suffixed = sum(1 for _, it in items if suffix_role(TAIL.sub("", it) or it)) / len(items)
            if named_list and strict and suffixed <= 0.5 and not is_proper(name, lex):
                continue
            ok = _is_name(name) or (
                named_list
                and 2 <= len(name) <= 10
                and not GENERIC.match(name)
                and not NOT_ELEMENT.search(name)
                and is_proper(name, lex)
            )
            if goal and not named_list and (re.search(r"[型化]", name) and "文化" not in name):
                ok = False
            suffixed = sum(1 for _, it in items if suffix_role(TAIL.sub("", it) or it)) / len(items)
            single = len(items) == 1 or goal or suffixed <= 0.5 or WEAK_SUFFIX.search(name) is not None
            if ok and strict and not named_list and single and not is_proper(name, lex):
                ok = False
            if ok and strict and goal and not named_list and not is_known(name, lex):
                ok = False
            if ok and (other_city(name, lex.city) or not re.search(r"[\u4e00-\u9fff]", name)):
                ok = False
            if ok and named_list and lex.unit_of(name) and kind:
                found.append(Found(name + kind, kind_role, off + max(lead, 0), "", "list", plan_names=[name]))
                continue
            if ok:
                role = suffix_role(name) or "platform"
                found.append(Found(name, role, off + max(lead, 0), "", "list"))
    return found


def _paragraphs(pt: PlanText, start: int, end: int) -> list[tuple[int, int]]:
    out = []
    p = start
    for i in range(start, end + 1):
        if i == end or pt.text[i] == "\n":
            if i > p:
                out.append((p, i))
            p = i + 1
    return out


def _heading_name(para: str) -> tuple[int, str] | None:
    """``(offset, name)`` of a paragraph that opens with a name, else None."""
    m = _NUMBERING.match(para)
    off = m.end() if m else 0
    rest = para[off:]
    label = re.match(r"^([^，。：；、“”]{2,30}?)[：:]", rest)
    if label and (STRUCTURE_LABEL.match(label.group(1)) or suffix_role(label.group(1))):
        return off, label.group(1)
    whole = re.match(r"^([^，。：；、“”]{2,30})。?$", rest)
    if whole and m and suffix_role(whole.group(1)) and not re.match(r"^[一二三四五六七八九十]+、", para):
        return off, whole.group(1)
    for k in range(2, min(len(rest), 32)):
        head = rest[:k]
        if re.search(r"[，。：；、“”:]", head):
            break
        paren = re.match(r"^（[^）]{1,14}）", rest[k:])
        after = rest[k + (paren.end() if paren else 0) :]
        if suffix_role(head) and _PREDICATE.match(after) and (m or after[:1] == "。"):
            return off, head + (paren.group(0) if paren else "")
    return None


def _members_of(sentence: str, lex: Lexicon) -> tuple[list[str], list[str]]:
    """The units a 区域范围 sentence lists: ``(members, words)``; members via gazetteer ``within`` too."""
    members: list[str] = []
    words: list[str] = []
    for raw in re.split(r"[、，,和与及]", sentence.rstrip("。；")):
        item = re.sub(r"(的部分区域|部分区域|主体空间|行政范围|区域|全域|片区)$", "", raw.strip())
        unit = lex.unit_of(item)
        units = [unit[1]] if unit else []
        if not units and item in lex.places:
            units = [u for u in lex.places[item].within.split("、") if lex.unit_of(u)]
        if units:
            words.append(item)
            members += [u for u in units if u not in members]
    return members, words


def _direction_zones(pt: PlanText, start: int, end: int, section: str, lex: Lexicon) -> list[Found]:
    text = pt.text[start:end]
    out: list[Found] = []
    matches = list(DIRECTION_PHRASE.finditer(text)) + list(NUMERAL_PHRASE.finditer(text))
    for m in matches:
        before = text[max(0, m.start() - 6) : m.start()]
        after = text[m.end() : m.end() + 16]
        if re.search(r"全市|全省|落实|融入", before) or not re.search(r"格局|战略", after.split("。")[0]):
            continue
        items = [x for x in re.split(r"[、，]", m.group(1)) if x]
        for item in items:
            found = Found(item, "zone", start + m.start(1) + m.group(1).find(item), section, "structure")
            para = re.search(rf"——[^\n。]{{0,24}}{item[0]}部[^\n]*", text[m.end() :])
            if item[0] in "东西南北" and para:
                places = [p for p in lex.places if p in para.group(0)]
                names = [u for u in (*lex.towns, *lex.districts) if u in para.group(0)]
                members, words = _members_of("、".join(places + names), lex)
                found.members, found.member_words = members, words
            out.append(found)
    return out


def find_elements(pt: PlanText, sections: list[Section], lex: Lexicon) -> list[Found]:
    """Every element the rules find in the sections, in text order, one per name.

    Args:
        pt: the plan text.
        sections: from :func:`gisapp.plans.draft.sections.find_sections`.
        lex: the names the draft knows.

    Returns:
        the elements; a name found twice is kept once (its first finding).
    """
    found: list[Found] = []
    lex.found.clear()
    for sec in sections:
        idx = [i for i, n in enumerate(pt.origin) if sec.first <= n <= sec.last]
        if not idx:
            continue
        start, end = idx[0], idx[-1] + 1
        found += _direction_zones(pt, start, end, sec.title, lex)
        current: Found | None = None
        district: list[str] = []
        for p0, p1 in _paragraphs(pt, start, end):
            para = pt.text[p0:p1]
            label = re.match(r"^([^，。：；、]{2,10})[：:]", para)
            unit = lex.unit_of(label.group(1)) if label else None
            district = [unit[1]] if unit and unit[0] == "district" else ([] if label else district)
            head = _heading_name(para)
            if head is None and sec.kind == "column" and label and not unit and len(label.group(1)) <= 24:
                head = (0, label.group(1))
            if head and re.match(r"^[一二三四五六七八九十]+、", para) and not is_proper(head[1], lex):
                head = None
            ms = MEMBER_SENTENCE.match(para)
            listed = [] if ms else _enumerations(pt, p0, p1, sec.title, lex, sec.kind == "section")
            if head and _strip_item(head[1], lex) != head[1]:
                stripped = _strip_item(head[1], lex)
                ok = (
                    stripped
                    and _is_name(stripped)
                    and is_proper(stripped, lex)
                    and not re.search(r"[型化的]", stripped)
                )
                head = (head[0] + head[1].rfind(stripped), stripped) if ok else None
            if head and lex.unit_of(head[1]):
                head = None
            if head and not STRUCTURE_LABEL.match(head[1]) and sec.kind != "column" and not _is_name(head[1]):
                head = None
            if head:
                off, name = head
                if STRUCTURE_LABEL.match(name):
                    first = next((f for f in listed if f.index > p0 + off + len(name)), None)
                    phrase = LABEL_PHRASE.search(para)
                    if first is None and phrase and suffix_role(phrase.group(2)):
                        at = p0 + phrase.start(1)
                        first = Found(
                            phrase.group(1) + phrase.group(2),
                            suffix_role(phrase.group(2)) or "zone",
                            at,
                            sec.title,
                            "label",
                        )
                        listed.append(first)
                    if first is not None:
                        first.plan_names.append(name)
                        first.rule = "label"
                        listed = [first] + [f for f in listed if f is not first]
                    current = None
                else:
                    current = Found(name, suffix_role(name) or "zone", p0 + off, sec.title, "heading")
                    colon = para[off + len(name) : off + len(name) + 1] == "：" and name not in lex.places
                    # a 专栏 entry "NAME：description": the places of its description are its parts, not elements
                    # (unless NAME is a known place, e.g. 大鹏新区: its line lists its platforms)
                    listed = [current] + ([] if colon else [f for f in listed if f.index != current.index])
            if current is not None and not current.members and not ms and current.index >= p0:
                # "1. X（产业园）。包括火炬开发区主体空间、民众全域，…": a member sentence in the heading's paragraph
                inner = MEMBER_INNER.search(pt.text[current.index : p1])
                ms = inner if inner and _members_of(inner.group(1), lex)[0] else None
            if ms and current is not None and not current.members:
                current.members, current.member_words = _members_of(ms.group(1), lex)
                current.unknown_members = [
                    w
                    for w in re.split(r"[、，,和与及]", ms.group(1).rstrip("。；"))
                    if re.search(r"(镇|街道|区)$", w) and w not in current.member_words
                ]
            for f in listed:
                is_members = MEMBER_IS.match(pt.text[f.index + len(f.name) : p1])
                if is_members and not f.members:
                    f.members, f.member_words = _members_of(is_members.group(1), lex)
            for cm in COUNTED_STRUCTURE.finditer(para):
                s0, s1 = pt.sentence_span(p0 + cm.start())
                named = [f for f in listed if s0 <= f.index < p0 + cm.start() and f.rule != "count"]
                total = _NUMERALS[cm.group(1)]
                for k in range(len(named) + 1, total + 1):
                    name = f"{cm.group(3)}（第{k}{cm.group(2)}，未具名）"
                    listed.append(Found(name, suffix_role(cm.group(3)) or "belt", p0 + cm.start(), sec.title, "count"))
            lex.found.update(f.name for f in listed if f.rule != "count")
            for f in listed:
                f.unit_context = list(district)
                if current is not None and f is not current:
                    f.zone_units = current.members
                area = AREA.search(pt.text[slice(*pt.sentence_span(f.index))])
                if area:
                    f.stated_area_km2 = float(area.group(1))
            found += listed
    best: dict[str, Found] = {}
    for f in sorted(found, key=lambda f: f.index):
        key = normalise_name(f.name)
        if lex.unit_of(f.name) or f.name == lex.city:
            continue
        if key not in best or RULE_RANK[f.rule] < RULE_RANK[best[key].rule]:
            if key in best:
                f.plan_names = list(dict.fromkeys(best[key].plan_names + f.plan_names))
            best[key] = f
    return sorted(best.values(), key=lambda f: f.index)
