"""The permission policy of the web app as data: which endpoint needs which role, which requests are
audited as what, and which layers a request names (checked against the layer rules).

Applied by :mod:`gisapp.web.accounts` in one ``before_request`` hook; routes are never edited for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import request

from gisapp.accounts.roles import Role


@dataclass(frozen=True)
class Rule:
    """One row of the policy: requests to ``endpoint`` (``blueprint.*`` for a whole blueprint) with a
    method in ``methods`` (empty: any) need ``role`` (None: public) and are audited as ``kind`` (empty: not)."""

    endpoint: str
    methods: frozenset[str]
    role: Role | None
    kind: str = ""

    def matches(self, endpoint: str, method: str) -> bool:
        """True when this row applies to ``endpoint`` called with ``method``."""
        hit = endpoint == self.endpoint or (self.endpoint.endswith(".*") and endpoint.startswith(self.endpoint[:-1]))
        return hit and (not self.methods or method in self.methods)


_POST = frozenset({"POST"})
_ANY: frozenset[str] = frozenset()

#: The whole permission policy, first matching row wins; endpoints not listed need 浏览 (view).
POLICY: tuple[Rule, ...] = (
    Rule("static", _ANY, None),
    Rule("_favicon", _ANY, None),
    Rule("api.health", _ANY, None),
    Rule("auth.*", _ANY, None),
    Rule("admin.*", _ANY, Role.MANAGE),
    Rule("overlap.*", _ANY, Role.ANALYSE, "overlap"),
    Rule("accounting.report", _POST, Role.ANALYSE, "accounting"),
    Rule("accounting.adjust", _ANY, Role.ANALYSE, "accounting"),
    Rule("accounting.compare", _ANY, Role.ANALYSE, "accounting"),
    Rule("accounting.zonal", _ANY, Role.ANALYSE, "accounting"),
    Rule("export.export_formats", _ANY, Role.VIEW),
    Rule("export.*", _ANY, Role.ANALYSE, "export"),
    Rule("figure.*", _ANY, Role.ANALYSE, "figure"),
    Rule("review.review_save", _POST, Role.MANAGE, "plan-review"),
    Rule("review.*", _ANY, Role.ANALYSE),
    Rule("tiles.*", _ANY, Role.VIEW),
)
DEFAULT_RULE = Rule("*", _ANY, Role.VIEW)

#: Where a request names layers: URL parts and query parameters.
LAYER_VIEW_ARGS = ("layer_id", "collection_id")
LAYER_QUERY_ARGS = ("layer", "target", "layers")


def rule_for(endpoint: str | None, method: str) -> Rule:
    """The policy row for a request (:data:`DEFAULT_RULE` when none matches; unknown URLs are public 404s)."""
    if endpoint is None:
        return Rule("", _ANY, None)
    return next((r for r in POLICY if r.matches(endpoint, method)), DEFAULT_RULE)


def layers_named() -> list[str]:
    """The layer ids the current request names: URL parts, query parameters (a target's ``[FIELD=VALUE]``
    filter dropped), an accounting request's control line and an overlap's default targets."""
    named = [str(v) for k in LAYER_VIEW_ARGS if (v := (request.view_args or {}).get(k))]
    if (request.view_args or {}).get("collection_id"):  # a mixed layer's per-geometry-type collection
        from gisapp.ogcapi.config import layer_of_collection
        from gisapp.web.context import current_store

        named = [layer_of_collection(n, current_store().exists) for n in named]
    for key in LAYER_QUERY_ARGS:
        for value in request.args.getlist(key):
            named += [p.strip() for p in value.split(",") if p.strip()]
    endpoint = request.endpoint or ""
    if endpoint.startswith("accounting.") or endpoint == "api.redline_report":
        named += _ruleset_layer()
    if (endpoint.startswith("overlap.") or endpoint == "export.export_overlap") and not request.args.get("target"):
        from gisapp.analysis.overlap.targets import default_targets

        named += default_targets()
    # a named target set (``controls``, ``三区三线``) stands for its layers; a target may carry a filter
    from gisapp.analysis.overlap.targets import expand_targets

    return [n.split("[", 1)[0].removesuffix(".geojson") for n in expand_targets(named)]


def _ruleset_layer() -> list[str]:
    """The control line an accounting request reads (its rule set's ``line_layer``; none when it does not load)."""
    from gisapp.analysis.accounting import rules as rules_mod

    ruleset = request.args.get("rules", rules_mod.DEFAULT_RULESET) if request.endpoint != "api.redline_report" else None
    try:
        return [rules_mod.load_ruleset(ruleset or rules_mod.DEFAULT_RULESET).line_layer]
    except Exception:  # a bad rule-set id is the route's to answer (4xx)
        return []
