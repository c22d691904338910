#!/usr/bin/env python3
"""genorg.py -- deterministic synthetic organisations for the peoplesync fakes.

    genorg.py --people N --seed S [--platforms slack,teams,webex] [--mix truth|demo]
              [--domain corp.com] -o org.json

The same (people, seed, platforms, mix, domain) always gives byte-identical output: every
random choice comes from one random.Random(seed) and every timestamp is relative to the
fixed BASE_EPOCH below, never to the wall clock.

org.json holds, besides the three platform rosters, the secrets the fake server checks and
the ground truth ("truth", also under "people") that end-to-end tests compare the
reconciler's output against.  The user objects copy the shape of the real samples in
tests/data/fixtures/ (see README.md in this directory for the field-by-field choices).

Used as a module by the fake server's modules in fake/ (the control op "add" builds new
accounts with new_account(); Slack's encoding, ids) and by selftest.py and the end-to-end
harness (generate()).  Standard library only.
"""

import argparse
import base64
import hashlib
import json
import os
import random
import sys
import unicodedata
import uuid

# 2025-12-01T00:00:00Z.  Everything generated is dated before this instant.
BASE_EPOCH = 1764547200

PLATFORMS = ("slack", "teams", "webex")

# ---------------------------------------------------------------------------------------
# Names.  Tuples are (given, family, given_ascii, family_ascii, order) where order
# "eastern" displays "family given" (山田 太郎).  The *_ascii forms build e-mail addresses
# and handles, like a real directory would have them romanised.

