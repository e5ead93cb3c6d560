"""Every setting of the app and the CLI, read in one place.

Precedence: an explicit override (``create_app({...})``, a CLI flag) → the environment variable of
the same name → the default. The table in ``docs/settings.md`` is generated from :data:`SETTINGS`
(``tests/test_settings.py`` checks it is current).

The core never reads the environment itself: the web app and each CLI invocation build one
:class:`Settings` and pass what it holds (a :class:`gisapp.store.layerstore.LayerStore`, limits, paths)
to the functions they call.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gisapp.core.errors import InputError

REPO_ROOT: Path = Path(__file__).resolve().parents[2]


def _path(value: str) -> Path:
    return Path(value).expanduser().resolve()


def _bool(value: str) -> bool:
    low = value.strip().lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected 1/0, true/false, yes/no, got {value!r}")


@dataclass(frozen=True)
class Setting:
    """One setting: its name (environment variable and config key), parser, default and meaning."""

    name: str
    attr: str
    parse: Callable[[str], Any]
    default: Any
    doc: str


#: Every setting; the environment variable and the ``create_app`` config key are ``name``.
SETTINGS: tuple[Setting, ...] = (
    Setting("GISAPP_LAYERS_DIR", "layers_dir", _path, REPO_ROOT / "layers", "the layer store (built layers)"),
    Setting("GISAPP_ZONES_DIR", "zones_dir", _path, REPO_ROOT / "zones", "zone files (one YAML per plan structure)"),
    Setting("GISAPP_RULES_DIR", "rules_dir", _path, REPO_ROOT / "rules", "accounting rule sets (YAML)"),
    Setting(
        "GISAPP_PLANS_DIR", "plans_dir", _path, REPO_ROOT.parent / "shared" / "plans", "the plan texts (for validate)"
    ),
    Setting(
        "GISAPP_TOWN_EVIDENCE",
        "town_evidence",
        _path,
        REPO_ROOT / "data" / "zhongshan_town_evidence.csv",
        "cited points known to lie in each 镇街 (towns check)",
    ),
    Setting("GISAPP_MAX_UPLOAD_MB", "max_upload_mb", int, 20, "largest request body (MB); larger is 413"),
    Setting(
        "GISAPP_TILES",
        "tiles",
        lambda v: v.strip().lower() or "none",
        "none",
        "default base map: none, osm, tianditu or amap",
    ),
    Setting("GISAPP_TIANDITU_KEY", "tianditu_key", str.strip, "", "天地图 key (enables the 天地图 base map)"),
    Setting("GISAPP_BASE_URL", "base_url", str.strip, "", "the URL every link is built from (default: request host)"),
    Setting("GISAPP_MAX_ANALYSES", "max_analyses", int, 3, "analyses at once per process (others wait)"),
    Setting("GISAPP_ANALYSIS_WAIT_S", "analysis_wait_s", float, 30.0, "wait for an analysis slot before 503 (s)"),
    Setting("GISAPP_ISOLATE_READS", "isolate_reads", _bool, True, "read GDAL-backed uploads in a limited child"),
    Setting("GISAPP_CJK_FONT", "cjk_font", str.strip, "", "font file for figures (default: fonts-wqy-zenhei)"),
    Setting(
        "GISAPP_DATABASE_URL",
        "database_url",
        str.strip,
        "",
        "PostgreSQL+PostGIS URI for large layers (empty: GeoPackage in the layer store)",
    ),
    Setting(
        "GISAPP_ACCOUNTS_DB",
        "accounts_db",
        str.strip,
        "",
        "accounts and audit trail: a SQLite file or SQLAlchemy URL (default: <store>.accounts.sqlite beside the store)",
    ),
    Setting("GISAPP_USER_RATE", "user_rate", int, 600, "requests per minute per account (0: no limit); more is 429"),
    Setting("GISAPP_USER_ANALYSES", "user_analyses", int, 2, "analyses at once per account (0: no limit); more is 429"),
)


@dataclass(frozen=True)
class Settings:
    """The settings of one app or one CLI invocation (see :data:`SETTINGS` for meanings and defaults)."""

    layers_dir: Path
    zones_dir: Path
    rules_dir: Path
    plans_dir: Path
    town_evidence: Path
    max_upload_mb: int
    tiles: str
    tianditu_key: str
    base_url: str
    max_analyses: int
    analysis_wait_s: float
    isolate_reads: bool
    cjk_font: str
    database_url: str
    accounts_db: str
    user_rate: int
    user_analyses: int

    @classmethod
    def load(cls, overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
        """Read every setting: ``overrides`` (by name, e.g. ``GISAPP_LAYERS_DIR``) → ``environ`` → default.

        Args:
            overrides: values already parsed or strings; keys are setting names; other keys are ignored
                (a Flask config holds many).
            environ: the environment (default :data:`os.environ`).

        Raises:
            InputError: ``invalid_setting`` naming the setting whose value does not parse.
        """
        environ = os.environ if environ is None else environ
        overrides = overrides or {}
        values: dict[str, Any] = {}
        for s in SETTINGS:
            raw = overrides.get(s.name)
            if raw is None:
                raw = environ.get(s.name) or None
            try:
                values[s.attr] = s.default if raw is None else (s.parse(raw) if isinstance(raw, str) else raw)
            except (TypeError, ValueError) as exc:
                raise InputError(f"setting {s.name}: {exc}", code="invalid_setting") from exc
            if isinstance(s.default, Path) and not isinstance(values[s.attr], Path):
                values[s.attr] = _path(str(values[s.attr]))
        return cls(**values)


def settings_table() -> str:
    """The Markdown table of every setting (name, default, meaning), as in ``docs/settings.md``."""
    rows = ["| setting (env var / config key) | default | meaning |", "|---|---|---|"]
    for s in SETTINGS:
        default = s.default
        if isinstance(default, Path):
            try:
                default = "<repo>/" + str(default.relative_to(REPO_ROOT))
            except ValueError:
                default = "<repo>/../" + str(default.relative_to(REPO_ROOT.parent))
        shown = f"`{default}`" if default != "" else "(empty)"
        rows.append(f"| `{s.name}` | {shown} | {s.doc} |")
    return "\n".join(rows) + "\n"
