// Names written on the map, point symbols by role, and coincident points spread apart.
//
// Every feature the server sends may carry a `label` property (gisapp/web/map_layers.py):
//   {zh, en, priority, size, at: [lon, lat], angle, extent: [w, s, e, n], weight}
// `at` is the pole of inaccessibility of a polygon (shapely's polylabel), the middle of a line or the
// point itself; `angle` turns a band's or a line's name along it. The LabelEngine of a LayerSet
// places the labels of its visible layers after every zoom, pan, load and language switch:
// greedily by priority (cores and zones 1, bands 2, nodes/platforms/red line 3, towns 4,
// districts 5, provinces 6; larger features first), each label kept only when its box meets no
// placed label (an R-tree, the vendored `rbush`), trying a few positions. Towns and base units are
// named only where the name fits inside them. Labels are HTML boxes in a pane above the features,
// with a white halo (static/css/labels.css); their size is measured once per text on a canvas.
//
// Point symbols are ShapeMarkers (an SVG path: star, circle, square, diamond) that can be drawn at a
// pixel offset from their place. Points closer than SPACING px on screen are spread on a ring
// around their common place, with a leader line to it, recomputed at each zoom; so no two
// symbols are within 3 px and a click on any one opens that one.

/* global L, RBush */

import { lang } from './i18n.js';

const SPACING = 15; // px between spread point symbols (diameter 12 + gap)
const PAD = 2; // px kept free around a label
const LINE_HEIGHT = 1.2;
const FONT_FAMILY = '"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", sans-serif';

/** A circle marker drawn as a star, circle, square or diamond, optionally at a pixel offset. */
export const ShapeMarker = L.CircleMarker.extend({
  options: { shape: 'circle', offset: null },

  /** Draw the symbol `offset` ([dx, dy] px) away from its place (null: at its place). */
  setOffset(offset) {
    this.options.offset = offset;
    if (this._map) this._reset();
    return this;
  },

  _project() {
    this._point = this._map.latLngToLayerPoint(this._latlng);
    const o = this.options.offset;
    if (o) this._point = this._point.add(L.point(o[0], o[1]));
    this._updateBounds();
  },

  _updatePath() {
    const shape = this.options.shape;
    if (shape === 'circle' || !this._renderer._setPath) {
      this._renderer._updateCircle(this);
      return;
    }
    if (this._empty()) {
      this._renderer._setPath(this, 'M0 0');
      return;
    }
    this._renderer._setPath(this, symbolPath(shape, this._radius, this._point.x, this._point.y));
  },
});

/**
 * SVG path data of a point symbol (star, square, diamond) of radius r centred on (cx, cy), in pixels.
 * The map's ShapeMarker and the legend (views.js) draw the same symbols with it.
 */
export function symbolPath(shape, r, cx = 0, cy = 0) {
  const pts = [];
  if (shape === 'square') {
    const s = r * 0.9;
    pts.push([-s, -s], [s, -s], [s, s], [-s, s]);
  } else if (shape === 'diamond') {
    const s = r * 1.2;
    pts.push([0, -s], [s, 0], [0, s], [-s, 0]);
  } else {
    for (let i = 0; i < 10; i += 1) {
      const a = (Math.PI / 5) * i - Math.PI / 2;
      const rr = i % 2 === 0 ? r * 1.15 : r * 0.48;
      pts.push([rr * Math.cos(a), rr * Math.sin(a)]);
    }
  }
  return `${pts.map(([x, y], i) => `${i ? 'L' : 'M'}${(cx + x).toFixed(1)} ${(cy + y).toFixed(1)}`).join('')}z`;
}

const measureCanvas = document.createElement('canvas');
const measureCtx = measureCanvas.getContext('2d');
const widthCache = new Map();

function textWidth(text, font) {
  const key = `${font}|${text}`;
  let w = widthCache.get(key);
  if (w === undefined) {
    measureCtx.font = font;
    w = measureCtx.measureText(text).width;
    widthCache.set(key, w);
  }
  return w;
}

const CJK = /[\u3000-\u9fff\uff00-\uffef]/;

