'use strict';
/* The vessel page: search by name prefix or MMSI, the ports of call in the last N days, the
 * high-risk flag and why, the recent track as a polyline with the ports. Bookmarkable:
 * /vessel?q=NAME&days=N. */
const params = new URLSearchParams(location.search);

function track(points, calls) {
  const NS = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('class', 'track');
  if (points.length < 2) return null;
  let [la0, la1, lo0, lo1] = [90, -90, 180, -180];
  for (const [la, lo] of points) { la0 = Math.min(la0, la); la1 = Math.max(la1, la); lo0 = Math.min(lo0, lo); lo1 = Math.max(lo1, lo); }
  const k = Math.cos((la0 + la1) / 2 * Math.PI / 180);
  const w = Math.max((lo1 - lo0) * k, 1e-3), h = Math.max(la1 - la0, 1e-3);
  const W = 360, H = Math.max(120, Math.min(360, W * h / w)), pad = 10;
  const s = Math.min((W - 2 * pad) / w, (H - 2 * pad) / h);
  const xy = (la, lo) => [pad + (lo - lo0) * k * s, H - pad - (la - la0) * s];
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  const line = document.createElementNS(NS, 'polyline');
  line.setAttribute('points', points.map(([la, lo]) => xy(la, lo).map((v) => v.toFixed(1)).join(',')).join(' '));
  line.setAttribute('fill', 'none');
  line.setAttribute('stroke', '#4c9be8');
  line.setAttribute('stroke-width', '2');
  svg.append(line);
  const [ex, ey] = xy(points[points.length - 1][0], points[points.length - 1][1]);
  const dot = document.createElementNS(NS, 'circle');
  dot.setAttribute('cx', ex); dot.setAttribute('cy', ey); dot.setAttribute('r', 4); dot.setAttribute('fill', '#e6e9ec');
  svg.append(dot);
  /* The ports called at, where the track stopped (the nearest track point to each call). */
  for (const c of calls) {
    const t = Date.parse(c.arrived) / 1000;
    let best = null;
    for (const p of points) if (!best || Math.abs(p[2] - t) < Math.abs(best[2] - t)) best = p;
    if (!best) continue;
    const [px, py] = xy(best[0], best[1]);
    const m = document.createElementNS(NS, 'circle');
    m.setAttribute('cx', px); m.setAttribute('cy', py); m.setAttribute('r', 5);
    m.setAttribute('fill', c.risk ? '#e0474c' : '#2fb36d');
    const label = document.createElementNS(NS, 'text');
    const right = px > W - 90;
    label.setAttribute('x', right ? px - 7 : px + 7); label.setAttribute('y', py + 4);
    label.setAttribute('text-anchor', right ? 'end' : 'start');
    label.setAttribute('fill', '#e6e9ec'); label.setAttribute('font-size', '11');
    label.textContent = c.port;
    svg.append(m, label);
  }
  return svg;
}

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
      .then((t) => { const svg = track(t.track, v.calls); if (svg) card.append(svg); }).catch(() => {});
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
