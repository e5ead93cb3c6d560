"""schemathesis against the OGC API's own OpenAPI document (through WSGI): no request may get a 5xx.

The document is loaded as the service serves it, offline: before it was bundled, its 331 ``$ref``s to
schemas.opengis.net and GitHub made schemathesis (and every OpenAPI tool without the web) fail to load it.
Examples are bounded (a few per operation, derandomised: the same cases every run) and the operations are
the service-wide ones plus every operation of two collections — a plain layer and one geometry type of a
mixed layer; the other collections share their code.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings

#: Collections whose operations are exercised (``/collections/{id}/…``).
COLLECTIONS = ("zs-towns", "gz-services-structure-points")
EXAMPLES = 4


def _operations(app: Any) -> list[Any]:
    schema = schemathesis.openapi.from_wsgi("/ogc/openapi?f=json", app)
    ops = [result.ok() for result in schema.get_all_operations()]
    return [
        op
        for op in ops
        if op.method.upper() == "GET"
        and (not op.path.startswith("/collections/") or op.path.split("/")[2] in COLLECTIONS)
    ]


def test_no_server_error_on_generated_requests(app) -> None:  # type: ignore[no-untyped-def]
    ops = _operations(app)
    assert len(ops) == 3 + 5 * len(COLLECTIONS)  # /, /conformance, /collections + 5 per collection (schemathesis
    # leaves out /openapi, the document it was loaded from)
    errors: list[tuple[str, Any, int, str]] = []
    calls: list[int] = []
    for op in ops:
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):

            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=op.as_strategy(mode))
            def call(case: Any) -> None:
                response = case.call()
                calls.append(response.status_code)
                if response.status_code >= 500:
                    errors.append((case.formatted_path, case.query, response.status_code, response.text[:200]))

            call()
    assert errors == []
    assert len(calls) >= len(ops) and 200 in calls and 400 in calls


def test_empty_sortby_is_a_4xx(client) -> None:  # type: ignore[no-untyped-def]
    """Found by schemathesis: ``sortby=`` made pygeoapi index an empty string (HTTP 500)."""
    for query in ("sortby=", "sortby=name,,id", "sortby=,"):
        for fmt in ("json", "gpkg"):
            r = client.get(f"/ogc/collections/zs-towns/items?{query}&f={fmt}")
            assert r.status_code == 400 and r.json["error"] == "invalid_sortby", (query, fmt)
    assert client.get("/ogc/collections/zs-towns/items?sortby=-name").status_code == 200
