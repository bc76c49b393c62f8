// Shopfloor dashboard: plain JavaScript, no framework, no build step, nothing loaded from outside the api
// (the plant may be offline). Every request goes to the api on the same origin; the login sets the
// HttpOnly `shopfloor_session` cookie, which fetch sends on its own. Panels and the endpoints they call:
// docs/dashboard.md.
'use strict';

// ---------------------------------------------------------------------------------------------------------
// State

const STATES = ['running', 'idle', 'starved', 'blocked', 'setup', 'down', 'maintenance', 'offline'];
// Holding register 40003 (docs/register-map.md): what a machine reports when its `state` tag is a number.
const STATE_CODES = ['idle', 'running', 'starved', 'blocked', 'setup', 'down', 'maintenance'];
const SPARK_POINTS = 60;
const REFRESH_MS = 30000;

const app = {
  me: null,                 // {user, role, via}
  roots: [],                // the asset tree (GET /v1/assets)
  machines: [],             // cells: {path, name, line}
  lines: [],                // lines: {path, name}
  states: new Map(),        // asset → {state, since, reason} from /v1/states and state_changed events
  values: new Map(),        // asset → Map(metric → {value, unit, quality, ts, points: [[ms, number]]})
  selected: null,           // the machine whose values are shown
  valueRows: new Map(),     // metric → row elements of the values table
  live: null,               // AbortController of the SSE request
  timers: [],
  pending: new Map(),       // debounced refreshes: name → timeout id
  reasons: null,            // the downtime reason tree, flattened (GET /v1/reasons)
};

// ---------------------------------------------------------------------------------------------------------
// Small DOM and HTTP helpers

const $ = (id) => document.getElementById(id);

/** Creates an element; attributes starting with `on` are listeners; children are nodes or text. */
function el(tag, attrs = {}, ...children) {
  const node = tag.startsWith('svg:')
    ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4))
    : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (key === 'text') node.textContent = value;
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** An api failure with the server's stable code and message. */
class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Calls the api; JSON in and out. A 401 anywhere means the session is gone: back to the login form. */
async function api(path, { method = 'GET', body } = {}) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
    });
  } catch (error) {
    throw new ApiError(0, 'network', `the api is not reachable (${error.message})`);
  }
  if (response.status === 204) return null;
  const text = await response.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON: reported below */ }
  if (!response.ok) {
    const detail = json && json.error ? json.error : { code: 'http_' + response.status, message: text || response.statusText };
    if (response.status === 401 && !path.startsWith('/v1/auth/')) showLogin('Your session has ended; log in again.');
    throw new ApiError(response.status, detail.code, detail.message);
  }
  return json;
}

/** Runs `fn` at most once per `ms` for `name` (bursts of events cause one refresh). */
function debounce(name, ms, fn) {
  if (app.pending.has(name)) return;
  app.pending.set(name, setTimeout(() => { app.pending.delete(name); fn(); }, ms));
}

const canOperate = () => app.me && (app.me.role === 'operator' || app.me.role === 'admin');
const shortPath = (path) => path.split('/').slice(-2).join('/');

