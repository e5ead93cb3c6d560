// The drawn layers of one Leaflet map, loaded from the server by bounding box and zoom.
//
// Nothing is embedded in the page: for every visible layer the map asks
// /api/map/layers/<id>/features?bbox=…&zoom=… for the view (padded by half its size on each side)
// and asks again when the zoom changes or the view leaves the box it has. Styles come with the
// features (server side: gisapp/web/map_styles.py); tooltips are escaped by the server.
// Points are drawn as symbols by role (labels.js ShapeMarker); stand-ins (a Point standing for a whole
// town, district or city: properties.standin) are never drawn as points — standIns(id) lists them.
// The LabelEngine (labels.js) writes the names and spreads coincident points after every change.

/* global L */

import { LabelEngine, ShapeMarker } from './labels.js';

const PAD = 0.5;

export class LayerSet {
  /**
   * @param {L.Map} map
   * @param {object} config  the page configuration (layers, panes, api)
   * @param {import('./datum.js').Datum} datum
   * @param {{onFeatureClick?: Function, isBusy?: Function}} hooks
   */
  constructor(map, config, datum, hooks = {}) {
    this.map = map;
    this.config = config;
    this.datum = datum;
    this.hooks = hooks;
    this.entries = new Map(config.layers.map((l) => [l.id, l]));
    this.state = new Map();
    this.pending = 0;
    this.waiters = [];
    this.listeners = [];
    this.batching = 0; // depth of batch() calls: listeners wait until the outermost one ends
    for (const pane of config.panes) {
      if (!map.getPane(pane.name)) {
        const p = map.createPane(pane.name);
        p.style.zIndex = String(pane.z_index);
      }
    }
    for (const entry of config.layers) {
      this.state.set(entry.id, { visible: false, opacity: 1, group: null, loaded: null, seq: 0, standins: [] });
    }
    map.on('moveend', () => this.refresh());
    this.labels = new LabelEngine(map, this, datum);
  }

  /** Ids of every layer, bottom first. */
  ids() {
    return [...this.entries.keys()];
  }

  isVisible(id) {
    const s = this.state.get(id);
    return Boolean(s && s.visible);
  }

  opacity(id) {
    const s = this.state.get(id);
    return s ? s.opacity : 1;
  }

  visibleIds() {
    return this.ids().filter((id) => this.isVisible(id));
  }

  /** Call fn() after every visibility or opacity change. */
  onChange(fn) {
    this.listeners.push(fn);
  }

  /** Change several layers at once: fn() calls setVisible/setOpacity, the listeners hear of it once, after. */
  batch(fn) {
    this.batching += 1;
    try {
      fn();
    } finally {
      this.batching -= 1;
    }
    if (!this.batching) this._changed();
  }

  _changed() {
    if (this.batching) return;
    for (const fn of this.listeners) fn();
  }

  _group(id) {
    const s = this.state.get(id);
    if (s.group) return s.group;
    const entry = this.entries.get(id);
    s.group = L.geoJSON(null, {
      pane: entry.pane,
      interactive: entry.interactive,
      style: (f) => this.styleFor(f, s.opacity),
      filter: (f) => !(f.properties && f.properties.standin),
      pointToLayer: (f, latlng) => new ShapeMarker(latlng, this.styleFor(f, s.opacity)),
      onEachFeature: (f, layer) => {
        if (!entry.interactive) return;
        if (f.properties.tooltip) {
          layer.bindTooltip(f.properties.tooltip, { sticky: true, className: 'gisapp-tooltip', pane: 'tooltipPane' });
        }
        layer.on('click', (e) => {
          if (this.hooks.isBusy && this.hooks.isBusy()) return; // a drawing tool takes the click
          L.DomEvent.stop(e);
          if (this.hooks.onFeatureClick) this.hooks.onFeatureClick(id, f.id, e);
        });
      },
    });
    return s.group;
  }

  /** The Leaflet style of a feature at a layer opacity (0…1). */
  styleFor(feature, opacity) {
    const style = Object.assign({}, feature.properties.style);
    style.opacity = (style.opacity === undefined ? 1 : style.opacity) * opacity;
    style.fillOpacity = (style.fillOpacity === undefined ? 0.2 : style.fillOpacity) * opacity;
    return style;
  }

