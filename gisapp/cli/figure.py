"""``gisapp figure PLAN -o out.pdf|png [--size A4|A3] [--lang zh|en] [--bbox W,S,E,N]``: a
print-ready figure of a plan's spatial structure (thin over :mod:`gisapp.report.figures`).

The format is taken from the output file's suffix (``.pdf`` or ``.png``). Exit 0 on success, 2
on bad input (unknown plan, bad bbox/size/lang/suffix, no CJK font installed) with one line on
stderr (via :func:`gisapp.cli.main`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from gisapp.core.errors import InputError


def cmd_figure(args: argparse.Namespace) -> int:
    """Render the figure and write it to ``args.output``; print one summary line."""
    from gisapp.cli.support import store_of
    from gisapp.report.figures import make_figure

    out = Path(args.output)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in ("pdf", "png"):
        raise InputError(f"the output file must end in .pdf or .png, not {out.name[:60]!r}", code="invalid_format")
    result = make_figure(args.plan, fmt=fmt, size=args.size, lang=args.lang, bbox=args.bbox, store=store_of(args))
    tmp = out.with_name(out.name + ".part")
    try:
        tmp.write_bytes(result.data)
        tmp.replace(out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(f"cannot write {out}: {exc.strerror}", code="cannot_write") from exc
    print(
        f"{out}: {result.size} {fmt.upper()}, {result.labelled} labels, "
        f"{result.stand_ins} not-located elements listed, {len(result.skipped)} names left out for space"
    )
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``figure`` command to the CLI."""
    p = sub.add_parser("figure", help="print-ready figure (PDF/PNG) of a plan's spatial structure")
    p.add_argument("plan", help="plan id, e.g. zhongshan-services-2021-2025 (the plan file name without .txt)")
    p.add_argument("-o", "--output", required=True, help="output file, .pdf or .png")
    p.add_argument("--size", default="A4", help="A4 (default) or A3, landscape")
    p.add_argument("--lang", default="zh", help="zh (default) or en: labels, legend and notes")
    p.add_argument("--bbox", help="W,S,E,N in WGS 84 degrees (default: the plan's fitted extent)")
    p.set_defaults(func=cmd_figure)
