// Compare two plans side by side: a second map on the right, synchronised with the main map
// (Leaflet.Sync), each showing one plan (or one layer) over the same base boundaries.

/* global L */

import { lang } from './i18n.js';
import { LayerSet } from './layerset.js';

export class Compare {
  constructor(app) {
    this.app = app;
    this.active = false;
    this.right = null;
    this.rightLayers = null;
    this.bar = document.getElementById('gisapp-compare-bar');
    this.leftSelect = document.getElementById('gisapp-compare-left');
    this.rightSelect = document.getElementById('gisapp-compare-right');
    this.container = document.getElementById('gisapp-map-right');
    this.fillSelects();
    this.leftSelect.addEventListener('change', () => this.applyLeft());
    this.rightSelect.addEventListener('change', () => this.applyRight());
    document.getElementById('gisapp-compare-close').addEventListener('click', () => this.close());
    this.saved = null;
  }

  /** Options: every plan view (its layers and its city's towns) and every layer that is not a base boundary. */
  choices() {
    const out = [];
    for (const plan of this.app.config.plans || []) {
      const city = plan.city ? plan.city.name.replace(/市$/, '') : '';
      out.push({
        value: `plan:${plan.id}`,
        zh: `${city ? `${city} · ` : ''}${plan.structure_zh}`,
        en: `${plan.en}: ${plan.structure_en}`,
        ids: [...plan.layers, ...plan.reference],
      });
      for (const id of plan.layers) {
        const entry = this.app.config.layers.find((l) => l.id === id);
        out.push({ value: `layer:${id}`, zh: `　图层：${entry.title}`, en: `  Layer: ${entry.title_en}`, ids: [id] });
      }
    }
    for (const entry of this.app.config.layers) {
      if (entry.kind !== 'base' && !entry.plan) out.push({ value: `layer:${entry.id}`, zh: `图层：${entry.title}`, en: `Layer: ${entry.title_en}`, ids: [entry.id] });
    }
    return out;
  }

  fillSelects() {
    this.options = this.choices();
    for (const select of [this.leftSelect, this.rightSelect]) {
      select.textContent = '';
      for (const c of this.options) {
        const o = document.createElement('option');
        o.value = c.value;
        o.dataset.zh = c.zh;
        o.dataset.en = c.en.trim();
        o.textContent = lang() === 'en' ? c.en.trim() : c.zh;
        o.title = `${c.zh} / ${c.en.trim()}`;
        select.append(o);
      }
    }
  }

  /** An option value, also from old links (``group:plan:<file>.txt`` → ``plan:<id>``). */
  normalise(value) {
    const m = /^group:plan:(.+?)(\.txt)?$/.exec(value || '');
    return m ? `plan:${m[1]}` : value;
  }

  ids(value) {
    const c = this.options.find((o) => o.value === value);
    return c ? c.ids : [];
  }

  baseIds() {
    return this.app.config.layers.filter((l) => l.kind === 'base').map((l) => l.id);
  }

  toggle() {
    if (this.active) this.close();
    else this.open();
  }

  /** Open compare mode; left/right: option values (default: the current plan view and the next plan). */
  open(left, right) {
    const plans = this.options.filter((o) => o.value.startsWith('plan:'));
    const fallback = this.options.map((o) => o.value);
    const known = (v) => (this.options.some((o) => o.value === v) ? v : undefined);
    const current = this.app.views && this.app.views.current ? `plan:${this.app.views.current.id}` : undefined;
    left = known(this.normalise(left)) || known(current) || (plans[0] || {}).value || fallback[0];
    const next = plans.find((o) => o.value !== left);
    right = known(this.normalise(right)) || (next || {}).value || fallback[1] || left;
    if (!this.active) {
      // what the main map shows now, restored when compare mode closes
      this.saved = this.app.layers.ids().map((id) => [id, this.app.layers.isVisible(id), this.app.layers.opacity(id)]);
    }
    this.active = true;
    document.body.classList.add('gisapp-comparing');
    this.bar.hidden = false;
    this.container.hidden = false;
    document.querySelector('#gisapp-tools button[data-tool="compare"]').classList.add('active');
    const map = this.app.map;
    if (!this.right) {
      this.right = L.map(this.container, { zoomControl: false, attributionControl: true, minZoom: map.getMinZoom(), maxZoom: map.getMaxZoom() });
      this.right.attributionControl.setPrefix(false);
      this.rightLayers = new LayerSet(this.right, this.app.config, this.app.datum, {
        onFeatureClick: (layerId, fid) => this.app.details.open(layerId, fid),
        isBusy: () => this.app.tools.busy(),
      });
    }
    map.invalidateSize({ animate: false });
    this.right.invalidateSize({ animate: false });
    this.right.setView(map.getCenter(), map.getZoom(), { animate: false });
    this.app.basemaps.attach(this.right);
    map.sync(this.right);
    this.right.sync(map);
    this.leftSelect.value = left;
    this.rightSelect.value = right;
    this.applyLeft();
    this.applyRight();
  }

  applyLeft() {
    const value = this.leftSelect.value;
    const views = this.app.views;
    if (views && value.startsWith('plan:') && views.byId.has(value.slice(5))) views.setCurrent(views.byId.get(value.slice(5)));
    const keep = new Set([...this.ids(this.leftSelect.value), ...this.baseIds().filter((id) => this.app.layers.isVisible(id))]);
    this.app.layers.batch(() => {
      for (const id of this.app.layers.ids()) this.app.layers.setVisible(id, keep.has(id));
    });
    this.app.state.schedule();
  }

  applyRight() {
    const keep = new Set([...this.ids(this.rightSelect.value), ...this.baseIds().filter((id) => this.app.layers.isVisible(id))]);
    for (const id of this.rightLayers.ids()) this.rightLayers.setVisible(id, keep.has(id), { silent: true });
    this.app.state.schedule();
  }

  /** Close compare mode; restore: put back the main map's layers as they were before it opened. */
  close({ restore = true } = {}) {
    if (!this.active) return;
    this.active = false;
    if (restore && this.saved) {
      this.app.layers.batch(() => {
        for (const [id, visible, opacity] of this.saved) {
          this.app.layers.setOpacity(id, opacity);
          this.app.layers.setVisible(id, visible);
        }
      });
    }
    this.saved = null;
    this.app.map.unsync(this.right);
    this.right.unsync(this.app.map);
    document.body.classList.remove('gisapp-comparing');
    this.bar.hidden = true;
    this.container.hidden = true;
    document.querySelector('#gisapp-tools button[data-tool="compare"]').classList.remove('active');
    this.app.map.invalidateSize({ animate: false });
    this.app.state.schedule();
  }

  /** The compare state for the URL ("left|right"), or "" when closed. */
  value() {
    return this.active ? `${this.leftSelect.value}|${this.rightSelect.value}` : '';
  }
}
