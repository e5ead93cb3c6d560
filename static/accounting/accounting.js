// Control-line accounting page: progress form and adjustment tool (no external libraries).
// Every value is written with textContent, never as HTML.
(function () {
  "use strict";
  var rules = document.body.getAttribute("data-rules");

  function cell(tr, text, cls) {
    var td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "—" : String(text);
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }

  // Shown rounded like the server-rendered tables (km² 2 decimals, 公顷 1); exact value in data-value.
  var fmt2 = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  var fmt1 = new Intl.NumberFormat("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  function km2(id, v) {
    var el = document.getElementById(id);
    el.textContent = fmt2.format(v);
    el.setAttribute("data-value", String(v));
  }
  function hectares(td, v) {
    td.textContent = fmt1.format(v);
    td.setAttribute("data-value", String(v));
    return td;
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    }).then(function (resp) {
      return resp.json().then(function (data) {
        if (!resp.ok) throw new Error((data && data.message) || resp.statusText);
        return data;
      });
    });
  }

  function renderRules(list) {
    list.forEach(function (x) {
      var tr = document.querySelector('#rules-body tr[data-rule="' + x.id + '"]');
      if (!tr) return;
      tr.setAttribute("data-verdict", x.verdict);
      var v = tr.querySelector('[data-col="verdict"]');
      v.textContent = x.verdict_zh + " " + x.verdict;
      v.className = "verdict " + x.verdict;
      tr.querySelector('[data-col="value"]').textContent = x.value === null ? "—" : String(x.value);
    });
  }

  var progressForm = document.getElementById("progress-form");
  if (progressForm) {
    progressForm.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var progress = {};
      progressForm.querySelectorAll("input").forEach(function (input) {
        if (input.value !== "") progress[input.name] = Number(input.value);
      });
      var err = document.getElementById("progress-error");
      err.textContent = "";
      post("/api/accounting/report?rules=" + encodeURIComponent(rules), { progress: progress })
        .then(function (r) { renderRules(r.rules); })
        .catch(function (e) { err.textContent = e.message; });
    });
  }

  function parseGeoJSON(text, what) {
    if (!text.trim()) return null;
    try { return JSON.parse(text); } catch (e) { throw new Error(what + ": not valid JSON (" + e.message + ")"); }
  }

  var adjustForm = document.getElementById("adjust-form");
  adjustForm.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var err = document.getElementById("adjust-error");
    err.textContent = "";
    var proposal = { remove_ids: [] };
    adjustForm.querySelectorAll('input[name="remove_ids"]:checked').forEach(function (c) { proposal.remove_ids.push(c.value); });
    try {
      var cut = parseGeoJSON(adjustForm.elements.remove.value, "扣除范围 cut");
      var add = parseGeoJSON(adjustForm.elements.add.value, "补划图斑 add");
      if (cut) proposal.remove = cut;
      if (add) proposal.add = add;
    } catch (e) { err.textContent = e.message; return; }
    post("/api/accounting/adjust?rules=" + encodeURIComponent(rules), proposal)
      .then(function (r) {
        var b = r.before.total, a = r.after.total, d = r.delta;
        km2("adj-before-ellipsoidal-km2", b.ellipsoidal_km2);
        km2("adj-after-ellipsoidal-km2", a.ellipsoidal_km2);
        km2("adj-delta-ellipsoidal-km2", d.ellipsoidal_km2);
        km2("adj-before-planar-km2", b.planar_km2);
        km2("adj-after-planar-km2", a.planar_km2);
        km2("adj-delta-planar-km2", d.planar_km2);
        var st = document.getElementById("adj-status");
        st.textContent = r.after.status.label_zh + " / " + r.after.status.label_en;
        st.setAttribute("data-status", r.after.status.status);
        var ub = document.querySelector("#adj-units tbody");
        ub.textContent = "";
        r.changes.by_unit.forEach(function (u) {
          var tr = document.createElement("tr");
          tr.setAttribute("data-unit", u.unit);
          cell(tr, u.unit);
          hectares(cell(tr, ""), u.added_planar_ha);
          hectares(cell(tr, ""), u.removed_planar_ha);
          hectares(cell(tr, ""), u.net_planar_ha).setAttribute("data-col", "net_planar_ha");
          hectares(cell(tr, ""), u.net_ellipsoidal_ha).setAttribute("data-col", "net_ellipsoidal_ha");
          ub.appendChild(tr);
        });
        var rb = document.querySelector("#adj-rules tbody");
        rb.textContent = "";
        r.rule_changes.forEach(function (x) {
          var tr = document.createElement("tr");
          tr.setAttribute("data-rule", x.id);
          cell(tr, x.title);
          cell(tr, x.before, "verdict " + x.before);
          cell(tr, x.after, "verdict " + x.after);
          rb.appendChild(tr);
        });
        document.getElementById("adjust-result").hidden = false;
      })
      .catch(function (e) { err.textContent = e.message; });
  });
})();
