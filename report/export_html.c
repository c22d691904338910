/*
 * export_html.c — the HTML report of `export --format html`: one self-contained page.
 *
 * The page carries its data as one JSON array in a <script type="application/json">
 * element and draws the table from it (only the rows in view exist in the document, so
 * 50,000 people scroll and filter smoothly). Roster text reaches the page only inside that
 * JSON, with "<", ">" and "&" escaped, and the script puts it into the document with
 * textContent, never as markup. The Content-Security-Policy allows the page's own script
 * (by its SHA-256) and inline styles and nothing else: no network, no other script.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "export.h"
#include "reconcile.h"

static const char report_css[] =
":root { --on: #1f883d; --on-bg: #dafbe1; --on-fg: #116329; --pending: #d4a72c;\n"
"  --pending-bg: #fff8c5; --pending-fg: #7d4e00; --off: #cf222e; --off-bg: #ffebe9;\n"
"  --off-fg: #a40e26; --line: #d8dee4; --muted: #59636e; --bg: #f6f8fa; }\n"
"* { box-sizing: border-box; }\n"
"body { margin: 0; font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans',\n"
"  Helvetica, Arial, sans-serif; color: #1f2328; background: var(--bg); }\n"
"header { padding: 18px 28px 10px; background: #fff; border-bottom: 1px solid var(--line); }\n"
"h1 { font-size: 20px; margin: 0; }\n"
"h1 span { color: var(--muted); font-weight: 400; }\n"
".sub { margin: 4px 0 0; color: var(--muted); }\n"
"main { padding: 16px 28px 24px; }\n"
".summary { display: flex; flex-wrap: wrap; gap: 16px; align-items: stretch; }\n"
".cards { display: flex; flex-direction: column; gap: 8px; flex: 0 0 290px; }\n"
".card { display: flex; align-items: baseline; gap: 10px; background: #fff; flex: 1;\n"
"  border: 1px solid var(--line); border-radius: 8px; padding: 8px 14px;\n"
"  border-left: 5px solid #8c959f; }\n"
".card .n { font-size: 24px; font-weight: 650; font-variant-numeric: tabular-nums;\n"
"  min-width: 64px; }\n"
".card .l { color: var(--muted); }\n"
".card.on { border-left-color: var(--on); } .card.pending { border-left-color: var(--pending); }\n"
".card.off { border-left-color: var(--off); }\n"
"figure.chart { margin: 0; flex: 1 1 600px; background: #fff; border: 1px solid var(--line);\n"
"  border-radius: 8px; padding: 12px 16px; }\n"
"figcaption { font-weight: 600; margin-bottom: 6px; }\n"
"svg text { font: 13px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; fill: #1f2328; }\n"
"svg .muted { fill: var(--muted); }\n"
".list { margin-top: 16px; background: #fff; border: 1px solid var(--line); border-radius: 8px; }\n"
".controls { display: flex; flex-wrap: wrap; gap: 10px 16px; align-items: end; padding: 12px 16px;\n"
"  border-bottom: 1px solid var(--line); }\n"
".controls label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted);\n"
"  gap: 3px; }\n"
"select { max-width: 230px; }\n"
"select, input[type=search] { font: inherit; font-size: 14px; padding: 5px 8px; border: 1px solid\n"
"  #afb8c1; border-radius: 6px; background: #fff; color: #1f2328; }\n"
"input[type=search] { width: 260px; }\n"
"button { font: inherit; }\n"
"#reset { padding: 5px 12px; border: 1px solid #afb8c1; border-radius: 6px; background: #f6f8fa;\n"
"  cursor: pointer; }\n"
"#count { margin-left: auto; color: var(--muted); font-variant-numeric: tabular-nums;\n"
"  align-self: center; }\n"
".scroller { height: calc(100vh - 150px); min-height: 420px; overflow: auto; position: relative; }\n"
"table { border-collapse: separate; border-spacing: 0; width: 100%; table-layout: fixed;\n"
"  min-width: 1100px; }\n"
"th { position: sticky; top: 0; z-index: 1; background: #f6f8fa; text-align: left;\n"
"  border-bottom: 1px solid var(--line); padding: 0; }\n"
"th button { all: unset; box-sizing: border-box; display: block; width: 100%; padding: 8px 10px;\n"
"  font-weight: 600; cursor: pointer; white-space: nowrap; }\n"
"th button:focus-visible { outline: 2px solid #0969da; outline-offset: -2px; }\n"
"th button::after { content: ''; margin-left: 4px; font-weight: 400; }\n"
"th button:hover::after { content: '↕'; color: #8c959f; }\n"
"th[aria-sort=ascending] button::after { content: '▲'; color: #1f2328; }\n"
"th[aria-sort=descending] button::after { content: '▼'; color: #1f2328; }\n"
"td { height: 36px; padding: 0 10px; border-bottom: 1px solid #eaeef2; white-space: nowrap;\n"
"  overflow: hidden; text-overflow: ellipsis; }\n"
"tr.pad td { padding: 0; border: 0; }\n"
"tbody tr:not(.pad):hover td { background: #f6f8fa; }\n"
"td.num { text-align: right; font-variant-numeric: tabular-nums; }\n"
"td.date, td.email { font-variant-numeric: tabular-nums; color: #424a53; }\n"
".pill { display: inline-block; padding: 1px 9px 1px 8px; border-radius: 999px; font-size: 12px;\n"
"  font-weight: 600; line-height: 20px; }\n"
".pill::before { content: ''; display: inline-block; width: 8px; height: 8px; border-radius: 50%;\n"
"  margin-right: 6px; vertical-align: 0; }\n"
".st-on { background: var(--on-bg); color: var(--on-fg); } .st-on::before { background: var(--on); }\n"
".st-pending { background: var(--pending-bg); color: var(--pending-fg); }\n"
".st-pending::before { background: var(--pending); }\n"
".st-off { background: var(--off-bg); color: var(--off-fg); } .st-off::before { background: var(--off); }\n"
".pl::before, .ac::before { content: ''; display: inline-block; width: 8px; height: 8px;\n"
"  border-radius: 2px; margin-right: 5px; }\n"
".pl-slack::before, .ac-slack::before { background: #611f69; }\n"
".pl-teams::before, .ac-teams::before { background: #4b53bc; }\n"
".pl-webex::before, .ac-webex::before { background: #00a0d1; }\n"
".ac { display: inline-block; margin-right: 7px; font-size: 12px; }\n"
".ac-inactive { color: #8c959f; text-decoration: line-through; }\n"
".tag { margin-left: 6px; font-size: 11px; padding: 0 6px; border-radius: 4px; background: #eaeef2;\n"
"  color: var(--muted); }\n"
"#empty { padding: 24px; text-align: center; color: var(--muted); }\n"
"col.c-name { width: 15%; } col.c-email { width: 18%; } col.c-status { width: 118px; }\n"
"col.c-plat { width: 150px; } col.c-team { width: 10%; } col.c-type { width: 96px; }\n"
"col.c-accts { width: 215px; } col.c-num { width: 82px; } col.c-date { width: 112px; }\n"
"@media print { .scroller { height: auto; overflow: visible; } .controls { display: none; } }\n"
"[hidden] { display: none !important; }\n";

static const char report_js[] =
"(function () {\n"
"  'use strict';\n"
"  var t0 = performance.now();\n"
"  var D = JSON.parse(document.getElementById('ps-data').textContent);\n"
"  var R = D.rows;\n"
"  var N = R.length;\n"
"  /* row fields */\n"
"  var NAME = 0, EMAIL = 1, STATUS = 2, PLAT = 3, TEAM = 4, TYPE = 5, ACCTS = 6, PROMPTS = 7,\n"
"      LASTP = 8, SYNCED = 9, ACTIVE = 10;\n"
"  var PLAT_LABEL = { slack: 'Slack', teams: 'Microsoft Teams', webex: 'Webex', '': 'None' };\n"
"  var ST_RANK = { off: 0, pending: 1, on: 2 };\n"
"  var ST_LABEL = { off: 'Off', pending: 'Pending', on: 'On' };\n"
"  var $ = function (id) { return document.getElementById(id); };\n"
"  var scroller = $('scroller'), tbody = $('rows'), countEl = $('count');\n"
"  var fPlat = $('f-platform'), fStatus = $('f-status'), fType = $('f-type'), fTeam = $('f-team'),\n"
"      fQ = $('f-q');\n"
"  var collator = new Intl.Collator(undefined, { sensitivity: 'base', numeric: true });\n"
"  var sortKey = 'name', sortDir = 1, orders = {}, view = [], hay = null;\n"
"  var rowH = 0, drawn = '', frame = 0;\n"
"  var SEP = String.fromCharCode(10);\n"
"  var stats = { rows: N };	/* timings, for the benchmark (window.psReport) */\n"
"\n"
"  function fmtN(n) { return n.toLocaleString('en-US'); }\n"
"\n"
"  /* Sorted index of every row for one column, ascending; cached. */\n"
"  var KEYS = {\n"
"    name: function (r) { return r[NAME] || r[EMAIL] || ''; },\n"
"    email: function (r) { return r[EMAIL] || ''; },\n"
"    status: null, platform: function (r) { return PLAT_LABEL[r[PLAT]] || ''; },\n"
"    team: function (r) { return r[TEAM] || ''; },\n"
"    type: function (r) { return r[TYPE] || ''; },\n"
"    accounts: null, prompts: null,\n"
"    last_prompted: function (r) { return r[LASTP] || ''; },\n"
"    synced: function (r) { return r[SYNCED] || ''; }\n"
"  };\n"
"  function order(key) {\n"
"    if (orders[key]) return orders[key];\n"
"    var idx = new Array(N), i;\n"
"    for (i = 0; i < N; i++) idx[i] = i;\n"
"    var byName = orders.name;\n"
"    var nameRank = null;\n"
"    if (key !== 'name' && byName) {\n"
"      nameRank = new Int32Array(N);\n"
"      for (i = 0; i < N; i++) nameRank[byName[i]] = i;\n"
"    }\n"
"    var tie = nameRank ? function (a, b) { return nameRank[a] - nameRank[b]; }\n"
"                       : function (a, b) { return a - b; };\n"
"    var cmp;\n"
"    if (key === 'status') {\n"
"      cmp = function (a, b) { return (ST_RANK[R[a][STATUS]] - ST_RANK[R[b][STATUS]]) || tie(a, b); };\n"
"    } else if (key === 'accounts') {\n"
"      cmp = function (a, b) { return (R[a][ACCTS].length - R[b][ACCTS].length) || tie(a, b); };\n"
"    } else if (key === 'prompts') {\n"
"      cmp = function (a, b) { return (R[a][PROMPTS] - R[b][PROMPTS]) || tie(a, b); };\n"
"    } else {\n"
"      var f = KEYS[key], k = new Array(N);\n"
"      for (i = 0; i < N; i++) k[i] = f(R[i]);\n"
"      cmp = function (a, b) {\n"
"        var x = k[a], y = k[b];\n"
"        if (x === y) return tie(a, b);\n"
"        if (x === '') return 1;           /* empty cells last */\n"
"        if (y === '') return -1;\n"
"        return collator.compare(x, y) || tie(a, b);\n"
"      };\n"
"    }\n"
"    idx.sort(cmp);\n"
"    orders[key] = idx;\n"
"    return idx;\n"
"  }\n"
"\n"
"  function buildHay() {\n"
"    hay = new Array(N);\n"
"    for (var i = 0; i < N; i++) {\n"
"      var r = R[i], s = (r[NAME] || '') + SEP + (r[EMAIL] || '') + SEP + (r[TEAM] || '');\n"
"      for (var j = 0; j < r[ACCTS].length; j++) s += SEP + r[ACCTS][j][1];\n"
"      hay[i] = s.toLowerCase();\n"
"    }\n"
"  }\n"
"\n"
"  function apply() {\n"
"    var a0 = performance.now();\n"
"    var p = fPlat.value, s = fStatus.value, ty = fType.value, tm = fTeam.value;\n"
"    var words = fQ.value.toLowerCase().split(' ').filter(Boolean);\n"
"    if (words.length && !hay) buildHay();\n"
"    var ord = order(sortKey), out = [], c = { on: 0, pending: 0, off: 0 };\n"
"    var n = ord.length;\n"
"    for (var k = 0; k < n; k++) {\n"
"      var i = sortDir > 0 ? ord[k] : ord[n - 1 - k], r = R[i];\n"
"      if (p && (p === '-' ? r[PLAT] !== '' : r[PLAT] !== p)) continue;\n"
"      if (s && r[STATUS] !== s) continue;\n"
"      if (ty && r[TYPE] !== ty) continue;\n"
"      if (tm && r[TEAM] !== tm) continue;\n"
"      if (words.length) {\n"
"        var h = hay[i], ok = true;\n"
"        for (var w = 0; w < words.length; w++) if (h.indexOf(words[w]) < 0) { ok = false; break; }\n"
"        if (!ok) continue;\n"
"      }\n"
"      out.push(i);\n"
"      c[r[STATUS]]++;\n"
"    }\n"
"    view = out;\n"
"    countEl.textContent = (out.length === N ? fmtN(N) + ' people'\n"
"                          : fmtN(out.length) + ' of ' + fmtN(N) + ' people') +\n"
"      ' · ' + fmtN(c.on) + ' on · ' + fmtN(c.pending) + ' pending · ' +\n"
"      fmtN(c.off) + ' off';\n"
"    document.body.setAttribute('data-shown', String(out.length));\n"
"    $('empty').hidden = out.length !== 0;\n"
"    scroller.scrollTop = 0;\n"
"    drawn = '';\n"
"    draw();\n"
"    stats.applyMs = performance.now() - a0;\n"
"  }\n"
"\n"
"  function td(tr, text, cls, title) {\n"
"    var c = document.createElement('td');\n"
"    if (cls) c.className = cls;\n"
"    c.textContent = text;\n"
"    if (title) c.title = text;\n"
"    tr.appendChild(c);\n"
"    return c;\n"
"  }\n"
"\n"
"  function rowEl(i) {\n"
"    var r = R[i], tr = document.createElement('tr'), c, sp;\n"
"    tr.setAttribute('data-email', r[EMAIL] || '');\n"
"    c = td(tr, r[NAME] || r[EMAIL] || '(no name)', 'name', true);\n"
"    if (!r[ACTIVE]) {\n"
"      sp = document.createElement('span');\n"
"      sp.className = 'tag';\n"
"      sp.textContent = 'inactive';\n"
"      c.appendChild(sp);\n"
"    }\n"
"    td(tr, r[EMAIL] || '', 'email', true);\n"
"    c = td(tr, '', 'status');\n"
"    sp = document.createElement('span');\n"
"    sp.className = 'pill st-' + r[STATUS];\n"
"    sp.textContent = ST_LABEL[r[STATUS]] || r[STATUS];\n"
"    c.appendChild(sp);\n"
"    c = td(tr, '', 'plat');\n"
"    if (r[PLAT]) {\n"
"      sp = document.createElement('span');\n"
"      sp.className = 'pl pl-' + r[PLAT];\n"
"      sp.textContent = PLAT_LABEL[r[PLAT]];\n"
"      c.appendChild(sp);\n"
"    } else {\n"
"      c.textContent = '—';\n"
"    }\n"
"    td(tr, r[TEAM] || '—', 'team', true);\n"
"    td(tr, r[TYPE] === 'bot' ? 'Bot sync' : r[TYPE] === 'user' ? 'User sync' : '—', 'type');\n"
"    c = td(tr, '', 'accts');\n"
"    var tip = [];\n"
"    for (var j = 0; j < r[ACCTS].length; j++) {\n"
"      var a = r[ACCTS][j];\n"
"      sp = document.createElement('span');\n"
"      sp.className = 'ac ac-' + a[0] + (a[2] ? '' : ' ac-inactive');\n"
"      sp.textContent = a[0] === 'teams' ? 'Teams' : PLAT_LABEL[a[0]];\n"
"      c.appendChild(sp);\n"
"      tip.push(PLAT_LABEL[a[0]] + ' ' + a[1] + (a[2] ? '' : ' (inactive)'));\n"
"    }\n"
"    c.title = tip.join(SEP);\n"
"    td(tr, String(r[PROMPTS]), 'num');\n"
"    td(tr, r[LASTP] ? r[LASTP].slice(0, 10) : '—', 'date').title = r[LASTP];\n"
"    td(tr, r[SYNCED] ? r[SYNCED].slice(0, 10) : '—', 'date').title = r[SYNCED];\n"
"    return tr;\n"
"  }\n"
"\n"
"  function pad(h) {\n"
"    var tr = document.createElement('tr'), c = document.createElement('td');\n"
"    tr.className = 'pad';\n"
"    c.colSpan = 10;\n"
"    c.style.height = h + 'px';\n"
"    tr.appendChild(c);\n"
"    return tr;\n"
"  }\n"
"\n"
"  /* Virtual rendering: only the rows in (and a little around) the visible window exist. */\n"
"  function draw() {\n"
"    frame = 0;\n"
"    var n = view.length, st = scroller.scrollTop, vh = scroller.clientHeight || 600;\n"
"    var h = rowH || 37;\n"
"    var first = Math.max(0, Math.floor(st / h) - 15);\n"
"    var last = Math.min(n, Math.ceil((st + vh) / h) + 15);\n"
"    var key = first + ':' + last + ':' + n;\n"
"    if (key === drawn) return;\n"
"    drawn = key;\n"
"    var fr = document.createDocumentFragment();\n"
"    fr.appendChild(pad(first * h));\n"
"    for (var k = first; k < last; k++) fr.appendChild(rowEl(view[k]));\n"
"    fr.appendChild(pad((n - last) * h));\n"
"    tbody.replaceChildren(fr);\n"
"    if (!rowH && last > first) {\n"
"      var m = tbody.children[1].getBoundingClientRect().height;\n"
"      if (m > 0) { rowH = m; drawn = ''; draw(); }\n"
"    }\n"
"  }\n"
"\n"
"  scroller.addEventListener('scroll', function () {\n"
"    if (!frame) frame = requestAnimationFrame(draw);\n"
"  }, { passive: true });\n"
"  window.addEventListener('resize', function () { drawn = ''; draw(); });\n"
"\n"
"  [fPlat, fStatus, fType, fTeam].forEach(function (el) { el.addEventListener('change', apply); });\n"
"  var qTimer = 0;\n"
"  fQ.addEventListener('input', function () {\n"
"    clearTimeout(qTimer);\n"
"    qTimer = setTimeout(apply, N > 20000 ? 120 : 0);\n"
"  });\n"
"  $('reset').addEventListener('click', function () {\n"
"    fPlat.value = fStatus.value = fType.value = fTeam.value = fQ.value = '';\n"
"    apply();\n"
"  });\n"
"\n"
"  var ths = document.querySelectorAll('th[data-k]');\n"
"  function markSort() {\n"
"    ths.forEach(function (th) {\n"
"      var on = th.getAttribute('data-k') === sortKey;\n"
"      if (on) th.setAttribute('aria-sort', sortDir > 0 ? 'ascending' : 'descending');\n"
"      else th.removeAttribute('aria-sort');\n"
"    });\n"
"  }\n"
"  ths.forEach(function (th) {\n"
"    th.querySelector('button').addEventListener('click', function () {\n"
"      var k = th.getAttribute('data-k');\n"
"      if (k === sortKey) sortDir = -sortDir; else { sortKey = k; sortDir = 1; }\n"
"      markSort();\n"
"      apply();\n"
"    });\n"
"  });\n"
"\n"
"  /* The primary teams in this export, most people first. */\n"
"  (function () {\n"
"    var cnt = {}, names = [], i;\n"
"    for (i = 0; i < N; i++) if (R[i][TEAM]) {\n"
"      if (!cnt[R[i][TEAM]]) { cnt[R[i][TEAM]] = 0; names.push(R[i][TEAM]); }\n"
"      cnt[R[i][TEAM]]++;\n"
"    }\n"
"    if (names.length < 2) { fTeam.parentNode.hidden = true; return; }\n"
"    names.sort(function (a, b) { return cnt[b] - cnt[a] || collator.compare(a, b); });\n"
"    names.forEach(function (t) { fTeam.appendChild(new Option(t + ' (' + fmtN(cnt[t]) + ')', t)); });\n"
"  })();\n"
"\n"
"  markSort();\n"
"  apply();\n"
"  stats.scriptMs = performance.now() - t0;\n"
"  stats.readyAt = performance.now();\n"
"  requestAnimationFrame(function () {\n"
"    setTimeout(function () { stats.paintedAt = performance.now(); }, 0);\n"
"  });\n"
"  window.psReport = {\n"
"    stats: stats,\n"
"    rows: function () { return view.map(function (i) { return R[i][EMAIL]; }); }\n"
"  };\n"
"  document.body.setAttribute('data-ready', '1');\n"
"})();\n";

