// Outrigger mesh dashboard: polls /dashboard/api/state every 2 s and redraws. Plain ES module, no framework, no build.
const POLL_MS = 2000;
const TIMEOUT_MS = 1800;
const SVG = 'http://www.w3.org/2000/svg';

let windowName = 'stable';
let last = null;
let lastOkAt = 0;

const $ = (id) => document.getElementById(id);

/** An element with attributes and children; strings become text nodes (never HTML). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null && v !== false) el.setAttribute(k, String(v));
  for (const child of children.flat()) el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return el;
}

function s(tag, attrs = {}, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

const fmtRate = (n) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
const fmtMs = (n) => (n >= 1000 ? `${(n / 1000).toFixed(2)} s` : n >= 10 ? `${n.toFixed(0)} ms` : `${n.toFixed(1)} ms`);
const fmtPct = (n) => `${(n * 100).toFixed(n >= 0.9995 || n === 0 ? 0 : 2)} %`;
const shortName = (service) => (service.endsWith('.default') ? service.slice(0, -'.default'.length) : service);

function successClass(rate) {
  if (rate === null) return 'muted';
  return rate >= 0.99 ? 'good' : rate >= 0.95 ? 'warn' : 'bad';
}

function errorColor(errorRate) {
  return errorRate > 0.05 ? 'var(--bad)' : errorRate > 0.01 ? 'var(--warn)' : 'var(--ok)';
}

function renderSummary(state) {
  const c = state.summary;
  const chips = [
    ['members', c.members], ['alive', c.alive], ['synced', c.synced], ['stale', c.stale], ['rejected', c.rejected], ['services', c.services],
  ].map(([label, value]) => h('span', { class: `chip${(label === 'stale' || label === 'rejected') && value > 0 ? ' bad' : ''}` }, h('b', {}, value), ` ${label}`));
  $('summary').replaceChildren(...chips);
  $('reporter').textContent = state.reporter;
  $('config').textContent = state.config.version > 0 ? `newest config v${state.config.version} (${state.config.hash})` : 'no config yet';
  const policy = $('policy-error');
  policy.hidden = !state.config.policyError;
  policy.textContent = state.config.policyError ? `policy rejected:\n${state.config.policyError}` : '';
}

/** Circuit badges (open / half-open, with how many callers see it so) and a line per ejected endpoint, under the name. */
function serviceCell(svc) {
  const circuits = Object.entries(svc.circuits ?? {});
  const badges = ['open', 'half-open'].flatMap((state) => {
    const members = circuits.filter(([, s]) => s === state).map(([m]) => m);
    if (members.length === 0) return [];
    return [' ', h('span', { class: `pill circuit ${state === 'open' ? 'bad' : 'warn'}`, title: `circuit ${state} in ${members.join(', ')}` }, `circuit ${state} (${members.length}/${circuits.length})`)];
  });
  const ejected = (svc.ejectedEndpoints ?? []).map((e) => h('div', { class: 'ejected bad' }, `ejected: ${e.address} (by ${e.members.join(', ')})`));
  return h('td', {}, svc.service, ...badges, ...ejected);
}

function renderServices(state) {
  const rows = state.services.map((svc) => {
    const w = svc.windows[windowName];
    const replicas = `${w ? w.replicas : 0}/${svc.sidecars.total}`;
    if (!w) {
      return h('tr', { 'data-service': svc.service }, serviceCell(svc), h('td', { class: 'num' }, replicas), h('td', { class: 'muted', colspan: 6 }, 'no signals reported'));
    }
    const idle = w.requests === 0;
    return h(
      'tr',
      { 'data-service': svc.service },
      serviceCell(svc),
      h('td', { class: 'num' }, replicas),
      h('td', { class: 'num' }, fmtRate(w.rps)),
      h('td', { class: `num ${successClass(w.successRate)}` }, w.successRate === null ? '—' : fmtPct(w.successRate)),
      h('td', { class: 'num' }, idle ? '—' : fmtMs(w.p50Ms)),
      h('td', { class: 'num' }, idle ? '—' : fmtMs(w.p95Ms)),
      h('td', { class: 'num' }, idle ? '—' : fmtMs(w.p99Ms)),
      h('td', { class: 'num' }, w.concurrency.toFixed(2)),
    );
  });
  const body = $('services').tBodies[0];
  body.replaceChildren(...(rows.length ? rows : [h('tr', { class: 'empty' }, h('td', { colspan: 8 }, 'no Services yet: no sidecar has joined or reported'))]));
}

