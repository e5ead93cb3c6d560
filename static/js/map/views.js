// Plan views (专题图): one plan's structure alone over the base, fitted to its city, with its own
// title, plan citation, legend (only what is shown) and the list of its elements not located
// (未定位要素: stand-ins for a whole town, district or city, which the map does not draw as points).
//
// The views come from the page configuration (config.plans, gisapp/web/map_legend.py plan_views).
// window.gisapp.views.show(planId) opens one; the URL keeps it as #plan=<id> (state.js).

/* global L */

import { bi, el, lang, t } from './i18n.js';
import { swatch } from './tree.js';

// The unit a stand-in stands for, highlighted while its entry is hovered.
const UNIT_STYLE = {
  color: '#ff7f00', weight: 3, opacity: 0.95, fillColor: '#ff7f00', fillOpacity: 0.12, dashArray: '6 4',
  interactive: false, className: 'gisapp-unit-highlight',
};
// The reference layer under a plan (its city's towns) is drawn lightly.
const REFERENCE_OPACITY = 0.6;

/** A legend symbol drawn with a feature's own style: its point symbol, or a box for areas and lines. */
function keySwatch(style, point, shape = 'circle') {
  const hatch = (style.className || '').split(' ').find((c) => c.startsWith('gisapp-hatch-'));
  return swatch(style, hatch, point ? shape || 'circle' : 'box', 0.15);
}

export class Views {
  /**
   * @param {object} app  {config, map, layers, datum, details, state, tree}
   */
  constructor(app) {
    this.app = app;
    this.plans = app.config.plans || [];
    this.byId = new Map(this.plans.map((p) => [p.id, p]));
    this.current = null;
    this.unitCache = new Map();
    this.unitGroup = L.layerGroup().addTo(app.map);
    this.hoverSeq = 0;
    this.switcher = document.getElementById('gisapp-plans');
    this.list = document.getElementById('gisapp-standins');
    this.count = document.getElementById('gisapp-standins-count');
    this.card = document.getElementById('gisapp-view-card');
    this.buildSwitcher();
    this.list.addEventListener('click', (e) => {
      const item = e.target.closest('li[data-id]');
      if (item) this.app.details.open(item.dataset.layer, item.dataset.id);
    });
    document.getElementById('gisapp-figure').addEventListener('click', () => {
      const url = this.figureUrl();
      if (url) window.open(url, '_blank', 'noopener');
    });
    app.layers.onChange(() => this.syncLegend());
  }

  /** The plan view that the ids of the visible layers belong to most (for old links with l= only). */
  guess(ids) {
    let best = null;
    let score = 0;
    for (const plan of this.plans) {
      const n = plan.layers.filter((id) => ids.includes(id)).length;
      if (n > score) {
        best = plan;
        score = n;
      }
    }
    return best;
  }

  buildSwitcher() {
    this.switcher.textContent = '';
    for (const plan of this.plans) {
      const b = el('button', 'gisapp-plan-button');
      b.type = 'button';
      b.dataset.plan = plan.id;
      b.setAttribute('role', 'radio');
      b.setAttribute('aria-checked', 'false');
      const city = plan.city ? plan.city.name.replace(/市$/, '') : '';
      const name = el('span', 'gisapp-plan-structure');
      name.append(bi(plan.structure_zh, plan.structure_en));
      const sub = el('small', 'gisapp-plan-title');
      sub.append(bi(`${city ? `${city} · ` : ''}${plan.zh}`, plan.en));
      b.append(name, sub);
      b.title = `${plan.zh} · ${plan.structure_zh}`;
      b.addEventListener('click', () => this.show(plan.id));
      this.switcher.append(b);
    }
  }

  /** The bounds of a plan's city in the display datum, as a Leaflet LatLngBounds. */
  bounds(plan) {
    return this.app.datum.bboxToDisplay(plan.bounds);
  }