LATIN_GIVEN = [
    "Amélie", "José", "Zoë", "Renée", "Björn", "Søren", "Iñigo", "François", "Chloé",
    "Øystein", "Åsa", "Jürgen", "Małgorzata", "Noël", "Inès", "Ana", "Liam", "Olivia",
    "Noah", "Emma", "Mateo", "Sofía", "Lucas", "Mia", "Ethan", "Ava", "Jack", "Isla",
    "Oliver", "Grace", "Siobhán", "Seán", "Dara", "Ngozi", "Chidi", "Kwame", "Aarav",
    "Tomás", "Raphaël", "Maëlle", "Jesús", "Núria", "Ólafur", "Þóra", "Dmitri", "Ewa",
    "Hannah", "Daniel", "Laura", "Marco", "Elena", "Pedro", "Julia", "Tariq", "Leila",
    "Gaëlle", "Ñusta", "Sven", "Ingrid", "Kai", "Mateus", "Camille", "Ren", "Yusuf",
]
LATIN_FAMILY = [
    "Muñoz", "Núñez", "Ødegaard", "Müller", "O'Brien", "D'Angelo", "O'Connor", "García",
    "Łukasiewicz", "Smith", "Johnson", "Nguyen", "Kowalski", "Dubois", "Fernández",
    "Brontë", "Søndergaard", "Peña", "Ibáñez", "Lefèvre", "Schröder", "Åberg",
    "Svensson", "Okafor", "Mensah", "Patel", "Silva", "Costa", "Rossi", "Bianchi",
    "Murphy", "Kelly", "MacDonald", "van der Berg", "de la Cruz", "Jørgensen",
    "Lindqvist", "Horváth", "Novák", "Dvořák", "Çelik", "Yılmaz", "Kim", "Lee", "Park",
    "Williams", "Brown", "Martin", "Moreau", "Ferreira", "Andersen", "Berg", "Hughes",
    "Nakamura", "Haddad", "Mbeki", "Castillo", "Ortiz", "Wójcik", "Østergaard", "Ruiz",
]
# Non-Latin scripts: (order, [(given, romanised)], [(family, romanised)]).  Names within a
# script are combined freely so that large organisations do not repeat a handful of people.
SCRIPT_NAMES = [
    ("eastern", [("太郎", "taro"), ("花子", "hanako"), ("美咲", "misaki"), ("健", "ken"),
                 ("陽菜", "hina")],
     [("山田", "yamada"), ("佐藤", "sato"), ("鈴木", "suzuki"), ("高橋", "takahashi"),
      ("田中", "tanaka")]),
    ("eastern", [("小龙", "xiaolong"), ("伟", "wei"), ("秀英", "xiuying"), ("静", "jing"),
                 ("磊", "lei")],
     [("李", "li"), ("王", "wang"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen")]),
    ("eastern", [("민준", "minjun"), ("서연", "seoyeon"), ("지호", "jiho"), ("하은", "haeun")],
     [("김", "kim"), ("이", "lee"), ("박", "park"), ("최", "choi")]),
    # right-to-left scripts
    ("western", [("محمد", "mohammed"), ("فاطمة", "fatima"), ("يوسف", "youssef"),
                 ("ليلى", "layla"), ("عمر", "omar")],
     [("العلي", "alali"), ("الزهراء", "alzahra"), ("حداد", "haddad"), ("منصور", "mansour"),
      ("خليل", "khalil")]),
    ("western", [("דוד", "david"), ("שרה", "sarah"), ("נועה", "noa"), ("יוסף", "yosef"),
                 ("מיכל", "michal")],
     [("כהן", "cohen"), ("לוי", "levi"), ("מזרחי", "mizrahi"), ("פרץ", "peretz"),
      ("ביטון", "biton")]),
    ("western", [("प्रिया", "priya"), ("राहुल", "rahul"), ("अनन्या", "ananya")],
     [("शर्मा", "sharma"), ("वर्मा", "verma"), ("गुप्ता", "gupta")]),
    ("western", [("Νίκος", "nikos"), ("Ηλίας", "ilias"), ("Ελένη", "eleni")],
     [("Παπαδόπουλος", "papadopoulos"), ("Γεωργίου", "georgiou"), ("Οικονόμου", "oikonomou")]),
    ("western", [("Анна", "anna"), ("Иван", "ivan"), ("Ольга", "olga")],
     [("Иванова", "ivanova"), ("Петров", "petrov"), ("Смирнова", "smirnova")]),
]
# Long names: (given, family, given_ascii, family_ascii)
LONG_NAMES = [
    ("María del Carmen", "Fernández de la Santísima Trinidad García-Villalobos y Montenegro",
     "mariadelcarmen", "fernandez"),
    ("Hubert Blaine", "Wolfeschlegelsteinhausenbergerdorff", "hubert",
     "wolfeschlegelsteinhausenbergerdorff"),
    ("Pablo Diego José Francisco", "de Paula Juan Nepomuceno Ruiz y Picasso",
     "pablo", "ruizpicasso"),
    ("Kristín Guðrún Sigríður", "Þórhallsdóttir-Ásgeirsdóttir", "kristin",
     "thorhallsdottir"),
]
EMOJI = ["🚀", "🌻", "🎸", "🦄", "☕", "🌈", "🐙", "✨", "🏔️", "👩‍💻"]
PARTNER_DOMAINS = ["partner.example", "fabrikam.test", "contractors.example.net", "agency.example"]
PLUS_TAGS = ["test", "slack", "ops", "qa", "bot", "1", "2", "alt"]

TIMEZONES = [
    ("America/Los_Angeles", "Pacific Standard Time", -28800),
    ("America/New_York", "Eastern Standard Time", -18000),
    ("America/Chicago", "Central Standard Time", -21600),
    ("America/Indiana/Indianapolis", "Eastern Standard Time", -18000),
    ("America/Sao_Paulo", "Brasilia Standard Time", -10800),
    ("America/St_Johns", "Newfoundland Standard Time", -12600),
    ("Europe/London", "Greenwich Mean Time", 0),
    ("Europe/Paris", "Central European Time", 3600),
    ("Europe/Berlin", "Central European Time", 3600),
    ("Asia/Jerusalem", "Israel Standard Time", 7200),
    ("Asia/Riyadh", "Arabia Standard Time", 10800),
    ("Asia/Kolkata", "India Standard Time", 19800),
    ("Asia/Kathmandu", "Nepal Time", 20700),
    ("Asia/Tokyo", "Japan Standard Time", 32400),
    ("Australia/Sydney", "Australian Eastern Daylight Time", 39600),
]
COLORS = ["9f69e7", "4bbe2e", "e7392d", "3c989f", "674b1b", "e96699", "e0a729", "684b6c",
          "5b89d5", "53b759", "d58247", "db3150", "5a4592", "757575", "d1707d", "e06b56"]
TITLES = ["", "", "", "Engineer", "Senior Engineer", "Product Manager", "Designer",
          "Sales Lead", "Support", "Head of Operations", "Recruiter", "Data Scientist",
          "Ingénieure logiciel", "營業部長", "Office Manager", "CFO"]
JOB_TITLES = [None, None, "Engineer", "Product Manager", "Account Executive", "Designer",
              "Director of Finance", "IT Administrator", "Support Specialist"]
OFFICES = [None, None, "HQ 4/1120", "Remote", "Paris", "Tokyo", "Building 7"]
WEBEX_STATUS = ["active", "active", "active", "inactive", "inactive", "DoNotDisturb",
                "meeting", "OutOfOffice", "call", "presenting", "unknown"]
BOT_NAMES = ["deploybot", "standup-helper", "jira", "github", "pagerduty", "polly",
             "giphy", "zoom", "google-drive", "lunchtrain", "statusbot", "howdy",
             "onboarding", "calendar-sync", "expensify", "donut"]

# Probabilities per person for the two mixes.  "truth" is the adversarial mix the
# end-to-end tests use; "demo" is a tamer one that still shows every kind of record.
MIXES = {
    "truth": dict(spread={3: (0.30, 0.35, 0.35), 2: (0.5, 0.5)}, case=0.15,
                  partial_deact=0.10, full_deact=0.04, guest=0.05, plus=0.03,
                  proxy_only=0.06, alias_only=0.06, slack_invited=0.02,
                  webex_pending=0.03, webex_two=0.10, special=0.20, long=0.02, emoji=0.03,
                  apostrophe_keep=0.5, comma_name=0.05, realname_differs=0.05,
                  bots=40, apps=150, dead_bots=60, webex_bots=100, webex_apps=200),
    "demo": dict(spread={3: (0.50, 0.30, 0.20), 2: (0.6, 0.4)}, case=0.05,
                 partial_deact=0.04, full_deact=0.02, guest=0.02, plus=0.01,
                 proxy_only=0.03, alias_only=0.03, slack_invited=0.01,
                 webex_pending=0.01, webex_two=0.05, special=0.15, long=0.01, emoji=0.02,
                 apostrophe_keep=0.3, comma_name=0.02, realname_differs=0.02,
                 bots=100, apps=300, dead_bots=150, webex_bots=200, webex_apps=400),
}
# spread tuples are P(one platform), P(two), P(three) -- or P(one), P(two) with two.


# ---------------------------------------------------------------------------------------
# Small helpers

_FOLD = {"ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "ß": "ss", "ł": "l", "Ł": "L",
         "đ": "d", "Đ": "D", "þ": "th", "Þ": "Th", "ð": "d", "ı": "i", "œ": "oe"}


def ascii_fold(s):
    """'Søren Ødegaard' -> 'Soren Odegaard' (drops what cannot be folded)."""
    s = "".join(_FOLD.get(c, c) for c in s)
    s = unicodedata.normalize("NFKD", s)
    return "".join(c for c in s if ord(c) < 128 and not unicodedata.combining(c))


def strip_marks(s):
    """Slack's *_normalized fields: accents removed, other scripts kept."""
    s = "".join(_FOLD.get(c, c) for c in s)
    d = unicodedata.normalize("NFKD", s)
    return unicodedata.normalize("NFC", "".join(c for c in d if not unicodedata.combining(c)))


def b64_noPad(s):
    return base64.b64encode(s.encode()).decode().rstrip("=")


def webex_id(kind, u):
    """Webex ids are base64 of ciscospark://us/<KIND>/<uuid>, padding removed."""
    return b64_noPad("ciscospark://us/%s/%s" % (kind, u))


def slack_dumps(obj):
    """Serialize like Slack's servers: ASCII only (\\u escapes) and '/' escaped as '\\/'.

    '/' can only occur inside JSON strings, so replacing it in the encoded text is exact."""
    return json.dumps(obj, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/")


def iso_ms(epoch):
    """Webex style: 2015-10-18T14:26:16.000Z"""
    import time as _t
    ms = int(round((epoch - int(epoch)) * 1000))
    return _t.strftime("%Y-%m-%dT%H:%M:%S", _t.gmtime(int(epoch))) + ".%03dZ" % ms


def _uuid(rng):
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


_SLACK_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _slack_id(rng, prefix, used, long_share=0.3):
    """U04KB5WQR (9 chars) or U012SA9KW4R (11 chars): both lengths occur in one workspace."""
    while True:
        n = 10 if rng.random() < long_share else 8
        s = prefix + "0" + "".join(rng.choice(_SLACK_ALPHABET) for _ in range(n - 1))
        if s not in used:
            used.add(s)
            return s


def case_variant(rng, email):
    """The same address as some platform might show it: JANE.DOE@CORP.COM, Jane.Doe@Corp.com..."""
    local, dom = email.split("@", 1)
    style = rng.randrange(3)
    if style == 0:
        return email.upper()
    if style == 1:
        cap = ".".join(p[:1].upper() + p[1:] for p in local.split("."))
        return cap + "@" + dom[:1].upper() + dom[1:]
    return local + "@" + dom.upper()


def _md5(s):
    return hashlib.md5(s.encode()).hexdigest()


# ---------------------------------------------------------------------------------------
# Platform object builders.  Each takes plain values and returns a dict shaped like the
# real sample; key order follows the samples.

def _slack_images(rng, seed_text, custom):
    h = _md5(seed_text)
    if custom:
        day = "%04d-%02d-%02d" % (rng.randint(2016, 2025), rng.randint(1, 12), rng.randint(1, 28))
        stem = "https://avatars.slack-edge.com/%s/%d_%s" % (day, rng.randint(10 ** 9, 10 ** 13), h[:20])
        imgs = {"image_original": stem + "_original.png", "is_custom_image": True}
        for s in (24, 32, 48, 72, 192, 512):
            imgs["image_%d" % s] = "%s_%d.png" % (stem, s)
        return "%s" % h[:12], imgs
    ava = rng.randint(0, 25)
    imgs = {}
    for s in (24, 32, 48, 72, 192, 512):
        imgs["image_%d" % s] = ("https://secure.gravatar.com/avatar/%s.jpg?s=%d&d=https%%3A%%2F%%2F"
                                "a.slack-edge.com%%2Fdf10d%%2Fimg%%2Favatars%%2Fava_%04d-%d.png"
                                % (h, s, ava, s))
    return "g" + h[:11], imgs


def slack_human(rng, *, uid, team_id, handle, real_name, first, last, email, display_name="",
                title="", tz=None, updated=0, deleted=False, restricted=False,
                ultra_restricted=False, invited=False, admin=False, owner=False,
                primary_owner=False, email_confirmed=True, top_real_name=None):
    """A human member like U04KB5WQR / U0HLFUZLJ in the users.list samples.

    Deactivated humans keep a profile (often with email) but lose color, tz, is_admin,
    is_restricted... exactly like the deleted records in the samples."""
    avatar_hash, imgs = _slack_images(rng, email or uid, custom=rng.random() < 0.6)
    profile = {"title": title, "phone": "", "skype": "", "real_name": real_name,
               "real_name_normalized": strip_marks(real_name), "display_name": display_name,
               "display_name_normalized": strip_marks(display_name), "fields": None,
               "status_text": "", "status_emoji": "", "status_emoji_display_info": [],
               "status_expiration": 0, "avatar_hash": avatar_hash}
    if email is not None:
        profile["email"] = email
    profile["first_name"] = first
    profile["last_name"] = last
    profile.update(imgs)
    profile["status_text_canonical"] = ""
    profile["team"] = team_id
    u = {"id": uid, "team_id": team_id, "name": handle, "deleted": deleted}
    if deleted:
        u.update({"profile": profile, "is_bot": False, "is_app_user": False, "updated": updated})
        return u
    tzname, tzlabel, tzoff = tz or TIMEZONES[0]
    u.update({"color": rng.choice(COLORS),
              "real_name": top_real_name if top_real_name is not None else real_name,
              "tz": tzname, "tz_label": tzlabel, "tz_offset": tzoff, "profile": profile,
              "is_admin": admin, "is_owner": owner, "is_primary_owner": primary_owner,
              "is_restricted": restricted or ultra_restricted,
              "is_ultra_restricted": ultra_restricted, "is_bot": False, "is_app_user": False,
              "updated": updated, "is_email_confirmed": email_confirmed,
              "who_can_share_contact_card": "EVERYONE"})
    if invited:
        u["is_invited_user"] = True
    return u


def slack_bot(rng, *, uid, team_id, handle, real_name, bot_id, app_id, updated, deleted=False,
              app_user=False, email=None):
    """Bots (is_bot true, profile.bot_id, no email) and app users (is_app_user true)."""
    avatar_hash, imgs = _slack_images(rng, uid, custom=True)
    profile = {"title": "", "phone": "", "skype": "", "real_name": real_name,
               "real_name_normalized": strip_marks(real_name),
               "display_name": handle if rng.random() < 0.5 else "",
               "fields": None, "status_text": "", "status_emoji": "",
               "status_emoji_display_info": [], "status_expiration": 0,
               "avatar_hash": avatar_hash, "api_app_id": app_id,
               "always_active": rng.random() < 0.5}
    profile["display_name_normalized"] = profile["display_name"]
    if email is not None:
        profile["email"] = email
    if not app_user:
        profile["bot_id"] = bot_id
    profile["first_name"] = real_name.split(" ")[0]
    profile["last_name"] = ""
    profile.update(imgs)
    profile["image_1024"] = profile["image_512"]
    profile["status_text_canonical"] = ""
    profile["team"] = team_id
    u = {"id": uid, "team_id": team_id, "name": handle, "deleted": deleted}
    if deleted:
        u.update({"profile": profile, "is_bot": not app_user, "is_app_user": app_user,
                  "updated": updated})
        return u
    tzname, tzlabel, tzoff = TIMEZONES[0]
    u.update({"color": rng.choice(COLORS), "real_name": real_name, "tz": tzname,
              "tz_label": tzlabel, "tz_offset": tzoff, "profile": profile, "is_admin": False,
              "is_owner": False, "is_primary_owner": False, "is_restricted": False,
              "is_ultra_restricted": False, "is_bot": not app_user, "is_app_user": app_user,
              "updated": updated, "is_email_confirmed": False,
              "who_can_share_contact_card": "EVERYONE"})
    return u


def slackbot(team_id):
    """Slackbot, copied from the page-1 sample: is_bot false, no email, updated 0."""
    e = "https://a.slack-edge.com/80588/img/slackbot_%s.png"
    return {"id": "USLACKBOT", "team_id": team_id, "name": "slackbot", "deleted": False,
            "color": "757575", "real_name": "Slackbot", "tz": "America/Los_Angeles",
            "tz_label": "Pacific Standard Time", "tz_offset": -28800,
            "profile": {"title": "", "phone": "", "skype": "", "real_name": "Slackbot",
                        "real_name_normalized": "Slackbot", "display_name": "Slackbot",
                        "display_name_normalized": "Slackbot", "fields": None,
                        "status_text": "", "status_emoji": "", "status_emoji_display_info": [],
                        "status_expiration": 0, "avatar_hash": "sv41d8cd98f0",
                        "always_active": True, "first_name": "slackbot", "last_name": "",
                        "image_24": e % "24", "image_32": e % "32", "image_48": e % "48",
                        "image_72": e % "72",
                        "image_192": "https://a.slack-edge.com/80588/marketing/img/avatars/slackbot/avatar-slackbot.png",
                        "image_512": e % "512", "status_text_canonical": "", "team": team_id},
            "is_admin": False, "is_owner": False, "is_primary_owner": False,
            "is_restricted": False, "is_ultra_restricted": False, "is_bot": False,
            "is_app_user": False, "updated": 0, "is_email_confirmed": False,
            "who_can_share_contact_card": "EVERYONE"}


def graph_user(rng, *, uid, display_name, given, surname, upn, mail, other_mails=(),
               proxy=(), enabled=True, user_type="Member", external_state=None,
               job_title=None, office=None, language="en-US", phones=()):
    """A Graph user with the default fields of users_page1_nextlink.json followed by the
    $select-only ones (accountEnabled, userType, otherMails, proxyAddresses...)."""
    return {"businessPhones": list(phones), "displayName": display_name, "givenName": given,
            "jobTitle": job_title, "mail": mail, "mobilePhone": None, "officeLocation": office,
            "preferredLanguage": language, "surname": surname, "userPrincipalName": upn,
            "id": uid, "accountEnabled": enabled, "userType": user_type,
            "otherMails": list(other_mails), "proxyAddresses": list(proxy),
            "externalUserState": external_state,
            "creationType": "Invitation" if user_type == "Guest" else None,
            "onPremisesSyncEnabled": None}


def webex_person(rng, *, pid, org_id, emails, display_name, first, last, created, modified,
                 last_activity, status, ptype="person", invite_pending=False,
                 login_enabled=True, as_strings=True, tz="America/Denver", avatar=True):
    """A Webex person like people_list.json.  invitePending/loginEnabled are JSON strings
    ("true"/"false") as in the OpenAPI example, or booleans as in captured real responses."""
    p = {"id": pid, "emails": list(emails), "phoneNumbers": [], "displayName": display_name}
    if first is not None:
        p["nickName"] = first
        p["firstName"] = first
    if last is not None:
        p["lastName"] = last
    if avatar:
        p["avatar"] = ("https://1efa7a94ed21783e352-c62266528714497a17239ececf39e9e2.ssl.cf1."
                       "rackcdn.com/V1~%s~%s==~1600" % (_md5(pid), _md5(display_name)[:22]))
    p["orgId"] = org_id
    p["created"] = iso_ms(created)
    p["lastModified"] = iso_ms(modified)
    p["timezone"] = tz
    if last_activity is not None:
        p["lastActivity"] = iso_ms(last_activity)
    p["status"] = status
    if as_strings:
        p["invitePending"] = "true" if invite_pending else "false"
        p["loginEnabled"] = "true" if login_enabled else "false"
    else:
        p["invitePending"] = bool(invite_pending)
        p["loginEnabled"] = bool(login_enabled)
    p["type"] = ptype
    return p


# ---------------------------------------------------------------------------------------
# The generator

class _Names:
    def __init__(self, rng, mix):
        self.rng = rng
        self.mix = mix
        self.locals = set()

    def person(self):
        """-> (given, family, display, email local part)"""
        rng, m = self.rng, self.mix
        r = rng.random()
        if r < m["long"]:
            g, f, ga, fa = rng.choice(LONG_NAMES)
            order = "western"
        elif r < m["long"] + m["special"]:
            order, givens, families = rng.choice(SCRIPT_NAMES)
            (g, ga), (f, fa) = rng.choice(givens), rng.choice(families)
        else:
            g, f = rng.choice(LATIN_GIVEN), rng.choice(LATIN_FAMILY)
            ga, fa, order = ascii_fold(g), ascii_fold(f), "western"
        display = ("%s %s" % (f, g)) if order == "eastern" else ("%s %s" % (g, f))
        if rng.random() < m["emoji"]:
            display += " " + rng.choice(EMOJI)
        keep_apos = rng.random() < m["apostrophe_keep"]
        fa_l = fa.lower().replace(" ", "")
        fa_l = fa_l if keep_apos else fa_l.replace("'", "")
        base = "%s.%s" % (ga.lower().replace(" ", ""), fa_l)
        local, n = base, 1
        while local in self.locals:
            n += 1
            local = "%s%d" % (base, n)
        self.locals.add(local)
        return g, f, display, local


def _spread_count(rng, mix, navail):
    if navail == 1:
        return 1
    probs = mix["spread"][navail]
    r, acc = rng.random(), 0.0
    for i, p in enumerate(probs):
        acc += p
        if r < acc:
            return i + 1
    return navail


def generate(people, seed, platforms=PLATFORMS, mix="truth", domain="corp.com"):
    """Build an organisation dict (see the module docstring).  Deterministic per arguments."""
    if mix not in MIXES:
        raise ValueError("mix must be one of %s" % ", ".join(sorted(MIXES)))
    platforms = [p for p in PLATFORMS if p in set(platforms)]
    if not platforms:
        raise ValueError("no platforms")
    m = MIXES[mix]
    rng = random.Random("peoplesync-genorg:%d" % seed)
    names = _Names(rng, m)
    label = domain.split(".")[0]
    onms = "%s.onmicrosoft.com" % label
    used_slack = set()
    used_handles = {"slackbot", "peoplesync"}

    slack_team = "T0" + "".join(rng.choice(_SLACK_ALPHABET) for _ in range(7))
    tenant = _uuid(rng)
    webex_org = webex_id("ORGANIZATION", _uuid(rng))
    secrets = {
        "slack_bot_token": "xoxb-%d-%d-%s" % (rng.randint(10 ** 10, 10 ** 11),
                                              rng.randint(10 ** 12, 10 ** 13),
                                              "".join(rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(24))),
        "graph_client_id": _uuid(rng),
        "graph_client_secret": "".join(rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789~._-") for _ in range(40)),
        "graph_refresh_token": "0.A" + "".join(rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") for _ in range(120)),
        "webex_token": "%s_PF84_%s" % ("".join(rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(64)), _uuid(rng)),
    }
    org = {"format": "peoplesync-fake-org/1",
           "generator": {"people": people, "seed": seed, "platforms": platforms, "mix": mix,
                         "domain": domain},
           "domain": domain, "domain_aliases": [[onms, domain]], "secrets": secrets}

    slack_members, graph_users, webex_people, truth = [], [], [], []
    if "slack" in platforms:
        bot_uid = _slack_id(rng, "U", used_slack)
        org["slack"] = {"team_id": slack_team, "team_name": label.capitalize() + " Inc.",
                        "domain": label, "bot_user_id": bot_uid,
                        "bot_id": _slack_id(rng, "B", used_slack),
                        "app_id": _slack_id(rng, "A", used_slack), "members": slack_members}
        slack_members.append(slackbot(slack_team))
        slack_members.append(slack_bot(rng, uid=bot_uid, team_id=slack_team, handle="peoplesync",
                                       real_name="People Sync", bot_id=org["slack"]["bot_id"],
                                       app_id=org["slack"]["app_id"], updated=BASE_EPOCH - 86400 * 30))
    if "teams" in platforms:
        org["teams"] = {"tenant_id": tenant, "tenant_domain": onms,
                        "service_user": {"id": _uuid(rng), "displayName": "People Sync Service",
                                         "userPrincipalName": "peoplesync-svc@%s" % domain,
                                         "mail": "peoplesync-svc@%s" % domain},
                        "users": graph_users}
    if "webex" in platforms:
        org["webex"] = {"org_id": webex_org,
                        "service_person": {"id": webex_id("PEOPLE", _uuid(rng)),
                                           "emails": ["peoplesync-svc@%s" % domain],
                                           "displayName": "People Sync Service"},
                        "people": webex_people}

    prev_locals = []
    first_slack_human = True
    for idx in range(people):
        given, family, display, local = names.person()
        # which platforms
        k = _spread_count(rng, m, len(platforms))
        mine = sorted(rng.sample(platforms, k), key=PLATFORMS.index)
        guest = rng.random() < m["guest"]
        if guest:
            mine = [p for p in mine if p != "webex"] or (
                [p for p in ("slack", "teams") if p in platforms][:1])
            if not mine:          # webex-only org: Webex lists no guests
                guest, mine = False, ["webex"]
        plus = (not guest) and rng.random() < m["plus"] and bool(prev_locals)
        if plus:
            local = "%s+%s" % (rng.choice(prev_locals), rng.choice(PLUS_TAGS))
            while local in names.locals:
                local += rng.choice(PLUS_TAGS)
            names.locals.add(local)
        else:
            prev_locals.append(local)
        home = rng.choice(PARTNER_DOMAINS) if guest else domain
        email = "%s@%s" % (local, home)
        deact = set()
        r = rng.random()
        if r < m["full_deact"]:
            deact = set(mine)
        elif len(mine) >= 2 and r < m["full_deact"] + m["partial_deact"]:
            deact = {rng.choice(mine)}
        varied = set()
        if rng.random() < m["case"]:
            varied = {p for p in mine if rng.random() < 0.6} or {rng.choice(mine)}
        created = BASE_EPOCH - rng.randint(86400 * 30, 86400 * 3000)
        modified = created + rng.randint(0, BASE_EPOCH - created - 3600)
        tz = rng.choice(TIMEZONES)
        accounts = []

        def vis(p, addr=email):
            return case_variant(rng, addr) if p in varied else addr

        for p in mine:
            acc = {"platform": p, "active": p not in deact, "bot": False, "guest": guest,
                   "pending": False}
            if p == "slack":
                uid = _slack_id(rng, "U", used_slack)
                invited = (not guest) and p not in deact and rng.random() < m["slack_invited"]
                ultra = guest and rng.random() < 0.4
                shown = vis(p)
                keep_email = p not in deact or rng.random() < 0.8
                handle = base = local.replace("+", "-").replace("'", "")
                while handle in used_handles:
                    handle = "%s%d" % (base, rng.randint(2, 99))
                used_handles.add(handle)
                dn = rng.choice(["", "", given.lower(), ascii_fold(given).lower(),
                                 display.split(" ")[0]])
                top = None
                if rng.random() < m["realname_differs"]:
                    top = dn or given
                owner = first_slack_human and not guest
                u = slack_human(
                    rng, uid=uid, team_id=slack_team, handle=handle, real_name=display,
                    first=given, last=family, email=shown if keep_email else None,
                    display_name=dn, title=rng.choice(TITLES), tz=tz,
                    updated=modified, deleted=p in deact, restricted=guest and not ultra,
                    ultra_restricted=ultra, invited=invited, admin=owner or rng.random() < 0.03,
                    owner=owner, primary_owner=owner,
                    email_confirmed=not invited and rng.random() < 0.97, top_real_name=top)
                if owner:
                    first_slack_human = False
                slack_members.append(u)
                acc.update(team_id=slack_team, user_id=uid, email=shown if keep_email else None)
                if invited:
                    acc.update(active=False, pending=True)
            elif p == "teams":
                gid = _uuid(rng)
                dname = display if rng.random() >= m["comma_name"] else "%s, %s" % (family, given)
                if guest:
                    shown = vis(p)
                    upn = "%s_%s#EXT#@%s" % (local.replace("'", ""), home, onms)
                    pending_accept = rng.random() < 0.2
                    u = graph_user(rng, uid=gid, display_name=dname, given=given, surname=family,
                                   upn=upn, mail=shown, other_mails=[email],
                                   proxy=["SMTP:" + shown], enabled=p not in deact,
                                   user_type="Guest",
                                   external_state="PendingAcceptance" if pending_accept else "Accepted",
                                   language=None)
                    if pending_accept:
                        acc.update(active=False, pending=True)
                else:
                    r2 = rng.random()
                    upn_local = local.replace("+", ".")
                    if r2 < m["proxy_only"]:
                        # mail is null; the address is only in proxyAddresses
                        shown = vis(p)
                        upn = "e%06d@%s" % (rng.randint(0, 999999), onms)
                        mail, proxy = None, ["SMTP:" + shown, "smtp:" + upn]
                    elif r2 < m["proxy_only"] + m["alias_only"]:
                        # only the tenant's onmicrosoft.com alias is known to Graph
                        shown = vis(p, "%s@%s" % (local, onms))
                        upn = "%s@%s" % (upn_local, onms)
                        mail, proxy = shown, ["SMTP:" + shown]
                    else:
                        shown = vis(p)
                        upn = "%s@%s" % (upn_local, domain)
                        mail = shown
                        proxy = ["SMTP:" + shown, "smtp:%s@%s" % (upn_local, onms)]
                    u = graph_user(rng, uid=gid, display_name=dname, given=given,
                                   surname=family if rng.random() < 0.95 else None, upn=upn,
                                   mail=mail, proxy=proxy, enabled=p not in deact,
                                   job_title=rng.choice(JOB_TITLES), office=rng.choice(OFFICES),
                                   language=rng.choice(["en-US", "en-US", None, "fr-FR", "ja-JP"]),
                                   phones=[] if rng.random() < 0.7 else
                                   ["+1 425 555 %04d" % rng.randint(0, 9999)])
                graph_users.append(u)
                acc.update(team_id=tenant, user_id=gid, email=shown)
            else:  # webex
                pid = webex_id("PEOPLE", _uuid(rng))
                shown = vis(p)
                emails = [shown]
                if rng.random() < m["webex_two"]:
                    emails.append("%s@%s" % (local, onms))
                pending = p not in deact and rng.random() < m["webex_pending"]
                status = ("pending" if pending else
                          "inactive" if p in deact else rng.choice(WEBEX_STATUS))
                u = webex_person(rng, pid=pid, org_id=webex_org, emails=emails,
                                 display_name=display, first=given, last=family,
                                 created=created, modified=modified,
                                 last_activity=None if pending else
                                 BASE_EPOCH - rng.randint(60, 86400 * 90),
                                 status=status, invite_pending=pending,
                                 login_enabled=p not in deact,
                                 as_strings=rng.random() < 0.5, tz=tz[0],
                                 avatar=rng.random() < 0.7)
                webex_people.append(u)
                acc.update(team_id=webex_org, user_id=pid, email=shown)
                if pending:
                    acc.update(active=False, pending=True)
            accounts.append(acc)

        def entry(mail, accts):
            return {"email": mail, "name": display, "guest": guest,
                    "active": any(a["active"] for a in accts),
                    "accounts": [{k2: a[k2] for k2 in ("platform", "team_id", "user_id",
                                                        "email", "active", "bot", "guest",
                                                        "pending")} for a in accts]}
        # An account that shows no address (a deactivated Slack user without
        # profile.email) carries nothing that ties it to this human: no reconciler can
        # attribute it, so the truth lists it as a person of its own.
        known = [a for a in accounts if a.get("email")]
        for a in accounts:
            if not a.get("email") and known:
                truth.append(entry(None, [a]))
        truth.append(entry(email.lower() if known else None, known or accounts))

    # Non-people: bots, app users, deleted bots (Slack); bots and app users (Webex).
    if "slack" in platforms:
        for i in range(max(3, people // m["bots"])):
            handle = BOT_NAMES[i % len(BOT_NAMES)] + ("" if i < len(BOT_NAMES) else str(i))
            slack_members.append(slack_bot(
                rng, uid=_slack_id(rng, "U", used_slack), team_id=slack_team, handle=handle,
                real_name=handle.replace("-", " ").title(), bot_id=_slack_id(rng, "B", used_slack),
                app_id=_slack_id(rng, "A", used_slack), updated=BASE_EPOCH - rng.randint(0, 10 ** 8)))
        for i in range(max(2, people // m["dead_bots"])):
            handle = "old-" + BOT_NAMES[(i * 7) % len(BOT_NAMES)] + str(i)
            slack_members.append(slack_bot(
                rng, uid=_slack_id(rng, "U", used_slack), team_id=slack_team, handle=handle,
                real_name=handle.title(), bot_id=_slack_id(rng, "B", used_slack),
                app_id=_slack_id(rng, "A", used_slack), updated=BASE_EPOCH - rng.randint(0, 10 ** 8),
                deleted=True))
        for i in range(max(1, people // m["apps"])):
            handle = "app-integration-%d" % (i + 1)
            slack_members.append(slack_bot(
                rng, uid=_slack_id(rng, "U", used_slack), team_id=slack_team, handle=handle,
                real_name="Integration %d" % (i + 1), bot_id=None,
                app_id=_slack_id(rng, "A", used_slack), updated=BASE_EPOCH - rng.randint(0, 10 ** 8),
                app_user=True,
                # an app user with a mailbox: must still not count as a person
                email=("svc-integration-%d@%s" % (i + 1, domain)) if i % 2 == 0 else None))
        # users.list returns members ordered by id (as the recorded pages are)
        slack_members.sort(key=lambda u: u["id"])
    if "webex" in platforms:
        for i in range(max(1, people // m["webex_bots"])):
            handle = BOT_NAMES[(i * 3) % len(BOT_NAMES)] + str(i)
            pid = webex_id("PEOPLE", _uuid(rng))
            webex_people.append(webex_person(
                rng, pid=pid, org_id=webex_org, emails=["%s@webex.bot" % handle],
                display_name=handle.title(), first=None, last=None,
                created=BASE_EPOCH - 86400 * 400, modified=BASE_EPOCH - 86400 * 10,
                last_activity=None, status="unknown", ptype="bot",
                as_strings=i % 2 == 0, avatar=False))
        for i in range(max(1, people // m["webex_apps"])):
            pid = webex_id("PEOPLE", _uuid(rng))
            webex_people.append(webex_person(
                rng, pid=pid, org_id=webex_org,
                emails=["%s@appid.ciscospark.com" % _uuid(rng)],
                display_name="Guest %d" % (i + 1), first=None, last=None,
                created=BASE_EPOCH - 86400 * 200, modified=BASE_EPOCH - 86400 * 5,
                last_activity=BASE_EPOCH - 86400, status="active", ptype="appuser",
                as_strings=i % 2 == 1, avatar=False))
        webex_people.sort(key=lambda p: p["id"])
    if "teams" in platforms:
        graph_users.sort(key=lambda u: u["id"])

    org["truth"] = truth
    org["people"] = truth          # same list: "people" is an alias kept for readers
    return org


def new_account(org, platform, *, email, name, seed=0, used_ids=(), uid=None):
    """Build one new, active account object for `platform` in `org` (the control op "add").

    used_ids: ids already taken (Slack ids are drawn at random and must not collide).
    Further changes (deactivation, guest flags...) are applied by the caller."""
    rng = random.Random("peoplesync-add:%s:%s:%d" % (platform, email, seed))
    flags = {"id": uid}
    parts = name.split(" ", 1)
    given, family = parts[0], (parts[1] if len(parts) > 1 else "")
    now = BASE_EPOCH + 3600
    if platform == "slack":
        s = org["slack"]
        uid = flags.get("id") or _slack_id(rng, "U", set(used_ids))
        return slack_human(rng, uid=uid, team_id=s["team_id"], handle=email.split("@")[0],
                           real_name=name, first=given, last=family, email=email,
                           tz=TIMEZONES[0], updated=now)
    if platform == "teams":
        uid = flags.get("id") or _uuid(rng)
        return graph_user(rng, uid=uid, display_name=name, given=given, surname=family or None,
                          upn=email.replace("+", "."), mail=email, proxy=["SMTP:" + email])
    if platform == "webex":
        w = org["webex"]
        pid = flags.get("id") or webex_id("PEOPLE", _uuid(rng))
        return webex_person(rng, pid=pid, org_id=w["org_id"], emails=[email],
                            display_name=name, first=given, last=family or None, created=now,
                            modified=now, last_activity=now, status="active")
    raise ValueError("unknown platform %r" % platform)


def write_org(org, path):
    """Write org.json atomically (temp file + rename), UTF-8, compact."""
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(org, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    os.replace(tmp, path)


def summary(org):
    t = org["truth"]
    out = {"people": len(t), "active_people": sum(1 for p in t if p["active"]),
           "guests": sum(1 for p in t if p["guest"])}
    if "slack" in org:
        out["slack_members"] = len(org["slack"]["members"])
    if "teams" in org:
        out["graph_users"] = len(org["teams"]["users"])
    if "webex" in org:
        out["webex_people"] = len(org["webex"]["people"])
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description="Generate a synthetic organisation for the fakes.")
    ap.add_argument("--people", type=int, required=True, help="number of humans")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--platforms", default="slack,teams,webex",
                    help="comma-separated subset of slack,teams,webex (default: all three)")
    ap.add_argument("--mix", choices=sorted(MIXES), default="truth")
    ap.add_argument("--domain", default="corp.com")
    ap.add_argument("-o", "--output", required=True, help="org.json to write ('-' = stdout)")
    a = ap.parse_args(argv)
    plats = [p.strip() for p in a.platforms.split(",") if p.strip()]
    bad = [p for p in plats if p not in PLATFORMS]
    if bad or not plats or a.people < 0:
        ap.error("bad --platforms %r or --people" % a.platforms)
    org = generate(a.people, a.seed, plats, a.mix, a.domain)
    if a.output == "-":
        json.dump(org, sys.stdout, ensure_ascii=False, separators=(",", ":"))
        sys.stdout.write("\n")
    else:
        write_org(org, a.output)
        print(json.dumps(summary(org)), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
