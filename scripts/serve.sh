#!/usr/bin/env bash
# One command: install into .venv and start the map server on the bundled layers.
#   ./scripts/serve.sh            → http://127.0.0.1:5000/
#   PORT=8080 HOST=0.0.0.0 ./scripts/serve.sh
#   GISAPP_TILES=osm ./scripts/serve.sh   (optional online OpenStreetMap base map)
set -euo pipefail
. "$(dirname "$0")/_venv.sh" requirements.txt
exec gisapp serve --host "${HOST:-127.0.0.1}" --port "${PORT:-5000}" --tiles "${GISAPP_TILES:-none}"
