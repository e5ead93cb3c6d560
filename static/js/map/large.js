// Large layers (a million 三调 地类图斑 …): drawn from vector tiles (/tiles/<id>/{z}/{x}/{y}.mvt,
// gisapp/web/routes_tiles.py) with the vendored Leaflet.VectorGrid, never loaded as GeoJSON.
// Each is listed under the layer tree with a checkbox; its tiles are drawn from the layer's min_zoom on
// (below it an average tile would hold too many 图斑). Tiles are in WGS 84: on a GCJ-02 base map (AMap)
// they are not shifted, and the list says so.

/* global L */

// Fill colour by the first two digits of DLBM (GB/T 21010-2017 first-level classes).
const CLASS_COLOURS = {
  '01': '#f3e37c', // 耕地
  '02': '#b8d86b', // 园地
  '03': '#5fa55a', // 林地
  '04': '#b9e3c6', // 草地
  '05': '#e8735a', // 商服用地
  '06': '#9b59b6', // 工矿仓储用地
  '07': '#f0a04b', // 住宅用地
  '08': '#e07bb5', // 公共管理与公共服务用地
  '09': '#9aa9b8', // 特殊用地
  10: '#8d8d8d', // 交通运输用地
  11: '#5aa7de', // 水域及水利设施用地
  12: '#d9d4c7', // 其他土地
};

function bilingual(zh, en) {
  const span = document.createElement('span');
  const a = document.createElement('span');
  a.className = 'l-zh';
  a.textContent = zh;
  const b = document.createElement('span');
  b.className = 'l-en';
  b.lang = 'en';
  b.textContent = en;
  span.append(a, b);
  return span;
}

function style(props) {
  const code = String(props.DLBM || props.dlbm || '').slice(0, 2);
  return { fill: true, fillColor: CLASS_COLOURS[code] || '#cccccc', fillOpacity: 0.55, color: '#666666', weight: 0.5 };
}

export class LargeLayers {
  /** @param app the map app (gisapp/static/js/map/main.js); @param container the list's element. */
  constructor(app, container) {
    this.app = app;
    this.container = container;
    this.entries = app.config.large_layers || [];
    this.layers = new Map(); // id -> L.VectorGrid
    if (!this.entries.length || !container) return;
    container.hidden = false;
    const title = document.createElement('h3');
    title.append(bilingual('大图层（矢量切片）', 'Large layers (vector tiles)'));
    container.append(title);
    for (const entry of this.entries) {
      const label = document.createElement('label');
      label.className = 'gisapp-large-layer';
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.dataset.layer = entry.id;
      box.addEventListener('change', () => this.toggle(entry.id, box.checked));
      const note = ` (${entry.count}; z≥${entry.min_zoom})`;
      label.append(box, ' ', bilingual(entry.zh + note, (entry.en || entry.zh) + note));
      label.title = 'WGS 84；高德底图下不偏移 / WGS 84, not shifted on the AMap base map';
      container.append(label);
    }
  }

  /** Show or hide a large layer (zooming to its extent when shown below its min_zoom). */
  toggle(id, on) {
    const entry = this.entries.find((e) => e.id === id);
    if (!entry) return;
    const { map } = this.app;
    if (!on) {
      const layer = this.layers.get(id);
      if (layer) layer.remove();
      this.layers.delete(id);
      return;
    }
    const layer = L.vectorGrid.protobuf(entry.tiles, {
      vectorTileLayerStyles: { [entry.id]: style },
      minZoom: entry.min_zoom,
      maxNativeZoom: 18,
      interactive: true,
      getFeatureId: (f) => f.id,
      rendererFactory: L.canvas.tile,
      pane: 'tilePane', // above the base map's tiles, below the plan's layers
      zIndex: 10,
    });
    layer.on('click', (e) => {
      const p = e.layer && e.layer.properties ? e.layer.properties : {};
      const div = document.createElement('div');
      for (const [k, v] of Object.entries(p)) {
        const row = document.createElement('div');
        row.textContent = `${k}: ${v}`;
        div.append(row);
      }
      L.popup().setLatLng(e.latlng).setContent(div).openOn(map);
    });
    layer.addTo(map);
    this.layers.set(id, layer);
    if (map.getZoom() < entry.min_zoom && entry.bounds && entry.bounds.length === 4) {
      const b = entry.bounds;
      map.setView([(b[1] + b[3]) / 2, (b[0] + b[2]) / 2], entry.min_zoom);
    }
  }

  /** Ids of the large layers shown. */
  visibleIds() {
    return [...this.layers.keys()];
  }
}
