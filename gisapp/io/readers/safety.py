"""Checks on uploaded bytes before GDAL sees them (issue 11 §1, §2).

* zips (zipped Shapefiles, KMZ, zipped GeoPackages) are extracted by streaming, with the bytes
  counted *while* extracting against :class:`gisapp.core.limits.Limits` (total, ratio, member count);
  a member's declared size is never trusted; unsafe member names (absolute, ``..``) are refused;
* a KML must be XML whose root element is ``kml`` (parsed with :mod:`defusedxml`: no DTD, no
  entities, no external references);
* a GeoPackage must be an SQLite database whose schema has no views, no triggers other than
  the GeoPackage standard's, no virtual tables other than ``rtree`` and no generated columns
  (inspected read-only with :mod:`sqlite3`; this also refuses the recursive-view DoS);
* GDAL's messages are scrubbed of the temporary paths they name (:func:`scrub`).
"""

from __future__ import annotations

import io
import re
import sqlite3
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from gisapp.core.errors import READ_ERRORS, InputError
from gisapp.core.limits import Limits, resolve

_CHUNK = 1 << 16
#: Triggers GDAL and the GeoPackage standard create (spatial index upkeep, metadata checks).
_GPKG_TRIGGER = re.compile(
    r"^(rtree_.+_(insert|update\d*|delete)|gpkg_.+|trigger_(insert|update|delete)_feature_count_.+)$", re.I
)
#: A temporary path as our readers create them (``/tmp/gisapp-shp-abc123/upload.gpkg``).
_TMP_PATH = re.compile(r"(/[^\s'\"():,]*)?/gisapp-[a-z]+-[A-Za-z0-9_]+(/[^\s'\"():,]*)?")


def scrub(message: str, tmpdir: str | Path | None = None, label: str = "the upload") -> str:
    """Remove temporary paths from a (GDAL) message, naming the upload instead.

    Args:
        message: the text to clean.
        tmpdir: the temporary directory the file was written to (replaced first, exactly).
        label: what to say instead (the uploaded file's name).

    Returns:
        the message with every temp path replaced by ``label``, cut to 300 characters.
    """
    if tmpdir is not None:
        message = re.sub(re.escape(str(tmpdir)) + r"(/[^\s'\"():,]*)?", label, message)
    message = _TMP_PATH.sub(label, message)
    message = re.sub(r"/tmp/[^\s'\"():,]+", label, message)
    message = " ".join(message.split())
    return message if len(message) <= 300 else message[:300] + "…"


def _member_name(info: zipfile.ZipInfo) -> str:
    raw = info.filename.replace("\\", "/")
    parts = PurePosixPath(raw).parts
    if raw.startswith("/") or ".." in parts or re.match(r"^[A-Za-z]:", raw) or "\x00" in raw:
        raise InputError(
            f"the zip holds an unsafe member name ({raw[:80]!r}): paths must be relative, without '..'",
            code="invalid_zip",
        )
    return PurePosixPath(raw).name