  /** Fit the map to a plan's city, leaving room for the title and legend card. */
  fit(plan) {
    const map = this.app.map;
    const mapBox = map.getContainer().getBoundingClientRect();
    const card = this.card.getBoundingClientRect();
    // the card takes the top-left corner: pad by its width unless the map is too narrow for that
    const left = card.width && card.width < mapBox.width * 0.45 ? card.width + 16 : 16;
    map.fitBounds(this.bounds(plan), { paddingTopLeft: [left, 16], paddingBottomRight: [16, 16], animate: false });
  }

  /**
   * Open a plan's view: its layers (and its city's towns, lightly) over the base, nothing else.
   * @param {string} planId
   * @param {{fit?: boolean, layers?: boolean}} options  fit: fit the map to the city (default true);
   *   layers: set the visible layers (default true; false keeps them, e.g. from a link's l=)
   * @returns {Promise<boolean>} false for an unknown plan id
   */
  async show(planId, { fit = true, layers = true } = {}) {
    const plan = this.byId.get(planId);
    if (!plan) return false;
    const app = this.app;
    if (app.compare && app.compare.active) app.compare.close({ restore: false });
    this.current = plan;
    if (fit) this.fit(plan);
    app.layers.batch(() => {
      if (layers) {
        const on = new Set([...plan.layers, ...plan.reference]);
        for (const entry of app.config.layers) {
          if (entry.kind === 'base') on.add(entry.id);
        }
        for (const id of app.layers.ids()) {
          app.layers.setOpacity(id, plan.reference.includes(id) ? REFERENCE_OPACITY : 1);
          app.layers.setVisible(id, on.has(id));
        }
      }
      this.render();
    });
    if (app.state) app.state.schedule();
    await app.idle();
    return true;
  }

  /** Make a plan the current view without touching layers or the map (old links with l=). */
  setCurrent(plan) {
    this.current = plan;
    this.render();
  }

  /** Title, citation, switcher, tree groups, stand-ins and legend for the current plan. */
  render() {
    const plan = this.current;
    for (const b of this.switcher.querySelectorAll('button[data-plan]')) {
      const on = Boolean(plan && b.dataset.plan === plan.id);
      b.classList.toggle('active', on);
      b.setAttribute('aria-checked', on ? 'true' : 'false');
    }
    const title = document.getElementById('gisapp-view-plan');
    const structure = document.getElementById('gisapp-view-structure');
    const citation = document.getElementById('gisapp-view-citation');
    title.textContent = '';
    structure.textContent = '';
    citation.textContent = '';
    this.card.dataset.plan = plan ? plan.id : '';
    if (plan) {
      title.append(bi(plan.zh, plan.en));
      structure.append(bi(`“${plan.structure_zh}”空间结构`, `Spatial structure: ${plan.structure_en}`));
      const c = plan.citation;
      const lines = c.line_from ? (c.line_to && c.line_to !== c.line_from ? `${c.line_from}–${c.line_to}` : `${c.line_from}`) : '';
      citation.append(
        bi(
          `出处：${c.file}${lines ? ` 第${lines}行` : ''}${c.section ? `，${c.section}` : ''}`,
          `Source: ${c.file}${lines ? `, lines ${lines}` : ''}${c.section ? `, ${c.section}` : ''}`,
        ),
      );
      document.title = `${plan.structure_zh} · ${plan.zh} · ${this.app.config.title.zh}`;
    }
    // the tree: the current plan's group open, the other plans folded
    for (const d of document.querySelectorAll('#gisapp-tree details.gisapp-tree-group')) {
      if (!d.dataset.group.startsWith('plan:')) continue;
      d.open = Boolean(plan && d.dataset.group === `plan:${plan.file}`);
    }
    this.renderStandins();
    this.syncLegend();
  }

