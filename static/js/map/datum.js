// Display datum of the vector layers: WGS 84 (default) or GCJ-02 (when an AMap base map is chosen).
// Data, the URL state and every request stay in WGS 84; only what is drawn is shifted, with the
// vendored gcoord library (WGS 84 -> GCJ-02 exact; the inverse iterates to 1e-6 degree).

/* global gcoord, L */

export class Datum {
  constructor() {
    this.name = 'wgs84';
  }

  /** 'wgs84' or 'gcj02'. */
  set(name) {
    this.name = name === 'gcj02' ? 'gcj02' : 'wgs84';
  }

  get shifted() {
    return this.name === 'gcj02';
  }

  /** A WGS 84 L.LatLng (or [lat, lng]) as drawn on the map. */
  toDisplay(latlng) {
    const ll = L.latLng(latlng);
    if (!this.shifted) return ll;
    const [lng, lat] = gcoord.transform([ll.lng, ll.lat], gcoord.WGS84, gcoord.GCJ02);
    return L.latLng(lat, lng);
  }

  /** A map (display) L.LatLng back in WGS 84. */
  toWgs(latlng) {
    const ll = L.latLng(latlng);
    if (!this.shifted) return ll;
    const [lng, lat] = gcoord.transform([ll.lng, ll.lat], gcoord.GCJ02, gcoord.WGS84);
    return L.latLng(lat, lng);
  }

  /** A WGS 84 GeoJSON object shifted for display (in place; returned). */
  geojsonToDisplay(obj) {
    if (!this.shifted || !obj || !obj.features || !obj.features.length) return obj;
    return gcoord.transform(obj, gcoord.WGS84, gcoord.GCJ02);
  }

  /** [minlon, minlat, maxlon, maxlat] (WGS 84) as display L.LatLngBounds. */
  bboxToDisplay(bbox) {
    return L.latLngBounds(this.toDisplay([bbox[1], bbox[0]]), this.toDisplay([bbox[3], bbox[2]]));
  }

  /** Display L.LatLngBounds as a WGS 84 [minlon, minlat, maxlon, maxlat]. */
  boundsToBbox(bounds) {
    const sw = this.toWgs(bounds.getSouthWest());
    const ne = this.toWgs(bounds.getNorthEast());
    const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
    return [clamp(sw.lng, -180, 180), clamp(sw.lat, -90, 90), clamp(ne.lng, -180, 180), clamp(ne.lat, -90, 90)];
  }
}
