"""A named registry: the table behind every "which format/kind/method is this name?" question.

A :class:`Registry` is built once, at import, from a list of entries (each with a ``key``) and
an optional table of aliases; it is not changed afterwards (no module-global mutable state).
Looking up a name it does not hold raises :class:`UnknownName`, an
:class:`~gisapp.core.errors.InputError` whose JSON body lists the names on offer, so every entry
point (CLI, HTTP) answers an unknown name with the same message and body::

    {"error": "unknown_format", "message": "unknown format 'exe': use one of geojson, gpkg, …",
     "choices": ["geojson", "gpkg", …]}
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Generic, Protocol, TypeVar

from gisapp.core.errors import InputError


class Keyed(Protocol):
    """What a registry entry has: the ``key`` users type."""

    @property
    def key(self) -> str:
        """The name users type (lower case)."""
        ...


E = TypeVar("E", bound=Keyed)


class UnknownName(InputError):
    """A name a registry does not hold (HTTP 400); the body lists the names on offer.

    Args:
        what: what the registry holds, for the message (``"format"``).
        value: the name given.
        choices: the names on offer, in registry order.
        code: the error code (``"unknown_format"``).
    """

    def __init__(self, what: str, value: object, choices: Iterable[str], code: str) -> None:
        self.choices = list(choices)
        super().__init__(f"unknown {what} {value!r}: use one of {', '.join(self.choices)}", code=code)

    def to_dict(self) -> dict[str, Any]:
        """``{"error", "message", "choices"}`` (``choices``: the names on offer, a list)."""
        body: dict[str, Any] = dict(super().to_dict())
        body["choices"] = self.choices
        return body


class Registry(Mapping[str, E], Generic[E]):
    """An immutable, ordered table ``key → entry`` with aliases and one error for unknown names.

    Args:
        what: what it holds, for messages (``"format"``).
        entries: the entries, in the order they are offered (each with a unique ``key``).
        aliases: other names users may type, ``alias → key`` (e.g. ``"geopackage" → "gpkg"``).
        code: the error code of an unknown name.

    Raises:
        ValueError: duplicate keys, or an alias to a key not held (a programming error).
    """

    def __init__(
        self,
        what: str,
        entries: Iterable[E],
        aliases: Mapping[str, str] | None = None,
        code: str = "unknown_format",
    ) -> None:
        self.what = what
        self.code = code
        self._entries: dict[str, E] = {}
        for entry in entries:
            if entry.key in self._entries:
                raise ValueError(f"duplicate {what} {entry.key!r}")
            self._entries[entry.key] = entry
        self._aliases = dict(aliases or {})
        missing = set(self._aliases.values()) - set(self._entries)
        if missing:
            raise ValueError(f"aliases to unknown {what}s: {sorted(missing)}")

    def __getitem__(self, key: str) -> E:
        """The entry of ``key`` (exact key, no alias). Raises KeyError."""
        return self._entries[key]

    def __iter__(self) -> Iterator[str]:
        """The keys, in registry order."""
        return iter(self._entries)

    def __len__(self) -> int:
        """Number of entries."""
        return len(self._entries)

    def names(self) -> tuple[str, ...]:
        """The keys on offer, in registry order."""
        return tuple(self._entries)

    def get_entry(self, value: str | None, default: str | None = None) -> E:
        """The entry for a user's name: case-insensitive, surrounding spaces ignored, aliases followed.

        Args:
            value: the name given (``None``/``""``: ``default``).
            default: the key used when ``value`` is empty.

        Raises:
            UnknownName: (:class:`~gisapp.core.errors.InputError`, 400) for a name not held.
        """
        key = (value or default or "").strip().lower()
        key = self._aliases.get(key, key)
        if key not in self._entries:
            raise self.unknown(value)
        return self._entries[key]

    def unknown(self, value: object, extra: Iterable[str] = ()) -> UnknownName:
        """The error for a name not on offer (the registry's names, then ``extra``)."""
        return UnknownName(self.what, value, [*self._entries, *extra], self.code)


__all__ = ["Keyed", "Registry", "UnknownName"]