static const char *const plat_label[PLAT_COUNT + 1] = {
	"Slack", "Microsoft Teams", "Webex", "No primary"
};

/* A JSON string literal safe inside <script>: in JSON text these three characters can only
 * occur inside strings, where \u escapes mean the same. */
static void
json_str_html(struct buf *b, struct buf *scratch, const char *s)
{
	const char *p;

	buf_reset(scratch);
	buf_json_str(scratch, s ? s : "");
	for (p = scratch->p; *p; p++) {
		if (*p == '<')
			buf_adds(b, "\\u003c");
		else if (*p == '>')
			buf_adds(b, "\\u003e");
		else if (*p == '&')
			buf_adds(b, "\\u0026");
		else
			buf_addc(b, *p);
	}
}

void
export_html_row(struct buf *data, const struct report_row *r, int first)
{
	const struct person *p = &r->p;
	struct buf s = { 0 };
	char iso[32];
	int i;

	buf_adds(data, first ? "[" : ",\n[");
	json_str_html(data, &s, p->name);
	buf_addc(data, ',');
	json_str_html(data, &s, p->email);
	buf_printf(data, ",\"%s\",\"%s\",", status_name((enum status)p->status),
	    p->primary_platform >= 0 ? platform_name((enum platform)p->primary_platform) : "");
	json_str_html(data, &s, r->team_name ? r->team_name : p->primary_platform >= 0 ?
	    p->primary_team_id : NULL);
	buf_printf(data, ",\"%s\",[", p->sync_type ?
	    sync_type_name((enum sync_type)p->sync_type) : "");
	for (i = 0; i < r->na; i++) {
		buf_printf(data, "%s[\"%s\",", i ? "," : "", platform_name(r->a[i].platform));
		json_str_html(data, &s, r->a[i].user_id);
		buf_printf(data, ",%d]", rec_account_is_active(&r->a[i]));
	}
	buf_printf(data, "],%d,", p->prompt_count);
	fmt_iso8601((time_t)p->last_prompted_at, iso);
	buf_printf(data, "\"%s\",", iso);
	fmt_iso8601((time_t)p->synced_at, iso);
	buf_printf(data, "\"%s\",%d]", iso, p->active ? 1 : 0);
	buf_free(&s);
}

