"""The platform through the local stack: the functions' real binaries under the Lambda
Runtime API, behind the gateway that reads template.yaml, with S3 and SQS in the local
emulator, spoken to over real HTTP — accounts, the upload flow end to end (presigned
PUT of real media, the S3 event, the asset processed), and schemathesis against the
served OpenAPI document.

Uses the debug binaries `infra/test` has just built (BIN_DIR overrides) and a fresh
database migrated by the real `migrate` binary.
"""
import json
import os
import signal
import subprocess
import sys
import time
import unittest
import concurrent.futures as cf
import urllib.error
import urllib.parse
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import media  # noqa: E402
from simulators.sites import KITS, Sites  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN_DIR = os.environ.get("BIN_DIR", os.path.join(ROOT, "target", "debug"))
PG = dict(host=os.environ.get("TEST_PG_HOST", "127.0.0.1"), port=os.environ.get("TEST_PG_PORT", "5432"),
          su=os.environ.get("TEST_PG_SUPERUSER", "postgres"))


def psql(sql, db="postgres"):
    out = subprocess.run(["psql", "-h", PG["host"], "-p", PG["port"], "-U", PG["su"], "-d", db,
                          "-v", "ON_ERROR_STOP=1", "-Atqc", sql], check=True, capture_output=True, text=True)
    return out.stdout.strip()


def http(method, url, body=None, token=None, raw=None, headers=None, timeout=30):
    headers = dict(headers or {"content-type": "application/json"})
    if token:
        headers["authorization"] = f"Bearer {token}"
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw_body = r.read()
            is_json = "json" in (r.headers.get("content-type") or "")
            return r.status, dict(r.headers), json.loads(raw_body) if is_json and raw_body else raw_body
    except urllib.error.HTTPError as e:
        raw = e.read()
        return e.code, dict(e.headers), json.loads(raw) if raw else None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def location_of(url):
    """Where `url` redirects to, without following it (as the browser is sent on)."""
    try:
        with urllib.request.build_opener(_NoRedirect).open(url, timeout=30) as r:
            return r.headers.get("location")
    except urllib.error.HTTPError as e:
        return e.headers.get("location")


META_SECRET = "stack-meta-app-secret"


def hex_rgb(h):
    return tuple(int(h[i:i + 2], 16) for i in (1, 3, 5))


def delta_e76(a, b):
    """CIE76 distance between two sRGB colours (through CIELAB, D65)."""
    def lab(rgb):
        lin = [((c / 255 + 0.055) / 1.055) ** 2.4 if c / 255 > 0.04045 else c / 255 / 12.92 for c in rgb]
        x = (0.4124 * lin[0] + 0.3576 * lin[1] + 0.1805 * lin[2]) / 0.95047
        y = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
        z = (0.0193 * lin[0] + 0.1192 * lin[1] + 0.9505 * lin[2]) / 1.08883
        f = [t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116 for t in (x, y, z)]
        return 116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])
    return sum((p - q) ** 2 for p, q in zip(lab(a), lab(b))) ** 0.5