/** Split a name into lines: CJK evenly in chunks of at most 8 characters, other text at spaces near 20 characters. */
export function wrap(text) {
  if (CJK.test(text)) {
    const chars = [...text];
    if (chars.length <= 8) return [text];
    const n = Math.ceil(chars.length / 8);
    const per = Math.ceil(chars.length / n);
    const lines = [];
    for (let i = 0; i < chars.length; i += per) lines.push(chars.slice(i, i + per).join(''));
    return lines;
  }
  if (text.length <= 20) return [text];
  const words = text.split(/\s+/);
  const lines = [];
  let line = '';
  for (const w of words) {
    if (line && line.length + 1 + w.length > 20) {
      lines.push(line);
      line = w;
    } else {
      line = line ? `${line} ${w}` : w;
    }
  }
  if (line) lines.push(line);
  return lines;
}

/** Axis-aligned box (minX…maxY, container px) of a w×h box centred on (x, y) and turned by angle degrees. */
function box(x, y, w, h, angle) {
  let bw = w;
  let bh = h;
  if (angle) {
    const a = (angle * Math.PI) / 180;
    const c = Math.abs(Math.cos(a));
    const s = Math.abs(Math.sin(a));
    bw = w * c + h * s;
    bh = w * s + h * c;
  }
  return { minX: x - bw / 2 - PAD, minY: y - bh / 2 - PAD, maxX: x + bw / 2 + PAD, maxY: y + bh / 2 + PAD };
}

export class LabelEngine {
  /**
   * @param {L.Map} map
   * @param {import('./layerset.js').LayerSet} layers  the layers whose features are labelled
   * @param {import('./datum.js').Datum} datum
   */
  constructor(map, layers, datum) {
    this.map = map;
    this.layers = layers;
    this.datum = datum;
    this.enabled = true;
    this.timings = []; // ms of each redraw (the benchmark reads them)
    this.elements = new Map(); // key -> label element
    this.placed = []; // [{key, layer, id, box}] of the last redraw
    this.leaders = L.layerGroup();
    this.frame = 0;
    this.pane = map.getPane('gisapp-labels') || map.createPane('gisapp-labels');
    this.pane.style.zIndex = '450';
    this.pane.classList.add('gisapp-labels-pane');
    this.lang = lang();
    map.on('zoomstart', () => this.pane.classList.add('gisapp-labels-zooming'));
    map.on('zoomend moveend', () => this.redraw());
    map.on('zoomend', () => this.pane.classList.remove('gisapp-labels-zooming'));
    new MutationObserver(() => {
      if (lang() !== this.lang) this.redraw();
    }).observe(document.body, { attributes: true, attributeFilter: ['class'] });
  }

