#!/usr/bin/env python3
"""infra/bench's driver: cold start and footprint of every function binary under a
fake Lambda Runtime API, the database cases (adpilot-bench), and end to end through
infra/gateway.py with a real HTTP load generator; then results.md, results.json and a
latency plot. Every figure sits beside a baseline measured in the same run."""
import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "infra"))
from local.apigw import http_event  # noqa: E402
from local.runtime import Invocation, lambda_env, serve_runtime_api  # noqa: E402
from local.template import load_template  # noqa: E402

JWT_SECRET = "bench-secret-bench-secret-bench-secret!!"


def log(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


# --- one function process under the local Runtime API: times init, feeds events, reads RSS ---

class Runtime:
    """One function process under `local.runtime`'s Runtime API, fed `events` one after
    another; when they run out its next `next` blocks until the process is stopped."""

    def __init__(self, binary, env, events=()):
        self.function_name = os.path.basename(binary)
        self.events = [Invocation(e, 30) for e in events]
        self.current = None
        self.first_next = threading.Event()
        self.done = threading.Event()
        self.stopping = threading.Event()
        self.served = 0
        self.errors = 0
        self.server = serve_runtime_api(self)
        env = dict(env, **lambda_env(self.server, self.function_name, 128))
        self.started_ns = time.perf_counter_ns()
        self.proc = subprocess.Popen([binary], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)

    def next(self):
        if not self.first_next.is_set():
            self.first_ns = time.perf_counter_ns()
            self.first_next.set()
        if not self.events:
            self.done.set()
            self.stopping.wait()
            return None
        self.current = self.events.pop()
        return self.current

    def finished(self, inv, kind, body):
        self.current = None
        if kind != "ok":
            self.errors += 1
            return
        self.served += 1
        try:
            if json.loads(body).get("statusCode", 200) >= 500:
                self.errors += 1
        except (ValueError, AttributeError):
            pass

    def init_error(self, body):
        self.errors += 1

    def init_ms(self, timeout=20):
        """Start to first `next`; None if it never asks (a process that exited at init is
        given up on at once, not after the timeout)."""
        deadline = time.monotonic() + timeout
        while not self.first_next.wait(0.05):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                return None
        return (self.first_ns - self.started_ns) / 1e6

    def rss_kb(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))

    def stop(self):
        self.proc.kill()
        self.proc.wait()
        self.stopping.set()
        self.server.shutdown()


def api_event(method, path, token):
    """The event API Gateway would send for `method path` with the bench user's token."""
    raw_path, _, query = path.partition("?")
    event, _ = http_event(method, raw_path, query, {"authorization": f"Bearer {token}", "host": "bench.local",
                                                     "content-type": "application/json", "user-agent": "bench"})
    return event


def function_binaries(bin_dir):
    specs, _, _ = load_template(os.path.join(ROOT, "template.yaml"))
    return sorted({s.binary for s in specs}), {s.binary: s for s in specs}