def open_zip(data: bytes | Path, limits: Limits | None = None) -> zipfile.ZipFile:
    """Open a zip (held in memory, or a file read as needed) and check its directory (member count, names).

    Raises:
        InputError: ``invalid_zip`` (unreadable, unsafe names), ``zip_too_large`` (413, too many members).
    """
    lim = resolve(limits)
    try:
        zf = zipfile.ZipFile(data if isinstance(data, Path) else io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise InputError(f"not a readable zip file: {exc}", code="invalid_zip") from exc
    if len(infos) > lim.max_zip_members:
        raise InputError(
            f"the zip lists {len(infos)} members (at most {lim.max_zip_members})", code="zip_too_large", status=413
        )
    for info in infos:
        _member_name(info)
    return zf


class _Budget:
    """Bytes extracted so far from one zip, against the limits."""

    def __init__(self, zip_size: int, limits: Limits) -> None:
        self.zip_size = max(zip_size, 1)
        self.limits = limits
        self.total = 0

    def add(self, n: int) -> None:
        self.total += n
        lim = self.limits
        if self.total > lim.max_unzipped_bytes:
            raise InputError(
                f"the zip expands to more than {lim.max_unzipped_bytes // (1024 * 1024)} MiB",
                code="zip_too_large",
                status=413,
            )
        if self.total > lim.zip_ratio_floor and self.total / self.zip_size > lim.max_zip_ratio:
            raise InputError(
                f"the zip expands more than {lim.max_zip_ratio:g} times its size (a zip bomb?)",
                code="zip_too_large",
                status=413,
            )


def _stream(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget, out: io.RawIOBase | io.BufferedIOBase) -> None:
    try:
        with zf.open(info) as src:
            while chunk := src.read(_CHUNK):
                budget.add(len(chunk))
                out.write(chunk)
    except InputError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
        raise InputError(f"the zip member {_member_name(info)!r} is damaged: {exc}", code="invalid_zip") from exc
    except (RuntimeError, NotImplementedError) as exc:  # encrypted, or an unsupported compression method
        raise InputError(f"cannot extract {_member_name(info)!r}: {exc}", code="invalid_zip") from exc


def extract(data: bytes, target: Path, limits: Limits | None = None) -> list[Path]:
    """Extract the files of a zip flat into ``target`` (folders dropped), counting every byte.

    Hidden files (``.``-prefixed, e.g. ``__MACOSX/._x``), directories and nested zips are skipped.

    Returns:
        the paths written.

    Raises:
        InputError: ``invalid_zip`` (damaged, encrypted, unsafe or duplicate names),
            ``zip_too_large`` (413) as soon as a bound is passed.
    """
    lim = resolve(limits)
    zf = open_zip(data, lim)
    budget = _Budget(len(data), lim)
    written: list[Path] = []
    seen: set[str] = set()
    for info in zf.infolist():
        name = _member_name(info)
        if info.is_dir() or not name or name.startswith(".") or name.lower().endswith((".zip", ".kmz")):
            continue
        if name.lower() in seen:
            raise InputError(f"the zip holds two files named {name!r}", code="invalid_zip")
        seen.add(name.lower())
        path = target / name
        with open(path, "wb") as out:
            _stream(zf, info, budget, out)
        written.append(path)
    return written


def read_member(data: bytes, suffix: str, limits: Limits | None = None) -> tuple[bytes, str]:
    """The first member of a zip whose name ends with ``suffix``, extracted with counted bytes.

    Returns:
        ``(bytes, member name)``.

    Raises:
        InputError: ``invalid_zip`` (no such member, damaged), ``zip_too_large`` (413).
    """
    lim = resolve(limits)
    zf = open_zip(data, lim)
    members = [i for i in zf.infolist() if not i.is_dir() and _member_name(i).lower().endswith(suffix)]
    members = [i for i in members if not _member_name(i).startswith(".")]
    if not members:
        raise InputError(f"the zip holds no {suffix} file", code="invalid_zip")
    buf = io.BytesIO()
    _stream(zf, members[0], _Budget(len(data), lim), buf)
    return buf.getvalue(), _member_name(members[0])


def check_kml(data: bytes, label: str) -> None:
    """Check that ``data`` is a KML document: well-formed XML, no DTD/entities, root ``kml``.

    Raises:
        InputError: ``invalid_kml`` (422).
    """
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise InputError(
            f"{label}: a KML must not carry a DTD or entities ({type(exc).__name__})", code="invalid_kml", status=422
        ) from exc
    except (ParseError, ValueError, RecursionError) as exc:
        raise InputError(f"{label} is not well-formed XML: {exc}", code="invalid_kml", status=422) from exc
    tag = root.tag.rsplit("}", 1)[-1] if isinstance(root.tag, str) else ""
    if tag.lower() != "kml":
        raise InputError(
            f"{label} is not KML: its root element is <{tag[:40]}>, not <kml>", code="invalid_kml", status=422
        )


def check_gpkg(path: Path, label: str) -> None:
    """Check a GeoPackage's SQLite schema before GDAL opens it (read-only, nothing executed).

    Refused: not SQLite; views (GDAL would evaluate them: a recursive view pins a CPU);
    triggers other than the GeoPackage/GDAL standard ones; virtual tables other than ``rtree``;
    generated columns.

    Raises:
        InputError: ``unreadable_file`` (422, not SQLite); ``invalid_gpkg`` (422, a refused schema object).
    """
    with path.open("rb") as f:
        head = f.read(16)
    if head != b"SQLite format 3\x00":
        raise InputError(f"{label} is not a GeoPackage (not an SQLite database)", code="unreadable_file", status=422)
    try:
        con = sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True)
    except sqlite3.Error as exc:
        raise InputError(f"{label} is not a readable GeoPackage: {exc}", code="unreadable_file", status=422) from exc
    try:
        con.execute("PRAGMA trusted_schema = OFF")
        rows = con.execute("SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master").fetchall()
        for kind, name, _table, sql in rows:
            compact = " ".join(sql.split()).upper()
            if kind == "view":
                raise InputError(
                    f"{label} holds a view ({name[:40]!r}): views are not accepted in uploaded GeoPackages",
                    code="invalid_gpkg",
                    status=422,
                )
            if kind == "trigger" and not _GPKG_TRIGGER.match(name):
                raise InputError(f"{label} holds a trigger ({name[:40]!r})", code="invalid_gpkg", status=422)
            if kind == "table" and compact.startswith("CREATE VIRTUAL TABLE"):
                module = re.search(r"USING\s+(\w+)", compact)
                if not module or module.group(1) != "RTREE":
                    raise InputError(
                        f"{label} holds a virtual table ({name[:40]!r}) that is not a spatial index",
                        code="invalid_gpkg",
                        status=422,
                    )
            if kind == "table" and ("GENERATED ALWAYS" in compact or re.search(r"\bAS\s*\(", compact)):
                raise InputError(f"{label}: table {name[:40]!r} has generated columns", code="invalid_gpkg", status=422)
    except sqlite3.Error as exc:
        raise InputError(f"{label} is not a readable GeoPackage: {exc}", code="unreadable_file", status=422) from exc
    finally:
        con.close()