  /** Redraw at the next frame (after data arrives; several calls coalesce). */
  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.redraw();
    });
  }

  /** Turn the labels on or off. */
  setEnabled(on) {
    this.enabled = Boolean(on);
    this.redraw();
  }

  /** Every drawn feature layer of the visible layers: [{layerId, layer}]. */
  _features() {
    const out = [];
    for (const id of this.layers.visibleIds()) {
      for (const layer of this.layers.featureLayers(id)) out.push({ layerId: id, layer });
    }
    return out;
  }

  /** Spread point symbols closer than SPACING px on rings around their common place. */
  spread(features) {
    const map = this.map;
    const pts = [];
    for (const { layerId, layer } of features) {
      if (!(layer instanceof ShapeMarker)) continue;
      const p = map.latLngToContainerPoint(layer.getLatLng());
      pts.push({ layerId, layer, key: `${layerId}/${layer.feature.id}`, p, group: -1, at: p });
    }
    this.leaders.clearLayers();
    const view = map.getSize();
    const inView = (p) => p.x > -200 && p.y > -200 && p.x < view.x + 200 && p.y < view.y + 200;
    const live = pts.filter((q) => inView(q.p));
    for (const q of pts) if (!inView(q.p) && q.layer.options.offset) q.layer.setOffset(null);
    live.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    // union-find over pairs closer than SPACING, repeated while spread rings still collide
    const parent = live.map((_, i) => i);
    const find = (i) => (parent[i] === i ? i : (parent[i] = find(parent[i])));
    const join = (i, j) => {
      const a = find(i);
      const b = find(j);
      if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
      return a !== b;
    };
    for (let i = 0; i < live.length; i += 1) {
      for (let j = i + 1; j < live.length; j += 1) {
        if (live[i].p.distanceTo(live[j].p) < SPACING) join(i, j);
      }
    }
    let groups = new Map();
    for (let round = 0; round < 8; round += 1) {
      groups = new Map();
      live.forEach((q, i) => {
        const g = find(i);
        if (!groups.has(g)) groups.set(g, []);
        groups.get(g).push(i);
      });
      for (const members of groups.values()) {
        if (members.length === 1) {
          live[members[0]].at = live[members[0]].p;
          continue;
        }
        const cx = members.reduce((s, i) => s + live[i].p.x, 0) / members.length;
        const cy = members.reduce((s, i) => s + live[i].p.y, 0) / members.length;
        const n = members.length;
        const radius = Math.max(SPACING, (SPACING * 1.05 * n) / (2 * Math.PI));
        members.forEach((i, k) => {
          const a = -Math.PI / 2 + (2 * Math.PI * k) / n;
          live[i].at = L.point(cx + radius * Math.cos(a), cy + radius * Math.sin(a));
          live[i].centre = L.point(cx, cy);
        });
      }
      let merged = false;
      for (let i = 0; i < live.length; i += 1) {
        for (let j = i + 1; j < live.length; j += 1) {
          if (find(i) !== find(j) && live[i].at.distanceTo(live[j].at) < SPACING) merged = join(i, j) || merged;
        }
      }
      if (!merged) break;
    }
    for (const q of live) {
      const moved = q.at.distanceTo(q.p) > 0.5;
      const offset = moved ? [q.at.x - q.p.x, q.at.y - q.p.y] : null;
      const old = q.layer.options.offset;
      if (offset || old) q.layer.setOffset(offset);
      if (moved) {
        const style = q.layer.options;
        this.leaders.addLayer(
          L.polyline([map.containerPointToLatLng(q.p), map.containerPointToLatLng(q.at)], {
            pane: style.pane,
            interactive: false,
            color: style.color,
            weight: 1,
            opacity: 0.8 * (style.opacity === undefined ? 1 : style.opacity),
            className: 'gisapp-leader',
          }),
        );
      }
    }
    for (const members of groups.values()) {
      if (members.length > 1) {
        const c = live[members[0]].centre;
        this.leaders.addLayer(
          L.circleMarker(map.containerPointToLatLng(c), {
            pane: live[members[0]].layer.options.pane,
            interactive: false,
            radius: 2.5,
            weight: 1,
            color: '#333',
            fillColor: '#fff',
            fillOpacity: 1,
            className: 'gisapp-leader-hub',
          }),
        );
      }
    }
    if (!this.map.hasLayer(this.leaders)) this.leaders.addTo(this.map);
    return live;
  }

  /**
   * Boxes (container px) of what floats over the map: the plan's title-and-legend card and the zoom and
   * scale controls. Labels are not placed under them (the attribution line stays free to overlap).
   * @returns {{minX: number, minY: number, maxX: number, maxY: number}[]}
   */
  _obstacles() {
    const origin = this.map.getContainer().getBoundingClientRect();
    const els = [
      document.getElementById('gisapp-view-card'),
      ...this.map.getContainer().querySelectorAll('.leaflet-control-zoom, .leaflet-control-scale'),
    ];
    const out = [];
    for (const el of els) {
      if (!el) continue;
      const r = el.getBoundingClientRect();
      if (!r.width || !r.height) continue;
      out.push({ minX: r.left - origin.left, minY: r.top - origin.top, maxX: r.right - origin.left, maxY: r.bottom - origin.top });
    }
    return out;
  }

  /** Place every label of the visible layers (and spread coincident points first). */
  redraw() {
    const t0 = performance.now();
    const map = this.map;
    if (!map._loaded) return;
    this.lang = lang();
    const features = this._features();
    const points = this.spread(features);
    const size = map.getSize();
    const margin = 60;
    const symbols = new RBush();
    symbols.load(
      points.map((q) => {
        const r = (q.layer.options.radius || 6) + 1;
        return { minX: q.at.x - r, minY: q.at.y - r, maxX: q.at.x + r, maxY: q.at.y + r, key: q.key };
      }),
    );
    const pointAt = new Map(points.map((q) => [q.key, q]));
    const candidates = [];
    if (this.enabled) {
      for (const { layerId, layer } of features) {
        const f = layer.feature;
        const lab = f && f.properties && f.properties.label;
        if (!lab) continue;
        const key = `${layerId}/${f.id}`;
        if (!layer._gisappLabelAt) layer._gisappLabelAt = this.datum.toDisplay([lab.at[1], lab.at[0]]);
        const point = pointAt.get(key);
        const p = point ? point.at : map.latLngToContainerPoint(layer._gisappLabelAt);
        if (p.x < -margin || p.y < -margin || p.x > size.x + margin || p.y > size.y + margin) continue;
        candidates.push({ key, layerId, id: f.id, lab, p, point, layer });
      }
    }
    candidates.sort((a, b) => a.lab.priority - b.lab.priority || b.lab.weight - a.lab.weight || (a.key < b.key ? -1 : 1));
    const tree = new RBush();
    tree.load(this._obstacles()); // no name under the plan's card or the map's controls
    const placed = [];
    const en = this.lang === 'en';
    for (const c of candidates) {
      const text = en ? c.lab.en : c.lab.zh;
      const lines = c.lab.angle && !c.point ? [text] : wrap(text); // along a band: one line
      const fontSize = c.lab.size || 12;
      const font = `600 ${fontSize}px ${FONT_FAMILY}`;
      const w = Math.ceil(Math.max(...lines.map((l) => textWidth(l, font)))) + 2;
      const h = Math.ceil(lines.length * fontSize * LINE_HEIGHT);
      let options;
      if (c.point) {
        const r = (c.layer.options.radius || 6) + 6; // clear of its own symbol box (radius + 1 + PAD)
        const { x, y } = c.p;
        options = [
          [x + r + w / 2, y],
          [x - r - w / 2, y],
          [x, y - r - h / 2],
          [x, y + r + h / 2],
        ].map(([cx, cy]) => ({ cx, cy, angle: 0 }));
      } else {
        const kind = c.lab.priority >= 4 || c.layerId.startsWith('base-') ? 'unit' : 'plan';
        if (kind === 'unit' && !this._fits(c.lab.extent, w, h)) continue;
        const angle = c.lab.angle || 0;
        options = [{ cx: c.p.x, cy: c.p.y, angle }];
        if (c.lab.along) {
          if (!c.layer._gisappAlong) c.layer._gisappAlong = c.lab.along.map(([lon, lat]) => this.datum.toDisplay([lat, lon]));
          for (const ll of c.layer._gisappAlong) {
            const q = map.latLngToContainerPoint(ll);
            options.push({ cx: q.x, cy: q.y, angle });
          }
        }
        if (!angle) {
          options.push({ cx: c.p.x, cy: c.p.y - h, angle }, { cx: c.p.x, cy: c.p.y + h, angle });
          options.push({ cx: c.p.x - w / 2, cy: c.p.y, angle }, { cx: c.p.x + w / 2, cy: c.p.y, angle });
        }
        // last resort for a plan's feature (smaller than its name, or its inside taken): beside it
        const ext = this._extentBox(c.lab.extent);
        if (kind === 'plan' && ext) {
          const cy = (ext.minY + ext.maxY) / 2;
          const cx = (ext.minX + ext.maxX) / 2;
          options.push(
            { cx: ext.maxX + 2 + w / 2, cy, angle: 0 },
            { cx: ext.minX - 2 - w / 2, cy, angle: 0 },
            { cx, cy: ext.minY - 2 - h / 2, angle: 0 },
            { cx, cy: ext.maxY + 2 + h / 2, angle: 0 },
          );
        }
        if (kind === 'plan') {
          // then near its anchor, one and two label sizes away in eight directions
          const dirs = [[1, 0], [-1, 0], [0, -1], [0, 1], [1, -1], [-1, -1], [1, 1], [-1, 1]];
          for (const k of [1, 2]) {
            for (const [dx, dy] of dirs) {
              options.push({ cx: c.p.x + dx * k * (w / 2 + 8), cy: c.p.y + dy * k * (h / 2 + 6), angle: 0 });
            }
          }
        }
      }
      let chosen = null;
      let fallback = null;
      for (const o of options) {
        const b = box(o.cx, o.cy, w, h, o.angle);
        if (b.minX < 0 || b.minY < 0 || b.maxX > size.x || b.maxY > size.y) continue; // not cut by the map's edge
        if (tree.collides(b)) continue;
        if (!symbols.collides(b)) {
          chosen = { o, b };
          break;
        }
        if (!fallback && !c.point && c.lab.priority <= 3) fallback = { o, b };
      }
      chosen = chosen || fallback;
      if (!chosen) continue;
      tree.insert(chosen.b);
      placed.push({ c, text: lines.join('\n'), w, h, fontSize, ...chosen.o, box: chosen.b });
    }
    this._render(placed);
    const ms = performance.now() - t0;
    this.timings.push(ms);
    if (this.timings.length > 200) this.timings.shift();
  }

  /** The screen box {minX, minY, maxX, maxY, w, h} of an extent ([w, s, e, n], WGS 84), or null. */
  _extentBox(extent) {
    if (!extent) return null;
    const a = this.map.latLngToContainerPoint(this.datum.toDisplay([extent[1], extent[0]]));
    const b = this.map.latLngToContainerPoint(this.datum.toDisplay([extent[3], extent[2]]));
    const minX = Math.min(a.x, b.x);
    const maxX = Math.max(a.x, b.x);
    const minY = Math.min(a.y, b.y);
    const maxY = Math.max(a.y, b.y);
    return { minX, minY, maxX, maxY, w: maxX - minX, h: maxY - minY };
  }

  /** Whether a w×h label fits inside a unit whose extent ([w, s, e, n], WGS 84) is drawn now. */
  _fits(extent, w, h) {
    const e = this._extentBox(extent);
    return !e || (e.w * 0.8 >= w && e.h * 0.8 >= h);
  }

  _render(placed) {
    const keep = new Set();
    const origin = this.map.containerPointToLayerPoint([0, 0]);
    const en = this.lang === 'en';
    for (const item of placed) {
      const { c } = item;
      keep.add(c.key);
      let el = this.elements.get(c.key);
      if (!el) {
        el = document.createElement('div');
        el.dataset.layer = c.layerId;
        el.dataset.fid = c.id;
        this.pane.appendChild(el);
        this.elements.set(c.key, el);
      }
      const role = (c.layer.feature.properties.role || c.layerId.split('-')[0]).replace(/[^a-z-]/g, '');
      el.className = `gisapp-label gisapp-label-p${c.lab.priority} gisapp-label-${role}${c.point ? ' gisapp-label-point' : ''}`;
      if (el.textContent !== item.text) el.textContent = item.text;
      el.lang = en ? 'en' : 'zh-CN';
      el.hidden = false;
      const x = origin.x + item.cx - item.w / 2;
      const y = origin.y + item.cy - item.h / 2;
      el.style.width = `${item.w}px`;
      el.style.height = `${item.h}px`;
      el.style.fontSize = `${item.fontSize}px`;
      el.style.lineHeight = `${item.fontSize * LINE_HEIGHT}px`;
      el.style.transform = `translate(${x.toFixed(1)}px, ${y.toFixed(1)}px)${item.angle ? ` rotate(${item.angle}deg)` : ''}`;
    }
    for (const [key, el] of this.elements) {
      if (!keep.has(key)) {
        el.remove();
        this.elements.delete(key);
      }
    }
    this.placed = placed.map((p) => ({ key: p.c.key, layer: p.c.layerId, id: p.c.id }));
  }
}
