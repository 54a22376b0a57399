'use strict';
document.getElementById('login').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const err = document.getElementById('error');
  err.textContent = '';
  const r = await fetch('/api/login', {
    method: 'POST', headers: {'Content-Type': 'application/json'}, credentials: 'same-origin',
    body: JSON.stringify({user: document.getElementById('user').value,
                          password: document.getElementById('password').value})});
  if (!r.ok) {
    const body = await r.json().catch(() => ({}));
    err.textContent = body.error || ('sign-in failed (' + r.status + ')');
    return;
  }
  const next = new URLSearchParams(location.search).get('next') || '/';
  /* Only a path of this site: never an open redirect. */
  location.href = /^\/[^/\\]/.test(next) || next === '/' ? next : '/';
});
