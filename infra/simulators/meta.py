"""The Meta Graph API (Marketing API v25.0) and Facebook Login, offline.

Login: GET /v25.0/dialog/oauth consents at once and redirects to redirect_uri with a code
and the state, as Facebook does after the user clicks Continue; /v25.0/oauth/access_token
exchanges the code, and (grant_type=fb_exchange_token) for a long-lived token.
Graph: /me, /me/permissions, /me/adaccounts, /me/accounts (pages, with a Page token when
fields asks for access_token), /{page}/posts (six posts with reactions, comments, shares);
/act_{id}/{campaigns,adsets,adimages,advideos,adcreatives,ads} (POST creates);
POST /{object id} updates (status, budgets); /act_{id}/insights (GET, or POST for an async
report run, then GET /{run id} and /{run id}/insights) with level=campaign, time_range (or
time_ranges for each campaign's reach and frequency per window),
time_increment=1, breakdowns (publisher_platform,platform_position | age,gender | region |
hourly_stats_aggregated_by_advertiser_time_zone), cursor paging. Every answer carries
X-Business-Use-Case-Usage, X-Ad-Account-Usage and X-FB-Ads-Insights-Throttle.

Insights are plausible and deterministic (level=ad splits each campaign's day across its
delivering ads by fixed shares): active campaigns accrue impressions, clicks,
spend (in the account currency, as strings) and actions/action_values per day from their
launch day, split across breakdowns so the parts add up to the totals.

Ad accounts bill in INR (act_1234567890), USD (act_3456789012) and JPY (act_4567890123);
budgets arrive in each currency's minor units by Meta's offset table (INR and USD ×100,
JPY ×1) and spend comes back in the account currency. GET /act_{id}/{edge} lists objects
with Meta's `filtering` ([{"field","operator": CONTAIN|EQUAL|IN,"value"}]) so a client can
find its own by a tag in the name; /act_{id}/minimum_budgets gives the account's minimum
daily budgets, /act_{id}/delivery_estimate an audience size and outcomes curve, and
/act_{id}/adspixels each account's pixel; an ad set optimised for conversions or installs
needs its promoted_object, and /{video id}/thumbnails gives a video's thumbnail. GET /_sim/objects lists every object with its status history (tests). Ads
are reviewed when switched on: a creative whose text contains #disapprove is DISAPPROVED
with ad_review_feedback, the rest ACTIVE.

Switches: POST /_sim/fail {"path": "/v25.0/act_", "status": 400, "body": {"error": {...,
"code": 17}}, "times": 2}; POST /_sim/deny {"permission": "ads_management"} makes the next
logins decline it; POST /_sim/usage {"pct": 95} raises the reported utilisation.

Scenarios (deterministic, for the optimizer's tests): POST /_sim/scenario with "campaign"
(a Meta campaign id, or text its name contains) shapes that campaign's days —
"started_days_ago": N (it delivered from N days before today), "impressions_per_day",
and "roas", "ctr", "frequency" each a number or [first day, today] moving in a straight
line — and "learning_stage" (LEARNING | SUCCESS | FAIL) sets its active ad set's
learning_stage_info. With "ad" (an ad id or name text) instead, "ctr_factor" [first,
today] scales that ad's CTR day by day (a creative tiring). Budgets written to an ad set
are kept in its "budget_history".
"""
import base64
import hashlib
import json
import secrets
import threading
import time
import urllib.parse
from datetime import date, datetime, timedelta, timezone

from .base import Simulator

VERSION = "v25.0"
SCOPES = ["ads_management", "ads_read", "business_management", "pages_read_engagement", "public_profile"]
PAGE_ID = "104857600012345"
PAGE_POSTS = [
    ("Fresh ginger chai, brewed the slow way. Come in from the rain #chai #monsoon", 210, 18, 9),
    ("Weekend special: masala chai and bun maska for ₹99 #chai #weekend", 340, 41, 22),
    ("Meet Ravi, our chai master for 12 years #team", 120, 9, 2),
    ("New outlet open in Koramangala! #bengaluru #chai", 560, 73, 40),
    ("Cutting chai, done right.", 95, 4, 1),
    ("Thank you for 10,000 reviews ❤️ #chai", 410, 55, 12),
]
PLACEMENTS = [("facebook", "feed", 0.38), ("instagram", "stream", 0.30), ("instagram", "story", 0.17),
              ("facebook", "video_feeds", 0.09), ("audience_network", "classic", 0.06)]
