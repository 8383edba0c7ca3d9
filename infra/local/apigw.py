"""API Gateway (HTTP API, payload format 2.0) in front of the functions: the event a
request becomes, the response a function's result becomes, and the listening server that
routes requests (and Lambda's Invoke API) to the functions."""
import base64
import json
import re
import time
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from .logs import log


def http_event(method, path, query="", headers=None, body=b"", route_key=None, params=None,
               source_ip="127.0.0.1", protocol="HTTP/1.1"):
    """The payload-2.0 event API Gateway hands a function for one request. `headers` are
    lower-cased and repeated ones joined with commas, cookies move to `cookies`, repeated
    query parameters are joined with commas, and a body that is not UTF-8 is base64."""
    headers = dict(headers or {})
    cookies = [c.strip() for c in headers.pop("cookie", "").split(";") if c.strip()]
    query_params = {}
    for k, v in parse_qsl(query, keep_blank_values=True):
        query_params[k] = f"{query_params[k]},{v}" if k in query_params else v
    route_key = route_key or f"{method} {path}"
    request_id = base64.b32encode(uuid.uuid4().bytes[:10]).decode().rstrip("=")
    now = datetime.now(timezone.utc)
    host = headers.get("host", "127.0.0.1")
    event = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "http": {
                "method": method,
                "path": path,
                "protocol": protocol,
                "sourceIp": source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query_params:
        event["queryStringParameters"] = query_params
    if params:
        event["pathParameters"] = params
    if body:
        try:
            event["body"] = body.decode("utf-8")
        except UnicodeDecodeError:
            event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
    return event, request_id


def request_event(handler, route, params, body):
    """The event for the request `handler` is serving, matched to `route`."""
    parts = urlsplit(handler.path)
    headers = {}
    for k, v in handler.headers.items():
        headers[k.lower()] = f"{headers[k.lower()]},{v}" if k.lower() in headers else v
    return http_event(handler.command, parts.path, parts.query, headers, body,
                      route_key=f"{route.method} {route.template}", params=params,
                      source_ip=handler.client_address[0], protocol=handler.request_version)


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


# Lambda's Invoke API (POST /2015-03-31/functions/{name}/invocations), for operators and
# drills that run a scheduled function now, e.g. the hourly sync.
INVOKE_PATH = re.compile(r"^/2015-03-31/functions/([^/]+)/invocations$")


class ApiHandler(BaseHTTPRequestHandler):
    disable_nagle_algorithm = True  # see runtime.RuntimeApiHandler
    protocol_version = "HTTP/1.1"
    server_version = "adpilot-local-gateway"

    def log_message(self, *args):
        pass

    def _invoke(self, name, body):
        """Runs function `name` (logical id or binary) with `body` as its event, as
        Lambda's Invoke API does: 200 with the result, X-Amz-Function-Error on failure."""
        fn = next((f for f in self.server.functions.values() if name in (f.spec.name, f.spec.binary)), None)
        if fn is None:
            out, status, headers = json.dumps({"Message": f"Function not found: {name}"}).encode(), 404, []
        else:
            try:
                event = json.loads(body or b"{}")
            except ValueError:
                event = None
            kind, payload = fn.invoke(event) if event is not None else ("error", b"event is not JSON")
            status, out = 200, payload or b"null"
            headers = [] if kind == "ok" else [("X-Amz-Function-Error", "Unhandled")]
        self.send_response(status)
        for k, v in headers + [("content-type", "application/json"), ("Content-Length", str(len(out)))]:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(out)
        log("invoke", function=name, status=status)

    def _handle(self):
        started = time.monotonic()
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        path = urlsplit(self.path).path
        invoked = INVOKE_PATH.match(path) if self.command == "POST" else None
        if invoked:
            return self._invoke(invoked.group(1), body)
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
            event, request_id = request_event(self, route, params, body)
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

    def __getattr__(self, name):
        # Any other method (TRACE, QUERY, …) is routed too: API Gateway answers 404.
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)


class ApiServer(ThreadingHTTPServer):
    """The API's listening socket: a backlog deep enough for a burst of clients (the
    default of 5 resets connections when a hundred arrive at once)."""
    request_queue_size = 512
    daemon_threads = True
