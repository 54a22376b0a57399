'use strict';
/* Shared by the pages: who is signed in, API calls with the CSRF token, text escaping. */
const ps = {
  me: null,
  async init() {
    const r = await fetch('/api/me', {credentials: 'same-origin'});
    if (r.status === 401) { location.href = '/login?next=' + encodeURIComponent(location.pathname + location.search); return null; }
    ps.me = await r.json();
    const who = document.getElementById('who');
    if (who) who.textContent = ps.me.user + ' · ' + ps.me.role;
    document.body.dataset.role = ps.me.role;
    const out = document.getElementById('logout');
    if (out) out.addEventListener('click', async () => { await ps.post('/api/logout', {}); location.href = '/login'; });
    return ps.me;
  },
  async get(path) {
    const r = await fetch(path, {credentials: 'same-origin'});
    if (r.status === 401) { location.href = '/login'; throw new Error('signed out'); }
    const body = await r.json();
    if (!r.ok) throw new Error(body.error || r.status);
    return body;
  },
  async post(path, obj) {
    const r = await fetch(path, {method: 'POST', credentials: 'same-origin',
      headers: {'Content-Type': 'application/json', 'X-CSRF-Token': ps.me ? ps.me.csrf : ''},
      body: JSON.stringify(obj)});
    const body = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(body.error || ('HTTP ' + r.status));
    return body;
  },
  el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') e.className = v; else if (k.startsWith('data-')) e.setAttribute(k, v); else e[k] = v;
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
    return e;
  },
  /* A track ([lat, lon, t?] points, oldest first) as an SVG polyline, the ports of @calls
   * marked where the track was nearest their arrival; null for fewer than two points. */
  track(points, calls) {
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
      for (const p of points) if (p.length > 2 && (!best || Math.abs(p[2] - t) < Math.abs(best[2] - t))) best = p;
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
  },
  time(ts) { return ts ? ts.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, 'Z') : '—'; },
};