  /** Show or hide a layer (loads its features for the view when shown). */
  setVisible(id, visible, { silent = false } = {}) {
    const s = this.state.get(id);
    if (!s || s.visible === Boolean(visible)) return;
    s.visible = Boolean(visible);
    const group = this._group(id);
    if (s.visible) {
      group.addTo(this.map);
      this.load(id);
    } else {
      group.remove();
    }
    this.labels.schedule();
    if (!silent) this._changed();
  }

  /** Set a layer's opacity (0…1), applied to its outlines and fills. */
  setOpacity(id, value, { silent = false } = {}) {
    const s = this.state.get(id);
    if (!s) return;
    s.opacity = Math.max(0, Math.min(1, value));
    if (s.group) s.group.setStyle((f) => this.styleFor(f, s.opacity));
    if (!silent) this._changed();
  }

  /** Whether data loaded for (zoom, bounds, datum) can draw the current view: it must cover the view,
   *  be at most one zoom level coarser (simplified to half a pixel there: one pixel here) and at
   *  most two levels finer (more detail than needed, never less). */
  covers(loaded) {
    const zoom = this.map.getZoom();
    return (
      loaded &&
      loaded.datum === this.datum.name &&
      zoom - loaded.zoom <= 1 &&
      loaded.zoom - zoom <= 2 &&
      loaded.bounds.contains(this.map.getBounds())
    );
  }

  /** Reload the visible layers whose data does not cover the view (force: all of them). */
  refresh(force = false) {
    for (const id of this.visibleIds()) {
      if (force || !this.covers(this.state.get(id).loaded)) this.load(id);
    }
  }

  /** Fetch a layer's features for the current view and zoom. */
  load(id) {
    const s = this.state.get(id);
    const zoom = this.map.getZoom();
    const bounds = this.map.getBounds().pad(PAD);
    const bbox = this.datum.boundsToBbox(bounds).map((v) => v.toFixed(5)).join(',');
    const url = `${this.config.api.features.replace('{layer}', encodeURIComponent(id))}?bbox=${bbox}&zoom=${zoom}`;
    const seq = ++s.seq;
    const datum = this.datum.name;
    this.pending += 1;
    return fetch(url)
      .then((r) => {
        if (!r.ok) throw new Error(`${id}: HTTP ${r.status}`);
        return r.json();
      })
      .then((fc) => {
        if (seq !== s.seq || !s.visible || datum !== this.datum.name) return;
        const group = this._group(id);
        group.clearLayers();
        const shown = this.datum.geojsonToDisplay(fc);
        s.standins = shown.features.filter((f) => f.properties && f.properties.standin);
        group.addData(shown);
        s.loaded = { zoom, bounds, datum };
        this.labels.schedule();
        if (this.hooks.onLoaded) this.hooks.onLoaded(id);
      })
      .catch((err) => {
        console.warn('gisapp: could not load layer', id, err); // eslint-disable-line no-console
        const status = document.getElementById('gisapp-status');
        if (status) status.textContent = `⚠ ${id}`;
      })
      .finally(() => {
        this.pending -= 1;
        if (this.pending === 0) this._resolveIdle();
      });
  }

  _resolveIdle() {
    const waiters = this.waiters.splice(0);
    requestAnimationFrame(() => waiters.forEach((fn) => fn()));
  }

  /** A promise resolved once no layer is loading (and the result is drawn). */
  idle() {
    if (this.pending === 0) return new Promise((resolve) => requestAnimationFrame(() => resolve()));
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The Leaflet layer of a feature, if it is loaded. */
  featureLayer(id, featureId) {
    const s = this.state.get(id);
    if (!s || !s.group) return null;
    let found = null;
    s.group.eachLayer((layer) => {
      if (layer.feature && layer.feature.id === featureId) found = layer;
    });
    return found;
  }

  /** The stand-in features (GeoJSON, not drawn) of a layer in the loaded view: Points standing for a
   *  whole town, district or city (uncertainty_m >= STAND_IN_M), for the 未定位要素 list. */
  standIns(id) {
    const s = this.state.get(id);
    return s ? s.standins.slice() : [];
  }

  /** Every loaded feature layer of a layer (for tests and the overlap tool). */
  featureLayers(id) {
    const s = this.state.get(id);
    return s && s.group ? s.group.getLayers() : [];
  }
}
