#!/usr/bin/env bash
# Re-create static/vendor/ from the npm registry, so the map page needs no CDN.
#
# The map page (gisapp/web/map_page.py, templates/map/page.html) loads, all from /static/vendor/:
#   leaflet                         the map
#   @geoman-io/leaflet-geoman-free  drawing (measure lines/areas, the overlap polygon)
#   leaflet.sync                    two synchronised maps (compare two plans)
#   proj4                           cursor position in CGCS2000 / 3-degree GK CM 114E (EPSG:4547)
#   gcoord                          WGS 84 <-> GCJ-02 for the AMap base map
#   geographiclib-geodesic          geodesic (ellipsoidal) distances and areas of the measure tool
#   rbush                           R-tree of placed label boxes: label collision (static/js/map/labels.js)
#   leaflet.vectorgrid              vector tiles (MVT) of large layers (static/js/map/large.js, /tiles/…)
#
# Usage: scripts/vendor_assets.sh            (from anywhere; needs npm and sha256sum)
# Result: static/vendor/<name>/…  and static/vendor/MANIFEST.txt (package@version, npm integrity,
#         licence, sha256 of every file). Check with: python -m pytest tests/test_map_page.py
set -euo pipefail

PACKAGES=(
    "leaflet@1.9.4"
    "@geoman-io/leaflet-geoman-free@2.20.2"
    "leaflet.sync@0.2.4"
    "proj4@2.22.0"
    "gcoord@1.0.7"
    "geographiclib-geodesic@2.2.0"
    "rbush@4.0.1"
    "leaflet.vectorgrid@1.3.0"
)

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
vendor="$repo_root/static/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/out"
for spec in "${PACKAGES[@]}"; do
    name="${spec%@*}"
    slug="$(echo "$name" | tr -d '@' | tr '/' '-')"
    (cd "$work" && npm pack --silent "$spec" >/dev/null)
    tarball="$(ls "$work"/"$slug"-*.tgz)"
    mkdir -p "$work/pkg-$slug"
    tar -xzf "$tarball" -C "$work/pkg-$slug"
    src="$work/pkg-$slug/package"
    case "$name" in
        leaflet)
            d="$work/out/leaflet"
            mkdir -p "$d/images"
            cp "$src/dist/leaflet.js" "$src/dist/leaflet.js.map" "$src/dist/leaflet.css" "$src/LICENSE" "$d/"
            cp "$src/dist/images/"*.png "$d/images/"
            ;;
        @geoman-io/leaflet-geoman-free)
            d="$work/out/geoman"
            mkdir -p "$d"
            cp "$src/dist/leaflet-geoman.min.js" "$src/dist/leaflet-geoman.css" "$src/LICENSE" "$d/"
            # the package ships no source maps: drop the comments that name them
            sed -i '/sourceMappingURL=/d' "$d/leaflet-geoman.min.js" "$d/leaflet-geoman.css"
            ;;
        leaflet.sync)
            d="$work/out/leaflet-sync"
            mkdir -p "$d"
            cp "$src/L.Map.Sync.js" "$src/LICENSE" "$d/"
            ;;
        proj4)
            d="$work/out/proj4"
            mkdir -p "$d"
            cp "$src/dist/proj4.js" "$src/LICENSE.md" "$d/"
            ;;
        gcoord)
            d="$work/out/gcoord"
            mkdir -p "$d"
            cp "$src/dist/gcoord.global.prod.js" "$src/LICENSE" "$d/"
            ;;
        geographiclib-geodesic)
            d="$work/out/geographiclib"
            mkdir -p "$d"
            cp "$src/geographiclib-geodesic.min.js" "$src/LICENSE.txt" "$d/"
            ;;
        rbush)
            d="$work/out/rbush"
            mkdir -p "$d"
            cp "$src/rbush.min.js" "$src/LICENSE" "$d/"
            ;;
        leaflet.vectorgrid)
            d="$work/out/vectorgrid"
            mkdir -p "$d"
            # the bundle holds its dependencies (pbf, vector-tile); its licence (Beerware) is in the README
            cp "$src/dist/Leaflet.VectorGrid.bundled.min.js" "$src/README.md" "$d/"
            sed -i '/sourceMappingURL=/d' "$d/Leaflet.VectorGrid.bundled.min.js"
            ;;
        *)
            echo "vendor_assets.sh: no copy rule for $name" >&2
            exit 1
            ;;
    esac
done

{
    echo "# Vendored front-end assets, served from /static/vendor/ (no CDN)."
    echo "# Re-create with scripts/vendor_assets.sh; do not edit by hand."
    for spec in "${PACKAGES[@]}"; do
        integrity="$(npm view --silent "$spec" dist.integrity 2>/dev/null || echo unknown)"
        licence="$(npm view --silent "$spec" license 2>/dev/null || echo unknown)"
        echo "package: $spec  licence: $licence  npm-integrity: $integrity"
    done
    echo "# sha256  path (relative to static/vendor/)"
    (cd "$work/out" && find . -type f ! -name MANIFEST.txt | sed 's|^\./||' | LC_ALL=C sort | xargs sha256sum)
} >"$work/out/MANIFEST.txt"

rm -rf "$vendor"
mkdir -p "$(dirname "$vendor")"
cp -r "$work/out" "$vendor"
echo "vendored into $vendor:"
cat "$vendor/MANIFEST.txt"
