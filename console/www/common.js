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
  time(ts) { return ts ? ts.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, 'Z') : '—'; },
};
