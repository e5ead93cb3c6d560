"""Zipped Shapefile reader, with the .dbf's text encoding decided and reported.

Encoding rule (the .dbf has no reliable encoding of its own):

1. a ``.cpg`` file names it (``UTF-8``, ``GBK``, ``936``, ``65001`` …): used;
2. otherwise the .dbf's records are decoded as UTF-8 *strictly*: if every byte sequence is
   valid UTF-8, the file is UTF-8;
3. otherwise GBK (as GB18030, its superset) — what Chinese land-registry software writes —
   if that decodes; else the reader gives up with ``unknown_encoding``.

The .dbf header's language driver id is reported when it names code page 936 (LDID 0x4D).
CRS: the ``.prj``; without one the CRS is inferred from the coordinates (never silently: the
result states it) or the upload is rejected (:mod:`gisapp.core.crsinfer`).
"""

from __future__ import annotations

import codecs
import tempfile
from pathlib import Path

import pyogrio

from gisapp.core.errors import READ_ERRORS, InputError
from gisapp.core.limits import Limits, resolve
from gisapp.io.readers import RawInput, json_safe_frame
from gisapp.io.readers.safety import check_driver, extract, scrub

_CPG_ALIASES = {"936": "gbk", "cp936": "gbk", "gb2312": "gbk", "65001": "utf-8", "utf8": "utf-8"}
_LDID_936 = 0x4D
_SHP_MAGIC = b"\x00\x00\x27\x0a"


def _check_shp(shp: Path, shx: Path) -> int:
    """Check the .shp/.shx headers (file code 9994, version 1000); return the .shx's record count."""
    for path in (shp, shx):
        with path.open("rb") as f:
            head = f.read(100)
        if len(head) < 100 or head[:4] != _SHP_MAGIC or int.from_bytes(head[28:32], "little") != 1000:
            raise InputError(f"{path.name} is not a Shapefile (bad header)", code="unreadable_file", status=422)
    return max((shx.stat().st_size - 100) // 8, 0)


def check_dbf(dbf: Path, records: int | None = None) -> int:
    """Check a .dbf's header against its size (and the .shx's record count); return its field count.

    Raises:
        InputError: ``corrupt_dbf`` (422): truncated, inconsistent header, or a record count that is
            not the geometry count (GDAL would drop the attributes, or pair them with the wrong parcels).
    """
    data = dbf.read_bytes()
    bad = f"{dbf.name} is damaged"
    if len(data) < 33:
        raise InputError(f"{bad}: truncated header", code="corrupt_dbf", status=422)
    n_records = int.from_bytes(data[4:8], "little")
    header_len = int.from_bytes(data[8:10], "little")
    record_len = int.from_bytes(data[10:12], "little")
    if data[0] & 0x07 not in (0x03, 0x04, 0x05) or header_len < 33 or record_len < 1:
        raise InputError(f"{bad}: not a dBASE table header", code="corrupt_dbf", status=422)
    if header_len > len(data) or data[header_len - 1] != 0x0D:
        raise InputError(f"{bad}: the field list is not terminated", code="corrupt_dbf", status=422)
    n_fields = (header_len - 33) // 32
    widths = sum(data[32 + 32 * i + 16] for i in range(n_fields) if data[32 + 32 * i] != 0x0D)
    if widths + 1 != record_len:
        raise InputError(f"{bad}: field widths do not add up to the record length", code="corrupt_dbf", status=422)
    if header_len + n_records * record_len > len(data):
        raise InputError(
            f"{bad}: it declares {n_records} records but holds {max(len(data) - header_len, 0) // record_len}",
            code="corrupt_dbf",
            status=422,
        )
    if records is not None and n_records != records:
        raise InputError(f"{bad}: {n_records} attribute records for {records} shapes", code="corrupt_dbf", status=422)
    return n_fields


def _cpg_encoding(cpg: Path) -> tuple[str, str]:
    declared = cpg.read_bytes()[:64].decode("ascii", errors="replace").strip()
    key = declared.lower()
    encoding = _CPG_ALIASES.get(key.replace("-", "").replace("_", ""), key)
    try:
        codecs.lookup(encoding)
    except LookupError as exc:
        raise InputError(
            f"the .cpg names an unknown encoding ({declared[:40]!r}): write UTF-8 or GBK in it, or remove it",
            code="unknown_encoding",
            status=422,
        ) from exc
    return encoding, f".dbf encoding {encoding.upper()} (from the .cpg)"


def dbf_encoding(dbf: bytes) -> tuple[str, str]:
    """Decide the text encoding of a .dbf without a .cpg.

    Args:
        dbf: the .dbf file's bytes.

    Returns:
        ``(encoding, reason)``: ``"utf-8"`` or ``"gbk"``, and one sentence saying why.

    Raises:
        InputError: ``unknown_encoding`` when the records are neither UTF-8 nor GBK.
    """
    if len(dbf) < 32:
        raise InputError("the .dbf is truncated", code="unreadable_file")
    header_len = int.from_bytes(dbf[8:10], "little")
    records = dbf[header_len:]
    ldid = dbf[29]
    try:
        records.decode("utf-8")
        return "utf-8", "no .cpg; the .dbf text is valid UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        records.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise InputError(
            "the .dbf text is neither UTF-8 nor GBK: add a .cpg naming its encoding", code="unknown_encoding"
        ) from exc
    why = "the .dbf header's language driver says code page 936" if ldid == _LDID_936 else "it is not valid UTF-8"
    return "gbk", f"no .cpg; the .dbf text decoded as GBK ({why})"


