import type { LoggedEvent } from './event-log.js';

/**
 * The live dashboard: `GET /v1/dashboard` folds the recent slots' events into what the page
 * draws, and `GET /` serves the page, which redraws every second — the EOS post's drawing
 * of production windows: per slot, each member's proposal placed at its arrival within the
 * window, the emitted one green, the ignored ones grey, missed slots marked.
 */

export type ProposalOutcome = 'emitted' | 'selected' | 'ignored' | 'pending' | 'equivocation';

export interface SlotView {
  slot: number;
  start: number;
  status: 'open' | 'decided' | 'emitted' | 'missed';
  winner?: string;
  /** Among replicas: the replica that forwarded the block. */
  forwardedBy?: string;
  chain?: 'canonical' | 'orphaned';
  proposals: { member: string; blockHash: string; receivedAt: number; outcome: ProposalOutcome }[];
  refusals: { member?: string; code: string; at: number }[];
}

/** The slots `[fromSlot, toSlot]` as the dashboard draws them, from their events. */
export function slotViews(events: readonly LoggedEvent[], fromSlot: number, toSlot: number, slotStart: (slot: number) => number): SlotView[] {
  const views = new Map<number, SlotView>();
  for (let s = fromSlot; s <= toSlot; s++) views.set(s, { slot: s, start: slotStart(s), status: 'open', proposals: [], refusals: [] });
  for (const e of events) {
    const v = views.get(e.slot);
    if (!v) continue;
    const proposal = () => v.proposals.find((p) => p.member === e.member && p.blockHash === e.blockHash);
    switch (e.type) {
      case 'received':
        v.proposals.push({ member: e.member!, blockHash: e.blockHash!, receivedAt: e.at, outcome: 'pending' });
        break;
      case 'selected': {
        v.status = 'decided';
        v.winner = e.member;
        const p = proposal();
        if (p) p.outcome = 'selected';
        break;
      }
      case 'emitted': {
        v.status = 'emitted';
        if (typeof e.data?.replica === 'string') v.forwardedBy = e.data.replica;
        const p = proposal();
        if (p) p.outcome = 'emitted';
        break;
      }
      case 'ignored': {
        const p = proposal();
        if (p) p.outcome = 'ignored';
        break;
      }
      case 'equivocation':
        v.proposals.push({ member: e.member!, blockHash: e.blockHash!, receivedAt: e.at, outcome: 'equivocation' });
        break;
      case 'rejected':
        v.refusals.push({ ...(e.member ? { member: e.member } : {}), code: e.code ?? 'REJECTED', at: e.at });
        break;
      case 'missed':
        v.status = 'missed';
        break;
      case 'canonical':
      case 'orphaned':
        v.chain = e.type;
        break;
    }
  }
  return [...views.values()];
}

