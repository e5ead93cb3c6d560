#!/usr/bin/env bash
# Re-create static/vendor/ from the npm registry, so the map page needs no CDN.
#
# The page is built with folium 0.20.0, whose templates expect Leaflet 1.9.3. The page uses
# no jQuery, Bootstrap, Font Awesome or Leaflet.awesome-markers (gisapp/web/assets.py drops
# them from folium's defaults), so only Leaflet is vendored.
#
# Usage: scripts/vendor_assets.sh            (from anywhere; needs npm and sha256sum)
# Result: static/vendor/leaflet/{leaflet.js,leaflet.css,leaflet.js.map,LICENSE,images/*}
#         static/vendor/MANIFEST.txt (package@version, npm integrity, sha256 of every file)
set -euo pipefail

PACKAGES=("leaflet@1.9.3")

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
vendor="$repo_root/static/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/out"
for spec in "${PACKAGES[@]}"; do
    name="${spec%@*}"
    (cd "$work" && npm pack --silent "$spec" >/dev/null)
    tarball="$(ls "$work"/"$name"-*.tgz)"
    mkdir -p "$work/pkg-$name"
    tar -xzf "$tarball" -C "$work/pkg-$name"
    src="$work/pkg-$name/package"
    case "$name" in
        leaflet)
            mkdir -p "$work/out/leaflet/images"
            cp "$src/dist/leaflet.js" "$src/dist/leaflet.js.map" "$src/dist/leaflet.css" "$work/out/leaflet/"
            cp "$src/dist/images/"*.png "$work/out/leaflet/images/"
            cp "$src/LICENSE" "$work/out/leaflet/LICENSE"
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
        echo "package: $spec  npm-integrity: $integrity"
    done
    echo "# sha256  path (relative to static/vendor/)"
    (cd "$work/out" && find . -type f ! -name MANIFEST.txt | sed 's|^\./||' | LC_ALL=C sort | xargs sha256sum)
} >"$work/out/MANIFEST.txt"

rm -rf "$vendor"
mkdir -p "$(dirname "$vendor")"
cp -r "$work/out" "$vendor"
echo "vendored into $vendor:"
cat "$vendor/MANIFEST.txt"