function formatNumber(value) {
  if (typeof value !== 'number' || !isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  if (magnitude >= 1000) return value.toLocaleString('en-US', { maximumFractionDigits: 0 });
  if (magnitude >= 10) return value.toFixed(1);
  return value.toFixed(magnitude >= 1 ? 2 : 3);
}

function formatValue(entry) {
  const value = entry.value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number' && entry.metric === 'state' && STATE_CODES[value]) return `${value} (${STATE_CODES[value]})`;
  if (typeof value === 'number') return formatNumber(value) + (entry.unit ? ' ' + entry.unit : '');
  if (value === null || value === undefined) return '—';
  return (typeof value === 'object' ? JSON.stringify(value) : String(value)) + (entry.unit ? ' ' + entry.unit : '');
}

function formatTime(ms, withDate = false) {
  const date = new Date(ms);
  const time = date.toLocaleTimeString('en-GB', { hour12: false });
  return withDate ? date.toLocaleDateString('en-CA') + ' ' + time : time;
}

function formatDuration(seconds) {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 86400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} d`;
}

const percent = (x) => (x === null || x === undefined ? '—' : (x * 100).toFixed(1) + ' %');

// ---------------------------------------------------------------------------------------------------------
// Login and session

function showLogin(message = '') {
  stopSession();
  $('app').hidden = true;
  $('logout').hidden = true;
  $('whoami').textContent = '';
  $('login').hidden = false;
  $('login-error').textContent = message;
  $('login-user').focus();
}

async function login(event) {
  event.preventDefault();
  $('login-error').textContent = '';
  const user = $('login-user').value.trim();
  const password = $('login-password').value;
  const button = $('login-form').querySelector('button');
  button.disabled = true;
  try {
    await api('/v1/auth/login', { method: 'POST', body: { user, password } });
  } catch (error) {
    // 401 invalid_credentials, 429 rate_limited (the message says how long to wait), network errors.
    $('login-error').textContent = error.message;
    return;
  } finally {
    button.disabled = false;
  }
  $('login-password').value = '';
  await startSession();
}

async function logout() {
  try { await api('/v1/auth/logout', { method: 'POST' }); } catch { /* the session may be gone already */ }
  showLogin('Logged out.');
}

function stopSession() {
  // Nothing of the last user's session stays on the page (the next user may have another role).
  ['tree', 'machines', 'oee', 'trend', 'trend-asset', 'trend-metric'].forEach((id) => $(id).replaceChildren());
  ['values', 'alarms', 'downtime', 'workorders'].forEach((id) => $(id).tBodies[0].replaceChildren());
  ['values-asset', 'alarms-count', 'alarms-message', 'downtime-message', 'workorders-message', 'oee-message', 'trend-message']
    .forEach((id) => { $(id).textContent = ''; });
  app.states.clear();
  app.values.clear();
  app.valueRows.clear();
  app.selected = null;
  setLive(false);
  if (app.live) app.live.abort();
  app.live = null;
  app.timers.forEach(clearInterval);
  app.timers = [];
  app.pending.forEach(clearTimeout);
  app.pending.clear();
  app.me = null;
}

async function startSession() {
  try {
    app.me = await api('/v1/auth/me');
  } catch (error) {
    if (error.status !== 401) showLogin(error.message);
    else showLogin();
    return;
  }
  $('login').hidden = true;
  $('app').hidden = false;
  $('logout').hidden = false;
  $('whoami').textContent = `${app.me.user} (${app.me.role})`;
  document.body.dataset.role = app.me.role;
  await loadPlant();
  connectLive();
  app.timers.forEach(clearInterval); // a second login in the same page must not double the refreshes
  app.timers = [];
  app.timers.push(setInterval(() => {
    loadStates();
    loadAlarms();
    loadDowntime();
    loadWorkOrders();
    loadOEE();
  }, REFRESH_MS));
}

// ---------------------------------------------------------------------------------------------------------
// Plant tree and machine states

async function loadPlant() {
  try {
    const tree = await api('/v1/assets');
    app.roots = tree.assets;
  } catch (error) {
    $('tree').replaceChildren(el('li', { class: 'error', text: error.message }));
    return;
  }
  app.machines = [];
  app.lines = [];
  const walk = (node, line) => {
    if (node.level === 'line') { line = node; app.lines.push({ path: node.path, name: node.name }); }
    if (node.level === 'cell') app.machines.push({ path: node.path, name: node.name, line: line ? line.path : null });
    node.children.forEach((child) => walk(child, line));
  };
  app.roots.forEach((root) => walk(root, null));
  renderTree();
  // Latest values of everything, one call per site (an enterprise alone is not an ISA-95 path the api takes);
  // the live stream keeps them current.
  const sites = app.roots.flatMap((root) => root.children.filter((child) => child.level === 'site'));
  await Promise.all(sites.map(async (site) => {
    try {
      const answer = await api(`/v1/values?asset=${encodeURIComponent(site.path)}&below=true`);
      answer.values.forEach(storeValue);
    } catch { /* a site without values yet */ }
  }));
  await loadStates();
  renderMachines();
  fillTrendAssets();
  if (!app.selected && app.machines.length) selectMachine(app.machines[0].path);
  loadAlarms();
  loadDowntime();
  loadWorkOrders();
  loadOEE();
}

function renderTree() {
  const item = (node) => {
    const label = el('span', { class: 'node', 'data-level': node.level, role: 'button', tabindex: 0,
      title: `${node.level}: ${node.path}`, onclick: () => selectNode(node), onkeydown: (e) => { if (e.key === 'Enter') selectNode(node); } },
    node.level === 'cell' ? el('span', { class: 'dot', 'data-state-of': node.path }) : null, node.name);
    return el('li', { 'data-path': node.path, 'data-level': node.level }, label,
      node.children.length ? el('ul', {}, node.children.map(item)) : null);
  };
  $('tree').replaceChildren(...app.roots.map(item));
  if (!app.roots.length) $('tree').append(el('li', { class: 'muted', text: 'No assets yet: the api learns them from the UNS.' }));
}

function selectNode(node) {
  if (node.level === 'cell') { selectMachine(node.path); return; }
  const first = app.machines.find((m) => m.path.startsWith(node.path + '/'));
  if (first) selectMachine(first.path);
}

async function loadStates() {
  try {
    const answer = await api('/v1/states');
    for (const item of answer.items) app.states.set(item.asset, { state: item.state, since: Date.parse(item.since), reason: item.reason });
    renderMachines();
  } catch { /* shown as unknown; the next refresh retries */ }
}

/** The machine's state: `stream`'s state_changed events when there are any, else its `state` tag. */
function machineState(path) {
  const known = app.states.get(path);
  if (known) return known;
  const tag = app.values.get(path) && app.values.get(path).get('state');
  if (!tag) return { state: 'unknown' };
  const since = Date.parse(tag.ts);
  if (tag.quality && tag.quality !== 'good') return { state: 'offline', since };
  if (typeof tag.value === 'string' && STATES.includes(tag.value.toLowerCase())) return { state: tag.value.toLowerCase(), since };
  if (typeof tag.value === 'number' && STATE_CODES[tag.value]) return { state: STATE_CODES[tag.value], since };
  return { state: 'unknown', since };
}

function renderMachines() {
  const byLine = new Map();
  for (const machine of app.machines) {
    const key = machine.line || '';
    if (!byLine.has(key)) byLine.set(key, []);
    byLine.get(key).push(machine);
  }
  const groups = [];
  for (const [line, machines] of byLine) {
    groups.push(el('div', { class: 'line-group' },
      el('h3', { text: line ? shortPath(line) : 'other' }),
      el('div', { class: 'tiles' }, machines.map((machine) => {
        const state = machineState(machine.path);
        return el('button', { type: 'button', class: 'machine' + (machine.path === app.selected ? ' selected' : ''),
          'data-path': machine.path, 'data-state': state.state, onclick: () => selectMachine(machine.path),
          title: `${machine.path}\n${state.state}${state.reason ? ': ' + state.reason : ''}` },
        el('span', { class: 'name', text: machine.name }),
        el('span', { class: 'state', text: state.state }),
        el('span', { class: 'since', text: state.since ? 'since ' + formatTime(state.since) : '' }));
      }))));
  }
  $('machines').replaceChildren(...groups);
  if (!app.machines.length) $('machines').append(el('p', { class: 'muted', text: 'No machines yet.' }));
  document.querySelectorAll('[data-state-of]').forEach((dot) => { dot.dataset.state = machineState(dot.dataset.stateOf).state; });
  if (!$('legend').childElementCount) {
    $('legend').append(...STATES.map((s) => el('span', { class: 'machine-key', 'data-state': s, text: s })));
  }
}

// ---------------------------------------------------------------------------------------------------------
// Live values with sparklines

function storeValue(item) {
  if (!app.values.has(item.asset)) app.values.set(item.asset, new Map());
  const metrics = app.values.get(item.asset);
  const entry = metrics.get(item.metric) || { points: [] };
  const ms = Date.parse(item.ts);
  Object.assign(entry, { metric: item.metric, value: item.value, unit: item.unit, quality: item.quality, ts: item.ts });
  const number = typeof item.value === 'boolean' ? Number(item.value) : item.value;
  if (typeof number === 'number' && isFinite(number)) {
    const last = entry.points[entry.points.length - 1];
    if (!last || last[0] !== ms) entry.points.push([ms, number]);
    if (entry.points.length > SPARK_POINTS) entry.points.splice(0, entry.points.length - SPARK_POINTS);
  }
  metrics.set(item.metric, entry);
  return entry;
}

function selectMachine(path) {
  app.selected = path;
  document.querySelectorAll('#tree li.selected, .machine.selected').forEach((n) => n.classList.remove('selected'));
  document.querySelectorAll(`[data-path="${CSS.escape(path)}"]`).forEach((n) => n.classList.add('selected'));
  $('values-asset').textContent = path;
  renderValues();
  seedSparklines(path);
  if ($('trend-asset').value !== path) {
    $('trend-asset').value = path;
    fillTrendMetrics();
  }
}

function renderValues() {
  const metrics = app.values.get(app.selected);
  app.valueRows.clear();
  const body = $('values').tBodies[0];
  if (!metrics || !metrics.size) {
    body.replaceChildren();
    $('values-message').textContent = 'No values from this machine yet.';
    return;
  }
  $('values-message').textContent = '';
  const rows = [...metrics.keys()].sort().map((metric) => {
    const row = el('tr', { 'data-metric': metric },
      el('th', { text: metric }), el('td', { class: 'value' }), el('td', { class: 'spark' }), el('td', { class: 'ts muted' }));
    app.valueRows.set(metric, row);
    updateValueRow(metric, false);
    return row;
  });
  body.replaceChildren(...rows);
}

function updateValueRow(metric, flash) {
  const row = app.valueRows.get(metric);
  const entry = app.values.get(app.selected) && app.values.get(app.selected).get(metric);
  if (!row || !entry) return;
  const [, valueCell, sparkCell, tsCell] = row.children;
  valueCell.textContent = formatValue(entry);
  valueCell.classList.toggle('bad', !!entry.quality && entry.quality !== 'good');
  valueCell.title = `quality ${entry.quality || '?'}`;
  sparkCell.replaceChildren(sparkline(entry.points));
  tsCell.textContent = formatTime(Date.parse(entry.ts));
  row.dataset.updates = String(Number(row.dataset.updates || 0) + (flash ? 1 : 0));
  if (flash) {
    row.classList.remove('flash');
    void row.offsetWidth; // restarts the CSS animation
    row.classList.add('flash');
  }
}

/** A small SVG line of the last values (booleans as 0/1); flat when constant. */
function sparkline(points, width = 120, height = 24) {
  const svg = el('svg:svg', { class: 'sparkline', width, height, viewBox: `0 0 ${width} ${height}`, 'aria-hidden': 'true' });
  if (points.length < 2) return svg;
  const t0 = points[0][0], t1 = points[points.length - 1][0];
  let lo = Infinity, hi = -Infinity;
  for (const [, v] of points) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  const span = hi - lo || 1;
  const x = (t) => (t1 === t0 ? 0 : ((t - t0) / (t1 - t0)) * (width - 2) + 1);
  const y = (v) => (hi === lo ? height / 2 : height - 2 - ((v - lo) / span) * (height - 4));
  const d = points.map(([t, v], i) => `${i ? 'L' : 'M'}${x(t).toFixed(1)},${y(v).toFixed(1)}`).join('');
  svg.append(el('svg:path', { d }));
  const [lt, lv] = points[points.length - 1];
  svg.append(el('svg:circle', { cx: x(lt).toFixed(1), cy: y(lv).toFixed(1), r: 1.8 }));
  return svg;
}

/** Fills the sparklines of `path` from the last 10 minutes of history, so they do not start empty. */
async function seedSparklines(path) {
  const metrics = app.values.get(path);
  if (!metrics) return;
  const to = Date.now(), from = to - 600000;
  const numeric = [...metrics.entries()].filter(([, e]) => typeof e.value === 'number' && e.points.length < SPARK_POINTS / 2);
  await Promise.all(numeric.map(async ([metric, entry]) => {
    try {
      const answer = await api(`/v1/history?asset=${encodeURIComponent(path)}&metric=${encodeURIComponent(metric)}&from=${from}&to=${to}&limit=1000`);
      const old = answer.samples.filter((s) => typeof s.value === 'number').map((s) => [s.t, s.value]);
      const merged = new Map([...old, ...entry.points]);
      entry.points = [...merged.entries()].sort((a, b) => a[0] - b[0]).slice(-SPARK_POINTS);
      if (app.selected === path) updateValueRow(metric, false);
    } catch { /* history is optional here: live values fill the line */ }
  }));
}

// ---------------------------------------------------------------------------------------------------------
// Live stream: GET /v1/events as server-sent events, read with fetch (EventSource only delivers event names it
// was told about in advance, and the api names each SSE event after its type).

function setLive(on, text) {
  $('live').textContent = text || (on ? 'live' : 'offline');
  $('live').classList.toggle('on', on);
}

async function connectLive() {
  if (app.live) app.live.abort();
  const controller = new AbortController();
  app.live = controller;
  while (app.live === controller) {
    try {
      const response = await fetch('/v1/events?values=true', { headers: { accept: 'text/event-stream' }, signal: controller.signal });
      if (response.status === 401) { showLogin('Your session has ended; log in again.'); return; }
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      setLive(true);
      // Whatever happened while the stream was not connected is only in the read models: fetch them again.
      loadStates();
      loadAlarms();
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value.replace(/\r\n?/g, '\n');
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          handleBlock(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch (error) {
      if (controller.signal.aborted) return;
    }
    setLive(false, 'reconnecting…');
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

function handleBlock(block) {
  let type = 'message';
  const data = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') type = value;
    else if (field === 'data') data.push(value);
  }
  if (!data.length) return;
  let payload;
  try { payload = JSON.parse(data.join('\n')); } catch { return; }
  handleLive(type, payload);
}

function handleLive(type, payload) {
  if (type === 'value') {
    storeValue(payload);
    if (payload.asset === app.selected) {
      if (app.valueRows.has(payload.metric)) updateValueRow(payload.metric, true);
      else renderValues();
    }
    if (payload.metric === 'state' || payload.metric.endsWith('/state')) debounce('machines', 300, renderMachines);
    return;
  }
  const data = payload.data || {};
  if (type.endsWith('state_changed')) {
    const asset = data.asset || payload.subject;
    if (asset && data.to) app.states.set(asset, { state: data.to, since: Date.parse(data.since) || Date.now(), reason: data.reason });
    debounce('machines', 300, renderMachines);
    debounce('downtime', 1000, loadDowntime);
    debounce('oee', 5000, loadOEE);
  } else if (type.startsWith('alarm.')) {
    debounce('alarms', 500, loadAlarms);
  } else if (type.startsWith('workorder.')) {
    debounce('workorders', 500, loadWorkOrders);
  } else if (type.startsWith('production.')) {
    debounce('workorders', 2000, loadWorkOrders);
    debounce('oee', 5000, loadOEE);
  }
}

// ---------------------------------------------------------------------------------------------------------
// OEE per line

async function loadOEE() {
  const to = Date.now();
  const from = to - Number($('oee-range').value);
  $('oee-message').textContent = '';
  if (!app.lines.length) { $('oee').replaceChildren(el('p', { class: 'muted', text: 'No lines in the plant tree yet.' })); return; }
  const cards = await Promise.all(app.lines.map(async (line) => {
    try {
      const report = await api(`/v1/oee?asset=${encodeURIComponent(line.path)}&from=${from}&to=${to}`);
      return oeeCard(line, report.overall);
    } catch (error) {
      return el('div', { class: 'oee-card', 'data-path': line.path }, el('h3', { text: line.name }), el('p', { class: 'error', text: error.message }));
    }
  }));
  $('oee').replaceChildren(...cards);
}

function oeeCard(line, figures) {
  const bar = (label, value) => el('div', { class: 'bar-row' },
    el('span', { class: 'bar-label', text: label }),
    el('span', { class: 'bar' }, el('span', { class: 'fill', style: `width:${value === null || value === undefined ? 0 : Math.min(100, value * 100).toFixed(1)}%` })),
    el('span', { class: 'bar-value', text: percent(value) }));
  const stops = Object.entries(figures.losses.byState || {}).filter(([, s]) => s > 0).sort((a, b) => b[1] - a[1])
    .map(([state, seconds]) => `${state} ${formatDuration(seconds)}`).join(', ');
  return el('div', { class: 'oee-card', 'data-path': line.path, 'data-oee': figures.oee === null || figures.oee === undefined ? '' : figures.oee },
    el('h3', {}, line.name, el('span', { class: 'oee-value', text: percent(figures.oee),
      title: figures.oee === null || figures.oee === undefined ? 'not enough data: no planned busy time or no ideal cycle times in this range' : 'availability × performance × quality' })),
    bar('Availability', figures.availability), bar('Performance', figures.performance), bar('Quality', figures.quality),
    el('p', { class: 'muted small', text: `good ${figures.good}, scrap ${figures.scrap}, run ${formatDuration(figures.runSeconds)}` + (stops ? `; stops: ${stops}` : '') }));
}

// ---------------------------------------------------------------------------------------------------------
// Alarms

async function loadAlarms() {
  let page;
  try {
    page = await api('/v1/alarms?state=open&limit=200');
  } catch (error) {
    $('alarms-message').textContent = error.message;
    return;
  }
  const rows = page.items.map((alarm) => el('tr', { 'data-id': alarm.id, 'data-severity': alarm.severity, class: alarm.acknowledged ? 'acked' : '' },
    el('td', {}, el('span', { class: 'severity', 'data-severity': alarm.severity, text: alarm.severity })),
    el('td', { title: alarm.asset, text: shortPath(alarm.asset) }),
    el('td', { text: alarm.metric }),
    el('td', { text: `${formatNumber(alarm.value)} (limit ${formatNumber(alarm.threshold)})` }),
    el('td', { text: alarm.message }),
    el('td', { text: formatTime(Date.parse(alarm.raisedAt), true) }),
    el('td', { text: alarm.state + (alarm.acknowledged ? `, acknowledged by ${alarm.acknowledgedBy || '?'}` : '') }),
    el('td', {}, !alarm.acknowledged && canOperate()
      ? el('button', { type: 'button', class: 'ack', onclick: (event) => acknowledge(alarm, event.target), text: 'Acknowledge' })
      : null)));
  $('alarms').tBodies[0].replaceChildren(...rows);
  $('alarms-count').textContent = String(page.items.length);
  $('alarms-message').textContent = page.items.length ? '' : 'No open alarms.';
}

async function acknowledge(alarm, button) {
  button.disabled = true;
  try {
    await api(`/v1/alarms/${encodeURIComponent(alarm.id)}/acknowledge`, { method: 'POST' });
  } catch (error) {
    $('alarms-message').textContent = `acknowledging ${alarm.alarmId} failed: ${error.message}`;
    button.disabled = false;
    return;
  }
  await loadAlarms();
}

// ---------------------------------------------------------------------------------------------------------
// Stops (downtime) and their classification

/** The reason tree as a flat list of {code, label, planned}, labels showing the path ("Mechanical › Jam"). */
async function loadReasons() {
  if (app.reasons) return app.reasons;
  const tree = await api('/v1/reasons');
  const flat = [];
  const walk = (nodes, prefix, planned) => {
    for (const node of nodes || []) {
      const isPlanned = planned || !!node.planned;
      const label = prefix ? `${prefix} › ${node.name}` : node.name;
      flat.push({ code: node.code, label: `${label} (${node.code})${isPlanned ? ', planned' : ''}`, planned: isPlanned });
      walk(node.children, label, isPlanned);
    }
  };
  walk(tree.reasons, '', false);
  app.reasons = flat;
  return flat;
}

async function loadDowntime() {
  const to = Date.now(), from = to - 8 * 3600000;
  let page, reasons = [];
  try {
    page = await api(`/v1/downtime?from=${from}&to=${to}&limit=50`);
    if (canOperate()) reasons = await loadReasons();
  } catch (error) {
    $('downtime-message').textContent = error.message;
    return;
  }
  const rows = page.items.map((stop) => {
    const start = Date.parse(stop.start);
    let action = null;
    if (canOperate()) {
      const select = el('select', { 'aria-label': `reason for ${stop.asset} at ${formatTime(start)}` },
        el('option', { value: '', text: 'reason…' }),
        reasons.map((r) => el('option', { value: r.code, text: r.label, selected: r.code === stop.reasonCode })));
      action = el('span', { class: 'actions' }, select, el('button', { type: 'button', class: 'classify', text: 'Classify',
        onclick: (event) => classify(stop, select.value, event.target) }));
    }
    return el('tr', { 'data-id': stop.id, 'data-asset': stop.asset, 'data-state': stop.state },
      el('td', { title: stop.asset, text: shortPath(stop.asset) }),
      el('td', {}, el('span', { class: 'machine-key', 'data-state': stop.state, text: stop.state })),
      el('td', { text: formatTime(start, true) }),
      el('td', { text: formatDuration(stop.durationSeconds) + (stop.end ? '' : ' (ongoing)') }),
      el('td', { text: stop.reason || '' }),
      el('td', { class: 'classification', text: stop.reasonCode
        ? `${stop.reasonCode}${stop.planned ? ' (planned)' : ''}${stop.classifiedBy ? ` by ${stop.classifiedBy}` : ''}` : (stop.planned ? 'planned' : '—') }),
      el('td', {}, action));
  });
  $('downtime').tBodies[0].replaceChildren(...rows);
  $('downtime-message').textContent = page.items.length ? '' : 'No stops in the last 8 hours.';
}

async function classify(stop, code, button) {
  if (!code) { $('downtime-message').textContent = 'Choose a reason first.'; return; }
  button.disabled = true;
  try {
    await api(`/v1/downtime/${encodeURIComponent(stop.id)}/classify`, { method: 'POST', body: { reasonCode: code } });
    $('downtime-message').textContent = '';
  } catch (error) {
    $('downtime-message').textContent = `classifying the stop of ${shortPath(stop.asset)} failed: ${error.message}`;
    button.disabled = false;
    return;
  }
  await loadDowntime();
  debounce('oee', 500, loadOEE); // a planned reason changes availability
}

// ---------------------------------------------------------------------------------------------------------
// Work orders

async function loadWorkOrders() {
  let page;
  try {
    page = await api('/v1/workorders?limit=200');
  } catch (error) {
    $('workorders-message').textContent = error.message;
    return;
  }
  const rows = page.items.map((order) => {
    const done = order.quantityTarget > 0 ? Math.min(1, order.good / order.quantityTarget) : 0;
    return el('tr', { 'data-id': order.id, 'data-status': order.status },
      el('td', { text: order.id }),
      el('td', { text: order.product }),
      el('td', { title: order.asset, text: shortPath(order.asset) }),
      el('td', {}, el('span', { class: 'status', 'data-status': order.status, text: order.status })),
      el('td', {}, el('span', { class: 'bar' }, el('span', { class: 'fill', style: `width:${(done * 100).toFixed(1)}%` })),
        ` ${order.good} / ${order.quantityTarget}`),
      el('td', { text: String(order.scrap) }),
      el('td', { class: 'actions' }, canOperate()
        ? order.allowedActions.map((action) => el('button', { type: 'button', 'data-action': action, text: action,
          onclick: (event) => workOrderAction(order, action, event.target) }))
        : null));
  });
  $('workorders').tBodies[0].replaceChildren(...rows);
  $('workorders-message').textContent = page.items.length ? '' : 'No work orders.';
}

async function workOrderAction(order, action, button) {
  button.disabled = true;
  try {
    await api(`/v1/workorders/${encodeURIComponent(order.id)}/${action}`, { method: 'POST' });
  } catch (error) {
    $('workorders-message').textContent = `${action} ${order.id} failed: ${error.message}`;
  }
  await loadWorkOrders();
}

// ---------------------------------------------------------------------------------------------------------
// Trend chart

function fillTrendAssets() {
  const select = $('trend-asset');
  const current = select.value;
  select.replaceChildren(...app.machines.map((m) => el('option', { value: m.path, text: shortPath(m.path) })));
  if (current && app.machines.some((m) => m.path === current)) select.value = current;
  fillTrendMetrics();
}

function fillTrendMetrics() {
  const select = $('trend-metric');
  const current = select.value;
  const metrics = app.values.get($('trend-asset').value) || new Map();
  const names = [...metrics.entries()].filter(([, e]) => typeof e.value === 'number' || typeof e.value === 'boolean')
    .map(([name]) => name).sort();
  select.replaceChildren(...names.map((name) => el('option', { value: name, text: name })));
  if (names.includes(current)) select.value = current;
  else if (names.includes('temperature')) select.value = 'temperature';
}

function trendRange() {
  if ($('trend-range').value !== 'custom') {
    const to = Date.now();
    return { from: to - Number($('trend-range').value), to };
  }
  const from = Date.parse($('trend-from').value), to = Date.parse($('trend-to').value);
  if (!isFinite(from) || !isFinite(to)) throw new Error('choose both "from" and "to"');
  if (from >= to) throw new Error('"from" must be before "to"');
  return { from, to };
}

async function drawTrend(event) {
  if (event) event.preventDefault();
  const asset = $('trend-asset').value, metric = $('trend-metric').value;
  const message = $('trend-message');
  message.className = 'muted';
  if (!asset || !metric) { message.textContent = 'Choose a machine and a metric.'; return; }
  let range;
  try { range = trendRange(); } catch (error) { message.className = 'error'; message.textContent = error.message; return; }
  const span = range.to - range.from;
  // Up to 15 minutes: raw samples; longer: about 400 buckets with min, max and average.
  const bucketSeconds = span > 900000 ? Math.max(1, Math.round(span / 400 / 1000)) : 0;
  let query = `/v1/history?asset=${encodeURIComponent(asset)}&metric=${encodeURIComponent(metric)}&from=${range.from}&to=${range.to}`;
  query += bucketSeconds ? `&bucket=${bucketSeconds}s&aggregate=avg,min,max&limit=1000` : '&limit=5000';
  message.textContent = `Asking stream for ${metric} of ${shortPath(asset)}…`;
  const chart = $('trend');
  chart.dataset.state = 'loading';
  let answer;
  try {
    answer = await api(query);
  } catch (error) {
    // 504: stream did not answer in time; the api's message says so. Shown as is.
    message.className = 'error';
    message.textContent = error.status ? `${error.status} ${error.code}: ${error.message}` : error.message;
    chart.dataset.state = 'error';
    chart.replaceChildren();
    return;
  }
  const points = bucketSeconds
    ? (answer.buckets || []).filter((b) => typeof b.avg === 'number').map((b) => ({ t: b.t, v: b.avg, lo: b.min, hi: b.max }))
    : (answer.samples || []).map((s) => ({ t: s.t, v: typeof s.value === 'boolean' ? Number(s.value) : s.value }))
      .filter((p) => typeof p.v === 'number' && isFinite(p.v));
  const unit = (app.values.get(asset) && app.values.get(asset).get(metric) || {}).unit || '';
  chart.replaceChildren(trendChart(points, range, unit));
  chart.dataset.state = points.length ? 'drawn' : 'empty';
  message.textContent = points.length
    ? `${metric} of ${asset}, ${formatTime(range.from, true)} – ${formatTime(range.to, true)}: ${points.length} ${bucketSeconds ? `buckets of ${bucketSeconds} s (line: average, band: min–max)` : 'samples'}` + (answer.next ? ' (more data than shown: narrow the range)' : '')
    : `No samples of ${metric} between ${formatTime(range.from, true)} and ${formatTime(range.to, true)}.`;
}

/** Chooses about `count` round tick values covering [lo, hi]. */
function ticks(lo, hi, count) {
  const raw = (hi - lo) / count;
  const step = Math.pow(10, Math.floor(Math.log10(raw)));
  const nice = [1, 2, 5, 10].map((m) => m * step).find((s) => s >= raw) || step * 10;
  const result = [];
  for (let v = Math.ceil(lo / nice) * nice; v <= hi + nice * 1e-9; v += nice) result.push(Number(v.toPrecision(12)));
  return result;
}

function trendChart(points, range, unit) {
  const width = 900, height = 280, left = 60, right = 12, top = 12, bottom = 28;
  const svg = el('svg:svg', { class: 'chart', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'trend chart' });
  if (!points.length) return svg;
  let lo = Infinity, hi = -Infinity;
  for (const p of points) { lo = Math.min(lo, p.lo ?? p.v); hi = Math.max(hi, p.hi ?? p.v); }
  if (lo === hi) { lo -= 1; hi += 1; }
  const pad = (hi - lo) * 0.05; lo -= pad; hi += pad;
  const x = (t) => left + ((t - range.from) / (range.to - range.from)) * (width - left - right);
  const y = (v) => top + (1 - (v - lo) / (hi - lo)) * (height - top - bottom);
  const grid = el('svg:g', { class: 'grid' });
  for (const v of ticks(lo, hi, 5)) {
    grid.append(el('svg:line', { x1: left, x2: width - right, y1: y(v).toFixed(1), y2: y(v).toFixed(1) }));
    grid.append(el('svg:text', { x: left - 6, y: (y(v) + 4).toFixed(1), 'text-anchor': 'end', text: formatNumber(v) }));
  }
  const span = range.to - range.from;
  for (let i = 0; i <= 5; i++) {
    const t = range.from + (span * i) / 5;
    grid.append(el('svg:line', { x1: x(t).toFixed(1), x2: x(t).toFixed(1), y1: top, y2: height - bottom, class: 'vertical' }));
    grid.append(el('svg:text', { x: x(t).toFixed(1), y: height - 8, 'text-anchor': i === 0 ? 'start' : i === 5 ? 'end' : 'middle',
      text: formatTime(t, span > 86400000) }));
  }
  if (unit) grid.append(el('svg:text', { x: 4, y: top + 4, class: 'unit', text: unit }));
  svg.append(grid);
  if (points.some((p) => p.lo !== undefined)) {
    const upper = points.map((p) => `${x(p.t).toFixed(1)},${y(p.hi).toFixed(1)}`);
    const lower = points.slice().reverse().map((p) => `${x(p.t).toFixed(1)},${y(p.lo).toFixed(1)}`);
    svg.append(el('svg:polygon', { class: 'band', points: upper.concat(lower).join(' ') }));
  }
  const d = points.map((p, i) => `${i ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join('');
  svg.append(el('svg:path', { class: 'line', d }));
  if (points.length === 1) svg.append(el('svg:circle', { class: 'point', cx: x(points[0].t).toFixed(1), cy: y(points[0].v).toFixed(1), r: 3 }));
  // Hover: the nearest point's time and value.
  const cursor = el('svg:g', { class: 'cursor', visibility: 'hidden' },
    el('svg:line', { y1: top, y2: height - bottom }), el('svg:circle', { r: 3.5 }), el('svg:text', { y: top + 12 }));
  svg.append(cursor);
  svg.addEventListener('mousemove', (event) => {
    const matrix = svg.getScreenCTM();
    if (!matrix) return;
    const at = new DOMPoint(event.clientX, event.clientY).matrixTransform(matrix.inverse());
    const t = range.from + ((at.x - left) / (width - left - right)) * (range.to - range.from);
    let best = points[0];
    for (const p of points) if (Math.abs(p.t - t) < Math.abs(best.t - t)) best = p;
    const [line, dot, label] = cursor.children;
    const px = x(best.t), py = y(best.v);
    line.setAttribute('x1', px); line.setAttribute('x2', px);
    dot.setAttribute('cx', px); dot.setAttribute('cy', py);
    label.textContent = `${formatTime(best.t, span > 86400000)}  ${formatNumber(best.v)}${unit ? ' ' + unit : ''}`
      + (best.lo !== undefined ? `  (${formatNumber(best.lo)} … ${formatNumber(best.hi)})` : '');
    const rightHalf = px > width / 2;
    label.setAttribute('x', rightHalf ? px - 6 : px + 6);
    label.setAttribute('text-anchor', rightHalf ? 'end' : 'start');
    cursor.setAttribute('visibility', 'visible');
  });
  svg.addEventListener('mouseleave', () => cursor.setAttribute('visibility', 'hidden'));
  return svg;
}

// ---------------------------------------------------------------------------------------------------------
// Start

document.addEventListener('DOMContentLoaded', () => {
  $('login-form').addEventListener('submit', login);
  $('logout').addEventListener('click', logout);
  $('oee-range').addEventListener('change', loadOEE);
  $('trend-form').addEventListener('submit', drawTrend);
  $('trend-asset').addEventListener('change', fillTrendMetrics);
  // Metrics a machine reported after it was chosen appear when the list is opened.
  $('trend-metric').addEventListener('focus', fillTrendMetrics);
  $('trend-range').addEventListener('change', () => {
    const custom = $('trend-range').value === 'custom';
    $('trend-custom').hidden = !custom;
    if (custom && !$('trend-from').value) {
      const local = (ms) => new Date(ms - new Date().getTimezoneOffset() * 60000).toISOString().slice(0, 19);
      $('trend-to').value = local(Date.now());
      $('trend-from').value = local(Date.now() - 3600000);
    }
  });
  startSession();
});