  renderStandins() {
    const plan = this.current;
    this.list.textContent = '';
    this.unitGroup.clearLayers();
    const items = plan ? plan.standins : [];
    this.count.textContent = `(${items.length})`;
    const roles = this.app.config.roles;
    for (const s of items) {
      const li = el('li', 'gisapp-standin');
      li.dataset.layer = s.layer;
      li.dataset.id = s.id;
      li.tabIndex = 0;
      const role = roles[s.role] || { colour: '#616161', zh: '其他', en: 'other' };
      const head = el('div', 'gisapp-standin-head');
      const dot = el('span', 'gisapp-standin-role');
      dot.style.borderColor = role.colour;
      dot.append(bi(role.zh, role.en));
      head.append(el('strong', 'gisapp-standin-name', s.name), dot);
      const unit = el('div', 'gisapp-standin-unit');
      const u = s.unit;
      const kind = u ? { towns: ['镇街', 'town'], districts: ['区', 'district'], city: ['全市', 'whole city'] }[u.kind] : null;
      const names = u ? u.names.join('、') : '—';
      unit.append(
        bi(
          `所指范围：${names}${kind ? `（${kind[0]}）` : ''} · ±${Math.round(s.uncertainty_m / 1000)} km`,
          `Stands for: ${names}${kind ? ` (${kind[1]})` : ''} · ±${Math.round(s.uncertainty_m / 1000)} km`,
        ),
      );
      li.append(head, unit);
      if (s.basis_note) {
        const why = el('div', 'gisapp-standin-note', s.basis_note);
        why.lang = 'en';
        li.append(why);
      }
      li.addEventListener('mouseenter', () => this.highlightUnit(s));
      li.addEventListener('focus', () => this.highlightUnit(s));
      li.addEventListener('mouseleave', () => this.clearUnit());
      li.addEventListener('blur', () => this.clearUnit());
      li.addEventListener('keydown', (e) => {
        if (e.key === 'Enter') this.app.details.open(s.layer, s.id);
      });
      this.list.append(li);
    }
  }

  async _unitFeatures(unit) {
    const api = this.app.config.api.feature_geojson;
    const fetchOne = (id) => {
      const key = `${unit.layer}/${id}`;
      if (!this.unitCache.has(key)) {
        const url = api.replace('{layer}', encodeURIComponent(unit.layer)).replace('{id}', encodeURIComponent(id));
        this.unitCache.set(
          key,
          fetch(url).then((r) => (r.ok ? r.json() : { type: 'FeatureCollection', features: [] })),
        );
      }
      return this.unitCache.get(key);
    };
    return Promise.all(unit.ids.map(fetchOne));
  }

  /** Outline the unit (towns, districts or city) a stand-in stands for. */
  async highlightUnit(standin) {
    const seq = ++this.hoverSeq;
    if (!standin.unit) return;
    const parts = await this._unitFeatures(standin.unit);
    if (seq !== this.hoverSeq) return;
    this.unitGroup.clearLayers();
    for (const fc of parts) {
      L.geoJSON(this.app.datum.geojsonToDisplay(fc), { ...UNIT_STYLE, pane: 'gisapp-selection' }).addTo(this.unitGroup);
    }
    this.unitGroup.standin = standin.id;
  }

  /** Remove the hover outline (the selected stand-in, if any, keeps its unit outlined). */
  clearUnit() {
    this.hoverSeq += 1;
    this.unitGroup.clearLayers();
    this.unitGroup.standin = null;
    const cur = this.app.details && this.app.details.current;
    const selected = cur && cur.layer ? this.standin(cur.layer, cur.id) : null;
    if (selected) this.highlightUnit(selected);
  }

  /** Whether a feature is a stand-in of the current plan (the details panel then outlines its unit). */
  standin(layerId, featureId) {
    const plan = this.current;
    return plan ? plan.standins.find((s) => s.layer === layerId && s.id === featureId) || null : null;
  }