function renderMembers(state) {
  const rows = state.members.map((m) => {
    const gossip = m.status === 'alive' ? 'good' : m.status === 'suspect' ? 'warn' : 'bad';
    const sync = m.sync === 'synced' ? 'good' : m.sync === 'none' ? 'muted' : 'bad';
    return h(
      'tr',
      { 'data-member': m.name, 'data-sync': m.sync, 'data-status': m.status },
      h('td', {}, m.name),
      h('td', {}, m.role),
      h('td', {}, h('span', { class: `pill ${gossip}` }, m.status)),
      h('td', {}, m.service ?? '—'),
      h('td', {}, m.zone ?? '—'),
      h('td', { class: 'num' }, m.configVersion > 0 ? `v${m.configVersion} ${m.configHash.slice(0, 8)}` : '—'),
      h('td', { title: m.error ?? '' }, h('span', { class: `pill ${sync}` }, m.sync), m.error ? h('span', { class: 'bad' }, ` ${m.error}`) : ''),
    );
  });
  $('members').tBodies[0].replaceChildren(...(rows.length ? rows : [h('tr', { class: 'empty' }, h('td', { colspan: 7 }, 'no members'))]));
}

/** Columns by depth: callers left, callees right (longest path from a Service nobody calls; cycles are cut). */
function layout(nodes, edges) {
  const depth = new Map(nodes.map((n) => [n, 0]));
  for (let round = 0; round < nodes.length; round++) {
    let changed = false;
    for (const e of edges) {
      if (e.from === e.to) continue;
      const d = depth.get(e.from) + 1;
      if (d > depth.get(e.to) && d < nodes.length) {
        depth.set(e.to, d);
        changed = true;
      }
    }
    if (!changed) break;
  }
  const columns = [];
  for (const n of nodes) (columns[depth.get(n)] ??= []).push(n);
  return columns.filter(Boolean);
}

