"""One bbox parser (gisapp.core.bbox) with the rules of each entry point as arguments."""

from __future__ import annotations

import pytest

from gisapp.core.bbox import parse_bbox
from gisapp.core.errors import InputError


@pytest.mark.parametrize("text", [None, "", "  "])
def test_empty_is_no_box(text: str | None) -> None:
    assert parse_bbox(text) is None


@pytest.mark.parametrize(
    ("text", "kwargs", "expected"),
    [
        ("113,22,114,23", {}, (113.0, 22.0, 114.0, 23.0)),
        ("113,22,113,23", {}, (113.0, 22.0, 113.0, 23.0)),  # a line of zero width: min <= max
        ("170,-10,-170,10", {"wrap_x": True}, (170.0, -10.0, -170.0, 10.0)),  # across the antimeridian
        ("1,2,0,4,5,1", {"allow_3d": True}, (1.0, 2.0, 0.0, 4.0, 5.0, 1.0)),
        ("500000,2500000,510000,2510000", {"strict": True}, (500000.0, 2500000.0, 510000.0, 2510000.0)),
    ],
)
def test_accepted(text: str, kwargs: dict, expected: tuple[float, ...]) -> None:  # type: ignore[type-arg]  # pytest params
    assert parse_bbox(text, **kwargs) == expected


@pytest.mark.parametrize(
    ("text", "kwargs", "fragment"),
    [
        ("1,2,3", {}, "4 finite numbers"),
        ("a,b,c,d", {}, "4 finite numbers"),
        ("nan,1,2,3", {}, "4 finite numbers"),
        ("1,2,0,4,5,1", {}, "4 finite numbers"),  # 6 numbers only where allowed
        ("114,23,113,22", {}, "min <= max"),
        ("113,22,113,23", {"strict": True}, "min < max"),
        ("170,10,-170,-10", {"wrap_x": True}, "x may wrap"),  # y still ordered
        ("-200,22,114,23", {"lonlat": True}, "lon -180..180"),
        ("113,22,113.0001,22.0001", {"lonlat": True, "side_deg": (0.001, 20)}, "0.001° to 20°"),
        ("100,0,130,30", {"lonlat": True, "side_deg": (0.001, 20)}, "0.001° to 20°"),
    ],
)
def test_rejected_with_the_rule_named(text: str, kwargs: dict, fragment: str) -> None:  # type: ignore[type-arg]  # pytest params
    with pytest.raises(InputError) as exc:
        parse_bbox(text, **kwargs)
    assert exc.value.code == "invalid_bbox" and fragment in exc.value.message
