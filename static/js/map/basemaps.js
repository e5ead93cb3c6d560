// Base maps: the offline base (the store's own boundaries, no tiles) by default; OpenStreetMap,
// 天地图 (with a configured key) and AMap (GCJ-02: every vector layer is shifted to match) on demand.
// Attribution stays visible for each.

/* global L */

export class BaseMaps {
  constructor(app) {
    this.app = app;
    this.maps = new Map(app.config.basemaps.map((m) => [m.id, m]));
    this.current = null;
    this.tiles = new Map(); // L.Map -> [tile layers]
    this.attribution = new Map(); // L.Map -> offline attribution text
    this.select = document.getElementById('gisapp-basemap');
    this.select.addEventListener('change', () => this.use(this.select.value));
  }

  /** Attach another map (compare mode) so that it shows the same base map. */
  attach(map) {
    this._apply(map);
  }

  _apply(map) {
    for (const layer of this.tiles.get(map) || []) layer.remove();
    const old = this.attribution.get(map);
    if (old) map.attributionControl.removeAttribution(old);
    this.attribution.delete(map);
    const base = this.maps.get(this.current);
    const layers = base.tiles.map((t) =>
      L.tileLayer(t.url, {
        attribution: t.attribution,
        subdomains: t.subdomains || 'abc',
        maxZoom: t.max_zoom,
        className: 'gisapp-tiles',
      }).addTo(map),
    );
    this.tiles.set(map, layers);
    if (base.attribution) {
      map.attributionControl.addAttribution(base.attribution);
      this.attribution.set(map, base.attribution);
    }
    map.getContainer().classList.toggle('gisapp-online', base.online);
  }

  /** Switch to a base map by id; the vector layers follow its datum. */
  use(id) {
    if (!this.maps.has(id)) id = 'offline';
    const base = this.maps.get(id);
    const { map, datum, layers, details } = this.app;
    const changed = this.current !== null && datum.name !== base.datum;
    const centre = datum.toWgs(map.getCenter());
    this.current = id;
    this.select.value = id;
    datum.set(base.datum);
    for (const m of this.app.allMaps()) this._apply(m);
    const note = document.getElementById('gisapp-datum-note');
    note.textContent = '';
    if (datum.shifted) {
      note.textContent = '显示坐标：GCJ-02（矢量图层已偏移以对齐高德底图；坐标读数仍为 WGS 84）/ display in GCJ-02';
    }
    if (changed) {
      map.setView(datum.toDisplay(centre), map.getZoom(), { animate: false });
      for (const ls of this.app.allLayerSets()) ls.refresh(true);
      layers.idle().then(() => details.highlight());
      this.app.tools.redatum();
    }
    this.app.state.schedule();
  }
}
