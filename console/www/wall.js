'use strict';
/* The wall: live video of the composed wall or of one camera's own annotated stream (WebRTC
 * with WHEP, else fragmented MP4 over a WebSocket into MSE), click to select, the detail
 * panel, PTZ presets, officers' actions and the live lists. */
const video = document.getElementById('wall');
const transportLabel = document.getElementById('transport');
let layout = null;
let selected = null;
/* ?until=RFC3339: the vessel panel's month ends then (a replayed scenario), else now. */
const pageUntil = new URLSearchParams(location.search).get('until');

/* ---- video ---- */

/* What plays: 'wall' or a camera's name (?stream=NAME), and how (the RTCPeerConnection or the
 * WebSocket, closed when another stream is chosen). */
let stream = new URLSearchParams(location.search).get('stream') || 'wall';
let playing = null;
let cameras = [];

async function playWebRTC() {
  const pc = new RTCPeerConnection({iceServers: []});
  pc.addTransceiver('video', {direction: 'recvonly'});
  pc.ontrack = (ev) => { video.srcObject = ev.streams[0] || new MediaStream([ev.track]); };
  const offer = await pc.createOffer();
  await pc.setLocalDescription(offer);
  /* Non-trickle: wait for the candidates before sending the offer (loopback: at once). */
  await new Promise((ok) => {
    if (pc.iceGatheringState === 'complete') return ok();
    pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && ok();
    setTimeout(ok, 2000);
  });
  const r = await fetch('/api/whep/' + encodeURIComponent(stream), {method: 'POST', credentials: 'same-origin',
    headers: {'Content-Type': 'application/sdp', 'X-CSRF-Token': ps.me.csrf},
    body: pc.localDescription.sdp});
  if (r.status !== 201) throw new Error('WHEP ' + r.status);
  await pc.setRemoteDescription({type: 'answer', sdp: await r.text()});
  const ok = await new Promise((done) => {
    const t = setTimeout(() => done(false), 6000);
    video.addEventListener('playing', () => { clearTimeout(t); done(true); }, {once: true});
  });
  if (!ok) { pc.close(); throw new Error('no picture over WebRTC'); }
  window.psStream = stream;
  window.psTransport = 'webrtc';
  transportLabel.textContent = 'WebRTC';
  return pc;
}

function playMSE() {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/api/mse/' + encodeURIComponent(stream));
    ws.binaryType = 'arraybuffer';
    const ms = new MediaSource();
    video.src = URL.createObjectURL(ms);
    let sb = null;
    const queue = [];
    const pump = () => {
      if (!sb || sb.updating || !queue.length) return;
      try { sb.appendBuffer(queue.shift()); } catch (e) { console.warn(e); }
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data === 'string') {
        const m = JSON.parse(ev.data);
        const open = () => {
          sb = ms.addSourceBuffer(m.mime);
          sb.mode = 'segments';
          sb.addEventListener('updateend', () => {
            /* Stay at the live edge: a little faster while behind, a jump when far behind;
             * the buffer behind is trimmed. */
            const b = video.buffered;
            if (b.length) {
              const end = b.end(b.length - 1), behind = end - video.currentTime;
              if (behind > 0.4) video.currentTime = end - 0.04;
              video.playbackRate = behind > 0.12 ? 1.15 : 1.0;
              if (!sb.updating && video.currentTime - b.start(0) > 30) sb.remove(b.start(0), video.currentTime - 10);
            }
            pump();
          });
          pump();
        };
        if (ms.readyState === 'open') open(); else ms.addEventListener('sourceopen', open, {once: true});
        return;
      }
      queue.push(ev.data);
      if (queue.length > 200) queue.splice(0, queue.length - 200);
      pump();
    };
    ws.onerror = () => reject(new Error('MSE WebSocket failed'));
    ws.onclose = (ev) => { if (ev.reason) transportLabel.textContent = 'closed: ' + ev.reason; };
    video.addEventListener('playing', () => {
      window.psStream = stream;
      window.psTransport = 'mse';
      transportLabel.textContent = 'MSE (fMP4 over WebSocket)';
      resolve(ws);
    }, {once: true});
    video.play().catch(() => {});
  });
}

