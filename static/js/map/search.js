// Search box: towns, districts, named places and zones by Chinese name or pinyin
// (/api/map/search, gisapp/search.py). Choosing a result shows its layer, zooms to it and opens
// its details.

import { el } from './i18n.js';

export class Search {
  constructor(app) {
    this.app = app;
    this.input = document.getElementById('gisapp-search-input');
    this.list = document.getElementById('gisapp-search-results');
    this.results = [];
    this.active = -1;
    this.seq = 0;
    this.timer = null;
    this.input.addEventListener('input', () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.query(this.input.value), 120);
    });
    this.input.addEventListener('keydown', (e) => this.key(e));
    this.input.addEventListener('focus', () => {
      if (this.results.length) this.list.hidden = false;
    });
    document.addEventListener('click', (e) => {
      if (!e.target.closest('#gisapp-search')) this.list.hidden = true;
    });
  }

  async fetch(q) {
    const r = await fetch(`${this.app.config.api.search}?q=${encodeURIComponent(q)}&limit=12`);
    if (!r.ok) return [];
    return (await r.json()).results;
  }

  async query(q) {
    const seq = ++this.seq;
    if (!q.trim()) {
      this.render([]);
      return;
    }
    const results = await this.fetch(q);
    if (seq === this.seq) {
      this.renderedFor = q;
      this.render(results);
    }
  }

  render(results) {
    this.results = results;
    this.active = results.length ? 0 : -1;
    this.list.textContent = '';
    results.forEach((hit, i) => {
      const li = el('li', 'gisapp-search-hit');
      li.setAttribute('role', 'option');
      li.dataset.index = String(i);
      li.dataset.kind = hit.kind;
      li.dataset.layer = hit.layer;
      li.dataset.id = hit.id;
      const name = el('span', 'gisapp-hit-name', hit.name);
      const kind = el('span', 'gisapp-hit-kind');
      kind.append(el('span', 'l-zh', hit.kind_zh), el('span', 'l-en', hit.kind_en));
      li.append(name);
      if (hit.name_en) li.append(el('span', 'gisapp-hit-en', hit.name_en));
      li.append(kind);
      if (hit.context) li.append(el('span', 'gisapp-hit-context', hit.context));
      li.addEventListener('mousedown', (e) => {
        e.preventDefault();
        this.choose(hit);
      });
      this.list.append(li);
    });
    if (!results.length && this.input.value.trim()) {
      const li = el('li', 'gisapp-search-none');
      li.append(el('span', 'l-zh', '没有找到'), el('span', 'l-en', 'No match'));
      this.list.append(li);
    }
    this.list.hidden = !this.input.value.trim();
    this.mark();
  }

  mark() {
    [...this.list.querySelectorAll('.gisapp-search-hit')].forEach((li, i) => {
      li.classList.toggle('active', i === this.active);
      li.setAttribute('aria-selected', i === this.active ? 'true' : 'false');
    });
  }

  async key(e) {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      if (!this.results.length) return;
      const step = e.key === 'ArrowDown' ? 1 : -1;
      this.active = (this.active + step + this.results.length) % this.results.length;
      this.mark();
    } else if (e.key === 'Enter') {
      e.preventDefault();
      clearTimeout(this.timer);
      if (this.renderedFor !== this.input.value) await this.query(this.input.value);
      const hit = this.results[Math.max(0, this.active)];
      if (hit) this.choose(hit);
    } else if (e.key === 'Escape') {
      this.list.hidden = true;
    }
  }

  /** Show a hit: its layer on, the map on it, its details open. */
  async choose(hit) {
    this.list.hidden = true;
    this.input.value = hit.name;
    if (hit.layer) {
      this.app.layers.setVisible(hit.layer, true);
      await this.app.details.open(hit.layer, hit.id, { zoom: true });
    } else if (hit.kind === 'place') {
      await this.app.details.openPlace(hit.id, { zoom: true });
    }
  }

  /** Search a name and show the best hit (used by member-town links in the details). */
  async go(q) {
    const results = await this.fetch(q);
    const exact = results.find((r) => r.name === q) || results[0];
    if (exact) await this.choose(exact);
  }
}