/* 12345 -> "12,345". */
static void
add_count(struct buf *b, long n)
{
	char d[32];
	int len, i;

	len = snprintf(d, sizeof(d), "%ld", n < 0 ? 0 : n);
	for (i = 0; i < len; i++) {
		if (i && (len - i) % 3 == 0)
			buf_addc(b, ',');
		buf_addc(b, d[i]);
	}
}

static long
percent(long part, long whole)
{
	return whole > 0 ? (part * 100 + whole / 2) / whole : 0;
}

/* The summary chart: one stacked bar per primary platform (and one for everyone), its
 * segments the people on, pending and off, lengths proportional to the largest bar. */
static void
chart(struct buf *b, const struct export_counts *c)
{
	static const char *const seg_color[3] = { "#1f883d", "#d4a72c", "#cf222e" };
	static const int seg_status[3] = { ST_ON, ST_PENDING, ST_OFF };
	static const char *const seg_name[3] = { "on", "pending", "off" };
	const double x0 = 132, width = 330;
	const int vw = 740;
	int rows = 0, pl, k, y;
	long totals[PLAT_COUNT + 2][3];
	const char *labels[PLAT_COUNT + 2];

	memcpy(totals[rows], c->status, sizeof(totals[rows]));
	labels[rows++] = "All people";
	for (pl = 0; pl <= PLAT_COUNT; pl++) {
		long n = c->platform[pl][0] + c->platform[pl][1] + c->platform[pl][2];
		if (pl == PLAT_COUNT && n == 0)
			continue;
		memcpy(totals[rows], c->platform[pl], sizeof(totals[rows]));
		labels[rows++] = plat_label[pl];
	}
	buf_printf(b, "<svg role=\"img\" aria-labelledby=\"chart-t\" viewBox=\"0 0 %d %d\" "
	    "width=\"%d\" height=\"%d\" xmlns=\"http://www.w3.org/2000/svg\">\n"
	    "<title id=\"chart-t\">People by primary platform and sync status</title>\n",
	    vw, rows * 38 + 34, vw, rows * 38 + 34);
	for (k = 0; k < rows; k++) {
		long n = totals[k][0] + totals[k][1] + totals[k][2];
		double len = c->n > 0 ? width * (double)n / (double)c->n : 0, x = x0, acc = 0;
		y = k * 38 + 4;
		buf_printf(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\"%s>%s</text>\n",
		    (int)x0 - 10, y + 18, k == 0 ? " font-weight=\"600\"" : "", labels[k]);
		buf_printf(b, "<rect x=\"%.0f\" y=\"%d\" width=\"%.0f\" height=\"24\" rx=\"3\" "
		    "fill=\"#eaeef2\"/>\n", x0, y, width);
		for (int s = 0; s < 3; s++) {
			long v = totals[k][seg_status[s]];
			double x1, w;
			if (v == 0 || n == 0)
				continue;
			acc += (double)v;
			x1 = x0 + len * acc / (double)n;
			w = x1 - x < 2 ? 2 : x1 - x;
			buf_printf(b, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"24\" "
			    "fill=\"%s\"><title>%s: ", x, y, w, seg_color[s], labels[k]);
			add_count(b, v);
			buf_printf(b, " %s</title></rect>\n", seg_name[s]);
			x = x1;
		}
		buf_printf(b, "<text x=\"%.0f\" y=\"%d\">", x0 + width + 12, y + 17);
		add_count(b, n);
		buf_printf(b, "<tspan class=\"muted\"> · %ld%% on · %ld%% pending · %ld%% off"
		    "</tspan></text>\n", percent(totals[k][ST_ON], n),
		    percent(totals[k][ST_PENDING], n), percent(totals[k][ST_OFF], n));
	}
	y = rows * 38 + 14;
	for (k = 0; k < 3; k++) {
		static const char *const legend[3] = { "On (synced)", "Pending (prompted)",
		    "Off (not synced)" };
		int lx = 132 + k * 160;
		buf_printf(b, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" rx=\"2\" "
		    "fill=\"%s\"/><text x=\"%d\" y=\"%d\" class=\"muted\">%s</text>\n", lx, y,
		    seg_color[k], lx + 18, y + 11, legend[k]);
	}
	buf_adds(b, "</svg>\n");
}