/** The dashboard page: no external assets; it reads `/v1/dashboard` and draws an SVG. */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Block Emitter</title>
<style>
  body { font: 14px system-ui, sans-serif; margin: 1.5em; color: #222; }
  h1 { font-size: 1.3em; margin: 0 0 .3em; }
  #summary { color: #555; margin-bottom: 1em; }
  .legend span { display: inline-block; margin-right: 1.2em; }
  .legend i { display: inline-block; width: 1em; height: .8em; margin-right: .3em; vertical-align: middle; }
  #error { color: #b00; }
  #waitlist { color: #555; margin-bottom: .6em; }
  #waitlist.ours { color: #135; background: #e6f0ff; border-left: 4px solid #4a7bd0; padding: .3em .6em; }
  #replicas { color: #555; margin-bottom: .6em; }
  #replicas.cut { color: #900; background: #fdecec; border-left: 4px solid #c33; padding: .3em .6em; }
  svg text { font-size: 11px; }
</style>
</head>
<body>
<h1>Block Emitter</h1>
<div id="summary">loading…</div>
<div class="legend">
  <span><i style="background:#2a9d3a"></i>emitted</span>
  <span><i style="background:#4a7bd0"></i>chosen, not yet delivered</span>
  <span><i style="background:#aaa"></i>ignored</span>
  <span><i style="background:#e08a00"></i>equivocation</span>
  <span><i style="background:#fbe3e3;border:1px solid #c33"></i>missed slot</span>
  <span><i style="background:#f4f4f4"></i>open window</span>
</div>
<div id="replicas" hidden></div>
<div id="waitlist" hidden></div>
<div id="error"></div>
<svg id="windows" xmlns="http://www.w3.org/2000/svg"></svg>
<script>
const NS = 'http://www.w3.org/2000/svg';
const COLORS = { emitted: '#2a9d3a', selected: '#4a7bd0', ignored: '#aaa', pending: '#7fa6e6', equivocation: '#e08a00' };
function el(name, attrs, text) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}
function short(key) { return key.slice(0, 6) + '…' + key.slice(-4); }
function draw(d) {
  const svg = document.getElementById('windows');
  svg.replaceChildren();
  const members = d.members;
  const labelW = 110, colW = 64, rowH = 18, top = 34;
  const span = d.window.earlyMs + d.window.closeMs;
  svg.setAttribute('width', labelW + colW * d.slots.length + 10);
  svg.setAttribute('height', top + rowH * Math.max(members.length, 1) + 30);
  const bottom = top + rowH * Math.max(members.length, 1) + 14;
  members.forEach((m, i) => svg.appendChild(el('text', { x: 4, y: top + i * rowH + 13 }, d.names[m] || short(m))));
  d.slots.forEach((s, j) => {
    const x = labelW + j * colW;
    const g = el('g', { 'data-slot': s.slot, 'data-status': s.status, class: 'slot ' + s.status });
    const h = rowH * Math.max(members.length, 1);
    const fill = s.status === 'missed' ? '#fbe3e3' : s.slot === d.currentSlot ? '#eef3fb' : '#f4f4f4';
    g.appendChild(el('rect', { x, y: top, width: colW - 4, height: h, fill, stroke: s.status === 'missed' ? '#c33' : '#ddd' }));
    g.appendChild(el('text', { x: x + 2, y: top - 18 }, String(s.slot)));
    const mark = s.status === 'missed' ? 'missed' : s.chain ? s.chain : s.status === 'emitted' ? 'emitted' : s.status === 'open' ? '' : 'chosen';
    g.appendChild(el('text', { x: x + 2, y: top - 5, fill: s.status === 'missed' || s.chain === 'orphaned' ? '#c33' : '#555' }, mark));
    for (const p of s.proposals) {
      const row = members.indexOf(p.member);
      if (row < 0) continue;
      const at = Math.min(Math.max((p.receivedAt - s.start + d.window.earlyMs) / span, 0), 1);
      const r = el('rect', { x: x + at * (colW - 10), y: top + row * rowH + 3, width: 6, height: rowH - 6, fill: COLORS[p.outcome] || '#777', class: 'proposal', 'data-member': p.member, 'data-outcome': p.outcome, 'data-slot': s.slot });
      r.appendChild(el('title', {}, (d.names[p.member] || p.member) + ': ' + p.outcome + ' ' + p.blockHash + ' at +' + (p.receivedAt - s.start) + ' ms'));
      g.appendChild(r);
    }
    // Among replicas: which replica handed the block on.
    if (s.forwardedBy) g.appendChild(el('text', { x: x + 2, y: bottom, fill: '#2a7d36', class: 'forwarder' }, '→ ' + s.forwardedBy));
    svg.appendChild(g);
  });
}
function showReplicas(r) {
  const line = document.getElementById('replicas');
  line.hidden = !r;
  if (!r) return;
  line.className = r.connected ? '' : 'cut';
  line.replaceChildren();
  const since = new Date(r.since).toLocaleTimeString();
  line.append(r.connected
    ? 'replica ' + r.replica + ' · etcd reached · replicas up: '
    : 'replica ' + r.replica + ' is cut off from etcd since ' + since + ': it decides and forwards nothing · replicas up as last seen: ');
  r.replicas.forEach((x, i) => {
    const b = document.createElement('b');
    b.textContent = x.id + (x.id === r.replica ? ' (this one)' : '');
    b.dataset.replica = x.id;
    line.append(i ? ', ' : '', b);
  });
  if (r.connected && r.etcdLeader) line.append(" · decisions to etcd's leader at " + r.etcdLeader);
  line.dataset.connected = String(r.connected);
}
function showWaitlist(w, names) {
  const line = document.getElementById('waitlist');
  line.hidden = !w;
  if (!w) return;
  line.className = w.notice ? 'ours' : '';
  const head = w.next ? (names[w.next.producer] || short(w.next.producer)) : null;
  line.textContent = w.notice
    ? 'Notice: ' + w.notice
    : head
      ? 'waitlist: ' + w.entries + ' waiting; if slot ' + w.next.slot + ' is empty it goes to ' + head + ' (lost slot ' + w.next.addedSlot + ')'
      : 'waitlist: empty at slot ' + w.slot + ' (no designated producer for the next empty slot)';
  line.dataset.next = w.next ? w.next.producer : '';
}
async function refresh() {
  try {
    const r = await fetch('/v1/dashboard');
    if (!r.ok) throw new Error('HTTP ' + r.status);
    const d = await r.json();
    document.getElementById('summary').textContent = 'slot ' + d.currentSlot + ' · strategy ' + d.strategy + ' · ' + d.members.length + ' members · emitted ' + d.totals.emitted + ', missed ' + d.totals.missed + ' in view · ' + (d.slotMs / 1000) + ' s slots';
    document.getElementById('error').textContent = '';
    showWaitlist(d.waitlist, d.names);
    showReplicas(d.replicas);
    draw(d);
    document.body.dataset.ready = 'true';
  } catch (e) {
    document.getElementById('error').textContent = 'cannot read the emitter: ' + e.message;
  }
}
refresh();
setInterval(refresh, 1000);
</script>
</body>
</html>
`;
