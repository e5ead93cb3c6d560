"""A plan document as numbered lines of text: plain text, Word (.docx) and PDF with a text layer.

The readers are well-kept libraries: python-docx (MIT) for .docx and pypdf (BSD) for PDF. Line
numbers in a draft refer to the lines these readers return (for .txt: the file's own lines).
"""

from __future__ import annotations

from pathlib import Path

from gisapp.core.errors import InputError

#: The suffixes :func:`read_plan_lines` reads.
PLAN_SUFFIXES: tuple[str, ...] = (".txt", ".docx", ".pdf")


def _read_txt(path: Path) -> list[str]:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding).splitlines()
        except UnicodeDecodeError:
            continue
    raise InputError(f"{path.name}: not UTF-8 or GB18030 text", code="unreadable_plan")


def _read_docx(path: Path) -> list[str]:
    import docx  # python-docx

    try:
        document = docx.Document(str(path))
    except Exception as exc:  # python-docx raises several kinds (zip, XML, key errors)
        raise InputError(f"{path.name}: not a readable .docx ({type(exc).__name__})", code="unreadable_plan") from exc
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:  # 专栏 are often tables: one line per row, cells joined by '：'
        for row in table.rows:
            cells = [c.text.strip() for c in row.cells if c.text.strip()]
            lines.append("：".join(dict.fromkeys(cells)))
    return [line for chunk in lines for line in chunk.splitlines() or [""]]


def _read_pdf(path: Path) -> list[str]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError) as exc:
        raise InputError(f"{path.name}: not a readable PDF ({exc})", code="unreadable_plan") from exc
    text = "\n".join(pages)
    if not text.strip():
        raise InputError(f"{path.name}: the PDF has no text layer (scanned?); OCR it first", code="unreadable_plan")
    return text.splitlines()


def read_plan_lines(path: Path) -> list[str]:
    """Read a plan document as a list of lines (line ``i`` of the draft is ``lines[i - 1]``).

    Args:
        path: a ``.txt`` (UTF-8 or GB18030), ``.docx`` or text-layer ``.pdf`` file.

    Returns:
        the lines, without line ends.

    Raises:
        InputError: code ``missing_file`` / ``unreadable_plan`` for a missing, unsupported or unreadable
            file, or a PDF without a text layer.
    """
    if not path.is_file():
        raise InputError(f"no such file: {path.name}", code="missing_file")
    suffix = path.suffix.lower()
    if suffix == ".txt":
        return _read_txt(path)
    if suffix == ".docx":
        return _read_docx(path)
    if suffix == ".pdf":
        return _read_pdf(path)
    raise InputError(
        f"{path.name}: unsupported plan format '{suffix}' (use {', '.join(PLAN_SUFFIXES)})", code="unreadable_plan"
    )
