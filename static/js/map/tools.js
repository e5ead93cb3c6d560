// Tools: cursor position (WGS 84 and CGCS2000 GK EPSG:4547), geodesic measurement of distance and
// area (GeographicLib on the GRS80 ellipsoid), the overlap check of a drawn polygon
// (POST /api/overlap: result drawn and tabled) and the share link.
// Drawing uses Leaflet-Geoman; every coordinate leaves the map in WGS 84 (datum.toWgs).

/* global L, proj4, geodesic */

import { bi, el, lang } from './i18n.js';

const GRS80 = new geodesic.Geodesic.Geodesic(6378137, 1 / 298.257222101);
const M2_PER_MU = 10000 / 15;
const DRAW_STYLE = { color: '#0d47a1', weight: 3, dashArray: '6 4', fillOpacity: 0.1 };
/** The map event on which Geoman finishes the shape being drawn (its draw option finishOn); the Finish button fires it. */
const FINISH_ON = 'dblclick';

/** Geodesic length (m) of a WGS 84 path [[lat, lng], …]. */
export function pathLength(points) {
  let total = 0;
  for (let i = 1; i < points.length; i += 1) {
    total += GRS80.Inverse(points[i - 1].lat, points[i - 1].lng, points[i].lat, points[i].lng).s12;
  }
  return total;
}

/** Geodesic area (m²) and perimeter (m) of a WGS 84 ring [[lat, lng], …]. */
export function ringArea(points) {
  const poly = GRS80.Polygon(false);
  for (const p of points) poly.AddPoint(p.lat, p.lng);
  const r = poly.Compute(false, true);
  return { area: Math.abs(r.area), perimeter: r.perimeter };
}

export function formatLength(m) {
  return m < 1000 ? `${m.toFixed(1)} m` : `${(m / 1000).toFixed(3)} km`;
}

export function formatArea(m2) {
  const km2 = m2 / 1e6;
  return `${km2 >= 0.01 ? km2.toFixed(3) : km2.toFixed(6)} km² · ${(m2 / 1e4).toFixed(2)} 公顷 · ${(m2 / M2_PER_MU).toFixed(1)} 亩`;
}