function renderTopology(state) {
  const edges = state.edges[windowName];
  const signals = new Map(state.services.map((svc) => [svc.service, svc.windows[windowName]]));
  const nodes = [...new Set([...state.services.map((svc) => svc.service), ...edges.flatMap((e) => [e.from, e.to])])].sort();
  const box = $('topology');
  if (nodes.length === 0) return box.replaceChildren(h('p', { class: 'empty' }, 'no Services yet'));
  const columns = layout(nodes, edges);
  const W = 200, H = 54, GAP_X = 150, GAP_Y = 36, PAD = 24;
  const width = PAD * 2 + columns.length * W + (columns.length - 1) * GAP_X;
  const rows = Math.max(...columns.map((c) => c.length));
  const height = PAD * 2 + rows * H + (rows - 1) * GAP_Y;
  const at = new Map();
  columns.forEach((column, ci) => {
    const offset = (height - (column.length * H + (column.length - 1) * GAP_Y)) / 2;
    column.forEach((n, ri) => at.set(n, { x: PAD + ci * (W + GAP_X), y: offset + ri * (H + GAP_Y) }));
  });
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-label': 'service topology' });
  const defs = s('defs');
  for (const [id, color] of [['ok', 'var(--ok)'], ['warn', 'var(--warn)'], ['bad', 'var(--bad)']]) {
    const marker = s('marker', { id: `arrow-${id}`, viewBox: '0 0 10 10', refX: 9, refY: 5, markerUnits: 'userSpaceOnUse', markerWidth: 12, markerHeight: 12, orient: 'auto-start-reverse' });
    marker.append(s('path', { d: 'M0,0 L10,5 L0,10 z', fill: color }));
    defs.append(marker);
  }
  svg.append(defs);
  const maxRps = Math.max(1, ...edges.map((e) => e.rps));
  for (const e of edges) {
    const a = at.get(e.from), b = at.get(e.to);
    const color = errorColor(e.errorRate);
    const kind = e.errorRate > 0.05 ? 'bad' : e.errorRate > 0.01 ? 'warn' : 'ok';
    const g = s('g', { class: 'edge', 'data-edge': `${e.from}->${e.to}` });
    let d, lx, ly;
    if (e.from === e.to || a.x >= b.x) {
      // Same column or backwards: loop around above.
      const x1 = a.x + W / 2, y1 = a.y, x2 = b.x + W / 2 + 10, y2 = b.y;
      const top = Math.min(y1, y2) - 30;
      d = `M${x1},${y1} C${x1},${top} ${x2},${top} ${x2},${y2}`;
      lx = (x1 + x2) / 2; ly = top + 4;
    } else {
      const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2;
      const mid = (x1 + x2) / 2;
      d = `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2 - 2},${y2}`;
      lx = mid; ly = (y1 + y2) / 2 - 10;
    }
    g.append(s('path', { d, stroke: color, 'stroke-width': 1.5 + 4 * Math.sqrt(e.rps / maxRps), 'marker-end': `url(#arrow-${kind})` }));
    g.append(s('text', { x: lx, y: ly, 'text-anchor': 'middle', fill: color }, `${fmtRate(e.rps)}/s · ${fmtPct(e.errorRate)} err`));
    g.append(s('title', {}, `${e.from} → ${e.to}: ${e.requests} requests in the window, ${fmtRate(e.rps)} req/s, ${fmtPct(e.errorRate)} errors`));
    svg.append(g);
  }
  for (const n of nodes) {
    const { x, y } = at.get(n);
    const w = signals.get(n);
    const g = s('g', { class: `node${w ? '' : ' nodata'}`, 'data-node': n, transform: `translate(${x},${y})` });
    g.append(s('rect', { width: W, height: H, rx: 8 }));
    g.append(s('text', { x: 12, y: 22 }, n === 'other' ? 'other callers' : shortName(n)));
    const meta = w ? `${fmtRate(w.rps)} req/s · ${w.successRate === null ? '—' : fmtPct(w.successRate)} ok · p99 ${w.requests ? fmtMs(w.p99Ms) : '—'}` : 'no signals';
    g.append(s('text', { x: 12, y: 40, class: 'meta' }, meta));
    svg.append(g);
  }
  box.replaceChildren(svg);
  if (edges.length === 0) box.append(h('p', { class: 'empty' }, 'no calls between Services in this window'));
}

function render() {
  if (!last) return;
  renderSummary(last);
  renderServices(last);
  renderTopology(last);
  renderMembers(last);
}

function setStatus(ok, message) {
  const status = $('status');
  status.className = `status ${ok ? 'live' : 'down'}`;
  status.textContent = ok ? 'live' : 'unreachable';
  const banner = $('banner');
  banner.hidden = ok;
  banner.textContent = ok ? '' : message;
}

async function poll() {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
  try {
    const res = await fetch('/dashboard/api/state', { cache: 'no-store', signal: controller.signal });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    last = await res.json();
    lastOkAt = Date.now();
    setStatus(true);
    render();
  } catch (error) {
    const since = lastOkAt ? `last update ${Math.round((Date.now() - lastOkAt) / 1000)} s ago; showing it` : 'no data yet';
    setStatus(false, `Control plane unreachable (${error instanceof Error ? error.message : String(error)}): ${since}. Retrying every ${POLL_MS / 1000} s.`);
  } finally {
    clearTimeout(timer);
    setTimeout(poll, POLL_MS);
  }
}

for (const button of document.querySelectorAll('button[data-window]')) {
  button.addEventListener('click', () => {
    windowName = button.dataset.window;
    for (const b of document.querySelectorAll('button[data-window]')) b.classList.toggle('active', b === button);
    render();
  });
}

poll();