  /** The plan's own key (专题图例): each drawn area or line of the plan with its symbol and name, and
   *  one symbol per role for points, from the features as drawn (styles: gisapp/web/map_styles.py). */
  renderKey() {
    const box = document.getElementById('gisapp-plan-key');
    if (!box) return;
    box.textContent = '';
    const plan = this.current;
    if (!plan) return;
    const roles = this.app.config.roles;
    const order = ['core', 'axis', 'corridor', 'belt', 'zone', 'platform', 'node', 'other'];
    const seen = new Set();
    const items = [];
    for (const id of plan.layers) {
      if (!this.app.layers.isVisible(id)) continue;
      const entry = this.app.layers.entries.get(id);
      if (!entry || entry.kind !== 'structure') continue;
      for (const layer of this.app.layers.featureLayers(id)) {
        const p = layer.feature && layer.feature.properties;
        if (!p || !p.style) continue;
        const point = Boolean(layer.getLatLng);
        const name = p.label && p.label.zh ? p.label : null;
        const shape = point ? (layer.options && layer.options.shape) || 'circle' : '';
        const key = point || !name ? `role:${p.role}:${shape}` : `name:${name.zh}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const role = roles[p.role] || { zh: '其他', en: 'other' };
        items.push({
          rank: order.indexOf(p.role) * 2 + (point ? 1 : 0),
          style: p.style,
          point,
          shape,
          zh: point || !name ? `${role.zh}（点）` : name.zh,
          en: point || !name ? `${role.en} (point)` : name.en || name.zh,
        });
      }
    }
    items.sort((a, b) => a.rank - b.rank);
    const ul = el('ul', 'gisapp-plan-key');
    for (const item of items) {
      const li = el('li');
      li.append(keySwatch(item.style, item.point, item.shape), bi(item.zh, item.en));
      ul.append(li);
    }
    if (items.length) {
      const h = el('h3');
      h.append(bi('规划结构要素', 'Plan structure'));
      box.append(h, ul);
    }
    box.hidden = !items.length;
    document.getElementById('gisapp-legend').classList.toggle('gisapp-has-key', items.length > 0);
  }

  /** Show in the legend only the roles, bases and layers of what is visible. */
  syncLegend() {
    this.renderKey();
    const legend = document.getElementById('gisapp-legend');
    if (!legend) return;
    const visible = this.app.layers.visibleIds().map((id) => this.app.layers.entries.get(id)).filter(Boolean);
    const roles = new Set(visible.flatMap((e) => e.roles || []));
    const bases = new Set(visible.filter((e) => e.kind !== 'base').flatMap((e) => e.feature_bases || [e.basis]));
    for (const li of legend.querySelectorAll('li[data-role-group]')) {
      const spans = [...li.querySelectorAll('[data-role]')];
      let any = false;
      for (const span of spans) {
        const on = roles.has(span.dataset.role);
        span.hidden = !on;
        any = any || on;
      }
      li.hidden = !any;
    }
    for (const li of legend.querySelectorAll('li[data-basis]')) {
      li.hidden = li.dataset.basis === 'standin' ? !visible.some((e) => (e.geometry_types || []).includes('Point')) : !bases.has(li.dataset.basis);
    }
    for (const li of legend.querySelectorAll('li[data-layer]')) {
      const entry = this.app.layers.entries.get(li.dataset.layer);
      li.hidden = !this.app.layers.isVisible(li.dataset.layer) || !entry || entry.kind === 'base';
    }
    for (const h of legend.querySelectorAll('h3')) {
      const list = h.nextElementSibling;
      h.hidden = Boolean(list && ![...list.children].some((c) => !c.hidden));
    }
  }

  /** The figure endpoint (出图) for the current view: plan, box on screen (WGS 84), PDF. */
  figureUrl() {
    const plan = this.current;
    if (!plan) return '';
    const bbox = this.app.datum.boundsToBbox(this.app.map.getBounds()).map((v) => v.toFixed(5)).join(',');
    const q = new URLSearchParams({ plan: plan.id, bbox, size: 'A4', format: 'pdf', lang: lang() });
    return `${this.app.config.figure}?${q.toString()}`;
  }

  /** Label of a plan for selects (compare): city and structure, short enough to read whole. */
  label(plan) {
    const city = plan.city ? plan.city.name.replace(/市$/, '') : '';
    return { zh: `${city ? `${city} · ` : ''}${plan.structure_zh}`, en: `${plan.en}` };
  }

  title() {
    return this.current ? t(this.current.zh, this.current.en) : '';
  }
}
