/**
 * The viewer's one script (`/assets/app.js`), hand-written and small: copy buttons, live
 * updates, and sorting of small tables in the page. Loaded from quire itself (the
 * Content-Security-Policy allows scripts from 'self' only, none inline).
 *
 * Live updates: the server sends the database's data version over server-sent events
 * (`/events`) whenever another process commits; the page then re-fetches its own live
 * region (the `#live` element, asked for with the `X-Quire-Fragment` header) and swaps it
 * in. The markup comes from the server, escaped there; DOMParser never runs scripts in it.
 * Checked boxes and the focused field survive a swap.
 */
export const APP_JS = String.raw`'use strict';
(function () {
  var body = document.body;
  var rendered = Number(body.getAttribute('data-version'));
  var busy = false;
  var again = false;
  var indicator = document.querySelector('.live');

  function swapLive() {
    var current = document.getElementById('live');
    if (!current) return;
    if (busy) { again = true; return; }
    busy = true;
    fetch(location.href, { headers: { 'X-Quire-Fragment': 'live' }, credentials: 'same-origin', cache: 'no-store' })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (text) {
        if (text === null) return;
        var doc = new DOMParser().parseFromString(text, 'text/html');
        var fresh = doc.getElementById('live');
        if (!fresh) return;
        var checked = {};
        current.querySelectorAll('input[type=checkbox][data-keep]').forEach(function (box) { if (box.checked) checked[box.value] = true; });
        var focusedId = document.activeElement && current.contains(document.activeElement) ? document.activeElement.id : '';
        var opened = {};
        current.querySelectorAll('details[id]').forEach(function (d) { opened[d.id] = d.open; });
        var adopted = document.importNode(fresh, true);
        adopted.querySelectorAll('input[type=checkbox][data-keep]').forEach(function (box) { if (checked[box.value]) box.checked = true; });
        adopted.querySelectorAll('details[id]').forEach(function (d) { if (d.id in opened) d.open = opened[d.id]; });
        current.replaceWith(adopted);
        if (focusedId) { var f = document.getElementById(focusedId); if (f) f.focus(); }
        sortTables(adopted);
        body.setAttribute('data-updated', String(Date.now()));
        document.dispatchEvent(new CustomEvent('quire:updated'));
      })
      .catch(function () { /* the next change tries again */ })
      .then(function () {
        busy = false;
        if (again) { again = false; swapLive(); }
      });
  }

  if (window.EventSource && document.getElementById('live')) {
    var events = new EventSource('/events');
    events.addEventListener('open', function () { if (indicator) { indicator.classList.add('on'); indicator.textContent = 'live'; } });
    events.addEventListener('error', function () { if (indicator) { indicator.classList.remove('on'); indicator.textContent = 'reconnecting'; } });
    events.addEventListener('version', function (event) {
      var version = Number(event.data);
      if (version === rendered) return;
      rendered = version;
      swapLive();
    });
  }

  // Copy buttons: data-copy names the element whose text is copied.
  document.addEventListener('click', function (event) {
    var button = event.target.closest && event.target.closest('button[data-copy]');
    if (!button) return;
    var source = document.getElementById(button.getAttribute('data-copy'));
    if (!source) return;
    var text = source.textContent;
    var done = function () {
      var label = button.textContent;
      button.textContent = 'copied';
      setTimeout(function () { button.textContent = label; }, 1200);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(text); done(); });
    } else {
      fallbackCopy(text);
      done();
    }
  });

  // Plain http on another host is no secure context: copy through a hidden text area.
  function fallbackCopy(text) {
    var area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.className = 'offscreen';
    document.body.appendChild(area);
    area.select();
    try { document.execCommand('copy'); } catch (e) { /* nothing else to try */ }
    area.remove();
  }

  // Small tables sort in the page (data-sort="client"); big listings sort on the server.
  function sortTables(root) {
    root.querySelectorAll('table[data-sort="client"]').forEach(function (table) {
      if (table.getAttribute('data-sort-ready')) return;
      table.setAttribute('data-sort-ready', '1');
      var heads = table.querySelectorAll('thead th');
      heads.forEach(function (th, column) {
        th.addEventListener('click', function () {
          var descending = th.classList.contains('sorted-asc');
          heads.forEach(function (other) { other.classList.remove('sorted-asc', 'sorted-desc'); });
          th.classList.add(descending ? 'sorted-desc' : 'sorted-asc');
          var tbody = table.tBodies[0];
          var rows = Array.prototype.slice.call(tbody.rows);
          var key = function (row) {
            var cell = row.cells[column];
            var value = cell ? (cell.getAttribute('data-value') || cell.textContent.trim()) : '';
            var number = Number(value.replace(/,/g, ''));
            return value !== '' && !isNaN(number) ? number : value.toLowerCase();
          };
          rows.sort(function (a, b) {
            var x = key(a), y = key(b);
            var order = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
            return descending ? -order : order;
          });
          rows.forEach(function (row) { tbody.appendChild(row); });
        });
      });
    });
  }
  sortTables(document);
})();
`;
