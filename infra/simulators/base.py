"""What every simulator shares: a threaded HTTP server on a free port, JSON replies,
switchable failures (POST /_sim/fail) and a request log tests can read (GET /_sim/requests)."""
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Failures:
    """The next `times` requests whose path starts with `path` answer `status` with `body`;
    or, with `for_seconds`, one in every `every` such requests for that long (an outage,
    for drills)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []

    def add(self, path, status, body, times, for_seconds=None, every=1):
        import time
        with self.lock:
            self.rules.append({"path": path, "status": status, "body": body, "times": times,
                               "until": time.monotonic() + for_seconds if for_seconds else None,
                               "every": max(1, int(every)), "seen": 0})

    def take(self, path):
        import time
        with self.lock:
            for rule in self.rules:
                if not path.startswith(rule["path"]):
                    continue
                if rule["until"] is not None:
                    if time.monotonic() > rule["until"]:
                        continue
                    rule["seen"] += 1
                    if rule["seen"] % rule["every"] == 0:
                        return rule["status"], rule["body"]
                    continue
                if rule["times"] > 0:
                    rule["times"] -= 1
                    return rule["status"], rule["body"]
        return None


class Handler(BaseHTTPRequestHandler):
    """Routes to `self.server.sim.route(handler, method, path, query, body)`."""
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, doc=None, raw=None, content_type="application/json", headers=None):
        body = raw if raw is not None else json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _dispatch(self, method):
        url = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        if "x-www-form-urlencoded" in (self.headers.get("content-type") or ""):
            body = dict(urllib.parse.parse_qsl(raw.decode()))
        else:
            try:
                body = json.loads(raw) if raw else {}
            except ValueError:
                body = None
        sim = self.server.sim
        query = dict(urllib.parse.parse_qsl(url.query))
        with sim.lock:
            sim.requests.append({"method": method, "path": url.path, "query": query, "body": body,
                                 "headers": {k.lower(): v for k, v in self.headers.items()}})
        if url.path == "/_sim/fail" and method == "POST":
            sim.failures.add(body.get("path", "/"), int(body.get("status", 500)), body.get("body"),
                             int(body.get("times", 1)), body.get("for_seconds"), body.get("every", 1))
            return self.reply(200, {"ok": True})
        if url.path == "/_sim/requests" and method == "GET":
            with sim.lock:
                return self.reply(200, {"requests": sim.requests[-500:]})
        failing = sim.failures.take(url.path)
        if failing:
            status, doc = failing
            return self.reply(status, doc or sim.error_body(status, "simulated failure"))
        try:
            sim.route(self, method, url.path, query, body)
        except Exception as e:  # a simulator bug must not look like a hang
            self.reply(500, sim.error_body(500, f"simulator error: {e}"))

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_DELETE(self):
        self._dispatch("DELETE")


class Simulator:
    """Subclasses implement route() and error_body()."""

    def __init__(self, host="127.0.0.1", port=0):
        self.lock = threading.Lock()
        self.requests = []
        self.failures = Failures()
        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.server.sim = self

    @property
    def url(self):
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.server.shutdown()

    def error_body(self, status, message):
        return {"error": {"code": status, "message": message}}

    def route(self, handler, method, path, query, body):
        raise NotImplementedError
