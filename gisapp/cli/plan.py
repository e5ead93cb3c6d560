"""``gisapp plan draft PLAN [--city C] -o zones/NEW.yaml`` and ``gisapp plan review FILE`` (issue 17)."""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path
from typing import Any

from gisapp.cli.support import settings_of, write_atomic
from gisapp.core.errors import InputError


def cmd_plan_draft(args: argparse.Namespace) -> int:
    """Draft a zone file from a plan's text; every element ``status: draft``. Prints a summary on stderr."""
    from gisapp.plans.draft.pipeline import draft_plan
    from gisapp.plans.draft.writer import HEADER, dump_definition

    out = Path(args.output)
    if out.suffix.lower() not in (".yaml", ".yml"):
        raise InputError(f"-o must name a .yaml file, not {out.name}", code="invalid_output")
    if out.exists() and not args.force:
        raise InputError(f"{out} exists: pass --force to overwrite it", code="output_exists")
    draft = draft_plan(Path(args.plan), city=args.city, layer_id=args.id or out.stem)
    text = HEADER.format(plan=draft.data["plan"], name=out.name) + dump_definition(draft.data)
    write_atomic(text.encode("utf-8"), out)
    methods = collections.Counter(el["geometry"]["method"] for el in draft.data["elements"])
    print(
        f"wrote {out}: {len(draft.data['elements'])} draft elements from {len(draft.sections)} sections "
        f"({', '.join(f'{m} {n}' for m, n in methods.most_common())}); review: gisapp plan review {out.name}",
        file=sys.stderr,
    )
    return 0


def cmd_plan_review(args: argparse.Namespace) -> int:
    """Print the review page's URL of a zone file in the zones folder (and its status counts)."""
    from gisapp.plans.draft.review import _load, status_counts, zone_file

    settings = settings_of(args)
    path = zone_file(settings.zones_dir, Path(args.file).name)
    counts = status_counts(_load(path))
    base = (args.base_url or settings.base_url or "http://127.0.0.1:5000").rstrip("/")
    print(f"{base}/plans/review?file={path.name}")
    print(
        f"draft {counts['draft']}, accepted {counts['accepted']}, rejected {counts['rejected']}"
        + ("" if counts["draft"] else " — publishable: gisapp build"),
        file=sys.stderr,
    )
    return 0


def register(sub: Any) -> None:
    """Add ``plan draft`` and ``plan review`` to the ``gisapp`` sub-parsers."""
    plan = sub.add_parser("plan", help="draft a zone file from a plan's text and review it").add_subparsers(
        dest="plan_cmd", required=True
    )
    s = plan.add_parser("draft", help="draft zones/NEW.yaml from a plan (.txt, .docx, text-layer .pdf)")
    s.add_argument("plan", help="the plan document")
    s.add_argument("--city", help="the plan's city, e.g. 中山市 (default: the first city its opening lines name)")
    s.add_argument("--id", help="the layer id (default: the output file's name)")
    s.add_argument("-o", "--output", required=True, help="the zone file to write (.yaml)")
    s.add_argument("--force", action="store_true", help="overwrite an existing output file")
    s.set_defaults(func=cmd_plan_draft)
    s = plan.add_parser("review", help="print the review page's URL of a drafted zone file")
    s.add_argument("file", help="a zone file in the zones folder ($GISAPP_ZONES_DIR or zones/)")
    s.add_argument("--base-url", help="the server's URL (default $GISAPP_BASE_URL or http://127.0.0.1:5000)")
    s.set_defaults(func=cmd_plan_review)