def check_driver(path: Path, layer: str | None, expected: tuple[str, ...], label: str, tmp: str | Path) -> None:
    """Check that GDAL (pyogrio's) opens ``path`` with one of the ``expected`` drivers.

    Raises:
        InputError: ``unsupported_format`` (415) when another driver opened it; ``unreadable_file``.
    """
    import pyogrio

    try:
        used = str(pyogrio.read_info(path, layer=layer).get("driver", ""))
    except READ_ERRORS as exc:
        raise InputError(f"cannot read {label}: {scrub(str(exc), tmp, label)}", code="unreadable_file") from exc
    if used not in expected:
        raise InputError(
            f"{label} is not a {' / '.join(expected)} file (GDAL recognised it as {used or 'nothing'})",
            code="unsupported_format",
            status=415,
        )


#: File names inside a File Geodatabase folder (``a00000001.gdbtable``, ``.gdbtablx``, ``.gdbindexes``,
#: ``.spx``, ``.atx``, ``.freelist``, ``gdb``, ``timestamps``); anything else in the folder is skipped.
_GDB_MEMBER = re.compile(r"^(a[0-9a-f]{8}\.[a-z]{2,12}|gdb|timestamps)$", re.I)


def gdb_folder(names: list[str]) -> str | None:
    """The ``.gdb`` folder a zip's member names hold (``""`` when the folder's files are at the top level).

    Args:
        names: the zip's member names (``/``-separated).

    Returns:
        the folder's path inside the zip (``"survey.gdb"``, ``"data/survey.gdb"``), ``""`` for a
        geodatabase zipped without its folder (``gdb`` and ``a00000001.gdbtable`` at the top), or
        None when the zip holds no File Geodatabase.

    Raises:
        InputError: ``invalid_zip`` when the zip holds several ``.gdb`` folders.
    """
    folders = set()
    for raw in names:
        parts = PurePosixPath(raw.replace("\\", "/")).parts
        for i, part in enumerate(parts[:-1] if not raw.endswith("/") else parts):
            if part.lower().endswith(".gdb"):
                folders.add("/".join(parts[: i + 1]))
                break
    if len(folders) > 1:
        listed = ", ".join(sorted(folders))[:200]
        raise InputError(f"the zip holds several .gdb folders ({listed}): send one per file", code="invalid_zip")
    if folders:
        return folders.pop()
    top = {n.lower() for n in names if "/" not in n.strip("/")}
    return "" if "gdb" in top and "a00000001.gdbtable" in top else None


def extract_gdb(data: bytes | Path, target: Path, limits: Limits | None = None) -> Path:
    """Extract the File Geodatabase a zip (bytes, or a file: never read whole) holds into the folder
    ``target`` (created), counting every byte.

    Only the folder's own files are written (names as :data:`_GDB_MEMBER`: ``a…….gdbtable`` and
    its index files, ``gdb``, ``timestamps``); sub-folders, hidden and other files are skipped, so
    nothing but the geodatabase reaches GDAL.

    Returns:
        ``target``.

    Raises:
        InputError: ``invalid_zip`` (no ``.gdb`` folder, several, damaged, unsafe names, no table
            files), ``zip_too_large`` (413) as soon as a bound is passed.
    """
    lim = resolve(limits)
    zf = open_zip(data, lim)
    infos = zf.infolist()
    folder = gdb_folder([i.filename for i in infos])
    if folder is None:
        raise InputError("the zip holds no .gdb folder (a File Geodatabase)", code="invalid_zip")
    budget = _Budget(data.stat().st_size if isinstance(data, Path) else len(data), lim)
    target.mkdir(parents=True, exist_ok=True)
    written = 0
    prefix = folder + "/" if folder else ""
    for info in infos:
        raw = info.filename.replace("\\", "/")
        if info.is_dir() or not raw.startswith(prefix):
            continue
        rest = raw[len(prefix) :]
        if "/" in rest or not _GDB_MEMBER.match(rest):
            continue
        path = target / rest.lower()
        if path.exists():
            raise InputError(f"the zip holds two files named {rest!r}", code="invalid_zip")
        with open(path, "wb") as out:
            _stream(zf, info, budget, out)
        written += rest.lower().endswith(".gdbtable")
    if not written:
        raise InputError(f"the .gdb folder {folder or '(top level)'} holds no tables", code="invalid_zip")
    return target


def zip_gdb_folder(path: Path) -> bytes:
    """A ``.gdb`` folder on disk as the zip an upload of it would be (stored, not compressed), so a
    folder goes through the same reader and checks as a zipped geodatabase.

    Args:
        path: the ``.gdb`` folder (its files only; sub-folders are not part of a File Geodatabase).

    Raises:
        InputError: ``missing_file`` when ``path`` is not a folder.
    """
    if not path.is_dir():
        raise InputError(f"no such folder: {path.name}", code="missing_file")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for member in sorted(path.iterdir()):
            if member.is_file():
                zf.write(member, f"{path.name}/{member.name}")
    return buf.getvalue()
