/*
 * admin_assets.c — the console's style sheet and script, served as files so that the
 * pages' Content-Security-Policy allows no inline style or script. The script only adds
 * comfort: every page works without it (forms and links).
 */
#include <string.h>

#include "admin_p.h"

static const char css[] =
"*{box-sizing:border-box}"
"body{margin:0;background:#f4f5f7;color:#1c1e21;"
"font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}"
"header{display:flex;justify-content:space-between;align-items:center;gap:1rem;"
"background:#1f2a44;color:#fff;padding:.5rem 1rem}"
"header a{color:#fff;margin-right:1rem;font-weight:600}"
"header form{margin:0}header .who{margin-right:.5rem}"
"main{max-width:80rem;margin:0 auto;padding:1rem}"
"h1{font-size:1.4rem;margin:.25rem 0 1rem}h2{font-size:1.1rem;margin:1.25rem 0 .5rem}"
"a{color:#1b4fc4}"
"table{border-collapse:collapse;width:100%;background:#fff}"
"th,td{border-bottom:1px solid #dde0e4;padding:.35rem .5rem;text-align:left;"
"vertical-align:top}"
"th{background:#eceef2;font-weight:600}"
"td.num,th.num{text-align:right}"
".filters{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:flex-end;background:#fff;"
"padding:.75rem;border-radius:8px;margin-bottom:1rem}"
".filters label{display:flex;flex-direction:column;font-size:.85rem;font-weight:600}"
".filters label.check{flex-direction:row;gap:.3rem;align-items:center}"
"input,select,button{font:inherit}"
"input[type=text],input[type=search],select{padding:.3rem;border:1px solid #8a9099;"
"border-radius:4px}"
".btn,button{display:inline-block;background:#1b4fc4;color:#fff;border:0;"
"border-radius:6px;padding:.4rem .8rem;font-weight:600;text-decoration:none;"
"cursor:pointer}"
"button.secondary,.btn.secondary{background:#4a5160}"
".actions{display:flex;flex-wrap:wrap;gap:.5rem;margin:.75rem 0}"
".actions form{margin:0}"
".summary td,.summary th{text-align:right}.summary th:first-child{text-align:left}"
".pager{margin:.75rem 0;display:flex;gap:1rem;align-items:center}"
".muted{color:#4f5560}.ok{color:#11612f;font-weight:600}"
".bad{color:#9b1117;font-weight:600}"
".note{background:#fff7d6;border:1px solid #e2c66b;border-radius:6px;padding:.5rem .75rem}"
".card{background:#fff;border-radius:8px;padding:.75rem 1rem;margin-bottom:1rem}"
"code{background:#eceef2;padding:0 .2rem;border-radius:3px;word-break:break-all}"
"ul.signin{list-style:none;padding:0}ul.signin li{margin:.5rem 0}"
"pre{white-space:pre-wrap;background:#fff;padding:.75rem;border-radius:8px}"
"@media (prefers-color-scheme:dark){body{background:#17181b;color:#e8e9eb}"
"table,.filters,.card,pre{background:#222428}th{background:#2c2f35}"
"td,th{border-color:#3a3d44}a{color:#8fb0ff}.muted{color:#b0b5bd}"
".ok{color:#6fd39a}.bad{color:#ff8a8f}code{background:#2c2f35}"
".note{background:#3b3420;border-color:#7a6a35}}";

/* The "select all" box of the table; a copy button for a Sync now link. */
static const char js[] =
"'use strict';\n"
"document.addEventListener('DOMContentLoaded', function () {\n"
"  var all = document.getElementById('select-all');\n"
"  if (all) {\n"
"    all.hidden = false;\n"
"    all.addEventListener('change', function () {\n"
"      document.querySelectorAll('input[name=id][form=ticked]').forEach(function (b) {\n"
"        b.checked = all.checked;\n"
"      });\n"
"    });\n"
"  }\n"
"  var copy = document.getElementById('copy-link');\n"
"  var link = document.getElementById('sync-link');\n"
"  if (copy && link && navigator.clipboard) {\n"
"    copy.hidden = false;\n"
"    copy.addEventListener('click', function () {\n"
"      navigator.clipboard.writeText(link.textContent).then(function () {\n"
"        copy.textContent = 'Copied';\n"
"      });\n"
"    });\n"
"  }\n"
"});\n";

enum web_outcome
admin_asset(struct admin_req *a, const char *name)
{
	int is_css = strcmp(name, "css") == 0;

	buf_reset(&a->rp->html);
	buf_adds(&a->rp->html, is_css ? css : js);
	a->rp->status = 200;
	a->rp->ctype = is_css ? "text/css; charset=utf-8" : "text/javascript; charset=utf-8";
	return WO_OK;
}
