'use strict';
/* The vessel page: search by name prefix or MMSI, the ports of call in the last N days, the
 * high-risk flag and why, the recent track as a polyline with the ports. Bookmarkable:
 * /vessel?q=NAME&days=N. */
const params = new URLSearchParams(location.search);

async function search(q, days) {
  const status = document.getElementById('status');
  const out = document.getElementById('results');
  status.textContent = 'searching…';
  let r;
  try { r = await ps.get('/api/vessels/calls?name=' + encodeURIComponent(q) + '&days=' + days + (params.get('until') ? '&until=' + encodeURIComponent(params.get('until')) : '')); }
  catch (e) { status.textContent = e.message; return; }
  status.textContent = r.vessels.length ? `${r.vessels.length} vessel(s); calls since ${ps.time(r.since)}` : `no vessel named “${q}”`;
  out.replaceChildren();
  for (const v of r.vessels) {
    const risky = new Set((v.risk_calls || []).map((c) => c.port + c.arrived));
    const card = ps.el('section', {class: 'card vessel', 'data-mmsi': v.mmsi});
    card.append(ps.el('h2', {}, v.name || '(no name)', ' ', ps.el('span', {class: 'dim'}, 'MMSI ' + v.mmsi)));
    if (v.high_risk) {
      const why = (v.risk_calls || []).map((c) => `${c.port} (${c.country}) ${ps.time(c.arrived)}`).join('; ');
      card.append(ps.el('p', {class: 'risk-flag'}, ps.el('span', {class: 'badge risk'}, 'HIGH RISK'), ' called at ', why));
    }
    if (v.position) card.append(ps.el('p', {class: 'dim'}, `${v.position.state}${v.position.port ? ' · ' + v.position.port : ''} · ${v.position.lat.toFixed(4)}, ${v.position.lon.toFixed(4)}`));
    const table = ps.el('table', {class: 'calls'});
    table.append(ps.el('tr', {}, ps.el('th', {}, 'Port'), ps.el('th', {}, 'Arrived'), ps.el('th', {}, 'Departed')));
    for (const c of v.calls) {
      c.risk = risky.has(c.port + c.arrived);
      table.append(ps.el('tr', {class: c.risk ? 'call risk' : 'call'},
        ps.el('td', {}, c.port, ' ', ps.el('span', {class: 'dim'}, c.country), c.risk ? ' ' : '', c.risk ? ps.el('span', {class: 'badge risk'}, '!') : null),
        ps.el('td', {}, ps.time(c.arrived)), ps.el('td', {}, c.departed ? ps.time(c.departed) : 'in port')));
    }
    card.append(v.calls.length ? table : ps.el('p', {class: 'dim'}, 'no port calls in this window'));
    out.append(card);
    ps.get(`/api/vessels/track?mmsi=${v.mmsi}&days=${days}` + (params.get('until') ? '&until=' + encodeURIComponent(params.get('until')) : ''))
      .then((t) => { const svg = ps.track(t.track, v.calls); if (svg) card.append(svg); }).catch(() => {});
  }
}

document.getElementById('search').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const q = document.getElementById('q').value.trim(), days = document.getElementById('days').value || 30;
  const u = new URL(location.href);
  u.searchParams.set('q', q); u.searchParams.set('days', days);
  history.replaceState(null, '', u);
  search(q, days);
});

(async () => {
  if (!await ps.init()) return;
  if (params.get('q')) {
    document.getElementById('q').value = params.get('q');
    document.getElementById('days').value = params.get('days') || 30;
    search(params.get('q'), params.get('days') || 30);
  }
})();
