"""The three roles and their order: 浏览 (view) < 分析 (analyse) < 管理 (manage).

* 浏览 view: maps, layer metadata, OGC API reads, published figures;
* 分析 analyse: also overlap (压占分析), accounting runs, exports, figures;
* 管理 manage: also imports, publish and rollback of control lines and towns, the audit trail, users.
"""

from __future__ import annotations

from enum import IntEnum

from gisapp.core.errors import InputError


class Role(IntEnum):
    """A role; a higher value may do everything a lower one may."""

    VIEW = 1
    ANALYSE = 2
    MANAGE = 3

    @property
    def key(self) -> str:
        """The stored name: ``view``, ``analyse`` or ``manage``."""
        return self.name.lower()

    @property
    def label(self) -> str:
        """The Chinese name shown to users: 浏览, 分析 or 管理."""
        return ROLE_LABELS[self]


ROLE_LABELS: dict[Role, str] = {Role.VIEW: "浏览", Role.ANALYSE: "分析", Role.MANAGE: "管理"}

_ALIASES: dict[str, Role] = {
    **{r.key: r for r in Role},
    **{label: r for r, label in ROLE_LABELS.items()},
    "analyze": Role.ANALYSE,
    "admin": Role.MANAGE,
}


def parse_role(value: str) -> Role:
    """Read a role name (``view``/``analyse``/``manage``, 浏览/分析/管理, ``analyze``, ``admin``).

    Raises:
        InputError: ``unknown_role`` for anything else.
    """
    try:
        return _ALIASES[value.strip().lower()]
    except KeyError:
        raise InputError(
            f"unknown role {value!r}: use view/浏览, analyse/分析 or manage/管理", code="unknown_role"
        ) from None