async function startVideo() {
  const want = new URLSearchParams(location.search).get('transport');
  if (want !== 'mse' && window.RTCPeerConnection) {
    try { return (playing = await playWebRTC()); } catch (e) { console.warn('WebRTC:', e.message); }
  }
  video.srcObject = null;
  return (playing = await playMSE());
}

/* Another stream: the old one closed, the new one started, the choice kept in the URL. */
function chooseStream(name) {
  if (playing) playing.close();
  playing = null;
  window.psTransport = window.psStream = null;
  stream = name;
  const u = new URL(location.href);
  if (name === 'wall') u.searchParams.delete('stream'); else u.searchParams.set('stream', name);
  history.replaceState(null, '', u);
  video.srcObject = null;
  video.removeAttribute('src');
  transportLabel.textContent = 'connecting…';
  showStreams();
  startVideo().catch((e) => { transportLabel.textContent = 'no video: ' + e.message; });
}

/* The stream buttons (the wall, each camera) and the presets of the PTZ cameras shown. */
function showStreams() {
  const nav = document.getElementById('streams');
  nav.replaceChildren(...['wall', ...cameras.filter((c) => c.stream).map((c) => c.name)].map((n) => {
    const cam = cameras.find((c) => c.name === n);
    const b = ps.el('button', {type: 'button', class: n === stream ? 'stream active' : 'stream',
                               'data-stream': n, title: cam && cam.title ? cam.title : n},
                    n === 'wall' ? 'Wall' : n);
    b.addEventListener('click', () => chooseStream(n));
    return b;
  }));
  const box = document.getElementById('presets');
  const ptz = cameras.filter((c) => c.ptz && c.presets.length && (stream === 'wall' || c.name === stream));
  box.replaceChildren(...ptz.map((c) => ps.el('div', {class: 'preset-row'}, ps.el('span', {class: 'dim'}, 'PTZ ' + c.name + ':'),
    ...c.presets.map((p) => {
      const b = ps.el('button', {type: 'button', class: 'preset', 'data-camera': c.name, 'data-preset': p.name,
                                 title: `pan ${p.pan} tilt ${p.tilt} zoom ${p.zoom}`}, p.name);
      b.addEventListener('click', async () => {
        try {
          const r = await ps.post('/api/ptz/preset', {camera: c.name, preset: p.name});
          document.getElementById('aim').textContent = `PTZ ${r.camera} → preset ${r.preset} (pan ${r.pan.toFixed(3)} tilt ${r.tilt.toFixed(3)} zoom ${r.zoom.toFixed(3)})`;
        } catch (e) { document.getElementById('aim').textContent = e.message; }
      });
      return b;
    }))));
}

/* ---- selection and the detail panel ---- */

function badge(text, kind) { return ps.el('span', {class: 'badge ' + (kind || text)}, text); }

function row(dl, name, value) {
  dl.append(ps.el('dt', {}, name), ps.el('dd', {}, value === null || value === undefined ? '—' : value));
}

async function showContainer(code) {
  const panel = document.getElementById('panel');
  let c;
  try { c = await ps.get('/api/containers/' + encodeURIComponent(code)); }
  catch (e) { panel.replaceChildren(ps.el('p', {class: 'error'}, code + ': ' + e.message)); return; }
  selected = code;
  const f = c.facts || {};
  const dl = ps.el('dl');
  row(dl, 'Declaration', c.declaration);
  row(dl, 'Origin → dest.', (f.origin || '?') + ' → ' + (f.destination || '?'));
  row(dl, 'Goods', f.goods);
  row(dl, 'Consignee', f.consignee);
  const v = c.vessel;
  row(dl, 'Vessel', v ? (v.name + (v.mmsi ? ' (MMSI ' + v.mmsi + ')' : '') +
      (v.position ? ' · ' + v.position.state + ' ' + v.position.lat.toFixed(4) + ',' + v.position.lon.toFixed(4) : ''))
      : null);
  if (v && v.high_risk) dl.append(ps.el('dt', {}, 'Risk'), ps.el('dd', {}, badge('high-risk', 'risk')));
  row(dl, 'Waits for', c.waits_for.length ? c.waits_for.join('; ') : 'nothing');
  const open = c.now && c.now.open ? c.now.open : [];
  row(dl, 'Open holds', open.length ? open.join('; ') : 'none');
  const tl = ps.el('ul', {class: 'timeline'});
  for (const d of c.decisions.slice().reverse()) {
    const conds = d.conditions.map((k) => (k.ok ? '✓ ' : '✗ ') + k.name + (k.event ? ' (' + k.event + ')' : '')).join(' · ');
    const reasons = d.payload && d.payload.reasons ? ' — ' + d.payload.reasons.join(', ') : '';
    tl.append(ps.el('li', {}, badge(d.kind), ' ', ps.time(d.ts), reasons,
                    ps.el('div', {class: 'conds'}, 'decided on ' + (d.decided_on || '?') + ': ' + conds)));
  }
  const reason = ps.el('input', {id: 'reason', placeholder: 'reason', maxLength: 200});
  const act = (path) => async () => {
    if (!reason.value.trim()) { reason.focus(); return; }
    try { await ps.post(path, {container: code, reason: reason.value.trim()}); showContainer(code); }
    catch (e) { alert(e.message); }
  };
  const hold = ps.el('button', {id: 'hold', type: 'button'}, 'Hold');
  hold.addEventListener('click', act('/api/hold'));
  const over = ps.el('button', {id: 'override', type: 'button'}, 'Override-release');
  over.addEventListener('click', act('/api/override'));
  panel.replaceChildren(
    ps.el('h2', {id: 'panel-code'}, c.container), badge(c.verdict, c.verdict),
    dl, ps.el('div', {class: 'officer'}, reason, hold, over),
    ps.el('h3', {}, 'Decisions'), tl);
}

