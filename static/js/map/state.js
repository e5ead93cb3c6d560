// The view in the URL: zoom, centre (WGS 84), visible layers (with opacity), the selected
// feature, base map, language and compare mode, so that a link reproduces the view.
//
//   #plan=zhongshan-services-2021-2025&z=11&c=22.52000,113.39000&l=zs-towns,zs-services-structure~60
//    &sel=zs-towns/zs-town-1790113&base=offline&lang=en&cmp=plan:zhongshan-services-2021-2025|plan:…
//
// "plan" is the plan view (专题图, views.js). A missing "l" means the plan's layers (or, without a
// plan, the default view); "l=" (empty) means none. Old links with only "l=" keep working.

const KEEP = { '%2C': ',', '%2F': '/', '%3A': ':', '%7C': '|', '%7E': '~' };

function enc(value) {
  return encodeURIComponent(value).replace(/%2C|%2F|%3A|%7C|%7E/g, (m) => KEEP[m]);
}

/** Parse a location hash into a state object (missing parts are undefined). */
export function parseHash(hash) {
  const out = {};
  const text = (hash || '').replace(/^#/, '');
  if (!text) return out;
  for (const part of text.split('&')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    const key = part.slice(0, i);
    let value;
    try {
      value = decodeURIComponent(part.slice(i + 1));
    } catch (err) {
      continue;
    }
    if (key === 'z') {
      const z = Number(value);
      if (Number.isFinite(z)) out.zoom = z;
    } else if (key === 'c') {
      const [lat, lng] = value.split(',').map(Number);
      if (Number.isFinite(lat) && Number.isFinite(lng) && Math.abs(lat) <= 90 && Math.abs(lng) <= 180) out.centre = [lat, lng];
    } else if (key === 'l') {
      out.layers = value
        ? value.split(',').filter(Boolean).map((item) => {
            const [id, op] = item.split('~');
            const opacity = op === undefined ? 1 : Math.max(0, Math.min(100, Number(op))) / 100;
            return { id, opacity: Number.isFinite(opacity) ? opacity : 1 };
          })
        : [];
    } else if (key === 'sel') {
      if (value.startsWith('place:')) out.selected = { place: value.slice(6) };
      else {
        const j = value.indexOf('/');
        if (j > 0) out.selected = { layer: value.slice(0, j), id: value.slice(j + 1) };
      }
    } else if (key === 'base' || key === 'lang' || key === 'cmp' || key === 'plan') {
      out[key] = value;
    }
  }
  return out;
}

/** Format a state object as a location hash (without '#'). */
export function formatHash(state) {
  const parts = [];
  if (state.plan) parts.push(`plan=${enc(state.plan)}`);
  if (state.zoom !== undefined) parts.push(`z=${state.zoom}`);
  if (state.centre) parts.push(`c=${state.centre[0].toFixed(5)},${state.centre[1].toFixed(5)}`);
  if (state.layers) {
    const items = state.layers.map((l) => (l.opacity < 1 ? `${l.id}~${Math.round(l.opacity * 100)}` : l.id));
    parts.push(`l=${items.map(enc).join(',')}`);
  }
  if (state.selected) {
    const sel = state.selected.place ? `place:${state.selected.place}` : `${state.selected.layer}/${state.selected.id}`;
    parts.push(`sel=${enc(sel)}`);
  }
  if (state.base && state.base !== 'offline') parts.push(`base=${enc(state.base)}`);
  if (state.lang && state.lang !== 'zh') parts.push(`lang=${enc(state.lang)}`);
  if (state.cmp) parts.push(`cmp=${enc(state.cmp)}`);
  return parts.join('&');
}

/** Keeps location.hash in step with the app (replaceState: no history entry per pan). */
export class StateSync {
  constructor(collect) {
    this.collect = collect;
    this.timer = null;
    this.enabled = false;
  }

  schedule() {
    if (!this.enabled) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.write(), 150);
  }

  write() {
    const hash = `#${formatHash(this.collect())}`;
    if (hash !== window.location.hash) window.history.replaceState(null, '', hash);
  }
}
