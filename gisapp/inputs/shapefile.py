"""Zipped Shapefile reader, with the .dbf's text encoding decided and reported.

Encoding rule (the .dbf has no reliable encoding of its own):

1. a ``.cpg`` file names it (``UTF-8``, ``GBK``, ``936``, ``65001`` …): used;
2. otherwise the .dbf's records are decoded as UTF-8 *strictly*: if every byte sequence is
   valid UTF-8, the file is UTF-8;
3. otherwise GBK (as GB18030, its superset) — what Chinese land-registry software writes —
   if that decodes; else the reader gives up with ``unknown_encoding``.

The .dbf header's language driver id is reported when it names code page 936 (LDID 0x4D).
CRS: the ``.prj``; without one the CRS is inferred from the coordinates (never silently: the
result states it) or the upload is rejected (:mod:`gisapp.crsinfer`).
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

import pyogrio

from gisapp.errors import InputError
from gisapp.inputs import MAX_UNZIPPED_BYTES, RawInput

_CPG_ALIASES = {"936": "gbk", "cp936": "gbk", "gb2312": "gbk", "65001": "utf-8", "utf8": "utf-8"}
_LDID_936 = 0x4D


def _safe_extract(zf: zipfile.ZipFile, target: Path) -> list[Path]:
    infos = [i for i in zf.infolist() if not i.is_dir()]
    if sum(i.file_size for i in infos) > MAX_UNZIPPED_BYTES:
        raise InputError("the zip expands to more than 2 GiB", code="invalid_zip", status=413)
    out = []
    for info in infos:
        name = PurePosixPath(info.filename.replace("\\", "/")).name
        if not name or name.startswith("."):
            continue
        path = target / name
        path.write_bytes(zf.read(info))
        out.append(path)
    return out


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


def read_zipped_shapefile(data: bytes, filename: str = "") -> RawInput:
    """Read the (single polygon) Shapefile inside a zip.

    Args:
        data: the zip's bytes; it holds ``X.shp``, ``X.shx``, ``X.dbf`` and ideally ``X.prj``,
            ``X.cpg``. Folders inside the zip are ignored.
        filename: the zip's name (for messages).

    Returns:
        a :class:`~gisapp.inputs.RawInput` (``format = "shapefile"``), ``crs`` from the .prj or None.

    Raises:
        InputError: ``invalid_zip`` (no/several .shp, missing .dbf/.shx, too large),
            ``unknown_encoding``, ``unreadable_file``.
    """
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="gisapp-shp-") as tmp:
        try:
            files = _safe_extract(zipfile.ZipFile(io.BytesIO(data)), Path(tmp))
        except zipfile.BadZipFile as exc:
            raise InputError(f"not a readable zip file: {exc}", code="invalid_zip") from exc
        shps = [p for p in files if p.suffix.lower() == ".shp"]
        if len(shps) != 1:
            names = ", ".join(p.name for p in shps) or "none"
            raise InputError(f"the zip must hold exactly one .shp (found: {names})", code="invalid_zip")
        shp = shps[0]
        siblings = {p.suffix.lower(): p for p in files if p.stem == shp.stem}
        for ext in (".dbf", ".shx"):
            if ext not in siblings:
                raise InputError(f"{shp.name} comes without its {ext} file", code="invalid_zip")
        if ".cpg" in siblings:
            declared = siblings[".cpg"].read_text("ascii", errors="replace").strip().lower()
            encoding = _CPG_ALIASES.get(declared.replace("-", "").replace("_", ""), declared)
            notes.append(f".dbf encoding {encoding.upper()} (from the .cpg)")
        else:
            encoding, reason = dbf_encoding(siblings[".dbf"].read_bytes())
            notes.append(f".dbf encoding {encoding.upper()}: {reason}")
        try:
            gdf = pyogrio.read_dataframe(shp, encoding=encoding)
        except Exception as exc:
            raise InputError(f"cannot read {shp.name}: {exc}", code="unreadable_file") from exc
        has_prj = ".prj" in siblings
    if not has_prj:
        notes.append(f"{shp.name} has no .prj: the CRS must be given or inferred")
    return RawInput(
        geometries=gdf.geometry.to_numpy(),
        properties=gdf.drop(columns=gdf.geometry.name).reset_index(drop=True),
        crs=gdf.crs if has_prj and gdf.crs is not None else None,
        crs_source=".prj" if has_prj else "",
        format="shapefile",
        notes=notes,
    )