/* A vessel: what the wall and AIS know, its track and its ports of call of the last month
 * with the high-risk flag and why. */
async function showVessel(mmsi) {
  const panel = document.getElementById('panel');
  let v;
  try { v = await ps.get('/api/vessels/' + encodeURIComponent(mmsi) + (pageUntil ? '?until=' + encodeURIComponent(pageUntil) : '')); }
  catch (e) { panel.replaceChildren(ps.el('p', {class: 'error'}, 'vessel ' + mmsi + ': ' + e.message)); return; }
  selected = null;
  const dl = ps.el('dl');
  row(dl, 'MMSI', String(v.mmsi));
  row(dl, 'Type', v.type);
  const p = v.position;
  row(dl, 'Position', p ? p.lat.toFixed(4) + ', ' + p.lon.toFixed(4) +
      (p.sog !== null ? ' · ' + p.sog.toFixed(1) + ' kn' : '') + (p.cog !== null ? ' · ' + Math.round(p.cog) + '°' : '') : null);
  row(dl, 'State', p && p.state ? p.state + (p.port ? ' · ' + p.port : '') : null);
  if (p && p.at) row(dl, 'Last fix', ps.time(p.at));
  const risky = new Set((v.risk_calls || []).map((c) => c.port + c.arrived));
  const risk = v.high_risk
    ? ps.el('span', {class: 'risk-flag'}, badge('HIGH RISK', 'risk'), ' called at ',
            (v.risk_calls || []).map((c) => `${c.port} (${c.country}) ${ps.time(c.arrived)}`).join('; '))
    : (v.high_risk === false ? 'no' : null);
  dl.append(ps.el('dt', {}, 'High risk'), ps.el('dd', {id: 'vessel-risk'}, risk === null ? '—' : risk));
  const calls = ps.el('table', {class: 'calls', id: 'vessel-calls'});
  calls.append(ps.el('tr', {}, ps.el('th', {}, 'Port'), ps.el('th', {}, 'Arrived'), ps.el('th', {}, 'Departed')));
  for (const c of v.calls) {
    c.risk = risky.has(c.port + c.arrived);
    calls.append(ps.el('tr', {class: c.risk ? 'call risk' : 'call'},
      ps.el('td', {}, c.port, ' ', ps.el('span', {class: 'dim'}, c.country), c.risk ? ' ' : '', c.risk ? badge('!', 'risk') : null),
      ps.el('td', {}, ps.time(c.arrived)), ps.el('td', {}, c.departed ? ps.time(c.departed) : 'in port')));
  }
  const svg = ps.track(v.track, v.calls);
  panel.replaceChildren(
    ps.el('h2', {id: 'panel-vessel'}, v.name || '(no name)'), v.on_wall ? '' : ps.el('span', {class: 'dim'}, 'not on the wall'),
    dl, ps.el('h3', {}, `Ports of call, last ${v.days} days`),
    v.calls.length ? calls : ps.el('p', {class: 'dim', id: 'vessel-calls'}, 'no port calls in this window'),
    ps.el('h3', {}, 'Track'), svg || ps.el('p', {class: 'dim'}, 'no track'));
}

