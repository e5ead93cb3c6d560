// The planner's map (GET /): wires the modules of static/js/map/ together.
// The page's configuration is the JSON data block #gisapp-config (gisapp/web/map_page.py).

/* global L */

import { BaseMaps } from './basemaps.js';
import { Compare } from './compare.js';
import { Datum } from './datum.js';
import { Details } from './details.js';
import { lang, setLang } from './i18n.js';
import { LargeLayers } from './large.js';
import { LayerSet } from './layerset.js';
import { Search } from './search.js';
import { StateSync, parseHash } from './state.js';
import { Tools } from './tools.js';
import { Tree } from './tree.js';
import { Views } from './views.js';

const config = JSON.parse(document.getElementById('gisapp-config').textContent);
const initial = parseHash(window.location.hash);
setLang(initial.lang || 'zh');

const map = L.map('gisapp-map', { zoomControl: false, minZoom: 5, maxZoom: 18, zoomSnap: 1 });
L.control.zoom({ position: 'bottomleft' }).addTo(map);
L.control.scale({ imperial: false, position: 'bottomleft' }).addTo(map);

const datum = new Datum();
const app = { config, map, datum, ready: false };
window.gisapp = app; // for the browser tests and the benchmark

app.state = new StateSync(() => {
  const c = datum.toWgs(map.getCenter());
  return {
    plan: app.views.current ? app.views.current.id : '',
    zoom: map.getZoom(),
    centre: [c.lat, c.lng],
    layers: app.layers.visibleIds().map((id) => ({ id, opacity: app.layers.opacity(id) })),
    selected: app.details.current,
    base: app.basemaps.current,
    lang: lang(),
    cmp: app.compare.value(),
  };
});
app.layers = new LayerSet(map, config, datum, {
  onFeatureClick: (layerId, featureId) => app.details.open(layerId, featureId),
  isBusy: () => app.tools.busy(),
  onLoaded: (layerId) => {
    if (app.details.current && app.details.current.layer === layerId) app.details.highlight();
    if (app.views && app.views.current && app.views.current.layers.includes(layerId)) app.views.renderKey();
  },
});
app.allMaps = () => [map, ...(app.compare.right ? [app.compare.right] : [])];
app.allLayerSets = () => [app.layers, ...(app.compare.rightLayers ? [app.compare.rightLayers] : [])];
app.idle = () => Promise.all(app.allLayerSets().map((ls) => ls.idle()));
app.details = new Details(app);
app.search = new Search(app);
app.tools = new Tools(app);
app.compare = new Compare(app);
app.basemaps = new BaseMaps(app);
app.tree = new Tree(document.getElementById('gisapp-tree'), config, app.layers, {
  zoomTo: (id) => {
    const entry = config.layers.find((l) => l.id === id);
    if (entry && entry.bounds) map.fitBounds(datum.bboxToDisplay(entry.bounds), { padding: [20, 20] });
  },
});
app.views = new Views(app);
app.large = new LargeLayers(app, document.getElementById('gisapp-large'));
document.getElementById('gisapp-show-opacity').addEventListener('change', (e) => {
  document.getElementById('gisapp-tree').classList.toggle('gisapp-show-opacity', e.target.checked);
});
app.layers.onChange(() => app.state.schedule());
map.on('moveend', () => app.state.schedule());

document.getElementById('gisapp-lang').addEventListener('click', () => {
  setLang(lang() === 'zh' ? 'en' : 'zh');
  map.pm.setLang(lang() === 'en' ? 'en' : 'zh');
  app.state.schedule();
});

/** Put the app in a state (from the URL): view, layers, base map, compare mode, selection. */
async function apply(state, first) {
  if (state.lang) setLang(state.lang);
  const baseId = config.basemaps.some((m) => m.id === state.base) ? state.base : first ? config.default_basemap : app.basemaps.current;
  const base = config.basemaps.find((m) => m.id === baseId);
  if (first) datum.set(base.datum);
  const hasView = state.zoom !== undefined && Boolean(state.centre);
  // the plan view: #plan=<id>; else the plan of an old link's layers (l=); else the default plan
  let plan = state.plan && app.views.byId.get(state.plan);
  if (!plan && state.layers) plan = app.views.guess(state.layers.map((l) => l.id));
  if (!plan && !state.layers && (first || state.plan)) plan = app.views.byId.get(config.default_plan);
  if (hasView) map.setView(datum.toDisplay(state.centre), state.zoom, { animate: false });
  else if (plan && (first || !state.layers)) app.views.fit(plan);
  else if (first && config.home) map.fitBounds(L.latLngBounds(config.home).pad(0.02), { animate: false });
  else if (first) map.setView(config.centre, 10, { animate: false });
  if (first || baseId !== app.basemaps.current) app.basemaps.use(baseId);
  if (plan && !state.layers) await app.views.show(plan.id, { fit: false });
  else if (plan) app.views.setCurrent(plan);
  if (state.layers || (first && !plan)) {
    const wanted = state.layers ? new Map(state.layers.map((l) => [l.id, l.opacity])) : null;
    const byDefault = new Set(config.layers.filter((l) => l.visible).map((l) => l.id));
    app.layers.batch(() => {
      for (const id of app.layers.ids()) {
        const on = wanted ? wanted.has(id) : byDefault.has(id);
        app.layers.setOpacity(id, on && wanted ? wanted.get(id) : 1);
        app.layers.setVisible(id, on);
      }
    });
  }
  if (state.cmp) {
    const [left, right] = state.cmp.split('|');
    app.compare.open(left, right);
  } else if (!first) {
    app.compare.close({ restore: false });
  }
  await app.idle();
  if (state.selected && state.selected.place) await app.details.openPlace(state.selected.place);
  else if (state.selected) await app.details.open(state.selected.layer, state.selected.id);
}

apply(initial, true).then(() => {
  app.state.enabled = true;
  app.state.write();
  app.ready = true;
  document.body.dataset.ready = 'true';
  performance.mark('gisapp-ready');
});

window.addEventListener('hashchange', () => {
  apply(parseHash(window.location.hash), false);
});
