// The details panel: escaped HTML from /api/map/layers/<id>/features/<fid> (or a gazetteer place),
// the selected feature outlined on the map, its links to member towns and related features.

/* global L */

const HALO = { color: '#ffd400', weight: 7, opacity: 0.9, fill: false, interactive: false };
// The positional uncertainty of a selected point (metres on the ground): a dashed circle, so a point
// that stands for a whole district never reads as more precise than its source.
const UNCERTAINTY = {
  color: '#b8860b', weight: 2, dashArray: '6 6', fill: true, fillOpacity: 0.06, interactive: false,
  className: 'gisapp-uncertainty',
};

export class Details {
  /**
   * @param {object} app  {config, map, layers, datum, state, search}
   */
  constructor(app) {
    this.app = app;
    this.panel = document.getElementById('gisapp-details');
    this.body = document.getElementById('gisapp-details-body');
    this.current = null;
    this.halo = L.layerGroup().addTo(app.map);
    if (!app.map.getPane('gisapp-selection')) {
      app.map.createPane('gisapp-selection').style.zIndex = '450';
      app.map.getPane('gisapp-selection').style.pointerEvents = 'none';
    }
    document.getElementById('gisapp-details-close').addEventListener('click', () => this.close());
    this.body.addEventListener('click', (e) => {
      const go = e.target.closest('.gisapp-goto');
      if (go) {
        app.search.go(go.dataset.query);
        return;
      }
      const open = e.target.closest('.gisapp-open');
      if (open) {
        app.layers.setVisible(open.dataset.layer, true);
        this.open(open.dataset.layer, open.dataset.id, { zoom: true });
      }
    });
  }

  async _fetch(url) {
    const r = await fetch(url);
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    return r.json();
  }

  _show(data) {
    this.body.innerHTML = data.html; // escaped by the server (templates/map/details.html)
    this.panel.hidden = false;
    // on a narrow map the legend folds while the panel is open (the title and citation stay)
    const legend = document.getElementById('gisapp-legend-box');
    if (legend && legend.open && this.app.map.getSize().x < 1300) {
      legend.open = false;
      this.foldedLegend = true;
    }
    this.body.scrollTop = 0;
    this.data = data;
  }

  /** Open the details of a layer's feature; zoom: fit the map to it. */
  async open(layerId, featureId, { zoom = false } = {}) {
    const api = this.app.config.api.details
      .replace('{layer}', encodeURIComponent(layerId))
      .replace('{id}', encodeURIComponent(featureId));
    let data;
    try {
      data = await this._fetch(api);
    } catch (err) {
      this.body.textContent = `要素不存在 / feature not found: ${layerId}/${featureId}`;
      this.panel.hidden = false;
      return null;
    }
    this.current = { layer: layerId, id: featureId };
    this._show(data);
    if (zoom) await this.zoomTo(data.bbox);
    else this.keepClear(data.bbox);
    this.highlight();
    this.app.state.schedule();
    return data;
  }

  /** Open the details of a gazetteer place (a point). */
  async openPlace(name, { zoom = false } = {}) {
    let data;
    try {
      data = await this._fetch(this.app.config.api.place.replace('{name}', encodeURIComponent(name)));
    } catch (err) {
      return null;
    }
    this.current = { place: name };
    this._show(data);
    if (zoom) await this.zoomTo(data.bbox, 14);
    else this.keepClear(data.bbox);
    this.highlight();
    this.app.state.schedule();
    return data;
  }

  /** Width (px) the docked panel takes from the right of the main map (0 when it is closed). */
  panelInset() {
    if (this.panel.hidden) return 0;
    const map = this.app.map.getContainer().getBoundingClientRect();
    const panel = this.panel.getBoundingClientRect();
    return Math.max(0, map.right - panel.left);
  }

  /** Padding [left, top] (px) that keeps a fitted box clear of the title card: below it when it is short
   *  (legend folded), else right of it. */
  cardInset() {
    const card = document.getElementById('gisapp-view-card');
    if (!card || card.offsetParent === null) return [30, 30];
    const map = this.app.map.getContainer().getBoundingClientRect();
    const r = card.getBoundingClientRect();
    return r.height < 160 ? [30, r.bottom - map.top + 16] : [r.right - map.left + 16, 30];
  }

  /** Fit the map to a box (WGS 84 [W, S, E, N]) in the part of the map the panel leaves free. */
  async zoomTo(bbox, maxZoom = 13) {
    const bounds = this.app.datum.bboxToDisplay(bbox);
    const inset = this.panelInset();
    this.app.map.fitBounds(bounds, {
      maxZoom,
      paddingTopLeft: this.cardInset(),
      paddingBottomRight: [inset + 30, 30],
      animate: false,
    });
    await this.app.layers.idle();
  }

  /** Pan the map so that the centre of a box (WGS 84 [W, S, E, N]) is not under the panel. */
  keepClear(bbox) {
    const inset = this.panelInset();
    if (!inset || !bbox) return;
    const map = this.app.map;
    const size = map.getSize();
    const free = size.x - inset;
    const centre = this.app.datum.toDisplay([(bbox[1] + bbox[3]) / 2, (bbox[0] + bbox[2]) / 2]);
    const p = map.latLngToContainerPoint(centre);
    if (p.x < free - 24 && p.x > 0 && p.y > 0 && p.y < size.y) return;
    // bring it to the middle of the free part (or just inside it when the panel leaves little room)
    const target = L.point(Math.max(24, free / 2), Math.min(Math.max(p.y, 40), size.y - 40));
    map.panBy(p.subtract(target), { animate: false });
  }

  /** Outline the selected feature (again after a reload or a datum change). */
  highlight() {
    this.halo.clearLayers();
    if (!this.current) return;
    if (this.current.place) {
      const p = this.data && this.data.point;
      if (p) this._markPoint(this.app.datum.toDisplay([p[1], p[0]]), 9);
      return;
    }
    const layer = this.app.layers.featureLayer(this.current.layer, this.current.id);
    if (!layer) {
      // a stand-in (not drawn as a point): outline the unit it stands for
      const standin = this.app.views && this.app.views.standin(this.current.layer, this.current.id);
      if (standin) this.app.views.highlightUnit(standin);
      return;
    }
    if (layer.getLatLng) {
      this._markPoint(layer.getLatLng(), 10);
    } else {
      const Cls = layer instanceof L.Polygon ? L.polygon : L.polyline;
      Cls(layer.getLatLngs(), { ...HALO, pane: 'gisapp-selection', className: 'gisapp-halo' }).addTo(this.halo);
    }
  }

  /** Halo a selected point and draw its positional uncertainty (``uncertainty_m`` of the details). */
  _markPoint(latlng, radius) {
    const unc = this.data && this.data.uncertainty_m;
    if (unc > 0) L.circle(latlng, { ...UNCERTAINTY, radius: unc, pane: 'gisapp-selection' }).addTo(this.halo);
    L.circleMarker(latlng, { ...HALO, radius, pane: 'gisapp-selection' }).addTo(this.halo);
  }

  close() {
    this.panel.hidden = true;
    const legend = document.getElementById('gisapp-legend-box');
    if (legend && this.foldedLegend) legend.open = true;
    this.foldedLegend = false;
    this.current = null;
    if (this.app.views) this.app.views.clearUnit();
    this.halo.clearLayers();
    this.app.state.schedule();
  }
}
