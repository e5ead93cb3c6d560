"""``python -m gisapp`` runs the CLI."""

import sys

from gisapp.cli import main

sys.exit(main())