export class Tools {
  constructor(app) {
    this.app = app;
    this.mode = null; // 'distance' | 'area' | 'overlap'
    this.panel = document.getElementById('gisapp-toolpanel');
    this.body = document.getElementById('gisapp-toolpanel-body');
    this.drawn = L.featureGroup().addTo(app.map);
    this.overlapLayer = L.featureGroup().addTo(app.map);
    this.lastOverlap = null;
    proj4.defs('EPSG:4547', app.config.epsg4547);
    this.initCursor();
    this.initDraw();
    document.getElementById('gisapp-toolpanel-close').addEventListener('click', () => this.stop(true));
    for (const button of document.querySelectorAll('#gisapp-tools button[data-tool]')) {
      button.addEventListener('click', () => this.button(button.dataset.tool));
    }
    document.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && this.mode) this.stop(false);
    });
  }

  /** Whether a drawing tool has the map's clicks. */
  busy() {
    return this.mode !== null;
  }

  button(tool) {
    if (tool === 'compare') this.app.compare.toggle();
    else if (tool === 'share') this.share();
    else if (this.mode === tool) this.stop(false);
    else this.start(tool);
  }

  // ---------------------------------------------------------------- cursor position

  initCursor() {
    const wgs = document.getElementById('gisapp-cursor-wgs84');
    const gk = document.getElementById('gisapp-cursor-4547');
    this.cursorHandler = (e) => {
      const p = this.app.datum.toWgs(e.latlng);
      const [x, y] = proj4('EPSG:4326', 'EPSG:4547', [p.lng, p.lat]);
      wgs.textContent = `WGS 84: ${p.lng.toFixed(6)}°E, ${p.lat.toFixed(6)}°N`;
      wgs.dataset.lon = p.lng.toFixed(7);
      wgs.dataset.lat = p.lat.toFixed(7);
      gk.textContent = `CGCS2000 GK (EPSG:4547): E ${x.toFixed(1)} m, N ${y.toFixed(1)} m`;
      gk.dataset.easting = x.toFixed(2);
      gk.dataset.northing = y.toFixed(2);
      if (this.mode === 'distance' || this.mode === 'area') this.live(e.latlng);
    };
    this.app.map.on('mousemove', this.cursorHandler);
  }

  // ---------------------------------------------------------------- drawing (Geoman)

  initDraw() {
    const map = this.app.map;
    map.pm.setGlobalOptions({ snappable: false, continueDrawing: false });
    map.pm.setLang(lang() === 'en' ? 'en' : 'zh');
    map.on('pm:drawstart', ({ workingLayer }) => {
      this.working = workingLayer;
      workingLayer.on('pm:vertexadded', () => this.live(null));
    });
    map.on('pm:create', ({ layer }) => this.created(layer));
  }

  start(mode) {
    this.stop(false);
    const map = this.app.map;
    this.mode = mode;
    this.drawn.clearLayers();
    map.doubleClickZoom.disable();
    map.getContainer().classList.add('gisapp-drawing');
    document.querySelectorAll('#gisapp-tools button[data-tool]').forEach((b) => b.classList.toggle('active', b.dataset.tool === mode));
    const shape = mode === 'distance' ? 'Line' : 'Polygon';
    map.pm.setLang(lang() === 'en' ? 'en' : 'zh');
    map.pm.enableDraw(shape, { templineStyle: DRAW_STYLE, hintlineStyle: { ...DRAW_STYLE, dashArray: '2 6' }, pathOptions: DRAW_STYLE, finishOn: FINISH_ON });
    this.showPanel(mode, null);
  }

  /** Stop drawing; clear: also remove the result. */
  stop(clear) {
    const map = this.app.map;
    if (map.pm.globalDrawModeEnabled()) map.pm.disableDraw();
    this.mode = null;
    this.working = null;
    map.doubleClickZoom.enable();
    map.getContainer().classList.remove('gisapp-drawing');
    document.querySelectorAll('#gisapp-tools button[data-tool]').forEach((b) => b.classList.remove('active'));
    if (clear) {
      this.drawn.clearLayers();
      this.overlapLayer.clearLayers();
      this.lastOverlap = null;
      this.panel.hidden = true;
    }
  }

  /** Finish the shape being drawn (the panel's button): Geoman finishes a shape on the map event named
   *  by its public draw option finishOn (FINISH_ON, a double click), so the button fires that event. */
  finish() {
    const map = this.app.map;
    if (map.pm.Draw.getActiveShape()) map.fire(FINISH_ON);
  }

  vertices(extra) {
    const pts = this.working ? this.working.getLatLngs().slice() : [];
    if (extra) pts.push(extra);
    return pts.map((p) => this.app.datum.toWgs(p));
  }

  live(cursor) {
    if (!this.working) return;
    const pts = this.vertices(cursor);
    if (this.mode === 'distance' && pts.length >= 2) this.showPanel('distance', { metres: pathLength(pts), final: false });
    if (this.mode === 'area' && pts.length >= 3) this.showPanel('area', { ...ringArea(pts), final: false });
  }

  created(layer) {
    const mode = this.mode;
    this.app.map.removeLayer(layer);
    const latlngs = mode === 'distance' ? layer.getLatLngs() : layer.getLatLngs()[0];
    const wgs = latlngs.map((p) => this.app.datum.toWgs(p));
    this.stop(false);
    if (mode === 'overlap') {
      this.overlap(wgs);
      return;
    }
    const style = { ...DRAW_STYLE, dashArray: null, interactive: false };
    const shape = mode === 'distance' ? L.polyline(latlngs, style) : L.polygon(latlngs, style);
    shape.addTo(this.drawn);
    this.lastMeasure = { mode, wgs };
    const result = mode === 'distance' ? { metres: pathLength(wgs), final: true } : { ...ringArea(wgs), final: true };
    const text = mode === 'distance' ? formatLength(result.metres) : formatArea(result.area);
    shape.bindTooltip(text, { permanent: true, className: 'gisapp-measure-label', direction: 'center' }).openTooltip();
    this.showPanel(mode, result);
  }

  showPanel(mode, result) {
    this.panel.hidden = false;
    const box = el('div', `gisapp-tool gisapp-tool-${mode}`);
    box.dataset.tool = mode;
    const h = el('h3');
    if (mode === 'distance') h.append(bi('测距（椭球测地线，GRS80）', 'Distance (geodesic, GRS80)'));
    else if (mode === 'area') h.append(bi('测面（椭球面积，GRS80）', 'Area (geodesic, GRS80)'));
    else h.append(bi('压占分析：画一个多边形', 'Overlap check: draw a polygon'));
    box.append(h);
    if (result) {
      const value = el('p', 'gisapp-measure-value');
      value.dataset.final = result.final ? 'true' : 'false';
      if (mode === 'distance') {
        value.dataset.metres = result.metres.toFixed(3);
        value.textContent = formatLength(result.metres);
      } else {
        value.dataset.m2 = result.area.toFixed(1);
        value.textContent = formatArea(result.area);
        const per = el('p', 'gisapp-small', `${lang() === 'en' ? 'Perimeter' : '周长'} ${formatLength(result.perimeter)}`);
        box.append(value, per);
      }
      if (mode === 'distance') box.append(value);
    }
    const hint = el('p', 'gisapp-small');
    hint.append(
      mode === 'distance'
        ? bi('单击添加节点；双击或单击最后一点结束；Esc 取消。', 'Click to add points; double-click or click the last point to finish; Esc cancels.')
        : bi('单击添加节点；单击第一个点或双击闭合；Esc 取消。', 'Click to add points; click the first point or double-click to close; Esc cancels.'),
    );
    box.append(hint);
    if (this.mode) {
      const finish = el('button', 'gisapp-finish');
      finish.type = 'button';
      finish.append(bi('完成', 'Finish'));
      finish.addEventListener('click', () => this.finish());
      box.append(finish);
    }
    this.body.textContent = '';
    this.body.append(box);
  }

  redatum() {
    // shapes are kept in WGS 84 and redrawn for the new display datum
    this.drawn.clearLayers();
    if (this.lastMeasure) {
      const pts = this.lastMeasure.wgs.map((p) => this.app.datum.toDisplay(p));
      const style = { ...DRAW_STYLE, dashArray: null, interactive: false };
      (this.lastMeasure.mode === 'distance' ? L.polyline(pts, style) : L.polygon(pts, style)).addTo(this.drawn);
    }
    if (this.lastOverlap) this.drawOverlap(this.lastOverlap);
  }

  // ---------------------------------------------------------------- overlap check

  async overlap(wgs) {
    const ring = wgs.map((p) => [Number(p.lng.toFixed(7)), Number(p.lat.toFixed(7))]);
    ring.push(ring[0]);
    const body = {
      type: 'FeatureCollection',
      features: [{ type: 'Feature', properties: { id: 'drawn-1', name: '手绘地块 drawn parcel' }, geometry: { type: 'Polygon', coordinates: [ring] } }],
    };
    this.panel.hidden = false;
    this.body.textContent = '…';
    let data;
    try {
      // every control line at once (工业用地保护红线 + 三区三线): each line's verdict with its citations
      const r = await fetch(`${this.app.config.api.overlap}?target=controls`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/geo+json' },
        body: JSON.stringify(body),
      });
      data = await r.json();
      if (!r.ok) throw new Error(data.message || `HTTP ${r.status}`);
    } catch (err) {
      this.body.textContent = '';
      const p = el('p', 'gisapp-error');
      p.append(bi('压占分析失败：', 'Overlap check failed: '), document.createTextNode(String(err.message || err)));
      this.body.append(p);
      return;
    }
    this.lastOverlap = data;
    this.drawOverlap(data);
    this.overlapTable(data);
  }

  drawOverlap(data) {
    this.overlapLayer.clearLayers();
    const fc = this.app.datum.geojsonToDisplay(JSON.parse(JSON.stringify(data.parcels)));
    const first = data.summary.target; // the table repeats each parcel once per target: draw it once
    fc.features = fc.features.filter((f) => !first || !f.properties.target || f.properties.target === first);
    L.geoJSON(fc, {
      style: (f) => ({
        color: f.properties.overlaps ? '#b71c1c' : '#1b5e20',
        weight: 3,
        fillOpacity: 0.15,
        className: `gisapp-parcel ${f.properties.overlaps ? 'gisapp-parcel-overlaps' : 'gisapp-parcel-clear'}`,
      }),
      interactive: false,
    }).addTo(this.overlapLayer);
    const touched = new Set(data.summary.features_touched || data.summary.blocks_touched || []);
    const layerId = data.summary.target || data.control_layer;
    for (const layer of this.app.layers.featureLayers(layerId)) {
      if (touched.has(layer.feature.id) && layer.getLatLngs) {
        L.polygon(layer.getLatLngs(), { color: '#000', weight: 3, fill: false, interactive: false, className: 'gisapp-touched-block' }).addTo(this.overlapLayer);
      }
    }
  }

  overlapTable(data) {
    const s = data.summary;
    const box = el('div', 'gisapp-tool gisapp-overlap-result');
    box.dataset.overlapM2 = String(s.overlap_m2);
    const h = el('h3');
    h.append(bi('压占分析结果', 'Overlap check result'));
    box.append(h);
    const layerId = s.target || data.control_layer;
    const entry = this.app.config.layers.find((l) => l.id === layerId);
    const against = el('p', data.illustrative ? 'gisapp-warning' : 'gisapp-small');
    const lines = (data.control_lines && data.control_lines.lines) || [];
    if (lines.length > 1) {
      against.append(bi('对照图层：', 'Checked against: '), bi(lines.map((l) => l.title).join('、'), lines.map((l) => l.title_en).join(', ')));
      against.append(bi('（面积与区块见第一条：', ' (areas and blocks below: '), bi(entry ? entry.title : layerId, entry ? entry.title_en : layerId), document.createTextNode('）'));
    } else {
      against.append(bi('对照图层：', 'Checked against: '), bi(entry ? entry.title : layerId, entry ? entry.title_en : layerId));
    }
    if (data.illustrative) against.append(bi('。示意数据，非官方，结果仅供说明。', '. Illustrative data, not official: the result is for explanation only.'));
    box.append(against);
    const table = el('table', 'gisapp-overlap-table');
    const rows = [
      [['地块面积', 'Parcel area'], `${s.parcel_area_m2.toLocaleString('en', { maximumFractionDigits: 0 })} m² · ${s.parcel_area_mu.toFixed(2)} 亩`],
      [['压占面积', 'Overlap'], `${s.overlap_m2.toLocaleString('en', { maximumFractionDigits: 0 })} m² · ${s.overlap_ha.toFixed(2)} 公顷 · ${s.overlap_mu.toFixed(2)} 亩`],
      [['压占比例', 'Share of parcel'], `${s.overlap_pct.toFixed(2)} %`],
      [
        ['涉及区块', 'Blocks touched'],
        (s.by_feature || []).map((b) => `${b.id} ${b.name || ''}`.trim()).join('、') ||
          (s.features_touched || s.blocks_touched || []).join('、') ||
          '—',
      ],
    ];
    const towns = [...new Set(data.parcels.features.filter((f) => !s.target || f.properties.target === s.target).flatMap((f) => (f.properties.towns ? f.properties.towns.split('、') : [])))];
    rows.push([['所在镇街', 'Towns'], towns.join('、') || '—']);
    for (const [[zh, en], value] of rows) {
      const tr = el('tr');
      const th = el('th');
      th.append(bi(zh, en));
      tr.append(th, el('td', '', value));
      table.append(tr);
    }
    box.append(table);
    box.append(...this.lineVerdicts(data));
    const dl = el('a', 'gisapp-download');
    dl.href = URL.createObjectURL(new Blob([JSON.stringify(data.parcels)], { type: 'application/geo+json' }));
    dl.download = 'overlap-result.geojson';
    dl.append(bi('下载结果 GeoJSON', 'Download result (GeoJSON)'));
    box.append(dl);
    this.body.textContent = '';
    this.body.append(box);
  }

  // The verdict of every control line on the drawn parcel, with the rules that gave it and their sources.
  lineVerdicts(data) {
    const lines = (data.control_lines && data.control_lines.lines) || [];
    if (!lines.length) return [];
    const h = el('h4');
    h.append(bi('控制线核查', 'Control lines'));
    const table = el('table', 'gisapp-overlap-table gisapp-line-verdicts');
    for (const line of lines) {
      const tr = el('tr');
      tr.dataset.kind = line.kind;
      tr.dataset.verdict = line.worst;
      const th = el('th');
      th.append(bi(line.title, line.title_en));
      const fired = line.rules.filter((r) => r.parcels > 0);
      const td = el('td', '', line.worst === 'none' ? '不涉及' : line.worst_zh);
      for (const r of fired) {
        const cite = el('div', 'gisapp-small', `${r.citation_label}${r.citation.section ? ' ' + r.citation.section : ''}（${r.citation.status}）`);
        cite.title = r.citation.quote;
        td.append(cite);
      }
      tr.append(th, td);
      table.append(tr);
    }
    return [h, table];
  }

  // ---------------------------------------------------------------- share

  async share() {
    this.app.state.write();
    const url = window.location.href;
    this.panel.hidden = false;
    const box = el('div', 'gisapp-tool gisapp-share');
    const h = el('h3');
    h.append(bi('分享当前视图', 'Share this view'));
    const input = el('input', 'gisapp-share-url');
    input.type = 'text';
    input.readOnly = true;
    input.value = url;
    const note = el('p', 'gisapp-small');
    try {
      await navigator.clipboard.writeText(url);
      note.append(bi('链接已复制。', 'Link copied.'));
    } catch (err) {
      note.append(bi('请复制上面的链接。', 'Copy the link above.'));
    }
    box.append(h, input, note);
    this.body.textContent = '';
    this.body.append(box);
    input.select();
  }
}