AGES = ["18-24", "25-34", "35-44", "45-54", "55-64", "65+"]
AGE_SHARE = [0.18, 0.34, 0.24, 0.13, 0.07, 0.04]
GENDERS = [("female", 0.47), ("male", 0.50), ("unknown", 0.03)]
REGIONS = [("Maharashtra", 0.24), ("Karnataka", 0.19), ("Delhi", 0.16), ("Tamil Nadu", 0.14),
           ("Telangana", 0.11), ("Gujarat", 0.09), ("West Bengal", 0.07)]
HOUR_SHAPE = [0.6, 0.4, 0.3, 0.25, 0.3, 0.5, 0.9, 1.3, 1.6, 1.7, 1.6, 1.5,
              1.5, 1.4, 1.3, 1.3, 1.4, 1.6, 1.9, 2.1, 2.0, 1.7, 1.2, 0.9]
PURCHASE_ACTIONS = ["offsite_conversion.fb_pixel_purchase", "omni_purchase", "purchase"]
# Monthly active people per country the simulated audiences are sized from.
POPULATION = {"IN": 380_000_000, "US": 240_000_000, "JP": 60_000_000, "LK": 8_000_000}
# Meta's currency offsets (minor units per unit) for the simulated accounts' currencies.
OFFSETS = {"INR": 100, "USD": 100, "JPY": 1}
# Minimum daily budgets per currency, in minor units, as /act_{id}/minimum_budgets gives them.
MINIMUM_BUDGETS = {
    "INR": {"min_daily_budget_imp": 8900, "min_daily_budget_high_freq": 44100,
            "min_daily_budget_low_freq": 88000, "min_daily_budget_video_views": 44100},
    "USD": {"min_daily_budget_imp": 100, "min_daily_budget_high_freq": 500,
            "min_daily_budget_low_freq": 1000, "min_daily_budget_video_views": 500},
    "JPY": {"min_daily_budget_imp": 120, "min_daily_budget_high_freq": 600,
            "min_daily_budget_low_freq": 1500, "min_daily_budget_video_views": 600},
}


def matches(row, f):
    """One of Meta's `filtering` conditions against an object's fields."""
    value, op, want = str(row.get(f.get("field"), "")), f.get("operator"), f.get("value")
    if op == "CONTAIN":
        return str(want) in value
    if op == "EQUAL":
        return value == str(want)
    if op == "IN":
        return value in [str(w) for w in (want or [])]
    return True


def token(prefix="EAAG"):
    return prefix + secrets.token_urlsafe(120).replace("-", "").replace("_", "")[:160]


def unit(*parts):
    """A deterministic number in [0, 1) for these parts."""
    d = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(d[:8], "big") / 2 ** 64