video.addEventListener('click', async (ev) => {
  /* Wall pixels on the wall; on one camera's stream, that camera's picture (its own size). */
  const w = stream === 'wall' ? (layout && layout.width) : video.videoWidth;
  const h = stream === 'wall' ? (layout && layout.height) : video.videoHeight;
  if (!w || !h) return;
  const r = video.getBoundingClientRect();
  const x = (ev.clientX - r.left) * w / r.width;
  const y = (ev.clientY - r.top) * h / r.height;
  const at = {x: Math.round(x), y: Math.round(y)};
  if (stream !== 'wall') at.camera = stream;
  try {
    const res = await ps.post('/api/select', at);
    document.getElementById('aim').textContent = res.aim
      ? 'PTZ ' + res.aim.ptz + ' → pan ' + res.aim.pan.toFixed(3) + ' tilt ' + res.aim.tilt.toFixed(3)
      : (res.warning || '');
    if (res.selected) showContainer(res.selected);
    else if (res.vessel) showVessel(res.vessel);
  } catch (e) { document.getElementById('aim').textContent = e.message; }
});

document.getElementById('clear').addEventListener('click', async () => {
  try { await ps.post('/api/select', {clear: true}); } catch (e) { alert(e.message); return; }
  selected = null;
  document.getElementById('panel').replaceChildren(ps.el('p', {class: 'dim'}, 'No selection.'));
});

/* ---- live lists ---- */

function prepend(list, item, max) {
  list.prepend(item);
  while (list.children.length > max) list.lastChild.remove();
}

function live() {
  const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/api/live');
  ws.onmessage = (ev) => {
    const m = JSON.parse(ev.data);
    for (const d of m.decisions || []) {
      const reasons = d.payload && d.payload.reasons ? ' — ' + d.payload.reasons.join(', ') : '';
      const li = ps.el('li', {}, badge(d.kind), ' ', ps.el('a', {href: '#' + d.container}, d.container), ' ', ps.time(d.ts), reasons);
      li.querySelector('a').addEventListener('click', (e) => { e.preventDefault(); showContainer(d.container); });
      prepend(document.getElementById(d.kind === 'release' ? 'releases' : 'holds'), li, 50);
      if (d.container === selected) showContainer(selected);
    }
    for (const a of m.alerts || []) {
      const ports = (a.ports || []).map((p) => p.port + ' (' + p.country + ')').join(', ');
      const li = ps.el('li', {}, ps.el('span', {class: 'badge risk'}, 'risk'), ' ',
        ps.el('a', {href: '/vessel?q=' + encodeURIComponent(a.mmsi), class: 'alert-vessel'}, a.name || a.mmsi), ' called at ', ports);
      li.querySelector('a').addEventListener('click', (e) => { e.preventDefault(); showVessel(a.mmsi); });
      prepend(document.getElementById('alerts'), li, 20);
    }
    for (const x of m.dead_letters || [])
      prepend(document.getElementById('dead'), ps.el('li', {}, badge('dead', 'hold'), ' ', x.topic || '?', ': ', x.reason), 50);
    if (m.cameras) {
      const ul = document.getElementById('cameras');
      ul.replaceChildren(...Object.entries(m.cameras).map(([n, c]) =>
        ps.el('li', {}, badge(c.state, c.degraded ? 'hold' : 'ok'), ' ', n, ' · ', c.fps.toFixed(1), ' fps')));
    }
    if (m.outbox) {
      const ul = document.getElementById('outbox');
      ul.replaceChildren(...Object.entries(m.outbox).map(([n, p]) => ps.el('li', {}, 'outbox ', n, ': ', p, ' pending')));
    }
  };
  ws.onclose = () => setTimeout(live, 2000);
}

(async () => {
  if (!await ps.init()) return;
  layout = await ps.get('/api/wall').catch(() => null);
  cameras = (await ps.get('/api/cameras').catch(() => ({cameras: []}))).cameras;
  showStreams();
  live();
  startVideo().catch((e) => { transportLabel.textContent = 'no video: ' + e.message; });
  if (location.hash.length > 1) showContainer(location.hash.slice(1));
})();