static void
card(struct buf *b, const char *cls, long n, const char *label, long whole)
{
	buf_printf(b, "<div class=\"card%s%s\"><div class=\"n\">", *cls ? " " : "", cls);
	add_count(b, n);
	buf_printf(b, "</div><div class=\"l\">%s", label);
	if (whole >= 0)
		buf_printf(b, " · %ld%%", percent(n, whole));
	buf_adds(b, "</div></div>\n");
}

static void
option(struct buf *b, const char *value, const char *label, long n)
{
	buf_printf(b, "<option value=\"%s\">%s", value, label);
	if (n >= 0) {
		buf_adds(b, " (");
		add_count(b, n);
		buf_addc(b, ')');
	}
	buf_adds(b, "</option>");
}

/* "sha256-<base64>" of the script, for the Content-Security-Policy. */
static void
script_hash(struct buf *b)
{
	unsigned char md[EVP_MAX_MD_SIZE], b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
	unsigned int mdlen = 0;

	if (EVP_Digest(report_js, strlen(report_js), md, &mdlen, EVP_sha256(), NULL) != 1)
		abort();	/* SHA-256 of a constant cannot fail but for OOM */
	EVP_EncodeBlock(b64, md, (int)mdlen);
	buf_printf(b, "sha256-%s", (const char *)b64);
}