class Meta(Simulator):
    def __init__(self, app_id, app_secret, **kw):
        super().__init__(**kw)
        self.app_id, self.app_secret = app_id, app_secret
        self.codes, self.tokens = {}, {}
        self.denied = set()
        self.usage_pct = 4
        self.next_id = 23850000000000000 + int(time.time()) % 1000000 * 1000
        self.objects = {}
        self.reports = {}
        self.scenarios = {}  # Meta object id -> its scenario
        self.ad_accounts = [
            {"id": "act_1234567890", "account_id": "1234567890", "name": "Chai Point Ads", "account_status": 1,
             "currency": "INR", "timezone_name": "Asia/Kolkata", "timezone_offset_hours_utc": 5.5},
            {"id": "act_2345678901", "account_id": "2345678901", "name": "Chai Point (old)", "account_status": 2,
             "currency": "INR", "timezone_name": "Asia/Kolkata", "timezone_offset_hours_utc": 5.5},
            {"id": "act_3456789012", "account_id": "3456789012", "name": "Chai Point US", "account_status": 1,
             "currency": "USD", "timezone_name": "America/Los_Angeles", "timezone_offset_hours_utc": -8},
            {"id": "act_4567890123", "account_id": "4567890123", "name": "Chai Point Japan", "account_status": 1,
             "currency": "JPY", "timezone_name": "Asia/Tokyo", "timezone_offset_hours_utc": 9},
        ]

    # --- plumbing ---------------------------------------------------------------------------

    def error_body(self, status, message, code=None, subcode=None, kind="OAuthException"):
        err = {"message": message, "type": kind, "code": code if code is not None else (2 if status >= 500 else 100),
               "fbtrace_id": secrets.token_urlsafe(8)}
        if subcode:
            err["error_subcode"] = subcode
        return {"error": err}

    def usage_headers(self, account=None):
        pct = self.usage_pct
        headers = {"x-business-use-case-usage": json.dumps({"1098765432": [{
            "type": "ads_management", "call_count": pct, "total_cputime": max(1, pct // 2), "total_time": pct,
            "estimated_time_to_regain_access": 0 if pct < 100 else 5, "ads_api_access_tier": "standard_access"}]})}
        if account:
            headers["x-ad-account-usage"] = json.dumps({"acc_id_util_pct": pct, "reset_time_duration": 0,
                                                        "ads_api_access_tier": "standard_access"})
            headers["x-fb-ads-insights-throttle"] = json.dumps({"app_id_util_pct": pct, "acc_id_util_pct": pct,
                                                                "ads_api_access_tier": "standard_access"})
        return headers

    def ok(self, h, doc, account=None):
        h.reply(200, doc, headers=self.usage_headers(account))

    def fail(self, h, status, message, code=None, subcode=None):
        h.reply(status, self.error_body(status, message, code, subcode))

    def new_id(self):
        with self.lock:
            self.next_id += 1
            return str(self.next_id)

    def caller(self, h, query, body):
        auth = h.headers.get("authorization") or ""
        tok = auth.split(" ", 1)[1] if " " in auth else (query.get("access_token") or (body or {}).get("access_token"))
        return self.tokens.get(tok)

    def route(self, h, method, path, query, body):
        if path == "/_sim/deny" and method == "POST":
            self.denied = {body.get("permission")} if body.get("permission") else set()
            return h.reply(200, {"denied": sorted(self.denied)})
        if path == "/_sim/usage" and method == "POST":
            self.usage_pct = int(body.get("pct", 4))
            return h.reply(200, {"pct": self.usage_pct})
        if path == "/_sim/scenario" and method == "POST":
            return self.set_scenario(h, body or {})
        if path == "/_sim/objects" and method == "GET":
            return h.reply(200, {"data": [dict(o, fields=o["fields"]) for o in self.objects.values()]})
        if path == "/_sim/expire-tokens" and method == "POST":
            for t in self.tokens.values():
                t["expired"] = True
            return h.reply(200, {"expired": len(self.tokens)})
        if not path.startswith(f"/{VERSION}/"):
            return self.fail(h, 400, "Unknown path components: " + path, 2500)
        parts = [p for p in path[len(VERSION) + 2:].split("/") if p]
        if parts == ["dialog", "oauth"]:
            return self.dialog(h, query)
        if parts == ["oauth", "access_token"]:
            return self.access_token(h, query)
        user = self.caller(h, query, body)
        if user is None:
            return self.fail(h, 400, "Invalid OAuth access token - Cannot parse access token", 190)
        if user.get("revoked"):
            return self.fail(h, 400, "Error validating access token: The user has not authorized application.", 190, 458)
        if user.get("expired"):
            return self.fail(h, 400, "Error validating access token: Session has expired.", 190, 463)
        if parts == ["me"]:
            return self.ok(h, {"id": user["id"], "name": user["name"]})
        if parts == ["me", "permissions"] and method == "DELETE":
            user["revoked"] = True
            return self.ok(h, {"success": True})
        if parts == ["me", "permissions"]:
            return self.ok(h, {"data": [{"permission": p, "status": "declined" if p in user["denied"] else "granted"}
                                        for p in SCOPES]})
        if parts == ["me", "adaccounts"]:
            return self.page(h, query, self.ad_accounts)
        if parts == ["me", "accounts"]:
            page = {"id": PAGE_ID, "name": "Chai Point", "category": "Restaurant",
                    "tasks": ["ADVERTISE", "ANALYZE", "CREATE_CONTENT", "MANAGE"]}
            if "access_token" in query.get("fields", ""):
                page_token = f"PAGE-{PAGE_ID}-{user['id']}"
                self.tokens[page_token] = user
                page["access_token"] = page_token
            return self.ok(h, {"data": [page]})
        if parts == [PAGE_ID, "posts"]:
            if "pages_read_engagement" in user["denied"]:
                return self.fail(h, 403, "(#10) This endpoint requires the 'pages_read_engagement' permission", 10)
            day = 86400
            now = int(time.time()) // day * day
            posts = [{"id": f"{PAGE_ID}_{i}", "message": m,
                      "created_time": time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(now - (i * 3 + 1) * day)),
                      "reactions": {"data": [], "summary": {"total_count": r}},
                      "comments": {"data": [], "summary": {"total_count": c}}, "shares": {"count": sh}}
                     for i, (m, r, c, sh) in enumerate(PAGE_POSTS)]
            return self.page(h, query, posts)
        if parts and parts[0].startswith("act_"):
            return self.account(h, method, parts, query, body or {})
        if len(parts) == 2 and parts[1] == "insights" and parts[0] in self.reports:
            return self.page(h, query, self.reports[parts[0]]["rows"])
        if len(parts) == 1 and parts[0] in self.reports and method == "GET":
            r = self.reports[parts[0]]
            return self.ok(h, {"id": parts[0], "account_id": r["account"], "async_status": "Job Completed",
                               "async_percent_completion": 100, "date_start": r["since"], "date_stop": r["until"]})
        if len(parts) == 2 and parts[1] == "thumbnails" and self.objects.get(parts[0], {}).get("kind") == "advideo":
            uri = f"https://scontent.example/{parts[0]}/thumb.jpg"
            return self.ok(h, {"data": [{"id": parts[0] + "1", "uri": uri, "is_preferred": True,
                                         "width": 1280, "height": 720}]})
        if len(parts) == 1 and parts[0] in self.objects:
            return self.object(h, method, parts[0], body or {})
        return self.fail(h, 400, f"Unsupported {method.lower()} request. Object with ID '{parts[0] if parts else ''}' "
                                 "does not exist, cannot be loaded due to missing permissions, or does not support "
                                 "this operation", 100, 33)

    # --- login ------------------------------------------------------------------------------

    def dialog(self, h, query):
        if query.get("client_id") != self.app_id:
            return self.fail(h, 400, "Invalid App ID: " + str(query.get("client_id")), 101)
        redirect = query.get("redirect_uri")
        if not redirect:
            return self.fail(h, 400, "Missing redirect_uri parameter.", 191)
        code = "AQ" + secrets.token_urlsafe(48)
        self.codes[code] = {"redirect_uri": redirect, "scope": query.get("scope", "")}
        sep = "&" if "?" in redirect else "?"
        location = redirect + sep + urllib.parse.urlencode({"code": code, "state": query.get("state", "")}) + "#_=_"
        h.reply(302, raw=b"", content_type="text/html", headers={"location": location})

    def access_token(self, h, query):
        if query.get("client_id") != self.app_id or query.get("client_secret") != self.app_secret:
            return self.fail(h, 400, "Error validating client secret.", 1)
        if query.get("grant_type") == "fb_exchange_token":
            short = self.tokens.get(query.get("fb_exchange_token"))
            if short is None:
                return self.fail(h, 400, "Invalid OAuth access token.", 190)
            long_token = token()
            self.tokens[long_token] = dict(short, long_lived=True)
            return h.reply(200, {"access_token": long_token, "token_type": "bearer", "expires_in": 5183944})
        grant = self.codes.pop(query.get("code"), None)
        if grant is None:
            return self.fail(h, 400, "This authorization code has been used.", 100, 36009)
        if grant["redirect_uri"] != query.get("redirect_uri"):
            return self.fail(h, 400, "Error validating verification code. Please make sure your redirect_uri is "
                                     "identical to the one you used in the OAuth dialog request", 100, 36008)
        short_token = token()
        self.tokens[short_token] = {"id": "10160000000000001", "name": "Asha Rao", "denied": set(self.denied)}
        h.reply(200, {"access_token": short_token, "token_type": "bearer", "expires_in": 5400})

    # --- ads --------------------------------------------------------------------------------

    def account(self, h, method, parts, query, body):
        act = parts[0]
        if act not in {a["id"] for a in self.ad_accounts}:
            return self.fail(h, 400, f"Unsupported request. Object with ID '{act}' does not exist", 100, 33)
        edge = parts[1] if len(parts) > 1 else ""
        if edge == "insights":
            return self.insights(h, method, act, query if method == "GET" else body)
        if edge == "adspixels" and method == "GET":
            account = next(a for a in self.ad_accounts if a["id"] == act)
            return self.ok(h, {"data": [{"id": "11" + account["account_id"], "name": f"{account['name']} pixel"}]}, act)
        if edge == "delivery_estimate" and method == "GET":
            return self.delivery_estimate(h, act, query)
        if edge == "minimum_budgets" and method == "GET":
            currency = self.currency_of(act)
            return self.ok(h, {"data": [dict(MINIMUM_BUDGETS[currency], currency=currency)]}, act)
        if method != "POST":
            try:
                filters = json.loads(query.get("filtering") or "[]")
            except ValueError:
                return self.fail(h, 400, "(#100) filtering must be a JSON array", 100)
            rows = [self.view(o) for o in self.objects.values() if o.get("account") == act
                    and o["kind"] + "s" == edge and o["status"] != "DELETED"]
            return self.page(h, query, [r for r in rows if all(matches(r, f) for f in filters)], act)
        required = {"campaigns": ["name", "objective", "special_ad_categories"],
                    "adsets": ["name", "campaign_id", "targeting", "billing_event", "optimization_goal"],
                    "adcreatives": ["object_story_spec"], "ads": ["name", "adset_id", "creative"],
                    "adimages": ["bytes"], "advideos": ["file_url"]}.get(edge)
        if required is None:
            return self.fail(h, 400, f"Unknown edge {edge}", 100)
        missing = [f for f in required if f not in body]
        if missing:
            return self.fail(h, 400, f"(#100) The parameter {missing[0]} is required", 100)
        if edge == "adimages":
            digest = hashlib.md5(base64.b64decode(body["bytes"])).hexdigest()
            return self.ok(h, {"images": {"bytes": {"hash": digest, "url": f"https://scontent.example/{digest}.png"}}}, act)
        if edge == "adsets" and "daily_budget" not in body and "lifetime_budget" not in body:
            return self.fail(h, 400, "(#100) Either daily_budget or lifetime_budget must be set", 100, 1885272)
        if edge == "adsets" and body.get("optimization_goal") in ("OFFSITE_CONVERSIONS", "APP_INSTALLS") \
                and "promoted_object" not in body:
            return self.fail(h, 400, "(#100) promoted_object is required for this optimization goal", 100, 1885014)
        if edge == "adsets" and body["campaign_id"] not in self.objects:
            return self.fail(h, 400, "(#100) Param campaign_id must be a valid campaign", 100)
        oid = self.new_id()
        obj = {"id": oid, "kind": edge[:-1], "account": act, "fields": dict(body),
               "status": body.get("status", "ACTIVE"), "history": [body.get("status", "ACTIVE")],
               "created": time.time()}
        self.objects[oid] = obj
        if edge == "adcreatives":
            return self.ok(h, {"id": oid}, act)
        return self.ok(h, {"id": oid} if edge != "ads" else {"id": oid, "success": True}, act)

    def delivery_estimate(self, h, act, query):
        """An audience sized from the targeting (countries, ages, genders) and a daily
        outcomes curve (spend in minor units → reach, impressions, results) that
        saturates as spend grows."""
        try:
            spec = json.loads(query.get("targeting_spec") or "{}")
        except ValueError:
            return self.fail(h, 400, "(#100) targeting_spec must be JSON", 100)
        if not (spec.get("geo_locations") or {}).get("countries"):
            return self.fail(h, 400, "(#100) Targeting spec must include geo_locations", 100, 1487756)
        people = sum(POPULATION.get(c, 5_000_000) for c in spec["geo_locations"]["countries"])
        ages = (min(spec.get("age_max", 65), 65) - max(spec.get("age_min", 18), 18) + 1) / 48
        people = int(people * max(ages, 0.02) * (0.5 if len(spec.get("genders") or [1, 2]) == 1 else 1.0))
        offset = OFFSETS.get(self.currency_of(act), 100)
        curve = []
        per_unit = 110 if offset == 100 else 1  # impressions a currency unit buys (a yen buys few)
        for units in (0, 5, 20, 50, 100, 500, 2000, 10000, 100000):
            impressions = int(units * per_unit / (1 + units / 20000))
            reach = min(int(impressions * 0.72), people)
            curve.append({"spend": units * offset, "reach": reach, "impressions": impressions,
                          "actions": round(impressions * 0.011, 1)})
        return self.ok(h, {"data": [{"estimate_ready": True, "estimate_dau": people // 3,
                                     "estimate_mau_lower_bound": int(people * 0.85),
                                     "estimate_mau_upper_bound": int(people * 1.15),
                                     "daily_outcomes_curve": curve}]}, act)

    def local_now(self, act):
        offset = next((a.get("timezone_offset_hours_utc", 0) for a in self.ad_accounts if a["id"] == act), 0)
        return datetime.now(timezone.utc) + timedelta(hours=offset)

    def currency_of(self, act):
        return next((a["currency"] for a in self.ad_accounts if a["id"] == act), "INR")

    def view(self, obj):
        """An object as the Graph API shows it: its fields, id and statuses. An ad belongs
        to its ad set's campaign; once switched on it is reviewed: one whose creative's text
        says #disapprove is DISAPPROVED with Meta's ad_review_feedback."""
        out = dict(obj["fields"], id=obj["id"], status=obj["status"], effective_status=obj["status"])
        if obj["kind"] == "adset" and obj["status"] == "ACTIVE":
            stage = self.scenarios.get(obj["fields"].get("campaign_id"), {}).get("learning_stage")
            if stage:
                out["learning_stage_info"] = {"status": stage, "conversions": 12 if stage == "LEARNING" else 64,
                                              "last_sig_edit_ts": int(obj.get("created", time.time())),
                                              "attribution_windows": ["1d_view", "7d_click"]}
        if obj["kind"] == "ad":
            adset = self.objects.get(obj["fields"].get("adset_id"), {})
            out["campaign_id"] = adset.get("fields", {}).get("campaign_id")
            if obj["status"] == "ACTIVE" and "#disapprove" in self.creative_text(obj):
                out["effective_status"] = "DISAPPROVED"
                out["ad_review_feedback"] = {"global": {
                    "Unrealistic Outcomes": "Ads can't promise results that are unlikely or impossible."}}
        return out

    def creative_text(self, ad):
        try:
            creative = self.objects[json.loads(ad["fields"]["creative"])["creative_id"]]
            return creative["fields"].get("object_story_spec", "")
        except (KeyError, ValueError, TypeError):
            return ""

    def object(self, h, method, oid, body):
        obj = self.objects[oid]
        if method == "GET":
            return self.ok(h, self.view(obj))
        if method == "DELETE":
            obj["status"] = "DELETED"
            return self.ok(h, {"success": True})
        status = body.get("status")
        if status:
            if status not in ("ACTIVE", "PAUSED", "ARCHIVED", "DELETED"):
                return self.fail(h, 400, f"(#100) status must be one of ACTIVE, PAUSED, ARCHIVED, DELETED", 100)
            if obj["status"] == "ARCHIVED" and status != "DELETED":
                return self.fail(h, 400, "(#100) An archived object can only be deleted", 100, 1815694)
            obj["status"] = status
            obj.setdefault("history", []).append(status)
            if status == "ACTIVE" and obj["kind"] == "campaign" and "activated" not in obj:
                obj["activated"] = self.local_now(obj["account"]).date().isoformat()
        if "targeting" in body:
            try:
                targeting = json.loads(body["targeting"]) if isinstance(body["targeting"], str) else body["targeting"]
            except ValueError:
                targeting = None
            if not isinstance(targeting, dict):
                return self.fail(h, 400, "(#100) targeting must be a JSON object", 100)
            automation = (targeting.get("targeting_automation") or {}).get("advantage_audience")
            if automation not in (None, 0, 1):
                return self.fail(h, 400, "(#100) targeting_automation.advantage_audience must be 0 or 1", 100)
        for field in ("daily_budget", "lifetime_budget", "name", "end_time", "targeting", "title"):
            if field in body:
                obj["fields"][field] = body[field]
        if "daily_budget" in body:
            obj.setdefault("budget_history", []).append(str(body["daily_budget"]))
        self.ok(h, {"success": True}, obj["account"])

    # --- scenarios --------------------------------------------------------------------------

    def find(self, kind, ref):
        return next((o for o in self.objects.values() if o["kind"] == kind
                     and (o["id"] == ref or ref in (o["fields"].get("name") or ""))), None)

    def set_scenario(self, h, body):
        kind, ref = ("ad", body.get("ad")) if body.get("ad") else ("campaign", body.get("campaign"))
        obj = self.find(kind, str(ref or ""))
        if obj is None:
            return h.reply(404, {"error": f"no {kind} matches {ref!r}"})
        scenario = self.scenarios.setdefault(obj["id"], {})
        for key in ("impressions_per_day", "roas", "ctr", "frequency", "learning_stage", "ctr_factor"):
            if key in body:
                scenario[key] = body[key]
        if "started_days_ago" in body and kind == "campaign":
            today = self.local_now(obj["account"]).date()
            obj["activated"] = (today - timedelta(days=int(body["started_days_ago"]))).isoformat()
        return h.reply(200, {"id": obj["id"], "scenario": scenario, "activated": obj.get("activated")})

    def progress(self, obj, day):
        """How far `day` is from the campaign's first day (0) to today (1)."""
        first = date.fromisoformat(obj.get("activated") or day.isoformat())
        today = self.local_now(obj["account"]).date()
        span = (today - first).days
        return 1.0 if span <= 0 else min(max((day - first).days / span, 0.0), 1.0)

    @staticmethod
    def along(value, p):
        """A scenario figure on a day: a constant, or [first, last] in a straight line."""
        if isinstance(value, (list, tuple)):
            return float(value[0]) + (float(value[1]) - float(value[0])) * p
        return float(value)

    # --- insights ---------------------------------------------------------------------------

    def page(self, h, query, rows, account=None):
        limit = int(query.get("limit", 25))
        start = int(base64.b64decode(query["after"]).decode()) if query.get("after") else 0
        chunk = rows[start:start + limit]
        doc = {"data": chunk}
        if rows:
            doc["paging"] = {"cursors": {"before": base64.b64encode(str(start).encode()).decode(),
                                         "after": base64.b64encode(str(start + len(chunk)).encode()).decode()}}
            if start + limit < len(rows):
                q = dict(query, after=base64.b64encode(str(start + limit).encode()).decode())
                q.pop("access_token", None)
                doc["paging"]["next"] = f"{self.url}{h.path.split('?')[0]}?{urllib.parse.urlencode(q)}"
        self.ok(h, doc, account)

    def insights(self, h, method, act, params):
        level = params.get("level", "campaign")
        if "time_ranges" in params:
            return self.reach_windows(h, act, params)
        if level not in ("campaign", "ad"):
            return self.fail(h, 400, "(#100) this simulator serves level=campaign and level=ad", 100)
        try:
            rng = json.loads(params["time_range"]) if "time_range" in params else None
            since = date.fromisoformat(rng["since"]) if rng else date.today() - timedelta(days=6)
            until = date.fromisoformat(rng["until"]) if rng else date.today()
        except (KeyError, ValueError, TypeError):
            return self.fail(h, 400, "(#100) time_range must be {'since':'YYYY-MM-DD','until':'YYYY-MM-DD'}", 100)
        if (until - since).days > 37 * 31:
            return self.fail(h, 400, "(#3018) The start date of the time range cannot be beyond 37 months", 3018)
        breakdowns = [b for b in (params.get("breakdowns") or "").split(",") if b]
        rows = self.rows(act, since, until, breakdowns)
        if level == "ad":
            rows = [r for row in rows for r in self.by_ad(row)]
        if method == "POST":
            run = self.new_id()
            self.reports[run] = {"rows": rows, "account": act[4:], "since": since.isoformat(), "until": until.isoformat()}
            return self.ok(h, {"report_run_id": run}, act)
        self.page(h, params, rows, act)

    def reach_windows(self, h, act, params):
        """`time_ranges`: one row per campaign and range, its people counted once per range
        (here: the days' impressions over the scenario's frequency on those days)."""
        if params.get("level", "campaign") != "campaign":
            return self.fail(h, 400, "(#100) this simulator serves time_ranges at level=campaign", 100)
        try:
            ranges = [(date.fromisoformat(r["since"]), date.fromisoformat(r["until"]))
                      for r in json.loads(params["time_ranges"])]
        except (KeyError, ValueError, TypeError):
            return self.fail(h, 400, "(#100) time_ranges must be [{'since':'YYYY-MM-DD','until':'YYYY-MM-DD'}, ...]", 100)
        if len(ranges) > 37:
            return self.fail(h, 400, "(#100) at most 37 time ranges", 100)
        out = []
        for since, until in ranges:
            by_campaign = {}
            for row in self.rows(act, since, until, []):
                seen = by_campaign.setdefault(row["campaign_id"], [0, 0])
                seen[0] += int(row["impressions"])
                seen[1] += int(row["reach"])
            for campaign, (impressions, reach) in by_campaign.items():
                out.append({"campaign_id": campaign, "impressions": str(impressions), "reach": str(reach),
                            "frequency": f"{impressions / reach:.4f}" if reach else "0",
                            "date_start": since.isoformat(), "date_stop": until.isoformat()})
        self.page(h, params, out, act)

    def rows(self, act, since, until, breakdowns):
        """Days and hours are the ad account's, by its time zone offset, as Meta reports them."""
        out = []
        local_now = self.local_now(act)
        today, now_hour = local_now.date(), local_now.hour
        for obj in self.objects.values():
            if obj["kind"] != "campaign" or obj["account"] != act or "activated" not in obj:
                continue
            start = max(since, date.fromisoformat(obj["activated"]))
            day = start
            while day <= min(until, today):
                hours = now_hour + 1 if day == today else 24
                for parts in self.split(breakdowns, hours):
                    out.append(self.row(obj, day, parts, hours))
                day += timedelta(days=1)
        return out

    def by_ad(self, row):
        """A campaign's row split across its delivering ads, deterministically (each ad's
        share is fixed by its id, so some creatives do better than others)."""
        ads = [o for o in self.objects.values() if o["kind"] == "ad"
               and self.view(o).get("campaign_id") == row["campaign_id"]
               and self.view(o)["effective_status"] == "ACTIVE"]
        weights = [0.5 + unit(a["id"], "share") for a in ads]
        out = []
        for ad, w in zip(ads, weights):
            share = w / sum(weights)
            ctr_tilt = 0.6 + 0.8 * unit(ad["id"], "ctr")
            factor = self.scenarios.get(ad["id"], {}).get("ctr_factor")
            if factor is not None:
                campaign = self.objects.get(row["campaign_id"], {"account": ad["account"]})
                ctr_tilt = self.along(factor, self.progress(campaign, date.fromisoformat(row["date_start"])))
            impressions = int(int(row["impressions"]) * share)
            clicks = min(impressions, int(int(row["clicks"]) * share * ctr_tilt))
            r = dict(row, ad_id=ad["id"], ad_name=ad["fields"].get("name", ""),
                     impressions=str(impressions), clicks=str(clicks),
                     spend=f"{float(row['spend']) * share:.2f}", reach=str(int(impressions * 0.7)))
            r["actions"] = [dict(a, value=str(int(int(a["value"]) * share * ctr_tilt))) for a in row["actions"]]
            if "action_values" in row:
                r["action_values"] = [dict(a, value=f"{float(a['value']) * share * ctr_tilt:.2f}")
                                      for a in row["action_values"]]
            out.append(r)
        return out

    def split(self, breakdowns, hours):
        key = ",".join(breakdowns)
        if not key:
            return [({}, 1.0)]
        if key == "publisher_platform,platform_position":
            return [({"publisher_platform": p, "platform_position": pos}, s) for p, pos, s in PLACEMENTS]
        if key == "age,gender":
            return [({"age": a, "gender": g}, sa * sg) for a, sa in zip(AGES, AGE_SHARE) for g, sg in GENDERS]
        if key == "region":
            return [({"region": r}, s) for r, s in REGIONS]
        if key == "hourly_stats_aggregated_by_advertiser_time_zone":
            total = sum(HOUR_SHAPE[:hours])
            return [({"hourly_stats_aggregated_by_advertiser_time_zone": f"{hr:02d}:00:00 - {hr:02d}:59:59"},
                     HOUR_SHAPE[hr] / total) for hr in range(hours)]
        raise ValueError(key)

    def row(self, obj, day, parts, hours):
        (dims, share) = parts
        seed = (obj["id"], day.isoformat())
        currency = self.currency_of(obj["account"])
        scenario = self.scenarios.get(obj["id"], {})
        p = self.progress(obj, day)
        budget = int(obj_budget(self, obj)) / OFFSETS.get(currency, 100) or 1000.0
        day_share = hours / 24
        cpm_factor = 90 + 40 * unit(*seed, "cpm")
        if "impressions_per_day" in scenario:
            impressions = int(float(scenario["impressions_per_day"]) * day_share * share)
            spend = round(impressions / cpm_factor, 2)
        else:
            spend = round(budget * (0.75 + 0.2 * unit(*seed, "spend")) * day_share * share, 2)
            impressions = int(spend * cpm_factor)
        ctr = self.along(scenario["ctr"], p) if "ctr" in scenario else 0.008 + 0.012 * unit(*seed, "ctr")
        clicks = int(impressions * ctr)
        purchases = int(clicks * (0.02 + 0.03 * unit(*seed, "cvr")))
        if "roas" in scenario and spend > 0:
            purchases = max(purchases, 1)
            value = round(self.along(scenario["roas"], p) * spend, 2)
        else:
            value = round(purchases * (450 + 300 * unit(*seed, "aov")), 2)
        frequency = self.along(scenario["frequency"], p) if "frequency" in scenario else 1 / 0.7
        leads = int(clicks * 0.05)
        actions = [{"action_type": "link_click", "value": str(clicks)},
                   {"action_type": "landing_page_view", "value": str(int(clicks * 0.8))},
                   {"action_type": "lead", "value": str(leads)},
                   {"action_type": "post_engagement", "value": str(int(clicks * 1.6))}]
        action_values = []
        if purchases:
            for a in PURCHASE_ACTIONS:
                actions.append({"action_type": a, "value": str(purchases)})
                action_values.append({"action_type": a, "value": f"{value:.2f}"})
        row = {"campaign_id": obj["id"], "campaign_name": obj["fields"].get("name", ""),
               "impressions": str(impressions), "clicks": str(clicks), "spend": f"{spend:.2f}",
               "reach": str(int(impressions / max(frequency, 1.0))), "frequency": f"{max(frequency, 1.0):.4f}",
               "actions": actions, "date_start": day.isoformat(),
               "date_stop": day.isoformat(), "account_currency": currency}
        if action_values:
            row["action_values"] = action_values
        row.update(dims)
        return row


def obj_budget(sim, campaign):
    """The campaign's ad set budget in paise (what the platform sent)."""
    for o in sim.objects.values():
        if o["kind"] == "adset" and o["fields"].get("campaign_id") == campaign["id"]:
            f = o["fields"]
            if "daily_budget" in f:
                return int(f["daily_budget"])
            if "lifetime_budget" in f:
                return int(f["lifetime_budget"]) // 30
    return 100000
