// The 管理 page: upload → validation report and diff → publish; versions and roll back; the audit trail.
// Talks to /api/admin/* (gisapp/web/routes_admin.py). CSRF: /static/session.js adds the token to fetch.
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var pendingId = null;

  function fmt(v) { return v === null || v === undefined ? '—' : Number(v).toFixed(4); }
  function cell(row, text, cls) {
    var td = document.createElement('td');
    td.textContent = text;
    if (cls) td.className = cls;
    row.appendChild(td);
    return td;
  }
  function fillNet(tbody, rows) {
    tbody.textContent = '';
    rows.forEach(function (r) {
      var tr = document.createElement('tr');
      cell(tr, r.key);
      cell(tr, fmt(r.old_km2), 'num');
      cell(tr, fmt(r.new_km2), 'num');
      var net = Math.abs(r.net_km2) < 5e-5 ? 0 : r.net_km2; // below the 4 decimals shown: no change
      cell(tr, (net > 0 ? '+' : '') + fmt(net), 'num ' + (net > 0 ? 'pos' : net < 0 ? 'neg' : ''));
      tbody.appendChild(tr);
    });
  }
  function json(response) {
    return response.json().then(function (body) {
      if (!response.ok) throw new Error(body.message || body.error || response.status);
      return body;
    });
  }

  function showPreview(p) {
    pendingId = p.id;
    $('preview').hidden = false;
    $('publish').disabled = false;
    $('publish-result').textContent = '';
    var d = p.diff;
    $('preview-summary').textContent = '✔ ' + p.title + '（' + p.layer + '）：' + p.file + ' 校验通过，' +
      p.report.features + ' 个要素 — valid, ' + p.report.features + ' features';
    var checks = $('preview-checks');
    checks.textContent = '';
    p.report.checks.forEach(function (c) { var li = document.createElement('li'); li.textContent = '✔ ' + c; checks.appendChild(li); });
    fillNet($('preview-total').tBodies[0], [{ key: '合计 Total', old_km2: d.total.old_km2, new_km2: d.total.new_km2, net_km2: d.total.net_km2 }]);
    $('preview-ids').textContent = '新增 added ' + d.added.length + (d.added.length ? '（' + d.added.join('、') + '）' : '') +
      ' · 删除 removed ' + d.removed.length + (d.removed.length ? '（' + d.removed.join('、') + '）' : '') +
      ' · 修改 changed ' + d.changed.length + ' · 未变 unchanged ' + d.unchanged;
    fillNet($('preview-by-town').tBodies[0], d.by_town);
    fillNet($('preview-by-tier').tBodies[0], d.by_tier);
  }

  function loadHistory() {
    return fetch('/api/admin/history').then(json).then(function (body) {
      var tbody = $('history').tBodies[0];
      tbody.textContent = '';
      body.versions.forEach(function (v) {
        var tr = document.createElement('tr');
        if (v.current) tr.className = 'current';
        tr.dataset.version = v.version;
        cell(tr, v.version + (v.current ? '（当前 current）' : ''));
        cell(tr, v.time);
        cell(tr, v.command);
        cell(tr, fmt(v.redline_km2), 'num redline-km2');
        tbody.appendChild(tr);
      });
    });
  }

  function loadAudit() {
    var q = new URLSearchParams(new FormData($('audit-filter')));
    return fetch('/api/admin/audit?' + q.toString()).then(json).then(function (body) {
      var v = $('audit-verified');
      v.textContent = body.verified ? '✔ 链完整 chain intact' : '✘ ' + body.problem;
      v.className = body.verified ? 'ok' : 'error';
      var tbody = $('audit-records').tBodies[0];
      tbody.textContent = '';
      body.records.forEach(function (r) {
        var tr = document.createElement('tr');
        tr.dataset.kind = r.kind;
        cell(tr, r.record_id);
        cell(tr, r.time.replace('T', ' ').slice(0, 19));
        cell(tr, r.user_name);
        cell(tr, r.address);
        cell(tr, r.kind);
        var what = (r.parameters.path || '') + (r.input_sha256 ? ' · SHA-256 ' + r.input_sha256.slice(0, 16) + '…' : '');
        if (r.layers && r.layers.store_version) what += ' · 版本 v' + r.layers.store_version;
        cell(tr, what);
        cell(tr, JSON.stringify(r.result).slice(0, 200));
        tbody.appendChild(tr);
      });
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    $('import-form').addEventListener('submit', function (ev) {
      ev.preventDefault();
      $('import-error').hidden = true;
      $('preview').hidden = true;
      fetch('/api/admin/imports', { method: 'POST', body: new FormData($('import-form')) })
        .then(json).then(showPreview)
        .catch(function (e) { $('import-error').textContent = '✘ 校验未通过 — ' + e.message; $('import-error').hidden = false; })
        .then(loadAudit);
    });
    $('publish').addEventListener('click', function () {
      if (!pendingId) return;
      $('publish').disabled = true;
      fetch('/api/admin/imports/' + pendingId + '/publish', { method: 'POST' }).then(json).then(function (r) {
        $('publish-result').textContent = r.unchanged ? '与当前版本相同，未发布 — identical, nothing published'
          : '✔ 已发布为版本 ' + r.version + ' — published as version ' + r.version;
        pendingId = null;
      }).catch(function (e) { $('publish-result').textContent = '✘ ' + e.message; })
        .then(loadHistory).then(loadAudit);
    });
    $('rollback').addEventListener('click', function () {
      if (!window.confirm('回退到上一版本？当前版本将被丢弃。 Roll back to the previous version?')) return;
      fetch('/api/admin/rollback', { method: 'POST' }).then(json).then(function (r) {
        $('rollback-result').textContent = '✔ 已从版本 ' + r.from_version + ' 回退到版本 ' + r.to_version +
          ' — rolled back to version ' + r.to_version;
      }).catch(function (e) { $('rollback-result').textContent = '✘ ' + e.message; })
        .then(loadHistory).then(loadAudit);
    });
    $('audit-filter').addEventListener('submit', function (ev) { ev.preventDefault(); loadAudit(); });
    loadHistory();
    loadAudit();
  });
}());
