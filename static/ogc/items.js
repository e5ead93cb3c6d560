// OGC API – Features HTML pages (items list and one item): draw the page's GeoJSON with the vendored
// Leaflet. The features come from the element's data-geojson attribute (HTML-escaped by the template),
// never from an inline script, so the page runs under a CSP without 'unsafe-inline'.
(function () {
  "use strict";
  var el = document.querySelector("[data-geojson]");
  if (!el || !window.L) {
    return;
  }
  var map = L.map(el);
  var layer = L.geoJSON(JSON.parse(el.getAttribute("data-geojson"))).addTo(map);
  var bounds = layer.getBounds();
  if (bounds.isValid()) {
    map.fitBounds(bounds);
  } else {
    map.setView([22.5, 113.4], 9);
  }
})();