def env_for(db_app_url, db_owner_url):
    db_worker_url = db_app_url.replace("adpilot_app@", "adpilot_worker@", 1)
    return dict(os.environ, DATABASE_URL=db_app_url, DATABASE_OWNER_URL=db_owner_url, DATABASE_WORKER_URL=db_worker_url,
                JWT_SECRET=JWT_SECRET,
                TOKEN_ENCRYPTION_KEYS="b:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", ASSETS_BUCKET="bench",
                RAZORPAY_KEY_ID="rzp", RAZORPAY_KEY_SECRET="s", RAZORPAY_WEBHOOK_SECRET="w", GEMINI_API_KEY="g",
                STRIPE_SECRET_KEY="sk_test_bench", STRIPE_WEBHOOK_SECRET="whsec_bench",
                META_APP_ID="1", META_APP_SECRET="s", META_VERIFY_TOKEN="v", META_REDIRECT_URI="http://127.0.0.1/v1/meta/callback", AWS_REGION="ap-south-1",
                EMAIL_FROM="Adpilot <bench@adpilot.local>", PUBLIC_API_URL="http://127.0.0.1:3000", APP_URL="http://127.0.0.1:5173",
                AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", RUST_LOG="warn")


def function_env(a):
    """The environment the measured functions run with, against the bench's database."""
    host = a.pg.split("://", 1)[1]
    return env_for(f"postgres://adpilot_app@{host}/adpilot_bench", f"postgres://adpilot_owner@{host}/adpilot_bench")


def run_bench_program(a, out, *extra):
    """`adpilot-bench` (the database cases) writing `out`, with `extra` arguments."""
    subprocess.run([os.path.join(a.bin_dir, "adpilot-bench"), "--pg", a.pg, "--superuser", a.superuser,
                    "--scale", str(a.scale), "--out", out, *extra], check=True,
                   env=dict(os.environ, AWS_REGION="ap-south-1", AWS_ACCESS_KEY_ID="b", AWS_SECRET_ACCESS_KEY="b"))


def measured_now():
    """When a case measured on its own was measured, as its report stamps it."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def save_report(a, result):
    """Writes results.json and results.md and drops the bench's database."""
    with open(os.path.join(a.out_dir, "results.json"), "w") as f:
        json.dump(result, f, indent=2)
    with open(os.path.join(a.out_dir, "results.md"), "w") as f:
        f.write(markdown(result))
    drop_bench_database(a.pg, a.superuser)


def last_report(a):
    """The last full report, which a case measured on its own is merged into."""
    with open(os.path.join(a.out_dir, "results.json")) as f:
        return json.load(f)


# Routes that make the HTTP functions do real work for the footprint run.
FOOTPRINT_ROUTES = {
    "auth": "GET /v1/me", "profiles": "GET /v1/business-profile", "assets": "GET /v1/assets?limit=50",
    "campaigns": "GET /v1/campaigns?limit=50", "analytics": "GET /v1/analytics/summary",
    "generations": f"GET /v1/jobs/{uuid.uuid4()}", "billing": "GET /v1/subscription", "openapi": "GET /v1/openapi.json",
    "meta-accounts": "GET /v1/meta-accounts", "meta-webhook": "GET /webhooks/meta?hub.mode=subscribe&hub.verify_token=v&hub.challenge=1",
    "billing-webhook": "POST /webhooks/razorpay",
}


def measure_binary(path, hello, env, token, starts, requests):
    """One function's init (median of `starts`, each after a start of `hello`), size, and
    `requests` warm invocations one after another: RSS after them and their rate."""
    name = os.path.basename(path)
    # Each start of the function follows a start of hello, so the two medians see
    # the same moment of a noisy machine (an autovacuum, another tenant's build).
    inits, paired = [], []
    for _ in range(starts):
        for binary, into in ((hello, paired), (path, inits)):
            r = Runtime(binary, env)
            ms = r.init_ms()
            r.stop()
            if ms is not None:
                into.append(ms)
    route = FOOTPRINT_ROUTES.get(name)
    if name == "hello":
        events = [{"n": i} for i in range(requests)]
    elif route:
        method, p = route.split(" ", 1)
        events = [api_event(method, p, token) for _ in range(requests)]
    else:
        events = []
    r = Runtime(path, env, events)
    r.init_ms()
    warm_started = time.perf_counter()
    deadline = time.time() + 300
    while events and not r.done.is_set() and time.time() < deadline and r.proc.poll() is None:
        time.sleep(0.005)
    warm_s = time.perf_counter() - warm_started
    rss = r.rss_kb() if r.proc.poll() is None else None
    served, errors = r.served, r.errors
    r.stop()
    size = os.path.getsize(path)
    return {"binary": name, "init_median_ms": round(statistics.median(inits), 2) if inits else None,
            "hello_median_ms": round(statistics.median(paired), 2) if paired else None,
            "init_p90_ms": round(sorted(inits)[int(len(inits) * 0.9) - 1], 2) if inits else None,
            "starts": len(inits), "size_bytes": size, "rss_kb": rss,
            "requests": served if events else 0, "errors": errors,
            "warm_rps": round(served / warm_s, 1) if events and warm_s > 0 else None,
            "rss_after": f"{served} requests ({route})" if events else "init only (event-driven)"}


def with_ratios(rows):
    """Each row's init and size against hello's (the first row)."""
    base = rows[0]
    for r in rows:
        r["init_ratio"] = (round(r["init_median_ms"] / r["hello_median_ms"], 2)
                           if r["init_median_ms"] and r["hello_median_ms"] else None)
        r["size_ratio"] = round(r["size_bytes"] / base["size_bytes"], 2)
    return rows


def cold_and_footprint(bin_dir, env, token, starts, requests):
    names, _ = function_binaries(bin_dir)
    hello = os.path.join(bin_dir, "hello")
    rows = []
    for name in ["hello"] + names:
        rows.append(measure_binary(os.path.join(bin_dir, name), hello, env, token, starts, requests))
        log(f"{name}: init {rows[-1]['init_median_ms']} ms, {rows[-1]['size_bytes'] / 1e6:.1f} MB, "
            f"rss {rows[-1]['rss_kb']} kB")
    return with_ratios(rows)


# The size steps `infra/bench --sizes` builds (Cargo.toml profiles) and the binaries it
# measures in each: the baseline, the largest function, one without any AWS SDK, the
# one that embeds the OpenAPI document, and the summary's.
SIZE_PROFILES = [("release-thin", "thin LTO, 4 codegen units, opt-level 3: the former release"),
                 ("release-z", "opt-level \"z\", thin LTO, 4 codegen units"),
                 ("release", "opt-level \"z\", 1 codegen unit, fat LTO: kept as release")]
SIZE_BINARIES = ["hello", "campaigns", "analytics", "openapi", "billing-webhook"]
# `hello` is a binary of the bench's own package; each function is its own package.
SIZE_PACKAGES = ["adpilot-bench" if b == "hello" else b for b in SIZE_BINARIES]


def build_size_steps():
    """Builds `SIZE_PACKAGES` with every profile of `SIZE_PROFILES` (into target/<profile>)."""
    packages = [arg for p in SIZE_PACKAGES for arg in ("-p", p)]
    for profile, _ in SIZE_PROFILES:
        log(f"building the size step {profile}")
        subprocess.run(["cargo", "build", "--profile", profile, *packages, "--bins"], cwd=ROOT, check=True)


def fixture_token(a):
    """A token for a user with campaigns in the bench's database (`adpilot-bench --only
    fixture`), for the footprint routes of a case measured on its own."""
    fixture_json = os.path.join(a.out_dir, "fixture.json")
    run_bench_program(a, fixture_json, "--only", "fixture")
    with open(fixture_json) as f:
        token = json.load(f)["fixture"]["token"]
    os.remove(fixture_json)
    return token


def footprint_only(a):
    """`--footprint`: cold start and footprint of every function (target/<profile>), merged
    into the last report, stamped with when it was measured."""
    token = fixture_token(a)
    log("cold start (20 starts each) and footprint (1000 requests)")
    result = last_report(a)
    result["functions"] = cold_and_footprint(a.bin_dir, function_env(a), token, 20, 1000)
    result["functions_measured_at"] = measured_now()
    save_report(a, result)
    print(markdown(result).split("## Size steps")[0])


def arm64_sizes(a):
    """`--arm64`: the stripped size of every function's arm64 `bootstrap` (target/lambda,
    from `cargo lambda build --release --arm64`), beside hello's, merged into the last
    report."""
    names, _ = function_binaries(a.bin_dir)
    sizes = {n: os.path.getsize(os.path.join(a.bin_dir, n, "bootstrap")) for n in ["hello"] + names}
    result = last_report(a)
    result["arm64"] = {"measured_at": measured_now(), "sizes": sizes}
    save_report(a, result)
    print("\n".join(arm64_markdown(result)))


def arm64_markdown(r):
    """Each function's stripped size for x86_64 (the footprint run) and arm64 (the
    deployment target), each against its own hello."""
    arm = r.get("arm64")
    if not arm:
        return []
    x86 = {f["binary"]: f["size_bytes"] for f in r["functions"]}
    hello = arm["sizes"]["hello"]
    lines = ["### Sizes for arm64", "",
             f"`cargo lambda build --release --arm64` (`infra/bench --arm64`) at {arm['measured_at']}, beside the "
             "x86_64 sizes of the table above; ratios against each architecture's `hello`.", "",
             "| binary | x86_64 MB | arm64 MB | arm64 × hello |", "|---|---|---|---|"]
    for name, size in arm["sizes"].items():
        lines.append(f"| {name} | {x86[name] / 1e6:.2f} | {size / 1e6:.2f} | {round(size / hello, 2)} |"
                     if name in x86 else f"| {name} | - | {size / 1e6:.2f} | {round(size / hello, 2)} |")
    over = [n for n, s in arm["sizes"].items() if n != "hello" and s > 8e6]
    return lines + ["", f"- arm64 ≤ 8 MB stripped: {verdict(not over)}" + (f" — over: {', '.join(over)}" if over else ""), ""]


def size_steps(a):
    """`--sizes`: every size step's binaries measured the same way, merged into the last
    report."""
    build_size_steps()
    token = fixture_token(a)
    env = function_env(a)
    steps = []
    for profile, what in SIZE_PROFILES:
        bin_dir = os.path.join(ROOT, "target", profile)
        hello = os.path.join(bin_dir, "hello")
        rows = []
        for name in SIZE_BINARIES:
            rows.append(measure_binary(os.path.join(bin_dir, name), hello, env, token, 10, 1000))
            log(f"{profile} {name}: {rows[-1]['size_bytes'] / 1e6:.2f} MB, init {rows[-1]['init_median_ms']} ms, "
                f"{rows[-1]['warm_rps']} req/s")
        steps.append({"profile": profile, "what": what, "binaries": with_ratios(rows)})
    result = last_report(a)
    result["size_steps"] = {"measured_at": measured_now(), "steps": steps}
    save_report(a, result)
    print("\n".join(size_steps_markdown(result["size_steps"])))


def first_run_markdown(fr):
    """`git clone` to a running stack, and the release build, as recorded in `first_run` of
    results.json (timed by hand: each is a whole fresh build, not part of a bench run)."""
    if not fr:
        return []
    lines = ["## First run", "", fr["how"], "", "| build | when | seconds | target |", "|---|---|---|---|"]
    for b in fr["builds"]:
        ok = "" if b.get("target_s") is None else f"≤ {b['target_s']} s: {verdict(b['seconds'] <= b['target_s'])}"
        lines.append(f"| {b['build']} | {b['when']} | {b['seconds']} | {ok} |")
    return lines + [""]


def dependency_steps_markdown(ds):
    """Sizes after each dependency change (stripped, `release` profile), as recorded in
    `dependency_steps` of results.json by whoever made the change: not one run, but each
    step's binaries built and weighed the same way on the same machine."""
    if not ds:
        return []
    names = list(ds["steps"][0]["sizes_mb"])
    lines = ["### Dependency steps", "", ds["how"], "",
             "| step | when | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    for st in ds["steps"]:
        lines.append(f"| {st['step']} | {st['when']} | " + " | ".join(
            f"{st['sizes_mb'][n]:.2f}" if st["sizes_mb"].get(n) is not None else "-" for n in names) + " |")
    return lines + [""]


def size_steps_markdown(ss):
    """Each size step beside `release` and hello, so the trade-off is in the numbers."""
    if not ss:
        return []
    base = {b["binary"]: b for b in ss["steps"][0]["binaries"]}
    lines = ["## Size steps", "", f"Measured on their own (`infra/bench --sizes`) at {ss['measured_at']}. "
             "The same binaries built with each profile in `Cargo.toml`; init = median of 10 starts, each after "
             "a start of that profile's `hello`; warm = 1,000 invocations one after another through the Runtime "
             "API (the footprint route). Ratios are against the first step in the same run.", "",
             "| profile | binary | stripped MB | × first | init ms | × hello | warm req/s | × first |",
             "|---|---|---|---|---|---|---|---|"]
    for step in ss["steps"]:
        for b in step["binaries"]:
            r = base[b["binary"]]
            size_x = round(b["size_bytes"] / r["size_bytes"], 2)
            rps_x = round(b["warm_rps"] / r["warm_rps"], 2) if b.get("warm_rps") and r.get("warm_rps") else "-"
            lines.append(f"| {step['profile']} | {b['binary']} | {b['size_bytes'] / 1e6:.2f} | {size_x} | "
                         f"{b['init_median_ms']} | {b['init_ratio']} | {b.get('warm_rps') or '-'} | {rps_x} |")
    lines.append("")
    for step in ss["steps"]:
        over = [b["binary"] for b in step["binaries"] if b["binary"] != "hello" and b["size_bytes"] > 8e6]
        lines.append(f"- {step['profile']} ({step['what']}): ≤ 8 MB {verdict(not over)}"
                     + (f" — over: {', '.join(over)}" if over else ""))
    return lines + [""]


# --- end to end through the gateway ----------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_wrk():
    if shutil.which("wrk"):
        return shutil.which("wrk")
    log("installing wrk (Debian package) for the end-to-end case")
    for cmd in (["apt-get", "install", "-y", "-q", "wrk"], ["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "wrk"]):
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if shutil.which("wrk"):
            break
    return shutil.which("wrk")


def wrk_run(wrk, url, token, seconds, connections=8):
    out = subprocess.run([wrk, "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-H", f"Authorization: Bearer {token}",
                          url], capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = {m.group(1): m.group(2) for m in re.finditer(r"\s+(50|99)%\s+([\d.]+\w+)", out)}
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)

    def ms(v):
        n, unit = re.match(r"([\d.]+)(\w+)", v).groups()
        return round(float(n) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit], 2)
    return {"tool": "wrk", "rps": rps, "p50_ms": ms(lat["50"]), "p99_ms": ms(lat["99"]),
            "non_2xx": int(non2xx.group(1)) if non2xx else 0}


def python_load(url, token, seconds, connections=8):
    """Fallback when wrk cannot be installed: threads with keep-alive connections."""
    import http.client
    from urllib.parse import urlsplit
    u = urlsplit(url)
    samples, lock, stop = [], threading.Lock(), time.time() + seconds

    def worker():
        conn = http.client.HTTPConnection(u.hostname, u.port)
        mine = []
        while time.time() < stop:
            t = time.perf_counter()
            conn.request("GET", u.path + ("?" + u.query if u.query else ""), headers={"authorization": f"Bearer {token}"})
            conn.getresponse().read()
            mine.append((time.perf_counter() - t) * 1000)
        with lock:
            samples.extend(mine)
    threads = [threading.Thread(target=worker) for _ in range(connections)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    samples.sort()
    return {"tool": "python threads (wrk unavailable)", "rps": round(len(samples) / seconds, 1),
            "p50_ms": round(samples[len(samples) // 2], 2), "p99_ms": round(samples[int(len(samples) * 0.99)], 2)}


def end_to_end(bin_dir, env, db, seconds, install):
    port = free_port()
    gw = subprocess.Popen([sys.executable, os.path.join(ROOT, "infra", "gateway.py"), "--template",
                           os.path.join(ROOT, "template.yaml"), "--bin-dir", bin_dir, "--port", str(port),
                           "--max-instances", "8"], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          text=True, start_new_session=True)
    try:
        line = gw.stdout.readline()
        if not line.startswith("ADPILOT_GATEWAY_LISTENING"):
            return {"error": f"gateway did not start: {line!r}"}
        base = line.split()[1]
        wrk = ensure_wrk() if install else shutil.which("wrk")
        out = {}
        for name, path in (("list_campaigns", "/v1/campaigns?limit=50"),
                           ("campaign_performance", db["perf_path"])):
            url = base + path
            python_load(url, db["token"], 1)  # warm the instances up
            out[name] = wrk_run(wrk, url, db["token"], seconds) if wrk else python_load(url, db["token"], seconds)
        return out
    finally:
        os.killpg(gw.pid, signal.SIGTERM)
        gw.wait(timeout=20)


# --- reporting -------------------------------------------------------------------------------

def plot(path, series):
    """Latency distributions (ms) as stacked histograms, drawn with Pillow."""
    from PIL import Image, ImageDraw
    w, h, pad = 900, 170 * len(series) + 40, 60
    img = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(img)
    d.text((pad, 10), "Latency distributions (ms), same run", fill="black")
    for i, (label, values) in enumerate(series):
        top = 40 + i * 170
        if not values:
            continue
        values = sorted(values)
        hi = values[int(len(values) * 0.995)] or 1
        bins = [0] * 60
        for v in values:
            bins[min(59, int(v / hi * 59))] += 1
        peak = max(bins) or 1
        bw = (w - 2 * pad) / 60
        for b, n in enumerate(bins):
            x = pad + b * bw
            d.rectangle([x, top + 130 - 120 * n / peak, x + bw - 1, top + 130], fill=(52, 101, 164))
        d.line([pad, top + 130, w - pad, top + 130], fill="black")
        d.text((pad, top), f"{label}  (n={len(values)}, p50={values[len(values) // 2]:.2f}, "
                           f"p99={values[int(len(values) * 0.99)]:.2f})", fill="black")
        d.text((pad, top + 135), "0", fill="black")
        d.text((w - pad - 40, top + 135), f"{hi:.1f}", fill="black")
    img.save(path)


def machine():
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    with open("/proc/meminfo") as f:
        mem = int(re.search(r"MemTotal:\s+(\d+)", f.read()).group(1)) // 1024
    pg = subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "show server_version"],
                        capture_output=True, text=True).stdout.strip()
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_mb": mem, "kernel": platform.release(),
            "postgres": pg, "rustc": rustc, "when": datetime.now(timezone.utc).isoformat(timespec="seconds")}


def verdict(ok):
    return "met" if ok else "**missed**"


def markdown(r):
    m, db, fp = r["machine"], r["db"], r["functions"]
    warm, ing, sc, cr = db["warm_handler"], db["ingestion"], db["analytics_at_scale"], db["credits_contention"]
    lines = [f"# Adpilot benchmarks — {m['when']}", "",
             f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_mb']} MB; Linux {m['kernel']}; "
             f"PostgreSQL {m['postgres']}; {m['rustc']}. Scale {r['scale']} ({r['profile']} binaries). "
             "Every figure is next to a baseline measured in the same run.", "",
             "## Cold start and footprint", "",
             *([f"Measured on its own (`infra/bench --footprint`) at {r['functions_measured_at']}."
                + (f" {r['functions_note']}" if r.get("functions_note") else ""), ""]
               if r.get("functions_measured_at") else []),
             "Init = process start → first `next` call on the Runtime API, median of "
             f"{fp[0]['starts']} starts. Baseline: `hello` (a bare `lambda_runtime` function, same profile), "
             "started just before each start of the function (its median is the hello column).", "",
             "| binary | init median ms | hello ms | × hello | stripped MB | × hello | RSS MB | after |",
             "|---|---|---|---|---|---|---|---|"]
    for f in fp:
        lines.append(f"| {f['binary']} | {f['init_median_ms']} | {f.get('hello_median_ms')} | {f['init_ratio']} | "
                     f"{f['size_bytes'] / 1e6:.1f} | "
                     f"{f['size_ratio']} | {(f['rss_kb'] or 0) / 1024:.1f} | {f['rss_after']} |")
    fn = [f for f in fp if f["binary"] != "hello"]
    worst_init = max(f["init_ratio"] or 0 for f in fn)
    over_size = [f["binary"] for f in fn if f["size_bytes"] > 8e6]
    over_rss = [f["binary"] for f in fn if (f["rss_kb"] or 0) > 40 * 1024]
    lines += ["", f"- cold start ≤ 1.5× hello: {verdict(worst_init <= 1.5)} (worst {worst_init}×)",
              f"- ≤ 8 MB stripped: {verdict(not over_size)}" + (f" — over: {', '.join(over_size)}" if over_size else ""),
              f"- ≤ 40 MB RSS: {verdict(not over_rss)}" + (f" — over: {', '.join(over_rss)}" if over_rss else ""), "",
              *arm64_markdown(r),
              *first_run_markdown(r.get("first_run")),
              *size_steps_markdown(r.get("size_steps")),
              *dependency_steps_markdown(r.get("dependency_steps")),
              "## Warm handler vs pgbench", "",
              f"In-process handler with the production pool, {warm['concurrency']} concurrent, {warm['seconds']} s; "
              "pgbench runs the same statements (tenant `set_config`, live-account check, queries) on as many connections.", "",
              "| route | handler req/s | p50 ms | p99 ms | pgbench tps | ratio (target ≥ 0.7) |", "|---|---|---|---|---|---|"]
    for k, label in (("list_campaigns", "GET /v1/campaigns (50)"), ("campaign_performance", "GET …/performance (30 d, platform)")):
        c = warm[k]
        lines.append(f"| {label} | {c['handler']['rps']} | {c['handler']['p50_ms']} | {c['handler']['p99_ms']} | "
                     f"{round(c['pgbench']['tps'] or 0, 1)} | {c['ratio']} {verdict(c['ratio'] >= 0.7)} |")
    e2e = r.get("end_to_end") or {}
    lines += ["", "## End to end through the local gateway", ""]
    if "error" in e2e or not e2e:
        lines.append(f"Not measured: {e2e.get('error', 'skipped')}")
    else:
        lines += ["| route | tool | req/s | p50 ms | p99 ms | × warm handler | gateway's share of p50 |", "|---|---|---|---|---|---|---|"]
        for k in ("list_campaigns", "campaign_performance"):
            e, hnd = e2e[k], warm[k]["handler"]
            share = max(0.0, 1 - hnd["p50_ms"] / e["p50_ms"]) if e["p50_ms"] else 0
            lines.append(f"| {k} | {e['tool']} | {e['rps']} | {e['p50_ms']} | {e['p99_ms']} | "
                         f"{round(e['rps'] / hnd['rps'], 2) if hnd['rps'] else '-'} | {share:.0%} |")
    lines += ["", "## Ingestion", "",
              f"{ing['rows']} insights rows through `insights::upsert` (batches of {ing['batch']}, one worker transaction) "
              "into the partitioned table, then `COPY` of the same rows into the same (emptied) table.", "",
              "| path | rows/s |", "|---|---|",
              f"| upsert (new rows) | {ing['upsert_rows_per_s']:.0f} |",
              f"| upsert re-run (nothing changes: {ing['rerun_changed']} rows changed) | {ing['rerun_rows_per_s']:.0f} |",
              f"| COPY (baseline) | {ing['copy_rows_per_s']:.0f} |", "",
              f"- upsert ≥ 0.5× COPY: {verdict(ing['ratio'] >= 0.5)} ({ing['ratio']}×)", "",
              "## Analytics at scale", "", *measured_apart(sc),
              f"{sc['rows']} rows in 24 monthly partitions (loaded in {sc['load_seconds']} s). The 30-day per-campaign rollup "
              "by platform:", "",
              "| plan | p50 ms | p99 ms |", "|---|---|---|",
              f"| partition pruning on | {sc['pruned']['p50_ms']} | {sc['pruned']['p99_ms']} |",
              f"| `enable_partition_pruning = off` (baseline) | {sc['unpruned']['p50_ms']} | {sc['unpruned']['p99_ms']} |", "",
              f"- p99 ≤ 20 ms: {verdict(sc['p99_ok'])}; partitions in the plan: {sc['partitions_in_plan']} of 24+default; "
              f"index used: {sc['index_used']}", "", "```", sc["explain"], "```", "",
              *summary_markdown(db.get("summary_at_scale"), sc["rows"]),
              *optimizer_markdown(db.get("optimizer_pass")),
              "## Credits under contention", "",
              f"{cr['spenders']} concurrent spenders on one account with {cr['limit']} credits.", "",
              "| path | per second |", "|---|---|",
              f"| conditional spend + usage row | {cr['spends_per_s']} |",
              f"| plain UPDATE without the condition (baseline) | {cr['plain_updates_per_s']} |", "",
              f"- correctness: {cr['succeeded']} succeeded, {cr['refused']} refused, used = {cr['credits_used']}, "
              f"usage rows sum to {cr['usage_rows_sum']} — {verdict(cr['correct'])}; ratio {cr['ratio']}×", "",
              "![latency](latency.png)", ""]
    return "\n".join(lines)


def measured_apart(case, flag="--analytics"):
    """The note on a case measured on its own and merged into the last full report."""
    return [f"Measured on its own (`infra/bench {flag}`) at {case['measured_at']}.", ""] if case.get("measured_at") else []


def summary_markdown(su, rows):
    """The owner's summary from the daily rollup beside the raw-row summary it replaced."""
    if not su:
        return ["## Summary at scale", "", "Not measured in this run.", ""]
    return ["## Summary at scale", "", *measured_apart(su),
            f"`GET /v1/analytics/summary`'s read (`analytics::summary` through `Db::tenant`) over the last "
            f"{su['days']} days for the account owning all {rows} rows ({su['campaigns_listed']} campaigns listed). "
            f"The rollups (`campaign_daily_totals`, {su['rollup_rows']} rows; `campaign_weekly_totals`, "
            f"{su.get('weekly_rows', 'no')} rows) were filled by the maintenance rebuild "
            f"in {su['rollup_fill_seconds']} s; the summary reads the range's whole weeks from the weekly rollup "
            "and the days at either end from the daily one. Baseline: the raw-row summary it replaced, in the same "
            "transaction shape.", "",
            "| path | p50 ms | p99 ms |", "|---|---|---|",
            f"| weekly + daily rollup | {su['rollup']['p50_ms']} | {su['rollup']['p99_ms']} |",
            *([f"| running totals (tried, bench database only: {su['running_rows']} rows) | "
               f"{su['running']['p50_ms']} | {su['running']['p99_ms']} |"] if su.get("running") else []),
            f"| raw rows (baseline) | {su['raw']['p50_ms']} | {su['raw']['p99_ms']} |", "",
            f"- p99 ≤ {su['p99_target_ms']:.0f} ms: {verdict(su['p99_ok'])}; the rollup is {su['ratio']}× faster "
            "at the median",
            *(["- tried: dense running totals per campaign and day (a range is two rows' difference), built from "
               "the daily rollup in the bench's database and read in the same transaction shape; not kept in the "
               "schema, because every sync of a day would rewrite each later day's row of that campaign"]
              if su.get("running") else []), ""]


def optimizer_markdown(op):
    """The optimizer pass beside one aggregate of the same reads."""
    if not op:
        return ["## One optimizer pass", "", "Not measured in this run.", ""]
    w, b = op["work_per_campaign"], op["baseline_work_per_campaign"]
    decided = ", ".join(f"{k} {v}" for k, v in op["by_decision"].items())
    lines = ["## One optimizer pass", "",
             f"{op['campaigns']} launched campaigns with goals (three preset rules each: ROAS budget step, CPA trim, "
             f"creative refresh) on {op['accounts']} ad accounts, {op['rows']} analytics rows (125 days × 8 rows) and "
             f"{op['creative_rows']} creative rows (loaded in {op['load_seconds']} s). The pass is "
             "`optimizer::run::run` on every queued daily run, one after another, rules in dry run so nothing is sent "
             "to Meta. Baseline: one SQL aggregate reading the same windows for every campaign at once. "
             "Database work from `pg_stat_database`, per campaign.", ""]
    lines += measured_apart(op, "--optimizer")
    lines += ["| path | total s | ms per campaign | transactions | rows scanned | rows fetched | rows written | "
              "buffers hit | buffers read |", "|---|---|---|---|---|---|---|---|---|",
              f"| optimizer pass | {op['pass_seconds']} | {op['ms_per_campaign']} | {w['transactions']} | "
              f"{w['rows_scanned']} | {w['rows_fetched']} | {w['rows_written']} | {w['buffers_hit']} | {w['buffers_read']} |",
              f"| one aggregate (baseline) | {op['baseline_seconds']} | {op['baseline_ms_per_campaign']} | "
              f"{b['transactions']} | {b['rows_scanned']} | {b['rows_fetched']} | {b['rows_written']} | "
              f"{b['buffers_hit']} | {b['buffers_read']} |", "",
              f"- time: {op['time_ratio']}× the aggregate; one account's run (500 campaigns): p50 "
              f"{op['account_run']['p50_ms']} ms, p99 {op['account_run']['p99_ms']} ms",
              f"- decisions: {op['decisions']} ({decided})", ""]
    return lines


def merge_case(a, case, keys):
    """`--optimizer` / `--analytics`: only that database case, merged into the last full
    report, each of its figures stamped with when it was measured."""
    result = last_report(a)
    db_json = os.path.join(a.out_dir, "db.json")
    with open(db_json, "w") as f:
        json.dump(result["db"], f)
    run_bench_program(a, db_json, "--only", case)
    with open(db_json) as f:
        result["db"] = json.load(f)
    for key in keys:
        result["db"][key]["measured_at"] = measured_now()
    os.remove(db_json)
    save_report(a, result)
    print(markdown(result).split("## Ingestion")[1] if case == "analytics" else
          "\n".join(optimizer_markdown(result["db"]["optimizer_pass"])))


def drop_bench_database(pg, superuser):
    """The bench's database is rebuilt every run; leaving it would only confuse tools
    that look for the project's database (it holds the same schema)."""
    host, _, port = pg.split("://", 1)[1].partition(":")
    subprocess.run(["psql", "-h", host, "-p", port or "5432", "-U", superuser, "-d", "postgres", "-qc",
                    "DROP DATABASE IF EXISTS adpilot_bench WITH (FORCE)"], check=False, capture_output=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--profile", default="release")
    ap.add_argument("--pg", default="postgres://127.0.0.1:5432")
    ap.add_argument("--superuser", default="postgres")
    ap.add_argument("--optimizer", action="store_true", help="only the optimizer pass, merged into the last report")
    ap.add_argument("--analytics", action="store_true",
                    help="only analytics at scale and the summary, merged into the last report")
    ap.add_argument("--footprint", action="store_true",
                    help="only cold start and footprint of every function, merged into the last report")
    ap.add_argument("--arm64", action="store_true",
                    help="only the arm64 sizes (target/lambda/<fn>/bootstrap), merged into the last report")
    ap.add_argument("--sizes", action="store_true",
                    help="only the size steps (target/<profile> binaries), merged into the last report")
    a = ap.parse_args()
    os.makedirs(a.out_dir, exist_ok=True)
    if a.sizes:
        return size_steps(a)
    if a.footprint:
        return footprint_only(a)
    if a.arm64:
        return arm64_sizes(a)
    if a.optimizer:
        return merge_case(a, "optimizer", ["optimizer_pass"])
    if a.analytics:
        return merge_case(a, "analytics", ["analytics_at_scale", "summary_at_scale"])
    db_json = os.path.join(a.out_dir, "db.json")
    log("database cases (adpilot-bench)")
    run_bench_program(a, db_json)
    with open(db_json) as f:
        db = json.load(f)
    warm = db["warm_handler"]
    env = function_env(a)
    starts = 20 if a.scale >= 0.1 else 3
    requests = 1000 if a.scale >= 0.1 else 20
    log(f"cold start ({starts} starts each) and footprint ({requests} requests)")
    functions = cold_and_footprint(a.bin_dir, env, warm["token"], starts, requests)
    to = datetime.now(timezone.utc).date()
    perf = f"/v1/campaigns/{warm['campaign']}/performance?from={to.fromordinal(to.toordinal() - 29)}&to={to}&breakdown=platform"
    log("end to end through the gateway")
    e2e = end_to_end(a.bin_dir, env, {"token": warm["token"], "perf_path": perf}, max(2, int(10 * a.scale)),
                     install=a.scale >= 0.1)
    result = {"scale": a.scale, "profile": a.profile, "machine": machine(), "functions": functions, "db": db,
              "end_to_end": e2e}
    plot(os.path.join(a.out_dir, "latency.png"), [
        ("warm handler GET /v1/campaigns", warm["list_campaigns"]["handler"]["latencies_ms"]),
        ("warm handler GET /v1/campaigns/{id}/performance", warm["campaign_performance"]["handler"]["latencies_ms"]),
        ("rollup, pruning on", db["analytics_at_scale"]["pruned"]["latencies_ms"]),
        ("rollup, pruning off", db["analytics_at_scale"]["unpruned"]["latencies_ms"]),
        ("summary, weekly + daily rollup", db["summary_at_scale"]["rollup"]["latencies_ms"]),
        ("summary, raw rows", db["summary_at_scale"]["raw"]["latencies_ms"]),
    ])
    os.remove(db_json)
    save_report(a, result)
    print(markdown(result).split("## Ingestion")[0])
    log(f"wrote {a.out_dir}/results.md, results.json, latency.png")


if __name__ == "__main__":
    main()
