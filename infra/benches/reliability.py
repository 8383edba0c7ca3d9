#!/usr/bin/env python3
"""Reliability drills: the platform behind the local gateway (real binaries, the S3/SQS
emulator, the Meta/Razorpay/Stripe/Google simulators) on a Postgres cluster of its own, which
the drills may stop. Each drill injects one fault under load and checks what a user and
the data see; figures go to reliability.md and reliability.json.

1. Postgres stopped and started during a mixed load: 503 (never 500) during the outage,
   no answer slower than the function timeout, recovery without restarting anything,
   every acknowledged write present.
2. The S3/SQS emulator frozen: uploads and generations answer errors or wait; the outbox
   keeps every committed message and relays exactly those afterwards.
3. Meta answering 500 and throttling codes during launches and the hourly sync: clients
   retry, the sync worker backs off, no duplicate Meta objects, no 500.
4. Razorpay and Stripe webhooks delivered twice and shuffled, from several clients at
   once: the final state of every subscription equals the one its twin reached from the
   same events delivered once, in order.
5. Load: many users, mixed reads, writes, uploads and generations: no 5xx, p50/p99 per
   route, the database's connection count against its limit.

    infra/bench --reliability            the full drills (minutes each)
    infra/bench --reliability --short    seconds each (infra/test runs it)
"""
import argparse
import hashlib
import hmac
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from datetime import datetime, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "infra", "tests"))
from test_local_stack import http, location_of  # noqa: E402
import media  # noqa: E402

WEBHOOK_SECRET = "drill-webhook-secret"
META_SECRET = "drill-meta-app-secret"
FUNCTION_TIMEOUT = 10  # seconds: template.yaml's Globals


def log(msg):
    print(f"[drills] {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_bin(name):
    for d in sorted(os.listdir("/usr/lib/postgresql"), reverse=True) if os.path.isdir("/usr/lib/postgresql") else []:
        path = f"/usr/lib/postgresql/{d}/bin/{name}"
        if os.path.exists(path):
            return path
    return shutil.which(name)


class Cluster:
    """A throwaway Postgres cluster the drills may stop and start."""

    def __init__(self, data):
        self.data, self.port = data, free_port()
        self.as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        shutil.rmtree(data, ignore_errors=True)
        os.makedirs(data)
        if os.geteuid() == 0:
            shutil.chown(data, "postgres")
        subprocess.run(self.as_pg + [pg_bin("initdb"), "-D", data, "-U", "postgres", "-A", "trust", "--no-sync"],
                       check=True, capture_output=True)
        self.start()

    def ctl(self, *args):
        subprocess.run(self.as_pg + [pg_bin("pg_ctl"), "-D", self.data, "-w", *args], check=True, capture_output=True)

    def start(self):
        self.ctl("-l", os.path.join(self.data, "log"), "-o",
                 f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c max_connections=200", "start")

    def stop(self):
        self.ctl("-m", "fast", "stop")

    def psql(self, sql, db="postgres"):
        out = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", db,
                              "-v", "ON_ERROR_STOP=1", "-Atq", "-f", "-"], input=sql, check=True,
                             capture_output=True, text=True)
        return out.stdout.strip()

    def url(self, role, db):
        return f"postgres://{role}@127.0.0.1:{self.port}/{db}"


class Stack:
    """The gateway with every function, the emulator and the simulators, on `cluster`."""

    DB = "adpilot_drill"

    def __init__(self, cluster, bin_dir, max_instances):
        self.cluster = cluster
        cluster.psql("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'adpilot_owner') THEN "
                     "CREATE ROLE adpilot_owner LOGIN CREATEROLE NOSUPERUSER NOBYPASSRLS; END IF; END $$")
        cluster.psql(f"CREATE DATABASE {self.DB} OWNER adpilot_owner")
        env = dict(os.environ,
                   DATABASE_OWNER_URL=cluster.url("adpilot_owner", self.DB),
                   DATABASE_URL=cluster.url("adpilot_app", self.DB),
                   DATABASE_WORKER_URL=cluster.url("adpilot_worker", self.DB),
                   JWT_SECRET="drill-secret-drill-secret-drill-secret-01",
                   RAZORPAY_KEY_ID="rzp_test_drill", RAZORPAY_KEY_SECRET="drill-key-secret",
                   RAZORPAY_WEBHOOK_SECRET=WEBHOOK_SECRET, GEMINI_API_KEY="drill-gemini-key",
                   STRIPE_SECRET_KEY="sk_test_drill", STRIPE_WEBHOOK_SECRET=STRIPE_WEBHOOK_SECRET,
                   VEO_POLL_SECONDS="1", META_APP_ID="100200300400500", META_APP_SECRET=META_SECRET,
                   META_VERIFY_TOKEN="drill-verify-token",
                   TOKEN_ENCRYPTION_KEYS="drill1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
                   # every simulated user comes from 127.0.0.1
                   AUTH_IP_LIMIT_PER_MINUTE="1000000", AWS_REGION="ap-south-1", RUST_LOG="warn")
        for inherited in ("RAZORPAY_API_URL", "STRIPE_API_URL", "GEMINI_API_URL", "META_GRAPH_URL", "AWS_ENDPOINT_URL"):
            env.pop(inherited, None)
        subprocess.run([os.path.join(bin_dir, "migrate")], env=env, check=True, capture_output=True)
        self.log_path = os.path.join(ROOT, "target", "drill-gateway.log")
        self.log = open(self.log_path, "w")
        self.gw = subprocess.Popen(
            [sys.executable, os.path.join(ROOT, "infra", "gateway.py"), "--template", os.path.join(ROOT, "template.yaml"),
             "--bin-dir", bin_dir, "--port", "0", "--max-instances", str(max_instances), "--moto", "0", "--simulators"],
            env=env, stdout=subprocess.PIPE, stderr=self.log, text=True, start_new_session=True)
        line = self.gw.stdout.readline()
        assert line.startswith("ADPILOT_GATEWAY_LISTENING"), line
        self.base = line.split()[1]
        self.sims, self.moto_port = {}, None
        for entry in open(self.log_path):
            try:
                doc = json.loads(entry)
            except ValueError:
                continue
            if doc.get("event") == "simulator":
                self.sims[doc["name"]] = doc["url"]
            if doc.get("event") == "aws_emulator_ready":
                self.moto_port = int(doc["endpoint"].rsplit(":", 1)[1])

    def url(self, path):
        return self.base + path

    def psql(self, sql):
        return self.cluster.psql(sql, self.DB)

    def moto_pid(self):
        out = subprocess.run(["pgrep", "-f", f"moto_server -H 127.0.0.1 -p {self.moto_port}"],
                             capture_output=True, text=True).stdout.split()
        return int(out[0])

    def signup(self):
        email = f"drill.{uuid.uuid4().hex[:10]}@example.com"
        status, _, body = http("POST", self.url("/v1/auth/signup"), {"email": email, "password": "correct-horse-battery"})
        assert status == 201, body
        return body["access_token"], body["user"]["id"]

    def stop(self):
        os.killpg(self.gw.pid, signal.SIGTERM)
        self.gw.wait(timeout=30)
        self.log.close()


