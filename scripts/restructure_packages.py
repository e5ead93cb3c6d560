"""One-off: move gisapp's flat modules into packages that show the architecture (issue 14).

Run from the repository root on a clean tree: ``python scripts/restructure_packages.py``.
It ``git mv``s every module, then rewrites every reference (imports, dotted strings, file
paths in docs) in gisapp/, tests/, benchmarks/, scripts/, docs/ and README.md.
Kept in the repository as the record of what moved where (see docs/architecture.md).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: old dotted name (under gisapp.) → new dotted name (under gisapp.)
MOVES: dict[str, str] = {
    # core: no imports of ours except within core
    "errors": "core.errors",
    "units": "core.units",
    "crs": "core.crs",
    "crsinfer": "core.crsinfer",
    "chinacrs": "core.chinacrs",
    "jsontext": "core.jsontext",
    "limits": "core.limits",
    "settings": "core.settings",
    "paths": "core.paths",
    "chunks": "core.chunks",
    "registry": "core.registry",
    "extensions": "core.extensions",
    # the layer store
    "layerstore": "store.layerstore",
    "storetxn": "store.storetxn",
    "layercheck": "store.layercheck",
    # plans: zone files, geometry methods, towns, base data, build, validate
    "structures": "plans.structures",
    "zoneschema": "plans.zoneschema",
    "geomethods": "plans.geomethods",
    "powercells": "plans.powercells",
    "towns": "plans.towns",
    "gazetteer": "plans.gazetteer",
    "basemaps": "plans.basemaps",
    "redline": "plans.redline",
    "validate": "plans.validate",
    "evidence": "plans.evidence",
    "build": "plans.build",
    "schemaexport": "plans.schemaexport",
    "search": "plans.search",
    # input and output
    "inputs": "io.readers",
    "writers": "io.writers",
    "formats": "io.formats",
    "export": "io.export",
    "gdalpolicy": "io.gdalpolicy",
    "isolation": "io.isolation",
    # analysis
    "overlap": "analysis.overlap",
    "parcels": "analysis.parcels",
    "accounting": "analysis.accounting",
    "zonalstats": "analysis.zonalstats",
    "metrics": "analysis.metrics",
    "service": "analysis.service",
    # reports and figures
    "report": "report.overlap_report",
    "figures": "report.figures",
    "symbology": "report.symbology",
    # command line
    "clisupport": "cli.support",
}
CLI_PREFIX = "cli_"
PACKAGES = ("core", "store", "plans", "io", "analysis", "report", "cli")
TEXT_GLOBS = ("gisapp/**/*.py", "tests/**/*.py", "benchmarks/**/*.py", "scripts/**/*.py", "scripts/*.sh")
DOC_GLOBS = ("docs/**/*.md", "README.md", "data/**/*.md", "layers/**/*.md")


def run(*args: str) -> None:
    subprocess.run(args, cwd=ROOT, check=True)


def cli_moves() -> dict[str, str]:
    return {p.stem: "cli." + p.stem[len(CLI_PREFIX) :] for p in sorted((ROOT / "gisapp").glob(f"{CLI_PREFIX}*.py"))}


def move_files(moves: dict[str, str]) -> None:
    for pkg in PACKAGES:
        (ROOT / "gisapp" / pkg).mkdir(exist_ok=True)
    run("git", "mv", "gisapp/cli.py", "gisapp/cli/__init__.py")
    for old, new in moves.items():
        src = ROOT / "gisapp" / old
        dst = ROOT / "gisapp" / Path(*new.split("."))
        if src.is_dir() and not src.with_suffix(".py").exists():
            run("git", "mv", str(src.relative_to(ROOT)), str(dst.relative_to(ROOT)))
        else:
            run("git", "mv", f"gisapp/{old}.py", str(dst.relative_to(ROOT)) + ".py")
    for pkg in PACKAGES:
        init = ROOT / "gisapp" / pkg / "__init__.py"
        if not init.exists():
            init.write_text(f'"""{DOCS[pkg]}"""\n', "utf-8")
            run("git", "add", str(init.relative_to(ROOT)))


DOCS = {
    "core": "Core: errors, units, CRS handling, settings, paths, limits, small shared helpers. Imports nothing of ours outside core.",
    "store": "The layer store: files, versions and transactions, consistency checks (LayerStore, VersionedStore).",
    "plans": "Plans as data: zone-file schema, geometry methods, towns, base layers, build, validate, evidence.",
    "io": "Input and output: the reader and writer registries, export formats, GDAL policy, isolated reads.",
    "analysis": "Analyses: overlap (压占分析), parcels, control-line accounting, zonal statistics, metrics, use cases.",
    "report": "Reports and figures: the overlap report (HTML/PDF), print-ready plan figures, symbology.",
    "cli": "The gisapp command line (entry point): one module per command group.",
}


def rewrite_modules(text: str, moves: dict[str, str]) -> str:
    names = sorted(moves, key=len, reverse=True)
    # a name that is also a new package (report) is not rewritten where it already is the package
    dotted = re.compile(
        r"\bgisapp\.("
        + "|".join(map(re.escape, names))
        + r")(?![\w])(?!\.(?:overlap_report|figures|symbology|map_styles)\b)"
    )

    def to_new(m: re.Match[str]) -> str:
        new = "gisapp." + moves[m.group(1)]
        already = m.string.startswith(new, m.start()) and not m.string.startswith(new + "_", m.start())
        return m.group(0) if already and new != m.group(0) else new

    text = dotted.sub(to_new, text)

    def from_gisapp(m: re.Match[str]) -> str:
        indent, body, tail = m.group(1), m.group(2), m.group(3) or ""
        groups: dict[str, list[str]] = {}
        for item in (s.strip() for s in body.split(",")):
            name = item.split(" as ")[0].strip()
            parent = "gisapp." + moves[name].rsplit(".", 1)[0] if name in moves and "." in moves[name] else "gisapp"
            alias = item.replace(name, moves[name].rsplit(".", 1)[-1], 1) if name in moves else item
            if name in moves and " as " not in item and moves[name].rsplit(".", 1)[-1] != name:
                alias = f"{moves[name].rsplit('.', 1)[-1]} as {name}"
            groups.setdefault(parent, []).append(alias)
        return "\n".join(f"{indent}from {p} import {', '.join(v)}{tail}" for p, v in groups.items())

    return re.sub(r"^([ \t]*)from gisapp import ([\w ,]+?)([ \t]+#.*)?$", from_gisapp, text, flags=re.M)


def rewrite_paths(text: str, moves: dict[str, str]) -> str:
    names = sorted(moves, key=len, reverse=True)
    pattern = re.compile(r"\bgisapp/(" + "|".join(map(re.escape, names)) + r")(\.py|/)")
    return pattern.sub(lambda m: "gisapp/" + moves[m.group(1)].replace(".", "/") + m.group(2), text)


def main() -> int:
    moves = {**MOVES, **cli_moves()}
    move_files(moves)
    all_moves = {**moves, "cli": "cli"}
    for pattern in TEXT_GLOBS + DOC_GLOBS:
        for path in ROOT.glob(pattern):
            if path.name == Path(__file__).name:
                continue
            text = path.read_text("utf-8")
            new = rewrite_paths(rewrite_modules(text, all_moves), moves)
            if new != text:
                path.write_text(new, "utf-8")
    print(f"moved {len(moves) + 1} modules into {len(PACKAGES)} packages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
