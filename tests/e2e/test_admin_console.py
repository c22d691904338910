"""End-to-end: the admin console at public_url/admin (`peoplesync serve`).

An admin signs in through a fake platform's own sign-in page and uses the console; what
must be refused is refused and changes nothing: a person who is not an admin, a POST
without its CSRF token, a cross-origin POST, an expired admin session. Every admin action
lands in the audit list (`peoplesync audit`) and the person's history.
"""
import re
import time
import urllib.error
import urllib.parse
import urllib.request

from tests.e2e.harness import people_jsonl
from tests.e2e.test_serve import Browser, Serve, ServeCase, query_of


class AdminConsole(ServeCase):
    org_args = dict(people=30, seed=11, platforms=("slack", "teams", "webex"))

    @property
    def serve_extra(self):
        # the allow list in another case than the directory's: addresses match in any case
        return 'admin = { emails = ["%s"]; };\n' % self.admin()["email"].upper()

    def admin(self):
        return self.candidates()[0]

    def signin(self, b, t, platform="slack"):
        """The console's sign-in through platform's (fake) sign-in page as person t."""
        st, url, h, page = b.open(self.serve.base + "/admin/signin/" + platform, follow=False)
        self.assertEqual(st, 302, page)
        authz = h["Location"]
        q = query_of(authz)
        self.assertEqual(q["redirect_uri"], "%s/admin/oauth/%s/callback" %
                         (self.serve.base, platform))
        user = self.account(t, platform)["user_id"]
        return b.open(authz + "&" + urllib.parse.urlencode({"user": user}))

    def signed_in(self):
        b = Browser()
        st, url, h, page = self.signin(b, self.admin())
        self.assertEqual(st, 200, page)
        self.assertIn("Signed in as", page)
        st, url, h, page = b.open(self.serve.base + "/admin")
        self.assertEqual(st, 200, page)
        self.assertIn("Summary", page)
        return b, page

    def csrf(self, page):
        m = re.search(r'name="csrf" value="([A-Za-z0-9_-]+)"', page)
        self.assertTrue(m, page)
        return m.group(1)

    def post(self, b, path, fields, origin=True):
        data = urllib.parse.urlencode(fields, doseq=True).encode()
        headers = {"Origin": "http://127.0.0.1:%d" % self.port} if origin is True else \
            ({"Origin": origin} if origin else {})
        req = urllib.request.Request(self.serve.base + path, data=data, headers=headers)
        try:
            with b.follow.open(req, timeout=30) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def pid(self, b, email):
        """The console's number of the person with this address (from a search)."""
        st, url, h, page = b.open(self.serve.base + "/admin?all=1&q=" +
                                  urllib.parse.quote(email))
        m = re.search(r'href="[^"]*/admin/person/(\d+)">', page)
        self.assertTrue(m, page)
        return m.group(1)

    def audit(self):
        r = self.ps("audit")
        self.assertRc(r, 0)
        return r.out

    def queued(self):
        r = self.ps("prompt", "--all", "--dry-run")
        return r.out

    def pending_prompts(self):
        return sum(1 for p in people_jsonl(self.cfg) if p.get("prompt_count"))

    # ---------------------------------------------------------------------------------------
    def test_admin_signs_in_sees_the_table_and_prompts_one_person(self):
        b, page = self.signed_in()
        self.assertIn(self.admin()["email"].lower(), page.lower())
        # the table shows exactly `people --status off --platform teams`
        st, url, h, page = b.open(self.serve.base + "/admin?platform=teams&status=off&size=500")
        self.assertEqual(st, 200, page)
        want = sorted(p["email"] for p in people_jsonl(self.cfg, "--status", "off",
                                                       "--platform", "teams"))
        body = page.split('<tbody>', 2)[2]
        got = sorted(re.findall(r'<td>([^<@]+@[^<]+)</td>', body))
        self.assertEqual(got, want)
        # one person prompted from their page: queued, in the history and the audit list
        target = want[0]
        pid = self.pid(b, target)
        st, url, h, page = b.open(self.serve.base + "/admin/person/%s" % pid)
        self.assertEqual(st, 200, page)
        self.assertIn("Why (explain)", page)
        st, page = self.post(b, "/admin/prompt", {"csrf": self.csrf(page), "id": str(pid)})
        self.assertEqual(st, 200, page)
        self.assertIn("1 prompt queued", page)
        self.assertIn("the next reconcile run sends it", page)
        out = self.audit()
        self.assertRegex(out, r"%s prompt %s prompt queued" % (
            re.escape(self.admin()["email"].lower()), pid))
        show = self.ps("show", target)
        self.assertIn("prompt by %s" % self.admin()["email"].lower(), show.out)

    def test_a_person_who_is_not_an_admin_is_refused(self):
        other = self.candidates()[1]
        before = self.audit()
        b = Browser()
        st, url, h, page = self.signin(b, other)
        self.assertEqual(st, 403, page)
        self.assertIn("may not use the People Sync console", page)
        self.assertNotIn(self.admin()["email"].lower(), page.lower())   # names no admin
        st, url, h, page = b.open(self.serve.base + "/admin")
        self.assertIn("Sign in with", page)
        self.assertNotIn("Summary", page)
        self.assertEqual(self.audit(), before)

    def test_post_without_csrf_token_changes_nothing(self):
        b, page = self.signed_in()
        before = self.audit()
        st, page = self.post(b, "/admin/auto-prompt", {"set": "on"})
        self.assertEqual(st, 403, page)
        st, page = self.post(b, "/admin/auto-prompt", {"set": "on", "csrf": "x" * 43})
        self.assertEqual(st, 403, page)
        self.assertIn("off", self.ps("auto-prompt", "status").out)
        self.assertEqual(self.audit(), before)

    def test_cross_origin_post_changes_nothing(self):
        b, page = self.signed_in()
        token = self.csrf(page)
        before = self.audit()
        pid = self.pid(b, self.candidates()[2]["email"])
        for origin in ("http://evil.example", None):
            st, body = self.post(b, "/admin/prompt", {"csrf": token, "id": str(pid)},
                                 origin=origin)
            self.assertEqual(st, 403, body)
        self.assertEqual(self.audit(), before)
        self.assertEqual(self.pending_prompts(), 0)
        # the same form from the console's own origin works
        st, body = self.post(b, "/admin/auto-prompt", {"csrf": token, "set": "on"})
        self.assertEqual(st, 200, body)
        self.assertIn("on", self.ps("auto-prompt", "status").out)

    def test_expired_admin_session_is_refused(self):
        b, page = self.signed_in()
        token = self.csrf(page)
        pid = self.pid(b, self.candidates()[2]["email"])
        self.serve.stop()
        later = str(int(time.time()) + 3600)
        self.serve = Serve(self.cfg, self.dir, self.port, env={"PEOPLESYNC_NOW": later})
        before = self.audit()
        st, url, h, page = b.open(self.serve.base + "/admin")
        self.assertIn("Sign in with", page)
        st, body = self.post(b, "/admin/prompt", {"csrf": token, "id": str(pid)})
        self.assertEqual(st, 403, body)
        self.assertIn("session has ended", body)
        self.assertEqual(self.audit(), before)
        self.assertEqual(self.pending_prompts(), 0)

    def test_bulk_preview_then_confirm_queues_what_it_said(self):
        b, page = self.signed_in()
        st, url, h, page = b.open(self.serve.base + "/admin/bulk?status=off")
        self.assertEqual(st, 200, page)
        n = int(re.search(r'id="would"><strong>(\d+)</strong>', page).group(1))
        dry = self.ps("prompt", "--all", "--dry-run").out
        self.assertIn("%d prompt%s would be queued" % (n, "" if n == 1 else "s"), dry)
        st, body = self.post(b, "/admin/bulk", {"csrf": self.csrf(page), "status": "off"})
        self.assertEqual(st, 200, body)
        self.assertIn("%d prompt%s queued" % (n, "" if n == 1 else "s"), body)
        self.assertIn("bulk-prompt - %d prompts queued" % n, self.audit())

    def test_exports_apply_the_search(self):
        """The exports hold who the page's search finds (name, address or a whole user id),
        across every page, and nobody else."""
        import csv as csvmod
        import io
        b, page = self.signed_in()
        everyone = self.ps("export", "--format", "csv", "--all").out
        rows = list(csvmod.reader(io.StringIO(everyone)))
        header, rows = rows[0], rows[1:]
        who = self.candidates()[3]
        word = who["name"].split()[-1][1:4].upper()
        want = [r for r in rows if word.lower() in (r[0] + "\n" + r[1]).lower()]
        self.assertTrue(0 < len(want) < len(rows), word)
        for fmt in ("csv", "json", "html"):
            st, url, h, doc = b.open(self.serve.base + "/admin/export.%s?all=1&q=%s" %
                                     (fmt, urllib.parse.quote(word)))
            self.assertEqual(st, 200, doc)
            emails = sorted(r[0] for r in want)
            if fmt == "csv":
                got = list(csvmod.reader(io.StringIO(doc.replace("\r\n", "\n"))))
                self.assertEqual(got[0], header)
                self.assertEqual(sorted(r[0] for r in got[1:]), emails)
            else:
                for r in rows:
                    (self.assertIn if r in want else self.assertNotIn)(
                        '"%s"' % r[0], doc, (fmt, word))
        uid = self.account(who, "teams")["user_id"]
        st, url, h, doc = b.open(self.serve.base + "/admin/export.csv?q=" +
                                 urllib.parse.quote(uid.lower() if uid.lower() != uid else
                                                    uid.upper()))
        self.assertEqual([r[0] for r in csvmod.reader(io.StringIO(doc))][1:], [who["email"]])

    def test_exports_carry_the_filters(self):
        b, page = self.signed_in()
        st, url, h, csv = b.open(self.serve.base + "/admin/export.csv?platform=teams&status=off")
        self.assertEqual(st, 200, csv)
        self.assertIn("attachment", h["Content-Disposition"])
        r = self.ps("export", "--format", "csv", "--platform", "teams", "--status", "off")
        self.assertEqual(csv.replace("\r\n", "\n"), r.out)
