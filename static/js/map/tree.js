// The layer tree: groups by plan and structure (built by the server from the layer metadata),
// a checkbox (visibility), an opacity slider and the role legend of every layer.

import { bi, el } from './i18n.js';
import { symbolPath } from './labels.js';

const SVG = 'http://www.w3.org/2000/svg';

/**
 * A small SVG swatch drawn like a feature (colour, dash, hatch): a box for areas and lines (the layer tree),
 * or a point symbol (circle, star, square, diamond; the plan legend in views.js).
 * @param {object} style  a feature style (color, weight, dashArray, fill, fillColor, fillOpacity)
 * @param {string} [hatch]  the id of an SVG hatch pattern
 * @param {string} [shape]  'box' (default) or a point symbol
 * @param {number} [minFill]  the least fill opacity shown (so a faint fill still reads in the legend)
 */
export function swatch(style, hatch, shape = 'box', minFill = 0) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', 'gisapp-swatch');
  svg.setAttribute('width', '30');
  svg.setAttribute('height', '16');
  svg.setAttribute('viewBox', '0 0 30 16');
  svg.setAttribute('aria-hidden', 'true');
  const tag = shape === 'box' ? 'rect' : shape === 'circle' ? 'circle' : 'path';
  const node = document.createElementNS(SVG, tag);
  if (tag === 'rect') {
    for (const [k, v] of [['x', 2], ['y', 2], ['width', 26], ['height', 12]]) node.setAttribute(k, String(v));
  } else if (tag === 'circle') {
    for (const [k, v] of [['cx', 15], ['cy', 8], ['r', 5]]) node.setAttribute(k, String(v));
  } else {
    node.setAttribute('d', symbolPath(shape, shape === 'star' ? 6.5 : 5.5, 15, 8));
  }
  node.setAttribute('stroke', style.color || '#444');
  node.setAttribute('stroke-width', String(Math.min(style.weight || 2, 2.5)));
  if (style.dashArray) {
    node.setAttribute('stroke-dasharray', style.dashArray);
    if (tag === 'rect') node.setAttribute('stroke-linecap', 'round');
  }
  node.setAttribute('fill', hatch ? `url(#${hatch})` : style.fill === false ? 'none' : style.fillColor || style.color || 'none');
  node.setAttribute('fill-opacity', String(Math.max(style.fillOpacity ?? (minFill ? 0.2 : 0), minFill)));
  svg.append(node);
  return svg;
}

export class Tree {
  /**
   * @param {HTMLElement} root  the container (#gisapp-tree)
   * @param {object} config     the page configuration (tree, layers, roles)
   * @param {import('./layerset.js').LayerSet} layers
   * @param {{zoomTo: Function}} hooks
   */
  constructor(root, config, layers, hooks) {
    this.root = root;
    this.config = config;
    this.layers = layers;
    this.hooks = hooks;
    this.entries = new Map(config.layers.map((l) => [l.id, l]));
    this.build();
    layers.onChange(() => this.sync());
  }

  build() {
    this.root.textContent = '';
    for (const group of this.config.tree) {
      const details = el('details', 'gisapp-tree-group');
      details.open = true;
      details.dataset.group = group.key;
      const summary = el('summary');
      summary.append(bi(group.zh, group.en));
      details.append(summary);
      for (const child of group.children) {
        const box = el('div', 'gisapp-tree-structure');
        box.dataset.structure = child.key;
        const single = child.layers.length === 1 && child.key !== group.key;
        if (child.key !== group.key && !single) {
          const title = el('div', 'gisapp-tree-structure-title');
          title.append(bi(child.zh, child.en));
          box.append(title);
        }
        // one layer per structure (the usual case): the row is named by the structure
        for (const id of child.layers) box.append(this.layerRow(this.entries.get(id), single ? child : null));
        details.append(box);
      }
      this.root.append(details);
    }
  }

  layerRow(entry, structure) {
    const row = el('div', 'gisapp-tree-layer');
    row.dataset.layer = entry.id;
    const label = el('label', 'gisapp-tree-label');
    const box = el('input');
    box.type = 'checkbox';
    box.dataset.layer = entry.id;
    box.addEventListener('change', () => this.layers.setVisible(entry.id, box.checked));
    const name = el('span', 'gisapp-tree-name');
    name.append(structure ? bi(structure.zh, structure.en) : bi(entry.title, entry.title_en));
    name.title = `${entry.title} / ${entry.title_en} (${entry.id})`;
    label.append(box, swatch(entry.swatch, entry.hatch), name, el('small', 'gisapp-count', `${entry.count}`));
    const tools = el('div', 'gisapp-tree-tools');
    const zoom = el('button', 'gisapp-zoomto', '⤢');
    zoom.type = 'button';
    zoom.dataset.titleZh = '缩放到图层';
    zoom.dataset.titleEn = 'Zoom to layer';
    zoom.title = '缩放到图层';
    zoom.addEventListener('click', () => this.hooks.zoomTo(entry.id));
    const range = el('input', 'gisapp-opacity');
    range.type = 'range';
    range.min = '0';
    range.max = '100';
    range.step = '5';
    range.value = '100';
    range.dataset.layer = entry.id;
    range.setAttribute('aria-label', `透明度 opacity: ${entry.title}`);
    range.addEventListener('input', () => this.layers.setOpacity(entry.id, Number(range.value) / 100));
    const op = el('span', 'gisapp-opacity-label');
    op.append(bi('不透明度', 'Opacity'));
    tools.append(op, range, zoom);
    row.append(label, tools);
    if (entry.roles && entry.roles.length) {
      const ul = el('ul', 'gisapp-tree-roles');
      for (const role of entry.roles) {
        const info = this.config.roles[role] || { colour: '#616161', zh: '其他', en: 'other' };
        const li = el('li');
        li.dataset.role = role;
        li.append(swatch({ color: info.colour, fillColor: info.colour, fillOpacity: 0.25, weight: 2 }), bi(info.zh, info.en));
        ul.append(li);
      }
      row.append(ul);
    }
    if (entry.basis !== 'official') {
      const note = el('div', `gisapp-tree-basis gisapp-basis-${entry.basis}`);
      const b = this.config.bases[entry.basis];
      note.append(bi(b.zh, b.en));
      row.append(note);
    }
    return row;
  }

  /** Reflect the layer set's state in the checkboxes and sliders. */
  sync() {
    for (const box of this.root.querySelectorAll('input[type=checkbox][data-layer]')) {
      box.checked = this.layers.isVisible(box.dataset.layer);
    }
    for (const range of this.root.querySelectorAll('input.gisapp-opacity')) {
      const v = String(Math.round(this.layers.opacity(range.dataset.layer) * 100));
      if (range.value !== v) range.value = v;
    }
  }
}
