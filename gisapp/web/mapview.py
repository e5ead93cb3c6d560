"""Placeholder map page (replaced by the Folium map)."""

from flask import Blueprint

mapview = Blueprint("mapview", __name__)


@mapview.get("/")
def index() -> str:
    return "<html><body>map</body></html>"
