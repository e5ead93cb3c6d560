"""Parsing JSON from users: bounded, and every failure an :class:`~gisapp.core.errors.InputError`.

Python's :func:`json.loads` raises :class:`RecursionError` on deeply nested arrays or objects (a
50 000-deep ``[[[[…`` upload), which is not a :class:`ValueError` and would otherwise surface as a
server error. :func:`parse_json` answers it, and invalid JSON or text, as one input error.
"""

from __future__ import annotations

import json
from typing import Any

from gisapp.core.errors import InputError

#: Deepest nesting a user's JSON may have. A GeoJSON MultiPolygon in a FeatureCollection is 7 levels
#: deep; properties add a few. Python's own limit (~1000) would be reached first on deeper input.
MAX_JSON_DEPTH = 64


def json_depth(doc: Any, limit: int = MAX_JSON_DEPTH) -> int:
    """Return the nesting depth of a parsed JSON value (a scalar is 0), counting at most ``limit + 1``.

    Iterative, so it never recurses; stops as soon as the depth exceeds ``limit``.
    """
    deepest = 0
    stack: list[tuple[Any, int]] = [(doc, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        stack.extend((child, depth) for child in children if isinstance(child, dict | list))
    return deepest


def parse_json(data: bytes | str, what: str = "the request body", code: str = "invalid_json") -> Any:
    """Parse JSON text from a user.

    Args:
        data: UTF-8 bytes (a BOM is tolerated) or text.
        what: how the message names the input, e.g. ``"the proposal"``.
        code: the error code to raise with.

    Returns:
        the parsed value (dict, list, str, number, bool or None).

    Raises:
        InputError: ``code`` (HTTP 400) when the text is not UTF-8, not JSON, or nested deeper than
            :data:`MAX_JSON_DEPTH`.
    """
    if isinstance(data, bytes | bytearray):
        data = bytes(data).removeprefix(b"\xef\xbb\xbf")
    try:
        doc = json.loads(data)
    except RecursionError:
        doc = None
        depth_exceeded = True
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{what} is not valid JSON: {str(exc)[:120]}", code=code) from None
    else:
        depth_exceeded = json_depth(doc) > MAX_JSON_DEPTH
    if depth_exceeded:
        raise InputError(f"{what} is nested more than {MAX_JSON_DEPTH} levels deep", code=code)
    return doc
