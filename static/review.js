// Review page of a drafted zone file (templates/review.html; gisapp/web/routes_review.py).
// Plan text | drafted elements (accept / edit name and role / reject) | map. Click a line -> its elements; click an
// element -> its line and feature. Save POSTs the decisions as JSON; the file is published (built) only when
// no element is left "draft".
(function () {
  "use strict";
  const file = document.body.dataset.file;
  const api = "/api/plans/review?file=" + encodeURIComponent(file);
  const state = { elements: [], layers: {}, lineEls: {} };
  const map = L.map("map", { zoomControl: true, attributionControl: false });
  map.setView([22.6, 113.4], 9);
  const colours = { draft: "#1565c0", accepted: "#2e7d32", rejected: "#9e9e9e" };

  function styleOf(el) {
    const c = colours[el.status] || "#1565c0";
    return { color: c, weight: 2, fillOpacity: el.status === "rejected" ? 0.05 : 0.25, dashArray: el.status === "draft" ? "4 3" : null };
  }

  function updateStatus() {
    const counts = { draft: 0, accepted: 0, rejected: 0 };
    state.elements.forEach((el) => { counts[el.status] = (counts[el.status] || 0) + 1; });
    const s = document.getElementById("status");
    s.textContent = `草稿 draft ${counts.draft} · 接受 accepted ${counts.accepted} · 拒绝 rejected ${counts.rejected}` +
      (counts.draft ? " — 尚不能发布 not publishable yet" : " — 可发布 publishable");
    s.className = counts.draft ? "pending" : "publishable";
    s.dataset.draft = String(counts.draft);
  }

  function select(id, scroll) {
    document.querySelectorAll(".current").forEach((n) => n.classList.remove("current"));
    const el = state.elements.find((e) => e.id === id);
    if (!el) return;
    const li = document.querySelector(`#element-list li[data-id="${CSS.escape(id)}"]`);
    if (li) { li.classList.add("current"); if (scroll !== "list") li.scrollIntoView({ block: "nearest" }); }
    const p = state.lineEls[el.plan_line];
    if (p) { p.classList.add("current"); if (scroll !== "text") p.scrollIntoView({ block: "center" }); }
    const layer = state.layers[id];
    if (layer) {
      const b = layer.getBounds ? layer.getBounds() : null;
      if (b && b.isValid()) map.fitBounds(b, { maxZoom: 13 });
      layer.openPopup && layer.openPopup();
    }
    document.body.dataset.selected = id;
  }

  function setStatus(el, status) {
    el.status = status;
    const li = document.querySelector(`#element-list li[data-id="${CSS.escape(el.id)}"]`);
    if (li) li.dataset.status = status;
    if (state.layers[el.id] && state.layers[el.id].setStyle) state.layers[el.id].setStyle(styleOf(el));
    updateStatus();
  }

  function renderText(lines, elements) {
    const box = document.getElementById("plan-text");
    box.textContent = "";
    if (!lines) { box.textContent = "未找到规划文本 plan text not found (GISAPP_PLANS_DIR)"; return; }
    const byLine = {};
    elements.forEach((el) => { (byLine[el.plan_line] = byLine[el.plan_line] || []).push(el.id); });
    lines.forEach((text, i) => {
      const n = i + 1;
      const p = document.createElement("p");
      p.id = "L" + n;
      const ln = document.createElement("span");
      ln.className = "ln"; ln.textContent = n;
      p.append(ln, document.createTextNode(text));
      if (byLine[n]) { p.classList.add("has-element"); p.dataset.elements = byLine[n].join(" "); }
      p.addEventListener("click", () => { if (byLine[n]) select(byLine[n][0], "text"); });
      state.lineEls[n] = p;
      box.append(p);
    });
  }

  function renderList(elements, features) {
    const ul = document.getElementById("element-list");
    ul.textContent = "";
    const problems = {};
    features.forEach((f) => { if (f.properties.problem) problems[f.properties.id] = f.properties.problem; });
    elements.forEach((el) => {
      const li = document.createElement("li");
      li.dataset.id = el.id; li.dataset.status = el.status;
      const name = document.createElement("input");
      name.className = "name"; name.value = el.name; name.setAttribute("aria-label", "名称 name");
      name.addEventListener("change", () => { el.name = name.value.trim() || el.name; });
      const role = document.createElement("select");
      role.className = "role"; role.setAttribute("aria-label", "角色 role");
      ["core", "axis", "corridor", "belt", "zone", "node", "platform"].forEach((r) => {
        const o = document.createElement("option"); o.value = r; o.textContent = r; role.append(o);
      });
      role.value = el.role;
      role.addEventListener("change", () => { el.role = role.value; });
      role.addEventListener("click", (e) => e.stopPropagation());
      const meta = document.createElement("div");
      meta.className = "meta";
      const g = el.geometry || {};
      meta.textContent = `第 ${el.plan_line} 行 line · ${g.method}` + (problems[el.id] ? ` · ⚠ ${problems[el.id]}` : "");
      const note = document.createElement("div");
      note.className = "meta"; note.textContent = g.basis_note || g.reason || "";
      const accept = document.createElement("button");
      accept.type = "button"; accept.className = "accept"; accept.textContent = "接受 Accept";
      accept.addEventListener("click", (e) => { e.stopPropagation(); setStatus(el, "accepted"); });
      const reject = document.createElement("button");
      reject.type = "button"; reject.className = "reject"; reject.textContent = "拒绝 Reject";
      reject.addEventListener("click", (e) => { e.stopPropagation(); setStatus(el, "rejected"); });
      li.append(name, role, meta, note, accept, reject);
      li.addEventListener("click", () => select(el.id, "list"));
      ul.append(li);
    });
  }

  function renderMap(features) {
    const group = L.featureGroup();
    features.forEach((f) => {
      if (!f.geometry) return;
      const el = state.elements.find((e) => e.id === f.properties.id);
      const layer = L.geoJSON(f, {
        style: () => styleOf(el),
        pointToLayer: (_f, latlng) => L.circleMarker(latlng, { radius: 6 }),
      });
      layer.bindPopup(`${f.properties.name}`);
      layer.on("click", () => select(f.properties.id, "map"));
      state.layers[f.properties.id] = layer;
      group.addLayer(layer);
    });
    group.addTo(map);
    if (group.getLayers().length && group.getBounds().isValid()) map.fitBounds(group.getBounds());
  }

  async function load() {
    const resp = await fetch(api, { headers: { Accept: "application/json" } });
    const body = await resp.json();
    if (!resp.ok) { document.getElementById("status").textContent = body.message || "error"; return; }
    state.elements = body.definition.elements.map((el) => ({ ...el, status: el.status || "accepted" }));
    renderText(body.lines, state.elements);
    renderList(state.elements, body.features.features);
    renderMap(body.features.features);
    updateStatus();
    document.body.dataset.loaded = "1";
  }

  async function save() {
    const out = document.getElementById("save-result");
    out.textContent = "保存中 saving…";
    const payload = { elements: state.elements.map((el) => ({ id: el.id, status: el.status, name: el.name, role: el.role })) };
    const resp = await fetch(api, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(payload) });
    const body = await resp.json();
    out.textContent = resp.ok
      ? `已保存 saved (${body.publishable ? "可发布 publishable: gisapp build" : "仍有草稿 drafts left"})`
      : `未保存 not saved: ${body.message}`;
    out.dataset.ok = resp.ok ? "1" : "0";
    out.dataset.publishable = resp.ok && body.publishable ? "1" : "0";
  }

  document.getElementById("save").addEventListener("click", save);
  document.getElementById("accept-all").addEventListener("click", () => {
    state.elements.forEach((el) => { if (el.status === "draft") setStatus(el, "accepted"); });
  });
  load();
})();