def read_zipped_shapefile(data: bytes, filename: str = "", limits: Limits | None = None) -> RawInput:
    """Read the (single polygon) Shapefile inside a zip.

    Args:
        data: the zip's bytes; it holds ``X.shp``, ``X.shx``, ``X.dbf`` and ideally ``X.prj``,
            ``X.cpg``. Folders inside the zip are ignored.
        filename: the zip's name (for messages).
        limits: the request's bounds (zip expansion counted while extracting).

    Returns:
        a :class:`~gisapp.io.readers.RawInput` (``format = "shapefile"``), ``crs`` from the .prj or None;
        date attributes as ISO 8601 text.

    Raises:
        InputError: ``invalid_zip`` (no/several .shp, missing .dbf/.shx, damaged), ``zip_too_large``
            (413), ``unknown_encoding`` (no .cpg and undecodable, or a .cpg naming an unknown encoding),
            ``corrupt_dbf`` (422), ``unknown_crs`` (422, a .prj GDAL cannot read), ``unreadable_file``.
    """
    notes: list[str] = []
    label = filename or "the zipped Shapefile"
    with tempfile.TemporaryDirectory(prefix="gisapp-shp-") as tmp:
        files = extract(data, Path(tmp), resolve(limits))
        shps = [p for p in files if p.suffix.lower() == ".shp"]
        if len(shps) != 1:
            names = ", ".join(p.name for p in shps)[:200] or "none"
            raise InputError(f"the zip must hold exactly one .shp (found: {names})", code="invalid_zip")
        shp = shps[0]
        siblings = {p.suffix.lower(): p for p in files if p.stem == shp.stem}
        for ext in (".dbf", ".shx"):
            if ext not in siblings:
                raise InputError(f"{shp.name} comes without its {ext} file", code="invalid_zip")
        shapes = _check_shp(shp, siblings[".shx"])
        n_fields = check_dbf(siblings[".dbf"], shapes)
        if ".cpg" in siblings:
            encoding, note = _cpg_encoding(siblings[".cpg"])
            notes.append(note)
        else:
            encoding, reason = dbf_encoding(siblings[".dbf"].read_bytes())
            notes.append(f".dbf encoding {encoding.upper()}: {reason}")
        check_driver(shp, None, ("ESRI Shapefile",), label, tmp)
        try:
            gdf = pyogrio.read_dataframe(shp, encoding=encoding)
        except READ_ERRORS as exc:
            msg = scrub(str(exc), tmp, shp.name)
            raise InputError(f"cannot read {shp.name}: {msg}", code="unreadable_file", status=422) from exc
        has_prj = ".prj" in siblings
        if has_prj and gdf.crs is None:
            raise InputError(
                f"{shp.name}'s .prj names no coordinate reference system GDAL can read: fix or remove it",
                code="unknown_crs",
                status=422,
            )
        if n_fields and len(gdf.columns) <= 1:
            raise InputError(f"the attributes of {shp.name} could not be read", code="corrupt_dbf", status=422)
    if not has_prj:
        notes.append(f"{shp.name} has no .prj: the CRS must be given or inferred")
    return RawInput(
        geometries=gdf.geometry.to_numpy(),
        properties=json_safe_frame(gdf.drop(columns=gdf.geometry.name).reset_index(drop=True)),
        crs=gdf.crs if has_prj else None,
        crs_source=".prj" if has_prj else "",
        format="shapefile",
        notes=notes,
    )
