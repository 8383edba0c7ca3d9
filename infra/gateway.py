#!/usr/bin/env python3
"""Local API Gateway (HTTP API, payload 2.0) in front of the functions' real binaries.

Routes come from template.yaml (the HttpApi events of every AWS::Serverless::Function),
so local and deployed wiring cannot drift. Each function binary runs as separate
processes under the Lambda Runtime API contract (AWS_LAMBDA_RUNTIME_API: next /
response / error / init error). As on Lambda, an instance handles one request at a
time; more instances start on demand up to --max-instances per function, and requests
beyond that wait in a bounded queue. Each new instance's init duration (process start
to first `next`) is logged. An instance that crashes is replaced on the next request,
and the request it was serving gets a 502, as on AWS.
"""
import argparse
import base64
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import yaml

RUNTIME_PREFIX = "/2018-06-01/runtime"


def log(event, **fields):
    """One JSON line per event, to stderr: what an operator greps."""
    fields.update(ts=datetime.now(timezone.utc).isoformat(timespec="milliseconds"), event=event, src="gateway")
    print(json.dumps(fields), file=sys.stderr, flush=True)


# --- template ---------------------------------------------------------------------------

class CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation short-form tags (!Ref, !Sub, …) as plain mappings."""


def _cfn_tag(loader, tag_suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {"Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}": value}


CfnLoader.add_multi_constructor("!", _cfn_tag)


class FunctionSpec:
    def __init__(self, name, binary, timeout, memory, env, routes, events):
        self.name, self.binary, self.timeout, self.memory = name, binary, timeout, memory
        self.env, self.routes, self.events = env, routes, events


def load_template(path):
    with open(path) as f:
        doc = yaml.load(f, Loader=CfnLoader)
    glob = (doc.get("Globals") or {}).get("Function") or {}
    specs = []
    for name, res in (doc.get("Resources") or {}).items():
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        props = res.get("Properties") or {}
        binary = ((res.get("Metadata") or {}).get("BuildProperties") or {}).get("Binary")
        env = {}
        for source in (glob, props):
            for k, v in ((source.get("Environment") or {}).get("Variables") or {}).items():
                if isinstance(v, (str, int, float)):  # intrinsic functions are AWS-only
                    env[k] = str(v)
        routes, events = [], {}
        for ev_name, ev in (props.get("Events") or {}).items():
            events[ev_name] = ev
            if ev.get("Type") == "HttpApi":
                p = ev.get("Properties") or {}
                routes.append((p.get("Method", "ANY").upper(), p.get("Path", "$default")))
        specs.append(FunctionSpec(
            name, binary or name.lower(),
            int(props.get("Timeout", glob.get("Timeout", 3))),
            int(props.get("MemorySize", glob.get("MemorySize", 128))),
            env, routes, events))
    return specs


class Route:
    def __init__(self, method, template, function):
        self.method, self.template, self.function = method, template, function
        pattern = re.sub(r"\{(\w+)\+\}", r"(?P<\1>.+)", template)
        pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern)
        self.regex = re.compile(f"^{pattern}$")
        literal = re.sub(r"\{[^}]+\}", "", template)
        self.specificity = (len(literal), -template.count("{"))

    def match(self, method, path):
        m = self.regex.match(path)
        if not m or self.method not in ("ANY", method):
            return None
        return m.groupdict()


# --- Lambda Runtime API -------------------------------------------------------------------

class Invocation:
    def __init__(self, event, timeout):
        self.id = str(uuid.uuid4())
        self.event = event
        self.deadline_ms = int((time.time() + timeout) * 1000)
        self.done = threading.Event()
        self.result = None  # ("ok", bytes) | ("error", str)

    def finish(self, kind, payload):
        if not self.done.is_set():
            self.result = (kind, payload)
            self.done.set()


class Instance:
    """One process of a function, with its own Runtime API endpoint."""

    def __init__(self, fn, seq):
        self.fn, self.seq = fn, seq
        self.inbox = queue.Queue()
        self.current = None
        self.alive = True
        self.initialised = False
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), RuntimeApiHandler)
        self.server.daemon_threads = True
        self.server.instance = self
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        port = self.server.server_address[1]
        env = dict(os.environ)
        env.update(fn.spec.env)
        env.update({
            "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}",
            "AWS_LAMBDA_FUNCTION_NAME": fn.spec.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.spec.memory),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{fn.spec.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": f"local/{seq}",
            "AWS_REGION": os.environ.get("AWS_REGION", "ap-south-1"),
        })
        self.started = time.monotonic()
        self.proc = subprocess.Popen([fn.binary_path], env=env, stdin=subprocess.DEVNULL)
        threading.Thread(target=self._watch, daemon=True).start()

    def on_next(self):
        if not self.initialised:
            self.initialised = True
            log("instance_ready", function=self.fn.spec.name, instance=self.seq,
                init_duration_ms=round((time.monotonic() - self.started) * 1000, 1))
        inv = self.inbox.get()
        if inv is None:
            return None
        self.current = inv
        return inv

    def _watch(self):
        code = self.proc.wait()
        self.alive = False
        if self.current and not self.current.done.is_set():
            self.current.finish("crash", f"process exited with {code}")
        while not self.inbox.empty():
            pending = self.inbox.get_nowait()
            if pending:
                pending.finish("crash", f"process exited with {code} during init")
        self.inbox.put(None)
        self.server.shutdown()
        log("instance_exited", function=self.fn.spec.name, instance=self.seq, exit_code=code)
        self.fn.forget(self)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()


class RuntimeApiHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _reply(self, status, body=b"", headers=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        inst = self.server.instance
        if self.path != f"{RUNTIME_PREFIX}/invocation/next":
            return self._reply(404, b'{"errorMessage":"unknown path"}')
        inv = inst.on_next()
        if inv is None:
            return self._reply(410, b'{"errorMessage":"instance stopping"}')
        self._reply(200, json.dumps(inv.event).encode(), {
            "Content-Type": "application/json",
            "Lambda-Runtime-Aws-Request-Id": inv.id,
            "Lambda-Runtime-Deadline-Ms": str(inv.deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn":
                f"arn:aws:lambda:ap-south-1:000000000000:function:{inst.fn.spec.name}",
            "Lambda-Runtime-Trace-Id": f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}",
        })

    def do_POST(self):
        inst = self.server.instance
        body = self._body()
        m = re.match(rf"^{RUNTIME_PREFIX}/invocation/([^/]+)/(response|error)$", self.path)
        if m:
            inv = inst.current
            if not inv or inv.id != m.group(1):
                return self._reply(400, b'{"errorMessage":"unknown request id"}')
            inst.current = None
            inv.finish("ok" if m.group(2) == "response" else "error", body)
            self.fn_release(inst)
            return self._reply(202, b'{"status":"OK"}')
        if self.path == f"{RUNTIME_PREFIX}/init/error":
            log("init_error", function=inst.fn.spec.name, instance=inst.seq, error=body.decode(errors="replace"))
            self._reply(202, b'{"status":"OK"}')
            inst.stop()
            return None
        return self._reply(404, b'{"errorMessage":"unknown path"}')

    @staticmethod
    def fn_release(inst):
        inst.fn.release(inst)


class Function:
    """The instances of one function and the queue of requests waiting for one."""

    def __init__(self, spec, bin_dir, max_instances, queue_limit):
        self.spec = spec
        self.binary_path = os.path.join(bin_dir, spec.binary)
        self.max_instances, self.queue_limit = max_instances, queue_limit
        self.cond = threading.Condition()
        self.idle, self.all, self.waiting, self.seq = [], set(), 0, 0

    def acquire(self, timeout):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                if self.idle:
                    return self.idle.pop()
                if len(self.all) < self.max_instances:
                    self.seq += 1
                    inst = Instance(self, self.seq)
                    self.all.add(inst)
                    return inst
                if self.waiting >= self.queue_limit:
                    return None
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self.waiting += 1
                self.cond.wait(remaining)
                self.waiting -= 1

    def release(self, inst):
        with self.cond:
            if inst.alive and inst in self.all:
                self.idle.append(inst)
            self.cond.notify()

    def forget(self, inst):
        with self.cond:
            self.all.discard(inst)
            if inst in self.idle:
                self.idle.remove(inst)
            self.cond.notify()

    def invoke(self, event):
        """Runs one invocation; returns ("ok"|"error"|"crash"|"timeout"|"throttled", payload)."""
        inst = self.acquire(self.spec.timeout + 30)
        if inst is None:
            return "throttled", b""
        inv = Invocation(event, self.spec.timeout)
        inst.inbox.put(inv)
        # The first request of a new instance also waits for its init.
        if not inv.done.wait(self.spec.timeout + (0 if inst.initialised else 10)):
            log("invocation_timeout", function=self.spec.name, instance=inst.seq, request_id=inv.id)
            inst.stop()
            return "timeout", b""
        return inv.result

    def stop_all(self):
        with self.cond:
            for inst in list(self.all):
                inst.stop()


# --- HTTP API (payload format 2.0) ----------------------------------------------------------

def build_event(handler, route, params, body):
    parts = urlsplit(handler.path)
    headers = {}
    for k, v in handler.headers.items():
        headers[k.lower()] = f"{headers[k.lower()]},{v}" if k.lower() in headers else v
    cookies = [c.strip() for c in headers.pop("cookie", "").split(";") if c.strip()]
    query = {}
    for k, v in parse_qsl(parts.query, keep_blank_values=True):
        query[k] = f"{query[k]},{v}" if k in query else v
    request_id = base64.b32encode(uuid.uuid4().bytes[:10]).decode().rstrip("=")
    now = datetime.now(timezone.utc)
    event = {
        "version": "2.0",
        "routeKey": f"{route.method} {route.template}",
        "rawPath": parts.path,
        "rawQueryString": parts.query,
        "headers": headers,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": headers.get("host", "127.0.0.1"),
            "domainPrefix": headers.get("host", "127.0.0.1").split(".")[0],
            "http": {
                "method": handler.command,
                "path": parts.path,
                "protocol": handler.request_version,
                "sourceIp": handler.client_address[0],
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": f"{route.method} {route.template}",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if params:
        event["pathParameters"] = params
    if body:
        try:
            event["body"] = body.decode("utf-8")
        except UnicodeDecodeError:
            event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
    return event, request_id


def translate_response(payload):
    """A Lambda result → (status, headers list, body bytes), as API Gateway does."""
    try:
        doc = json.loads(payload or b"null")
    except ValueError:
        return 502, [("content-type", "application/json")], b'{"message":"Internal Server Error"}'
    if not isinstance(doc, dict) or "statusCode" not in doc:
        return 200, [("content-type", "application/json")], json.dumps(doc).encode()
    headers = [(k, str(v)) for k, v in (doc.get("headers") or {}).items()]
    for k, vs in (doc.get("multiValueHeaders") or {}).items():
        if not any(h[0].lower() == k.lower() for h in headers):
            headers.extend((k, str(v)) for v in vs)
    headers.extend(("set-cookie", c) for c in doc.get("cookies") or [])
    body = doc.get("body") or ""
    body = base64.b64decode(body) if doc.get("isBase64Encoded") else body.encode()
    return int(doc["statusCode"]), headers, body


FAILURES = {
    "error": (502, b'{"message":"Internal Server Error"}'),
    "crash": (502, b'{"message":"Internal Server Error"}'),
    "timeout": (504, b'{"message":"Service Unavailable"}'),
    "throttled": (429, b'{"message":"Too Many Requests"}'),
}


class ApiHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "adpilot-local-gateway"

    def log_message(self, *args):
        pass

    def _handle(self):
        started = time.monotonic()
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        path = urlsplit(self.path).path
        found = None
        for route in self.server.routes:
            params = route.match(self.command, path)
            if params is not None:
                found = (route, params)
                break
        if not found:
            status, headers, out, request_id, fn = 404, [("content-type", "application/json")], \
                b'{"message":"Not Found"}', "-", None
        else:
            route, params = found
            event, request_id = build_event(self, route, params, body)
            kind, payload = route.function.invoke(event)
            fn = route.function.spec.name
            if kind == "ok":
                status, headers, out = translate_response(payload)
            else:
                status, out = FAILURES[kind]
                headers = [("content-type", "application/json")]
                if kind == "error":
                    log("function_error", function=fn, request_id=request_id,
                        error=payload.decode(errors="replace")[:500])
        self.send_response(status)
        for k, v in headers:
            if k.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(k, v)
        self.send_header("apigw-requestid", request_id)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(out)
        log("request", method=self.command, path=path, status=status, function=fn,
            request_id=request_id, duration_ms=round((time.monotonic() - started) * 1000, 1))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--template", default="template.yaml")
    ap.add_argument("--bin-dir", default="target/release")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    ap.add_argument("--max-instances", type=int, default=4, help="per function")
    ap.add_argument("--queue-limit", type=int, default=100, help="waiting requests per function")
    args = ap.parse_args()

    specs = load_template(args.template)
    functions = {s.name: Function(s, args.bin_dir, args.max_instances, args.queue_limit) for s in specs}
    missing = [f.binary_path for f in functions.values() if f.spec.routes and not os.path.exists(f.binary_path)]
    if missing:
        sys.exit(f"gateway: missing function binaries (build them first): {missing}")
    routes = [Route(m, p, functions[s.name]) for s in specs for m, p in s.routes]
    routes.sort(key=lambda r: r.specificity, reverse=True)

    server = ThreadingHTTPServer((args.host, args.port), ApiHandler)
    server.daemon_threads = True
    server.routes = routes

    def shutdown(*_):
        for f in functions.values():
            f.stop_all()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGINT, shutdown)
    signal.signal(signal.SIGTERM, shutdown)
    host, port = server.server_address[:2]
    for r in routes:
        log("route", route=f"{r.method} {r.template}", function=r.function.spec.name)
    print(f"ADPILOT_GATEWAY_LISTENING http://{host}:{port}", flush=True)
    server.serve_forever()
    for f in functions.values():
        f.stop_all()


if __name__ == "__main__":
    main()