class LocalStack(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = f"adpilot_test_stack_{uuid.uuid4().hex[:12]}"
        psql(f"CREATE DATABASE {cls.db} OWNER adpilot_owner")
        env = dict(os.environ,
                   DATABASE_OWNER_URL=f"postgres://adpilot_owner@{PG['host']}:{PG['port']}/{cls.db}",
                   DATABASE_URL=f"postgres://adpilot_app@{PG['host']}:{PG['port']}/{cls.db}",
                   DATABASE_WORKER_URL=f"postgres://adpilot_worker@{PG['host']}:{PG['port']}/{cls.db}",
                   JWT_SECRET="stack-test-secret-stack-test-secret-0123",
                   RAZORPAY_KEY_ID="rzp_test_stack", RAZORPAY_KEY_SECRET="stack-key-secret",
                   RAZORPAY_WEBHOOK_SECRET="stack-webhook-secret", GEMINI_API_KEY="stack-gemini-key",
                   STRIPE_SECRET_KEY="sk_test_stack", STRIPE_WEBHOOK_SECRET="whsec_stack",
                   VEO_POLL_SECONDS="1", META_APP_ID="100200300400500", META_APP_SECRET=META_SECRET,
                   META_VERIFY_TOKEN="stack-verify-token",
                   TOKEN_ENCRYPTION_KEYS="stack1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
                   # schemathesis alone sends hundreds of /v1/auth/* requests a minute from 127.0.0.1
                   AUTH_IP_LIMIT_PER_MINUTE="100000",
                   AWS_REGION="ap-south-1", RUST_LOG="info")
        for inherited in ("RAZORPAY_API_URL", "STRIPE_API_URL", "GEMINI_API_URL", "META_GRAPH_URL"):
            env.pop(inherited, None)
        # Another local site for the brand analyzer, allowed the way a developer would: the
        # gateway adds its own site simulator to what FETCH_ALLOW_HOSTS already holds.
        cls.sites = Sites().start()
        env["FETCH_ALLOW_HOSTS"] = cls.sites.url.removeprefix("http://")
        subprocess.run([os.path.join(BIN_DIR, "migrate")], env=env, check=True, capture_output=True)
        cls.log = open(os.path.join(ROOT, "target", "stack-test.log"), "w")
        cls.gw = subprocess.Popen(
            [sys.executable, os.path.join(ROOT, "infra", "gateway.py"), "--template", os.path.join(ROOT, "template.yaml"),
             "--bin-dir", BIN_DIR, "--port", "0", "--max-instances", "2", "--moto", "0",
             "--simulators"],
            env=env, stdout=subprocess.PIPE, stderr=cls.log, text=True, start_new_session=True)
        line = cls.gw.stdout.readline()
        assert line.startswith("ADPILOT_GATEWAY_LISTENING"), line
        cls.base = line.split()[1]

    @classmethod
    def tearDownClass(cls):
        os.killpg(cls.gw.pid, signal.SIGTERM)
        cls.gw.wait(timeout=20)
        cls.sites.stop()
        cls.log.close()
        psql(f"DROP DATABASE IF EXISTS {cls.db} WITH (FORCE)")

    def url(self, path):
        return self.base + path

    def test_signup_login_refresh_and_me_over_http(self):
        email = f"stack.{uuid.uuid4().hex[:8]}@example.com"
        status, headers, body = http("POST", self.url("/v1/auth/signup"),
                                     {"email": email, "password": "correct-horse-battery"})
        self.assertEqual(status, 201, body)
        self.assertIn("apigw-requestid", {k.lower() for k in headers})
        status, _, me = http("GET", self.url("/v1/me"), token=body["access_token"])
        self.assertEqual((status, me["email"]), (200, email))

        status, _, session = http("POST", self.url("/v1/auth/login"), {"email": email, "password": "correct-horse-battery"})
        self.assertEqual(status, 200)
        status, _, rotated = http("POST", self.url("/v1/auth/refresh"), {"refresh_token": session["refresh_token"]})
        self.assertEqual(status, 200)
        self.assertNotEqual(rotated["refresh_token"], session["refresh_token"])

    def test_errors_arrive_as_problem_json(self):
        status, headers, body = http("GET", self.url("/v1/me"))
        self.assertEqual(status, 401)
        self.assertEqual(headers.get("Content-Type") or headers.get("content-type"), "application/problem+json")
        self.assertEqual(body["code"], "missing_token")
        status, _, _ = http("GET", self.url("/v1/no-such-route"))
        self.assertEqual(status, 404)

    def test_concurrent_requests_queue_for_instances_instead_of_failing(self):
        with cf.ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(lambda _: http("GET", self.url("/v1/me"))[0], range(24)))
        self.assertEqual(statuses, [401] * 24)

    def test_a_crashed_instance_is_replaced(self):
        # Kill every running auth instance; the next request starts a fresh one.
        subprocess.run(["pkill", "-KILL", "-f", os.path.join(BIN_DIR, "auth")], check=False)
        time.sleep(0.5)
        status, _, _ = http("GET", self.url("/v1/me"))
        self.assertEqual(status, 401)


    def signup(self):
        email = f"stack.{uuid.uuid4().hex[:8]}@example.com"
        status, _, body = http("POST", self.url("/v1/auth/signup"), {"email": email, "password": "correct-horse-battery"})
        self.assertEqual(status, 201, body)
        return body["access_token"]

    def upload(self, token, filename, content_type, data):
        """Requests an upload, PUTs the bytes to the presigned URL, waits for the S3 event."""
        status, _, ticket = http("POST", self.url("/v1/assets/uploads"),
                                 {"filename": filename, "content_type": content_type, "size": len(data)}, token=token)
        self.assertEqual(status, 201, ticket)
        up = ticket["upload"]
        status, _, _ = http(up["method"], up["url"], raw=data, headers=up["headers"])
        self.assertEqual(status, 200)
        asset_id = ticket["asset"]["id"]
        for _ in range(100):
            _, _, asset = http("GET", self.url(f"/v1/assets/{asset_id}"), token=token)
            if asset["status"] != "processing":
                return asset
            time.sleep(0.2)
        self.fail(f"{filename} still processing")

    def test_uploaded_media_is_measured_from_its_real_bytes(self):
        token = self.signup()
        jpeg = self.upload(token, "offer.jpg", "image/jpeg", media.image(1080, 1350, "JPEG"))
        self.assertEqual((jpeg["status"], jpeg["format"], jpeg["dimensions"]),
                         ("active", "4:5", {"width": 1080, "height": 1350}))
        png = self.upload(token, "logo.png", "image/png", media.image(800, 800, "PNG"))
        self.assertEqual((png["status"], png["format"]), ("active", "1:1"))
        clip = self.upload(token, "clip.mp4", "video/mp4", media.video(640, 360))
        self.assertEqual((clip["status"], clip["format"], clip["asset_type"]), ("active", "16:9", "video"))
        self.assertGreater(float(clip["duration_seconds"]), 0.5)
        fake = self.upload(token, "fake.png", "image/png", b"not an image, just text\n" * 20)
        self.assertEqual(fake["status"], "failed")
        self.assertTrue(fake["failure_reason"])

        status, _, link = http("GET", self.url(f"/v1/assets/{jpeg['id']}/download"), token=token)
        self.assertEqual(status, 200)
        status, _, data = http("GET", link["url"], headers={})
        self.assertEqual((status, data[:3]), (200, b"\xff\xd8\xff"), "the download is the JPEG itself")

        status, _, page = http("GET", self.url("/v1/assets?type=image&status=active"), token=token)
        self.assertEqual({a["id"] for a in page["items"]}, {jpeg["id"], png["id"]})

    def analysed(self, token, site_path, expect="completed"):
        status, _, accepted = http("POST", self.url("/v1/brand-profile/analyze"),
                                   {"website_url": self.sites.url + site_path}, token=token)
        self.assertEqual(status, 202, accepted)
        job = self.wait_for(lambda: (lambda j: j if j["status"] in ("completed", "failed") else None)(
            http("GET", self.url(f"/v1/jobs/{accepted['job_id']}"), token=token)[2]), "the brand analysis", tries=120)
        self.assertEqual(job["status"], expect, job)
        return job

    def test_a_website_becomes_a_brand_kit_that_generated_images_wear(self):
        import io
        from PIL import Image
        token = self.signup()
        self.connect_meta(token)
        job = self.analysed(token, "/cafe/")
        self.assertEqual(job["progress"], 100)
        status, _, kit = http("GET", self.url("/v1/brand-profile"), token=token)
        self.assertEqual(status, 200, kit)
        want = KITS["cafe"]
        palette = kit["color_palette"]
        self.assertEqual([palette["primary"], palette["secondary"], palette["accent"]],
                         [want["primary"], want["secondary"], want["accent"]])
        self.assertEqual((kit["typography"]["heading_font"], kit["typography"]["body_font"]),
                         (want["heading_font"], want["body_font"]))
        self.assertEqual(kit["messaging_patterns"]["site_name"], want["name"])
        self.assertTrue(kit["logo_url"] and kit["brand_voice"]["tone"] and kit["guidelines"]["dos"], kit)
        self.assertEqual(kit["website_analysis"]["voice_written_by"], "gemini", "the local model wrote the voice")
        self.assertEqual(kit["analysis_version"], 1)
        page = kit["social"]["facebook_page"]
        self.assertEqual((page["name"], page["posts_read"]), ("Chai Point", 6), kit["website_analysis"]["facebook_page"])
        self.assertIn("#chai", page["hashtags"])
        status, _, again = http("POST", self.url("/v1/brand-profile/analyze"), {}, token=token)
        self.assertEqual((status, again["code"]), (429, "analysis_rate_limited"))

        image = self.generated(token, {"type": "image", "prompt": "a latte on a wooden table", "format": "1:1",
                                       "use_brand": True})
        self.assertEqual(image["status"], "active", image)
        picture = Image.open(io.BytesIO(self.download(token, image["id"]))).convert("RGB")
        count, dominant = max(picture.getcolors(maxcolors=1 << 24))
        self.assertGreater(count / (picture.size[0] * picture.size[1]), 0.5)
        self.assertLess(delta_e76(dominant, hex_rgb(want["primary"])), 3.0,
                        f"the image's dominant colour {dominant} is the brand's primary {want['primary']}")

    def test_a_private_address_is_refused_at_the_door_and_through_a_redirect(self):
        token = self.signup()
        status, _, problem = http("PUT", self.url("/v1/brand-profile"),
                                  {"website_url": "http://169.254.169.254/latest/meta-data/"}, token=token)
        self.assertEqual((status, problem["errors"][0]["field"], problem["errors"][0]["code"]),
                         (422, "website_url", "private_address"))
        job = self.analysed(token, "/ssrf/redirect-metadata", expect="failed")
        self.assertIn("private or reserved address", job["error_message"])
        other = self.signup()
        job = self.analysed(other, "/private/", expect="failed")
        self.assertIn("the site refused robots", job["error_message"])
        hits = [r["path"] for r in self.sites.requests]
        self.assertNotIn("/private/", hits, "robots.txt said no, so the page was never asked for")

    def wait_for(self, probe, what, tries=120):
        for _ in range(tries):
            value = probe()
            if value:
                return value
            time.sleep(0.5)
        self.fail(f"timed out waiting for {what}")

    def test_subscribing_through_the_simulated_checkout_and_signed_webhooks(self):
        token = self.signup()
        status, _, sub = http("GET", self.url("/v1/subscription"), token=token)
        self.assertEqual((status, sub["tier"], sub["credits_limit"]), (200, "starter", 50))
        status, _, checkout = http("POST", self.url("/v1/subscription"),
                                   {"tier": "professional", "billing_cycle": "monthly"}, token=token)
        self.assertEqual(status, 201, checkout)
        # The customer pays on Razorpay's page; Razorpay then sends the signed webhooks.
        status, _, page = http("GET", checkout["checkout"]["url"], headers={})
        self.assertEqual(status, 200)
        self.assertIn(b"Payment successful", page)
        now = self.wait_for(lambda: (lambda s: s if s["status"] == "active" else None)(
            http("GET", self.url("/v1/subscription"), token=token)[2]), "the subscription to become active")
        self.assertEqual((now["tier"], now["credits_limit"], now["credits_used"]), ("professional", 200, 0))
        events = psql("SELECT string_agg(event_type || '=' || split_part(outcome, ':', 1), ',' ORDER BY received_at) "
                      f"FROM billing_events WHERE provider_subscription_id = '{checkout['checkout']['subscription_id']}'",
                      self.db)
        self.assertIn("subscription.charged=applied", events)

    def test_subscribing_through_the_simulated_stripe_checkout_and_signed_webhooks(self):
        token = self.signup()
        status, _, checkout = http("POST", self.url("/v1/subscription"),
                                   {"tier": "professional", "provider": "stripe", "currency": "USD"}, token=token)
        self.assertEqual(status, 201, checkout)
        self.assertEqual((checkout["checkout"]["provider"], checkout["subscription"]["price"]), ("stripe", "49.00"))
        # The customer pays on Stripe Checkout's page; Stripe then sends the signed events.
        status, _, page = http("GET", checkout["checkout"]["url"], headers={})
        self.assertEqual(status, 200)
        self.assertIn(b"Payment successful", page)
        now = self.wait_for(lambda: (lambda s: s if s["status"] == "active" and s.get("card") else None)(
            http("GET", self.url("/v1/subscription"), token=token)[2]), "the Stripe subscription to become active")
        self.assertEqual((now["tier"], now["credits_limit"], now["credits_used"], now["payment_method"]),
                         ("professional", 200, 0, "stripe"))
        self.assertEqual(now["card"], {"brand": "visa", "last4": "4242"})
        events = psql("SELECT string_agg(event_type || '=' || split_part(outcome, ':', 1), ',' ORDER BY received_at) "
                      "FROM billing_events WHERE provider = 'stripe' AND user_id = "
                      f"(SELECT user_id FROM subscriptions WHERE stripe_checkout_session_id = "
                      f"'{checkout['checkout']['session_id']}')", self.db)
        self.assertIn("invoice.paid=applied", events)
        status, _, portal = http("POST", self.url("/v1/subscription/portal"), token=token)
        self.assertEqual(status, 200, portal)
        status, _, _ = http("GET", portal["url"], headers={})
        self.assertEqual(status, 200)

    def generated(self, token, body):
        status, _, accepted = http("POST", self.url("/v1/generations"), body, token=token)
        self.assertEqual(status, 202, accepted)
        return self.wait_for(lambda: (lambda a: a if a["status"] != "processing" else None)(
            http("GET", self.url(f"/v1/assets/{accepted['asset_id']}"), token=token)[2]), "the generation")

    def download(self, token, asset_id):
        status, _, link = http("GET", self.url(f"/v1/assets/{asset_id}/download"), token=token)
        self.assertEqual(status, 200, link)
        status, _, data = http("GET", link["url"], headers={})
        self.assertEqual(status, 200)
        return data

    def test_generated_images_and_videos_arrive_as_real_media_in_the_library(self):
        import io
        import av
        from PIL import Image
        token = self.signup()
        image = self.generated(token, {"type": "image", "prompt": "masala chai in a clay cup", "format": "4:5"})
        self.assertEqual((image["status"], image["source"], image["format"]), ("active", "generated", "4:5"), image)
        picture = Image.open(io.BytesIO(self.download(token, image["id"])))
        self.assertEqual(picture.size[0] * 5, picture.size[1] * 4, f"exactly 4:5: {picture.size}")
        video = self.generated(token, {"type": "video", "prompt": "a chef tossing noodles", "format": "9:16"})
        self.assertEqual((video["status"], video["asset_type"]), ("active", "video"), video)
        with av.open(io.BytesIO(self.download(token, video["id"]))) as clip:
            stream = clip.streams.video[0]
            self.assertEqual((stream.width, stream.height), (360, 640))
        status, _, page = http("GET", self.url("/v1/assets?status=active"), token=token)
        self.assertEqual({a["id"] for a in page["items"]}, {image["id"], video["id"]})
        _, _, sub = http("GET", self.url("/v1/subscription"), token=token)
        self.assertEqual(sub["credits_used"], 6, "an image (1) and a video (5)")

    def test_a_refused_prompt_fails_the_asset_and_gives_the_credit_back(self):
        token = self.signup()
        failed = self.generated(token, {"type": "image", "prompt": "#fail-permanent please", "format": "1:1"})
        self.assertEqual(failed["status"], "failed")
        self.assertIn("usage policy", failed["failure_reason"])
        _, _, sub = http("GET", self.url("/v1/subscription"), token=token)
        self.assertEqual(sub["credits_used"], 0)
        # The owner is told once, in the app and by email (moto's SES keeps what was sent).
        status, _, feed = http("GET", self.url("/v1/notifications"), token=token)
        self.assertEqual((status, feed["unread_count"]), (200, 1), feed)
        self.assertEqual(feed["items"][0]["title"], "Your image could not be made")
        _, _, me = http("GET", self.url("/v1/me"), token=token)
        email = self.wait_for(lambda: self.emails_to(me["email"]), "the email (relayed within a minute)", tries=200)
        self.assertEqual(len(email), 1)
        self.assertEqual(email[0]["subject"], "Your image could not be made")
        link = email[0]["body"].split('/v1/notifications/unsubscribe?token=')[1].split('"')[0]
        status, _, done = http("GET", self.url(f"/v1/notifications/unsubscribe?token={link}"), headers={})
        self.assertEqual((status, done["unsubscribed"]), (200, True), "the link works without a login")
        _, _, prefs = http("GET", self.url("/v1/notification-preferences"), token=token)
        generation = next(p for p in prefs["preferences"] if p["category"] == "generation")
        self.assertEqual((generation["in_app"], generation["email"]), (True, False))

    def emails_to(self, address):
        """What moto's SES sent to `address`."""
        endpoint = None
        with open(self.log.name) as f:
            for line in f:
                if "aws_emulator_ready" in line:
                    endpoint = json.loads(line)["endpoint"]
        _, _, data = http("GET", f"{endpoint}/moto-api/data.json", headers={})
        found = []

        def walk(v):
            if isinstance(v, dict):
                if address in json.dumps(v.get("destinations", "")):
                    found.append(v)
                    return
                for x in v.values():
                    walk(x)
            elif isinstance(v, list):
                for x in v:
                    walk(x)
        walk(json.loads(data) if isinstance(data, bytes) else data)
        return found

    def test_meta_webhook_checks_the_challenge_and_signatures_and_stores_once(self):
        import hashlib
        import hmac
        status, _, body = http("GET", self.url("/webhooks/meta?hub.mode=subscribe&hub.verify_token=stack-verify-token"
                                               "&hub.challenge=31337"), headers={})
        self.assertEqual((status, body), (200, b"31337"))
        status, _, _ = http("GET", self.url("/webhooks/meta?hub.mode=subscribe&hub.verify_token=no&hub.challenge=1"),
                            headers={})
        self.assertEqual(status, 401)
        event = json.dumps({"object": "ad_account", "entry": [{"id": "act_1234567890", "time": 1764000000, "changes": [
            {"field": "with_issues_ad_objects", "value": {"id": "1", "level": "AD", "status_name": "WITH_ISSUES"}}]}]}).encode()
        sig = "sha256=" + hmac.new(META_SECRET.encode(), event, hashlib.sha256).hexdigest()
        for _ in range(2):
            status, _, _ = http("POST", self.url("/webhooks/meta"), raw=event,
                                headers={"content-type": "application/json", "x-hub-signature-256": sig})
            self.assertEqual(status, 200)
        status, _, _ = http("POST", self.url("/webhooks/meta"), raw=event + b" ",
                            headers={"content-type": "application/json", "x-hub-signature-256": sig})
        self.assertEqual(status, 401)
        stored = self.wait_for(lambda: psql("SELECT count(*) || ':' || string_agg(status, ',') FROM meta_webhook_events",
                                            self.db).replace("1:received", "") or None, "the event to be applied")
        self.assertEqual(stored, "1:recorded", "stored once, applied by the sync worker")

    def meta_dialog(self, token):
        """Opens the connect link's dialog (the simulator consents at once) and returns the
        code and state Facebook put on the redirect, and the simulator's base URL."""
        status, _, link = http("GET", self.url("/v1/meta/connect"), token=token)
        self.assertEqual(status, 200, link)
        location = location_of(link["authorization_url"])
        self.assertTrue(location and location.startswith(self.url("/v1/meta/callback")), location)
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
        sim = link["authorization_url"].split("/v25.0/")[0]
        return {"code": q["code"], "state": q["state"]}, sim

    def connect_meta(self, token):
        """Connects Meta as the web app does: the dialog, then {code, state} posted with
        the signed-in user's token."""
        redirect, sim = self.meta_dialog(token)
        status, _, connected = http("POST", self.url("/v1/meta/callback"), redirect, token=token)
        self.assertEqual(status, 200, connected)
        return connected, sim

    def sim_objects(self, sim, kind, tag):
        """The simulated Meta's objects of `kind` whose name carries `tag`."""
        _, _, objects = http("GET", f"{sim}/_sim/objects")
        return [o for o in objects["data"] if o["kind"] == kind
                and tag in (o["fields"].get("name") or o["fields"].get("title") or "")]

    def launchable(self, token, currency="INR", daily="1500.00", name="Winter chai"):
        """A draft campaign with an uploaded image, ready to launch; its id."""
        http("PUT", self.url("/v1/business-profile"), {"business_name": "Chai Point", "website_url": "https://chai.example"},
             token=token)
        asset = self.upload(token, "hero.png", "image/png", media.image(1080, 1080, "PNG"))
        status, _, campaign = http("POST", self.url("/v1/campaigns"), {
            "name": name, "purpose": "sales", "currency": currency, "daily_budget": daily,
            "target_audience": {"age_min": 21, "age_max": 45, "geo_locations": {"countries": ["IN"]}}}, token=token)
        self.assertEqual(status, 201, campaign)
        status, _, _ = http("PUT", self.url(f"/v1/campaigns/{campaign['id']}/assets/{asset['id']}"),
                            {"asset_role": "primary"}, token=token)
        self.assertIn(status, (200, 201))
        return campaign["id"]

    def test_a_connect_link_completed_by_another_signed_in_user_links_nothing(self):
        owner, other = self.signup(), self.signup()
        redirect, _ = self.meta_dialog(owner)
        status, _, refused = http("POST", self.url("/v1/meta/callback"), redirect, token=other)
        self.assertEqual((status, refused["errors"][0]["code"]), (422, "not_yours"), refused)
        for token in (owner, other):
            _, _, listed = http("GET", self.url("/v1/meta-accounts"), token=token)
            self.assertEqual(listed["items"], [])
        status, _, _ = http("POST", self.url("/v1/meta/callback"), redirect)
        self.assertEqual(status, 401, "the callback needs the signed-in user")

    def test_two_simultaneous_launches_make_exactly_one_meta_campaign(self):
        token = self.signup()
        _, sim = self.connect_meta(token)
        c = self.launchable(token)
        launch = lambda _: http("POST", self.url(f"/v1/campaigns/{c}/launch"),  # noqa: E731
                                {"ad_account_id": "act_1234567890"}, token=token)
        with cf.ThreadPoolExecutor(max_workers=2) as pool:
            answers = list(pool.map(launch, range(2)))
        statuses = sorted(a[0] for a in answers)
        self.assertEqual(statuses, [200, 409], answers)
        refused = next(a[2] for a in answers if a[0] == 409)
        self.assertIn(refused["code"], ("launch_in_progress", "already_launched"), refused)
        self.assertEqual(len(self.sim_objects(sim, "campaign", f"[adpilot:{c}]")), 1, "one campaign on Meta")
        self.assertEqual(len(self.sim_objects(sim, "adset", f"[adpilot:{c}:adset]")), 1)

    def test_a_usd_account_receives_cents_and_a_jpy_account_whole_yen(self):
        token = self.signup()
        _, sim = self.connect_meta(token)
        for act, currency, daily, minor in (("act_3456789012", "USD", "15.00", "1500"),
                                            ("act_4567890123", "JPY", "2000", "2000")):
            c = self.launchable(token, currency, daily)
            status, _, launched = http("POST", self.url(f"/v1/campaigns/{c}/launch"), {"ad_account_id": act},
                                       token=token)
            self.assertEqual((status, launched["currency"]), (200, currency), launched)
            adset, = self.sim_objects(sim, "adset", f"[adpilot:{c}:adset]")
            self.assertEqual(adset["fields"]["daily_budget"], minor, currency)
        inr = self.launchable(token, "INR", "1500.00")
        status, _, refused = http("POST", self.url(f"/v1/campaigns/{inr}/launch"), {"ad_account_id": "act_3456789012"},
                                  token=token)
        self.assertEqual((status, refused["code"]), (422, "currency_mismatch"), refused)
        self.assertEqual(self.sim_objects(sim, "campaign", f"[adpilot:{inr}]"), [], "nothing made on Meta")

    def test_a_disapproved_ad_reads_rejected_with_metas_feedback(self):
        token = self.signup()
        self.connect_meta(token)
        c = self.launchable(token, name="Miracle chai cures all #disapprove")
        status, _, launched = http("POST", self.url(f"/v1/campaigns/{c}/launch"), {"ad_account_id": "act_1234567890"},
                                   token=token)
        self.assertEqual((status, launched["approval_status"]), (200, "pending"), launched)

        def reviewed():
            _, _, campaign = http("GET", self.url(f"/v1/campaigns/{c}"), token=token)
            return campaign if campaign["ad_review"] else None
        campaign = self.wait_for(reviewed, "the first sync to read Meta's review", tries=240)
        self.assertEqual(campaign["approval_status"], "rejected", campaign)
        review, = campaign["ad_review"]
        self.assertEqual(review["effective_status"], "DISAPPROVED")
        self.assertIn("Unrealistic Outcomes", review["feedback"]["global"])
        _, _, assets = http("GET", self.url(f"/v1/campaigns/{c}/assets"), token=token)
        self.assertEqual(review["asset_id"], assets["items"][0]["asset"]["id"])

    def test_each_creatives_own_numbers_and_score_appear_after_a_sync(self):
        token = self.signup()
        self.connect_meta(token)
        c = self.launchable(token)
        second = self.upload(token, "offer.png", "image/png", media.image(1080, 1350, "PNG"))
        status, _, _ = http("PUT", self.url(f"/v1/campaigns/{c}/assets/{second['id']}"), {"asset_role": "variation"},
                            token=token)
        self.assertIn(status, (200, 201))
        status, _, launched = http("POST", self.url(f"/v1/campaigns/{c}/launch"), {"ad_account_id": "act_1234567890"},
                                   token=token)
        self.assertEqual(status, 200, launched)

        def results():
            _, _, page = http("GET", self.url(f"/v1/campaigns/{c}/assets"), token=token)
            return page["items"] if all(i["results"]["impressions"] > 0 for i in page["items"]) else None
        items = self.wait_for(results, "each creative's results after the first sync", tries=240)
        self.assertEqual(len(items), 2)
        for item in items:
            self.assertGreater(float(item["results"]["spend"]), 0, item["results"])
            self.assertGreaterEqual(item["results"]["days"], 1)
            self.assertIsNotNone(item["performance_score"], item)
            self.assertTrue(0 <= float(item["performance_score"]) <= 5)
        _, _, campaign = http("GET", self.url(f"/v1/campaigns/{c}"), token=token)
        total = sum(float(i["results"]["spend"]) for i in items)
        self.assertAlmostEqual(total, float(campaign["totals"]["spend"]), delta=0.05 * float(campaign["totals"]["spend"]))

    def test_cancelling_a_live_campaign_pauses_and_archives_it_on_meta(self):
        token = self.signup()
        _, sim = self.connect_meta(token)
        c = self.launchable(token)
        status, _, launched = http("POST", self.url(f"/v1/campaigns/{c}/launch"), {"ad_account_id": "act_1234567890"},
                                   token=token)
        self.assertEqual(status, 200, launched)
        status, _, cancelled = http("PATCH", self.url(f"/v1/campaigns/{c}"), {"status": "cancelled"}, token=token)
        self.assertEqual((status, cancelled["status"]), (200, "cancelled"), cancelled)
        on_meta, = self.sim_objects(sim, "campaign", f"[adpilot:{c}]")
        self.assertEqual(on_meta["status"], "ARCHIVED")
        self.assertEqual(on_meta["history"][-2:], ["PAUSED", "ARCHIVED"])
        status, _, refused = http("POST", self.url(f"/v1/campaigns/{c}/resume"), token=token)
        self.assertEqual((status, refused["code"]), (409, "invalid_status_transition"))

    def test_connect_meta_launch_a_campaign_and_see_its_performance(self):
        token = self.signup()
        connected, _ = self.connect_meta(token)
        self.assertEqual(connected["connection"]["connection_status"], "active")
        acts = {a["ad_account_id"]: a for a in connected["ad_accounts"]}
        self.assertIn("act_1234567890", acts)
        sealed = psql("SELECT access_token FROM meta_accounts", self.db).splitlines()
        # Sealed under the current key; the token is nowhere in the stored bytes (checked on the
        # decoded ciphertext: the base64 text itself may spell "EAA" by chance).
        import base64
        self.assertTrue(sealed and all(t.startswith("v2:stack1:") for t in sealed), sealed)
        self.assertFalse([t for t in sealed if b"EAA" in base64.b64decode(t.split(":")[-1])], sealed)

        c = self.launchable(token)
        status, _, estimate = http("GET", self.url(f"/v1/campaigns/{c}/estimate"), token=token)
        self.assertEqual(status, 200, estimate)
        self.assertGreater(estimate["audience_upper_bound"], estimate["audience_lower_bound"])
        self.assertGreater(estimate["daily"]["reach"], 0, estimate)
        status, _, launched = http("POST", self.url(f"/v1/campaigns/{c}/launch"), {"ad_account_id": "act_1234567890"},
                                   token=token)
        self.assertEqual(status, 200, launched)
        self.assertEqual(launched["status"], "active")
        self.assertEqual(launched["audience_size_estimate"]["ad_account_id"], "act_1234567890")
        self.assertTrue(launched["meta_campaign_id"])

        def performance():
            _, _, perf = http("GET", self.url(f"/v1/campaigns/{c}/performance?breakdown=platform"), token=token)
            return perf if perf and perf.get("series") else None
        perf = self.wait_for(performance, "performance after the first sync", tries=240)
        platforms = {p.get("key") for p in perf["series"]}
        self.assertTrue({"facebook", "instagram"} <= platforms, perf["series"][:3])
        _, _, summary = http("GET", self.url("/v1/analytics/summary"), token=token)
        self.assertGreater(float(summary["totals"]["spend"]), 0, summary)

        status, _, paused = http("POST", self.url(f"/v1/campaigns/{c}/pause"), token=token)
        self.assertEqual((status, paused["status"]), (200, "paused"))
        status, _, resumed = http("POST", self.url(f"/v1/campaigns/{c}/resume"), token=token)
        self.assertEqual((status, resumed["status"]), (200, "active"))

    def test_a_report_over_a_synced_campaign_totals_what_sql_says_with_charts_that_decode(self):
        import base64
        import io
        from PIL import Image
        from pypdf import PdfReader
        token = self.signup()
        self.connect_meta(token)
        c = self.launchable(token)
        status, _, launched = http("POST", self.url(f"/v1/campaigns/{c}/launch"), {"ad_account_id": "act_1234567890"},
                                   token=token)
        self.assertEqual(status, 200, launched)

        def performance():
            _, _, perf = http("GET", self.url(f"/v1/campaigns/{c}/performance"), token=token)
            return perf if perf and perf.get("series") else None
        self.wait_for(performance, "performance after the first sync", tries=240)
        _, _, me = http("GET", self.url("/v1/me"), token=token)
        user = me["id"]
        today = psql("SELECT (now() AT TIME ZONE coalesce((SELECT timezone_name FROM meta_ad_accounts "
                     f"WHERE user_id = '{user}' AND timezone_name IN (SELECT name FROM pg_timezone_names) "
                     "ORDER BY created_at DESC LIMIT 1), 'Asia/Kolkata'))::date", self.db)
        start = psql(f"SELECT ('{today}'::date - 29)::text", self.db)
        status, headers, asked = http("POST", self.url("/v1/reports"), {"period_start": start, "period_end": today},
                                      token=token)
        self.assertEqual(status, 202, asked)
        self.assertEqual(headers.get("location") or headers.get("Location"), f"/v1/reports/{asked['id']}")

        def ready():
            _, _, r = http("GET", self.url(f"/v1/reports/{asked['id']}"), token=token)
            return r if r["status"] == "ready" else None
        report = self.wait_for(ready, "the report", tries=240)
        spend = psql("SELECT coalesce(sum(p.spend), 0) FROM performance_analytics p JOIN campaigns c ON c.id = p.campaign_id "
                     f"WHERE c.user_id = '{user}' AND c.currency = '{report['summary']['currency']}' "
                     f"AND p.date BETWEEN '{start}' AND '{today}' AND p.hour IS NULL AND p.platform IS NULL "
                     "AND p.placement IS NULL AND p.age_range IS NULL AND p.gender IS NULL AND p.location IS NULL", self.db)
        self.assertGreater(float(spend), 0)
        self.assertEqual(report["summary"]["spend"], spend, report["summary"])

        status, _, html = http("GET", report["downloads"]["html"]["url"], headers={})
        self.assertEqual(status, 200)
        html = html.decode() if isinstance(html, bytes) else html
        pngs = [base64.b64decode(part.split('"')[0]) for part in html.split('src="data:image/png;base64,')[1:]]
        self.assertGreaterEqual(len(pngs), 2, "the two trend charts")
        for png in pngs:
            image = Image.open(io.BytesIO(png))
            image.load()
            self.assertEqual(image.format, "PNG")
        self.assertEqual(Image.open(io.BytesIO(pngs[0])).size, (1000, 380))
        status, _, pdf = http("GET", report["downloads"]["pdf"]["url"], headers={})
        self.assertEqual(status, 200)
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
        self.assertIn("Winter chai", text)
        self.assertIn("Spend", text)

        _, _, feed = http("GET", self.url("/v1/notifications"), token=token)
        self.assertIn("Your report is ready", [n["title"] for n in feed["items"]])
        email = self.wait_for(lambda: [e for e in self.emails_to(me["email"])
                                       if e.get("subject") == "Your report is ready"], "the report's email", tries=200)
        self.assertEqual(len(email), 1)

    def test_a_rule_run_after_the_sync_raises_the_budget_on_meta_once_and_revert_restores_it(self):
        token = self.signup()
        _, sim = self.connect_meta(token)
        c = self.launchable(token, daily="1500.00", name="Autopilot chai")
        # Attaching its creative was a significant edit; let its learning phase be over.
        psql(f"UPDATE campaign_edits SET edited_at = now() - interval '4 days' WHERE campaign_id = '{c}'", self.db)
        status, _, rule = http("POST", self.url("/v1/rules"), {
            "name": "Scale anything that delivers", "campaign_id": c, "entity_type": "CAMPAIGN",
            "evaluation_spec": {"filters": [
                {"field": "impressions", "operator": "GREATER_THAN", "value": 0, "time_preset": "TODAY"}]},
            "execution_spec": {"execution_type": "CHANGE_BUDGET",
                               "change_spec": {"amount": "20", "unit": "PERCENTAGE"}},
            "schedule_spec": {"schedule_type": "AFTER_SYNC"}}, token=token)
        self.assertEqual(status, 201, rule)
        status, _, launched = http("POST", self.url(f"/v1/campaigns/{c}/launch"), {"ad_account_id": "act_1234567890"},
                                   token=token)
        self.assertEqual(status, 200, launched)

        def decided():
            _, _, log = http("GET", self.url(f"/v1/campaigns/{c}/optimizations"), token=token)
            return log["items"] if log and log.get("items") else None
        decisions = self.wait_for(decided, "the optimizer's run after the first sync", tries=300)
        done = [d for d in decisions if d["decision"] == "applied"]
        self.assertEqual(len(done), 1, [(d["decision"], d["skip_reason"]) for d in decisions])
        self.assertEqual(done[0]["after_values"], {"action": "budget", "from": "1500.00", "to": "1800.00"})
        adset, = self.sim_objects(sim, "adset", f"[adpilot:{c}:adset]")
        self.assertEqual(str(adset["fields"]["daily_budget"]), "180000")
        _, _, campaign = http("GET", self.url(f"/v1/campaigns/{c}"), token=token)
        self.assertEqual(campaign["daily_budget"], "1800.00")
        _, _, feed = http("GET", self.url("/v1/notifications"), token=token)
        self.assertIn("Budget changed for Autopilot chai", [n["title"] for n in feed["items"]])

        status, _, reverted = http("POST", self.url(f"/v1/optimizations/{done[0]['id']}/revert"), token=token)
        self.assertEqual(status, 200, reverted)
        adset, = self.sim_objects(sim, "adset", f"[adpilot:{c}:adset]")
        self.assertEqual(str(adset["fields"]["daily_budget"]), "150000")
        status, _, again = http("POST", self.url(f"/v1/optimizations/{done[0]['id']}/revert"), token=token)
        self.assertEqual((status, again["code"]), (409, "not_revertible"))

    # --- the optimizer on scenarios the Meta simulator plays out day by day ----------------

    def invoke(self, function, event=None):
        """Runs a function now through the gateway's Lambda Invoke API (a schedule's tick)."""
        status, _, out = http("POST", self.url(f"/2015-03-31/functions/{function}/invocations"), event or {})
        self.assertEqual(status, 200, out)
        return out

    def launched_with_history(self, token, sim, name, days, assets=(), **scenario):
        """A launched campaign whose simulated delivery began `days` ago, shaped by
        `scenario`, synced again until every past day is here, its learning phase over."""
        c = self.launchable(token, daily="1500.00", name=name)
        for asset in assets:
            status, _, _ = http("PUT", self.url(f"/v1/campaigns/{c}/assets/{asset}"), {"asset_role": "variation"},
                                token=token)
            self.assertIn(status, (200, 201))
        status, _, launched = http("POST", self.url(f"/v1/campaigns/{c}/launch"), {"ad_account_id": "act_1234567890"},
                                   token=token)
        self.assertEqual(status, 200, launched)
        status, _, shaped = http("POST", f"{sim}/_sim/scenario",
                                 dict(scenario, campaign=f"[adpilot:{c}]", started_days_ago=days))
        self.assertEqual(status, 200, shaped)
        return c

    def sync_until(self, c, days):
        """Syncs the campaign's owner until `days` days of its insights are here."""
        def idle():
            return psql(f"SELECT count(*) FROM background_jobs WHERE job_type = 'meta_sync' "
                        f"AND status IN ('pending', 'running') "
                        f"AND user_id = (SELECT user_id FROM campaigns WHERE id = '{c}')", self.db) == "0"

        def synced():
            if idle():
                # Every test's owner shares the simulator's ad account, whose hourly call
                # budget (and any wait an earlier test's throttling drill left) is per
                # account: start this owner's sync in a fresh hour, and let the tick sync
                # this owner only (earlier tests' owners would spend the same budget).
                psql("DELETE FROM meta_rate_windows WHERE ad_account_id = 'act_1234567890'", self.db)
                psql(f"UPDATE meta_ad_accounts SET sync_enabled = "
                     f"(user_id = (SELECT user_id FROM campaigns WHERE id = '{c}'))", self.db)
                self.invoke("scheduled-sync")
            # Days with their daily total, the rows rules read (breakdown and hourly rows
            # of a day can land before it).
            n = psql(f"SELECT count(DISTINCT date) FROM performance_analytics WHERE campaign_id = '{c}' "
                     "AND hour IS NULL AND platform IS NULL AND placement IS NULL AND age_range IS NULL "
                     "AND gender IS NULL AND location IS NULL", self.db)
            return int(n) >= days and idle()
        self.wait_for(synced, f"{days} days of insights for {c}", tries=240)
        self.wait_for(idle, "the sync to finish")
        psql(f"UPDATE campaign_edits SET edited_at = now() - interval '5 days' WHERE campaign_id = '{c}'", self.db)

    def rule(self, token, body):
        status, _, rule = http("POST", self.url("/v1/rules"), dict({"schedule_spec": {"schedule_type": "HOURLY"}},
                                                                    **body), token=token)
        self.assertEqual(status, 201, rule)
        return rule

    def optimize(self, token, campaigns, decisions_each):
        """One hourly tick; waits until each campaign has `decisions_each` more decisions."""
        def count(c):
            _, _, log = http("GET", self.url(f"/v1/campaigns/{c}/optimizations?limit=100"), token=token)
            return log["items"]
        before = {c: len(count(c)) for c in campaigns}
        self.invoke("optimizer")
        self.wait_for(lambda: all(len(count(c)) >= before[c] + decisions_each for c in campaigns),
                      "the optimizer's decisions", tries=240)
        return {c: count(c) for c in campaigns}

    def test_roas_above_four_for_three_days_raises_the_budget_once_and_not_on_three_hundred_impressions(self):
        token = self.signup()
        _, sim = self.connect_meta(token)
        strong = self.launched_with_history(token, sim, "Scale chai", 8, impressions_per_day=30000, roas=5.0)
        self.sync_until(strong, 9)
        thin = self.launched_with_history(token, sim, "Thin chai", 8, impressions_per_day=300, roas=5.0)
        self.sync_until(thin, 9)
        rules = {c: self.rule(token, {
            "name": f"Scale on ROAS {c[:8]}", "campaign_id": c, "entity_type": "CAMPAIGN",
            "evaluation_spec": {"filters": [{"field": "roas", "operator": "GREATER_THAN", "value": 4,
                                             "time_preset": "LAST_3D"}]},
            "execution_spec": {"execution_type": "CHANGE_BUDGET", "change_spec": {"amount": "20", "unit": "PERCENTAGE"}}})
            for c in (strong, thin)}

        previews = {}
        for c, r in rules.items():
            status, _, p = http("POST", self.url(f"/v1/rules/{r['id']}/preview"), token=token)
            self.assertEqual(status, 200, p)
            previews[c] = p
        self.assertEqual(previews[strong]["would_act"], 1, previews[strong])
        self.assertEqual(previews[thin]["skipped"], {"not_enough_data": 1}, previews[thin])
        self.assertEqual(previews[thin]["entities"][0]["detail"], "insufficient_impressions", previews[thin])

        first = self.optimize(token, [strong, thin], 1)
        second = self.optimize(token, [strong, thin], 1)
        applied = [d for d in second[strong] if d["decision"] == "applied"]
        self.assertEqual(len(applied), 1, [(d["decision"], d["skip_reason"]) for d in second[strong]])
        self.assertEqual(applied[0]["after_values"], previews[strong]["entities"][0]["change"],
                         "the run did what the preview said it would")
        self.assertEqual(first[thin][0]["skip_reason"], "not_enough_data:insufficient_impressions")
        self.assertFalse([d for d in second[thin] if d["decision"] == "applied"])
        adset, = self.sim_objects(sim, "adset", f"[adpilot:{strong}:adset]")
        self.assertEqual(adset.get("budget_history"), ["180000"], "one budget change reached Meta, not two")
        thin_adset, = self.sim_objects(sim, "adset", f"[adpilot:{thin}:adset]")
        self.assertNotIn("budget_history", thin_adset)

        # Three days on, the follow-up measures the same figures before and after.
        psql(f"UPDATE ai_optimization_logs SET optimized_at = optimized_at - interval '4 days', "
             f"follow_up_at = now() - interval '1 minute' WHERE id = '{applied[0]['id']}'", self.db)
        self.invoke("optimizer")
        measured = self.wait_for(lambda: psql(f"SELECT performance_change IS NOT NULL AND impact_description <> '' "
                                              f"FROM ai_optimization_logs WHERE id = '{applied[0]['id']}'",
                                              self.db) == "t", "the follow-up")
        self.assertTrue(measured)

    def test_a_climbing_frequency_is_flagged_from_metas_reach_per_window_and_a_steady_one_is_not(self):
        token = self.signup()
        _, sim = self.connect_meta(token)
        tiring = self.launched_with_history(token, sim, "Tiring reach", 15, impressions_per_day=20000,
                                            frequency=[1.2, 4.5])
        self.sync_until(tiring, 16)
        steady = self.launched_with_history(token, sim, "Steady reach", 15, impressions_per_day=20000, frequency=1.3)
        self.sync_until(steady, 16)
        for c in (tiring, steady):
            self.rule(token, {
                "name": f"Seen too often {c[:8]}", "campaign_id": c, "entity_type": "CAMPAIGN",
                "evaluation_spec": {"filters": [{"field": "frequency", "operator": "GREATER_THAN", "value": 3,
                                                 "time_preset": "LAST_3D"}]},
                "execution_spec": {"execution_type": "NOTIFICATION"}})
        decided = self.optimize(token, [tiring, steady], 1)
        flagged, calm = decided[tiring][0], decided[steady][0]
        self.assertEqual(flagged["decision"], "applied", flagged)
        reading = flagged["metrics"]["readings"][0]
        self.assertGreater(float(reading["value"]), 3.0, reading)
        self.assertGreater(reading["reach"], 0, "the reach Meta counted for those three days")
        self.assertEqual(calm["skip_reason"], "conditions_not_met", calm)
        self.assertLess(float(calm["metrics"]["readings"][0]["value"]), 1.5)

    def test_a_creative_is_refreshed_on_a_real_ctr_decline_and_not_on_noise(self):
        token = self.signup()
        _, sim = self.connect_meta(token)
        steady = self.upload(token, "steady.png", "image/png", media.image(1080, 1080, "PNG"))
        tiring = self.launched_with_history(token, sim, "Tiring chai", 15, assets=[steady["id"]],
                                            impressions_per_day=60000, ctr=0.015, roas=3.0)
        # Another owner's campaign tires the same way on 100 impressions a day.
        other = self.signup()
        self.connect_meta(other)
        noisy = self.launched_with_history(other, sim, "Noisy chai", 15, impressions_per_day=100, ctr=0.015)
        # The newest creative of the library, never used: the replacement.
        spare = self.upload(token, "spare.png", "image/png", media.image(1080, 1350, "PNG"))
        _, _, listed = http("GET", self.url(f"/v1/campaigns/{tiring}/assets"), token=token)
        hero = next(a["asset"]["id"] for a in listed["items"] if a["asset"]["id"] != steady["id"])
        ad_of = lambda c, asset: self.sim_objects(sim, "ad", f"[adpilot:{c}:{asset}]")[0]
        for ad, factor in ((ad_of(tiring, hero), [1.5, 0.5]), (ad_of(tiring, steady["id"]), 1.0)):
            status, _, _ = http("POST", f"{sim}/_sim/scenario", {"ad": ad["id"], "ctr_factor": factor})
            self.assertEqual(status, 200)
        _, _, noisy_assets = http("GET", self.url(f"/v1/campaigns/{noisy}/assets"), token=other)
        noisy_hero = noisy_assets["items"][0]["asset"]["id"]
        http("POST", f"{sim}/_sim/scenario", {"ad": ad_of(noisy, noisy_hero)["id"], "ctr_factor": [1.5, 0.5]})
        for c in (tiring, noisy):
            self.sync_until(c, 16)
        for owner, c in ((token, tiring), (other, noisy)):
            self.rule(owner, {
                "name": "Refresh tired creatives", "campaign_id": c, "entity_type": "AD",
                "evaluation_spec": {"filters": [{"field": "ctr", "operator": "CHANGED_BY_PCT", "value": -15,
                                                 "time_preset": "LAST_7D"}]},
                "execution_spec": {"execution_type": "CREATIVE_REFRESH"}})
        log = self.optimize(token, [tiring], 2)  # the tick runs every owner's hourly rules

        def noisy_decided():
            _, _, noisy_log = http("GET", self.url(f"/v1/campaigns/{noisy}/optimizations"), token=other)
            return noisy_log["items"]
        log[noisy] = self.wait_for(noisy_decided, "the noisy campaign's decision", tries=240)
        by_asset = {d["asset_id"]: d for d in log[tiring]}
        self.assertEqual(by_asset[hero]["decision"], "applied", by_asset)
        self.assertEqual(by_asset[hero]["after_values"], {"action": "creative_refresh", "replacement": spare["id"]})
        self.assertEqual(by_asset[steady["id"]]["skip_reason"], "conditions_not_met", by_asset)
        self.assertTrue(str(log[noisy][0]["skip_reason"]).startswith("not_enough_data"), log[noisy])

        self.assertEqual(ad_of(tiring, hero)["status"], "PAUSED", "the tired creative's ad is paused on Meta")
        self.assertEqual(ad_of(tiring, spare["id"])["status"], "ACTIVE", "the unused creative now runs")
        self.assertEqual(ad_of(tiring, steady["id"])["status"], "ACTIVE")
        _, _, now = http("GET", self.url(f"/v1/campaigns/{tiring}/assets"), token=token)
        active = {a["asset"]["id"]: a["is_active"] for a in now["items"]}
        self.assertEqual(active, {hero: False, steady["id"]: True, spare["id"]: True})
        self.assertEqual(len(self.sim_objects(sim, "ad", f"[adpilot:{noisy}:")), 1, "noise changed nothing")

    def test_a_tired_creative_with_no_unused_one_is_replaced_by_one_generated_with_credits(self):
        token = self.signup()
        _, sim = self.connect_meta(token)
        tiring = self.launched_with_history(token, sim, "Generated chai", 15, impressions_per_day=60000, ctr=0.015,
                                            roas=3.0)
        _, _, listed = http("GET", self.url(f"/v1/campaigns/{tiring}/assets"), token=token)
        hero = listed["items"][0]["asset"]["id"]
        ad_of = lambda asset: self.sim_objects(sim, "ad", f"[adpilot:{tiring}:{asset}]")[0]
        status, _, _ = http("POST", f"{sim}/_sim/scenario", {"ad": ad_of(hero)["id"], "ctr_factor": [1.5, 0.5]})
        self.assertEqual(status, 200)
        self.sync_until(tiring, 16)
        spent = lambda: int(psql(f"SELECT monthly_ai_credits_used FROM subscriptions WHERE user_id = "
                                 f"(SELECT user_id FROM campaigns WHERE id = '{tiring}')", self.db))
        before = spent()
        self.rule(token, {
            "name": "Refresh, generating if need be", "campaign_id": tiring, "entity_type": "AD",
            "evaluation_spec": {"filters": [{"field": "ctr", "operator": "CHANGED_BY_PCT", "value": -15,
                                             "time_preset": "LAST_7D"}]},
            "execution_spec": {"execution_type": "CREATIVE_REFRESH", "refresh_spec": {"allow_generation": True}}})
        decided, = self.optimize(token, [tiring], 1)[tiring]
        self.assertEqual(decided["decision"], "applied", decided)
        generated = decided["after_values"]["generating"]
        self.assertEqual(spent(), before + 1, "one image's credits")
        self.wait_for(lambda: psql(f"SELECT status FROM creative_assets WHERE id = '{generated}'", self.db) == "active",
                      "the replacement to be generated", tries=240)

        self.invoke("optimizer")  # the tick swaps it in
        self.wait_for(lambda: psql(f"SELECT success FROM ai_optimization_logs WHERE id = '{decided['id']}'",
                                   self.db) == "t", "the refresh to finish")
        self.assertEqual(ad_of(hero)["status"], "PAUSED", "the tired creative's ad is paused on Meta")
        self.assertEqual(ad_of(generated)["status"], "ACTIVE", "the generated creative runs in its place")
        _, _, now = http("GET", self.url(f"/v1/campaigns/{tiring}/assets"), token=token)
        self.assertEqual({a["asset"]["id"]: a["is_active"] for a in now["items"]}, {hero: False, generated: True})
        self.assertEqual(spent(), before + 1, "spent once")

    def test_nothing_is_done_while_meta_says_learning_on_stale_data_or_after_the_owners_edit(self):
        token = self.signup()
        _, sim = self.connect_meta(token)
        c = self.launched_with_history(token, sim, "Careful chai", 8, impressions_per_day=30000, roas=5.0,
                                       learning_stage="LEARNING")
        self.sync_until(c, 9)
        self.rule(token, {
            "name": "Scale on ROAS", "campaign_id": c, "entity_type": "CAMPAIGN",
            "evaluation_spec": {"filters": [{"field": "roas", "operator": "GREATER_THAN", "value": 4,
                                             "time_preset": "LAST_3D"}]},
            "execution_spec": {"execution_type": "CHANGE_BUDGET", "change_spec": {"amount": "20", "unit": "PERCENTAGE"}}})
        log = self.optimize(token, [c], 1)[c]
        self.assertEqual(log[0]["skip_reason"], "learning_phase:meta_learning_stage", log[0])

        # Learning is over, but the last sync is four hours old.
        http("POST", f"{sim}/_sim/scenario", {"campaign": f"[adpilot:{c}]", "learning_stage": "SUCCESS"})
        psql(f"UPDATE campaigns SET meta_learning_stage = 'SUCCESS', last_synced_at = now() - interval '4 hours' "
             f"WHERE id = '{c}'", self.db)
        psql(f"UPDATE meta_ad_accounts SET last_sync_at = now() - interval '4 hours' WHERE ad_account_id = "
             f"'act_1234567890' AND user_id = (SELECT user_id FROM campaigns WHERE id = '{c}')", self.db)
        log = self.optimize(token, [c], 1)[c]
        self.assertEqual(log[0]["skip_reason"], "stale_data", log[0])

        # Fresh data again, and the owner changes the budget themselves.
        psql(f"UPDATE meta_ad_accounts SET last_sync_at = now() WHERE ad_account_id = 'act_1234567890' "
             f"AND user_id = (SELECT user_id FROM campaigns WHERE id = '{c}')", self.db)
        status, _, patched = http("PATCH", self.url(f"/v1/campaigns/{c}"), {"daily_budget": "1600.00"}, token=token)
        self.assertEqual(status, 200, patched)
        log = self.optimize(token, [c], 1)[c]
        self.assertEqual(log[0]["skip_reason"], "learning_phase:recent_significant_edit", log[0])
        self.assertFalse([d for d in log if d["decision"] == "applied"])
        adset, = self.sim_objects(sim, "adset", f"[adpilot:{c}:adset]")
        self.assertEqual(adset.get("budget_history"), ["160000"], "only the owner's own change reached Meta")

    def test_schemathesis_finds_no_server_errors_and_no_schema_violations(self):
        token = self.signup()
        run = subprocess.run(
            [os.path.join(os.path.dirname(sys.executable), "schemathesis"), "run", self.url("/v1/openapi.json"),
             "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,"
                         "response_schema_conformance,response_headers_conformance",
             "--max-examples", os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "10"), "--seed", "42",
             "-H", f"Authorization: Bearer {token}", "--request-timeout", "20"],
            capture_output=True, text=True, timeout=1200)
        self.assertEqual(run.returncode, 0, run.stdout[-4000:] + run.stderr[-2000:])


if __name__ == "__main__":
    unittest.main()
