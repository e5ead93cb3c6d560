// Added by gisapp.web.accounts to the pages of a logged-in user: every same-origin fetch that writes
// (POST, PUT, PATCH, DELETE) sends the CSRF token, and a badge shows the user, the role, 管理 (for 管理
// users: a link to /admin) and 退出 (log out).
(function () {
  'use strict';
  var meta = document.querySelector('meta[name="csrf-token"]');
  var token = meta ? meta.getAttribute('content') : '';
  var original = window.fetch;
  window.fetch = function (input, init) {
    init = init || {};
    var method = (init.method || (input && input.method) || 'GET').toUpperCase();
    var url = typeof input === 'string' ? input : (input && input.url) || '';
    var sameOrigin = url.indexOf('://') < 0 || url.indexOf(window.location.origin + '/') === 0;
    if (token && sameOrigin && method !== 'GET' && method !== 'HEAD') {
      var headers = new Headers(init.headers || (input && input.headers) || {});
      headers.set('X-CSRFToken', token);
      init.headers = headers;
    }
    return original.call(this, input, init);
  };
  document.addEventListener('DOMContentLoaded', function () {
    var who = document.querySelector('meta[name="gisapp-user"]');
    if (!who || document.getElementById('gisapp-user-badge')) return;
    var form = document.createElement('form');
    form.id = 'gisapp-user-badge';
    form.method = 'post';
    form.action = '/logout';
    form.setAttribute('style', 'position:fixed;right:8px;bottom:8px;z-index:10000;background:#fff;' +
      'border:1px solid #999;border-radius:4px;padding:2px 6px;font:12px sans-serif');
    var label = document.createElement('span');
    label.textContent = who.getAttribute('content') + '（' + who.getAttribute('data-role') + '）';
    var hidden = document.createElement('input');
    hidden.type = 'hidden';
    hidden.name = 'csrf_token';
    hidden.value = token;
    var button = document.createElement('button');
    button.type = 'submit';
    button.textContent = '退出';
    form.appendChild(label);
    if (who.getAttribute('data-role') === '管理' && window.location.pathname !== '/admin') {
      var admin = document.createElement('a');
      admin.href = '/admin';
      admin.id = 'gisapp-admin-link';
      admin.textContent = ' 管理 ';
      form.appendChild(admin);
    }
    form.appendChild(hidden);
    form.appendChild(button);
    document.body.appendChild(form);
  });
}());