void
export_html(struct buf *out, const struct export_counts *c, const struct report_filter *f,
    time_t now, const struct buf *rows)
{
	char iso[32];
	int pl;

	fmt_iso8601(now, iso);
	buf_adds(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	    "style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; "
	    "script-src '");
	script_hash(out);
	buf_adds(out, "'\">\n<meta name=\"referrer\" content=\"no-referrer\">\n"
	    "<meta name=\"generator\" content=\"peoplesync export\">\n");
	buf_printf(out, "<title>People Sync report, %.10s</title>\n<style>\n%s</style>\n"
	    "</head>\n<body>\n<header>\n<h1>People Sync <span>report</span></h1>\n"
	    "<p class=\"sub\">Generated <time datetime=\"%s\">%.10s %.5s UTC</time> · ",
	    iso, report_css, iso, iso, iso + 11);
	add_count(out, c->n);
	buf_adds(out, c->n == 1 ? " person" : " people");
	buf_adds(out, f->all ? ", inactive people included" : ", active people only");
	if (f->platform >= 0 || f->status >= 0 || f->type > 0 || f->team) {
		buf_adds(out, " · exported with");
		if (f->platform >= 0)
			buf_printf(out, " primary platform %s", plat_label[f->platform]);
		if (f->status >= 0)
			buf_printf(out, " status %s", status_name((enum status)f->status));
		if (f->type > 0)
			buf_printf(out, " sync type %s", sync_type_name((enum sync_type)f->type));
		if (f->team) {
			buf_adds(out, " primary team “");
			buf_html_esc(out, f->team);
			buf_adds(out, "”");
		}
	}
	buf_adds(out, "</p>\n</header>\n<main>\n<section class=\"summary\" aria-label=\"Summary\">\n"
	    "<div class=\"cards\">\n");
	card(out, "", c->n, c->n == 1 ? "person" : "people", -1);
	card(out, "on", c->status[ST_ON], "sync on", c->n);
	card(out, "pending", c->status[ST_PENDING], "pending user auth", c->n);
	card(out, "off", c->status[ST_OFF], "sync off", c->n);
	buf_adds(out, "</div>\n<figure class=\"chart\">\n<figcaption>By primary platform"
	    "</figcaption>\n");
	chart(out, c);
	buf_adds(out, "</figure>\n</section>\n<section class=\"list\" aria-label=\"People\">\n"
	    "<div class=\"controls\">\n<label>Primary platform <select id=\"f-platform\">");
	option(out, "", "All platforms", -1);
	for (pl = 0; pl < PLAT_COUNT; pl++)
		option(out, platform_name((enum platform)pl), plat_label[pl],
		    c->platform[pl][0] + c->platform[pl][1] + c->platform[pl][2]);
	if (c->platform[PLAT_COUNT][0] + c->platform[PLAT_COUNT][1] + c->platform[PLAT_COUNT][2])
		option(out, "-", plat_label[PLAT_COUNT], c->platform[PLAT_COUNT][0] +
		    c->platform[PLAT_COUNT][1] + c->platform[PLAT_COUNT][2]);
	buf_adds(out, "</select></label>\n<label>Sync status <select id=\"f-status\">");
	option(out, "", "All statuses", -1);
	option(out, "on", "On", c->status[ST_ON]);
	option(out, "pending", "Pending", c->status[ST_PENDING]);
	option(out, "off", "Off", c->status[ST_OFF]);
	buf_adds(out, "</select></label>\n<label>Sync type <select id=\"f-type\">");
	option(out, "", "All types", -1);
	option(out, "user", "User sync", c->type[SYNC_USER]);
	option(out, "bot", "Bot sync", c->type[SYNC_BOT]);
	buf_adds(out, "</select></label>\n<label>Primary team <select id=\"f-team\">");
	option(out, "", "All teams", -1);
	buf_adds(out, "</select></label>\n"
	    "<label>Search <input id=\"f-q\" type=\"search\" autocomplete=\"off\" "
	    "placeholder=\"Name, email, team or user id\"></label>\n"
	    "<button id=\"reset\" type=\"button\">Clear</button>\n"
	    "<span id=\"count\" aria-live=\"polite\"></span>\n</div>\n"
	    "<div id=\"scroller\" class=\"scroller\" tabindex=\"0\">\n<table id=\"people\">\n"
	    "<colgroup><col class=\"c-name\"><col class=\"c-email\"><col class=\"c-status\">"
	    "<col class=\"c-plat\"><col class=\"c-team\"><col class=\"c-type\">"
	    "<col class=\"c-accts\"><col class=\"c-num\"><col class=\"c-date\">"
	    "<col class=\"c-date\"></colgroup>\n<thead><tr>"
	    "<th data-k=\"name\"><button type=\"button\">Name</button></th>"
	    "<th data-k=\"email\"><button type=\"button\">Email</button></th>"
	    "<th data-k=\"status\"><button type=\"button\">Status</button></th>"
	    "<th data-k=\"platform\"><button type=\"button\">Primary platform</button></th>"
	    "<th data-k=\"team\"><button type=\"button\">Primary team</button></th>"
	    "<th data-k=\"type\"><button type=\"button\">Sync type</button></th>"
	    "<th data-k=\"accounts\"><button type=\"button\">Accounts</button></th>"
	    "<th data-k=\"prompts\"><button type=\"button\">Prompts</button></th>"
	    "<th data-k=\"last_prompted\"><button type=\"button\">Last prompt</button></th>"
	    "<th data-k=\"synced\"><button type=\"button\">Synced</button></th>"
	    "</tr></thead>\n<tbody id=\"rows\"></tbody>\n</table>\n"
	    "<div id=\"empty\" hidden>No one matches these filters.</div>\n"
	    "<noscript><p id=\"noscript\">The list needs JavaScript. "
	    "<code>peoplesync export --format csv</code> gives the same people as a spreadsheet."
	    "</p></noscript>\n</div>\n</section>\n</main>\n"
	    "<script type=\"application/json\" id=\"ps-data\">{\"generated_at\":\"");
	buf_adds(out, iso);
	buf_adds(out, "\",\"rows\":[\n");
	buf_add(out, rows->p ? rows->p : "", rows->len);
	buf_adds(out, "\n]}</script>\n<script>");
	buf_adds(out, report_js);
	buf_adds(out, "</script>\n</body>\n</html>\n");
}