def timed(method, url, body=None, token=None, raw=None, headers=None, timeout=30):
    """`http` with its latency; a refused or timed-out connection answers status 0."""
    t = time.monotonic()
    try:
        status, hdrs, doc = http(method, url, body, token, raw, headers, timeout)
    except Exception as e:
        status, hdrs, doc = 0, {}, {"error": str(e)}
    return status, hdrs, doc, (time.monotonic() - t) * 1000


def pct(values, p):
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(p / 100 * len(values)))], 1)


def statuses(records):
    out = {}
    for r in records:
        out[str(r["status"])] = out.get(str(r["status"]), 0) + 1
    return dict(sorted(out.items()))


# --- the mixed load -------------------------------------------------------------------------

CAMPAIGN = {"name": "Drill", "purpose": "sales", "daily_budget": "1500.00",
            "target_audience": {"age_min": 21, "age_max": 45, "geo_locations": {"countries": ["IN"]}}}


def load(stack, users, seconds, mix, on_write=None, stop_at=None):
    """Each user loops over `mix` (route name → weight) for `seconds`; every answer is
    recorded with its route, status, time and latency."""
    records, lock = [], threading.Lock()
    end = time.monotonic() + seconds
    image = media.image(1080, 1350, "PNG")
    routes = [r for r, w in mix.items() for _ in range(w)]

    def one(route, token):
        if route == "list_campaigns":
            return timed("GET", stack.url("/v1/campaigns?limit=10"), token=token)
        if route == "create_campaign":
            s, h, d, ms = timed("POST", stack.url("/v1/campaigns"), dict(CAMPAIGN, name=f"Drill {uuid.uuid4().hex[:6]}"),
                                token=token)
            if s == 201 and on_write:
                on_write(d["id"])
            return s, h, d, ms
        if route == "me":
            return timed("GET", stack.url("/v1/me"), token=token)
        if route == "usage":
            return timed("GET", stack.url("/v1/usage"), token=token)
        if route == "summary":
            return timed("GET", stack.url("/v1/analytics/summary"), token=token)
        if route == "upload":
            s, h, d, ms = timed("POST", stack.url("/v1/assets/uploads"),
                                {"filename": "hero.png", "content_type": "image/png", "size": len(image)}, token=token)
            if s == 201:
                up = d["upload"]
                put = timed(up["method"], up["url"], raw=image, headers=up["headers"], timeout=10)
                ms += put[3]
            return s, h, d, ms
        if route == "generate":
            return timed("POST", stack.url("/v1/generations"),
                         {"type": "image", "prompt": "masala chai on a brass tray", "format": "1:1"}, token=token)
        raise ValueError(route)

    def user(token):
        rnd = random.Random(token)
        while time.monotonic() < end and not (stop_at and stop_at.is_set()):
            route = rnd.choice(routes)
            t0 = time.time()
            s, _, _, ms = one(route, token)
            with lock:
                records.append({"route": route, "status": s, "ms": ms, "at": t0})

    tokens = [t for t, _ in (stack.signup() for _ in range(users))] if isinstance(users, int) else users
    threads = [threading.Thread(target=user, args=(t,), daemon=True) for t in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return records


def per_route(records):
    routes = {}
    for r in records:
        routes.setdefault(r["route"], []).append(r)
    return {route: {"requests": len(rs), "statuses": statuses(rs),
                    "p50_ms": pct([r["ms"] for r in rs], 50), "p99_ms": pct([r["ms"] for r in rs], 99)}
            for route, rs in sorted(routes.items())}


# --- drill 1: Postgres restarted under load ---------------------------------------------------

def drill_postgres(stack, users, seconds, outage):
    acked, lock = [], threading.Lock()

    def wrote(cid):
        with lock:
            acked.append(cid)

    tokens = [stack.signup()[0] for _ in range(users)]
    window = {}

    def fault():
        time.sleep(seconds * 0.3)
        window["down"] = time.time()
        stack.cluster.stop()
        time.sleep(outage)
        stack.cluster.start()
        window["up"] = time.time()

    f = threading.Thread(target=fault)
    f.start()
    records = load(stack, tokens, seconds, {"list_campaigns": 3, "create_campaign": 2, "me": 1}, on_write=wrote)
    f.join()
    during = [r for r in records if window["down"] <= r["at"] <= window["up"]]
    after = [r for r in records if r["at"] > window["up"] + 3]
    ids = ",".join(f"'{i}'" for i in acked) or "NULL"
    present = int(stack.psql(f"SELECT count(*) FROM campaigns WHERE id IN ({ids})")) if acked else 0
    bad = [r for r in records if r["status"] in (0, 500, 502, 504)]
    result = {
        "outage_seconds": outage, "requests": len(records), "during_outage": statuses(during),
        "after_recovery": statuses(after), "server_errors_other_than_503": len(bad),
        "slowest_ms": round(max(r["ms"] for r in records), 1),
        "acknowledged_writes": len(acked), "acknowledged_writes_present": present,
    }
    result["ok"] = (not bad and present == len(acked) and all(r["status"] < 500 for r in after)
                    and result["slowest_ms"] < (FUNCTION_TIMEOUT + 2) * 1000 and bool(after))
    return result


# --- drill 2: the S3/SQS emulator frozen ------------------------------------------------------

def drill_emulator(stack, users, pause):
    tokens = [stack.signup()[0] for _ in range(users)]
    # Warm every function on the path first: the emulator also plays Secrets Manager,
    # which a cold start reads (in AWS a separate service, not part of this fault).
    img = media.image(1080, 1080, "PNG")
    http("POST", stack.url("/v1/generations"), {"type": "image", "prompt": "chai", "format": "1:1"}, token=tokens[0])
    _, _, ticket = http("POST", stack.url("/v1/assets/uploads"),
                        {"filename": "a.png", "content_type": "image/png", "size": len(img)}, token=tokens[0])
    http(ticket["upload"]["method"], ticket["upload"]["url"], raw=img, headers=ticket["upload"]["headers"])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and stack.psql(
            "SELECT count(*) FROM creative_assets WHERE status = 'processing'") != "0":
        time.sleep(0.5)
    pid = stack.moto_pid()
    before = int(stack.psql("SELECT coalesce(max(id), 0) FROM outbox"))
    warm_generated = int(stack.psql("SELECT count(*) FROM creative_assets WHERE source = 'generated' "
                                    "AND status = 'active'"))
    records = []
    os.kill(pid, signal.SIGSTOP)
    try:
        end = time.monotonic() + pause
        while time.monotonic() < end:
            for token in tokens:
                s, _, d, ms = timed("POST", stack.url("/v1/generations"),
                                    {"type": "image", "prompt": "chai", "format": "1:1"}, token=token)
                records.append({"route": "generate", "status": s, "ms": ms, "at": time.time(),
                                "job": d.get("job_id") if isinstance(d, dict) else None})
            img = media.image(1080, 1080, "PNG")
            s, _, d, ms = timed("POST", stack.url("/v1/assets/uploads"),
                                {"filename": "a.png", "content_type": "image/png", "size": len(img)}, token=tokens[0])
            put_status = timed(d["upload"]["method"], d["upload"]["url"], raw=img, headers=d["upload"]["headers"],
                               timeout=5)[0] if s == 201 else None
            records.append({"route": "upload", "status": s, "put_status": put_status, "ms": ms, "at": time.time()})
    finally:
        os.kill(pid, signal.SIGCONT)
    accepted = [r for r in records if r["route"] == "generate" and r["status"] == 202]
    committed = int(stack.psql(f"SELECT count(*) FROM outbox WHERE topic = 'generation' AND id > {before}"))
    waited = 0
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        unsent = int(stack.psql(f"SELECT count(*) FROM outbox WHERE topic = 'generation' AND id > {before} "
                                "AND sent_at IS NULL"))
        running = int(stack.psql("SELECT count(*) FROM background_jobs WHERE job_type LIKE '%generation' "
                                 "AND status NOT IN ('completed', 'failed', 'cancelled')"))
        if unsent == 0 and running == 0:
            break
        time.sleep(2)
        waited += 2
    jobs = [r["job"] for r in accepted if r.get("job")]
    ids = ",".join(f"'{j}'" for j in jobs) or "NULL"
    finished = int(stack.psql(f"SELECT count(*) FROM background_jobs WHERE id IN ({ids}) "
                              "AND status IN ('completed', 'failed')")) if jobs else 0
    generated_assets = int(stack.psql("SELECT count(*) FROM creative_assets WHERE source = 'generated' "
                                      "AND status = 'active'")) - warm_generated
    result = {
        "pause_seconds": pause, "generation_answers": statuses([r for r in records if r["route"] == "generate"]),
        "upload_answers": statuses([r for r in records if r["route"] == "upload"]),
        "upload_puts_while_frozen": statuses([{"status": r["put_status"]} for r in records if r["route"] == "upload"]),
        "slowest_ms": round(max(r["ms"] for r in records), 1),
        "accepted_generations": len(accepted), "outbox_messages_committed": committed,
        "relayed_within_seconds_after_thaw": waited, "jobs_finished": finished,
        "generated_assets_active": generated_assets,
        "server_errors": sum(1 for r in records if r["status"] >= 500 or r["status"] == 0),
    }
    result["ok"] = (committed == len(accepted) and finished == len(jobs) == len(accepted)
                    and result["server_errors"] == 0 and generated_assets == len(accepted))
    return result


# --- drill 3: Meta failing and throttling during launches -------------------------------------

def connect_meta(stack, token):
    status, _, link = http("GET", stack.url("/v1/meta/connect"), token=token)
    location = location_of(link["authorization_url"])
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
    status, _, connected = http("POST", stack.url("/v1/meta/callback"), {"code": q["code"], "state": q["state"]},
                                token=token)
    assert status == 200, connected


def launchable(stack, token):
    img = media.image(1080, 1080, "PNG")
    _, _, ticket = http("POST", stack.url("/v1/assets/uploads"),
                        {"filename": "hero.png", "content_type": "image/png", "size": len(img)}, token=token)
    http(ticket["upload"]["method"], ticket["upload"]["url"], raw=img, headers=ticket["upload"]["headers"])
    asset = ticket["asset"]["id"]
    for _ in range(100):
        if http("GET", stack.url(f"/v1/assets/{asset}"), token=token)[2]["status"] != "processing":
            break
        time.sleep(0.2)
    http("PUT", stack.url("/v1/business-profile"), {"business_name": "Chai Point", "website_url": "https://chai.example"},
         token=token)
    _, _, c = http("POST", stack.url("/v1/campaigns"), dict(CAMPAIGN, name="Drill launch"), token=token)
    http("PUT", stack.url(f"/v1/campaigns/{c['id']}/assets/{asset}"), {"asset_role": "primary"}, token=token)
    return c["id"]


def drill_meta(stack, users, seconds):
    meta = stack.sims["meta"]
    prepared = []
    for _ in range(users):
        token = stack.signup()[0]
        connect_meta(stack, token)
        prepared.append((token, launchable(stack, token)))
    throttle = {"error": {"message": "User request limit reached", "type": "OAuthException", "code": 17,
                          "error_subcode": 2446079, "fbtrace_id": "drill"}}
    http("POST", f"{meta}/_sim/fail", {"path": "/v25.0/act_", "status": 500, "for_seconds": seconds, "every": 3})
    http("POST", f"{meta}/_sim/fail", {"path": "/v25.0/act_", "status": 400, "body": throttle,
                                       "for_seconds": seconds, "every": 4})
    answers, lock = [], threading.Lock()
    end = time.monotonic() + seconds + 60

    def launch(token, cid):
        delay = 1.0
        while time.monotonic() < end:
            s, _, d, ms = timed("POST", stack.url(f"/v1/campaigns/{cid}/launch"), {"ad_account_id": "act_1234567890"},
                                token=token)
            with lock:
                answers.append({"route": "launch", "status": s, "ms": ms, "at": time.time(),
                                "code": d.get("code") if isinstance(d, dict) else None})
            if s == 200 or (s == 409 and isinstance(d, dict) and d.get("code") == "already_launched"):
                return True
            time.sleep(delay)
            delay = min(delay * 2, 8)
        return False

    threads = [threading.Thread(target=launch, args=p) for p in prepared]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # The hourly sync, now (Lambda's Invoke API on the gateway), while Meta may still fail.
    http("POST", stack.url("/2015-03-31/functions/ScheduledSyncFunction/invocations"), {"source": "drill"})
    sync_deadline = time.monotonic() + seconds + 300
    while time.monotonic() < sync_deadline:
        left = int(stack.psql("SELECT count(*) FROM background_jobs WHERE job_type = 'meta_sync' "
                              "AND status NOT IN ('completed', 'failed', 'cancelled')"))
        if left == 0:
            break
        time.sleep(3)
    syncs = stack.psql("SELECT coalesce(string_agg(status || ':' || n, ',' ORDER BY status), '') FROM "
                       "(SELECT status, count(*) n FROM background_jobs WHERE job_type = 'meta_sync' GROUP BY status) s")
    rows = int(stack.psql("SELECT count(*) FROM performance_analytics"))
    _, _, objects = http("GET", f"{meta}/_sim/objects")
    duplicates = 0
    for _, cid in prepared:
        for kind, tag in (("campaign", f"[adpilot:{cid}]"), ("adset", f"[adpilot:{cid}:adset]")):
            n = sum(1 for o in objects["data"] if o["kind"] == kind and tag in (o["fields"].get("name") or ""))
            duplicates += max(0, n - 1)
    launched = int(stack.psql("SELECT count(*) FROM campaigns WHERE status = 'active' AND meta_campaign_id IS NOT NULL"))
    result = {"fault_seconds": seconds, "launches": len(prepared), "launched": launched,
              "answers": statuses(answers), "codes": sorted({a["code"] for a in answers if a["code"]}),
              "duplicate_meta_objects": duplicates,
              "user_visible_500s": sum(1 for a in answers if a["status"] == 500),
              "sync_jobs": syncs, "insight_rows": rows}
    # Every sync job ends: completed, or failed with its reason after its last delivery
    # (the next hourly sync tries again); none is left running with its message gone.
    ended = all(part.split(":")[0] in ("completed", "failed") for part in syncs.split(",") if part)
    result["ok"] = (launched == len(prepared) and duplicates == 0 and result["user_visible_500s"] == 0
                    and ended and "completed:" in syncs and rows > 0)
    return result


# --- drill 4: webhooks twice and out of order -------------------------------------------------

def razorpay_events(sub, t0):
    """One subscription's life as Razorpay reports it, oldest first."""
    day = 86400
    ev = []

    def add(name, status, at, period=None, payment=None):
        entity = {"id": sub, "entity": "subscription", "plan_id": "plan_adpilot_pro_m", "status": status,
                  "current_start": period[0] if period else None, "current_end": period[1] if period else None,
                  "notes": {}}
        payload = {"subscription": {"entity": entity}}
        if payment:
            payload["payment"] = {"entity": {"id": payment, "entity": "payment", "amount": 399900, "currency": "INR",
                                             "status": "captured", "notes": []}}
        ev.append({"entity": "event", "account_id": "acc_drill", "event": name, "contains": list(payload),
                   "payload": payload, "created_at": at})

    add("subscription.authenticated", "authenticated", t0)
    add("subscription.activated", "active", t0 + 10, (t0, t0 + 30 * day))
    add("subscription.charged", "active", t0 + 20, (t0, t0 + 30 * day), f"pay_{sub}_1")
    add("subscription.charged", "active", t0 + 30 * day + 5, (t0 + 30 * day, t0 + 60 * day), f"pay_{sub}_2")
    add("subscription.pending", "pending", t0 + 60 * day + 5)
    add("subscription.halted", "halted", t0 + 62 * day)
    add("subscription.resumed", "active", t0 + 63 * day, (t0 + 63 * day, t0 + 93 * day))
    add("subscription.charged", "active", t0 + 63 * day + 5, (t0 + 63 * day, t0 + 93 * day), f"pay_{sub}_3")
    add("subscription.paused", "paused", t0 + 70 * day)
    add("subscription.cancelled", "cancelled", t0 + 80 * day)
    return ev


def deliver_razorpay(stack, event, event_id):
    body = json.dumps(event).encode()
    sig = hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    s, _, _, _ = timed("POST", stack.url("/webhooks/razorpay"), raw=body,
                       headers={"content-type": "application/json", "x-razorpay-signature": sig,
                                "x-razorpay-event-id": event_id})
    return s


STRIPE_WEBHOOK_SECRET = "whsec_drill"


def deliver_concurrently(deliveries, deliver, workers):
    """Sends every delivery with `deliver` from `workers` threads at once; the answers."""
    lock, queue, answers = threading.Lock(), list(deliveries), []

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                d = queue.pop()
            status = deliver(d)
            with lock:
                answers.append(status)

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


def stripe_events(row, sub, customer, session, t0):
    """One Stripe subscription's life as Stripe reports it, oldest first, with event ids."""
    day = 86400
    ev = []

    def subscription(status, period, cancel_at_period_end=False):
        return {"id": sub, "object": "subscription", "status": status, "customer": customer,
                "cancel_at_period_end": cancel_at_period_end, "default_payment_method": f"pm_{sub}",
                "metadata": {"adpilot_subscription_id": row},
                "items": {"object": "list", "data": [{"id": f"si_{sub}", "current_period_start": period[0],
                                                      "current_period_end": period[1]}]}}

    def invoice(inv, reason, period, paid):
        return {"id": inv, "object": "invoice", "customer": customer, "currency": "usd", "amount_due": 4900,
                "amount_paid": 4900 if paid else 0, "billing_reason": reason, "attempt_count": 1,
                "parent": {"type": "subscription_details", "subscription_details": {
                    "subscription": sub, "metadata": {"adpilot_subscription_id": row}}},
                "lines": {"object": "list", "data": [{"period": {"start": period[0], "end": period[1]}}]}}

    def add(kind, at, obj):
        ev.append({"id": f"evt_{sub}_{len(ev)}", "object": "event", "type": kind, "created": at,
                   "api_version": "2025-03-31.basil", "livemode": False, "data": {"object": obj}})

    p1, p2, p3 = (t0, t0 + 30 * day), (t0 + 30 * day, t0 + 60 * day), (t0 + 60 * day, t0 + 90 * day)
    add("customer.subscription.created", t0, subscription("incomplete", p1))
    add("invoice.paid", t0 + 1, invoice(f"in_{sub}_1", "subscription_create", p1, True))
    add("customer.subscription.updated", t0 + 2, subscription("active", p1))
    add("checkout.session.completed", t0 + 3, {"id": session, "object": "checkout.session", "mode": "subscription",
                                                "payment_status": "paid", "status": "complete",
                                                "customer": customer, "subscription": sub})
    add("invoice.paid", p2[0] + 5, invoice(f"in_{sub}_2", "subscription_cycle", p2, True))
    add("customer.subscription.updated", p2[0] + 6, subscription("active", p2))
    add("invoice.payment_failed", p3[0] + 5, invoice(f"in_{sub}_3", "subscription_cycle", p3, False))
    add("customer.subscription.updated", p3[0] + 6, subscription("past_due", p2))
    add("invoice.paid", p3[0] + day, invoice(f"in_{sub}_3", "subscription_cycle", p3, True))
    add("customer.subscription.updated", p3[0] + day + 1, subscription("active", p3))
    add("customer.subscription.updated", p3[0] + 10 * day, subscription("active", p3, cancel_at_period_end=True))
    add("customer.subscription.deleted", p3[1], subscription("canceled", p3))
    return ev


def deliver_stripe(stack, event):
    body = json.dumps(event).encode()
    t = int(time.time())
    sig = hmac.new(STRIPE_WEBHOOK_SECRET.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    s, _, _, _ = timed("POST", stack.url("/webhooks/stripe"), raw=body,
                       headers={"content-type": "application/json", "stripe-signature": f"t={t},v1={sig}"})
    return s


def replay_stripe(stack, pairs, workers, t0):
    """The replay drill for Stripe: each subscription's events in order, and its twin's
    events twice each, shuffled, from several clients at once; the final states must agree."""
    lives = {}
    for i in range(pairs):
        for group in ("in_order", "replayed"):
            _, user_id = stack.signup()
            row, sub = str(uuid.uuid4()), f"sub_st_{group}_{i}"
            customer, session = f"cus_{group}_{i}", f"cs_{group}_{i}"
            stack.psql("INSERT INTO subscriptions (id, user_id, tier, billing_cycle, price, currency, status, is_current, "
                       "payment_method, stripe_checkout_session_id, current_period_start, current_period_end, "
                       "monthly_ai_credits_limit) "
                       f"VALUES ('{row}', '{user_id}', 'professional', 'monthly', 49, 'USD', 'created', false, 'stripe', "
                       f"'{session}', now(), now() + interval '30 days', 200); "
                       f"INSERT INTO billing_customers (user_id, provider, customer_id) VALUES ('{user_id}', 'stripe', "
                       f"'{customer}')")
            lives[(group, i)] = stripe_events(row, sub, customer, session, t0)
    answers = [deliver_stripe(stack, e) for i in range(pairs) for e in lives[("in_order", i)]]
    queue = [e for i in range(pairs) for e in lives[("replayed", i)] for _ in range(2)]
    random.Random(17).shuffle(queue)
    answers += deliver_concurrently(queue, lambda e: deliver_stripe(stack, e), workers)

    def state(sub):
        return stack.psql(
            "SELECT concat_ws('|', s.status, s.is_current, extract(epoch FROM s.current_period_start)::int8, "
            "s.monthly_ai_credits_used, s.cancel_at_period_end, s.payment_method_id, "
            "(SELECT string_agg(p.status, ',' ORDER BY p.provider_payment_id) FROM payments p "
            " WHERE p.subscription_id = s.id), u.subscription_status) "
            f"FROM subscriptions s JOIN users u ON u.id = s.user_id WHERE s.stripe_subscription_id = '{sub}'")
    differ = [i for i in range(pairs)
              if state(f"sub_st_in_order_{i}").replace(f"sub_st_in_order_{i}", "")
              != state(f"sub_st_replayed_{i}").replace(f"sub_st_replayed_{i}", "")]
    for i in differ[:3]:
        log(f"stripe differs: in order {state(f'sub_st_in_order_{i}')} / replayed {state(f'sub_st_replayed_{i}')}")
    return {"subscriptions_compared": pairs, "answers": statuses([{"status": s} for s in answers]),
            "final_states_that_differ": len(differ), "example_final_state": state("sub_st_in_order_0"),
            "ok": not differ and all(s == 200 for s in answers)}


def drill_replay(stack, pairs, workers):
    t0 = 1_764_000_000
    users = {}
    for i in range(pairs):
        for group in ("in_order", "replayed"):
            _, user_id = stack.signup()
            sub = f"sub_{group}_{i}"
            stack.psql("INSERT INTO subscriptions (user_id, tier, billing_cycle, price, status, is_current, "
                       "payment_method, razorpay_subscription_id, current_period_start, current_period_end, monthly_ai_credits_limit) "
                       f"VALUES ('{user_id}', 'professional', 'monthly', 3999, 'created', false, 'razorpay', '{sub}', now(), "
                       "now() + interval '30 days', 200)")
            users[sub] = user_id
    in_order, replayed = [], []
    for i in range(pairs):
        for n, e in enumerate(razorpay_events(f"sub_in_order_{i}", t0)):
            in_order.append((e, f"evt_in_order_{i}_{n}"))
        for n, e in enumerate(razorpay_events(f"sub_replayed_{i}", t0)):
            replayed += [(e, f"evt_replayed_{i}_{n}")] * 2
    random.Random(16).shuffle(replayed)
    answers = [deliver_razorpay(stack, e, eid) for e, eid in in_order]
    answers += deliver_concurrently(replayed, lambda d: deliver_razorpay(stack, *d), workers)

    def state(sub):
        return stack.psql(
            "SELECT concat_ws('|', s.status, s.is_current, extract(epoch FROM s.current_period_start)::int8, s.tier, "
            "s.monthly_ai_credits_used, s.monthly_ai_credits_limit, s.cancel_at_period_end, "
            "extract(epoch FROM s.last_event_at)::int8, "
            "(SELECT count(*) FROM payments p WHERE p.subscription_id = s.id), u.subscription_status) "
            f"FROM subscriptions s JOIN users u ON u.id = s.user_id WHERE s.razorpay_subscription_id = '{sub}'")
    differ = [i for i in range(pairs) if state(f"sub_in_order_{i}") != state(f"sub_replayed_{i}")]
    for i in differ[:3]:
        log(f"differs: in order {state(f'sub_in_order_{i}')} / replayed {state(f'sub_replayed_{i}')}")
    result = {"subscriptions_compared": pairs, "events_in_order": len(in_order), "deliveries_replayed": len(replayed),
              "answers": statuses([{"status": s} for s in answers]), "final_states_that_differ": len(differ),
              "example_final_state": state("sub_in_order_0")}
    result["stripe"] = replay_stripe(stack, pairs, workers, t0)
    result["ok"] = not differ and all(s == 200 for s in answers) and result["stripe"]["ok"]
    return result


def stripe_replay_lines(d):
    """The Stripe half of drill 4's report (absent in reports from before it existed)."""
    if not d:
        return []
    return [f"- Stripe: {d['subscriptions_compared']} subscriptions, each life of 12 events (checkout, renewal, a "
            f"failed and retried payment, cancel at period end, deletion) in order once, their twins' twice each "
            f"shuffled: answers {d['answers']}; final states that differ: **{d['final_states_that_differ']}** "
            f"(e.g. `{d['example_final_state']}`)."]


# --- drill 5: load --------------------------------------------------------------------------

def drill_load(stack, users, seconds):
    peak, stop = {"connections": 0}, threading.Event()

    def watch():
        while not stop.is_set():
            n = int(stack.cluster.psql("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"))
            peak["connections"] = max(peak["connections"], n)
            time.sleep(0.5)

    tokens = [stack.signup()[0] for _ in range(users)]
    w = threading.Thread(target=watch, daemon=True)
    w.start()
    t = time.monotonic()
    records = load(stack, tokens, seconds, {"list_campaigns": 4, "me": 2, "usage": 2, "summary": 2,
                                            "create_campaign": 2, "upload": 1, "generate": 1})
    elapsed = time.monotonic() - t
    stop.set()
    limit = int(stack.cluster.psql("SHOW max_connections"))
    result = {"users": users, "seconds": seconds, "requests": len(records),
              "requests_per_second": round(len(records) / elapsed, 1), "statuses": statuses(records),
              "routes": per_route(records), "peak_db_connections": peak["connections"],
              "db_connection_limit": limit}
    return judge_load(result)


def judge_load(result):
    """5xx are the platform's failures. Status 0 is the client giving up after 30 s while
    its request still waited in the local gateway's queue for one of the function's few
    instances (`--max-instances`), where Lambda would have started more; it is counted
    apart."""
    counts = {int(k): v for k, v in result["statuses"].items()}
    result["server_errors"] = sum(v for k, v in counts.items() if k >= 500)
    result["client_timeouts"] = counts.get(0, 0)
    result["ok"] = result["server_errors"] == 0 and result["peak_db_connections"] < result["db_connection_limit"]
    return result


# --- report ---------------------------------------------------------------------------------

def markdown(r):
    ok = lambda v: "✅" if v else "❌"  # noqa: E731
    d1, d2, d3, d4, d5 = (r["drills"][k] for k in ("postgres", "emulator", "meta", "replay", "load"))
    lines = [
        "# Reliability drills", "",
        f"Run {r['when']} on {r['machine']}, {r['profile']} binaries, `infra/bench --reliability"
        f"{' --short' if r['short'] else ''}`; the local gateway runs every function (at most "
        f"{r['max_instances']} instances each) with the S3/SQS emulator and the simulators, on a "
        "Postgres cluster of the drill's own."
        + (f" Drills `{r['rerun']}` were rerun alone after a fix." if r.get("rerun") else ""), "",
        f"## 1. Postgres stopped for {d1['outage_seconds']} s under load {ok(d1['ok'])}", "",
        f"- {d1['requests']} requests; during the outage: {d1['during_outage']}; after recovery: "
        f"{d1['after_recovery']}.",
        f"- Server errors other than 503: **{d1['server_errors_other_than_503']}**; slowest answer "
        f"{d1['slowest_ms']} ms (function timeout {FUNCTION_TIMEOUT} s).",
        f"- Acknowledged writes: {d1['acknowledged_writes']}, present afterwards: "
        f"**{d1['acknowledged_writes_present']}**. Nothing was restarted.", "",
        f"## 2. S3/SQS emulator frozen for {d2['pause_seconds']} s {ok(d2['ok'])}", "",
        f"- Generations asked meanwhile: {d2['generation_answers']}; upload tickets: {d2['upload_answers']}, "
        f"their PUTs to the frozen S3: {d2['upload_puts_while_frozen']} (0 = no answer within 5 s).",
        f"- Slowest answer {d2['slowest_ms']} ms. Accepted generations {d2['accepted_generations']}, outbox "
        f"messages committed {d2['outbox_messages_committed']}, all relayed {d2['relayed_within_seconds_after_thaw']} s "
        f"after the thaw; jobs finished {d2['jobs_finished']}, images made {d2['generated_assets_active']} "
        "(exactly the committed ones).", "",
        f"## 3. Meta failing for {d3['fault_seconds']} s during launches {ok(d3['ok'])}", "",
        "- One in three ad-account calls answered HTTP 500 and one in four code 17 (user request limit).",
        f"- {d3['launches']} launches, retried by their clients with backoff: answers {d3['answers']} "
        f"(codes {d3['codes']}); launched {d3['launched']}; duplicate Meta objects **{d3['duplicate_meta_objects']}**; "
        f"500s **{d3['user_visible_500s']}**.",
        f"- Then the hourly sync, invoked at once: its jobs (and the first syncs of the new connections) ended "
        f"{d3['sync_jobs']} — retried by the sync worker with backoff while Meta failed, failed with the reason "
        f"after the last delivery, none left running — and {d3['insight_rows']} insight rows were stored.", "",
        f"## 4. Razorpay and Stripe webhooks twice and out of order {ok(d4['ok'])}", "",
        f"- {d4['subscriptions_compared']} subscriptions got {d4['events_in_order']} events in order, once; their "
        f"twins got the same events twice each, shuffled ({d4['deliveries_replayed']} deliveries, concurrently).",
        f"- Answers {d4['answers']}; final states that differ between twins: **{d4['final_states_that_differ']}** "
        f"(e.g. `{d4['example_final_state']}`: status, current, period start, tier, credits used/limit, "
        "cancel at end, last event, payments, the user's copy).",
        *stripe_replay_lines(d4.get("stripe")), "",
        f"## 5. Load: {d5['users']} users for {d5['seconds']} s {ok(d5['ok'])}", "",
        f"- {d5['requests']} requests ({d5['requests_per_second']}/s), statuses {d5['statuses']}, 5xx "
        f"**{d5['server_errors']}**; peak database connections {d5['peak_db_connections']} of "
        f"{d5['db_connection_limit']}.",
        f"- {d5['client_timeouts']} requests (status 0) were given up by their client after 30 s in the local "
        f"gateway's queue: every function runs at most {r['max_instances']} instances here, and a generation "
        "holds its instance while the emulator's SQS accepts the message, so under 200 users the generation "
        "queue grew; Lambda would start more instances. 429s are the gateway's queue limit (256), as API "
        "Gateway throttles.", "",
        "| route | requests | statuses | p50 ms | p99 ms |", "|---|---|---|---|---|",
    ]
    for route, s in d5["routes"].items():
        lines.append(f"| {route} | {s['requests']} | {s['statuses']} | {s['p50_ms']} | {s['p99_ms']} |")
    lines += ["", "Not drilled here: RDS Proxy itself and Secrets Manager outages (AWS only; locally the "
              "emulator plays Secrets Manager too, so drill 2 warms the functions before freezing it)."]
    return "\n".join(lines) + "\n"


class Drills(dict):
    """The results so far, each logged as soon as its drill is done."""

    def __setitem__(self, key, value):
        log(f"{key}: {'ok' if value['ok'] else 'FAILED'} "
            f"{json.dumps({x: y for x, y in value.items() if x != 'routes'})}")
        super().__setitem__(key, value)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--profile", default="release")
    ap.add_argument("--short", action="store_true")
    ap.add_argument("--max-instances", type=int, help="per function (default 8; 2 with --short)")
    ap.add_argument("--only", help="comma-separated drills to run (postgres,emulator,meta,replay,load)")
    args = ap.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    s = args.short
    max_instances = args.max_instances or (2 if s else 8)
    cluster = Cluster(os.path.join(ROOT, ".local", "drill-pg"))
    stack = Stack(cluster, args.bin_dir, max_instances)
    drills = Drills()
    want = lambda name: not args.only or name in args.only.split(",")  # noqa: E731
    try:
        log("1/5 Postgres stopped under load")
        if want("postgres"):
            drills["postgres"] = drill_postgres(stack, users=4 if s else 20, seconds=12 if s else 60, outage=3 if s else 15)
        log("2/5 the S3/SQS emulator frozen")
        if want("emulator"):
            drills["emulator"] = drill_emulator(stack, users=2 if s else 10, pause=4 if s else 60)
        log("3/5 Meta failing during launches")
        if want("meta"):
            drills["meta"] = drill_meta(stack, users=2 if s else 10, seconds=5 if s else 300)
        log("4/5 webhooks twice and out of order")
        if want("replay"):
            drills["replay"] = drill_replay(stack, pairs=3 if s else 50, workers=4 if s else 8)
        log("5/5 load")
        if want("load"):
            drills["load"] = drill_load(stack, users=10 if s else 200, seconds=8 if s else 300)
    finally:
        stack.stop()
        cluster.stop()
    earlier_path = os.path.join(args.out_dir, "reliability.json")
    if args.only and os.path.exists(earlier_path):
        # A partial run replaces only its drills in the last full report.
        earlier = json.load(open(earlier_path))
        drills = dict(earlier["drills"], **drills)
        drills["load"] = judge_load(drills["load"])
    result = {"when": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
              "machine": f"{os.cpu_count()} cores", "profile": args.profile, "short": s,
              "max_instances": max_instances, "drills": dict(drills),
              "rerun": args.only or None}
    with open(os.path.join(args.out_dir, "reliability.json"), "w") as f:
        json.dump(result, f, indent=2)
    if len(result["drills"]) == 5:
        with open(os.path.join(args.out_dir, "reliability.md"), "w") as f:
            f.write(markdown(result))
    failed = [k for k, v in drills.items() if not v["ok"]]
    if failed:
        sys.exit(f"drills failed: {failed}")


if __name__ == "__main__":
    main()
